//! The commands the webview may call. Each is declared once in `commands!` below, which gives
//! Tauri its handler and the UI its TypeScript signature (src/lib/bindings/commands.ts). Each is
//! also listed in build.rs and granted in capabilities/main.json; Tauri refuses anything else
//! before it reaches us. Commands stay thin: parse, call the core, map the error.

use oxdrop_core::model::ServerInfo;
use oxdrop_core::{Error, ErrorCode, OxenClient};
use tauri::State;

use crate::AppState;

/// Declares the command table: `name(ArgsType) -> ResultType`, `()` for no arguments.
macro_rules! commands {
    ($($name:ident($args:ty) -> $result:ty;)*) => {
        pub fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
            tauri::generate_handler![$($name),*]
        }

        pub const NAMES: &[&str] = &[$(stringify!($name)),*];

        /// `commands.ts`: the name, argument and result type of every command.
        pub fn typescript() -> String {
            let mut imports = std::collections::BTreeSet::new();
            let mut body = String::new();
            $(
                let args = ts_name::<$args>(&mut imports);
                let result = ts_name::<$result>(&mut imports);
                body.push_str(&format!("  {}: {{ args: {args}; result: {result} }};\n", stringify!($name)));
            )*
            let mut out = String::from("// Generated from src-tauri/src/commands.rs. Do not edit.\n");
            for name in imports {
                out.push_str(&format!("import type {{ {name} }} from './{name}';\n"));
            }
            out.push_str("\nexport interface Commands {\n");
            out.push_str(&body);
            out.push_str("}\n");
            out
        }
    };
}

/// The TypeScript name of `T`, noting which generated file it comes from.
fn ts_name<T: ts_rs::TS>(imports: &mut std::collections::BTreeSet<String>) -> String {
    let name = T::name(&crate::bindings::config(std::path::Path::new(".")));
    if name == "null" {
        return name;
    }
    let base: String = name
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    if T::output_path().is_some() {
        imports.insert(base);
    }
    name
}

commands! {
    server_info(()) -> ServerInfo;
}

/// The version of the server the app is connected to.
#[tauri::command]
async fn server_info(state: State<'_, AppState>) -> Result<ServerInfo, Error> {
    let Some(server) = state.server.clone() else {
        return Err(Error::new(
            ErrorCode::NotSignedIn,
            "No server is set up yet.",
        ));
    };
    OxenClient::new(server, None)?.version().await
}

#[cfg(test)]
mod tests {
    #[test]
    fn build_rs_lists_exactly_these_commands() {
        let build_rs = include_str!("../build.rs");
        let listed: Vec<&str> = build_rs
            .split("&[")
            .nth(1)
            .and_then(|s| s.split(']').next())
            .unwrap_or("")
            .split(',')
            .map(|s| s.trim().trim_matches('"'))
            .filter(|s| !s.is_empty())
            .collect();
        assert_eq!(
            listed,
            super::NAMES,
            "build.rs's command list differs from commands!"
        );
    }

    #[test]
    fn capability_grants_every_command_and_nothing_else() {
        let capability: serde_json::Value =
            serde_json::from_str(include_str!("../capabilities/main.json")).unwrap();
        let granted: Vec<String> = capability["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| p.as_str())
            .filter_map(|p| p.strip_prefix("allow-"))
            .map(|p| p.replace('-', "_"))
            .collect();
        assert_eq!(granted, super::NAMES);
    }
}

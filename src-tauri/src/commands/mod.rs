//! The commands the webview may call. Each is declared once in `commands!` below, which gives
//! Tauri its handler and the UI its TypeScript signatures (ui/src/lib/bindings/commands.ts). Each
//! is also listed in build.rs and granted in capabilities/main.json; Tauri refuses anything else
//! before it reaches us. Commands stay thin: parse, call the core, map the error.
//!
//! No command takes a file path: local files reach the app only through its own native dialogs
//! and the OS drop event (see `files`), so a compromised page cannot read arbitrary files.

pub mod accounts;
pub mod files;
pub mod queue;
pub mod repos;
pub mod sandbox;
pub mod upload;
pub mod watch;

use std::collections::BTreeSet;

/// Declares the command table: `module::name(Args) -> Result;`, with `()` for no arguments and
/// `events` after the arguments for the command that streams the uploads over a Channel.
macro_rules! commands {
    ($($module:ident :: $name:ident($args:ty $(, $progress:ident)?) -> $result:ty;)*) => {
        pub fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
            tauri::generate_handler![$($module::$name),*]
        }

        pub const NAMES: &[&str] = &[$(stringify!($name)),*];

        /// Writes every argument and result type (and what they reference) into the config's
        /// folder.
        pub fn export_types(cfg: &ts_rs::Config) -> Result<(), ts_rs::ExportError> {
            $(
                export_with_dependencies::<$args>(cfg)?;
                export_with_dependencies::<$result>(cfg)?;
            )*
            Ok(())
        }

        /// `commands.ts`: the name, arguments and result type of every command, named as `cfg`
        /// names them.
        pub fn typescript(cfg: &ts_rs::Config) -> String {
            let mut imports = BTreeSet::new();
            let mut body = String::new();
            $(
                let args = ts_name::<$args>(cfg, &mut imports);
                let result = ts_name::<$result>(cfg, &mut imports);
                // The Channel a command streams over: `events` (the list of uploads) or `updates`
                // (the watches).
                let channel: &str = [$(stringify!($progress),)? ""][0];
                let progress = match channel {
                    "events" => {
                        imports.insert("UploadsEvent".to_owned());
                        "; events: UploadsEvent"
                    }
                    "updates" => {
                        imports.insert("WatchesView".to_owned());
                        "; updates: WatchesView"
                    }
                    _ => "",
                };
                body.push_str(&format!(
                    "  {}: {{ args: {args}; result: {result}{progress} }};\n",
                    stringify!($name)
                ));
            )*
            let mut out = String::from("// Generated from src-tauri/src/commands/mod.rs. Do not edit.\n");
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

/// Exports `T` if it is a named type, else (for `Vec<X>`, `Option<X>`) what it wraps.
fn export_with_dependencies<T: ts_rs::TS + 'static>(
    cfg: &ts_rs::Config,
) -> Result<(), ts_rs::ExportError> {
    struct Exporter<'a>(&'a ts_rs::Config, Result<(), ts_rs::ExportError>);
    impl ts_rs::TypeVisitor for Exporter<'_> {
        fn visit<U: ts_rs::TS + 'static + ?Sized>(&mut self) {
            if self.1.is_ok() && U::output_path().is_some() {
                self.1 = U::export_all(self.0);
            }
        }
    }
    if T::output_path().is_some() {
        return T::export_all(cfg);
    }
    // Wrappers (`Vec<X>`, `Option<X>`) name what they wrap as generics, not dependencies.
    let mut exporter = Exporter(cfg, Ok(()));
    T::visit_generics(&mut exporter);
    exporter.1
}

/// The TypeScript name of `T`, noting which generated files it needs.
fn ts_name<T: ts_rs::TS + 'static>(cfg: &ts_rs::Config, imports: &mut BTreeSet<String>) -> String {
    let name = T::name(cfg);
    if T::output_path().is_some() {
        imports.insert(T::ident(cfg));
    } else {
        // `Vec<X>`, `Option<X>`: import what they wrap.
        struct Names<'a>(&'a ts_rs::Config, &'a mut BTreeSet<String>);
        impl ts_rs::TypeVisitor for Names<'_> {
            fn visit<U: ts_rs::TS + 'static + ?Sized>(&mut self) {
                if U::output_path().is_some() {
                    self.1.insert(U::ident(self.0));
                }
            }
        }
        T::visit_generics(&mut Names(cfg, imports));
    }
    name
}

commands! {
    accounts::server_info(()) -> oxdrop_core::model::ServerInfo;
    accounts::accounts_state(()) -> accounts::AccountsView;
    accounts::sign_in(oxdrop_core::accounts::SignIn) -> accounts::AccountsView;
    accounts::sign_out(accounts::AccountId) -> accounts::AccountsView;
    accounts::switch_account(accounts::AccountId) -> accounts::AccountsView;
    accounts::set_author(oxdrop_core::model::Author) -> accounts::AccountsView;
    accounts::pin_place(oxdrop_core::accounts::Destination) -> accounts::AccountsView;
    accounts::unpin_place(oxdrop_core::accounts::Destination) -> accounts::AccountsView;
    sandbox::sandbox_status(()) -> Option<crate::sandbox::SandboxStatus>;
    sandbox::sandbox_log(()) -> String;
    repos::list_namespaces(()) -> Vec<String>;
    repos::list_repos(repos::NamespaceArgs) -> Vec<oxdrop_core::model::RepoSummary>;
    repos::repo_details(oxdrop_core::RepoRef) -> oxdrop_core::model::RepoDetails;
    repos::check_repo_name(repos::NameCheckArgs) -> repos::NameCheck;
    repos::create_repo(repos::CreateRepoArgs) -> oxdrop_core::model::RepoSummary;
    repos::list_branches(oxdrop_core::RepoRef) -> Vec<oxdrop_core::model::Branch>;
    repos::create_branch(repos::CreateBranchArgs) -> oxdrop_core::model::Branch;
    repos::list_dir(repos::ListDirArgs) -> oxdrop_core::model::DirPage;
    files::pick_files(()) -> crate::state::SourcesView;
    files::pick_folder(()) -> crate::state::SourcesView;
    files::list_sources(()) -> crate::state::SourcesView;
    files::remove_source(files::SourceId) -> crate::state::SourcesView;
    files::clear_sources(()) -> crate::state::SourcesView;
    upload::plan_upload(upload::PlanArgs) -> oxdrop_core::plan::Plan;
    queue::watch_uploads((), events) -> ();
    queue::enqueue_upload(upload::StartArgs) -> oxdrop_core::queue::QueuedUpload;
    queue::pause_upload(upload::UploadId) -> ();
    queue::resume_queued(upload::UploadId) -> ();
    queue::cancel_queued(upload::UploadId) -> ();
    queue::discard_queued(upload::UploadId) -> ();
    queue::remove_queued(upload::UploadId) -> ();
    queue::move_queued(queue::MoveArgs) -> ();
    queue::retry_failed(upload::UploadId) -> oxdrop_core::queue::QueuedUpload;
    queue::review_again(upload::UploadId) -> queue::ReviewAgain;
    queue::search_history(queue::HistoryQuery) -> Vec<oxdrop_core::history::HistoryEntry>;
    queue::copy_link(upload::UploadId) -> String;
    queue::open_upload(upload::UploadId) -> ();
    watch::watch_watches((), updates) -> ();
    watch::pick_watch_folder(()) -> crate::watches::WatchesView;
    watch::add_watch(watch::AddWatchArgs) -> oxdrop_core::watch::Watch;
    watch::edit_watch(watch::EditWatchArgs) -> oxdrop_core::watch::Watch;
    watch::set_watch_paused(watch::PauseWatchArgs) -> oxdrop_core::watch::Watch;
    watch::remove_watch(watch::WatchId) -> ();
    watch::resolve_watch(watch::ResolveArgs) -> ();
    watch::rescan_watch(watch::WatchId) -> ();
    watch::open_watch_commit(watch::WatchId) -> ();
}

#[cfg(test)]
mod tests {
    #[test]
    fn build_rs_lists_exactly_these_commands() {
        let build_rs = include_str!("../../build.rs");
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
            serde_json::from_str(include_str!("../../capabilities/main.json")).unwrap();
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

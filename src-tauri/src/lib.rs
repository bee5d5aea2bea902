//! OxDrop's desktop shell. Commands are thin: parse, call `oxdrop_core`, map the error.

pub mod bindings;
pub mod commands;

use tauri::Manager;

/// Shared state of the running app.
pub struct AppState {
    /// The server the window talks to. (Accounts replace this in a later step.)
    pub server: Option<oxdrop_core::ServerUrl>,
}

pub fn run() {
    init_logging();
    let server = std::env::var("OXDROP_SERVER")
        .ok()
        .and_then(|s| oxdrop_core::ServerUrl::parse(&s).ok());
    tauri::Builder::default()
        .manage(AppState { server })
        .invoke_handler(commands::handler())
        .setup(|app| {
            if let Some(window) = app.get_webview_window("main") {
                tracing::info!(label = window.label(), "window ready");
            }
            Ok(())
        })
        .run(tauri::generate_context!())
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "the app could not start");
            std::process::exit(1);
        });
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("OXDROP_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

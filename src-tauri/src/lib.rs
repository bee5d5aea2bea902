//! OxDrop's desktop shell. Commands are thin: parse, call `oxdrop_core`, map the error.

pub mod bindings;
pub mod clipboard;
pub mod commands;
pub mod open_with;
pub mod runner;
pub mod sandbox;
pub mod state;
pub mod tray;
pub mod watches;

use std::sync::atomic::{AtomicBool, Ordering};

use oxdrop_core::accounts::{Keychain, SettingsStore};
use tauri::{DragDropEvent, Emitter, Manager, WindowEvent};

use crate::state::AppState;

/// Event sent to the page when an OS drop or a second launch added files (payload: `SourcesView`).
pub const SOURCES_CHANGED: &str = "oxdrop://sources-changed";
/// Event sent while files are dragged over the window (payload: `bool`, hovering or not).
pub const DRAG_HOVER: &str = "oxdrop://drag-hover";

/// Whether this run already said that closing the window only hid it.
static HIDDEN_NOTICE_SHOWN: AtomicBool = AtomicBool::new(false);

pub fn run() {
    let _log_guard = init_logging();
    let state = match app_state() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("OxDrop cannot start: {}", e.message);
            std::process::exit(1);
        }
    };
    // Files named on the command line wait in the list until the page reads it.
    let opened = open_with::own_paths();
    if !opened.is_empty() {
        tracing::info!(count = opened.len(), "opened with files");
        state.add_sources(opened);
    }
    let context = tauri::generate_context!();
    let identifier = context.config().identifier.clone();
    let result = tauri::Builder::default()
        // First: a second launch hands over its files and exits before anything else starts.
        .plugin(open_with::single_instance(&identifier))
        .plugin(tauri_plugin_notification::init())
        .manage(state)
        .manage(watches::AppWatches::default())
        // In setup, after the single-instance plugin: a second launch that only hands over its
        // files exits before it could mark the first window's running uploads as interrupted.
        .setup(|app| {
            let runner = uploads_runner().inspect_err(|e| {
                eprintln!("OxDrop cannot start: {}", e.message);
            })?;
            app.manage(runner);
            // The watched folders restart with the app; their states go to the tray too.
            tray::install(app.handle());
            watches::start(app.handle());
            Ok(())
        })
        .invoke_handler(commands::handler())
        .on_window_event(on_window_event)
        .run(context);
    if let Err(e) = result {
        tracing::error!(error = %e, "the app stopped with an error");
        std::process::exit(1);
    }
}

fn app_state() -> Result<AppState, oxdrop_core::Error> {
    let settings = SettingsStore::default_location()?;
    let journal_dir = oxdrop_core::app_dirs::journal_dir()?;
    let sandbox = sandbox::Sandbox::from_env();
    Ok(AppState::new(
        settings,
        Keychain::default_service(),
        journal_dir,
        sandbox,
    ))
}

fn uploads_runner() -> Result<runner::Runner, oxdrop_core::Error> {
    let data_dir = oxdrop_core::app_dirs::required_data_dir()?;
    let journal_dir = oxdrop_core::app_dirs::journal_dir()?;
    Ok(runner::Runner::new(&data_dir, journal_dir))
}

/// Files dropped from the OS arrive here, from the window system, never from the page: only
/// these paths (and the dialogs') may be read. Events the page emits itself, such as a forged
/// `tauri://drag-drop`, never reach this handler.
fn on_window_event(window: &tauri::Window, event: &WindowEvent) {
    if let WindowEvent::CloseRequested { api, .. } = event {
        // While a watch keeps a folder uploaded, closing the window only hides it: the app
        // goes on in the tray (*Open OxDrop*, or launching it again, brings it back).
        let watches = window.state::<watches::AppWatches>();
        if watches.any_active() {
            api.prevent_close();
            let _ = window.hide();
            tracing::info!("window hidden; watched folders keep uploading");
            // Said once per run: a desktop may show no tray icon, and the app then seems gone.
            if !HIDDEN_NOTICE_SHOWN.swap(true, Ordering::Relaxed) {
                use tauri_plugin_notification::NotificationExt;
                let (title, body) = tray::hidden_notice(&watches.list());
                let shown = window
                    .notification()
                    .builder()
                    .title(title)
                    .body(body)
                    .show();
                if let Err(e) = shown {
                    tracing::debug!(error = %e, "no notification service");
                }
            }
        }
        return;
    }
    let WindowEvent::DragDrop(drag) = event else {
        return;
    };
    match drag {
        DragDropEvent::Enter { .. } | DragDropEvent::Over { .. } => {
            let _ = window.emit_to(window.label(), DRAG_HOVER, true);
        }
        DragDropEvent::Leave => {
            let _ = window.emit_to(window.label(), DRAG_HOVER, false);
        }
        DragDropEvent::Drop { paths, .. } => {
            let _ = window.emit_to(window.label(), DRAG_HOVER, false);
            tracing::info!(count = paths.len(), "files dropped");
            let view = window
                .state::<AppState>()
                .add_sources(paths.iter().cloned());
            let _ = window.emit_to(window.label(), SOURCES_CHANGED, view);
        }
        _ => {}
    }
}

/// Logs go to stderr and to a daily file in the data folder (kept a week). The API key is never
/// logged: it only exists inside `ApiKey`, which prints as `<redacted>`.
fn init_logging() -> Option<tracing_appender::non_blocking::WorkerGuard> {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = tracing_subscriber::EnvFilter::try_from_env("OXDROP_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let stderr = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let (file, guard) = match oxdrop_core::app_dirs::log_dir().and_then(|dir| {
        std::fs::create_dir_all(&dir).ok()?;
        tracing_appender::rolling::Builder::new()
            .rotation(tracing_appender::rolling::Rotation::DAILY)
            .max_log_files(7)
            .filename_prefix("oxdrop")
            .filename_suffix("log")
            .build(dir)
            .ok()
    }) {
        Some(appender) => {
            let (writer, guard) = tracing_appender::non_blocking(appender);
            (
                Some(
                    tracing_subscriber::fmt::layer()
                        .with_ansi(false)
                        .with_writer(writer),
                ),
                Some(guard),
            )
        }
        None => (None, None),
    };
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(stderr)
        .with(file)
        .try_init();
    guard
}

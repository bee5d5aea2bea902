//! The local files to upload. They come only from the native dialogs opened here and from the
//! OS drop event handled in Rust (lib.rs); the webview sees ids and display paths, and can
//! remove entries, never add them.

use std::path::PathBuf;

use oxdrop_core::{Error, ErrorCode};
use serde::Deserialize;
use tauri::{AppHandle, Manager, State, WebviewWindow};
use ts_rs::TS;

use crate::state::{AppState, SourcesView};

#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct SourceId {
    pub id: u32,
}

/// Window titles the end-to-end tests look for.
pub const FILES_DIALOG_TITLE: &str = "Add files to upload";
pub const FOLDER_DIALOG_TITLE: &str = "Add a folder to upload";

type Picked = std::pin::Pin<Box<dyn std::future::Future<Output = Vec<PathBuf>> + Send>>;

/// Opens the native dialog `make` builds on the main thread (GTK needs its loop running) and
/// waits for the choice here, without blocking that loop.
pub(crate) async fn run_dialog(
    app: &AppHandle,
    window: WebviewWindow,
    make: impl FnOnce(rfd::AsyncFileDialog) -> Picked + Send + 'static,
) -> Result<Vec<PathBuf>, Error> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.run_on_main_thread(move || {
        let _ = tx.send(make(rfd::AsyncFileDialog::new().set_parent(&window)));
    })
    .map_err(|e| {
        Error::new(ErrorCode::Internal, "The file dialog could not be opened.")
            .with_detail(e.to_string())
    })?;
    let picked = rx.await.map_err(|e| {
        Error::new(ErrorCode::Internal, "The file dialog could not be opened.")
            .with_detail(e.to_string())
    })?;
    Ok(picked.await)
}

async fn pick(app: AppHandle, window: WebviewWindow, folder: bool) -> Result<Vec<PathBuf>, Error> {
    run_dialog(&app, window, move |dialog| {
        let paths = |handles: Option<Vec<rfd::FileHandle>>| -> Vec<PathBuf> {
            handles
                .unwrap_or_default()
                .into_iter()
                .map(|h| h.path().to_path_buf())
                .collect()
        };
        if folder {
            let fut = dialog.set_title(FOLDER_DIALOG_TITLE).pick_folders();
            Box::pin(async move { paths(fut.await) })
        } else {
            let fut = dialog.set_title(FILES_DIALOG_TITLE).pick_files();
            Box::pin(async move { paths(fut.await) })
        }
    })
    .await
}

#[tauri::command]
pub async fn pick_files(app: AppHandle, window: WebviewWindow) -> Result<SourcesView, Error> {
    let paths = pick(app.clone(), window, false).await?;
    Ok(app.state::<AppState>().add_sources(paths))
}

#[tauri::command]
pub async fn pick_folder(app: AppHandle, window: WebviewWindow) -> Result<SourcesView, Error> {
    let paths = pick(app.clone(), window, true).await?;
    Ok(app.state::<AppState>().add_sources(paths))
}

#[tauri::command]
pub async fn list_sources(state: State<'_, AppState>) -> Result<SourcesView, Error> {
    Ok(state.sources_view())
}

#[tauri::command]
pub async fn remove_source(
    state: State<'_, AppState>,
    args: SourceId,
) -> Result<SourcesView, Error> {
    state.remove_source(args.id)
}

#[tauri::command]
pub async fn clear_sources(state: State<'_, AppState>) -> Result<SourcesView, Error> {
    Ok(state.clear_sources())
}

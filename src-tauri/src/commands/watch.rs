//! Watched folders: choose a folder (native dialog), set up, change, pause, remove, settle
//! conflicts, look again now, open the last commit. The states come over the Channel of
//! `watch_watches` (see `crate::watches`). The folder never comes from the page: only the one
//! chosen in the dialog opened here can be watched.

use std::path::PathBuf;

use oxdrop_core::accounts::Destination;
use oxdrop_core::watch::{
    self, NewWatch, Resolution, Rhythm, Watch, WatchContext, WatchEdit, WatchInfo,
};
use oxdrop_core::{Error, ErrorCode, RemotePath, RepoRef};
use serde::Deserialize;
use tauri::ipc::Channel;
use tauri::{AppHandle, State, WebviewWindow};
use ts_rs::TS;

use super::files::run_dialog;
use crate::state::AppState;
use crate::watches::{AppWatches, WatchesView, announce};

/// The dialog's title, which the end-to-end tests look for.
pub const WATCH_DIALOG_TITLE: &str = "Choose a folder to keep uploaded";

#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct WatchId {
    pub id: String,
}

/// A new watch of the folder chosen in the dialog, uploading as the signed-in account.
#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct AddWatchArgs {
    pub repo: RepoRef,
    pub branch: String,
    pub dest: RemotePath,
    pub rhythm: Rhythm,
    /// Only once the user confirmed what it means.
    pub mirror_deletions: bool,
}

#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct EditWatchArgs {
    pub id: String,
    pub rhythm: Option<Rhythm>,
    pub mirror_deletions: Option<bool>,
}

#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct PauseWatchArgs {
    pub id: String,
    pub paused: bool,
}

#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct ResolveArgs {
    pub id: String,
    pub resolution: Resolution,
    /// Relative to the watched folder; every conflict of the watch when `None`.
    pub paths: Option<Vec<String>>,
}

/// Opens the Channel the watches' states come over (the list at once, then every change).
#[tauri::command]
pub async fn watch_watches(
    watches: State<'_, AppWatches>,
    updates: Channel<WatchesView>,
) -> Result<(), Error> {
    watches.watch(updates);
    Ok(())
}

/// The native folder dialog; the chosen folder waits for `add_watch`.
#[tauri::command]
pub async fn pick_watch_folder(
    app: AppHandle,
    window: WebviewWindow,
    watches: State<'_, AppWatches>,
) -> Result<WatchesView, Error> {
    // From the home folder: GTK's default start, *Recent*, lists files only, and a folder
    // typed there cannot be chosen.
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let picked = run_dialog(&app, window, |dialog| {
        let dialog = match home {
            Some(home) => dialog.set_directory(home),
            None => dialog,
        };
        let fut = dialog.set_title(WATCH_DIALOG_TITLE).pick_folder();
        Box::pin(async move {
            fut.await
                .map(|h| h.path().to_path_buf())
                .into_iter()
                .collect()
        })
    })
    .await?;
    if let Some(folder) = picked.into_iter().next() {
        watches.set_picked(Some(folder));
    }
    Ok(watches.view())
}

#[tauri::command]
pub async fn add_watch(
    app: AppHandle,
    state: State<'_, AppState>,
    watches: State<'_, AppWatches>,
    args: AddWatchArgs,
) -> Result<Watch, Error> {
    let Some(folder) = watches.picked() else {
        return Err(Error::invalid_input(
            "Choose the folder to keep uploaded first.",
        ));
    };
    let session = state.session()?;
    let destination = Destination {
        account_id: session.account.id.clone(),
        repo: args.repo,
        branch: args.branch,
        dest: args.dest,
    };
    watch::check_destination(&WatchContext::default_location()?, &destination).await?;
    let new = NewWatch {
        folder,
        destination,
        rhythm: args.rhythm,
        mirror_deletions: args.mirror_deletions,
    };
    let added = match watches.engine() {
        Some(engine) => engine.add(new).await?,
        None => watches.store()?.add(new)?,
    };
    watches.set_picked(None);
    announce(&app);
    Ok(added)
}

#[tauri::command]
pub async fn edit_watch(
    app: AppHandle,
    watches: State<'_, AppWatches>,
    args: EditWatchArgs,
) -> Result<Watch, Error> {
    let edit = WatchEdit {
        destination: None,
        rhythm: args.rhythm,
        mirror_deletions: args.mirror_deletions,
    };
    let edited = match watches.engine() {
        Some(engine) => engine.edit(&args.id, edit).await?,
        None => watches.store()?.edit(&args.id, edit)?.1,
    };
    announce(&app);
    Ok(edited)
}

#[tauri::command]
pub async fn set_watch_paused(
    app: AppHandle,
    watches: State<'_, AppWatches>,
    args: PauseWatchArgs,
) -> Result<Watch, Error> {
    let watch = match watches.engine() {
        Some(engine) => engine.set_paused(&args.id, args.paused).await?,
        None => watches.store()?.set_paused(&args.id, args.paused)?,
    };
    announce(&app);
    Ok(watch)
}

/// Stops watching; what was uploaded stays in the repository.
#[tauri::command]
pub async fn remove_watch(
    app: AppHandle,
    watches: State<'_, AppWatches>,
    args: WatchId,
) -> Result<(), Error> {
    match watches.engine() {
        Some(engine) => {
            engine.remove(&args.id).await?;
        }
        None => {
            watches.store()?.remove(&args.id)?;
        }
    }
    announce(&app);
    Ok(())
}

/// *Keep theirs* or *Upload mine* for files someone else changed on the branch.
#[tauri::command]
pub async fn resolve_watch(
    app: AppHandle,
    watches: State<'_, AppWatches>,
    args: ResolveArgs,
) -> Result<(), Error> {
    match watches.engine() {
        Some(engine) => engine.resolve(&args.id, args.resolution, args.paths)?,
        // Refused, saying why, while another process runs the watches.
        None => {
            watch::resolve_stopped(
                &WatchContext::default_location()?,
                &args.id,
                args.resolution,
                args.paths.as_deref(),
            )?;
        }
    }
    announce(&app);
    Ok(())
}

/// "Check now": looks through the folder for changes.
#[tauri::command]
pub async fn rescan_watch(watches: State<'_, AppWatches>, args: WatchId) -> Result<(), Error> {
    match watches.engine() {
        Some(engine) => {
            engine.rescan(Some(&args.id));
            Ok(())
        }
        None => Err(Error::new(
            ErrorCode::LocalIo,
            "Another OxDrop is keeping these folders uploaded; it looks through them itself.",
        )),
    }
}

/// Opens the watch's last commit in the browser (its address comes from the watch, not the page).
#[tauri::command]
pub async fn open_watch_commit(watches: State<'_, AppWatches>, args: WatchId) -> Result<(), Error> {
    let list: Vec<WatchInfo> = watches.list();
    let Some(url) = list
        .iter()
        .find(|w| w.watch.id == args.id)
        .and_then(|w| w.status.last_commit.as_ref())
        .map(|c| c.web_url.clone())
    else {
        return Err(Error::invalid_input(
            "This watch has not uploaded anything yet.",
        ));
    };
    open::that_detached(&url).map_err(|e| {
        Error::new(ErrorCode::LocalIo, "No web browser could be opened.").with_detail(e.to_string())
    })
}

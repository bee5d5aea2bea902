//! The list of uploads and the history: queue the reviewed plan (every upload goes through the
//! list, also the one started with *Upload*), pause, resume, cancel, discard, remove, reorder,
//! retry failed files, review again, search the history, open or copy an upload's address.
//! Changes reach the window over the Channel of `watch_uploads` (see `runner`).

use oxdrop_core::history::HistoryEntry;
use oxdrop_core::model::ChangedOnBranch;
use oxdrop_core::plan::make_plan;
use oxdrop_core::queue::{Origin, QueuedUpload, UploadState};
use oxdrop_core::upload::{self, UploadOptions};
use oxdrop_core::{Error, ErrorCode, RemotePath, RepoRef};
use serde::{Deserialize, Serialize};
use tauri::ipc::Channel;
use tauri::{AppHandle, State};
use ts_rs::TS;

use super::upload::{StartArgs, UploadId, remember_author_and_destination};
use crate::runner::{self, Runner, UploadsEvent};
use crate::state::{AppState, SourcesView};

#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct MoveArgs {
    pub id: String,
    /// One place earlier; else one later.
    pub up: bool,
}

/// An upload brought back to Review: where it went, and its files again in the file list.
#[derive(Debug, Serialize, TS)]
pub struct ReviewAgain {
    pub repo: RepoRef,
    pub branch: String,
    pub dest: RemotePath,
    pub follow_links: bool,
    pub sources: SourcesView,
    /// Why: the files someone changed on the branch since the review.
    pub changed: Vec<ChangedOnBranch>,
}

#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    /// Words to find in the repository or file names; empty: everything.
    pub query: String,
}

/// Opens the one Channel the uploads' changes and progress come over, and starts what waits.
#[tauri::command]
pub async fn watch_uploads(
    app: AppHandle,
    runner: State<'_, Runner>,
    events: Channel<UploadsEvent>,
) -> Result<(), Error> {
    runner.watch(events);
    runner::kick(&app);
    Ok(())
}

/// *Upload*: puts the reviewed plan at the end of the list (journaled now, so it survives a
/// restart); it starts at once when its server is free, else when the one before it ends. The
/// file list is freed for the next upload.
#[tauri::command]
pub async fn enqueue_upload(
    app: AppHandle,
    state: State<'_, AppState>,
    runner: State<'_, Runner>,
    args: StartArgs,
) -> Result<QueuedUpload, Error> {
    args.author.check()?;
    let (request, plan) = state.reviewed_plan()?;
    let session = state.session()?;
    remember_author_and_destination(&state, &session.account.id, &request, &args.author);
    let id = upload::UploadId::new();
    let message = match args.message.trim() {
        "" => plan.default_message.clone(),
        m => m.to_owned(),
    };
    let options = UploadOptions {
        message: message.clone(),
        author: args.author,
        journal_dir: Some(runner.journal_dir.clone()),
        upload_id: Some(id.clone()),
        ..UploadOptions::default()
    };
    upload::prepare(&session.client, &request, &plan, &options)?;
    let entry = QueuedUpload::new(
        &id.to_string(),
        &session.account.id,
        session.client.server(),
        &request,
        &plan,
        &message,
        Origin::Manual,
    );
    runner.change(|q| {
        q.push(entry.clone());
        Ok(())
    })?;
    state.forget_plan();
    state.clear_sources();
    runner::kick(&app);
    Ok(entry)
}

#[tauri::command]
pub async fn pause_upload(runner: State<'_, Runner>, args: UploadId) -> Result<(), Error> {
    runner.pause(&args.id)
}

/// A paused or interrupted upload goes back in line (first among the waiting ones).
#[tauri::command]
pub async fn resume_queued(
    app: AppHandle,
    runner: State<'_, Runner>,
    args: UploadId,
) -> Result<(), Error> {
    runner.change(|q| {
        q.entry(&args.id)?.requeue()?;
        let at = q.uploads.iter().position(|u| u.id == args.id);
        let first_waiting = q
            .uploads
            .iter()
            .position(|u| u.state == UploadState::Queued);
        if let (Some(at), Some(first)) = (at, first_waiting)
            && first < at
        {
            let entry = q.uploads.remove(at);
            q.uploads.insert(first, entry);
        }
        Ok(())
    })?;
    runner::kick(&app);
    Ok(())
}

/// Cancels a running upload (nothing committed, its workspace removed); one that does not run
/// is discarded.
#[tauri::command]
pub async fn cancel_queued(
    app: AppHandle,
    runner: State<'_, Runner>,
    args: UploadId,
) -> Result<(), Error> {
    if runner.cancel(&args.id) {
        return Ok(());
    }
    discard_queued(app, runner, args).await
}

/// Forgets an upload that does not run: what it sent to the server is removed, and so is its
/// journal; it leaves the list.
#[tauri::command]
pub async fn discard_queued(
    app: AppHandle,
    runner: State<'_, Runner>,
    args: UploadId,
) -> Result<(), Error> {
    discard(&app, &runner, &args.id).await
}

async fn discard(app: &AppHandle, runner: &Runner, id: &str) -> Result<(), Error> {
    if runner.is_running(id) {
        return Err(Error::new(
            ErrorCode::UploadRunning,
            "This upload is running. Pause or cancel it first.",
        ));
    }
    let Some(entry) = runner.queue.load().get(id).cloned() else {
        return Ok(());
    };
    if !entry.state.is_finished() {
        let id = upload::UploadId::parse(&entry.id)?;
        let dir = &runner.journal_dir;
        match runner::client_for(app, &entry.account_id) {
            Ok(client) => upload::discard(&client, dir, &id).await.or_else(|e| {
                // Gone already (e.g. with its repository): only the journal is left to forget.
                tracing::info!(error = %e.log_line(), "discard on the server failed");
                upload::forget(dir, &id)
            }),
            Err(_) => upload::forget(dir, &id),
        }
        .or_else(|e| match e.code {
            ErrorCode::InvalidInput => Ok(()),
            _ => Err(e),
        })?;
    }
    runner.change(|q| q.remove(id).map(|_| ()))
}

/// Takes an upload out of the list: a finished one simply leaves it; one not finished is
/// discarded.
#[tauri::command]
pub async fn remove_queued(
    app: AppHandle,
    runner: State<'_, Runner>,
    args: UploadId,
) -> Result<(), Error> {
    discard_queued(app, runner, args).await
}

#[tauri::command]
pub async fn move_queued(runner: State<'_, Runner>, args: MoveArgs) -> Result<(), Error> {
    runner.change(|q| q.move_queued(&args.id, args.up))
}

/// The upload as the list holds it now.
fn listed(runner: &Runner, id: &str) -> Result<QueuedUpload, Error> {
    runner
        .queue
        .load()
        .get(id)
        .cloned()
        .ok_or_else(|| Error::invalid_input("That upload is no longer in the list."))
}

/// Plans the same selection again (what landed is now unchanged, so only the rest is sent) and
/// queues it.
#[tauri::command]
pub async fn retry_failed(
    app: AppHandle,
    state: State<'_, AppState>,
    runner: State<'_, Runner>,
    args: UploadId,
) -> Result<QueuedUpload, Error> {
    let old = listed(&runner, &args.id)?;
    let client = runner::client_for(&app, &old.account_id)?;
    let plan = make_plan(&client, &old.request).await?;
    let author = state.settings.load().author.unwrap_or_default();
    let id = upload::UploadId::new();
    // "Add shaky.txt" for the one file left, not the message of all of them.
    let message = match old.suggested_message {
        true => plan.default_message.clone(),
        false => old.message.clone(),
    };
    let options = UploadOptions {
        message: message.clone(),
        author,
        journal_dir: Some(runner.journal_dir.clone()),
        upload_id: Some(id.clone()),
        ..UploadOptions::default()
    };
    upload::prepare(&client, &old.request, &plan, &options)?;
    let entry = QueuedUpload::new(
        &id.to_string(),
        &old.account_id,
        &old.server,
        &old.request,
        &plan,
        &message,
        old.origin.clone(),
    );
    runner.change(|q| {
        q.remove(&old.id)?;
        q.push(entry.clone());
        Ok(())
    })?;
    runner::kick(&app);
    Ok(entry)
}

/// Brings an upload back to Review (one that someone's changes on the branch stopped): its files
/// are the file list again and it leaves the list (what it sent is discarded); the page plans it
/// again and shows why.
#[tauri::command]
pub async fn review_again(
    app: AppHandle,
    state: State<'_, AppState>,
    runner: State<'_, Runner>,
    args: UploadId,
) -> Result<ReviewAgain, Error> {
    let entry = listed(&runner, &args.id)?;
    let session = state.session()?;
    if session.account.id != entry.account_id {
        return Err(Error::invalid_input(format!(
            "This upload was made as {}. Switch to that account to review it again.",
            entry.account_id
        )));
    }
    // The files chosen for the next upload would be replaced: nothing is lost unasked.
    if !state.source_paths().is_empty() {
        return Err(Error::invalid_input(
            "Review again replaces the files chosen now. Upload them first, or remove them from the list.",
        ));
    }
    discard(&app, &runner, &entry.id).await?;
    state.forget_plan();
    state.clear_sources();
    let sources = state.add_sources(entry.request.sources.iter().cloned());
    Ok(ReviewAgain {
        repo: entry.repo,
        branch: entry.branch,
        dest: entry.dest,
        follow_links: entry.request.follow_links,
        sources,
        changed: entry.problem.map(|p| p.changed).unwrap_or_default(),
    })
}

/// The history, newest first; only the entries whose repository or file names hold every word
/// of the query.
#[tauri::command]
pub async fn search_history(
    runner: State<'_, Runner>,
    args: HistoryQuery,
) -> Result<Vec<HistoryEntry>, Error> {
    Ok(runner.history.search(&args.query))
}

/// The web address of an upload's folder at its commit, from the list or the history (built
/// from the server the upload went to, never taken from the page).
fn folder_url(runner: &Runner, id: &str) -> Result<String, Error> {
    let from_list = runner
        .queue
        .load()
        .get(id)
        .and_then(|u| u.outcome.as_ref().map(|o| o.folder_url.clone()));
    from_list
        .or_else(|| {
            runner
                .history
                .load()
                .entries
                .into_iter()
                .find(|e| e.id == id)
                .and_then(|e| e.folder_url)
        })
        .ok_or_else(|| Error::invalid_input("This upload has no commit to link to."))
}

/// Puts the address of the uploaded folder at its commit on the clipboard, and returns it.
#[tauri::command]
pub async fn copy_link(
    app: AppHandle,
    runner: State<'_, Runner>,
    args: UploadId,
) -> Result<String, Error> {
    let url = folder_url(&runner, &args.id)?;
    crate::clipboard::set_text(&app, url.clone())?;
    Ok(url)
}

#[tauri::command]
pub async fn open_upload(runner: State<'_, Runner>, args: UploadId) -> Result<(), Error> {
    let url = folder_url(&runner, &args.id)?;
    open::that_detached(&url).map_err(|e| {
        Error::new(ErrorCode::LocalIo, "No web browser could be opened.").with_detail(e.to_string())
    })
}

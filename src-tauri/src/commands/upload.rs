//! Planning, running, cancelling and resuming uploads. The plan is made from the sources held in
//! Rust and kept here; starting an upload uses that kept plan, not anything the page sends back.

use std::sync::Arc;

use oxdrop_core::accounts::Destination;
use oxdrop_core::model::Author;
use oxdrop_core::plan::{Plan, PlanRequest, make_plan};
use oxdrop_core::upload::{
    self, ProgressSnapshot, ResumableUpload, Tuning, UploadOptions, UploadOutcome,
};
use oxdrop_core::{Error, ErrorCode, RemotePath, RepoRef};
use serde::Deserialize;
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, State};
use ts_rs::TS;

use crate::state::AppState;

#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct PlanArgs {
    pub repo: RepoRef,
    pub branch: String,
    pub dest: RemotePath,
    /// Follow links that lead outside a dropped folder (the user chose it in the review).
    #[serde(default)]
    pub follow_links: bool,
}

#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct StartArgs {
    /// Empty: the plan's suggested message.
    pub message: String,
    pub author: Author,
}

#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct UploadId {
    pub id: String,
}

#[tauri::command]
pub async fn plan_upload(state: State<'_, AppState>, args: PlanArgs) -> Result<Plan, Error> {
    // Whatever happens next, the plan reviewed before this one is no longer what the user sees.
    state.forget_plan();
    let session = state.session()?;
    let request = PlanRequest {
        repo: args.repo,
        branch: args.branch,
        dest: args.dest,
        sources: state.source_paths(),
        follow_links: args.follow_links,
        ignore_patterns: state.settings.load().ignore_patterns,
        contents: None,
    };
    let plan = make_plan(&session.client, &request).await?;
    state.remember_plan(request, plan.clone());
    Ok(plan)
}

/// Runs an upload on its own task, so that even a bug that panics ends the command with an error
/// the page can show, instead of a promise that never settles.
async fn run_contained<T: Send + 'static>(
    work: impl std::future::Future<Output = Result<T, Error>> + Send + 'static,
) -> Result<T, Error> {
    tauri::async_runtime::spawn(work)
        .await
        .map_err(Error::internal)?
}

/// Sends progress to the page: the engine already throttles to a few snapshots per second.
fn channel_sink(channel: Channel<ProgressSnapshot>) -> Arc<dyn upload::ProgressSink> {
    Arc::new(move |s: ProgressSnapshot| {
        if let Err(e) = channel.send(s) {
            tracing::debug!(error = %e, "progress not delivered");
        }
    })
}

#[tauri::command]
pub async fn start_upload(
    app: AppHandle,
    state: State<'_, AppState>,
    args: StartArgs,
    progress: Channel<ProgressSnapshot>,
) -> Result<UploadOutcome, Error> {
    args.author.check()?;
    let (request, plan) = state.reviewed_plan()?;
    let session = state.session()?;
    remember_author_and_destination(&state, &session.account.id, &request, &args.author);
    let slot = state.claim_upload_slot()?;
    let cancel = slot.cancel_token();
    let options = UploadOptions {
        message: args.message,
        author: args.author,
        tuning: Tuning::default(),
        journal_dir: Some(state.journal_dir.clone()),
        ..UploadOptions::default()
    };
    let client = session.client;
    let result = run_contained(async move {
        upload::upload(
            &client,
            &request,
            &plan,
            &options,
            channel_sink(progress),
            cancel,
        )
        .await
    })
    .await;
    drop(slot);
    after_upload(&app, &state, &result);
    result
}

/// The author and destination are remembered for next time (failures to save are logged only:
/// they must not fail an upload).
pub(super) fn remember_author_and_destination(
    state: &AppState,
    account_id: &str,
    request: &PlanRequest,
    author: &Author,
) {
    let saved = state.settings.update(|settings| {
        settings.author = Some(author.clone());
        settings.remember_destination(Destination {
            account_id: account_id.to_owned(),
            repo: request.repo.clone(),
            branch: request.branch.clone(),
            dest: request.dest.clone(),
        });
        Ok(())
    });
    if let Err(e) = saved {
        tracing::warn!(error = %e.log_line(), "settings not saved");
    }
}

/// After a new upload: its commit is kept for "Open in browser", fully sent files leave the list,
/// and the user hears about it if they look elsewhere.
fn after_upload(app: &AppHandle, state: &AppState, result: &Result<UploadOutcome, Error>) {
    match result {
        Ok(outcome) => {
            tracing::info!(commit = %outcome.commit.id, files = outcome.files_sent, failed = outcome.failed.len(), "upload committed");
            state.record_outcome(outcome);
            if outcome.failed.is_empty() {
                state.clear_sources();
            }
        }
        Err(e) => tracing::info!(error = %e.log_line(), "upload ended without a commit"),
    }
    notify_if_unfocused(app, result);
}

/// A system notification when the user is looking elsewhere.
fn notify_if_unfocused(app: &AppHandle, result: &Result<UploadOutcome, Error>) {
    use tauri_plugin_notification::NotificationExt;
    let focused = app
        .get_webview_window("main")
        .and_then(|w| w.is_focused().ok())
        .unwrap_or(true);
    if focused {
        return;
    }
    let (title, body) = match result {
        Ok(o) if o.failed.is_empty() => (
            "Upload finished".to_owned(),
            format!("{} files committed to {}.", o.files_sent, o.branch),
        ),
        Ok(o) => (
            "Upload finished with problems".to_owned(),
            format!(
                "{} files committed, {} failed.",
                o.files_sent,
                o.failed.len()
            ),
        ),
        Err(e) if e.code == ErrorCode::Cancelled => return,
        Err(e) => ("Upload failed".to_owned(), e.message.clone()),
    };
    if let Err(e) = app.notification().builder().title(title).body(body).show() {
        tracing::debug!(error = %e, "no notification service");
    }
}

#[tauri::command]
pub async fn cancel_upload(state: State<'_, AppState>) -> Result<bool, Error> {
    Ok(state.cancel_running())
}

#[tauri::command]
pub async fn interrupted_uploads(
    state: State<'_, AppState>,
    runner: State<'_, crate::runner::Runner>,
) -> Result<Vec<ResumableUpload>, Error> {
    // Those in the list of uploads are shown (and resumed) there.
    let listed = runner.queue.load();
    let mut found = upload::list_resumable(&state.journal_dir);
    found.retain(|u| listed.get(&u.id).is_none());
    Ok(found)
}

#[tauri::command]
pub async fn resume_upload(
    app: AppHandle,
    state: State<'_, AppState>,
    args: UploadId,
    progress: Channel<ProgressSnapshot>,
) -> Result<UploadOutcome, Error> {
    let id = upload::UploadId::parse(&args.id)?;
    let session = state.session()?;
    let slot = state.claim_upload_slot()?;
    let cancel = slot.cancel_token();
    let (client, dir) = (session.client, state.journal_dir.clone());
    let result = run_contained(async move {
        let sink = channel_sink(progress);
        upload::resume(
            &client,
            &dir,
            &id,
            Tuning::default(),
            sink,
            cancel,
            Default::default(),
        )
        .await
    })
    .await;
    drop(slot);
    if let Ok(o) = &result {
        tracing::info!(commit = %o.commit.id, "resumed upload committed");
        // "Open in browser" opens this commit, not the one before.
        state.record_outcome(o);
    }
    notify_if_unfocused(&app, &result);
    result
}

#[tauri::command]
pub async fn discard_upload(
    state: State<'_, AppState>,
    args: UploadId,
) -> Result<Vec<ResumableUpload>, Error> {
    let id = upload::UploadId::parse(&args.id)?;
    match state.session() {
        // Removes what it had sent to the server too (when it is that account's server).
        Ok(session) => upload::discard(&session.client, &state.journal_dir, &id).await?,
        Err(_) => upload::forget(&state.journal_dir, &id)?,
    }
    Ok(upload::list_resumable(&state.journal_dir))
}

/// Opens the last commit in the browser. The address is built here from the account's server,
/// never taken from the page.
#[tauri::command]
pub async fn open_commit(state: State<'_, AppState>) -> Result<(), Error> {
    let url = state.last_commit_url()?;
    open::that_detached(&url).map_err(|e| {
        Error::new(ErrorCode::LocalIo, "No web browser could be opened.").with_detail(e.to_string())
    })
}

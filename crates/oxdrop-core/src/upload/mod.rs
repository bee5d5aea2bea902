//! The upload engine: a [`Plan`] becomes one commit on its branch.
//!
//! Small files travel in batches of one multipart request each into a workspace; big files go
//! through the server's part protocol (`/versions/uploads`) with parts in parallel; both run at
//! once under one limit on requests in flight. Everything is verified (the server's list of
//! staged paths, the content hash of big files, local files re-checked for edits), retried with
//! backoff when it may succeed next time, journaled for resume, and committed once at the end.

mod engine;
mod interrupted;
pub mod journal;
mod local_file;
pub mod progress;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

pub(crate) use interrupted::check_account;
pub use interrupted::{
    Interrupted, LocalChange, amend, discard, forget, interrupted, local_changes,
};
pub use journal::{ResumableUpload, UploadId, list_resumable};
pub use progress::{FileState, FileUpdate, NoProgress, Phase, ProgressSink, ProgressSnapshot};

use crate::client::OxenClient;
use crate::error::{Error, ErrorCode, Result};
use crate::model::{Author, Commit};
use crate::plan::{Plan, PlanRequest};
use crate::remote_path::RemotePath;

/// How the engine splits the work. The defaults were chosen by measurement (BENCHMARKS.md).
#[derive(Debug, Clone)]
pub struct Tuning {
    /// Requests in flight at once (batches and parts together).
    pub parallel_requests: usize,
    /// Files up to this size go in multipart batches; bigger ones use the part protocol.
    pub small_file_max: u64,
    /// A batch closes at this many bytes…
    pub batch_max_bytes: u64,
    /// …or this many files.
    pub batch_max_files: usize,
    /// Big files uploaded at the same time.
    pub parallel_big_files: usize,
    /// Gzip small files that are likely to compress (never on this computer's own server).
    pub gzip: GzipPolicy,
    pub progress_interval: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GzipPolicy {
    Never,
    /// Text-like files to servers on other computers, where bandwidth is the limit.
    Auto,
    Always,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            parallel_requests: 6,
            small_file_max: 4 << 20,
            batch_max_bytes: 8 << 20,
            batch_max_files: 400,
            parallel_big_files: 2,
            gzip: GzipPolicy::Auto,
            progress_interval: Duration::from_millis(120),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct UploadOptions {
    /// Empty: the plan's default message.
    pub message: String,
    pub author: Author,
    pub tuning: Tuning,
    /// Where progress is journaled for resume; `None` disables resume.
    pub journal_dir: Option<PathBuf>,
    /// The journal's id, chosen by the caller (a queue names its entries by it); `None`: a new
    /// one.
    pub upload_id: Option<UploadId>,
    /// Pauses the upload: nothing new is sent, requests in flight finish, the workspace and the
    /// journal are kept, and the run ends with [`ErrorCode::Paused`]. Resume continues it.
    pub pause: CancellationToken,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct FailedFile {
    pub index: u32,
    pub local: String,
    pub remote: RemotePath,
    pub error: Error,
}

/// The result of an upload that made a commit.
#[derive(Debug, Clone, Serialize, TS)]
pub struct UploadOutcome {
    pub commit: Commit,
    pub branch: String,
    pub files_sent: u32,
    pub bytes_sent: u64,
    pub files_unchanged: u32,
    /// Files that did not make it into the commit, each with why. Empty on full success.
    pub failed: Vec<FailedFile>,
    /// The commit on the server's web pages.
    pub web_url: String,
    /// The folder the upload went into, at that commit, on the server's web pages.
    pub folder_url: String,
}

/// Uploads a plan as one commit. Returns [`ErrorCode::NothingChanged`] when every file is
/// already on the branch, [`ErrorCode::Cancelled`] when `cancel` fires (nothing committed, the
/// workspace removed), [`ErrorCode::Paused`] when `options.pause` fires (everything kept for a
/// resume), and an outcome listing failed files when only some could be sent.
pub async fn upload(
    client: &OxenClient,
    request: &PlanRequest,
    plan: &Plan,
    options: &UploadOptions,
    sink: Arc<dyn ProgressSink>,
    cancel: CancellationToken,
) -> Result<UploadOutcome> {
    engine::UploadRun::start(client, request, plan, options, sink, cancel)
        .await?
        .finish()
        .await
}

/// Journals a reviewed plan as an upload that has not started yet (a queued one), and returns
/// its id; [`resume`] runs it. The same checks as [`upload`] apply first. Needs
/// `options.journal_dir`.
pub fn prepare(
    client: &OxenClient,
    request: &PlanRequest,
    plan: &Plan,
    options: &UploadOptions,
) -> Result<UploadId> {
    engine::prepare(client, request, plan, options)
}

/// Continues an interrupted, paused or queued upload from its journal. The key and server come
/// from `client`, which must be for the server and user the upload was started with. Refused
/// with [`ErrorCode::UploadRunning`] while another run (window or command) has it. `pause` as
/// in [`UploadOptions::pause`].
pub async fn resume(
    client: &OxenClient,
    journal_dir: &std::path::Path,
    id: &UploadId,
    tuning: Tuning,
    sink: Arc<dyn ProgressSink>,
    cancel: CancellationToken,
    pause: CancellationToken,
) -> Result<UploadOutcome> {
    engine::UploadRun::resume(client, journal_dir, id, tuning, sink, cancel, pause)
        .await?
        .finish()
        .await
}

/// The first error of a failed upload, explaining how many files it affected.
pub(crate) fn nothing_sent(failed: &[FailedFile]) -> Error {
    match failed {
        [] => Error::new(ErrorCode::NothingToUpload, "There was nothing to upload."),
        [only] => only.error.clone(),
        [first, ..] => Error {
            message: format!(
                "None of the {} files could be uploaded. The first problem: {}",
                failed.len(),
                first.error.message
            ),
            ..first.error.clone()
        },
    }
}

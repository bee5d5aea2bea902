//! One upload run: a workspace, small-file batches and big-file parts in parallel, one commit.
//!
//! This file holds the run itself (start, resume, execute, finish) and its bookkeeping; the
//! sending is in `small` (batches), `big` (part uploads), `single_put` (the first upload into an
//! empty repository) and `commit`.

mod big;
mod commit;
mod prepare;
mod removals;
mod single_put;
mod small;
mod workspace;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use super::journal::{Journal, PartsState, PlanFile, UploadId};
use super::progress::{FileState, Phase, ProgressSink, Tracker, spawn_ticker};
use super::{FailedFile, Tuning, UploadOptions, UploadOutcome, nothing_sent};
use crate::client::OxenClient;
use crate::error::{Error, ErrorCode, Result};
use crate::model::{Author, Commit};
use crate::plan::{FileStatus, Plan, PlanRequest};
use crate::sync::lock;
use prepare::plan_file;
pub(crate) use prepare::prepare;

pub(crate) struct UploadRun<'a> {
    client: &'a OxenClient,
    plan: Plan,
    message: String,
    author: Author,
    tuning: Tuning,
    tracker: Arc<Tracker>,
    sink: Arc<dyn ProgressSink>,
    ticker: tokio::task::JoinHandle<()>,
    /// The user's cancel.
    cancel: CancellationToken,
    /// The user's pause: checked before anything new is sent; never interrupts a request.
    pause: CancellationToken,
    /// Stops all work: the user's cancel, or a failure that ends the whole run.
    stop: CancellationToken,
    fatal: Mutex<Option<Error>>,
    journal: Mutex<Option<Journal>>,
    workspace_id: Option<String>,
    staged: Mutex<BTreeSet<u32>>,
    parts_before: BTreeMap<u32, PartsState>,
    failed: Mutex<Vec<FailedFile>>,
    limiter: Semaphore,
    bytes_sent: AtomicU64,
    started_unix: u64,
}

/// A run dropped before it finished (a watch stopped mid-upload, as a crash would stop it) keeps
/// its journal and workspace for resume, and must not leave its progress ticker running.
impl Drop for UploadRun<'_> {
    fn drop(&mut self) {
        self.ticker.abort();
    }
}

impl<'a> UploadRun<'a> {
    pub(crate) async fn start(
        client: &'a OxenClient,
        request: &PlanRequest,
        plan: &Plan,
        options: &UploadOptions,
        sink: Arc<dyn ProgressSink>,
        cancel: CancellationToken,
    ) -> Result<UploadRun<'a>> {
        let (id, plan_file) = plan_file(client, request, plan, options)?;
        let journal = match &options.journal_dir {
            Some(dir) => Some(Journal::create(dir, id, &plan_file)?),
            None => None,
        };
        let tuning = options.tuning.clone();
        let controls = (cancel, options.pause.clone());
        Ok(UploadRun::new(
            client, plan_file, tuning, sink, controls, journal,
        ))
    }

    pub(crate) async fn resume(
        client: &'a OxenClient,
        dir: &Path,
        id: &UploadId,
        tuning: Tuning,
        sink: Arc<dyn ProgressSink>,
        cancel: CancellationToken,
        pause: CancellationToken,
    ) -> Result<UploadRun<'a>> {
        let (plan_file, journal) = Journal::open(dir, id)?;
        super::check_account(client, &plan_file)?;
        Ok(UploadRun::new(
            client,
            plan_file,
            tuning,
            sink,
            (cancel, pause),
            Some(journal),
        ))
    }

    /// A run of `plan_file`, continuing from what its journal says was done (nothing, for a new
    /// upload).
    fn new(
        client: &'a OxenClient,
        plan_file: PlanFile,
        tuning: Tuning,
        sink: Arc<dyn ProgressSink>,
        (cancel, pause): (CancellationToken, CancellationToken),
        journal: Option<Journal>,
    ) -> UploadRun<'a> {
        let done = journal
            .as_ref()
            .map(|j| j.state.clone())
            .unwrap_or_default();
        let PlanFile {
            plan,
            message,
            author,
            started_unix,
            ..
        } = plan_file;
        let (count, bytes) = plan
            .to_send()
            .fold((0u32, 0u64), |(n, b), (_, f)| (n + 1, b + f.size));
        let tracker = Tracker::new(count, bytes);
        if let Some(j) = &journal {
            tracker.upload_id(j.id.to_string());
        }
        let ticker = spawn_ticker(tracker.clone(), sink.clone(), tuning.progress_interval);
        let limiter = Semaphore::new(tuning.parallel_requests.max(1));
        UploadRun {
            client,
            plan,
            message,
            author,
            tuning,
            tracker,
            sink,
            ticker,
            stop: cancel.child_token(),
            cancel,
            pause,
            fatal: Mutex::new(None),
            journal: Mutex::new(journal),
            workspace_id: done.workspace_id,
            staged: Mutex::new(done.staged),
            parts_before: done.parts,
            failed: Mutex::new(Vec::new()),
            limiter,
            bytes_sent: AtomicU64::new(0),
            started_unix,
        }
    }

    /// Runs to the end and cleans up: a finished, cancelled or refused upload leaves no
    /// workspace and no journal; an interrupted one keeps both, to be resumed.
    pub(crate) async fn finish(mut self) -> Result<UploadOutcome> {
        let result = self.execute().await;
        // Only a journaled upload can be resumed; without one, clean up whatever the error.
        let journaled = lock(&self.journal).is_some();
        // A rejected key too: after signing in again, the same upload continues.
        let resumable = journaled
            && matches!(&result, Err(e) if (e.retryable && e.code != ErrorCode::BranchMoved)
                || matches!(e.code, ErrorCode::KeyRejected | ErrorCode::Paused));
        if result.is_err() && !resumable {
            self.tracker.phase(Phase::Cancelling);
            self.push_snapshot();
            self.discard_workspace().await;
        }
        self.tracker.phase(Phase::Finished);
        self.ticker.abort();
        self.push_snapshot();
        let journal = lock(&self.journal).take();
        if let Some(mut j) = journal {
            if resumable {
                // Everything acknowledged so far, so that a resume sends none of it again.
                if let Err(e) = j.save(true) {
                    tracing::warn!(error = %e.log_line(), "journal not saved");
                }
            } else {
                j.remove()
            }
        }
        match result {
            Err(e) if e.code == ErrorCode::Paused => Err(e),
            Err(e) if resumable => Err(Error {
                message: if e.code == ErrorCode::KeyRejected {
                    format!(
                        "{} Then resume the upload: what was sent is kept.",
                        e.message
                    )
                } else {
                    format!(
                        "{} The upload was interrupted; what was sent is kept, and you can resume it.",
                        e.message
                    )
                },
                ..e
            }),
            other => other,
        }
    }

    fn push_snapshot(&self) {
        if let Some(s) = self.tracker.snapshot(true) {
            self.sink.progress(s);
        }
    }

    async fn discard_workspace(&self) {
        if let Some(ws) = &self.workspace_id {
            let deleted = tokio::time::timeout(
                Duration::from_secs(20),
                self.client.delete_workspace(&self.plan.repo, ws),
            )
            .await;
            if !matches!(deleted, Ok(Ok(()))) {
                tracing::warn!(workspace = %ws, "could not remove the upload's workspace");
            }
        }
    }

    async fn execute(&mut self) -> Result<UploadOutcome> {
        self.tracker.phase(Phase::Preparing);
        for (i, f) in self.plan.files.iter().enumerate() {
            if f.status == FileStatus::Unchanged {
                self.tracker.file(i as u32, FileState::Unchanged);
            }
        }
        if self.workspace_id.is_none()
            && self.plan.base_commit.is_none()
            && self.plan.removals.is_empty()
            && let Some(files) = self.single_put_candidates()
        {
            self.check_branch_head().await?;
            if self.paused() {
                return Err(Error::paused());
            }
            return self.single_put(files).await;
        }
        self.open_workspace().await?;

        let already: BTreeSet<u32> = lock(&self.staged).clone();
        let mut small = Vec::new();
        let mut big = Vec::new();
        for (i, f) in self.plan.to_send() {
            let i = i as u32;
            if already.contains(&i) {
                self.tracker.file(i, FileState::Sent);
                self.tracker.add_bytes(f.size);
                self.bytes_sent.fetch_add(f.size, Ordering::Relaxed);
            } else if f.size <= self.tuning.small_file_max {
                small.push(i);
            } else {
                big.push(i);
            }
        }
        self.tracker.phase(Phase::Sending);
        tokio::join!(self.send_small(small), self.send_big(big));

        if self.cancel.is_cancelled() {
            return Err(Error::cancelled());
        }
        if let Some(e) = lock(&self.fatal).take() {
            return Err(e);
        }
        // Paused: what was sent stays in the workspace; the commit waits for the resume.
        if self.paused() {
            return Err(Error::paused());
        }
        let staged = lock(&self.staged).len();
        let failed = std::mem::take(&mut *lock(&self.failed));
        if staged == 0 && self.plan.removals.is_empty() {
            return Err(nothing_sent(&failed));
        }
        if let Some(j) = lock(&self.journal).as_mut() {
            j.save(true)?;
        }
        let workspace_id = self.workspace_id.clone().unwrap_or_default();
        self.stage_removals(&workspace_id).await?;
        self.tracker.phase(Phase::Committing);
        self.tracker.notice(None);
        let commit = match self.commit(&workspace_id).await {
            Err(e) if e.code == ErrorCode::BranchMoved => Err(self.name_the_conflict(e).await),
            other => other,
        }?;
        Ok(self.outcome(commit, failed))
    }

    fn outcome(&self, commit: Commit, mut failed: Vec<FailedFile>) -> UploadOutcome {
        failed.sort_by_key(|f| f.index);
        UploadOutcome {
            web_url: self
                .client
                .commit_web_url(&self.plan.repo, &commit.id)
                .to_string(),
            folder_url: self
                .client
                .folder_web_url(&self.plan.repo, &commit.id, &self.plan.folder())
                .to_string(),
            commit,
            branch: self.plan.branch.clone(),
            files_sent: lock(&self.staged).len() as u32,
            bytes_sent: self.bytes_sent.load(Ordering::Relaxed),
            files_unchanged: self.plan.totals.unchanged_files,
            failed,
        }
    }

    /// The user paused (and did not cancel): nothing new may be sent.
    fn paused(&self) -> bool {
        self.pause.is_cancelled() && !self.cancel.is_cancelled()
    }

    /// Refuses a request about to be sent while paused (one already sent finishes).
    fn refuse_if_paused(&self) -> Result<()> {
        if self.paused() {
            Err(Error::paused())
        } else {
            Ok(())
        }
    }

    fn retrying(&self, err: &Error) {
        tracing::info!(error = %err.log_line(), "retrying");
        self.tracker
            .notice(Some(format!("{} Retrying…", err.message)));
    }

    fn mark_staged(&self, index: u32) {
        let size = self.plan.files[index as usize].size;
        lock(&self.staged).insert(index);
        self.bytes_sent.fetch_add(size, Ordering::Relaxed);
        self.tracker.file(index, FileState::Sent);
        self.tracker.notice(None);
        if let Some(j) = lock(&self.journal).as_mut() {
            j.state.staged.insert(index);
            j.state.parts.remove(&index);
            if let Err(e) = j.save(false) {
                tracing::warn!(error = %e.log_line(), "journal not saved");
            }
        }
    }

    fn fail(&self, index: u32, error: Error) {
        let file = &self.plan.files[index as usize];
        tracing::info!(file = %file.remote, error = %error.log_line(), "file failed");
        self.tracker
            .file_with(index, FileState::Failed, Some(error.message.clone()));
        lock(&self.failed).push(FailedFile {
            index,
            local: file.local.clone(),
            remote: file.remote.clone(),
            error,
        });
    }

    /// A failure that is nobody's file's fault (the server stayed unreachable): stop everything,
    /// keep what was sent, and let the user resume.
    fn abort_run(&self, error: Error) {
        let mut fatal = lock(&self.fatal);
        if fatal.is_none() {
            *fatal = Some(error);
        }
        self.stop.cancel();
    }

    /// A failure of one file or of the whole run, depending on whose fault it is.
    fn fail_or_abort(&self, indices: &[u32], error: Error) {
        // Not the file's fault: a cancelled run is cleaned up, a paused one resumed.
        if matches!(error.code, ErrorCode::Cancelled | ErrorCode::Paused) {
            return;
        }
        if error.retryable
            || matches!(
                error.code,
                ErrorCode::KeyRejected | ErrorCode::RepoNotFound | ErrorCode::BranchNotFound
            )
        {
            self.abort_run(error);
        } else {
            for &i in indices {
                self.fail(i, error.clone());
            }
        }
    }
}

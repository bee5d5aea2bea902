//! One upload run: workspace, small-file batches and big-file parts in parallel, commit.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt, stream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use super::journal::{Journal, PartsState, PlanFile};
use super::local_file::{
    file_changed, hash_checked, multipart_name_survives, part_body, part_len, read_checked,
    wants_gzip,
};
use super::progress::{FileState, Phase, ProgressSink, Tracker, spawn_ticker};
use super::{FailedFile, Tuning, UploadOptions, UploadOutcome, nothing_sent};
use crate::client::{BatchFile, BeginUpload, OxenClient};
use crate::error::{Error, ErrorCode, Result};
use crate::fs::now_unix;
use crate::hash::same_hash;
use crate::model::{Author, Commit};
use crate::plan::{FileStatus, Plan, PlanRequest, PlannedFile};
use crate::retry::retry;
use crate::sync::lock;

/// `PUT /file` holds the whole multipart body in 2 MiB; stay well below.
const SINGLE_PUT_LIMIT: u64 = 1536 << 10;

pub(crate) struct Run<'a> {
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

impl<'a> Run<'a> {
    pub(crate) async fn start(
        client: &'a OxenClient,
        request: &PlanRequest,
        plan: &Plan,
        options: &UploadOptions,
        sink: Arc<dyn ProgressSink>,
        cancel: CancellationToken,
    ) -> Result<Run<'a>> {
        options.author.check()?;
        if plan.to_send().next().is_none() {
            return Err(if plan.files.is_empty() {
                Error::new(
                    ErrorCode::NothingToUpload,
                    "There is nothing to upload: no file in the selection can be sent.",
                )
            } else {
                Error::new(
                    ErrorCode::NothingChanged,
                    "Nothing changed: every file is already on the branch with the same content.",
                )
            });
        }
        let message = match options.message.trim() {
            "" => plan.default_message.clone(),
            m => m.to_owned(),
        };
        let started_unix = now_unix();
        let journal = match &options.journal_dir {
            Some(dir) => Some(Journal::create(
                dir,
                &PlanFile {
                    format: 1,
                    id: uuid::Uuid::new_v4().to_string(),
                    server: client.server().clone(),
                    request: request.clone(),
                    plan: plan.clone(),
                    message: message.clone(),
                    author: options.author.clone(),
                    started_unix,
                },
            )?),
            None => None,
        };
        Ok(Run::new(
            client,
            plan.clone(),
            message,
            options.author.clone(),
            options.tuning.clone(),
            sink,
            cancel,
            journal,
            started_unix,
        ))
    }

    pub(crate) async fn resume(
        client: &'a OxenClient,
        dir: &Path,
        id: &str,
        tuning: Tuning,
        sink: Arc<dyn ProgressSink>,
        cancel: CancellationToken,
    ) -> Result<Run<'a>> {
        let (plan_file, journal) = Journal::open(dir, id)?;
        if client.server() != &plan_file.server {
            return Err(Error::new(
                ErrorCode::ResumeMismatch,
                format!(
                    "This upload was started on {}; sign in to that server to resume it.",
                    plan_file.server
                ),
            ));
        }
        let state = journal.state.clone();
        let mut run = Run::new(
            client,
            plan_file.plan,
            plan_file.message,
            plan_file.author,
            tuning,
            sink,
            cancel,
            Some(journal),
            plan_file.started_unix,
        );
        run.workspace_id = state.workspace_id;
        *run.staged.get_mut().unwrap_or_else(|p| p.into_inner()) = state.staged;
        run.parts_before = state.parts;
        Ok(run)
    }

    #[allow(clippy::too_many_arguments)]
    fn new(
        client: &'a OxenClient,
        plan: Plan,
        message: String,
        author: Author,
        tuning: Tuning,
        sink: Arc<dyn ProgressSink>,
        cancel: CancellationToken,
        journal: Option<Journal>,
        started_unix: u64,
    ) -> Run<'a> {
        let (count, bytes) = plan
            .to_send()
            .fold((0u32, 0u64), |(n, b), (_, f)| (n + 1, b + f.size));
        let tracker = Tracker::new(count, bytes);
        let ticker = spawn_ticker(tracker.clone(), sink.clone(), tuning.progress_interval);
        let limiter = Semaphore::new(tuning.parallel_requests.max(1));
        Run {
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
            fatal: Mutex::new(None),
            journal: Mutex::new(journal),
            workspace_id: None,
            staged: Mutex::new(BTreeSet::new()),
            parts_before: BTreeMap::new(),
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
        let resumable = journaled
            && matches!(&result, Err(e) if e.retryable && e.code != ErrorCode::BranchMoved);
        if result.is_err() && !resumable {
            self.tracker.phase(Phase::Cancelling);
            self.push_snapshot();
            self.discard_workspace().await;
        }
        self.tracker.phase(Phase::Finished);
        self.ticker.abort();
        self.push_snapshot();
        let journal = lock(&self.journal).take();
        if let Some(j) = journal {
            if resumable { drop(j) } else { j.remove() }
        }
        match result {
            Err(e) if resumable => Err(Error {
                message: format!(
                    "{} The upload was interrupted; what was sent is kept, and you can resume it.",
                    e.message
                ),
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
            && let Some(files) = self.single_put_candidates()
        {
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
        let staged = lock(&self.staged).len();
        let failed = std::mem::take(&mut *lock(&self.failed));
        if staged == 0 {
            return Err(nothing_sent(&failed));
        }
        if let Some(j) = lock(&self.journal).as_mut() {
            j.save(true)?;
        }
        self.tracker.phase(Phase::Committing);
        self.tracker.notice(None);
        let workspace_id = self.workspace_id.clone().unwrap_or_default();
        let commit = self.commit(&workspace_id).await?;
        Ok(self.outcome(commit, failed))
    }

    fn outcome(&self, commit: Commit, mut failed: Vec<FailedFile>) -> UploadOutcome {
        failed.sort_by_key(|f| f.index);
        UploadOutcome {
            web_url: self
                .client
                .commit_web_url(&self.plan.repo, &commit.id)
                .to_string(),
            commit,
            branch: self.plan.branch.clone(),
            files_sent: lock(&self.staged).len() as u32,
            bytes_sent: self.bytes_sent.load(Ordering::Relaxed),
            files_unchanged: self.plan.totals.unchanged_files,
            failed,
        }
    }

    // ----- workspace -----------------------------------------------------------------------------

    async fn open_workspace(&mut self) -> Result<()> {
        let repo = &self.plan.repo;
        if let Some(ws) = self.workspace_id.clone() {
            match self.client.get_workspace(repo, &ws).await? {
                Some(_) => return Ok(()),
                None => {
                    // Gone: committed by the run that was interrupted, or lost. Start afresh.
                    lock(&self.staged).clear();
                    self.parts_before.clear();
                }
            }
        }
        let id = uuid::Uuid::new_v4().to_string();
        let policy = self.client.options().retry;
        let ws = retry(
            &policy,
            &self.stop,
            |_, e, _| self.retrying(e),
            |_| self.client.create_workspace(repo, &self.plan.branch, &id),
        )
        .await?;
        self.workspace_id = Some(ws.id.clone());
        if let Some(j) = lock(&self.journal).as_mut() {
            j.state.workspace_id = Some(ws.id);
            j.state.staged.clear();
            j.state.parts.clear();
            j.save(true)?;
        }
        Ok(())
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
        if error.code == ErrorCode::Cancelled {
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

    // ----- small files -------------------------------------------------------------------------

    async fn send_small(&self, files: Vec<u32>) {
        let mut batches: Vec<Vec<u32>> = Vec::new();
        let mut current = Vec::new();
        let mut current_bytes = 0;
        for i in files {
            let size = self.plan.files[i as usize].size;
            if !current.is_empty()
                && (current_bytes + size > self.tuning.batch_max_bytes
                    || current.len() >= self.tuning.batch_max_files)
            {
                batches.push(std::mem::take(&mut current));
                current_bytes = 0;
            }
            current.push(i);
            current_bytes += size;
        }
        if !current.is_empty() {
            batches.push(current);
        }
        stream::iter(batches)
            .for_each_concurrent(self.tuning.parallel_requests, |batch| {
                self.send_batch(batch)
            })
            .await;
    }

    async fn send_batch(&self, batch: Vec<u32>) {
        if self.stop.is_cancelled() {
            return;
        }
        let gzip = self.tuning.gzip;
        let remote_server = !self.client.server().is_loopback();
        let files: Vec<(u32, PlannedFile)> = batch
            .iter()
            .map(|&i| (i, self.plan.files[i as usize].clone()))
            .collect();
        let read = tokio::task::spawn_blocking(move || {
            files
                .into_iter()
                .map(|(i, f)| {
                    (
                        i,
                        read_checked(&f).map(|bytes| {
                            let zip = wants_gzip(gzip, remote_server, &f);
                            BatchFile {
                                path: f.remote.clone(),
                                bytes,
                                gzip: zip,
                            }
                        }),
                    )
                })
                .collect::<Vec<_>>()
        })
        .await;
        let read = match read {
            Ok(r) => r,
            Err(e) => return self.abort_run(Error::internal(e)),
        };
        let mut pending: Vec<(u32, BatchFile)> = Vec::new();
        for (i, r) in read {
            match r {
                Ok(file) => pending.push((i, file)),
                Err(e) => self.fail(i, e),
            }
        }
        self.stage_pending(pending).await;
    }

    /// Stages files, re-sending what the server silently dropped, isolating files it refuses.
    async fn stage_pending(&self, mut pending: Vec<(u32, BatchFile)>) {
        let repo = &self.plan.repo;
        let ws = self.workspace_id.clone().unwrap_or_default();
        let policy = self.client.options().retry;
        for round in 0u64..4 {
            if pending.is_empty() || self.stop.is_cancelled() {
                return;
            }
            for (i, _) in &pending {
                self.tracker.file(*i, FileState::Sending);
            }
            let result = retry(
                &policy,
                &self.stop,
                |_, e, _| self.retrying(e),
                |_| async {
                    let _permit = self.limiter.acquire().await.map_err(Error::internal)?;
                    let files = pending.iter().map(|(_, f)| f.clone()).collect();
                    self.client.stage_files(repo, &ws, files).await
                },
            )
            .await;
            match result {
                Ok(paths) => {
                    let accepted: HashSet<String> = paths.into_iter().collect();
                    let (done, missing): (Vec<_>, Vec<_>) = pending
                        .into_iter()
                        .partition(|(_, f)| accepted.contains(f.path.as_str()));
                    for (i, f) in done {
                        self.tracker.add_bytes(f.bytes.len() as u64);
                        self.mark_staged(i);
                    }
                    if !missing.is_empty() {
                        tracing::warn!(
                            count = missing.len(),
                            round,
                            "server dropped files; sending them again"
                        );
                        tokio::time::sleep(Duration::from_millis(300 * (round + 1))).await;
                    }
                    pending = missing;
                }
                Err(e)
                    if !e.retryable
                        && pending.len() > 1
                        && e.code != ErrorCode::Cancelled
                        && e.code != ErrorCode::KeyRejected =>
                {
                    // One file's problem must not sink the others: send each alone.
                    for one in pending {
                        Box::pin(self.stage_pending(vec![one])).await;
                    }
                    return;
                }
                Err(e) => {
                    let indices: Vec<u32> = pending.iter().map(|(i, _)| *i).collect();
                    return self.fail_or_abort(&indices, e);
                }
            }
        }
        for (i, f) in pending {
            self.fail(
                i,
                Error::new(
                    ErrorCode::ServerError,
                    format!("The server did not accept {} after several tries.", f.path),
                )
                .retryable(false),
            );
        }
    }

    // ----- big files ---------------------------------------------------------------------------

    async fn send_big(&self, files: Vec<u32>) {
        stream::iter(files)
            .for_each_concurrent(self.tuning.parallel_big_files.max(1), |i| async move {
                if self.stop.is_cancelled() {
                    return;
                }
                match self.send_big_file(i).await {
                    Ok(()) => self.mark_staged(i),
                    Err(e) => self.fail_or_abort(&[i], e),
                }
            })
            .await;
    }

    async fn send_big_file(&self, index: u32) -> Result<()> {
        let file = self.plan.files[index as usize].clone();
        self.tracker.file(index, FileState::Hashing);
        let stop = self.stop.clone();
        let to_hash = file.clone();
        let hash = tokio::task::spawn_blocking(move || hash_checked(&to_hash, &stop))
            .await
            .map_err(Error::internal)??;
        self.tracker.file(index, FileState::Sending);
        let repo = &self.plan.repo;
        let ws = self.workspace_id.clone().unwrap_or_default();
        let policy = self.client.options().retry;
        let mut resume_from = self
            .parts_before
            .get(&index)
            .filter(|p| same_hash(&p.hash, &hash))
            .cloned();
        for _attempt in 0..5 {
            let state = match resume_from.take() {
                Some(s) => s,
                None => {
                    let begun = retry(
                        &policy,
                        &self.stop,
                        |_, e, _| self.retrying(e),
                        |_| {
                            self.client
                                .begin_upload(repo, &hash, file.size, &ws, &file.remote)
                        },
                    )
                    .await?;
                    match begun {
                        BeginUpload::AlreadyStored => {
                            self.tracker.add_bytes(file.size);
                            return Ok(());
                        }
                        BeginUpload::AwaitingParts {
                            upload_id,
                            part_size,
                            num_parts,
                            part_window,
                        } => {
                            let expected = file.size.div_ceil(part_size);
                            if num_parts != expected || part_window == 0 {
                                return Err(Error::new(
                                    ErrorCode::BadResponse,
                                    "The server proposed an upload layout OxDrop cannot follow.",
                                ));
                            }
                            PartsState {
                                hash: hash.clone(),
                                upload_id,
                                part_size,
                                part_window,
                                parts_done: BTreeSet::new(),
                            }
                        }
                    }
                }
            };
            self.journal_parts(index, &state);
            // Bytes this attempt counted as sent, taken back if the attempt starts over.
            let counted = AtomicU64::new(0);
            let sent = self.send_parts(index, &file, &state, &counted).await;
            if !matches!(sent, Ok(true)) {
                self.tracker.sub_bytes(counted.load(Ordering::Relaxed));
            }
            match sent {
                Ok(true) => return Ok(()),
                // Every part acknowledged but no completion seen (an answer was lost): beginning
                // again answers "already stored" if the file did complete.
                Ok(false) => continue,
                Err(e) if e.code == ErrorCode::UploadExpired => {
                    // The server forgot the upload (restart, or over a minute idle): begin again.
                    if let Some(j) = lock(&self.journal).as_mut() {
                        j.state.parts.remove(&index);
                    }
                    continue;
                }
                Err(e) if e.code == ErrorCode::ContentMismatch => return Err(file_changed(&file)),
                Err(e) => return Err(e),
            }
        }
        Err(Error::new(
            ErrorCode::ServerError,
            format!(
                "The server kept losing the upload of {}. Try again later.",
                file.remote
            ),
        ))
    }

    fn journal_parts(&self, index: u32, state: &PartsState) {
        if let Some(j) = lock(&self.journal).as_mut() {
            j.state.parts.insert(index, state.clone());
            let _ = j.save(false);
        }
    }

    /// Sends the missing parts, a window at a time. `Ok(true)` when a part completed the file.
    async fn send_parts(
        &self,
        index: u32,
        file: &PlannedFile,
        state: &PartsState,
        counted: &AtomicU64,
    ) -> Result<bool> {
        let num_parts = file.size.div_ceil(state.part_size);
        let completed = AtomicBool::new(false);
        let todo: Vec<u64> = (1..=num_parts)
            .filter(|n| !state.parts_done.contains(n))
            .collect();
        for n in &state.parts_done {
            let len = part_len(file.size, state.part_size, *n);
            self.tracker.add_bytes(len);
            counted.fetch_add(len, Ordering::Relaxed);
        }
        // More parts in flight than the server's window only earns 429s.
        let width = self
            .tuning
            .parallel_requests
            .min(state.part_window as usize)
            .max(1);
        stream::iter(todo)
            .map(Ok)
            .try_for_each_concurrent(width, |n| {
                let completed = &completed;
                async move {
                    if self.send_part(file, state, n).await? {
                        completed.store(true, Ordering::Relaxed);
                    }
                    counted.fetch_add(part_len(file.size, state.part_size, n), Ordering::Relaxed);
                    if let Some(j) = lock(&self.journal).as_mut()
                        && let Some(p) = j.state.parts.get_mut(&index)
                    {
                        p.parts_done.insert(n);
                        let _ = j.save(false);
                    }
                    Ok::<_, Error>(())
                }
            })
            .await?;
        Ok(completed.load(Ordering::Relaxed))
    }

    async fn send_part(&self, file: &PlannedFile, state: &PartsState, n: u64) -> Result<bool> {
        let len = part_len(file.size, state.part_size, n);
        let offset = (n - 1) * state.part_size;
        let policy = self.client.options().retry;
        retry(
            &policy,
            &self.stop,
            |_, e, _| self.retrying(e),
            |_| async {
                let _permit = self.limiter.acquire().await.map_err(Error::internal)?;
                let counted = Arc::new(AtomicU64::new(0));
                let body = part_body(
                    Path::new(&file.local),
                    offset,
                    len,
                    self.tracker.clone(),
                    counted.clone(),
                )
                .await?;
                let result = self
                    .client
                    .put_part(&self.plan.repo, &state.upload_id, n, body, len)
                    .await;
                if result.is_err() {
                    self.tracker.sub_bytes(counted.load(Ordering::Relaxed));
                }
                result
            },
        )
        .await
    }

    // ----- commit ------------------------------------------------------------------------------

    /// Not cancellable: once the commit request may have reached the server, stopping could
    /// report "nothing committed" about a commit that exists. It is quick and bounded anyway.
    async fn commit(&self, workspace_id: &str) -> Result<Commit> {
        let repo = &self.plan.repo;
        let policy = self.client.options().retry;
        let uncancellable = CancellationToken::new();
        retry(&policy, &uncancellable, |_, e, _| self.retrying(e), |_| async {
            match self
                .client
                .commit_workspace(repo, workspace_id, &self.plan.branch, &self.message, &self.author)
                .await
            {
                Ok(c) => Ok(c),
                Err(e) if e.code == ErrorCode::BranchMoved => Err(e.retryable(false)),
                Err(e) if e.retryable => {
                    // The answer may be lost while the commit landed: the server deletes the
                    // workspace when it commits, so look before committing again.
                    match self.client.get_workspace(repo, workspace_id).await {
                        Ok(Some(_)) => Err(e),
                        Ok(None) => match self.find_own_commit().await? {
                            Some(c) => Ok(c),
                            None => Err(Error::new(
                                ErrorCode::ServerError,
                                "The server lost this upload before it could be committed. Upload the files again.",
                            )
                            .retryable(false)),
                        },
                        Err(e2) => Err(e2),
                    }
                }
                Err(e) => Err(e),
            }
        })
        .await
    }

    /// Our commit at the head of the branch, if there: same message and author, made after the
    /// upload started.
    async fn find_own_commit(&self) -> Result<Option<Commit>> {
        let commits = self
            .client
            .commits(&self.plan.repo, &self.plan.branch, 20)
            .await?;
        Ok(commits.into_iter().find(|c| {
            c.message == self.message
                && c.author == self.author.name
                && c.email == self.author.email
                && commit_after(c, self.started_unix)
        }))
    }

    // ----- first upload into an empty repository -----------------------------------------------

    /// Small uploads into an empty repository go in one `PUT /file`, which creates the branch
    /// with the user's commit as its first (a workspace would add the server's own empty
    /// "Initialized Repo" commit before it).
    fn single_put_candidates(&self) -> Option<Vec<u32>> {
        let files: Vec<(usize, &PlannedFile)> = self.plan.to_send().collect();
        let total: u64 = files.iter().map(|(_, f)| f.size).sum();
        let first_parent = files.first()?.1.remote.parent();
        let plain = files.iter().all(|(_, f)| {
            f.remote.parent() == first_parent && multipart_name_survives(f.remote.file_name())
        });
        (plain && files.len() <= 100 && total <= SINGLE_PUT_LIMIT)
            .then(|| files.iter().map(|(i, _)| *i as u32).collect())
    }

    async fn single_put(&self, indices: Vec<u32>) -> Result<UploadOutcome> {
        let files: Vec<PlannedFile> = indices
            .iter()
            .map(|&i| self.plan.files[i as usize].clone())
            .collect();
        let read =
            tokio::task::spawn_blocking(move || files.iter().map(read_checked).collect::<Vec<_>>())
                .await
                .map_err(Error::internal)?;
        let mut parts = Vec::new();
        let mut sent = Vec::new();
        for (&i, r) in indices.iter().zip(read) {
            match r {
                Ok(bytes) => {
                    parts.push((
                        self.plan.files[i as usize].remote.file_name().to_owned(),
                        bytes,
                    ));
                    sent.push(i);
                }
                Err(e) => self.fail(i, e),
            }
        }
        let failed = std::mem::take(&mut *lock(&self.failed));
        if parts.is_empty() {
            return Err(nothing_sent(&failed));
        }
        self.tracker.phase(Phase::Sending);
        for &i in &sent {
            self.tracker.file(i, FileState::Sending);
        }
        let dir = self.plan.files[sent[0] as usize].remote.parent();
        // A retry after a lost answer fails as "nothing changed"; then the commit is looked up.
        // Not cancellable once sent, like the workspace commit.
        if self.stop.is_cancelled() {
            return Err(Error::cancelled());
        }
        let policy = self.client.options().retry;
        let uncancellable = CancellationToken::new();
        let commit = retry(
            &policy,
            &uncancellable,
            |_, e, _| self.retrying(e),
            |attempt| {
                let parts = parts.clone();
                let dir = dir.clone();
                async move {
                    match self
                        .client
                        .put_files(
                            &self.plan.repo,
                            &self.plan.branch,
                            &dir,
                            parts,
                            &self.message,
                            &self.author,
                        )
                        .await
                    {
                        Err(e) if attempt > 1 && e.code == ErrorCode::NothingChanged => {
                            self.find_own_commit().await?.ok_or(e)
                        }
                        other => other,
                    }
                }
            },
        )
        .await?;
        for &i in &sent {
            self.tracker.add_bytes(self.plan.files[i as usize].size);
            self.mark_staged(i);
        }
        Ok(self.outcome(commit, failed))
    }
}

fn commit_after(commit: &Commit, started_unix: u64) -> bool {
    time::OffsetDateTime::parse(
        &commit.timestamp,
        &time::format_description::well_known::Rfc3339,
    )
    .map(|t| t.unix_timestamp() + 2 >= started_unix as i64)
    .unwrap_or(true)
}

//! Big files through the server's part protocol (`/versions/uploads`): hash the file, begin an
//! upload (or continue the journaled one), send the missing parts a window at a time, and begin
//! again when the server forgot the upload or keeps a part of it stuck. The driver
//! (`send_big_file`, `send_parts`) schedules; `send_part` carries one part.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use futures_util::{StreamExt, TryStreamExt, stream};

use super::UploadRun;
use crate::client::BeginUpload;
use crate::client::limits::check_part_layout;
use crate::error::{Error, ErrorCode, Result};
use crate::hash::same_hash;
use crate::plan::PlannedFile;
use crate::retry::retry;
use crate::sync::lock;
use crate::upload::journal::PartsState;
use crate::upload::local_file::{file_changed, hash_checked, part_body, part_len};
use crate::upload::progress::FileState;

/// Times a file's upload is begun before the run gives up on it.
const BEGIN_ATTEMPTS: usize = 5;

impl UploadRun<'_> {
    pub(super) async fn send_big(&self, files: Vec<u32>) {
        stream::iter(files)
            .for_each_concurrent(self.tuning.parallel_big_files.max(1), |i| async move {
                if self.stop.is_cancelled() || self.paused() {
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
        let mut resume_from = self
            .parts_before
            .get(&index)
            .filter(|p| same_hash(&p.hash, &hash) && layout_holds(file.size, p))
            .cloned();
        for _attempt in 0..BEGIN_ATTEMPTS {
            self.refuse_if_paused()?;
            let state = match resume_from.take() {
                Some(s) => s,
                None => match self.begin(&file, &hash).await? {
                    Some(s) => s,
                    None => {
                        self.tracker.add_bytes(file.size);
                        return Ok(());
                    }
                },
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
                    // The server forgot the upload (restart, or over a minute idle), or keeps a
                    // part of it stuck: begin again, under a new upload id.
                    tracing::info!(file = %file.remote, error = %e.log_line(), "beginning the file's upload again");
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
            format!("The server kept losing the upload of {}.", file.remote),
        ))
    }

    /// Begins the file's part upload. `None` when the server already stores these bytes (and
    /// has staged them at the file's path).
    async fn begin(&self, file: &PlannedFile, hash: &str) -> Result<Option<PartsState>> {
        let ws = self.workspace_id.clone().unwrap_or_default();
        let policy = self.client.options().retry;
        let begun = retry(
            &policy,
            &self.stop,
            |_, e, _| self.retrying(e),
            |_| {
                self.client
                    .begin_upload(&self.plan.repo, hash, file.size, &ws, &file.remote)
            },
        )
        .await?;
        match begun {
            BeginUpload::AlreadyStored => Ok(None),
            // The client checked the layout against the file's size before answering.
            BeginUpload::AwaitingParts {
                upload_id,
                part_size,
                num_parts: _,
                part_window,
            } => Ok(Some(PartsState {
                hash: hash.to_owned(),
                upload_id,
                part_size,
                part_window,
                parts_done: BTreeSet::new(),
            })),
        }
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
        // Parts not yet acknowledged. The server completes the file on the last part it stores,
        // so only a part left alone unacknowledged may be waiting on that work.
        let unacknowledged = AtomicU64::new(todo.len() as u64);
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
                let unacknowledged = &unacknowledged;
                async move {
                    let may_complete = || unacknowledged.load(Ordering::Relaxed) <= 1;
                    // Paused: parts not yet sent are left for the resume, and those in flight
                    // (other futures of this stream) must not be dropped by an error here.
                    match self.send_part(file, state, n, &may_complete).await {
                        Ok(true) => completed.store(true, Ordering::Relaxed),
                        Ok(false) => {}
                        Err(e) if e.code == ErrorCode::Paused => return Ok(()),
                        Err(e) => return Err(e),
                    }
                    unacknowledged.fetch_sub(1, Ordering::Relaxed);
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
        let completed = completed.load(Ordering::Relaxed);
        if !completed && self.paused() {
            return Err(Error::paused());
        }
        Ok(completed)
    }

    /// Sends part `n` straight from disk, retried while that may help. `Ok(true)` when it
    /// completed the file.
    ///
    /// A part still refused as busy when the retries run out is stuck: the server holds an
    /// earlier copy of it whose connection died mid-body (it waits for the rest, keeping the
    /// upload alive and every resend out). That is answered as `UploadExpired`, so the file's
    /// upload begins afresh under a new id instead of failing the run.
    async fn send_part(
        &self,
        file: &PlannedFile,
        state: &PartsState,
        n: u64,
        may_complete: &(dyn Fn() -> bool + Sync),
    ) -> Result<bool> {
        let len = part_len(file.size, state.part_size, n);
        let offset = (n - 1) * state.part_size;
        let policy = self.client.options().retry;
        let sent = retry(
            &policy,
            &self.stop,
            |_, e, _| self.retrying(e),
            |_| async {
                let _permit = self.limiter.acquire().await.map_err(Error::internal)?;
                self.refuse_if_paused()?;
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
                    .put_part(
                        &self.plan.repo,
                        &state.upload_id,
                        n,
                        body,
                        len,
                        may_complete,
                    )
                    .await;
                if result.is_err() {
                    self.tracker.sub_bytes(counted.load(Ordering::Relaxed));
                }
                result
            },
        )
        .await;
        match sent {
            Err(e) if e.code == ErrorCode::ServerBusy => Err(Error::new(
                ErrorCode::UploadExpired,
                format!("The server kept part {n} of {} waiting.", file.remote),
            )
            .retryable(false)
            .with_detail(e.log_line())),
            other => other,
        }
    }
}

/// A journaled part upload can be continued only if its layout still makes sense for the file.
fn layout_holds(size: u64, state: &PartsState) -> bool {
    state.part_size > 0
        && check_part_layout(
            size,
            state.part_size,
            size.div_ceil(state.part_size),
            state.part_window,
        )
        .is_ok()
}

//! Big files through the server's part protocol (`/versions/uploads`): hash the file, begin an
//! upload (or continue the journaled one), send the missing parts a window at a time, and begin
//! again when the server forgot the upload. The driver (`send_big_file`, `send_parts`) schedules;
//! `send_part` carries one part.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use futures_util::{StreamExt, TryStreamExt, stream};

use super::UploadRun;
use crate::client::BeginUpload;
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
        let mut resume_from = self
            .parts_before
            .get(&index)
            .filter(|p| same_hash(&p.hash, &hash))
            .cloned();
        for _attempt in 0..BEGIN_ATTEMPTS {
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
                Ok(Some(PartsState {
                    hash: hash.to_owned(),
                    upload_id,
                    part_size,
                    part_window,
                    parts_done: BTreeSet::new(),
                }))
            }
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

    /// Sends part `n` straight from disk, retried while that may help. `Ok(true)` when it
    /// completed the file.
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
}

//! Small files: read and checked in batches, each batch staged with one multipart request, what
//! the server silently dropped sent again, and a file the server refuses isolated from the rest.

use std::collections::HashSet;
use std::time::Duration;

use futures_util::{StreamExt, stream};

use super::UploadRun;
use crate::client::BatchFile;
use crate::error::{Error, ErrorCode};
use crate::plan::PlannedFile;
use crate::retry::retry;
use crate::upload::local_file::{read_checked, wants_gzip};
use crate::upload::progress::FileState;

impl UploadRun<'_> {
    pub(super) async fn send_small(&self, files: Vec<u32>) {
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
        if self.stop.is_cancelled() || self.paused() {
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
            if pending.is_empty() || self.stop.is_cancelled() || self.paused() {
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
                    self.refuse_if_paused()?;
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
                        && !matches!(
                            e.code,
                            ErrorCode::Cancelled | ErrorCode::Paused | ErrorCode::KeyRejected
                        ) =>
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
}

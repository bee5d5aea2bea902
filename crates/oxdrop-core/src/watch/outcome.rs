//! What an upload's outcome does to a watch's record (the files that reached the branch become
//! its memory; failed ones wait), and finishing an interrupted upload before anything new.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use tokio_util::sync::CancellationToken;

use super::place::{connect, rel_of};
use super::runner::Runner;
use super::status::{Attention, AttentionReason, LastCommit};
use crate::error::{ErrorCode, Result};
use crate::fs::now_unix;
use crate::remote_path::RemotePath;
use crate::upload::{self, ProgressSink, ProgressSnapshot, UploadId, UploadOutcome};

impl Runner {
    /// Records what an upload (or a resumed one) put on the branch.
    pub(super) fn after_upload(
        &mut self,
        result: Result<UploadOutcome>,
        dest: &RemotePath,
        sent: &[String],
        removed: &[String],
    ) -> Result<()> {
        let failed = match result {
            Ok(outcome) => {
                let failed: Vec<(String, String)> = outcome
                    .failed
                    .iter()
                    .map(|f| (rel_of(dest, &f.remote), f.error.message.clone()))
                    .collect();
                self.record.last_commit = Some(LastCommit {
                    id: outcome.commit.id.clone(),
                    message: outcome.commit.message.clone(),
                    unix: now_unix(),
                    files_sent: outcome.files_sent,
                    files_removed: removed.len() as u32,
                    web_url: outcome.web_url.clone(),
                });
                failed
            }
            // Already there: the commit of an interrupted run, or someone uploaded the same.
            Err(e) if e.code == ErrorCode::NothingChanged => Vec::new(),
            Err(e) => {
                if upload::list_resumable(&self.journals()).is_empty() {
                    // Given up, not kept for resume: nothing of it reached the branch.
                    for rel in sent {
                        self.record.inflight.remove(rel);
                    }
                }
                self.record.save(&self.dir)?;
                return Err(e);
            }
        };
        self.succeeded();
        let failed_rels: HashSet<&String> = failed.iter().map(|(r, _)| r).collect();
        self.record
            .land(sent.iter().filter(|r| !failed_rels.contains(r)));
        for rel in removed {
            self.record.files.remove(rel);
        }
        self.record.save(&self.dir)?;
        if let Some((_, why)) = failed.first() {
            self.problem = Some(Attention {
                reason: AttentionReason::Failed,
                message: format!(
                    "{} could not be uploaded: {why}",
                    if failed.len() == 1 {
                        "1 file".to_owned()
                    } else {
                        format!("{} files", failed.len())
                    }
                ),
                files: failed.iter().map(|(r, _)| r.clone()).collect(),
            });
            self.note = Some("They are tried again later.".into());
            self.retry_at = Some(Instant::now() + self.shared.ctx.timing.backoff_first);
        }
        Ok(())
    }

    /// Finishes the watch's interrupted upload (the app or computer stopped mid-way).
    pub(super) async fn resume_interrupted(&mut self) {
        let dir = self.journals();
        let pending = upload::list_resumable(&dir);
        if pending.is_empty() {
            self.interrupted = false;
            return;
        }
        let client = match connect(&self.shared.ctx, &self.watch).await {
            Ok(c) => c,
            Err(e) => {
                self.interrupted = true;
                return self.failed(e);
            }
        };
        let dest = self.watch.destination.dest.clone();
        for id in pending.iter().filter_map(|u| UploadId::parse(&u.id).ok()) {
            // Running elsewhere (it cannot be: the watches run in one process) or unreadable.
            let Ok(interrupted) = upload::interrupted(&dir, &id) else {
                continue;
            };
            let plan = &interrupted.plan;
            let sent: Vec<String> = plan
                .to_send()
                .map(|(_, f)| rel_of(&dest, &f.remote))
                .collect();
            let removed: Vec<String> = plan.removals.iter().map(|r| rel_of(&dest, r)).collect();
            self.set_uploading(true);
            let tuning = self.shared.ctx.tuning.clone();
            let result = upload::resume(
                &client,
                &dir,
                &id,
                tuning,
                self.sink(),
                CancellationToken::new(),
                CancellationToken::new(),
            )
            .await;
            self.set_uploading(false);
            let kept = upload::list_resumable(&dir)
                .iter()
                .any(|u| u.id == id.to_string());
            match self.after_upload(result, &dest, &sent, &removed) {
                Ok(()) => {}
                // The branch moved under it, or it cannot go on: its files are planned afresh.
                Err(e)
                    if !kept
                        && matches!(e.code, ErrorCode::BranchMoved | ErrorCode::ResumeMismatch) =>
                {
                    tracing::info!(error = %e.log_line(), "interrupted watch upload given up; planning again");
                }
                Err(e) => self.failed(e),
            }
        }
        self.interrupted = !upload::list_resumable(&dir).is_empty();
    }

    /// An upload starts or ends: the state shows it, and only its own progress counts.
    pub(super) fn set_uploading(&mut self, on: bool) {
        self.uploading = on;
        self.live.store(on, Ordering::Relaxed);
        if on {
            self.shared.progress(&self.watch.id, 0);
            self.publish();
        }
    }

    pub(super) fn sink(&self) -> Arc<dyn ProgressSink> {
        let shared = self.shared.clone();
        let id = self.watch.id.clone();
        let live = self.live.clone();
        Arc::new(move |s: ProgressSnapshot| {
            if !live.load(Ordering::Relaxed) {
                return;
            }
            let done = s
                .bytes_done
                .saturating_mul(100)
                .checked_div(s.bytes_total)
                .or_else(|| (u64::from(s.files_done) * 100).checked_div(u64::from(s.files_total)))
                .unwrap_or(0);
            // 100% once committed, which the runner says itself.
            shared.progress(&id, done.min(99) as u8);
        })
    }
}

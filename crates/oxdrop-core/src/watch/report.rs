//! What a runner reports: its state for people, and what a failure means (something the user
//! must fix, or a passing problem), with a longer wait before each new try.

use std::time::{Duration, Instant};

use super::Watch;
use super::runner::Runner;
use super::status::{Attention, AttentionReason, Facts, WatchStatus, summarize};
use crate::error::{Error, ErrorCode};

impl Runner {
    pub(super) fn initial_status(watch: &Watch) -> WatchStatus {
        let facts = Facts {
            paused: watch.paused,
            starting: true,
            percent: None,
            waiting: 0,
            will_remove: 0,
            attention: None,
        };
        let (state, summary) = summarize(&facts);
        WatchStatus {
            id: watch.id.clone(),
            state,
            summary,
            waiting: 0,
            percent: None,
            will_remove: Vec::new(),
            will_remove_count: 0,
            attention: None,
            conflicts: Vec::new(),
            note: None,
            last_commit: None,
        }
    }

    /// Something went wrong: say what (a problem the user can fix needs attention; a passing
    /// one is a note) and try again later, waiting longer each time.
    pub(super) fn failed(&mut self, e: Error) {
        tracing::info!(watch = %self.watch.id, error = %e.log_line(), "watch upload failed");
        self.failures = self.failures.saturating_add(1);
        let timing = &self.shared.ctx.timing;
        let wait = timing
            .backoff_first
            .saturating_mul(2u32.saturating_pow(self.failures.saturating_sub(1).min(16)))
            .min(timing.backoff_max);
        self.retry_at = Some(Instant::now() + wait);
        let again = format!("Trying again in {}.", spell(wait));
        if e.retryable {
            self.note = Some(format!("{} {again}", e.message));
            return;
        }
        let reason = match e.code {
            ErrorCode::RepoNotFound | ErrorCode::BranchNotFound | ErrorCode::NamespaceNotFound => {
                AttentionReason::DestinationGone
            }
            ErrorCode::KeyRejected
            | ErrorCode::NotSignedIn
            | ErrorCode::KeychainUnavailable
            | ErrorCode::KeychainDenied => AttentionReason::SignInNeeded,
            _ => AttentionReason::Failed,
        };
        self.problem = Some(Attention {
            reason,
            message: e.message,
            files: Vec::new(),
        });
        self.note = Some(again);
    }

    /// A cycle went through: no problem, no waiting.
    pub(super) fn succeeded(&mut self) {
        self.failures = 0;
        self.retry_at = None;
        self.problem = None;
        self.note = None;
    }

    pub(super) fn status(&self) -> WatchStatus {
        let waiting = self.changes.waiting(&self.record);
        let removals = self.deletions(None);
        let conflicts: Vec<_> = self
            .record
            .conflicts
            .values()
            .map(|c| c.conflict.clone())
            .collect();
        let attention = self.problem.clone().or_else(|| {
            (!conflicts.is_empty()).then(|| Attention {
                reason: AttentionReason::Conflicts,
                message: format!(
                    "{} changed on the server by someone else",
                    if conflicts.len() == 1 {
                        "1 file".to_owned()
                    } else {
                        format!("{} files", conflicts.len())
                    }
                ),
                files: conflicts.iter().map(|c| c.path.clone()).collect(),
            })
        });
        let percent = self
            .uploading
            .then(|| self.shared.status_percent(&self.watch.id).unwrap_or(0));
        let (state, summary) = summarize(&Facts {
            paused: self.watch.paused,
            starting: self.starting,
            percent,
            waiting,
            will_remove: removals.len() as u32,
            attention: attention.as_ref(),
        });
        let note = self
            .note
            .clone()
            .or_else(|| self.polling.as_ref().map(|(n, _)| n.clone()));
        WatchStatus {
            id: self.watch.id.clone(),
            state,
            summary,
            waiting,
            percent,
            will_remove_count: removals.len() as u32,
            will_remove: removals.into_iter().take(100).collect(),
            attention,
            conflicts,
            note,
            last_commit: self.record.last_commit.clone(),
        }
    }

    pub(super) fn publish(&self) {
        self.shared.publish(self.status());
    }
}

/// "30 seconds", "2 minutes".
pub(super) fn spell(d: Duration) -> String {
    super::rhythm::spell(d.as_secs().max(1))
}

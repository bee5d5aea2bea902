//! One upload of the list: where it goes, what it carries (in summary), its state, and how it
//! ended.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{Error, ErrorCode};
use crate::fs::now_unix;
use crate::model::ChangedOnBranch;
use crate::plan::{Plan, PlanRequest};
use crate::remote_path::RemotePath;
use crate::repo_ref::RepoRef;
use crate::server_url::ServerUrl;
use crate::upload::{Interrupted, ResumableUpload, UploadOutcome};

/// File names kept per upload, to find it by file name later.
pub const NAMES_KEPT: usize = 200;

/// Who put the upload in the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", content = "watch_id", rename_all = "snake_case")]
pub enum Origin {
    /// The user, from the window.
    Manual,
    /// A watched folder (its id).
    Watch(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum UploadState {
    /// Waiting for its turn.
    Queued,
    Running,
    /// Paused by the user: what was sent is kept.
    Paused,
    /// Stopped by the network, the server, a rejected key, the app closing, or a destination
    /// that vanished: what was sent is kept, to resume once the cause is fixed.
    Interrupted,
    /// Committed (perhaps with some files that could not be sent).
    Done,
    /// Ended without a commit, nothing kept.
    Failed,
    Cancelled,
    /// Someone changed its files on the branch after the review: review it again.
    NeedsReview,
}

impl UploadState {
    /// It ended: nothing of it runs or waits any more.
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            UploadState::Done
                | UploadState::Failed
                | UploadState::Cancelled
                | UploadState::NeedsReview
        )
    }
}

/// Why an upload stopped, as the user reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Problem {
    pub code: ErrorCode,
    pub message: String,
    /// For a review that is out of date: the files changed on the branch, and by which commits.
    #[serde(default)]
    pub changed: Vec<ChangedOnBranch>,
}

impl From<&Error> for Problem {
    fn from(e: &Error) -> Problem {
        Problem {
            code: e.code,
            message: e.message.clone(),
            changed: e.changed.clone().unwrap_or_default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct FailedSummary {
    pub remote: RemotePath,
    pub message: String,
}

/// What a committed upload did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Outcome {
    pub commit_id: String,
    /// The commit on the server's web pages.
    pub web_url: String,
    /// The upload's folder at that commit, on the server's web pages.
    pub folder_url: String,
    pub files_sent: u32,
    pub bytes_sent: u64,
    pub files_unchanged: u32,
    /// Files left out of the commit, each with why.
    pub failed: Vec<FailedSummary>,
}

impl From<&UploadOutcome> for Outcome {
    fn from(o: &UploadOutcome) -> Outcome {
        Outcome {
            commit_id: o.commit.id.clone(),
            web_url: o.web_url.clone(),
            folder_url: o.folder_url.clone(),
            files_sent: o.files_sent,
            bytes_sent: o.bytes_sent,
            files_unchanged: o.files_unchanged,
            failed: o
                .failed
                .iter()
                .map(|f| FailedSummary {
                    remote: f.remote.clone(),
                    message: f.error.message.clone(),
                })
                .collect(),
        }
    }
}

/// What a paused or interrupted upload already has on the server, from its journal: a resume
/// sends only the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SentSoFar {
    pub files: u32,
    pub bytes: u64,
}

impl From<&ResumableUpload> for SentSoFar {
    fn from(u: &ResumableUpload) -> SentSoFar {
        SentSoFar {
            files: u.files_sent,
            bytes: u.bytes_sent,
        }
    }
}

/// One upload in the list. Never holds a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct QueuedUpload {
    /// The journal's id.
    pub id: String,
    pub account_id: String,
    pub server: ServerUrl,
    pub repo: RepoRef,
    pub branch: String,
    pub dest: RemotePath,
    /// The deepest folder holding all its files (where *Copy link* points).
    pub folder: RemotePath,
    /// The dropped or chosen files and folders, by name.
    pub sources: Vec<String>,
    /// What it was planned from: planned again for *Retry failed files* and *Review again*.
    #[ts(skip)]
    pub request: PlanRequest,
    /// Repository paths of its files (at most [`NAMES_KEPT`]), for the history's search.
    #[ts(skip)]
    pub file_names: Vec<RemotePath>,
    /// Files and bytes to send.
    pub files: u32,
    pub bytes: u64,
    pub files_unchanged: u32,
    pub message: String,
    /// The message is the one suggested from the files (not the user's own): a retry, which
    /// sends fewer files, suggests its own.
    #[serde(default)]
    pub suggested_message: bool,
    /// The branch did not exist when planned (the upload creates it), so its absence is fine.
    pub new_branch: bool,
    pub origin: Origin,
    pub state: UploadState,
    pub created_unix: u64,
    pub started_unix: Option<u64>,
    pub finished_unix: Option<u64>,
    pub outcome: Option<Outcome>,
    pub problem: Option<Problem>,
    /// Kept from its last stop (pause, interruption) until it runs again.
    #[serde(default)]
    pub sent: Option<SentSoFar>,
}

impl QueuedUpload {
    /// A reviewed plan, journaled as `id`, waiting for its turn.
    pub fn new(
        id: &str,
        account_id: &str,
        server: &ServerUrl,
        request: &PlanRequest,
        plan: &Plan,
        message: &str,
        origin: Origin,
    ) -> QueuedUpload {
        let (files, bytes) = plan
            .to_send()
            .fold((0u32, 0u64), |(n, b), (_, f)| (n + 1, b + f.size));
        QueuedUpload {
            id: id.to_owned(),
            account_id: account_id.to_owned(),
            server: server.clone(),
            repo: plan.repo.clone(),
            branch: plan.branch.clone(),
            dest: plan.dest.clone(),
            folder: plan.folder(),
            sources: request
                .sources
                .iter()
                .map(|p| {
                    p.file_name()
                        .unwrap_or(p.as_os_str())
                        .to_string_lossy()
                        .into_owned()
                })
                .collect(),
            request: request.clone(),
            file_names: plan
                .files
                .iter()
                .take(NAMES_KEPT)
                .map(|f| f.remote.clone())
                .collect(),
            files,
            bytes,
            files_unchanged: plan.totals.unchanged_files,
            message: message.to_owned(),
            suggested_message: message == plan.default_message,
            new_branch: plan.base_commit.is_none(),
            origin,
            state: UploadState::Queued,
            created_unix: now_unix(),
            started_unix: None,
            finished_unix: None,
            outcome: None,
            problem: None,
            sent: None,
        }
    }

    /// An interrupted upload found in the journal folder but not in the list.
    pub(crate) fn from_journal(found: &ResumableUpload, journaled: &Interrupted) -> QueuedUpload {
        let account_id =
            crate::accounts::account_id(&found.server, found.user.as_deref().unwrap_or(""));
        let mut entry = QueuedUpload::new(
            &found.id,
            &account_id,
            &found.server,
            &journaled.request,
            &journaled.plan,
            &journaled.message,
            Origin::Manual,
        );
        entry.created_unix = found.started_unix;
        entry.started_unix = Some(found.started_unix);
        entry
    }

    pub fn start(&mut self) {
        self.state = UploadState::Running;
        self.started_unix.get_or_insert_with(now_unix);
        self.problem = None;
        self.sent = None;
    }

    /// Back in line after a pause or an interruption.
    pub fn requeue(&mut self) -> crate::Result<()> {
        if !matches!(self.state, UploadState::Paused | UploadState::Interrupted) {
            return Err(Error::invalid_input(
                "Only a paused or interrupted upload can be resumed.",
            ));
        }
        self.state = UploadState::Queued;
        self.problem = None;
        Ok(())
    }

    /// Stopped before it ran (a vanished destination, no key), with everything kept.
    pub fn interrupt(&mut self, why: &Error) {
        self.state = UploadState::Interrupted;
        self.problem = Some(Problem::from(why));
    }

    /// Records how a run ended. `journal`: its journal if still there, so it can be resumed
    /// from what it sent.
    pub fn finish(
        &mut self,
        result: &crate::Result<UploadOutcome>,
        journal: Option<&ResumableUpload>,
    ) {
        let kept = journal.is_some();
        self.state = match result {
            Ok(o) => {
                self.outcome = Some(Outcome::from(o));
                UploadState::Done
            }
            Err(e) => {
                self.problem = Some(Problem::from(e));
                match e.code {
                    ErrorCode::Paused if kept => UploadState::Paused,
                    ErrorCode::Cancelled if !kept => UploadState::Cancelled,
                    ErrorCode::ReviewOutdated => UploadState::NeedsReview,
                    _ if kept => UploadState::Interrupted,
                    _ => UploadState::Failed,
                }
            }
        };
        if self.state == UploadState::Paused {
            self.problem = None;
        }
        self.sent = journal
            .filter(|_| matches!(self.state, UploadState::Paused | UploadState::Interrupted))
            .map(SentSoFar::from);
        if self.state.is_finished() {
            self.finished_unix = Some(now_unix());
        }
    }
}

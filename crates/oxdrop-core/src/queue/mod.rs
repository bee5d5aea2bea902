//! The uploads this computer knows about, in order: queued, running, paused, interrupted, and
//! recently finished. Kept in `queue.json` in the data folder (summaries only; each upload's full
//! plan is in its journal, written when it is queued, so a queued upload survives a restart).
//!
//! The core decides nothing about when to run: a runner (the app's, or a watch) asks for
//! [`Queue::next_to_start`], runs the upload with `upload::resume`, and records the result with
//! [`QueuedUpload::finish`]. Uploads from a watched folder come in with `Origin::Watch`.

mod entry;

use std::path::Path;

use serde::{Deserialize, Serialize};

pub use entry::{FailedSummary, Origin, Outcome, Problem, QueuedUpload, SentSoFar, UploadState};

use crate::client::OxenClient;
use crate::error::{Error, ErrorCode, Result};
use crate::store::LockedJson;
use crate::upload::{self, UploadId};

const FORMAT: u32 = 1;
/// Finished uploads kept in the list (the history keeps more).
const FINISHED_MAX: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Queue {
    pub format: u32,
    /// In the order they run: a queued upload starts when those before it allow.
    pub uploads: Vec<QueuedUpload>,
}

impl Default for Queue {
    fn default() -> Self {
        Queue {
            format: FORMAT,
            uploads: Vec::new(),
        }
    }
}

fn not_listed() -> Error {
    Error::new(
        ErrorCode::InvalidInput,
        "That upload is no longer in the list.",
    )
}

impl Queue {
    pub fn get(&self, id: &str) -> Option<&QueuedUpload> {
        self.uploads.iter().find(|u| u.id == id)
    }

    /// The upload, or a plain "no longer in the list".
    pub fn entry(&mut self, id: &str) -> Result<&mut QueuedUpload> {
        self.uploads
            .iter_mut()
            .find(|u| u.id == id)
            .ok_or_else(not_listed)
    }

    /// Adds an upload at the end of the line.
    pub fn push(&mut self, upload: QueuedUpload) {
        self.uploads.retain(|u| u.id != upload.id);
        self.uploads.push(upload);
    }

    /// The first queued upload whose server runs fewer than `per_server` uploads now.
    pub fn next_to_start(&self, per_server: usize) -> Option<&QueuedUpload> {
        let running_on = |server| {
            self.uploads
                .iter()
                .filter(|u| u.state == UploadState::Running && &u.server == server)
                .count()
        };
        self.uploads
            .iter()
            .find(|u| u.state == UploadState::Queued && running_on(&u.server) < per_server.max(1))
    }

    /// Moves a queued upload one place earlier (`up`) or later among the queued ones.
    pub fn move_queued(&mut self, id: &str, up: bool) -> Result<()> {
        let at = self
            .uploads
            .iter()
            .position(|u| u.id == id)
            .ok_or_else(not_listed)?;
        if self.uploads[at].state != UploadState::Queued {
            return Err(Error::invalid_input(
                "Only uploads that have not started can be moved.",
            ));
        }
        let queued = |u: &QueuedUpload| u.state == UploadState::Queued;
        let other = if up {
            self.uploads[..at].iter().rposition(queued)
        } else {
            self.uploads[at + 1..]
                .iter()
                .position(queued)
                .map(|i| at + 1 + i)
        };
        if let Some(other) = other {
            self.uploads.swap(at, other);
        }
        Ok(())
    }

    /// Takes an upload out of the list; a running one must be cancelled or paused first.
    pub fn remove(&mut self, id: &str) -> Result<QueuedUpload> {
        let at = self
            .uploads
            .iter()
            .position(|u| u.id == id)
            .ok_or_else(not_listed)?;
        if self.uploads[at].state == UploadState::Running {
            return Err(Error::new(
                ErrorCode::UploadRunning,
                "This upload is running. Pause or cancel it first.",
            ));
        }
        Ok(self.uploads.remove(at))
    }

    pub fn clear_finished(&mut self) {
        self.uploads.retain(|u| !u.state.is_finished());
    }

    /// Keeps the newest finished uploads only.
    pub fn trim_finished(&mut self) {
        let finished = self
            .uploads
            .iter()
            .filter(|u| u.state.is_finished())
            .count();
        let mut extra = finished.saturating_sub(FINISHED_MAX);
        self.uploads.retain(|u| {
            let drop = extra > 0 && u.state.is_finished();
            extra -= usize::from(drop);
            !drop
        });
    }

    /// After the app (or computer) stopped: what was running is interrupted, to be resumed when
    /// the user says. Uploads interrupted outside the list (by the command line, or before the
    /// list existed) are added, so they can be resumed or discarded here.
    pub fn after_restart(&mut self, journal_dir: &Path) {
        let found = upload::list_resumable(journal_dir);
        self.interrupt_running();
        self.adopt_interrupted(journal_dir, &found);
        self.note_sent(&found);
    }

    /// What the stopped uploads among `found` (their journals) already sent, as they stand now.
    fn note_sent(&mut self, found: &[upload::ResumableUpload]) {
        for u in &mut self.uploads {
            if !matches!(u.state, UploadState::Paused | UploadState::Interrupted) {
                continue;
            }
            if let Some(f) = found.iter().find(|f| f.id == u.id) {
                u.sent = Some(SentSoFar::from(f));
            }
        }
    }

    /// What was running when the app stopped is interrupted, to be resumed when the user says.
    pub fn interrupt_running(&mut self) {
        for u in &mut self.uploads {
            if u.state == UploadState::Running {
                u.state = UploadState::Interrupted;
                u.problem = Some(Problem::from(&Error::new(
                    ErrorCode::Cancelled,
                    "OxDrop was closed while this upload was running. What was sent is kept: resume it to continue.",
                )));
            }
        }
    }

    /// Uploads interrupted outside the list (by the command line, or before the list existed),
    /// among those `found` in `journal_dir`, are added to it, first.
    fn adopt_interrupted(&mut self, journal_dir: &Path, found: &[upload::ResumableUpload]) {
        for found in found {
            if self.get(&found.id).is_some() {
                continue;
            }
            let Ok(id) = UploadId::parse(&found.id) else {
                continue;
            };
            let Ok(journaled) = upload::interrupted(journal_dir, &id) else {
                continue;
            };
            let mut entry = QueuedUpload::from_journal(found, &journaled);
            // Said in the list, so the user knows why it waits there.
            entry.interrupt(&Error::new(
                ErrorCode::Cancelled,
                "This upload stopped part way (the command line or OxDrop was closed while it ran). What was sent is kept: resume it to continue.",
            ));
            self.uploads.insert(0, entry);
        }
    }
}

/// Before a queued (or resumed) upload starts: its repository and branch are still there. A
/// vanished one stops it with that reason; it stays in the list to fix or discard.
pub async fn check_destination(client: &OxenClient, upload: &QueuedUpload) -> Result<()> {
    let gone = |e: &Error| {
        matches!(
            e.code,
            ErrorCode::RepoNotFound | ErrorCode::NamespaceNotFound | ErrorCode::NotFound
        )
    };
    match client.repository(&upload.repo).await {
        Err(e) if gone(&e) => {
            return Err(Error::new(
                ErrorCode::RepoNotFound,
                format!(
                    "The repository {} no longer exists on the server, so this upload was not started. Create it again and resume, or discard the upload.",
                    upload.repo
                ),
            )
            .retryable(false));
        }
        other => other.map(|_| ())?,
    }
    if upload.new_branch {
        return Ok(());
    }
    match client.branch(&upload.repo, &upload.branch).await {
        Err(e) if e.code == ErrorCode::BranchNotFound || gone(&e) => Err(Error::new(
            ErrorCode::BranchNotFound,
            format!(
                "The branch {} no longer exists in {}, so this upload was not started. Create it again and resume, or discard the upload.",
                upload.branch, upload.repo
            ),
        )
        .retryable(false)),
        other => other.map(|_| ()),
    }
}

/// The list of uploads on disk.
#[derive(Debug, Clone)]
pub struct QueueStore {
    file: LockedJson,
}

impl QueueStore {
    pub fn new(data_dir: &Path) -> QueueStore {
        QueueStore {
            file: LockedJson::new(data_dir.join("queue.json"), "the list of uploads"),
        }
    }

    /// In the OS data folder (or `$OXDROP_DATA_DIR`).
    pub fn default_location() -> Result<QueueStore> {
        crate::app_dirs::required_data_dir().map(|d| QueueStore::new(&d))
    }

    pub fn load(&self) -> Queue {
        self.file.load()
    }

    /// Changes the list under its lock (see `LockedJson::update`).
    pub fn update<T>(&self, change: impl FnOnce(&mut Queue) -> Result<T>) -> Result<(Queue, T)> {
        self.file.update(|q: &mut Queue| {
            let answer = change(q)?;
            q.trim_finished();
            Ok(answer)
        })
    }
}

#[cfg(test)]
mod tests;

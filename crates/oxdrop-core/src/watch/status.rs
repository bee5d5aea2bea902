//! What a watch shows: its state in words (*up to date*, *3 files waiting*, *uploading 40%*,
//! *paused*, *needs attention*) and the details behind it.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::Watch;
use crate::remote_path::RemotePath;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum WatchState {
    /// Finishing an interrupted upload and looking through the folder.
    Starting,
    UpToDate,
    /// Changes are waiting for the rhythm (or to settle).
    Waiting,
    Uploading,
    Paused,
    NeedsAttention,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum AttentionReason {
    /// Files someone else changed on the branch are left alone (see `conflicts`).
    Conflicts,
    /// The folder is gone, or its disk is not connected.
    FolderMissing,
    /// The repository or branch no longer exists.
    DestinationGone,
    /// The account is signed out, or its key was rejected.
    SignInNeeded,
    /// Something else went wrong; the message says what.
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Attention {
    pub reason: AttentionReason,
    /// What happened and what to do, for people.
    pub message: String,
    /// Files it concerns, relative to the folder (may be empty).
    pub files: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ConflictKind {
    /// Changed on the branch since the watch last uploaded it.
    ChangedOnServer,
    /// Someone else put a file there that the watch never uploaded.
    AddedOnServer,
    /// Removed from the branch since the watch uploaded it.
    RemovedOnServer,
}

/// A file the watch left alone because someone else changed it on the branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Conflict {
    /// Relative to the watched folder.
    pub path: String,
    pub remote: RemotePath,
    pub kind: ConflictKind,
    /// The commit that last changed it on the branch, when known.
    pub commit: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct LastCommit {
    pub id: String,
    pub message: String,
    /// Seconds since the epoch.
    pub unix: u64,
    pub files_sent: u32,
    pub files_removed: u32,
    pub web_url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct WatchStatus {
    pub id: String,
    pub state: WatchState,
    /// The state in words: "Up to date", "3 files waiting", "Uploading 40%", "Paused",
    /// "Needs attention: …".
    pub summary: String,
    /// Files changed here and not uploaded yet.
    pub waiting: u32,
    /// While uploading.
    pub percent: Option<u8>,
    /// Files deleted here that the next commit removes from the repository (mirrored deletions;
    /// the first 100, and how many in all).
    pub will_remove: Vec<String>,
    pub will_remove_count: u32,
    pub attention: Option<Attention>,
    /// Files someone else changed on the branch, left alone until resolved.
    pub conflicts: Vec<Conflict>,
    /// A lasting condition worth knowing ("checked every 2 minutes", "trying again in 1 minute").
    pub note: Option<String>,
    pub last_commit: Option<LastCommit>,
}

/// A watch and its state, as the app lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct WatchInfo {
    pub watch: Watch,
    pub status: WatchStatus,
}

/// What the summary is made of.
pub(crate) struct Facts<'a> {
    pub paused: bool,
    pub starting: bool,
    pub percent: Option<u8>,
    pub waiting: u32,
    pub will_remove: u32,
    pub attention: Option<&'a Attention>,
}

/// The one state shown (an upload in progress comes first, then what needs the user) and its
/// words.
pub(crate) fn summarize(f: &Facts) -> (WatchState, String) {
    let files = |n: u32| {
        if n == 1 {
            "1 file".to_owned()
        } else {
            format!("{n} files")
        }
    };
    let waiting = match (f.waiting, f.will_remove) {
        (0, 0) => None,
        (n, 0) => Some(format!("{} waiting", files(n))),
        (0, r) => Some(format!("{} to remove", files(r))),
        (n, r) => Some(format!("{} waiting, {r} to remove", files(n))),
    };
    if f.paused {
        let extra = waiting.map(|w| format!(" ({w})")).unwrap_or_default();
        return (WatchState::Paused, format!("Paused{extra}"));
    }
    if let Some(p) = f.percent {
        return (WatchState::Uploading, format!("Uploading {p}%"));
    }
    if let Some(a) = f.attention {
        return (
            WatchState::NeedsAttention,
            format!("Needs attention: {}", a.message),
        );
    }
    if f.starting {
        return (WatchState::Starting, "Starting".into());
    }
    match waiting {
        Some(w) => (WatchState::Waiting, w),
        None => (WatchState::UpToDate, "Up to date".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts<'static> {
        Facts {
            paused: false,
            starting: false,
            percent: None,
            waiting: 0,
            will_remove: 0,
            attention: None,
        }
    }

    #[test]
    fn one_state_in_plain_words() {
        assert_eq!(summarize(&facts()).1, "Up to date");
        let waiting = Facts {
            waiting: 3,
            ..facts()
        };
        assert_eq!(
            summarize(&waiting),
            (WatchState::Waiting, "3 files waiting".into())
        );
        let removing = Facts {
            waiting: 1,
            will_remove: 2,
            ..facts()
        };
        assert_eq!(summarize(&removing).1, "1 file waiting, 2 to remove");
        let uploading = Facts {
            percent: Some(40),
            waiting: 3,
            ..facts()
        };
        assert_eq!(summarize(&uploading).1, "Uploading 40%");
        let paused = Facts {
            paused: true,
            waiting: 3,
            ..facts()
        };
        assert_eq!(
            summarize(&paused),
            (WatchState::Paused, "Paused (3 files waiting)".into())
        );
        let attention = Attention {
            reason: AttentionReason::Conflicts,
            message: "2 files changed on the server by someone else".into(),
            files: vec![],
        };
        let needs = Facts {
            waiting: 1,
            attention: Some(&attention),
            ..facts()
        };
        assert_eq!(
            summarize(&needs),
            (
                WatchState::NeedsAttention,
                "Needs attention: 2 files changed on the server by someone else".into()
            )
        );
    }
}

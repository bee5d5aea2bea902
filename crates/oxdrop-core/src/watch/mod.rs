//! Watched folders: a local folder kept uploaded to a place in a repository, without anyone
//! remembering to upload.
//!
//! The OS tells of changes (one notifier for every watch); a full rescan at start and whenever
//! notifications overflowed makes sure nothing is missed. A changed file is uploaded once it has
//! settled (its size and date unchanged for a few seconds) and the watch's rhythm says go: one
//! plan of the changed files with the same planner as a manual upload (content check, ignore
//! rules, clutter, links), and one commit through the same engine (journal, resume), with a
//! message that lists what changed. Local deletions are mirrored only when the watch was set to;
//! a file someone else changed on the branch is left alone and reported, not overwritten.
//!
//! `store` keeps the list (`watches.json` in the config folder), `record` each watch's memory
//! (what it committed, in the data folder), `engine` runs them all, `runner` one watch, `cycle`
//! one upload (`outcome` records it, `place` maps it to the destination, `verdict` tells whose
//! change is on the branch), `scan` and `notifier` see the folder, `changes` what changed and
//! what settled, `rhythm` says when, `status` and `report` what to show.

mod changes;
mod context;
mod cycle;
mod engine;
mod message;
mod notifier;
mod outcome;
mod place;
mod record;
mod report;
mod rhythm;
mod runner;
mod scan;
mod status;
mod store;
mod verdict;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

pub use context::{WatchContext, WatchTiming, discard_watch_data, resolve_stopped};
pub use engine::WatchEngine;
pub use place::check_destination;
pub use rhythm::Rhythm;
pub use status::{
    Attention, AttentionReason, Conflict, ConflictKind, LastCommit, WatchInfo, WatchState,
    WatchStatus,
};
pub use store::WatchStore;

use crate::accounts::Destination;

/// A local folder kept uploaded to a place in a repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Watch {
    pub id: String,
    /// The local folder (absolute, links resolved).
    #[ts(type = "string")]
    pub folder: PathBuf,
    /// The account, repository, branch and folder in the repository its contents go to.
    pub destination: Destination,
    pub rhythm: Rhythm,
    /// Files deleted here are removed from the repository too (off by default: a deleted file
    /// stays in the repository).
    pub mirror_deletions: bool,
    pub paused: bool,
    /// Seconds since the epoch.
    pub created_unix: u64,
}

/// What the user chooses when setting up a watch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct NewWatch {
    #[ts(type = "string")]
    pub folder: PathBuf,
    pub destination: Destination,
    pub rhythm: Rhythm,
    pub mirror_deletions: bool,
}

/// A change to a watch's settings; what is `None` stays as it is. A new destination starts the
/// watch afresh there (its memory of what it committed belongs to the old place).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct WatchEdit {
    pub destination: Option<Destination>,
    pub rhythm: Option<Rhythm>,
    pub mirror_deletions: Option<bool>,
}

/// What to do about files someone else changed on the branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// Upload this computer's version over theirs in the next commit.
    UploadMine,
    /// Keep theirs on the branch; this computer's version is not uploaded unless it changes
    /// again.
    KeepTheirs,
}

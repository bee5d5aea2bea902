//! Where the watches run from: the folders and stores they use, their waits, and what can be
//! done to a watch while no engine runs it (forget its data, settle its conflicts).

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::record::{WatchRecord, journal_dir, watch_dir};
use super::store::{WatchStore, try_lock};
use super::{Resolution, Watch};
use crate::accounts::{Keychain, SettingsStore};
use crate::error::{Error, ErrorCode, Result};
use crate::model::Author;
use crate::upload::{self, Tuning, UploadId};

/// The waits of a watch, scaled like the client's (`OXDROP_TIME_SCALE`).
#[derive(Debug, Clone)]
pub struct WatchTiming {
    /// A changed file is ready once its size and date have not changed for this long.
    pub settle: Duration,
    /// How often files still settling are looked at again.
    pub recheck: Duration,
    /// How often a folder is rescanned when the system cannot tell of its changes.
    pub poll: Duration,
    /// How often a missing folder is looked for.
    pub folder_missing: Duration,
    /// The first and the longest wait before trying again after a failure.
    pub backoff_first: Duration,
    pub backoff_max: Duration,
}

impl Default for WatchTiming {
    fn default() -> Self {
        WatchTiming::scaled(crate::client::time_scale())
    }
}

impl WatchTiming {
    /// The shipped waits, each multiplied by `scale`.
    pub fn scaled(scale: f64) -> Self {
        let scale = if scale.is_finite() {
            scale.clamp(0.01, 100.0)
        } else {
            1.0
        };
        let secs = |s: f64| Duration::from_secs_f64(s * scale);
        WatchTiming {
            settle: secs(3.0),
            recheck: secs(1.0),
            poll: secs(120.0),
            folder_missing: secs(30.0),
            backoff_first: secs(30.0),
            backoff_max: secs(15.0 * 60.0),
        }
    }
}

/// Where the watches, the accounts and the watches' memory are, and how they upload.
#[derive(Debug, Clone)]
pub struct WatchContext {
    pub store: WatchStore,
    /// Accounts (keys from the keychain), the commit author and the ignore list.
    pub settings: SettingsStore,
    pub keychain: Keychain,
    /// The data folder: `watches/<id>` holds each watch's memory and interrupted upload.
    pub data_dir: PathBuf,
    /// The commit author instead of the settings' one (the CLI's `--author`).
    pub author: Option<Author>,
    pub tuning: Tuning,
    pub timing: WatchTiming,
}

impl WatchContext {
    /// The OS config and data folders (or `$OXDROP_CONFIG_DIR`, `$OXDROP_DATA_DIR`).
    pub fn default_location() -> Result<WatchContext> {
        let data_dir = crate::app_dirs::required_data_dir()?;
        Ok(WatchContext {
            store: WatchStore::default_location()?,
            settings: SettingsStore::default_location()?,
            keychain: Keychain::default_service(),
            data_dir,
            author: None,
            tuning: Tuning::default(),
            timing: WatchTiming::default(),
        })
    }
}

/// Forgets a removed watch on this computer: its interrupted upload (and the workspace it
/// holds on the server, best effort) and its memory.
pub async fn discard_watch_data(ctx: &WatchContext, watch: &Watch) {
    let dir = watch_dir(&ctx.data_dir, &watch.id);
    let journals = journal_dir(&dir);
    let pending = upload::list_resumable(&journals);
    if !pending.is_empty() {
        let client = super::place::connect(ctx, watch).await;
        for id in pending.iter().filter_map(|u| UploadId::parse(&u.id).ok()) {
            let _ = match &client {
                Ok(c) => upload::discard(c, &journals, &id).await,
                Err(_) => upload::forget(&journals, &id),
            };
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Applies a resolution while no engine runs the watches (the CLI); the engine does it itself
/// through [`WatchEngine::resolve`]. Returns how many files it concerned.
pub fn resolve_stopped(
    ctx: &WatchContext,
    id: &str,
    resolution: Resolution,
    paths: Option<&[String]>,
) -> Result<usize> {
    let watch = ctx.store.find(id)?;
    let _running = try_lock(&run_lock(&ctx.data_dir))
        .map_err(Error::internal)?
        .ok_or_else(already_running)?;
    let dir = watch_dir(&ctx.data_dir, &watch.id);
    let mut record = WatchRecord::load(&dir);
    let resolved = record.resolve(resolution, paths);
    record.save(&dir)?;
    Ok(resolved.len())
}

pub(super) fn run_lock(data_dir: &Path) -> PathBuf {
    data_dir.join("watches").join("running.lock")
}

pub(super) fn already_running() -> Error {
    Error::new(
        ErrorCode::LocalIo,
        "Another OxDrop is already keeping these folders uploaded (the app, or `oxdrop watch run`). Use that one, or stop it first.",
    )
}

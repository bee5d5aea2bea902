//! What an upload has done so far, on disk, so an interrupted upload (app closed, computer
//! restarted, server gone) continues where it stopped instead of starting over.
//!
//! Two files per upload in the journal folder: `<id>.plan.json` (written once) and
//! `<id>.state.json` (rewritten atomically as files reach the server). The API key is never in
//! either. A third, `<id>.lock`, is locked by the run that owns the upload for as long as it runs
//! (app or command line), so one upload never runs twice at once and a running one is neither
//! listed nor discarded.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{Error, ErrorCode, Result};
use crate::fs::{FileLock, write_atomic};
use crate::model::Author;
use crate::plan::{Plan, PlanRequest};
use crate::repo_ref::RepoRef;
use crate::server_url::ServerUrl;

const FORMAT: u32 = 1;

/// An interrupted upload's id: a UUID, never a path. Every way in (the app, the command line)
/// parses it here before any file is named after it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UploadId(uuid::Uuid);

impl UploadId {
    /// A fresh random id. No `Default`: an id that is new each time is not a default value.
    #[allow(clippy::new_without_default)]
    pub fn new() -> UploadId {
        UploadId(uuid::Uuid::new_v4())
    }

    pub fn parse(raw: &str) -> Result<UploadId> {
        uuid::Uuid::try_parse(raw.trim())
            .map(UploadId)
            .map_err(|_| {
                Error::new(
                    ErrorCode::InvalidInput,
                    format!(
                        "'{}' is not an upload id: interrupted uploads have ids like \
                     6f1c7a52-3d8e-4a8b-9c61-2f3e4d5a6b7c.",
                        raw.escape_default()
                    ),
                )
            })
    }

    fn file(&self, dir: &Path, suffix: &str) -> PathBuf {
        dir.join(format!("{self}.{suffix}"))
    }
}

impl std::fmt::Display for UploadId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PlanFile {
    pub format: u32,
    pub id: String,
    pub server: ServerUrl,
    /// The account's user name on `server` ("" when it has none); `None` in journals written
    /// before it was recorded. A resume continues only as the same user.
    #[serde(default)]
    pub user: Option<String>,
    pub request: PlanRequest,
    pub plan: Plan,
    pub message: String,
    pub author: Author,
    pub started_unix: u64,
}

/// A big file's part upload in progress (the server keeps these in memory only, briefly).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct PartsState {
    pub hash: String,
    pub upload_id: String,
    pub part_size: u64,
    /// Parts the server accepts ahead of the first one it has not hashed yet.
    #[serde(default = "one")]
    pub part_window: u64,
    pub parts_done: BTreeSet<u64>,
}

fn one() -> u64 {
    1
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct StateFile {
    pub format: u32,
    pub workspace_id: Option<String>,
    /// Plan indices already staged in the workspace.
    pub staged: BTreeSet<u32>,
    pub parts: BTreeMap<u32, PartsState>,
}

impl StateFile {
    /// What is on the server for good: the files staged in the workspace and their bytes. A
    /// resume sends only the rest. Parts of a big file do not count: the server keeps them in
    /// memory, and forgets them after a minute idle or a restart.
    pub(crate) fn sent(&self, plan: &Plan) -> (u32, u64) {
        let size = |i: u32| plan.files.get(i as usize).map_or(0, |f| f.size);
        let bytes = self.staged.iter().map(|&i| size(i)).sum();
        (self.staged.len() as u32, bytes)
    }
}

/// An interrupted upload, as the UI lists it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ResumableUpload {
    pub id: String,
    pub server: ServerUrl,
    /// The user it was started as (`None` in journals from before that was recorded).
    pub user: Option<String>,
    pub repo: RepoRef,
    pub branch: String,
    pub message: String,
    pub files_total: u32,
    /// Files already staged on the server, and their bytes.
    pub files_sent: u32,
    pub bytes_sent: u64,
    pub bytes_total: u64,
    /// Seconds since the epoch.
    pub started_unix: u64,
}

#[derive(Debug)]
pub(crate) struct Journal {
    dir: PathBuf,
    pub id: UploadId,
    pub state: StateFile,
    last_write: Option<Instant>,
    /// Held for as long as the journal is open: this run owns the upload.
    _lock: FileLock,
}

fn unwritable(dir: &Path, e: &std::io::Error) -> Error {
    Error::new(
        ErrorCode::ConfigUnwritable,
        format!(
            "OxDrop cannot save upload progress in {}: {}. Free some space or fix the folder's permissions, then try again.",
            dir.display(),
            crate::error::describe_io_error(e)
        ),
    )
    .with_detail(e.to_string())
}

impl Journal {
    /// Writes a new upload's plan, its lock taken first.
    pub(crate) fn create(dir: &Path, id: UploadId, plan_file: &PlanFile) -> Result<Journal> {
        std::fs::create_dir_all(dir).map_err(|e| unwritable(dir, &e))?;
        let mut journal = Journal {
            _lock: claim(dir, &id)?,
            dir: dir.to_path_buf(),
            id,
            state: StateFile {
                format: FORMAT,
                ..StateFile::default()
            },
            last_write: None,
        };
        let bytes = serde_json::to_vec(plan_file).map_err(Error::internal)?;
        let written = write_atomic(&journal.id.file(dir, "plan.json"), &bytes)
            .map_err(|e| unwritable(dir, &e))
            .and_then(|()| journal.save(true));
        match written {
            Ok(()) => Ok(journal),
            Err(e) => {
                journal.remove();
                Err(e)
            }
        }
    }

    /// Opens an interrupted upload to run it: fails with [`ErrorCode::UploadRunning`] while
    /// another run holds it, and changes nothing then.
    pub(crate) fn open(dir: &Path, id: &UploadId) -> Result<(PlanFile, Journal)> {
        let (plan_file, journal) = Journal::open_any(dir, id)?;
        match plan_file {
            Ok(plan_file) => Ok((plan_file, journal)),
            Err(e) => {
                if !id.file(dir, "plan.json").exists() {
                    // No such upload: the lock file was made just now, by us.
                    journal.remove();
                }
                Err(e)
            }
        }
    }

    /// Takes an upload over even when its files cannot be read (to discard it); refused only
    /// while another run holds it.
    pub(crate) fn open_any(dir: &Path, id: &UploadId) -> Result<(Result<PlanFile>, Journal)> {
        let lock = claim(dir, id)?;
        let (plan_file, state) = match read(dir, id) {
            Ok((p, s)) => (Ok(p), s),
            Err(e) => (Err(e), StateFile::default()),
        };
        let journal = Journal {
            dir: dir.to_path_buf(),
            id: id.clone(),
            state,
            last_write: None,
            _lock: lock,
        };
        Ok((plan_file, journal))
    }

    /// Rewrites the plan file (a new message or author, before anything is committed).
    pub(crate) fn rewrite_plan(&self, plan_file: &PlanFile) -> Result<()> {
        let bytes = serde_json::to_vec(plan_file).map_err(Error::internal)?;
        write_atomic(&self.id.file(&self.dir, "plan.json"), &bytes)
            .map_err(|e| unwritable(&self.dir, &e))
    }

    /// Saves the state; unless `force`, at most every half second (progress is re-derivable, so
    /// losing the last half second only costs re-sending a few files).
    pub(crate) fn save(&mut self, force: bool) -> Result<()> {
        if !force
            && self
                .last_write
                .is_some_and(|t| t.elapsed() < Duration::from_millis(500))
        {
            return Ok(());
        }
        let bytes = serde_json::to_vec(&self.state).map_err(Error::internal)?;
        write_atomic(&self.id.file(&self.dir, "state.json"), &bytes)
            .map_err(|e| unwritable(&self.dir, &e))?;
        self.last_write = Some(Instant::now());
        Ok(())
    }

    /// Deletes the journal; the lock file goes last, while still held, so nobody can take the
    /// upload over half deleted (whoever locks it next finds no plan).
    pub(crate) fn remove(self) {
        for suffix in ["plan.json", "state.json", "lock"] {
            let _ = std::fs::remove_file(self.id.file(&self.dir, suffix));
        }
    }
}

fn running() -> Error {
    Error::new(
        ErrorCode::UploadRunning,
        "This upload is running in another window or command. Wait for it to finish.",
    )
}

/// Takes the upload's lock. A moment's patience: someone listing the uploads holds it briefly.
fn claim(dir: &Path, id: &UploadId) -> Result<FileLock> {
    let path = id.file(dir, "lock");
    for _ in 0..10 {
        match FileLock::try_acquire(&path, false) {
            Ok(Some(lock)) => return Ok(lock),
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(missing()),
            Err(e) => return Err(unwritable(dir, &e)),
        }
    }
    Err(running())
}

fn missing() -> Error {
    Error::new(
        ErrorCode::ResumeMismatch,
        "This interrupted upload can no longer be found on this computer. Start it again.",
    )
}

/// The plan and progress of an upload, as written; its own id must be the one asked for.
fn read(dir: &Path, id: &UploadId) -> Result<(PlanFile, StateFile)> {
    let plan_file: PlanFile = std::fs::read(id.file(dir, "plan.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(missing)?;
    let state: StateFile = std::fs::read(id.file(dir, "state.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(StateFile {
            format: FORMAT,
            ..StateFile::default()
        });
    let own_id = UploadId::parse(&plan_file.id).ok();
    if plan_file.format != FORMAT || state.format != FORMAT || own_id.as_ref() != Some(id) {
        return Err(missing());
    }
    Ok((plan_file, state))
}

/// Reads an upload nobody is running; `UploadRunning` when someone is. The lock is tried, not
/// kept (shared, so that two readers never refuse each other).
pub(crate) fn peek(dir: &Path, id: &UploadId) -> Result<(PlanFile, StateFile)> {
    if !id.file(dir, "plan.json").exists() {
        return Err(missing());
    }
    match FileLock::try_acquire(&id.file(dir, "lock"), true) {
        Ok(Some(_free)) => {}
        Ok(None) => return Err(running()),
        Err(e) => return Err(unwritable(dir, &e)),
    }
    read(dir, id)
}

/// Interrupted uploads in the journal folder, newest first. Unreadable entries, and uploads that
/// are running right now (in this app, another window or a command), are left out.
pub fn list_resumable(dir: &Path) -> Vec<ResumableUpload> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<ResumableUpload> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let id = UploadId::parse(name.strip_suffix(".plan.json")?).ok()?;
            let (plan_file, state) = peek(dir, &id).ok()?;
            let to_send: Vec<_> = plan_file.plan.to_send().collect();
            let (files_sent, bytes_sent) = state.sent(&plan_file.plan);
            Some(ResumableUpload {
                id: id.to_string(),
                server: plan_file.server,
                user: plan_file.user,
                repo: plan_file.plan.repo.clone(),
                branch: plan_file.plan.branch.clone(),
                message: plan_file.message,
                files_total: to_send.len() as u32,
                files_sent,
                bytes_sent,
                bytes_total: to_send.iter().map(|(_, f)| f.size).sum(),
                started_unix: plan_file.started_unix,
            })
        })
        .collect();
    found.sort_by_key(|u| std::cmp::Reverse(u.started_unix));
    found
}

#[cfg(test)]
mod tests;

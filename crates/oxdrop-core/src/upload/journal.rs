//! What an upload has done so far, on disk, so an interrupted upload (app closed, computer
//! restarted, server gone) continues where it stopped instead of starting over.
//!
//! Two files per upload in the journal folder: `<id>.plan.json` (written once) and
//! `<id>.state.json` (rewritten atomically as files reach the server). The API key is never in
//! either.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{Error, ErrorCode, Result};
use crate::fs::write_atomic;
use crate::model::Author;
use crate::plan::{Plan, PlanRequest};
use crate::repo_ref::RepoRef;
use crate::server_url::ServerUrl;

const FORMAT: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PlanFile {
    pub format: u32,
    pub id: String,
    pub server: ServerUrl,
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

/// An interrupted upload, as the UI lists it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ResumableUpload {
    pub id: String,
    pub server: ServerUrl,
    pub repo: RepoRef,
    pub branch: String,
    pub message: String,
    pub files_total: u32,
    pub files_sent: u32,
    pub bytes_total: u64,
    /// Seconds since the epoch.
    pub started_unix: u64,
}

#[derive(Debug)]
pub(crate) struct Journal {
    dir: PathBuf,
    pub id: String,
    pub state: StateFile,
    last_write: Option<Instant>,
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
    pub(crate) fn create(dir: &Path, plan_file: &PlanFile) -> Result<Journal> {
        std::fs::create_dir_all(dir).map_err(|e| unwritable(dir, &e))?;
        let bytes = serde_json::to_vec(plan_file).map_err(Error::internal)?;
        write_atomic(&dir.join(format!("{}.plan.json", plan_file.id)), &bytes)
            .map_err(|e| unwritable(dir, &e))?;
        let mut journal = Journal {
            dir: dir.to_path_buf(),
            id: plan_file.id.clone(),
            state: StateFile {
                format: FORMAT,
                ..StateFile::default()
            },
            last_write: None,
        };
        journal.save(true)?;
        Ok(journal)
    }

    pub(crate) fn open(dir: &Path, id: &str) -> Result<(PlanFile, Journal)> {
        let plan_path = dir.join(format!("{id}.plan.json"));
        let state_path = dir.join(format!("{id}.state.json"));
        let missing = || {
            Error::new(
                ErrorCode::ResumeMismatch,
                "This interrupted upload can no longer be found on this computer. Start it again.",
            )
        };
        let plan_file: PlanFile = std::fs::read(&plan_path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(missing)?;
        let state: StateFile = std::fs::read(&state_path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(StateFile {
                format: FORMAT,
                ..StateFile::default()
            });
        if plan_file.format != FORMAT || state.format != FORMAT {
            return Err(missing());
        }
        Ok((
            plan_file,
            Journal {
                dir: dir.to_path_buf(),
                id: id.to_owned(),
                state,
                last_write: None,
            },
        ))
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
        write_atomic(&self.dir.join(format!("{}.state.json", self.id)), &bytes)
            .map_err(|e| unwritable(&self.dir, &e))?;
        self.last_write = Some(Instant::now());
        Ok(())
    }

    pub(crate) fn remove(self) {
        remove(&self.dir, &self.id);
    }
}

pub(crate) fn remove(dir: &Path, id: &str) {
    for suffix in ["plan.json", "state.json"] {
        let _ = std::fs::remove_file(dir.join(format!("{id}.{suffix}")));
    }
}

/// Interrupted uploads in the journal folder, newest first. Unreadable entries are skipped.
pub fn list_resumable(dir: &Path) -> Vec<ResumableUpload> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<ResumableUpload> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let id = name.strip_suffix(".plan.json")?.to_owned();
            let (plan_file, journal) = Journal::open(dir, &id).ok()?;
            let to_send: Vec<_> = plan_file.plan.to_send().collect();
            Some(ResumableUpload {
                id,
                server: plan_file.server,
                repo: plan_file.plan.repo.clone(),
                branch: plan_file.plan.branch.clone(),
                message: plan_file.message,
                files_total: to_send.len() as u32,
                files_sent: journal.state.staged.len() as u32,
                bytes_total: to_send.iter().map(|(_, f)| f.size).sum(),
                started_unix: plan_file.started_unix,
            })
        })
        .collect();
    found.sort_by_key(|u| std::cmp::Reverse(u.started_unix));
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::PlanTotals;
    use crate::remote_path::RemotePath;

    fn plan_file(id: &str) -> PlanFile {
        let repo = RepoRef::new("ns", "repo").unwrap();
        PlanFile {
            format: FORMAT,
            id: id.into(),
            server: ServerUrl::parse("http://127.0.0.1:1").unwrap(),
            request: PlanRequest {
                repo: repo.clone(),
                branch: "main".into(),
                dest: RemotePath::root(),
                sources: vec![],
                follow_links: false,
                ignore_patterns: vec![],
            },
            plan: Plan {
                repo,
                branch: "main".into(),
                dest: RemotePath::root(),
                base_commit: None,
                files: vec![],
                refused: vec![],
                excluded: vec![],
                notes: vec![],
                totals: PlanTotals::default(),
                default_message: "m".into(),
            },
            message: "m".into(),
            author: Author {
                name: "A".into(),
                email: "a@b.c".into(),
            },
            started_unix: 5,
        }
    }

    #[test]
    fn round_trips_and_lists() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::create(dir.path(), &plan_file("u1")).unwrap();
        j.state.workspace_id = Some("ws".into());
        j.state.staged.insert(3);
        j.save(true).unwrap();
        let (pf, j2) = Journal::open(dir.path(), "u1").unwrap();
        assert_eq!(pf.id, "u1");
        assert_eq!(j2.state.workspace_id.as_deref(), Some("ws"));
        assert!(j2.state.staged.contains(&3));
        let listed = list_resumable(dir.path());
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].files_sent, 1);
        j2.remove();
        assert!(list_resumable(dir.path()).is_empty());
        assert_eq!(
            Journal::open(dir.path(), "u1").unwrap_err().code,
            ErrorCode::ResumeMismatch
        );
    }

    #[test]
    fn unwritable_folder_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("not-a-folder");
        std::fs::write(&file, b"x").unwrap();
        let err = Journal::create(&file.join("uploads"), &plan_file("u2")).unwrap_err();
        assert_eq!(err.code, ErrorCode::ConfigUnwritable);
        assert!(err.message.contains("cannot save upload progress"));
    }
}

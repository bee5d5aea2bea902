//! What was uploaded from this computer: the last 500 uploads that ended (committed, failed,
//! cancelled, or stopped for a new review), newest first, in `history.json` in the data folder.
//! Found again by repository or file name; never holds a key.

use std::path::Path;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::Result;
use crate::fs::now_unix;
use crate::queue::{FailedSummary, Problem, QueuedUpload, UploadState};
use crate::remote_path::RemotePath;
use crate::repo_ref::RepoRef;
use crate::server_url::ServerUrl;
use crate::store::LockedJson;

const FORMAT: u32 = 1;
pub const HISTORY_MAX: usize = 500;

/// One upload that ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct HistoryEntry {
    pub id: String,
    pub account_id: String,
    pub server: ServerUrl,
    pub repo: RepoRef,
    pub branch: String,
    pub dest: RemotePath,
    pub folder: RemotePath,
    pub state: UploadState,
    pub message: String,
    pub started_unix: u64,
    pub finished_unix: u64,
    /// Files and bytes it set out to send.
    pub files: u32,
    pub bytes: u64,
    pub files_sent: u32,
    pub bytes_sent: u64,
    /// Its files' repository paths (the first 200; `files` says how many there were).
    pub file_names: Vec<RemotePath>,
    pub commit_id: Option<String>,
    pub web_url: Option<String>,
    pub folder_url: Option<String>,
    /// Files that did not make it into the commit.
    pub failed: Vec<FailedSummary>,
    /// Why it ended without a commit.
    pub problem: Option<Problem>,
}

impl HistoryEntry {
    /// The record of an upload of the list that ended.
    pub fn of(upload: &QueuedUpload) -> HistoryEntry {
        let outcome = upload.outcome.as_ref();
        let finished = upload.finished_unix.unwrap_or_else(now_unix);
        HistoryEntry {
            id: upload.id.clone(),
            account_id: upload.account_id.clone(),
            server: upload.server.clone(),
            repo: upload.repo.clone(),
            branch: upload.branch.clone(),
            dest: upload.dest.clone(),
            folder: upload.folder.clone(),
            state: upload.state,
            message: upload.message.clone(),
            started_unix: upload.started_unix.unwrap_or(upload.created_unix),
            finished_unix: finished,
            files: upload.files,
            bytes: upload.bytes,
            files_sent: outcome.map_or(0, |o| o.files_sent),
            bytes_sent: outcome.map_or(0, |o| o.bytes_sent),
            file_names: upload.file_names.clone(),
            commit_id: outcome.map(|o| o.commit_id.clone()),
            web_url: outcome.map(|o| o.web_url.clone()),
            folder_url: outcome.map(|o| o.folder_url.clone()),
            failed: outcome.map(|o| o.failed.clone()).unwrap_or_default(),
            problem: upload.problem.clone(),
        }
    }

    /// Seconds from the first start to the end.
    pub fn duration_secs(&self) -> u64 {
        self.finished_unix.saturating_sub(self.started_unix)
    }

    /// The repository (`namespace/name`) or one of its file paths contains every word of
    /// `query`, ignoring case.
    pub fn matches(&self, query: &str) -> bool {
        let repo = self.repo.to_string().to_lowercase();
        let names: Vec<String> = self
            .file_names
            .iter()
            .map(|n| n.as_str().to_lowercase())
            .collect();
        query
            .to_lowercase()
            .split_whitespace()
            .all(|word| repo.contains(word) || names.iter().any(|n| n.contains(word)))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    pub format: u32,
    /// Newest first.
    pub entries: Vec<HistoryEntry>,
}

impl Default for History {
    fn default() -> Self {
        History {
            format: FORMAT,
            entries: Vec::new(),
        }
    }
}

impl History {
    /// Adds (or replaces) an entry at the top, keeping the newest [`HISTORY_MAX`].
    pub fn record(&mut self, entry: HistoryEntry) {
        self.entries.retain(|e| e.id != entry.id);
        self.entries.insert(0, entry);
        self.entries.truncate(HISTORY_MAX);
    }

    /// Entries matching `query` (all of them for an empty one), newest first.
    pub fn search(&self, query: &str) -> Vec<HistoryEntry> {
        self.entries
            .iter()
            .filter(|e| e.matches(query))
            .cloned()
            .collect()
    }
}

/// The history on disk.
#[derive(Debug, Clone)]
pub struct HistoryStore {
    file: LockedJson,
}

impl HistoryStore {
    pub fn new(data_dir: &Path) -> HistoryStore {
        HistoryStore {
            file: LockedJson::new(data_dir.join("history.json"), "the upload history"),
        }
    }

    /// In the OS data folder (or `$OXDROP_DATA_DIR`).
    pub fn default_location() -> Result<HistoryStore> {
        crate::app_dirs::required_data_dir().map(|d| HistoryStore::new(&d))
    }

    pub fn load(&self) -> History {
        self.file.load()
    }

    pub fn record(&self, entry: HistoryEntry) -> Result<()> {
        self.file
            .update(|h: &mut History| {
                h.record(entry);
                Ok(())
            })
            .map(|_| ())
    }

    pub fn search(&self, query: &str) -> Vec<HistoryEntry> {
        self.load().search(query)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Plan, PlanRequest};
    use crate::queue::Origin;

    fn upload(id: &str, repo: &str, files: &[&str]) -> QueuedUpload {
        let (ns, name) = repo.split_once('/').unwrap();
        let repo = RepoRef::new(ns, name).unwrap();
        let plan = Plan::of_new_files(repo.clone(), RemotePath::root(), files, 10);
        let request = PlanRequest {
            repo,
            branch: "main".into(),
            dest: RemotePath::root(),
            sources: vec![],
            follow_links: false,
            ignore_patterns: vec![],
            contents: None,
        };
        let server = ServerUrl::parse("http://127.0.0.1:1").unwrap();
        let mut u = QueuedUpload::new(id, "ada@x", &server, &request, &plan, "m", Origin::Manual);
        u.state = UploadState::Done;
        u.started_unix = Some(40);
        u.finished_unix = Some(100);
        u
    }

    #[test]
    fn keeps_the_newest_five_hundred_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let store = HistoryStore::new(dir.path());
        let mut h = History::default();
        for n in 0..HISTORY_MAX + 20 {
            h.record(HistoryEntry::of(&upload(
                &format!("u{n}"),
                "ada/photos",
                &["a.txt"],
            )));
        }
        assert_eq!(h.entries.len(), HISTORY_MAX);
        assert_eq!(h.entries[0].id, format!("u{}", HISTORY_MAX + 19));
        assert_eq!(h.entries.last().unwrap().id, "u20");
        // Recorded twice (a resumed upload): one entry, at the top.
        h.record(HistoryEntry::of(&upload("u100", "ada/photos", &["a.txt"])));
        assert_eq!(h.entries.len(), HISTORY_MAX);
        assert_eq!(h.entries[0].id, "u100");
        assert_eq!(h.entries.iter().filter(|e| e.id == "u100").count(), 1);

        store
            .record(HistoryEntry::of(&upload("one", "ada/photos", &["x.txt"])))
            .unwrap();
        store
            .record(HistoryEntry::of(&upload("two", "bo/sounds", &["y.wav"])))
            .unwrap();
        let ids: Vec<String> = store.load().entries.into_iter().map(|e| e.id).collect();
        assert_eq!(ids, ["two", "one"], "on disk, newest first");
    }

    #[test]
    fn found_by_repository_or_file_name_ignoring_case() {
        let mut h = History::default();
        h.record(HistoryEntry::of(&upload(
            "cats",
            "ada/photos",
            &["Summer 2024/Cat.JPG", "notes.md"],
        )));
        h.record(HistoryEntry::of(&upload(
            "wav",
            "bo/sounds",
            &["takes/take-1.wav"],
        )));
        let ids = |q: &str| h.search(q).into_iter().map(|e| e.id).collect::<Vec<_>>();
        assert_eq!(ids(""), ["wav", "cats"]);
        assert_eq!(ids("photos"), ["cats"]);
        assert_eq!(ids("ADA/PHO"), ["cats"]);
        assert_eq!(ids("cat.jpg"), ["cats"]);
        assert_eq!(ids("take-1"), ["wav"]);
        assert_eq!(ids("sounds take"), ["wav"], "every word must match");
        assert!(ids("dogs").is_empty());
        assert_eq!(h.entries[0].duration_secs(), 60);
    }
}

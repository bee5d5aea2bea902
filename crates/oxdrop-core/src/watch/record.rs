//! A watch's memory, in the data folder (`watches/<id>/state.json`): how each file looked when the
//! watch last dealt with it and what the branch got from the watch, so a restart knows what
//! changed while it was down, and a file someone else changed on the branch is told apart from
//! one the watch put there. Its interrupted upload's journal sits beside it (`uploads/`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Resolution;
use super::scan::Seen;
use super::status::{Conflict, LastCommit};
use crate::error::{Error, ErrorCode, Result, describe_io_error};
use crate::fs::{now_unix, write_atomic};

const FORMAT: u32 = 1;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FileRecord {
    /// How the file looked when the watch last dealt with it (uploaded it, found it unchanged,
    /// or left it out); `None`: not dealt with yet.
    #[serde(rename = "s", default, skip_serializing_if = "Option::is_none")]
    pub seen: Option<Seen>,
    /// The content (XXH3-128) the watch last put on the branch at this path, or found there
    /// already; `None`: none yet.
    #[serde(rename = "h", default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
}

/// A file left alone because someone else changed it on the branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ConflictRecord {
    pub conflict: Conflict,
    /// What the branch has now (what "upload mine" overwrites).
    pub server_hash: Option<String>,
    /// The local file when the conflict was found; once it changes again, the watch looks again.
    pub seen: Option<Seen>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct WatchRecord {
    pub format: u32,
    /// Every file the watch has dealt with, by its path relative to the folder.
    pub files: BTreeMap<String, FileRecord>,
    /// The files of the upload in flight, as they will be recorded once it is committed.
    #[serde(default)]
    pub inflight: BTreeMap<String, FileRecord>,
    #[serde(default)]
    pub conflicts: BTreeMap<String, ConflictRecord>,
    #[serde(default)]
    pub last_commit: Option<LastCommit>,
}

impl Default for WatchRecord {
    fn default() -> Self {
        WatchRecord {
            format: FORMAT,
            files: BTreeMap::new(),
            inflight: BTreeMap::new(),
            conflicts: BTreeMap::new(),
            last_commit: None,
        }
    }
}

/// `<data>/watches/<id>`.
pub(crate) fn watch_dir(data_dir: &Path, id: &str) -> PathBuf {
    data_dir.join("watches").join(id)
}

/// Where a watch's interrupted upload is journaled (only its own, so it is found on restart).
pub(crate) fn journal_dir(dir: &Path) -> PathBuf {
    dir.join("uploads")
}

impl WatchRecord {
    /// The record in `dir`; a fresh one when there is none. A damaged one is set aside: the
    /// watch then starts afresh, and files the branch already has are found unchanged.
    pub(crate) fn load(dir: &Path) -> WatchRecord {
        let path = dir.join("state.json");
        let Ok(bytes) = std::fs::read(&path) else {
            return WatchRecord::default();
        };
        match serde_json::from_slice::<WatchRecord>(&bytes) {
            Ok(r) if r.format == FORMAT => r,
            _ => {
                let aside = path.with_extension(format!("damaged-{}.json", now_unix()));
                tracing::warn!(path = %path.display(), "watch state unreadable; set aside");
                let _ = std::fs::rename(&path, aside);
                WatchRecord::default()
            }
        }
    }

    pub(crate) fn save(&self, dir: &Path) -> Result<()> {
        let fail = |e: std::io::Error| {
            Error::new(
                ErrorCode::ConfigUnwritable,
                format!(
                    "OxDrop cannot save what it uploaded from this folder in {}: {}. Free some space or fix the folder's permissions.",
                    dir.display(),
                    describe_io_error(&e)
                ),
            )
            .with_detail(e.to_string())
        };
        std::fs::create_dir_all(dir).map_err(fail)?;
        let bytes = serde_json::to_vec(self).map_err(Error::internal)?;
        write_atomic(&dir.join("state.json"), &bytes).map_err(fail)
    }

    /// The content the branch got from the watch at `rel`: committed, or in the upload whose
    /// answer may have been lost.
    pub(crate) fn ours(&self, rel: &str) -> (Option<&str>, Option<&str>) {
        (
            self.files.get(rel).and_then(|f| f.hash.as_deref()),
            self.inflight.get(rel).and_then(|f| f.hash.as_deref()),
        )
    }

    /// These files of the upload in flight are on the branch now: they become the record.
    pub(crate) fn land<'a>(&mut self, rels: impl IntoIterator<Item = &'a String>) {
        for rel in rels {
            if let Some(file) = self.inflight.remove(rel) {
                self.files.insert(rel.clone(), file);
            }
            self.conflicts.remove(rel);
        }
    }

    /// The watch dealt with a file without sending it: as it looks, and what the branch has.
    pub(crate) fn dealt(&mut self, rel: &str, seen: Option<Seen>, hash: Option<String>) {
        self.inflight.remove(rel);
        self.conflicts.remove(rel);
        self.files.insert(rel.to_owned(), FileRecord { seen, hash });
    }
}

impl WatchRecord {
    /// Settles conflicts (those at `paths`, or all): "upload mine" makes what the branch has
    /// now the base the next upload replaces; "keep theirs" takes the branch's version as dealt
    /// with, until the local file changes again. Returns the files concerned.
    pub(crate) fn resolve(
        &mut self,
        resolution: Resolution,
        paths: Option<&[String]>,
    ) -> Vec<String> {
        let chosen: Vec<String> = self
            .conflicts
            .keys()
            .filter(|rel| paths.is_none_or(|p| p.contains(rel)))
            .cloned()
            .collect();
        for rel in &chosen {
            let Some(c) = self.conflicts.remove(rel) else {
                continue;
            };
            self.inflight.remove(rel);
            let entry = self.files.entry(rel.clone()).or_default();
            entry.hash = c.server_hash;
            match resolution {
                // Not dealt with: the file (or its deletion) goes in the next commit.
                Resolution::UploadMine if c.seen.is_some() => entry.seen = None,
                Resolution::UploadMine => {}
                Resolution::KeepTheirs => entry.seen = c.seen,
            }
        }
        chosen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(size: u64) -> Option<Seen> {
        Some(Seen {
            size,
            mtime_ns: Some(1_700_000_000_123_456_789),
        })
    }

    #[test]
    fn resolving_sets_the_base_or_takes_theirs() {
        use super::super::status::{Conflict, ConflictKind};
        use crate::remote_path::RemotePath;
        let conflict = |rel: &str, local: Option<Seen>| ConflictRecord {
            conflict: Conflict {
                path: rel.into(),
                remote: RemotePath::parse(rel).unwrap(),
                kind: ConflictKind::ChangedOnServer,
                commit: Some("c9".into()),
            },
            server_hash: Some("theirs".into()),
            seen: local,
        };
        let mut r = WatchRecord::default();
        r.files.insert(
            "a".into(),
            FileRecord {
                seen: seen(1),
                hash: Some("ours".into()),
            },
        );
        r.files.insert(
            "gone".into(),
            FileRecord {
                seen: seen(2),
                hash: Some("ours".into()),
            },
        );
        r.conflicts.insert("a".into(), conflict("a", seen(3)));
        r.conflicts.insert("b".into(), conflict("b", seen(4)));
        r.conflicts.insert("gone".into(), conflict("gone", None));
        assert_eq!(
            r.resolve(Resolution::KeepTheirs, Some(&["b".to_owned()])),
            vec!["b"]
        );
        assert_eq!(
            r.files["b"],
            FileRecord {
                seen: seen(4),
                hash: Some("theirs".into())
            }
        );
        assert_eq!(r.resolve(Resolution::UploadMine, None), vec!["a", "gone"]);
        assert!(r.conflicts.is_empty());
        // Not dealt with, so it is sent, over what the branch has now.
        assert_eq!(
            r.files["a"],
            FileRecord {
                seen: None,
                hash: Some("theirs".into())
            }
        );
        // Still dealt with as it was, so its deletion is what goes.
        assert_eq!(
            r.files["gone"],
            FileRecord {
                seen: seen(2),
                hash: Some("theirs".into())
            }
        );
    }

    #[test]
    fn round_trips_and_damaged_records_start_afresh() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = watch_dir(tmp.path(), "w1");
        assert_eq!(WatchRecord::load(&dir), WatchRecord::default());
        let mut r = WatchRecord::default();
        r.files.insert(
            "a/b.csv".into(),
            FileRecord {
                seen: seen(5),
                hash: Some("abc".into()),
            },
        );
        r.save(&dir).unwrap();
        assert_eq!(WatchRecord::load(&dir), r);
        let text = std::fs::read_to_string(dir.join("state.json")).unwrap();
        assert!(
            text.contains(r#""a/b.csv":{"s":{"n":5,"t":1700000000123456789},"h":"abc"}"#),
            "compact, and exact to the nanosecond: {text}"
        );
        std::fs::write(dir.join("state.json"), b"{oops").unwrap();
        assert_eq!(WatchRecord::load(&dir), WatchRecord::default());
    }

    #[test]
    fn a_committed_upload_becomes_the_record_but_failed_files_do_not() {
        let mut r = WatchRecord::default();
        let file = |h: &str| FileRecord {
            seen: seen(1),
            hash: Some(h.into()),
        };
        r.files.insert("a".into(), file("old"));
        r.inflight.insert("a".into(), file("new"));
        r.inflight.insert("b".into(), file("b1"));
        assert_eq!(r.ours("a"), (Some("old"), Some("new")));
        r.land(&["a".to_owned()]);
        assert_eq!(r.ours("a"), (Some("new"), None));
        assert!(!r.files.contains_key("b"), "b failed: not on the branch");
        assert_eq!(
            r.ours("b"),
            (None, Some("b1")),
            "but maybe, if its commit landed unseen"
        );
    }
}

//! What changed in a watched folder since the watch last dealt with it, and what has settled:
//! a file is ready once its size and date have stayed the same for the settle period, so a file
//! still being written is never uploaded half-written.

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::record::WatchRecord;
use super::scan::{Found, Seen, Snapshot};

/// A file whose state on disk differs from what the watch last dealt with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Change {
    /// What it looks like now; `None`: deleted.
    pub now: Option<Seen>,
    /// When it was last seen to change.
    pub since: Instant,
    /// When it started waiting.
    pub first: Instant,
}

#[derive(Debug, Default)]
pub(super) struct Changes {
    pub delta: BTreeMap<String, Change>,
    /// When the last change happened; `None` with changes waiting: long ago.
    pub last_change: Option<Instant>,
}

impl Changes {
    /// Compares what a file looks like now (seen at `at`) with what the watch last dealt with.
    pub(super) fn observe(
        &mut self,
        record: &mut WatchRecord,
        rel: String,
        now: Option<Seen>,
        at: Instant,
    ) {
        let dealt = record.files.get(&rel).and_then(|f| f.seen);
        if now == dealt {
            self.delta.remove(&rel);
            return;
        }
        let on_branch = record.files.get(&rel).is_some_and(|f| f.hash.is_some());
        if now.is_none() && !on_branch {
            // Gone before it was ever uploaded: nothing left to do about it.
            self.delta.remove(&rel);
            record.files.remove(&rel);
            record.conflicts.remove(&rel);
            return;
        }
        if self.delta.get(&rel).is_some_and(|c| c.now == now) {
            return;
        }
        let first = self.delta.get(&rel).map_or(at, |c| c.first);
        self.delta.insert(
            rel,
            Change {
                now,
                since: at,
                first,
            },
        );
        self.last_change = Some(self.last_change.map_or(at, |t| t.max(at)));
    }

    /// What is at `rel` now: a file, a folder (everything under it counts, and what was under
    /// it before and is not any more is gone), or nothing.
    pub(super) fn found(
        &mut self,
        record: &mut WatchRecord,
        rel: String,
        found: Found,
        at: Instant,
    ) {
        match found {
            Found::File(seen) => self.observe(record, rel, Some(seen), at),
            Found::Folder(files) => {
                self.gone_under(record, &rel, |r| files.contains_key(r), at);
                for (r, seen) in files {
                    self.observe(record, r, Some(seen), at);
                }
            }
            Found::Nothing => {
                self.observe(record, rel.clone(), None, at);
                self.gone_under(record, &rel, |_| false, at);
            }
        }
    }

    /// Everything known under folder `rel` that `still_there` does not keep is gone.
    fn gone_under(
        &mut self,
        record: &mut WatchRecord,
        rel: &str,
        still_there: impl Fn(&str) -> bool,
        at: Instant,
    ) {
        let prefix = format!("{rel}/");
        let under = |k: &&String| k.starts_with(&prefix);
        let known: Vec<String> = record
            .files
            .range(prefix.clone()..)
            .map(|(k, _)| k)
            .take_while(under)
            .chain(
                self.delta
                    .range(prefix.clone()..)
                    .map(|(k, _)| k)
                    .take_while(under),
            )
            .filter(|k| !still_there(k))
            .cloned()
            .collect();
        for k in known {
            self.observe(record, k, None, at);
        }
    }

    /// The whole folder as a rescan found it. Each changed file settles from now, but the quiet
    /// period counts from when files changed by their dates: a restart need not wait out one
    /// that passed while nothing watched.
    pub(super) fn rescanned(&mut self, record: &mut WatchRecord, files: Snapshot, now: Instant) {
        let wall = SystemTime::now();
        let gone: Vec<String> = record
            .files
            .keys()
            .chain(self.delta.keys())
            .filter(|k| !files.contains_key(*k))
            .cloned()
            .collect();
        // When they went is not known: they do not make the quiet period start again.
        let before = self.last_change;
        for rel in gone {
            self.observe(record, rel, None, now);
        }
        self.last_change = before;
        for (rel, seen) in files {
            let before = self.last_change;
            self.observe(record, rel, Some(seen), now);
            if self.last_change == before {
                continue;
            }
            let changed_at = match seen.mtime_ns {
                Some(ns) => {
                    let date = UNIX_EPOCH + Duration::from_nanos(ns.min(u64::MAX as u128) as u64);
                    match wall.duration_since(date) {
                        Ok(ago) => now.checked_sub(ago),
                        Err(_) => Some(now),
                    }
                }
                None => Some(now),
            };
            self.last_change = match (before, changed_at) {
                (b, None) => b,
                (None, Some(c)) => Some(c),
                (Some(b), Some(c)) => Some(b.max(c)),
            };
        }
    }

    /// Left alone as someone else's change on the branch, while the file stays as it was then.
    pub(super) fn held(record: &WatchRecord, rel: &str, now: Option<Seen>) -> bool {
        record.conflicts.get(rel).is_some_and(|c| c.seen == now)
    }

    /// Changed files that have settled, as they were seen.
    pub(super) fn ready(
        &self,
        record: &WatchRecord,
        settle: Duration,
        now: Instant,
    ) -> Vec<(String, Seen)> {
        self.delta
            .iter()
            .filter_map(|(rel, c)| {
                let seen = c.now?;
                (now.duration_since(c.since) >= settle && !Self::held(record, rel, c.now))
                    .then(|| (rel.clone(), seen))
            })
            .collect()
    }

    /// Files deleted here that the watch uploaded: what mirroring removes (after they have
    /// stayed deleted for `settle`, when `now` is given).
    pub(super) fn deleted(
        &self,
        record: &WatchRecord,
        settle: Duration,
        now: Option<Instant>,
    ) -> Vec<String> {
        self.delta
            .iter()
            .filter(|(rel, c)| {
                c.now.is_none()
                    && now.is_none_or(|now| now.duration_since(c.since) >= settle)
                    && record.files.get(*rel).is_some_and(|f| f.hash.is_some())
                    && !Self::held(record, rel, None)
            })
            .map(|(rel, _)| rel.clone())
            .collect()
    }

    /// Files changed here and not uploaded yet (not counting conflicts).
    pub(super) fn waiting(&self, record: &WatchRecord) -> u32 {
        self.delta
            .iter()
            .filter(|(rel, c)| c.now.is_some() && !Self::held(record, rel, c.now))
            .count() as u32
    }

    /// Files that changed within `window`: still to be looked at again.
    pub(super) fn settling(&self, window: Duration, now: Instant) -> Vec<String> {
        self.delta
            .iter()
            .filter(|(_, c)| c.now.is_some() && now.duration_since(c.since) <= window)
            .map(|(rel, _)| rel.clone())
            .collect()
    }

    /// When the next deletion still settling has stayed deleted for `settle` (a deletion is
    /// not looked at again, so nothing else would wake the watch for it).
    pub(super) fn next_settled_deletion(&self, settle: Duration, now: Instant) -> Option<Instant> {
        self.delta
            .values()
            .filter(|c| c.now.is_none())
            .map(|c| c.since + settle)
            .filter(|at| *at > now)
            .min()
    }

    /// How long until every change waiting now has stayed the same for `settle`.
    pub(super) fn settling_left(&self, settle: Duration, now: Instant) -> Duration {
        self.delta
            .values()
            .map(|c| (c.since + settle).saturating_duration_since(now))
            .max()
            .unwrap_or_default()
    }

    pub(super) fn oldest(&self) -> Option<Instant> {
        self.delta.values().map(|c| c.first).min()
    }
}

#[cfg(test)]
mod tests {
    use super::super::record::FileRecord;
    use super::*;

    const SETTLE: Duration = Duration::from_secs(3);

    fn seen(size: u64, t: u128) -> Option<Seen> {
        Some(Seen {
            size,
            mtime_ns: Some(t),
        })
    }

    fn record_with(rel: &str, s: Option<Seen>, hash: Option<&str>) -> WatchRecord {
        let mut r = WatchRecord::default();
        r.files.insert(
            rel.into(),
            FileRecord {
                seen: s,
                hash: hash.map(Into::into),
            },
        );
        r
    }

    #[test]
    fn a_deletion_still_settling_says_when_it_is_ready() {
        let t0 = Instant::now();
        let hash = Some("h1");
        let mut record = record_with("a.csv", seen(3, 1), hash);
        let mut c = Changes::default();
        c.observe(&mut record, "a.csv".into(), None, t0);
        assert!(c.deleted(&record, SETTLE, Some(t0)).is_empty());
        assert_eq!(c.next_settled_deletion(SETTLE, t0), Some(t0 + SETTLE));
        let later = t0 + SETTLE;
        assert_eq!(c.deleted(&record, SETTLE, Some(later)), ["a.csv"]);
        assert_eq!(
            c.next_settled_deletion(SETTLE, later),
            None,
            "ready: no wait"
        );
    }

    #[test]
    fn a_file_is_ready_only_once_it_stops_changing() {
        let t0 = Instant::now();
        let mut record = WatchRecord::default();
        let mut c = Changes::default();
        // Written over ten seconds: every look finds it bigger.
        for i in 0..10u64 {
            let at = t0 + Duration::from_secs(i);
            c.observe(
                &mut record,
                "slow.bin".into(),
                seen(i * 100, u128::from(i)),
                at,
            );
            assert!(
                c.ready(&record, SETTLE, at + Duration::from_millis(900))
                    .is_empty()
            );
        }
        let last = t0 + Duration::from_secs(9);
        // Looked at again, unchanged: the time it settles counts from its last change.
        c.observe(
            &mut record,
            "slow.bin".into(),
            seen(900, 9),
            last + Duration::from_secs(1),
        );
        assert!(
            c.ready(&record, SETTLE, last + Duration::from_secs(2))
                .is_empty()
        );
        assert_eq!(
            c.ready(&record, SETTLE, last + SETTLE),
            vec![("slow.bin".to_owned(), seen(900, 9).unwrap())]
        );
        assert_eq!(c.oldest(), Some(t0), "waiting since its first change");
        assert_eq!(c.last_change, Some(last));
    }

    #[test]
    fn back_as_it_was_is_no_change_and_deletions_need_an_upload_to_undo() {
        let t = Instant::now();
        let mut record = record_with("a.csv", seen(5, 1), Some("h1"));
        let mut c = Changes::default();
        c.observe(&mut record, "a.csv".into(), seen(6, 2), t);
        assert_eq!(c.waiting(&record), 1);
        c.observe(&mut record, "a.csv".into(), seen(5, 1), t);
        assert_eq!(c.waiting(&record), 0, "as the watch last dealt with it");
        c.observe(&mut record, "a.csv".into(), None, t);
        assert_eq!(c.deleted(&record, SETTLE, None), vec!["a.csv".to_owned()]);
        assert!(
            c.deleted(&record, SETTLE, Some(t)).is_empty(),
            "not settled yet"
        );
        // A file that came and went before it was ever uploaded leaves nothing behind.
        c.observe(&mut record, "tmp.part".into(), seen(1, 3), t);
        c.observe(&mut record, "tmp.part".into(), None, t);
        assert!(!c.delta.contains_key("tmp.part"));
    }

    #[test]
    fn a_folder_found_or_gone_counts_for_everything_under_it() {
        let t = Instant::now();
        let mut record = record_with("runs/old.bin", seen(1, 1), Some("h"));
        let mut c = Changes::default();
        let mut moved_in = Snapshot::new();
        moved_in.insert("runs/new.bin".into(), seen(2, 2).unwrap());
        c.found(&mut record, "runs".into(), Found::Folder(moved_in), t);
        assert_eq!(c.waiting(&record), 1);
        assert_eq!(
            c.deleted(&record, SETTLE, None),
            vec!["runs/old.bin".to_owned()]
        );
        c.found(&mut record, "runs".into(), Found::Nothing, t);
        assert_eq!(c.waiting(&record), 0);
        assert!(c.delta.contains_key("runs/old.bin"));
    }

    #[test]
    fn a_rescan_finds_what_changed_while_nobody_watched() {
        let now = Instant::now();
        let mut record = record_with("same.txt", seen(1, 10), Some("h"));
        record.files.insert(
            "deleted.txt".into(),
            FileRecord {
                seen: seen(1, 10),
                hash: Some("h".into()),
            },
        );
        record.files.insert(
            "edited.txt".into(),
            FileRecord {
                seen: seen(1, 10),
                hash: Some("h".into()),
            },
        );
        let mut files = Snapshot::new();
        files.insert("same.txt".into(), seen(1, 10).unwrap());
        files.insert("edited.txt".into(), seen(2, 20).unwrap());
        files.insert("new.txt".into(), seen(3, 30).unwrap());
        let mut c = Changes::default();
        c.rescanned(&mut record, files, now);
        let changed: Vec<&str> = c.delta.keys().map(String::as_str).collect();
        assert_eq!(changed, vec!["deleted.txt", "edited.txt", "new.txt"]);
        // Their dates are from 1970: the quiet period is long over.
        let quiet_for = c
            .last_change
            .map_or(Duration::MAX, |t| now.duration_since(t));
        assert!(quiet_for > Duration::from_secs(3600), "{quiet_for:?}");
        assert!(
            c.ready(&record, SETTLE, now).is_empty(),
            "each file still settles"
        );
        assert_eq!(c.ready(&record, SETTLE, now + SETTLE).len(), 2);
    }
}

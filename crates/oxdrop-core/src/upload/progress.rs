//! Progress of an upload as events, throttled for a UI: counters are updated lock-free by the
//! workers, and a ticker publishes a snapshot (with only the files whose state changed) at most
//! every `interval`.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use ts_rs::TS;

use crate::sync::lock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Checking files and opening the upload on the server.
    Preparing,
    Sending,
    /// Everything is on the server; making the commit.
    Committing,
    /// Cleaning up after a cancel.
    Cancelling,
    Finished,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum FileState {
    Waiting,
    /// Reading the file to compute its fingerprint (large files).
    Hashing,
    Sending,
    /// On the server, waiting for the commit.
    Sent,
    /// Already on the branch with the same content.
    Unchanged,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct FileUpdate {
    /// Index into the plan's `files`.
    pub index: u32,
    pub state: FileState,
    /// Why it failed, for `Failed`.
    pub message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct ProgressSnapshot {
    /// The id to resume this upload by, should it be interrupted; `None` when it cannot be.
    pub upload_id: Option<String>,
    pub phase: Phase,
    /// Files to send that are on the server. Unchanged files are neither done nor in the total.
    pub files_done: u32,
    /// Files to send (new or overwritten).
    pub files_total: u32,
    pub files_failed: u32,
    pub bytes_done: u64,
    pub bytes_total: u64,
    /// Recent speed, averaged over the last few seconds.
    pub bytes_per_sec: u64,
    pub eta_secs: Option<u64>,
    /// Files whose state changed since the previous snapshot.
    pub files: Vec<FileUpdate>,
    /// A passing condition worth showing, e.g. "Connection lost, retrying…".
    pub notice: Option<String>,
}

/// Receives progress. Called from a background task; keep it quick.
pub trait ProgressSink: Send + Sync {
    fn progress(&self, snapshot: ProgressSnapshot);
}

impl<F: Fn(ProgressSnapshot) + Send + Sync> ProgressSink for F {
    fn progress(&self, snapshot: ProgressSnapshot) {
        self(snapshot)
    }
}

/// Discards progress (scripts that only want the result).
#[derive(Debug, Clone, Copy)]
pub struct NoProgress;

impl ProgressSink for NoProgress {
    fn progress(&self, _: ProgressSnapshot) {}
}

#[derive(Debug)]
pub(crate) struct Tracker {
    files_total: u32,
    bytes_total: u64,
    bytes_done: AtomicU64,
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    upload_id: Option<String>,
    phase: Phase,
    /// Each file's latest state: the done and failed counts follow from it, so a file told
    /// twice counts once, and an unchanged file never counts as sent.
    states: HashMap<u32, FileState>,
    files_done: u32,
    files_failed: u32,
    changed: BTreeMap<u32, FileUpdate>,
    notice: Option<String>,
    dirty: bool,
    samples: VecDeque<(Instant, u64)>,
}

impl Tracker {
    pub(crate) fn new(files_total: u32, bytes_total: u64) -> Arc<Tracker> {
        Arc::new(Tracker {
            files_total,
            bytes_total,
            bytes_done: AtomicU64::new(0),
            inner: Mutex::new(Inner {
                upload_id: None,
                phase: Phase::Preparing,
                states: HashMap::new(),
                files_done: 0,
                files_failed: 0,
                changed: BTreeMap::new(),
                notice: None,
                dirty: true,
                samples: VecDeque::new(),
            }),
        })
    }

    fn with<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        let mut inner = lock(&self.inner);
        f(&mut inner)
    }

    /// Every snapshot names the journaled upload, so the caller knows which one to resume.
    pub(crate) fn upload_id(&self, id: String) {
        self.with(|i| {
            i.upload_id = Some(id);
            i.dirty = true;
        });
    }

    pub(crate) fn phase(&self, phase: Phase) {
        self.with(|i| {
            i.phase = phase;
            i.dirty = true;
        });
    }

    pub(crate) fn notice(&self, notice: Option<String>) {
        self.with(|i| {
            if i.notice != notice {
                i.notice = notice;
                i.dirty = true;
            }
        });
    }

    pub(crate) fn file(&self, index: u32, state: FileState) {
        self.file_with(index, state, None);
    }

    pub(crate) fn file_with(&self, index: u32, state: FileState, message: Option<String>) {
        self.with(|i| {
            let before = i.states.insert(index, state);
            let was = |s: FileState| u32::from(before == Some(s));
            let is = |s: FileState| u32::from(state == s);
            i.files_done = (i.files_done + is(FileState::Sent)) - was(FileState::Sent);
            i.files_failed = (i.files_failed + is(FileState::Failed)) - was(FileState::Failed);
            i.changed.insert(
                index,
                FileUpdate {
                    index,
                    state,
                    message,
                },
            );
            i.dirty = true;
        });
    }

    pub(crate) fn add_bytes(&self, n: u64) {
        self.bytes_done.fetch_add(n, Ordering::Relaxed);
    }

    /// Takes back bytes counted for an attempt that failed and will be sent again.
    pub(crate) fn sub_bytes(&self, n: u64) {
        let _ = self
            .bytes_done
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| {
                Some(b.saturating_sub(n))
            });
    }

    pub(crate) fn bytes_done(&self) -> u64 {
        self.bytes_done.load(Ordering::Relaxed)
    }

    /// A snapshot if anything changed since the last one (or always, when `force`).
    pub(crate) fn snapshot(&self, force: bool) -> Option<ProgressSnapshot> {
        let bytes_done = self.bytes_done().min(self.bytes_total);
        let now = Instant::now();
        self.with(|i| {
            let moved = i.samples.back().is_none_or(|(_, b)| *b != bytes_done);
            if !(force || i.dirty || moved) {
                return None;
            }
            // Bytes taken back after a failed attempt restart the speed estimate.
            if i.samples.back().is_some_and(|(_, b)| *b > bytes_done) {
                i.samples.clear();
            }
            i.samples.push_back((now, bytes_done));
            while i.samples.len() > 2
                && i.samples
                    .front()
                    .is_some_and(|(t, _)| now.duration_since(*t) > Duration::from_secs(4))
            {
                i.samples.pop_front();
            }
            let bytes_per_sec = match (i.samples.front(), i.samples.back()) {
                (Some((t0, b0)), Some((t1, b1))) if t1 > t0 => {
                    let secs = t1.duration_since(*t0).as_secs_f64();
                    if secs >= 0.2 {
                        (b1.saturating_sub(*b0) as f64 / secs) as u64
                    } else {
                        0
                    }
                }
                _ => 0,
            };
            let left = self.bytes_total.saturating_sub(bytes_done);
            let eta_secs = (bytes_per_sec > 0 && i.phase == Phase::Sending)
                .then(|| left.div_ceil(bytes_per_sec));
            i.dirty = false;
            Some(ProgressSnapshot {
                upload_id: i.upload_id.clone(),
                phase: i.phase,
                files_done: i.files_done,
                files_total: self.files_total,
                files_failed: i.files_failed,
                bytes_done,
                bytes_total: self.bytes_total,
                bytes_per_sec,
                eta_secs,
                files: std::mem::take(&mut i.changed).into_values().collect(),
                notice: i.notice.clone(),
            })
        })
    }
}

/// Publishes snapshots every `interval` until dropped; a final one is sent by the engine.
pub(crate) fn spawn_ticker(
    tracker: Arc<Tracker>,
    sink: Arc<dyn ProgressSink>,
    interval: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Some(s) = tracker.snapshot(false) {
                sink.progress(s);
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_carry_only_changes_and_skip_when_idle() {
        let t = Tracker::new(3, 300);
        let first = t.snapshot(false).unwrap();
        assert_eq!(first.phase, Phase::Preparing);
        assert!(first.files.is_empty());
        assert!(t.snapshot(false).is_none(), "nothing changed");

        t.phase(Phase::Sending);
        t.file(0, FileState::Sending);
        t.file(0, FileState::Sent);
        t.file(1, FileState::Sending);
        t.add_bytes(100);
        let s = t.snapshot(false).unwrap();
        assert_eq!(s.files.len(), 2, "one update per file, the latest");
        assert_eq!(
            s.files[0],
            FileUpdate {
                index: 0,
                state: FileState::Sent,
                message: None
            }
        );
        assert_eq!((s.files_done, s.bytes_done), (1, 100));

        t.sub_bytes(500);
        assert_eq!(t.bytes_done(), 0, "never negative");
        assert_eq!(
            t.snapshot(true).unwrap().bytes_per_sec,
            0,
            "going back is not speed"
        );
        t.file_with(2, FileState::Failed, Some("gone".into()));
        let s = t.snapshot(false).unwrap();
        assert_eq!(s.files_failed, 1);
        assert_eq!(s.files[0].message.as_deref(), Some("gone"));
    }

    #[test]
    fn counts_are_files_to_send_only_and_each_file_once() {
        let t = Tracker::new(2, 200);
        t.file(5, FileState::Unchanged);
        t.file(6, FileState::Unchanged);
        t.file(0, FileState::Sent);
        t.file(0, FileState::Sent);
        t.file(1, FileState::Failed);
        let s = t.snapshot(true).unwrap();
        assert_eq!((s.files_done, s.files_failed, s.files_total), (1, 1, 2));
        // A failed file sent after all moves from failed to done.
        t.file(1, FileState::Sent);
        let s = t.snapshot(true).unwrap();
        assert_eq!((s.files_done, s.files_failed), (2, 0));
    }

    #[test]
    fn speed_and_eta_from_recent_samples() {
        let t = Tracker::new(1, 10_000_000);
        t.phase(Phase::Sending);
        t.snapshot(true);
        std::thread::sleep(Duration::from_millis(300));
        t.add_bytes(3_000_000);
        let s = t.snapshot(false).unwrap();
        assert!(s.bytes_per_sec > 1_000_000, "{}", s.bytes_per_sec);
        assert!(s.eta_secs.is_some());
    }
}

//! One watch at work: what changed in its folder since the watch last dealt with it, when each
//! change has settled, and when the rhythm says go. Sleeps while nothing is happening.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use tokio::sync::mpsc::UnboundedReceiver;
use tokio_util::sync::CancellationToken;

use super::changes::Changes;
use super::engine::Shared;
use super::record::{WatchRecord, journal_dir, watch_dir};
use super::scan::{Seen, look, relative, scan};
use super::status::{Attention, AttentionReason};
use super::{Resolution, Watch};
use crate::fs::now_unix;

/// What a runner hears.
#[derive(Debug)]
pub(super) enum Input {
    /// The notifier saw something at these paths.
    Changed(Vec<PathBuf>),
    /// Look at everything again (events were lost, or "check now").
    Rescan,
    /// The system cannot tell of changes here: rescan every so often, and say why.
    Polling(String),
    /// The watch's settings changed (rhythm, mirroring, pause).
    Reload(Watch),
    Resolve(Resolution, Option<Vec<String>>),
}

pub(super) struct Runner {
    pub(super) watch: Watch,
    pub(super) shared: Arc<Shared>,
    /// `<data>/watches/<id>`: the record and the journal of an interrupted upload.
    pub(super) dir: PathBuf,
    pub(super) record: WatchRecord,
    pub(super) changes: Changes,
    /// Why changes are found by rescans rather than told (and when the next one is).
    pub(super) polling: Option<(String, Instant)>,
    folder_missing: Option<Instant>,
    pub(super) problem: Option<Attention>,
    pub(super) note: Option<String>,
    pub(super) retry_at: Option<Instant>,
    pub(super) failures: u32,
    pub(super) starting: bool,
    pub(super) uploading: bool,
    /// An interrupted upload waits in the journal: it goes before anything new.
    pub(super) interrupted: bool,
    /// Progress reports count only while this upload runs (a late one must not undo "done").
    pub(super) live: Arc<AtomicBool>,
}

impl Runner {
    pub(super) fn new(watch: Watch, shared: Arc<Shared>) -> Runner {
        let dir = watch_dir(&shared.ctx.data_dir, &watch.id);
        Runner {
            record: WatchRecord::load(&dir),
            dir,
            watch,
            shared,
            changes: Changes::default(),
            polling: None,
            folder_missing: None,
            problem: None,
            note: None,
            retry_at: None,
            failures: 0,
            starting: true,
            uploading: false,
            interrupted: false,
            live: Arc::new(AtomicBool::new(false)),
        }
    }

    pub(super) async fn run(
        mut self,
        mut inputs: UnboundedReceiver<Input>,
        stop: CancellationToken,
    ) {
        self.publish();
        let _ = std::fs::create_dir_all(&self.dir);
        if let Err(note) = self.shared.notify_me(&self.watch.folder).await {
            self.polling = Some((note, Instant::now() + self.shared.ctx.timing.poll));
        }
        self.interrupted = !crate::upload::list_resumable(&self.journals()).is_empty();
        if !self.watch.paused {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = self.resume_interrupted() => {}
            }
        }
        self.rescan().await;
        self.starting = false;
        self.publish();
        loop {
            let sleep = match self.next_wake() {
                Some(t) => tokio::time::sleep_until(t.into()),
                None => tokio::time::sleep(Duration::from_secs(24 * 60 * 60)),
            };
            tokio::select! {
                _ = stop.cancelled() => return,
                input = inputs.recv() => match input {
                    Some(i) => self.handle(i).await,
                    None => return,
                },
                _ = sleep => self.wake().await,
            }
            // A burst arrives as many notices: take them all before deciding anything.
            while let Ok(i) = inputs.try_recv() {
                self.handle(i).await;
            }
            if self.due() {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = self.go() => {}
                }
            }
            self.publish();
        }
    }

    async fn handle(&mut self, input: Input) {
        match input {
            Input::Changed(paths) => {
                let folder = self.watch.folder.clone();
                if paths.iter().any(|p| p == &folder) && !folder.is_dir() {
                    self.rescan().await;
                    return;
                }
                let rels = paths.iter().filter_map(|p| relative(&folder, p)).collect();
                self.recheck(rels).await;
            }
            Input::Rescan => self.rescan().await,
            Input::Polling(note) => {
                self.polling = Some((note, Instant::now() + self.shared.ctx.timing.poll));
            }
            Input::Reload(watch) => self.watch = watch,
            Input::Resolve(resolution, paths) => {
                let resolved = self.record.resolve(resolution, paths.as_deref());
                if let Err(e) = self.record.save(&self.dir) {
                    self.failed(e);
                }
                self.recheck(resolved).await;
            }
        }
    }

    /// Timers: a missing folder looked for, a rescan when changes are not told, files still
    /// settling looked at again.
    async fn wake(&mut self) {
        let now = Instant::now();
        if self.folder_missing.is_some_and(|t| t <= now) {
            if self.watch.folder.is_dir() {
                if let Err(note) = self.shared.notify_me(&self.watch.folder).await {
                    self.polling = Some((note, now + self.shared.ctx.timing.poll));
                }
                self.rescan().await;
            } else {
                self.folder_missing = Some(now + self.shared.ctx.timing.folder_missing);
            }
        }
        if let Some((note, at)) = self.polling.take() {
            if at <= now {
                self.rescan().await;
                self.polling = Some((note, now + self.shared.ctx.timing.poll));
            } else {
                self.polling = Some((note, at));
            }
        }
        let timing = &self.shared.ctx.timing;
        let settling = self.changes.settling(timing.settle + timing.recheck, now);
        self.recheck(settling).await;
    }

    /// Looks at these files again.
    pub(super) async fn recheck(&mut self, rels: Vec<String>) {
        if rels.is_empty() {
            return;
        }
        let folder = self.watch.folder.clone();
        let looked = tokio::task::spawn_blocking(move || {
            rels.into_iter()
                .map(|rel| {
                    let found = look(&folder, &rel);
                    (rel, found)
                })
                .collect::<Vec<_>>()
        })
        .await
        .unwrap_or_default();
        let now = Instant::now();
        for (rel, found) in looked {
            self.changes.found(&mut self.record, rel, found, now);
        }
    }

    /// Looks through the whole folder and compares it with the record: at start, after lost
    /// events, and when rescans replace events.
    pub(super) async fn rescan(&mut self) {
        let folder = self.watch.folder.clone();
        let scanned = tokio::task::spawn_blocking(move || scan(&folder)).await;
        let files = match scanned {
            Ok(Ok(files)) => files,
            Ok(Err(e)) => {
                // Never "everything was deleted": the folder is away, and nothing is removed.
                self.folder_missing = Some(Instant::now() + self.shared.ctx.timing.folder_missing);
                self.problem = Some(Attention {
                    reason: AttentionReason::FolderMissing,
                    message: format!(
                        "{} cannot be read ({}). Nothing is removed from the repository; the watch goes on when the folder is back.",
                        self.watch.folder.display(),
                        crate::error::describe_io_error(&e)
                    ),
                    files: Vec::new(),
                });
                return;
            }
            Err(_) => return,
        };
        if self.folder_missing.take().is_some() {
            self.problem = None;
        }
        self.changes
            .rescanned(&mut self.record, files, Instant::now());
    }

    /// Changed files that have settled, as they were seen.
    pub(super) fn ready(&self, now: Instant) -> Vec<(String, Seen)> {
        self.changes
            .ready(&self.record, self.shared.ctx.timing.settle, now)
    }

    /// Files deleted here that the next commit removes (mirrored deletions only); all of them,
    /// settled or not, without `now`.
    pub(super) fn deletions(&self, now: Option<Instant>) -> Vec<String> {
        if !self.watch.mirror_deletions {
            return Vec::new();
        }
        self.changes
            .deleted(&self.record, self.shared.ctx.timing.settle, now)
    }

    /// How much longer the rhythm holds back work that is ready.
    fn rhythm_wait(&self, now: Instant) -> Duration {
        let since_last = self
            .changes
            .last_change
            .map_or(Duration::MAX, |t| now.duration_since(t));
        let oldest = self.changes.oldest();
        let since_oldest = oldest.map_or(Duration::ZERO, |t| now.duration_since(t));
        let since_commit = self
            .record
            .last_commit
            .as_ref()
            .map(|c| Duration::from_secs(now_unix().saturating_sub(c.unix)));
        let settling_left = self
            .changes
            .settling_left(self.shared.ctx.timing.settle, now);
        self.watch
            .rhythm
            .wait(since_last, since_oldest, since_commit, settling_left)
    }

    fn has_work(&self, now: Instant) -> bool {
        !self.ready(now).is_empty() || !self.deletions(Some(now)).is_empty()
    }

    fn due(&self) -> bool {
        let now = Instant::now();
        !self.watch.paused
            && self.folder_missing.is_none()
            && self.retry_at.is_none_or(|t| t <= now)
            && (self.interrupted || (self.has_work(now) && self.rhythm_wait(now).is_zero()))
    }

    /// The next moment something may be due, or `None` to sleep until told of a change.
    fn next_wake(&self) -> Option<Instant> {
        let now = Instant::now();
        let timing = &self.shared.ctx.timing;
        let mut wake: Vec<Instant> = Vec::new();
        let window = timing.settle + timing.recheck;
        if !self.changes.settling(window, now).is_empty() {
            wake.push(now + timing.recheck);
        }
        if !self.watch.paused && self.interrupted {
            wake.push(self.retry_at.unwrap_or(now));
        } else if !self.watch.paused && self.has_work(now) {
            let at = now + self.rhythm_wait(now);
            wake.push(self.retry_at.map_or(at, |r| r.max(at)));
        }
        if !self.watch.paused && self.watch.mirror_deletions {
            wake.extend(self.changes.next_settled_deletion(timing.settle, now));
        }
        wake.extend(self.polling.as_ref().map(|(_, at)| *at));
        wake.extend(self.folder_missing);
        wake.into_iter().min()
    }

    pub(super) fn journals(&self) -> PathBuf {
        journal_dir(&self.dir)
    }
}

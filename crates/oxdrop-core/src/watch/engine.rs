//! The watches at work: one runner task per watch, one notifier for all of them, and the API the
//! app and `oxdrop watch run` drive (start, stop, list, add, edit, pause, remove, resolve, and a
//! channel of state changes).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

use super::context::{WatchContext, already_running, discard_watch_data, run_lock};
use super::notifier::{Notice, Notifier, WatchFailure};
use super::runner::{Input, Runner};
use super::status::{WatchInfo, WatchStatus};
use super::store::try_lock;
use super::{NewWatch, Resolution, Watch, WatchEdit};
use crate::error::{Error, ErrorCode, Result};
use crate::sync::lock;

/// How often the list of watches is checked for changes made by another process.
const STORE_CHECK: Duration = Duration::from_secs(2);

/// Runs every watch; cheap to clone (all clones drive the same watches).
#[derive(Debug, Clone)]
pub struct WatchEngine {
    shared: Arc<Shared>,
}

struct RunnerHandle {
    watch: Watch,
    inputs: mpsc::UnboundedSender<Input>,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

pub(super) struct Shared {
    pub(super) ctx: WatchContext,
    statuses: Mutex<BTreeMap<String, WatchStatus>>,
    updates: broadcast::Sender<WatchStatus>,
    runners: Mutex<HashMap<String, RunnerHandle>>,
    notifier: Mutex<Option<Notifier>>,
    store_stamp: Mutex<Option<(SystemTime, u64)>>,
    stop: CancellationToken,
    _running: crate::fs::FileLock,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("store", &self.ctx.store)
            .finish_non_exhaustive()
    }
}

impl WatchEngine {
    /// Starts every watch in the list: each finishes its interrupted upload first, then looks
    /// through its folder and uploads what changed while nothing watched it. Refused while
    /// another process (the app, or `oxdrop watch run`) runs them.
    pub async fn start(ctx: WatchContext) -> Result<WatchEngine> {
        let running = try_lock(&run_lock(&ctx.data_dir))
            .map_err(Error::internal)?
            .ok_or_else(already_running)?;
        let (tx, rx) = mpsc::unbounded_channel();
        let notifier = Notifier::new(tx)
            .inspect_err(|e| tracing::warn!(error = %e.log_line(), "no file notifications"))
            .ok();
        let shared = Arc::new(Shared {
            ctx,
            statuses: Mutex::new(BTreeMap::new()),
            updates: broadcast::channel(1024).0,
            runners: Mutex::new(HashMap::new()),
            notifier: Mutex::new(notifier),
            store_stamp: Mutex::new(None),
            stop: CancellationToken::new(),
            _running: running,
        });
        let engine = WatchEngine { shared };
        tokio::spawn(dispatch(engine.shared.clone(), rx));
        engine.reconcile().await;
        let polling = engine.clone();
        tokio::spawn(async move {
            let stop = polling.shared.stop.clone();
            loop {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(STORE_CHECK) => {
                        if polling.store_stamp() != *lock(&polling.shared.store_stamp) {
                            polling.reconcile().await;
                        }
                    }
                }
            }
        });
        Ok(engine)
    }

    /// State changes of every watch, as they happen.
    pub fn subscribe(&self) -> broadcast::Receiver<WatchStatus> {
        self.shared.updates.subscribe()
    }

    /// Every watch with its current state.
    pub fn list(&self) -> Vec<WatchInfo> {
        let statuses = lock(&self.shared.statuses);
        self.shared
            .ctx
            .store
            .load()
            .into_iter()
            .map(|watch| WatchInfo {
                status: statuses
                    .get(&watch.id)
                    .cloned()
                    .unwrap_or_else(|| Runner::initial_status(&watch)),
                watch,
            })
            .collect()
    }

    pub fn status(&self, id: &str) -> Option<WatchStatus> {
        lock(&self.shared.statuses).get(id).cloned()
    }

    pub async fn add(&self, new: NewWatch) -> Result<Watch> {
        let watch = self.shared.ctx.store.add(new)?;
        self.reconcile().await;
        Ok(watch)
    }

    pub async fn edit(&self, id: &str, edit: WatchEdit) -> Result<Watch> {
        let (_, after) = self.shared.ctx.store.edit(id, edit)?;
        self.reconcile().await;
        Ok(after)
    }

    pub async fn set_paused(&self, id: &str, paused: bool) -> Result<Watch> {
        let watch = self.shared.ctx.store.set_paused(id, paused)?;
        self.reconcile().await;
        Ok(watch)
    }

    /// Stops and forgets a watch; what it uploaded stays in the repository.
    pub async fn remove(&self, id: &str) -> Result<Watch> {
        let watch = self.shared.ctx.store.remove(id)?;
        self.reconcile().await;
        Ok(watch)
    }

    /// Upload this computer's version of files someone else changed on the branch, or keep
    /// theirs (`paths` relative to the folder; all of them when `None`).
    pub fn resolve(
        &self,
        id: &str,
        resolution: Resolution,
        paths: Option<Vec<String>>,
    ) -> Result<()> {
        let watch = self.shared.ctx.store.find(id)?;
        self.send(&watch.id, Input::Resolve(resolution, paths));
        Ok(())
    }

    /// Looks through a folder (all when `None`) for changes: "check now".
    pub fn rescan(&self, id: Option<&str>) {
        for (watch_id, runner) in lock(&self.shared.runners).iter() {
            if id.is_none_or(|id| id == watch_id) {
                let _ = runner.inputs.send(Input::Rescan);
            }
        }
    }

    /// Stops every watch. An upload in progress stops where it is, as if the computer had been
    /// switched off: it is finished at the next start.
    pub async fn stop(&self) {
        self.shared.stop.cancel();
        let runners: Vec<RunnerHandle> =
            lock(&self.shared.runners).drain().map(|(_, r)| r).collect();
        for r in runners {
            r.stop.cancel();
            let _ = r.task.await;
        }
        lock(&self.shared.notifier).take();
    }

    fn send(&self, id: &str, input: Input) {
        if let Some(r) = lock(&self.shared.runners).get(id) {
            let _ = r.inputs.send(input);
        }
    }

    /// Makes the runners match the list: new watches start, removed ones stop (their memory
    /// is discarded), changed ones hear of it (a new folder or destination starts afresh).
    async fn reconcile(&self) {
        if self.shared.stop.is_cancelled() {
            return;
        }
        let stamp = self.store_stamp();
        let watches = self.shared.ctx.store.load();
        *lock(&self.shared.store_stamp) = stamp;
        let mut retired = Vec::new();
        {
            let mut runners = lock(&self.shared.runners);
            let gone: Vec<String> = runners
                .iter()
                .filter(|(id, r)| {
                    watches.iter().all(|w| {
                        &w.id != *id
                            || w.folder != r.watch.folder
                            || w.destination != r.watch.destination
                    })
                })
                .map(|(id, _)| id.clone())
                .collect();
            for id in gone {
                if let Some(r) = runners.remove(&id) {
                    r.stop.cancel();
                    retired.push(r);
                }
            }
        }
        for r in retired {
            let _ = r.task.await;
            self.unwatch(&r.watch.folder);
            lock(&self.shared.statuses).remove(&r.watch.id);
            discard_watch_data(&self.shared.ctx, &r.watch).await;
        }
        let mut runners = lock(&self.shared.runners);
        for watch in watches {
            match runners.get_mut(&watch.id) {
                Some(r) if r.watch != watch => {
                    r.watch = watch.clone();
                    let _ = r.inputs.send(Input::Reload(watch));
                }
                Some(_) => {}
                None => {
                    let (tx, rx) = mpsc::unbounded_channel();
                    let stop = self.shared.stop.child_token();
                    let runner = Runner::new(watch.clone(), self.shared.clone());
                    let task = tokio::spawn(runner.run(rx, stop.clone()));
                    runners.insert(
                        watch.id.clone(),
                        RunnerHandle {
                            watch,
                            inputs: tx,
                            stop,
                            task,
                        },
                    );
                }
            }
        }
    }

    /// When the list was last written, and its size: a change made by another process shows.
    fn store_stamp(&self) -> Option<(SystemTime, u64)> {
        std::fs::metadata(self.shared.ctx.store.path())
            .ok()
            .map(|m| (m.modified().unwrap_or(SystemTime::UNIX_EPOCH), m.len()))
    }

    fn unwatch(&self, folder: &Path) {
        let still_watched = lock(&self.shared.runners)
            .values()
            .any(|r| r.watch.folder == folder);
        if !still_watched && let Some(n) = lock(&self.shared.notifier).as_mut() {
            n.unwatch(folder);
        }
    }
}

impl Shared {
    pub(super) fn publish(&self, status: WatchStatus) {
        let mut statuses = lock(&self.statuses);
        if statuses.get(&status.id) != Some(&status) {
            statuses.insert(status.id.clone(), status.clone());
            let _ = self.updates.send(status);
        }
    }

    /// The upload's progress as last published.
    pub(super) fn status_percent(&self, id: &str) -> Option<u8> {
        lock(&self.statuses).get(id).and_then(|s| s.percent)
    }

    /// The upload's progress, between the runner's own updates.
    pub(super) fn progress(&self, id: &str, percent: u8) {
        let mut statuses = lock(&self.statuses);
        let Some(status) = statuses.get_mut(id) else {
            return;
        };
        if status.percent != Some(percent) {
            status.percent = Some(percent);
            status.state = super::WatchState::Uploading;
            status.summary = format!("Uploading {percent}%");
            let _ = self.updates.send(status.clone());
        }
    }

    /// Asks the system to tell of changes in `folder` (blocking while it adds a watch per
    /// subfolder). `Err` with a note when it cannot: the runner then rescans on its own.
    pub(super) async fn notify_me(
        self: &Arc<Self>,
        folder: &Path,
    ) -> std::result::Result<(), String> {
        let me = self.clone();
        let folder = folder.to_path_buf();
        let added = tokio::task::spawn_blocking(move || {
            let mut notifier = lock(&me.notifier);
            match notifier.as_mut() {
                Some(n) => n.watch(&folder),
                None => Err(WatchFailure::Other(Error::new(
                    ErrorCode::LocalIo,
                    "no notifier",
                ))),
            }
        })
        .await;
        let poll = self.ctx.timing.poll;
        match added {
            Ok(Ok(())) => Ok(()),
            Ok(Err(WatchFailure::TooManyFolders)) => Err(format!(
                "This folder has more subfolders than the system lets OxDrop be told about, so it is looked through every {} instead.",
                super::report::spell(poll)
            )),
            Ok(Err(WatchFailure::Other(e))) => {
                tracing::warn!(error = %e.log_line(), "folder not watched");
                Err(format!(
                    "OxDrop is not told of changes in this folder, so it looks through it every {} instead.",
                    super::report::spell(poll)
                ))
            }
            Err(e) => Err(e.to_string()),
        }
    }
}

/// Hands each notice to the watches it concerns.
async fn dispatch(shared: Arc<Shared>, mut notices: mpsc::UnboundedReceiver<Notice>) {
    while let Some(notice) = notices.recv().await {
        let runners = lock(&shared.runners);
        match notice {
            Notice::Changed(paths) => {
                for r in runners.values() {
                    let mine: Vec<PathBuf> = paths
                        .iter()
                        .filter(|p| p.starts_with(&r.watch.folder))
                        .cloned()
                        .collect();
                    if !mine.is_empty() {
                        let _ = r.inputs.send(Input::Changed(mine));
                    }
                }
            }
            Notice::Rescan => {
                for r in runners.values() {
                    let _ = r.inputs.send(Input::Rescan);
                }
            }
            Notice::TooManyFolders(paths) => {
                for r in runners.values() {
                    if paths.is_empty() || paths.iter().any(|p| p.starts_with(&r.watch.folder)) {
                        let note = format!(
                            "This folder has more subfolders than the system lets OxDrop be told about, so it is looked through every {} instead.",
                            super::report::spell(shared.ctx.timing.poll)
                        );
                        let _ = r.inputs.send(Input::Polling(note));
                    }
                }
            }
        }
    }
}

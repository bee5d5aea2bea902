//! The watched folders while the app runs: the core's `WatchEngine` starts with the app (so the
//! watches restart with it), and every change of their states goes, throttled, to the window's
//! Channel and to the tray menu. Only one process runs the watches (the core's lock): while
//! `oxdrop watch run` has them, the app says so, still edits the list (that process picks the
//! change up), and takes over once it stops.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use oxdrop_core::sync::lock;
use oxdrop_core::watch::{
    WatchContext, WatchEngine, WatchInfo, WatchState, WatchStatus, WatchStore,
};
use oxdrop_core::{Error, Result};
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager};
use ts_rs::TS;

/// At most this many updates a second reach the window and the tray.
const THROTTLE: Duration = Duration::from_millis(250);
/// How often the app tries again to run the watches while another process runs them.
const RETRY_ELSEWHERE: Duration = Duration::from_secs(5);

/// What the window hears about the watches.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct WatchesView {
    pub watches: Vec<WatchInfo>,
    /// Why this window does not run them (another OxDrop does, or they could not start).
    pub elsewhere: Option<String>,
    /// The folder chosen in the dialog for the next watch, as shown.
    pub picked: Option<String>,
}

#[derive(Default)]
pub struct AppWatches {
    engine: Mutex<Option<WatchEngine>>,
    /// Why the engine does not run here.
    elsewhere: Mutex<Option<Error>>,
    /// The folder chosen in the native dialog, for the next `add_watch`: the page names no path.
    picked: Mutex<Option<PathBuf>>,
    watcher: Mutex<Option<Channel<WatchesView>>>,
    /// What the window and the tray were last told.
    announced: Mutex<Option<WatchesView>>,
}

impl std::fmt::Debug for AppWatches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppWatches").finish_non_exhaustive()
    }
}

impl AppWatches {
    pub fn engine(&self) -> Option<WatchEngine> {
        lock(&self.engine).clone()
    }

    /// The list of watches (shared with the CLI), for editing while no engine runs here.
    pub fn store(&self) -> Result<WatchStore> {
        WatchStore::default_location()
    }

    pub fn set_picked(&self, folder: Option<PathBuf>) {
        *lock(&self.picked) = folder;
    }

    pub fn picked(&self) -> Option<PathBuf> {
        lock(&self.picked).clone()
    }

    /// Every watch with its state; from the list alone while another process runs them.
    pub fn list(&self) -> Vec<WatchInfo> {
        match self.engine() {
            Some(engine) => engine.list(),
            None => self
                .store()
                .map(|s| s.load())
                .unwrap_or_default()
                .into_iter()
                .map(|watch| WatchInfo {
                    status: status_from_list(&watch.id, watch.paused),
                    watch,
                })
                .collect(),
        }
    }

    pub fn view(&self) -> WatchesView {
        WatchesView {
            watches: self.list(),
            elsewhere: lock(&self.elsewhere).as_ref().map(|e| e.message.clone()),
            picked: self.picked().map(|p| p.display().to_string()),
        }
    }

    /// Whether a watch is keeping a folder uploaded (not paused): the window then only hides
    /// when closed.
    pub fn any_active(&self) -> bool {
        self.list().iter().any(|w| !w.watch.paused)
    }

    /// Sends the watches as they are now over `channel`, then every change.
    pub fn watch(&self, channel: Channel<WatchesView>) {
        let mut watcher = lock(&self.watcher);
        if let Err(e) = channel.send(self.view()) {
            tracing::debug!(error = %e, "watches view not delivered");
        }
        *watcher = Some(channel);
    }
}

/// A watch's state as known from the list alone, while another process runs it.
pub fn status_from_list(id: &str, paused: bool) -> WatchStatus {
    WatchStatus {
        id: id.to_owned(),
        state: if paused {
            WatchState::Paused
        } else {
            WatchState::Starting
        },
        summary: if paused {
            "Paused"
        } else {
            "Kept uploaded by another OxDrop"
        }
        .into(),
        waiting: 0,
        percent: None,
        will_remove: vec![],
        will_remove_count: 0,
        attention: None,
        conflicts: vec![],
        note: None,
        last_commit: None,
    }
}

/// Tells the window and the tray how the watches are now.
pub fn announce(app: &AppHandle) {
    let watches = app.state::<AppWatches>();
    let view = watches.view();
    {
        // Nothing new (the periodic look while another process runs them): the tray's menu is
        // not rebuilt under the user's pointer.
        let mut announced = lock(&watches.announced);
        if announced.as_ref() == Some(&view) {
            return;
        }
        *announced = Some(view.clone());
    }
    crate::tray::refresh(app, &view.watches);
    if let Some(c) = lock(&watches.watcher).as_ref()
        && let Err(e) = c.send(view)
    {
        tracing::debug!(error = %e, "watches view not delivered");
    }
}

/// Starts the engine in the background (retrying while another process runs the watches) and
/// forwards its updates.
pub fn start(app: &AppHandle) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        loop {
            let started = match WatchContext::default_location() {
                Ok(ctx) => WatchEngine::start(ctx).await,
                Err(e) => Err(e),
            };
            let watches = app.state::<AppWatches>();
            match started {
                Ok(engine) => {
                    tracing::info!("watched folders running");
                    let updates = engine.subscribe();
                    *lock(&watches.engine) = Some(engine);
                    *lock(&watches.elsewhere) = None;
                    announce(&app);
                    forward(&app, updates).await;
                    return;
                }
                Err(e) => {
                    let first = lock(&watches.elsewhere).is_none();
                    if first {
                        tracing::warn!(error = %e.log_line(), "watched folders not run here");
                        *lock(&watches.elsewhere) = Some(e);
                        announce(&app);
                    }
                }
            }
            tokio::time::sleep(RETRY_ELSEWHERE).await;
            // Meanwhile the list may have changed (the other process edits it too).
            announce(&app);
        }
    });
}

/// Each burst of state changes becomes one update, at most every `THROTTLE`.
async fn forward(app: &AppHandle, mut updates: tokio::sync::broadcast::Receiver<WatchStatus>) {
    use tokio::sync::broadcast::error::{RecvError, TryRecvError};
    loop {
        match updates.recv().await {
            Ok(_) | Err(RecvError::Lagged(_)) => {}
            Err(RecvError::Closed) => return,
        }
        tokio::time::sleep(THROTTLE).await;
        loop {
            match updates.try_recv() {
                Ok(_) | Err(TryRecvError::Lagged(_)) => {}
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Closed) => return,
            }
        }
        announce(app);
    }
}

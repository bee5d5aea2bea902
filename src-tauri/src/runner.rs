//! Runs the list of uploads (`oxdrop_core::queue`): the next queued one starts when its server
//! is free (one at a time per server), after checking its destination still exists; progress
//! and changes of the list go to the window over one Channel; the end is recorded in the
//! history, shown in the window title and, when the user looks elsewhere, in a notification.
//! The decisions about states live in the core; this only drives them.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use oxdrop_core::history::{HistoryEntry, HistoryStore};
use oxdrop_core::queue::{self, Queue, QueueStore, QueuedUpload, UploadState};
use oxdrop_core::sync::lock;
use oxdrop_core::upload::{self, ProgressSnapshot, Tuning, UploadId};
use oxdrop_core::{Error, ErrorCode, OxenClient, Result};
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::window::{ProgressBarState, ProgressBarStatus};
use tauri::{AppHandle, Manager};
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

use crate::state::AppState;

/// Uploads running at once on one server.
const PER_SERVER: usize = 1;
const TITLE: &str = "OxDrop";

/// What the window hears about the uploads.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum UploadsEvent {
    /// The whole list, after any change of it.
    List { uploads: Vec<QueuedUpload> },
    /// Progress of a running upload (the engine sends a few per second at most).
    Progress {
        id: String,
        snapshot: ProgressSnapshot,
    },
}

#[derive(Debug, Clone)]
struct Controls {
    cancel: CancellationToken,
    pause: CancellationToken,
}

pub struct Runner {
    pub queue: QueueStore,
    pub history: HistoryStore,
    pub journal_dir: PathBuf,
    /// The running uploads' cancel and pause, by id.
    running: Mutex<HashMap<String, Controls>>,
    /// The window's Channel, once it asked to watch.
    watcher: Mutex<Option<Channel<UploadsEvent>>>,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("queue", &self.queue)
            .field("running", &self.running)
            .finish_non_exhaustive()
    }
}

impl Runner {
    /// After a restart, what was running is interrupted (the user resumes it), and so are
    /// uploads interrupted outside the list (by the command line): all are offered in the list.
    pub fn new(data_dir: &std::path::Path, journal_dir: PathBuf) -> Runner {
        let runner = Runner {
            queue: QueueStore::new(data_dir),
            history: HistoryStore::new(data_dir),
            journal_dir,
            running: Mutex::new(HashMap::new()),
            watcher: Mutex::new(None),
        };
        let restarted = runner.queue.update(|q| {
            q.after_restart(&runner.journal_dir);
            Ok(())
        });
        if let Err(e) = restarted {
            tracing::warn!(error = %e.log_line(), "the list of uploads was not updated");
        }
        runner
    }

    /// Sends the list as it is now over `channel`, then every change. The first list goes over
    /// the Channel too, not as the command's answer: an answer can overtake the Channel's
    /// messages and put back a list older than the one they brought. Under the watcher's lock,
    /// so a change announced meanwhile comes after it.
    pub fn watch(&self, channel: Channel<UploadsEvent>) {
        let mut watcher = lock(&self.watcher);
        let uploads = self.queue.load().uploads;
        if let Err(e) = channel.send(UploadsEvent::List { uploads }) {
            tracing::debug!(error = %e, "uploads event not delivered");
        }
        *watcher = Some(channel);
    }

    fn send(&self, event: UploadsEvent) {
        if let Some(c) = lock(&self.watcher).as_ref()
            && let Err(e) = c.send(event)
        {
            tracing::debug!(error = %e, "uploads event not delivered");
        }
    }

    fn announce(&self, q: &Queue) {
        self.send(UploadsEvent::List {
            uploads: q.uploads.clone(),
        });
    }

    /// Changes the list, then tells the window.
    pub fn change<T>(&self, change: impl FnOnce(&mut Queue) -> Result<T>) -> Result<T> {
        let (q, answer) = self.queue.update(change)?;
        self.announce(&q);
        Ok(answer)
    }

    pub fn is_running(&self, id: &str) -> bool {
        lock(&self.running).contains_key(id)
    }

    /// Pauses a running upload: requests in flight finish, then it stops (see the engine).
    pub fn pause(&self, id: &str) -> Result<()> {
        match lock(&self.running).get(id) {
            Some(c) => {
                c.pause.cancel();
                Ok(())
            }
            None => Err(Error::invalid_input("This upload is not running.")),
        }
    }

    /// Cancels a running upload: nothing is committed and its workspace is removed.
    pub fn cancel(&self, id: &str) -> bool {
        match lock(&self.running).get(id) {
            Some(c) => {
                c.cancel.cancel();
                true
            }
            None => false,
        }
    }
}

/// Starts every queued upload whose server is free.
pub fn kick(app: &AppHandle) {
    let runner = app.state::<Runner>();
    loop {
        let picked = runner.change(|q| {
            let Some(next) = q.next_to_start(PER_SERVER).map(|u| u.id.clone()) else {
                return Ok(None);
            };
            let entry = q.entry(&next)?;
            entry.start();
            Ok(Some(entry.clone()))
        });
        match picked {
            Ok(Some(entry)) => {
                let controls = Controls {
                    cancel: CancellationToken::new(),
                    pause: CancellationToken::new(),
                };
                lock(&runner.running).insert(entry.id.clone(), controls.clone());
                let app = app.clone();
                tauri::async_runtime::spawn(async move { run(app, entry, controls).await });
            }
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e.log_line(), "the list of uploads could not be read");
                return;
            }
        }
    }
}

/// The client of the account that queued the upload (not necessarily the active one).
pub fn client_for(app: &AppHandle, account_id: &str) -> Result<OxenClient> {
    let state = app.state::<AppState>();
    let settings = state.settings.load();
    let Some(account) = settings.accounts.iter().find(|a| a.id == account_id) else {
        return Err(Error::new(
            ErrorCode::NotSignedIn,
            format!("Sign in as {account_id} again to run this upload."),
        ));
    };
    oxdrop_core::accounts::client_for(&state.keychain, account)
}

async fn run(app: AppHandle, entry: QueuedUpload, controls: Controls) {
    let runner = app.state::<Runner>();
    let id = entry.id.clone();
    let started = async {
        let client = client_for(&app, &entry.account_id)?;
        queue::check_destination(&client, &entry).await?;
        Ok::<_, Error>((client, UploadId::parse(&id)?))
    }
    .await;
    let result = match started {
        Ok((client, upload_id)) => {
            let sink = progress_sink(&app, &id);
            let dir = runner.journal_dir.clone();
            let Controls { cancel, pause } = controls;
            let work = async move {
                upload::resume(
                    &client,
                    &dir,
                    &upload_id,
                    Tuning::default(),
                    sink,
                    cancel,
                    pause,
                )
                .await
            };
            // On its own task: even a panic ends the run with an error, and frees the server.
            tauri::async_runtime::spawn(work)
                .await
                .map_err(Error::internal)
                .and_then(|r| r)
        }
        Err(e) => Err(e),
    };
    lock(&runner.running).remove(&id);
    set_title(&app, None);
    let kept = upload::list_resumable(&runner.journal_dir)
        .into_iter()
        .find(|u| u.id == id);
    let ended = runner.change(|q| {
        let e = q.entry(&id)?;
        e.finish(&result, kept.as_ref());
        Ok(e.clone())
    });
    match ended {
        Ok(entry) => {
            if entry.state.is_finished()
                && let Err(e) = runner.history.record(HistoryEntry::of(&entry))
            {
                tracing::warn!(error = %e.log_line(), "history not saved");
            }
            notify_if_unfocused(&app, &entry);
        }
        Err(e) => tracing::warn!(error = %e.log_line(), "the end of an upload was not recorded"),
    }
    if let Ok(o) = &result {
        tracing::info!(commit = %o.commit.id, "queued upload committed");
    }
    kick(&app);
}

fn progress_sink(app: &AppHandle, id: &str) -> Arc<dyn upload::ProgressSink> {
    let (app, id) = (app.clone(), id.to_owned());
    Arc::new(move |snapshot: ProgressSnapshot| {
        let percent = (snapshot.bytes_done * 100)
            .checked_div(snapshot.bytes_total)
            .map(|p| p.min(100));
        set_title(&app, percent);
        app.state::<Runner>().send(UploadsEvent::Progress {
            id: id.clone(),
            snapshot,
        });
    })
}

/// "42% · OxDrop" while uploading: seen in the taskbar and window switcher; and the bar on the
/// app's icon in docks that show one (the Unity launcher API: Ubuntu's dock, Dash to Dock, KDE's
/// task manager; a desktop without it ignores this).
fn set_title(app: &AppHandle, percent: Option<u64>) {
    let title = match percent {
        Some(p) => format!("{p}% · {TITLE}"),
        None => TITLE.to_owned(),
    };
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.set_title(&title);
        let status = match percent {
            Some(_) => ProgressBarStatus::Normal,
            None => ProgressBarStatus::None,
        };
        let _ = w.set_progress_bar(ProgressBarState {
            status: Some(status),
            progress: percent,
        });
    }
}

/// Says how an upload ended, naming the repository, when the window is not in front.
fn notify_if_unfocused(app: &AppHandle, u: &QueuedUpload) {
    use tauri_plugin_notification::NotificationExt;
    let focused = app
        .get_webview_window("main")
        .and_then(|w| w.is_focused().ok())
        .unwrap_or(true);
    let Some((title, body)) = notification(u) else {
        return;
    };
    if focused {
        return;
    }
    if let Err(e) = app.notification().builder().title(title).body(body).show() {
        tracing::debug!(error = %e, "no notification service");
    }
}

/// The notification's title and text; none for a pause or a cancel (the user did it).
pub fn notification(u: &QueuedUpload) -> Option<(String, String)> {
    let place = format!("{} ({})", u.repo, u.branch);
    let what = match u.sources.as_slice() {
        [one] => one.clone(),
        many => format!("{} files", many.len().max(u.files as usize)),
    };
    match (u.state, &u.outcome, &u.problem) {
        (UploadState::Done, Some(o), _) if o.failed.is_empty() => Some((
            format!("Uploaded to {}", u.repo),
            format!("{what}: {} files committed to {place}.", o.files_sent),
        )),
        (UploadState::Done, Some(o), _) => Some((
            format!("Uploaded to {} with problems", u.repo),
            format!(
                "{what}: {} files committed to {place}, {} failed.",
                o.files_sent,
                o.failed.len()
            ),
        )),
        (UploadState::Paused | UploadState::Cancelled, ..) => None,
        (_, _, Some(p)) => Some((format!("Upload to {} stopped", u.repo), p.message.clone())),
        _ => None,
    }
}

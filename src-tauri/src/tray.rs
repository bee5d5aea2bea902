//! The system tray: an icon whose menu lists each watch with its state (the words of the
//! Watches screen), *Open OxDrop* and *Quit*. It lets the app keep running with its window
//! closed while watches upload. A desktop without a tray (no indicator library, no session bus,
//! no tray host) only loses the icon: the app runs as usual.

use oxdrop_core::watch::WatchInfo;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager};

const TRAY_ID: &str = "oxdrop";
const OPEN_ID: &str = "open";
const QUIT_ID: &str = "quit";
/// A tray menu line longer than this is cut (a "needs attention" reason can be long).
const MAX_LINE: usize = 70;

/// The menu's line for a watch: "instrument → ada/data: 3 files waiting".
pub fn watch_line(info: &WatchInfo) -> String {
    let folder = folder_name(info);
    let repo = &info.watch.destination.repo;
    let line = format!(
        "{folder} → {}/{}: {}",
        repo.namespace, repo.name, info.status.summary
    );
    if line.chars().count() > MAX_LINE {
        let cut: String = line.chars().take(MAX_LINE - 1).collect();
        format!("{}…", cut.trim_end())
    } else {
        line
    }
}

/// Every line of the menu, in order (`None`: a separator).
pub fn menu_lines(watches: &[WatchInfo]) -> Vec<Option<String>> {
    let mut lines: Vec<Option<String>> = if watches.is_empty() {
        vec![Some("No folders are kept uploaded".into())]
    } else {
        watches.iter().map(|w| Some(watch_line(w))).collect()
    };
    lines.push(None);
    lines.push(Some("Open OxDrop".into()));
    lines.push(Some("Quit".into()));
    lines
}

/// The notification when closing the window only hid it (a watch keeps uploading): without it,
/// on a desktop that shows no tray icon, the app would seem to have vanished.
pub fn hidden_notice(watches: &[WatchInfo]) -> (String, String) {
    let active: Vec<&WatchInfo> = watches.iter().filter(|w| !w.watch.paused).collect();
    let what = match active.as_slice() {
        [one] => {
            let repo = &one.watch.destination.repo;
            format!(
                "“{}” keeps uploading to {}/{}.",
                folder_name(one),
                repo.namespace,
                repo.name
            )
        }
        many => format!("{} watched folders keep uploading.", many.len()),
    };
    (
        "OxDrop is still running".to_owned(),
        format!("{what} Open OxDrop again from its icon in the tray, or by launching it."),
    )
}

fn folder_name(info: &WatchInfo) -> String {
    info.watch
        .folder
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| info.watch.folder.display().to_string())
}

/// The indicator libraries the tray can use on Linux (what the indicator crate loads).
const INDICATOR_LIBS: [&str; 2] = ["libayatana-appindicator3.so.1", "libappindicator3.so.1"];

/// Whether an indicator library is installed: without one, building the icon aborts the app.
/// Looks where the dynamic linker does (`LD_LIBRARY_PATH`, `/etc/ld.so.conf.d`, the system
/// folders); building the icon is also guarded, in case it is elsewhere.
fn indicator_available() -> bool {
    if !cfg!(target_os = "linux") {
        return true;
    }
    let mut dirs: Vec<std::path::PathBuf> = std::env::var_os("LD_LIBRARY_PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    for conf in std::fs::read_dir("/etc/ld.so.conf.d")
        .into_iter()
        .flatten()
        .flatten()
    {
        let text = std::fs::read_to_string(conf.path()).unwrap_or_default();
        dirs.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| l.starts_with('/'))
                .map(std::path::PathBuf::from),
        );
    }
    dirs.extend(["/usr/lib64", "/usr/lib", "/lib64", "/lib"].map(std::path::PathBuf::from));
    dirs.iter()
        .any(|d| INDICATOR_LIBS.iter().any(|lib| d.join(lib).exists()))
}

fn menu(app: &AppHandle, watches: &[WatchInfo]) -> tauri::Result<Menu<tauri::Wry>> {
    let menu = Menu::new(app)?;
    let count = menu_lines(watches).len();
    for (i, line) in menu_lines(watches).into_iter().enumerate() {
        match line {
            None => menu.append(&PredefinedMenuItem::separator(app)?)?,
            // The last two lines are the actions; the watches' lines are only read.
            Some(text) if i == count - 2 => {
                menu.append(&MenuItem::with_id(app, OPEN_ID, text, true, None::<&str>)?)?
            }
            Some(text) if i == count - 1 => {
                menu.append(&MenuItem::with_id(app, QUIT_ID, text, true, None::<&str>)?)?
            }
            Some(text) => menu.append(&MenuItem::new(app, text, false, None::<&str>)?)?,
        }
    }
    Ok(menu)
}

/// Puts the icon in the tray; logs and goes on without it when the desktop has no tray.
pub fn install(app: &AppHandle) {
    if !indicator_available() {
        tracing::warn!(
            "no tray icon: the indicator library (libayatana-appindicator3) is not installed"
        );
        return;
    }
    let built = menu(app, &[]).map(|menu| {
        let mut tray = TrayIconBuilder::with_id(TRAY_ID)
            .tooltip("OxDrop")
            .menu(&menu)
            .on_menu_event(|app, event| match event.id().as_ref() {
                OPEN_ID => show_window(app),
                QUIT_ID => app.exit(0),
                _ => {}
            });
        if let Some(icon) = app.default_window_icon() {
            tray = tray.icon(icon.clone());
        }
        // The indicator crate panics when it cannot load its library: no icon, not a crash.
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| tray.build(app)))
    });
    match built {
        Ok(Ok(Ok(_))) => tracing::info!("tray icon installed"),
        Ok(Ok(Err(e))) | Err(e) => tracing::warn!(error = %e, "no tray icon"),
        Ok(Err(_)) => tracing::warn!("no tray icon: its indicator library could not be loaded"),
    }
}

/// Shows each watch's state in the menu.
pub fn refresh(app: &AppHandle, watches: &[WatchInfo]) {
    let Some(tray) = app.tray_by_id(TRAY_ID) else {
        return;
    };
    match menu(app, watches) {
        Ok(menu) => {
            if let Err(e) = tray.set_menu(Some(menu)) {
                tracing::debug!(error = %e, "tray menu not updated");
            }
        }
        Err(e) => tracing::debug!(error = %e, "tray menu not built"),
    }
}

/// Brings the window back (from the tray, or a second launch).
pub fn show_window<R: tauri::Runtime>(app: &AppHandle<R>) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.show();
        let _ = window.unminimize();
        let _ = window.set_focus();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oxdrop_core::accounts::Destination;
    use oxdrop_core::watch::{Rhythm, Watch, WatchState, WatchStatus};
    use oxdrop_core::{RemotePath, RepoRef};

    fn info(folder: &str, state: WatchState, summary: &str) -> WatchInfo {
        WatchInfo {
            watch: Watch {
                id: folder.into(),
                folder: format!("/home/ada/{folder}").into(),
                destination: Destination {
                    account_id: "a".into(),
                    repo: RepoRef::parse("ada/data").unwrap(),
                    branch: "main".into(),
                    dest: RemotePath::root(),
                },
                rhythm: Rhythm::default(),
                mirror_deletions: false,
                paused: state == WatchState::Paused,
                created_unix: 0,
            },
            status: WatchStatus {
                state,
                summary: summary.into(),
                ..crate::watches::status_from_list(folder, false)
            },
        }
    }

    #[test]
    fn the_menu_lists_each_watch_in_the_screens_words_then_open_and_quit() {
        let watches = [
            info("instrument", WatchState::UpToDate, "Up to date"),
            info("exports", WatchState::Waiting, "3 files waiting"),
            info("scans", WatchState::Uploading, "Uploading 40%"),
            info("old", WatchState::Paused, "Paused"),
        ];
        let lines = menu_lines(&watches);
        assert_eq!(
            lines,
            [
                Some("instrument → ada/data: Up to date".to_owned()),
                Some("exports → ada/data: 3 files waiting".to_owned()),
                Some("scans → ada/data: Uploading 40%".to_owned()),
                Some("old → ada/data: Paused".to_owned()),
                None,
                Some("Open OxDrop".to_owned()),
                Some("Quit".to_owned()),
            ]
        );
    }

    #[test]
    fn the_notice_for_a_hidden_window_names_what_keeps_uploading() {
        let one = [
            info("instrument", WatchState::UpToDate, "Up to date"),
            info("old", WatchState::Paused, "Paused"),
        ];
        let (title, body) = hidden_notice(&one);
        assert_eq!(title, "OxDrop is still running");
        assert_eq!(
            body,
            "“instrument” keeps uploading to ada/data. Open OxDrop again from its icon in the \
             tray, or by launching it."
        );
        let two = [
            info("instrument", WatchState::UpToDate, "Up to date"),
            info("exports", WatchState::Waiting, "3 files waiting"),
        ];
        assert!(
            hidden_notice(&two)
                .1
                .starts_with("2 watched folders keep uploading. Open OxDrop again")
        );
    }

    #[test]
    fn a_long_reason_is_cut_and_no_watch_says_so() {
        let long = info(
            "instrument",
            WatchState::NeedsAttention,
            "Needs attention: The repository ada/data no longer exists on the server. Choose another place for this watch, or remove it.",
        );
        let line = watch_line(&long);
        assert!(
            line.starts_with("instrument → ada/data: Needs attention: The repository"),
            "{line}"
        );
        assert!(line.ends_with('…'), "{line}");
        assert!(line.chars().count() <= MAX_LINE, "{line}");
        assert_eq!(
            menu_lines(&[]),
            [
                Some("No folders are kept uploaded".to_owned()),
                None,
                Some("Open OxDrop".to_owned()),
                Some("Quit".to_owned()),
            ]
        );
    }
}

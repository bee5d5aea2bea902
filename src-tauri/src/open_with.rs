//! "Open with OxDrop": files and folders named on the command line (the file manager's *Open
//! With* runs `oxdrop-app %F`) join the upload being prepared, exactly as an OS drop does. A second
//! launch hands its paths to the running window over D-Bus and exits (tauri-plugin-single-instance).
//!
//! These paths come from the user's own session (the command line, or another process of the same
//! user on the session bus), never from the page: they only ever fill the list the user reviews
//! before anything is sent.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use tauri::{AppHandle, Emitter, Manager, Runtime};

use crate::SOURCES_CHANGED;
use crate::state::AppState;

/// The variables that give an app instance a profile of its own (settings, data, keychain).
const PROFILE_VARS: [&str; 3] = [
    "OXDROP_CONFIG_DIR",
    "OXDROP_DATA_DIR",
    "OXDROP_KEYCHAIN_SERVICE",
];

/// The paths among `args` (the program's arguments, without the program itself). Options
/// (anything starting with `-`) and empty arguments are skipped; relative paths are taken from
/// `cwd`. Paths stay `OsString`s: a file name that is not valid Unicode is kept as it is.
pub fn paths_from_args(args: impl IntoIterator<Item = OsString>, cwd: &Path) -> Vec<PathBuf> {
    args.into_iter()
        .filter(|arg| !arg.is_empty() && !arg.as_encoded_bytes().starts_with(b"-"))
        // `join` keeps an absolute path as it is.
        .map(|arg| cwd.join(arg))
        .collect()
}

/// This process's own command-line paths.
pub fn own_paths() -> Vec<PathBuf> {
    let cwd = std::env::current_dir().unwrap_or_default();
    paths_from_args(std::env::args_os().skip(1), &cwd)
}

/// The D-Bus name prefix that makes a launch "the same app": the identifier for the user's app,
/// and one per profile when a profile variable is set, so instances with separate settings (the
/// tests, which share one session bus; portable use) never hand their files to each other.
pub fn instance_id(identifier: &str, profile: &[(&str, Option<OsString>)]) -> String {
    if profile.iter().all(|(_, value)| value.is_none()) {
        return identifier.to_owned();
    }
    let mut key = Vec::new();
    for (name, value) in profile {
        key.extend_from_slice(name.as_bytes());
        key.push(b'=');
        if let Some(value) = value {
            key.extend_from_slice(value.as_encoded_bytes());
        }
        key.push(0);
    }
    // A D-Bus name element: letters, digits, `_`, `-`, not starting with a digit.
    format!(
        "{identifier}.profile_{}",
        oxdrop_core::hash::hash_bytes(&key)
    )
}

fn profile_from_env() -> Vec<(&'static str, Option<OsString>)> {
    PROFILE_VARS
        .iter()
        .map(|name| (*name, std::env::var_os(name)))
        .collect()
}

/// The single-instance plugin. Register it before every other plugin: a second launch exits
/// while it is set up, before anything else starts. Without a session bus the app starts anyway
/// (the plugin logs a warning), only without forwarding.
pub fn single_instance<R: Runtime>(identifier: &str) -> tauri::plugin::TauriPlugin<R> {
    tauri_plugin_single_instance::Builder::new()
        .dbus_id(instance_id(identifier, &profile_from_env()))
        .callback(|app, argv, cwd| {
            // argv[0] is the second launch's program. The plugin hands the rest over as
            // (lossy) strings: a name that is not valid Unicode will not be found, and is logged.
            let paths = paths_from_args(
                argv.into_iter().skip(1).map(OsString::from),
                Path::new(&cwd),
            );
            tracing::info!(count = paths.len(), "opened by a second launch");
            open_paths(app, paths);
        })
        .build()
}

/// Adds `paths` to the files of the upload being prepared, tells the page, and brings the window
/// to the front. Runs on the plugin's D-Bus thread, which the second launch waits on: only quick
/// calls here. The list lives in `AppState`, so a page that has not loaded yet reads it when it
/// does (`list_sources`).
pub fn open_paths<R: Runtime>(app: &AppHandle<R>, paths: Vec<PathBuf>) {
    if let Some(state) = app.try_state::<AppState>() {
        let view = state.add_sources(paths);
        let _ = app.emit_to("main", SOURCES_CHANGED, view);
    }
    crate::tray::show_window(app);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStringExt;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn options_and_empty_arguments_are_skipped_and_relative_paths_joined() {
        let cwd = Path::new("/home/ada/data");
        let got = paths_from_args(
            args(&[
                "a.csv",
                "--verbose",
                "-",
                "",
                "/tmp/b c.bin",
                "sub/../d",
                "./e",
            ]),
            cwd,
        );
        assert_eq!(
            got,
            [
                PathBuf::from("/home/ada/data/a.csv"),
                PathBuf::from("/tmp/b c.bin"),
                PathBuf::from("/home/ada/data/sub/../d"),
                PathBuf::from("/home/ada/data/./e"),
            ]
        );
    }

    #[test]
    fn a_name_that_is_not_unicode_is_kept_byte_for_byte() {
        let raw = OsString::from_vec(b"caf\xe9.txt".to_vec());
        let got = paths_from_args([raw.clone()], Path::new("/x"));
        assert_eq!(got, [Path::new("/x").join(raw)]);
    }

    #[test]
    fn the_users_app_keeps_the_identifier_and_each_profile_has_its_own_name() {
        let id = "ai.oxdrop.desktop";
        let none = [("OXDROP_DATA_DIR", None), ("OXDROP_KEYCHAIN_SERVICE", None)];
        assert_eq!(instance_id(id, &none), id);
        let one = [
            ("OXDROP_DATA_DIR", Some(OsString::from("/tmp/a"))),
            (
                "OXDROP_KEYCHAIN_SERVICE",
                Some(OsString::from("OxDrop-e2e-1")),
            ),
        ];
        let other = [
            ("OXDROP_DATA_DIR", Some(OsString::from("/tmp/a"))),
            (
                "OXDROP_KEYCHAIN_SERVICE",
                Some(OsString::from("OxDrop-e2e-2")),
            ),
        ];
        let a = instance_id(id, &one);
        assert_eq!(a, instance_id(id, &one), "the same profile, the same name");
        assert_ne!(a, instance_id(id, &other));
        assert_ne!(a, id);
        // A valid D-Bus name once the plugin appends ".SingleInstance".
        let element = a.rsplit('.').next().unwrap();
        assert!(element.starts_with("profile_"), "{a}");
        assert!(
            element
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "{a}"
        );
        assert!(a.len() + ".SingleInstance".len() <= 255);
    }
}

//! "Open with OxDrop": files named on the app's command line join the upload being prepared,
//! and a second launch (a double-click in the file manager while OxDrop runs) hands its files to
//! the running window and exits instead of opening another one.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use oxdrop_tests::desktop::{Desktop, Launch, app_bin, tail};
use oxdrop_tests::{OxenServer, fixtures};

use crate::steps::{LONG, create_repo, launch_on_sandbox, review, use_sandbox};

/// How long a second launch may take to hand over its files and exit.
const HANDOVER: Duration = Duration::from_secs(20);

#[tokio::test]
async fn files_named_on_the_command_line_are_in_the_list_after_sign_in() {
    let server = OxenServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let file = fixtures::write_file(&tmp.path().join("opened é.csv"), 2_000, 31);
    let folder = tmp.path().join("Opened folder");
    fixtures::small_tree(&folder, 3, 100, 1_000, 32);
    let app = Desktop::launch(Launch {
        sandbox: Some(server.url()),
        args: vec![
            file.to_string_lossy().into_owned(),
            "--an-option-is-not-a-file".into(),
            folder.to_string_lossy().into_owned(),
        ],
        ..Launch::default()
    })
    .await;
    // The page asks for the list only once signed in: nothing was lost in between.
    use_sandbox(&app).await;
    let listed = app
        .wait_text("[data-testid=sources]", LONG, |t| {
            t.contains("opened é.csv") && t.contains("Opened folder")
        })
        .await;
    assert!(!listed.contains("an-option"), "{listed}");
    app.screenshot("open-with-01-command-line").await;
    // They are real sources: the review plans them.
    create_repo(&app, "opened").await;
    review(&app, "4 new files").await;
    app.quit().await;
}

#[tokio::test]
async fn a_second_launch_hands_its_files_to_the_running_window_and_exits() {
    let server = OxenServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let app = launch_on_sandbox(&server).await;
    app.find("[data-testid=add-files]").await;
    assert_eq!(app.visible_windows("OxDrop"), 1);
    let elsewhere = app.focus_elsewhere().await;

    // From a terminal: the same program, the same user and desktop, a path relative to the
    // folder it is started in.
    fixtures::write_file(&tmp.path().join("second.csv"), 1_500, 33);
    let started = Instant::now();
    let mut second = app
        .command_in_same_session(app_bin())
        .arg("second.csv")
        .current_dir(tmp.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = loop {
        if let Some(status) = second.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > HANDOVER {
            let windows = app.visible_windows("OxDrop");
            let _ = second.kill();
            let out = second.wait_with_output().unwrap();
            panic!(
                "the second launch still runs after {HANDOVER:?} ({windows} OxDrop windows shown):\n{}",
                tail(&String::from_utf8_lossy(&out.stderr), 3000)
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let out = second.wait_with_output().unwrap();
    assert!(
        status.success(),
        "{status}:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    app.wait_text("[data-testid=sources]", LONG, |t| t.contains("second.csv"))
        .await;
    assert_eq!(app.visible_windows("OxDrop"), 1, "a second window opened");
    // Docks match the window to the launcher by its WM_CLASS: the desktop entry's
    // StartupWMClass, the binary's name.
    let window = app.xdotool(&["search", "--onlyvisible", "--name", "^OxDrop$"]);
    let class = std::process::Command::new("xprop")
        .args(["-display", &app.display, "-id", window.trim(), "WM_CLASS"])
        .output()
        .unwrap();
    let class = String::from_utf8_lossy(&class.stdout);
    assert!(class.contains("\"oxdrop-app\""), "{class}");
    // The running window comes to the front.
    let focused = app.xdotool(&["getwindowfocus", "-f", "getwindowname"]);
    assert_eq!(focused, "OxDrop");
    drop(elsewhere);
    app.screenshot("open-with-02-second-launch").await;

    // From the file manager: *Open With* runs the installed desktop entry's `Exec` line, `%F`
    // becoming one argument per chosen file or folder, spaces and all.
    let entry = tmp.path().join("oxdrop.desktop");
    std::fs::write(&entry, desktop_entry_for(&app_bin())).unwrap();
    let spaced = fixtures::write_file(&tmp.path().join("with space.bin"), 2_500, 34);
    let folder = tmp.path().join("A folder");
    fixtures::small_tree(&folder, 2, 100, 500, 35);
    let gio = app
        .command_in_same_session("gio")
        .arg("launch")
        .arg(&entry)
        .arg(&spaced)
        .arg(&folder)
        .output()
        .unwrap();
    assert!(
        gio.status.success(),
        "gio launch: {}",
        String::from_utf8_lossy(&gio.stderr)
    );
    app.wait_text("[data-testid=sources]", LONG, |t| {
        t.contains("with space.bin") && t.contains("A folder") && t.contains("second.csv")
    })
    .await;
    // Give a wrongly started second app the time to show its window.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(app.visible_windows("OxDrop"), 1, "a second window opened");
    app.quit().await;
}

/// `src-tauri/oxdrop.desktop` as the bundler renders it, running `exec` (the bundler writes the
/// installed binary's name there).
fn desktop_entry_for(exec: &Path) -> String {
    let template =
        std::fs::read_to_string(oxdrop_tests::repo_root().join("src-tauri/oxdrop.desktop"))
            .unwrap();
    let rendered = template
        .replace("{{exec}}", &exec.to_string_lossy())
        .replace("{{icon}}", "oxdrop-app")
        .replace("{{categories}}", "Utility;")
        .replace("{{comment}}", "Drop files into Oxen repositories");
    assert!(
        !rendered.contains("{{"),
        "a template variable is left:\n{rendered}"
    );
    rendered
}

/// Without a session bus a second launch cannot find the running window: the app starts as
/// usual all the same (and says why in its log), only without handing files over.
#[tokio::test]
async fn without_a_session_bus_the_app_starts_anyway() {
    let server = OxenServer::start();
    let app = Desktop::launch(Launch {
        sandbox: Some(server.url()),
        env: vec![(
            "DBUS_SESSION_BUS_ADDRESS".into(),
            "unix:path=/nonexistent/oxdrop-test-bus".into(),
        )],
        ..Launch::default()
    })
    .await;
    app.find("[data-testid=use-sandbox]").await;
    assert_eq!(app.visible_windows("OxDrop"), 1);
    let log = app.app_log();
    assert!(
        log.contains("single-instance: D-Bus session bus unavailable, launching normally"),
        "{}",
        tail(&log, 3000)
    );
    app.quit().await;
}

//! A watched folder set up in the real window: the native folder dialog, the destination
//! pickers, a short settle; files written into the folder reach the server as one commit with
//! exactly those files; closing the window hides it while the watch goes on uploading; a
//! second launch shows it again.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use oxdrop_core::model::Commit;
use oxdrop_core::{OxenClient, RepoRef};
use oxdrop_tests::desktop::{Desktop, Launch, Notifications, app_bin, tail};
use oxdrop_tests::watching::remote_files;
use oxdrop_tests::{OxenServer, fixtures, oxenpy};

use crate::steps::{
    BrowserRecorder, LONG, create_repo, open_dialog, unlabeled_controls, use_sandbox,
};

/// Where the watch puts the folder in the repository.
const DEST: &str = "runs";

/// The native dialog of *Keep a folder uploaded…*.
const FOLDER_DIALOG: &str = "Choose a folder to keep uploaded";

/// How long the watch may take to upload what was written (3 s for files to settle, 2 s of
/// quiet, the upload itself, on a busy machine).
const UPLOADED: Duration = Duration::from_secs(120);

/// The branch's commits, newest first, without the empty one oxen-server starts with.
async fn commits(client: &OxenClient, repo: &RepoRef) -> Vec<Commit> {
    let mut commits = client.commits(repo, "main", 100).await.unwrap_or_default();
    commits.retain(|c| !(c.parent_ids.is_empty() && c.author == "Oxen"));
    commits
}

async fn wait_for_commits(
    app: &Desktop,
    client: &OxenClient,
    repo: &RepoRef,
    n: usize,
) -> Vec<Commit> {
    let started = Instant::now();
    loop {
        let found = commits(client, repo).await;
        if found.len() >= n {
            return found;
        }
        assert!(
            started.elapsed() < UPLOADED,
            "{} commits after {UPLOADED:?}, waited for {n}; app log:\n{}",
            found.len(),
            tail(&app.app_log(), 4000)
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Every file under `runs/` at `revision`, relative to it.
async fn files_at(client: &OxenClient, repo: &RepoRef, revision: &str) -> Vec<String> {
    remote_files(client, repo, revision, DEST)
        .await
        .into_keys()
        .collect()
}

/// The commits' author, typed in the form (nothing was uploaded before to remember one).
async fn set_watch_author(app: &Desktop) {
    app.fill("[data-testid=watch-author-name]", "Ada Watcher")
        .await;
    app.fill("[data-testid=watch-author-email]", "ada@example.com")
        .await;
}

/// What the window shows of the one watch: its state and its last commit.
async fn shown(app: &Desktop) -> (String, Option<String>) {
    let js = r#"
        const e = document.querySelector('[data-testid=watch-entry]');
        return [e?.dataset.state ?? '',
                e?.querySelector('[data-testid=watch-commit]')?.dataset.commit ?? null];"#;
    serde_json::from_value(app.client.execute(js, vec![]).await.unwrap()).unwrap()
}

async fn wait_shown(app: &Desktop, state: &str, commit: &str) {
    let started = Instant::now();
    loop {
        let (s, c) = shown(app).await;
        if s == state && c.as_deref() == Some(commit) {
            return;
        }
        if started.elapsed() > LONG {
            app.screenshot("watch-timeout").await;
            panic!(
                "the watch shows {s} / {c:?}, not {state} / {commit}:\n{}",
                tail(&app.app_log(), 4000)
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The tray menu's lines as the desktop's tray reads them (over D-Bus: the indicator exports
/// its menu on the session bus, tray host or not); empty while there is none.
fn tray_menu(app: &Desktop, pid: u32) -> Vec<String> {
    let out = app
        .command_in_same_session("/usr/bin/python3")
        .arg(oxdrop_tests::repo_root().join("tests/py/tray_menu.py"))
        .arg(pid.to_string())
        .output()
        .unwrap();
    if !out.status.success() {
        return Vec::new();
    }
    let items: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    items
        .iter()
        .map(|i| match i["type"].as_str() {
            Some("separator") => "---".to_owned(),
            _ => i["label"].as_str().unwrap_or_default().to_owned(),
        })
        .collect()
}

/// Waits until the tray menu reads `want`.
async fn wait_tray(app: &Desktop, pid: u32, want: &[&str]) {
    let started = Instant::now();
    loop {
        let menu = tray_menu(app, pid);
        if menu == want {
            return;
        }
        assert!(
            started.elapsed() < LONG,
            "the tray menu reads {menu:?}, not {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Clicks a line of the tray menu, as a person does in the desktop's tray.
fn click_tray(app: &Desktop, pid: u32, label: &str) {
    let status = app
        .command_in_same_session("/usr/bin/python3")
        .arg(oxdrop_tests::repo_root().join("tests/py/tray_menu.py"))
        .arg(pid.to_string())
        .args(["click", label])
        .status()
        .unwrap();
    assert!(status.success(), "clicking {label} in the tray: {status}");
}

/// Whether the process runs (a zombie has ended).
fn process_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit(')')
            .next()
            .is_some_and(|s| !s.trim_start().starts_with('Z'))
    })
}

/// `oxdrop watch run` in the app's profile while the app runs the watches: it refuses at once,
/// saying why, instead of running the same watches a second time.
fn the_command_line_refuses_to_run_them_too(app: &Desktop) {
    let mut run = app
        .command_in_same_session(oxdrop_tests::cli::cli_bin())
        .args(["watch", "run"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while run.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(20) {
            let _ = run.kill();
            panic!("`oxdrop watch run` runs the watches the app runs");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = run.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{said}");
    assert!(
        said.contains("Another OxDrop is already keeping these folders uploaded"),
        "{said}"
    );
}

async fn wait_windows(app: &Desktop, n: usize, what: &str) {
    let started = Instant::now();
    while app.visible_windows("OxDrop") != n {
        assert!(started.elapsed() < LONG, "{what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Watched folders → *Keep a folder uploaded…*: `folder` from the native dialog, a new
/// repository `repo` (folder `runs` in it), once changes settled for 2 seconds, deletions not
/// mirrored (with `look_around`: the confirmation asked and declined, labels checked, a
/// screenshot of the form).
async fn set_up_watch(app: &Desktop, folder: &Path, repo: &str, look_around: bool) {
    // Watched folders → Keep a folder uploaded…: the folder from the native dialog.
    app.click("[data-testid=show-watches]").await;
    app.find("[data-testid=watches-empty]").await;
    app.click("[data-testid=watch-new]").await;
    open_dialog(app, "[data-testid=watch-pick-folder]", FOLDER_DIALOG).await;
    app.choose_in_dialog(FOLDER_DIALOG, folder, None).await;
    let name = folder.file_name().unwrap().to_string_lossy().into_owned();
    app.wait_text("[data-testid=watch-picked]", LONG, |t| t.ends_with(&name))
        .await;
    // Where: a new repository, into a folder of it; when: once changes settled for 2 seconds.
    create_repo(app, repo).await;
    app.fill("[data-testid=dest-input]", DEST).await;
    app.find("[data-testid=dest-input]")
        .await
        .send_keys("\u{E004}")
        .await
        .unwrap();
    app.fill("[data-testid=rhythm-quiet]", "2").await;
    app.find("[data-testid=rhythm-unit]")
        .await
        .select_by_value("seconds")
        .await
        .unwrap();
    set_watch_author(app).await;
    if look_around {
        // Mirroring deletions asks first, saying what it means; declined, it stays off.
        app.click("[data-testid=watch-mirror]").await;
        let asked = app.text("[data-testid=mirror-confirm]").await;
        assert!(
            asked.contains(&format!("will also be deleted from {repo}")),
            "{asked}"
        );
        app.click_text("mirror-confirm", "No, keep them").await;
        let mirrored = app
            .find("[data-testid=watch-mirror]")
            .await
            .prop("checked")
            .await
            .unwrap();
        assert_eq!(mirrored.as_deref(), Some("false"));
        let unlabeled = unlabeled_controls(app).await;
        assert!(unlabeled.is_empty(), "{unlabeled:?}");
        app.screenshot("17-watch-setup").await;
    }
    app.click("[data-testid=watch-add]").await;
}

fn expect(folder: &Path, rels: &[&str]) -> Vec<(String, PathBuf)> {
    rels.iter()
        .map(|r| (format!("{DEST}/{r}"), folder.join(r)))
        .collect()
}

#[tokio::test]
async fn a_folder_watched_from_the_window_is_uploaded_and_keeps_uploading_with_the_window_closed() {
    let server = OxenServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let folder = tmp.path().join("instrument");
    std::fs::create_dir_all(&folder).unwrap();
    let browser = BrowserRecorder::new();
    let app = Desktop::launch(Launch {
        sandbox: Some(server.url()),
        env: vec![browser.env()],
        ..Launch::default()
    })
    .await;
    use_sandbox(&app).await;
    let pid = app.app_pid();
    wait_tray(
        &app,
        pid,
        &["No folders are kept uploaded", "---", "Open OxDrop", "Quit"],
    )
    .await;

    set_up_watch(&app, &folder, "watched", true).await;
    app.wait_text("[data-testid=watch-state]", LONG, |t| t == "Up to date")
        .await;

    // Files land in the folder: one commit with exactly those files, shown as up to date.
    fixtures::write_file(&folder.join("run-001.csv"), 40_000, 71);
    fixtures::write_file(&folder.join("spectra/run-001.bin"), 300_000, 72);
    let client = server.client();
    let repo = RepoRef::new("sandbox", "watched").unwrap();
    let first = wait_for_commits(&app, &client, &repo, 1).await;
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(first[0].author, "Ada Watcher");
    assert_eq!(
        files_at(&client, &repo, &first[0].id).await,
        ["run-001.csv", "spectra/run-001.bin"]
    );
    let rels = ["run-001.csv", "spectra/run-001.bin"];
    oxenpy::assert_uploaded(
        &server.url(),
        "sandbox/watched",
        &first[0].id,
        &expect(&folder, &rels),
    );
    wait_shown(&app, "up_to_date", &first[0].id).await;
    // *Open in browser* opens that commit.
    app.click("[data-testid=watch-open]").await;
    let opened = browser.opened().await;
    assert!(opened.contains(&first[0].id), "{opened}");
    let unlabeled = unlabeled_controls(&app).await;
    assert!(unlabeled.is_empty(), "{unlabeled:?}");
    app.screenshot("18-watches").await;
    the_command_line_refuses_to_run_them_too(&app);
    // The tray menu says the same.
    let up_to_date = [
        "instrument → sandbox/watched: Up to date",
        "---",
        "Open OxDrop",
        "Quit",
    ];
    wait_tray(&app, pid, &up_to_date).await;

    // The window closed: it is hidden, says so in a notification (a desktop may show no tray
    // icon), and the app keeps running and uploads what comes next.
    let notifications = Notifications::watch();
    app.close_window("OxDrop");
    wait_windows(&app, 0, "the window never went away").await;
    let seen = notifications
        .wait_for(
            "keeps uploading to sandbox/watched. Open OxDrop again",
            Duration::from_secs(15),
        )
        .await;
    assert!(seen.contains("OxDrop is still running"), "{seen}");
    fixtures::write_file(&folder.join("run-002.csv"), 50_000, 73);
    let second = wait_for_commits(&app, &client, &repo, 2).await;
    assert_eq!(second.len(), 2, "{second:?}");
    assert_eq!(
        files_at(&client, &repo, &second[0].id).await,
        ["run-001.csv", "run-002.csv", "spectra/run-001.bin"]
    );
    oxenpy::assert_uploaded(
        &server.url(),
        "sandbox/watched",
        &second[0].id,
        &expect(&folder, &["run-002.csv"]),
    );
    assert!(
        app.app_log().contains("window hidden"),
        "{}",
        tail(&app.app_log(), 3000)
    );

    wait_tray(&app, pid, &up_to_date).await;

    // *Open OxDrop* in the tray shows the window; closed again, launching OxDrop again shows it
    // too.
    click_tray(&app, pid, "Open OxDrop");
    wait_windows(&app, 1, "Open OxDrop never showed the window").await;
    app.close_window("OxDrop");
    wait_windows(&app, 0, "the window never went away the second time").await;
    let mut again = app
        .command_in_same_session(app_bin())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = again.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the second launch still runs"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(status.success(), "{status}");
    wait_windows(&app, 1, "the second launch never showed the window").await;
    wait_shown(&app, "up_to_date", &second[0].id).await;

    // Stop watching (confirmed): what was uploaded stays; the window then closes as usual.
    app.click("[data-testid=watch-remove]").await;
    app.click("[data-testid=watch-remove-yes]").await;
    app.find("[data-testid=watches-empty]").await;
    let kept = files_at(&client, &repo, "main").await;
    assert_eq!(kept.len(), 3, "{kept:?}");
    wait_tray(
        &app,
        pid,
        &["No folders are kept uploaded", "---", "Open OxDrop", "Quit"],
    )
    .await;
    // *Quit* in the tray ends the app.
    click_tray(&app, pid, "Quit");
    let started = Instant::now();
    while process_alive(pid) {
        assert!(started.elapsed() < LONG, "Quit never ended the app");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.quit().await;
}

/// `oxdrop watch run` in the same profile, stopped (SIGTERM, as at logout) when dropped.
struct CommandLineWatches(std::process::Child);

impl CommandLineWatches {
    fn start(home: &Path, keychain: &str, log: &Path) -> CommandLineWatches {
        let child = std::process::Command::new(oxdrop_tests::cli::cli_bin())
            .args(["watch", "run"])
            .env("OXDROP_CONFIG_DIR", home.join("config"))
            .env("OXDROP_DATA_DIR", home.join("data"))
            .env("OXDROP_KEYCHAIN_SERVICE", keychain)
            .stdout(std::fs::File::create(log).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        CommandLineWatches(child)
    }

    fn stop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.0.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let _ = self.0.wait();
    }
}

impl Drop for CommandLineWatches {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn while_oxdrop_watch_run_has_the_watches_the_window_says_so_and_takes_over_when_it_stops() {
    let server = OxenServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let keychain = oxdrop_tests::unique_name("OxDrop-e2e");
    let folder = tmp.path().join("exports");
    std::fs::create_dir_all(&folder).unwrap();
    let cli_log = tmp.path().join("watch-run.txt");
    // The command line runs the watches first (none yet).
    let mut cli = CommandLineWatches::start(&home, &keychain, &cli_log);
    let started = Instant::now();
    while !std::fs::read_to_string(&cli_log).is_ok_and(|t| !t.is_empty())
        && !home.join("data/watches/running.lock").exists()
    {
        assert!(started.elapsed() < LONG, "`oxdrop watch run` never started");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let app = Desktop::launch(Launch {
        sandbox: Some(server.url()),
        home: Some(home.clone()),
        keychain_service: Some(keychain.clone()),
        ..Launch::default()
    })
    .await;
    use_sandbox(&app).await;

    // The window says who runs the watches, and a watch set up here is run by that process.
    set_up_watch(&app, &folder, "exported", false).await;
    let said = app
        .wait_text("[data-testid=watches-elsewhere]", LONG, |t| !t.is_empty())
        .await;
    assert!(
        said.contains("Another OxDrop is already keeping these folders uploaded"),
        "{said}"
    );
    app.wait_text("[data-testid=watch-state]", LONG, |t| {
        t == "Kept uploaded by another OxDrop"
    })
    .await;
    fixtures::write_file(&folder.join("export-1.csv"), 20_000, 81);
    let client = server.client();
    let repo = RepoRef::new("sandbox", "exported").unwrap();
    let first = wait_for_commits(&app, &client, &repo, 1).await;
    assert_eq!(
        files_at(&client, &repo, &first[0].id).await,
        ["export-1.csv"]
    );

    // `watch run` stops: the app takes the watches over, shows the state, and uploads.
    cli.stop();
    let started = Instant::now();
    let gone = "return document.querySelector('[data-testid=watches-elsewhere]') === null";
    while app.client.execute(gone, vec![]).await.unwrap() != true {
        assert!(
            started.elapsed() < LONG,
            "the app never took the watches over"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    wait_shown(&app, "up_to_date", &first[0].id).await;
    fixtures::write_file(&folder.join("export-2.csv"), 20_000, 82);
    let second = wait_for_commits(&app, &client, &repo, 2).await;
    assert_eq!(second.len(), 2, "{second:?}");
    assert_eq!(
        files_at(&client, &repo, &second[0].id).await,
        ["export-1.csv", "export-2.csv"]
    );
    wait_shown(&app, "up_to_date", &second[0].id).await;
    app.click("[data-testid=watch-remove]").await;
    app.click("[data-testid=watch-remove-yes]").await;
    app.find("[data-testid=watches-empty]").await;
    app.quit().await;
}

#[tokio::test]
async fn a_file_someone_else_changed_on_the_server_waits_for_upload_mine_in_the_window() {
    let server = OxenServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let folder = tmp.path().join("lab");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("shared.csv"), b"v1").unwrap();
    std::fs::write(folder.join("notes.csv"), b"n1").unwrap();
    let app = crate::steps::launch_on_sandbox(&server).await;
    set_up_watch(&app, &folder, "shared", false).await;
    let client = server.client();
    let repo = RepoRef::new("sandbox", "shared").unwrap();
    let first = wait_for_commits(&app, &client, &repo, 1).await;
    wait_shown(&app, "up_to_date", &first[0].id).await;

    // A colleague fixes shared.csv on the server; then the instrument rewrites it here.
    oxenpy::commit_as(
        &server.url(),
        "sandbox/shared",
        "main",
        ("Colleague", "colleague@example.com"),
        "fix a value",
        oxenpy::Change::Put(&format!("{DEST}/shared.csv"), b"v1 fixed on the server"),
    );
    std::fs::write(folder.join("shared.csv"), b"v2 from the instrument").unwrap();
    app.wait_text("[data-testid=watch-conflicts]", UPLOADED, |t| {
        t.contains("shared.csv") && t.contains("changed on the server")
    })
    .await;
    assert_eq!(shown(&app).await.0, "needs_attention");
    let attention = app.text("[data-testid=watch-attention]").await;
    assert!(
        attention.contains("1 file changed on the server by someone else")
            && attention.contains("Upload mine"),
        "{attention}"
    );
    assert_eq!(
        commits(&client, &repo).await.len(),
        2,
        "theirs was overwritten"
    );
    let unlabeled = unlabeled_controls(&app).await;
    assert!(unlabeled.is_empty(), "{unlabeled:?}");
    app.screenshot("19-watch-conflict").await;

    // *Upload mine*: the next commit puts this computer's version over theirs.
    app.click("[data-testid=upload-mine]").await;
    let third = wait_for_commits(&app, &client, &repo, 3).await;
    oxenpy::assert_uploaded(
        &server.url(),
        "sandbox/shared",
        &third[0].id,
        &expect(&folder, &["shared.csv", "notes.csv"]),
    );
    wait_shown(&app, "up_to_date", &third[0].id).await;
    app.click("[data-testid=watch-remove]").await;
    app.click("[data-testid=watch-remove-yes]").await;
    app.find("[data-testid=watches-empty]").await;
    app.quit().await;
}

//! A day of uploads in the real window: two uploads queued to two repositories (the second
//! prepared while the first runs), the first paused and resumed, both found in the history with
//! their commits, *Copy link* read back from the X clipboard, and a restart mid-queue that keeps
//! the list, offers the interrupted upload, and stops one whose repository was deleted.

use std::path::Path;
use std::time::{Duration, Instant};

use oxdrop_core::RepoRef;
use oxdrop_tests::desktop::{Desktop, Launch};
use oxdrop_tests::faults::{Fault, FaultProxy, Rule};
use oxdrop_tests::server::OxenServer;
use oxdrop_tests::{fixtures, oxenpy};

use crate::steps::{
    BrowserRecorder, LONG, add_file_with_dialog, create_repo, drop_on_window, repo_selected,
    review, set_author, use_sandbox,
};

/// An upload of the list as the window shows it.
#[derive(Debug, Clone, serde::Deserialize)]
struct Shown {
    repo: String,
    state: String,
    commit: Option<String>,
    problem: Option<String>,
}

async fn shown(app: &Desktop) -> Vec<Shown> {
    let js = r#"
        return [...document.querySelectorAll('[data-testid=upload-entry]')].map((e) => ({
            repo: e.querySelector('[data-testid=entry-repo]')?.textContent ?? '',
            state: e.dataset.state,
            commit: e.querySelector('[data-testid=entry-commit]')?.dataset.commit ?? null,
            problem: e.querySelector('[data-testid=entry-problem]')?.textContent ?? null,
        }));"#;
    serde_json::from_value(app.client.execute(js, vec![]).await.unwrap()).unwrap()
}

/// Waits until the list, as shown, satisfies `ok`.
async fn wait_list(app: &Desktop, what: &str, ok: impl Fn(&[Shown]) -> bool) -> Vec<Shown> {
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let list = shown(app).await;
        if ok(&list) {
            return list;
        }
        if Instant::now() > deadline {
            app.screenshot("queue-timeout").await;
            panic!(
                "the uploads never showed {what}: {list:?}\n{}",
                app.app_log()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn states(list: &[Shown]) -> Vec<(&str, &str)> {
    list.iter()
        .map(|s| (s.repo.as_str(), s.state.as_str()))
        .collect()
}

/// *New repository…* while the list above it changes height (an upload starting or ending
/// moves the link): clicked again until the form is open.
async fn create_repo_while_uploading(app: &Desktop, name: &str) {
    let open = "return document.querySelector('[data-testid=new-repo-name]') !== null;";
    for _ in 0..5 {
        if app.client.execute(open, vec![]).await.unwrap() == serde_json::json!(true) {
            break;
        }
        app.click("[data-testid=new-repo]").await;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    app.fill("[data-testid=new-repo-name]", name).await;
    app.click("[data-testid=create-repo]").await;
    repo_selected(app, name).await;
}

/// Reviews what was added and puts it in the list with *Upload* (it waits while another runs).
async fn review_and_queue(app: &Desktop) {
    review(app, "1 new file").await;
    set_author(app, "Ada", "ada@example.com").await;
    app.click("[data-testid=upload]").await;
}

fn clipboard(app: &Desktop) -> String {
    let out = std::process::Command::new("xclip")
        .args(["-o", "-selection", "clipboard"])
        .env("DISPLAY", &app.display)
        .output()
        .expect("xclip (scripts/setup installs it)");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// How big the big files are: 26 parts of the server's 10 MiB.
const BIG: u64 = 256 * 1024 * 1024;

/// Every part of a big file answered twelve seconds late (well inside the 30 s after which an
/// answer counts as stalled): with six parts in flight, a `BIG` file takes about a minute, long
/// enough to be paused or waited behind, without gigabytes to write, send and check.
fn slow_parts() -> Vec<Rule> {
    vec![Rule::new(
        "/parts/",
        1,
        1,
        Fault::Stall(Duration::from_secs(12)),
    )]
}

/// The app on `home` (kept across restarts), signed in to the sandbox at `server`.
async fn launch(server: &str, home: &Path, keychain: &str, browser: &BrowserRecorder) -> Desktop {
    Desktop::launch(Launch {
        sandbox: Some(server.to_owned()),
        home: Some(home.to_path_buf()),
        keychain_service: Some(keychain.to_owned()),
        env: vec![browser.env()],
        ..Default::default()
    })
    .await
}

#[tokio::test]
async fn queue_two_uploads_pause_resume_find_them_in_history_and_survive_a_restart() {
    let server = OxenServer::start();
    let proxy = FaultProxy::start(server.port(), slow_parts()).await;
    let browser = BrowserRecorder::new();
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let keychain = oxdrop_tests::unique_name("OxDrop-e2e");
    let app = launch(&proxy.url(), &home, &keychain, &browser).await;
    use_sandbox(&app).await;

    // The first upload runs; the second is prepared meanwhile and waits for its turn.
    create_repo(&app, "queue-one").await;
    let big = fixtures::write_file(&tmp.path().join("big.bin"), BIG, 61);
    add_file_with_dialog(&app, &big, None).await;
    review_and_queue(&app).await;
    wait_list(&app, "the first upload running", |l| {
        states(l) == [("sandbox/queue-one", "running")]
    })
    .await;
    create_repo_while_uploading(&app, "queue-two").await;
    let notes = fixtures::write_file(&tmp.path().join("notes.txt"), 2000, 62);
    drop_on_window(&app, &notes, "notes.txt").await;
    review_and_queue(&app).await;
    wait_list(&app, "the second waiting behind the first", |l| {
        states(l)
            == [
                ("sandbox/queue-one", "running"),
                ("sandbox/queue-two", "queued"),
            ]
    })
    .await;
    app.wait_text("[data-testid=entry-bar]", LONG, |_| true)
        .await;
    // The window title shows the percentage (waits until the window manager has it).
    app.window("^[0-9]+% .+ OxDrop$");
    app.screenshot("14-uploads").await;

    // Pause the first: the server is free, so the second runs; then resume the first.
    app.click("[data-testid=upload-entry][data-state=running] [data-testid=entry-pause]")
        .await;
    wait_list(&app, "the first paused and the second done", |l| {
        states(l)
            == [
                ("sandbox/queue-one", "paused"),
                ("sandbox/queue-two", "done"),
            ]
    })
    .await;
    // The paused one says what of it is on the server for good: its one file is not, until all
    // of it is there (the server keeps an unfinished file's parts in memory, a minute at most).
    app.wait_text(
        "[data-testid=upload-entry][data-state=paused] [data-testid=entry-sent]",
        LONG,
        |t| t == "None of its files is on the server yet." || t.contains("1 of 1 file ("),
    )
    .await;
    // The rest of the first needs no more waiting: it goes at the server's pace.
    proxy.set_rules(vec![]);
    app.click("[data-testid=upload-entry][data-state=paused] [data-testid=entry-resume]")
        .await;
    let list = wait_list(&app, "both done", |l| {
        l.len() == 2 && l.iter().all(|s| s.state == "done")
    })
    .await;
    let (one, two) = (
        list[0].commit.clone().unwrap(),
        list[1].commit.clone().unwrap(),
    );
    let report = oxenpy::assert_uploaded(
        &server.url(),
        "sandbox/queue-one",
        "main",
        &[("big.bin".into(), big.clone())],
    );
    assert_eq!(report.log[0].id, one, "{:?}", report.log);
    let report = oxenpy::assert_uploaded(
        &server.url(),
        "sandbox/queue-two",
        "main",
        &[("notes.txt".into(), notes.clone())],
    );
    assert_eq!(report.log[0].id, two, "{:?}", report.log);

    // Both are in the history, found by repository or file name, with their commits.
    app.click("[data-testid=show-history]").await;
    app.wait_text("[data-testid=history]", LONG, |t| {
        t.contains("sandbox/queue-one") && t.contains("sandbox/queue-two")
    })
    .await;
    app.fill("[data-testid=history-search]", "queue-two").await;
    app.wait_text("[data-testid=history]", LONG, |t| !t.contains("queue-one"))
        .await;
    let found = app.find("[data-testid=history-commit]").await;
    assert_eq!(found.attr("data-commit").await.unwrap(), Some(two.clone()));
    app.fill("[data-testid=history-search]", "BIG.bin").await;
    app.wait_text("[data-testid=history]", LONG, |t| !t.contains("queue-two"))
        .await;
    let found = app.find("[data-testid=history-commit]").await;
    assert_eq!(found.attr("data-commit").await.unwrap(), Some(one.clone()));
    // Blank (WebDriver cannot type nothing): everything again.
    app.fill("[data-testid=history-search]", " ").await;
    app.wait_text("[data-testid=history]", LONG, |t| t.contains("queue-two"))
        .await;
    app.screenshot("15-history").await;

    // Copy link: the folder at the commit, on the clipboard.
    app.fill("[data-testid=history-search]", "queue-one").await;
    app.wait_text("[data-testid=history]", LONG, |t| !t.contains("queue-two"))
        .await;
    app.click("[data-testid=history-copy]").await;
    app.wait_text("[data-testid=history-copied]", LONG, |_| true)
        .await;
    let want = format!("{}/sandbox/queue-one/dir/{one}", proxy.url());
    assert_eq!(clipboard(&app), want);
    app.click("[data-testid=history-close]").await;

    // Restart mid-queue: one upload running, one waiting whose repository is then deleted.
    for left in [1, 0] {
        app.click("[data-testid=upload-entry][data-state=done] [data-testid=entry-remove]")
            .await;
        wait_list(&app, "one less", |l| l.len() == left).await;
    }
    proxy.set_rules(slow_parts());
    let big2 = fixtures::write_file(&tmp.path().join("big2.bin"), BIG, 63);
    add_file_with_dialog(&app, &big2, None).await;
    review_and_queue(&app).await;
    wait_list(&app, "the third upload running", |l| {
        states(l) == [("sandbox/queue-two", "running")]
    })
    .await;
    create_repo_while_uploading(&app, "queue-gone").await;
    let gone = fixtures::write_file(&tmp.path().join("gone.txt"), 100, 64);
    drop_on_window(&app, &gone, "gone.txt").await;
    review_and_queue(&app).await;
    wait_list(&app, "the fourth waiting", |l| {
        states(l)
            == [
                ("sandbox/queue-two", "running"),
                ("sandbox/queue-gone", "queued"),
            ]
    })
    .await;
    app.quit().await;
    server
        .client()
        .delete_repository(&RepoRef::new("sandbox", "queue-gone").unwrap())
        .await
        .unwrap();

    let app = launch(&proxy.url(), &home, &keychain, &browser).await;
    let list = wait_list(&app, "the interrupted one and the vanished one", |l| {
        states(l)
            == [
                ("sandbox/queue-two", "interrupted"),
                ("sandbox/queue-gone", "interrupted"),
            ]
            && l[1].problem.is_some()
    })
    .await;
    assert!(
        list[0].problem.as_deref().unwrap().contains("was closed"),
        "{list:?}"
    );
    assert!(
        list[1]
            .problem
            .as_deref()
            .unwrap()
            .contains("The repository sandbox/queue-gone no longer exists"),
        "{list:?}"
    );
    app.screenshot("16-uploads-after-restart").await;
    proxy.set_rules(vec![]);
    app.click("[data-testid=upload-entry]:first-child [data-testid=entry-resume]")
        .await;
    let list = wait_list(
        &app,
        "the resumed upload done, the vanished one kept",
        |l| {
            states(l)
                == [
                    ("sandbox/queue-two", "done"),
                    ("sandbox/queue-gone", "interrupted"),
                ]
        },
    )
    .await;
    let report = oxenpy::assert_uploaded(
        &server.url(),
        "sandbox/queue-two",
        "main",
        &[("notes.txt".into(), notes), ("big2.bin".into(), big2)],
    );
    assert_eq!(Some(&report.log[0].id), list[0].commit.as_ref());
    assert_eq!(report.log.len(), 2, "{:?}", report.log);
    app.click("[data-testid=upload-entry][data-state=interrupted] [data-testid=entry-discard]")
        .await;
    wait_list(&app, "the vanished one discarded", |l| {
        states(l) == [("sandbox/queue-two", "done")]
    })
    .await;
    app.quit().await;
}

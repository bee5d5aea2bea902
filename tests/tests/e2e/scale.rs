//! Many files at once: the window stays smooth and says when it is done.

use std::time::Duration;

use oxdrop_tests::OxenServer;
use oxdrop_tests::desktop::{Desktop, Notifications};

use crate::steps::{
    LONG, create_repo, current, drop_on_window, launch_on_sandbox, review, set_author,
    wait_committed,
};

/// Ten thousand files: the plan renders only what is on screen and scrolls to the end, the page
/// stays small while they upload, and the upload lands in one commit.
#[tokio::test]
async fn ten_thousand_files_stay_smooth() {
    let server = OxenServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let folder = tmp.path().join("many");
    std::fs::create_dir_all(&folder).unwrap();
    for i in 0..10_000 {
        std::fs::write(folder.join(format!("file-{i:05}.txt")), format!("{i}\n")).unwrap();
    }
    // A dock that shows progress on app icons is listening (as Ubuntu's dock does).
    let dock_log = tmp.path().join("dock.jsonl");
    let mut dock = std::process::Command::new("/usr/bin/python3")
        .arg(oxdrop_tests::repo_root().join("tests/py/fake_dock.py"))
        .stdout(std::fs::File::create(&dock_log).unwrap())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("python3-gi");
    let app = launch_on_sandbox(&server).await;
    let pid = app.app_pid();
    create_repo(&app, "ten-thousand").await;
    drop_on_window(&app, &folder, "many").await;
    review(&app, "10,000 new files").await;
    let rendered = rendered_rows(&app).await;
    assert!(
        rendered > 0 && rendered < 80,
        "only visible rows are in the page: {rendered}"
    );
    let last = app
        .client
        .execute(
            "const v = document.querySelector('[role=region]'); v.scrollTop = v.scrollHeight; \
             return new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(v.textContent))));",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        last.as_str().unwrap().contains("many/file-09999.txt"),
        "scrolled to the end"
    );
    set_author(&app, "Lots", "lots@example.com").await;
    app.click("[data-testid=upload]").await;
    app.wait_text(&current("entry-stats"), LONG, |t| !t.starts_with("0 files"))
        .await;
    // The upload's entry holds counts, not its 10,000 files: nothing in the page grows with them.
    let elements = app
        .client
        .execute("return document.querySelectorAll('*').length", vec![])
        .await
        .unwrap()
        .as_u64()
        .unwrap();
    eprintln!("elements in the page while uploading: {elements}");
    assert!(
        elements < 500,
        "the page stays small while 10,000 files upload: {elements} elements"
    );
    app.screenshot("09-ten-thousand-progress").await;
    // The user switches to another program: the end of the upload is announced by a system
    // notification (watched on the session bus).
    let notifications = Notifications::watch();
    let elsewhere = app.focus_elsewhere().await;
    wait_committed(&app, "10,000 files", Duration::from_secs(300)).await;
    let seen = notifications
        .wait_for("Uploaded to sandbox/ten-thousand", Duration::from_secs(15))
        .await;
    drop(elsewhere);
    assert!(
        seen.contains("10000 files committed to sandbox/ten-thousand (main)"),
        "{seen}"
    );
    let listing = server
        .client()
        .list_dir_all(
            &oxdrop_core::RepoRef::new("sandbox", "ten-thousand").unwrap(),
            "main",
            &oxdrop_core::RemotePath::parse("many").unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(listing.len(), 10_000);
    // The dock showed the bar on OxDrop's icon while it uploaded, and hid it at the end.
    let updates = dock_updates(&dock_log, pid, |u| {
        u.iter().any(|u| u["progress-visible"] == false)
    })
    .await;
    let _ = dock.kill();
    let _ = dock.wait();
    // Each update names only what changed: follow the icon's state through them.
    let (mut visible, mut shown) = (false, Vec::new());
    for u in updates
        .iter()
        .filter(|u| u["uri"] == "application://oxdrop.desktop")
    {
        visible = u["progress-visible"].as_bool().unwrap_or(visible);
        if let Some(p) = u["progress"].as_f64().filter(|_| visible) {
            shown.push(p);
        }
    }
    assert!(
        shown.iter().any(|p| *p > 0.0 && *p < 1.0) && shown.last() == Some(&1.0),
        "no progress on the icon: {updates:?}"
    );
    assert!(!visible, "the bar stays after the upload: {updates:?}");
    app.quit().await;
}

/// The launcher updates the dock heard from the app with process id `pid` (other tests' apps may
/// share the session bus), once `done` says there are enough (or after 15 s).
async fn dock_updates(
    log: &std::path::Path,
    pid: u32,
    done: impl Fn(&[serde_json::Value]) -> bool,
) -> Vec<serde_json::Value> {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let updates: Vec<serde_json::Value> = text
            .lines()
            // A line still being written is read on the next look.
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|u| u["pid"] == pid)
            .collect();
        if done(&updates) || std::time::Instant::now() > deadline {
            return updates;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// How many rows of the plan's file list are in the page right now.
async fn rendered_rows(app: &Desktop) -> u64 {
    let rows = "return document.querySelectorAll('[role=listitem]').length";
    app.client
        .execute(rows, vec![])
        .await
        .unwrap()
        .as_u64()
        .unwrap()
}

//! End to end: the real OxDrop window (WebKitGTK under Xvfb, driven through tauri-driver), the
//! real oxen-server behind a real auth proxy, the real Secret Service, a real OS drag (XDND) and
//! the native GTK file chooser, and every upload read back with Oxen's own client.

// Test code: `&[path.clone()]` reads better, and a panic is how a test fails.
#![allow(clippy::cloned_ref_to_slice_refs, clippy::unwrap_used)]

use std::path::Path;
use std::time::Duration;

use oxdrop_tests::desktop::{Desktop, Launch};
use oxdrop_tests::nginx::AuthProxy;
use oxdrop_tests::upload::pairs;
use oxdrop_tests::{OxenServer, fixtures, oxenpy};

const KEY: &str = "e2e-key-7d3f09c1a5b2";
const LONG: Duration = Duration::from_secs(60);

fn keychain_lookup(service: &str, account: &str) -> Option<String> {
    let out = std::process::Command::new("secret-tool")
        .args(["lookup", "service", service, "username", account])
        .output()
        .unwrap();
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

async fn sign_in(app: &Desktop, server: &str, user: &str, key: &str) {
    app.click("[data-testid=server-other]").await;
    app.fill("[data-testid=server-url]", server).await;
    app.fill("[data-testid=user]", user).await;
    app.fill("[data-testid=api-key]", key).await;
}

/// Signs in to the sandbox server the app was launched with, and waits until it is connected.
async fn use_sandbox(app: &Desktop) {
    app.click("[data-testid=use-sandbox]").await;
    app.wait_text("[data-testid=server-status]", LONG, |t| {
        t.contains("oxen-server")
    })
    .await;
}

/// Creates a repository through *New repository…* and waits until it is selected.
async fn create_repo(app: &Desktop, name: &str) {
    app.click("[data-testid=new-repo]").await;
    app.fill("[data-testid=new-repo-name]", name).await;
    app.click("[data-testid=create-repo]").await;
    repo_selected(app, name).await;
}

async fn set_author(app: &Desktop, name: &str, email: &str) {
    app.fill("[data-testid=author-name]", name).await;
    app.fill("[data-testid=author-email]", email).await;
}

/// Waits until the progress line shows megabytes actually sent.
async fn wait_bytes_flowing(app: &Desktop) {
    app.wait_text("[data-testid=progress-stats]", LONG, |t| {
        t.split(" · ")
            .nth(1)
            .is_some_and(|b| b.contains("MB of") && !b.starts_with("0 "))
    })
    .await;
}

/// Waits for the repository picker to show `name` as the selected repository.
async fn repo_selected(app: &Desktop, name: &str) {
    app.wait_text("[data-testid=repos] [aria-selected=true]", LONG, |t| {
        t == name
    })
    .await;
}

async fn review_and_upload(app: &Desktop, summary_says: &str, shot: Option<&str>) -> String {
    app.click("[data-testid=review-upload]").await;
    app.wait_text("[data-testid=plan-summary]", LONG, |t| {
        t.contains(summary_says)
    })
    .await;
    if let Some(name) = shot {
        app.screenshot(name).await;
    }
    app.click("[data-testid=upload]").await;
    app.wait_text("[data-testid=upload-done]", LONG, |t| t.contains("Commit"))
        .await;
    app.text("[data-testid=commit-id]").await
}

async fn add_file_with_dialog(app: &Desktop, path: &Path, shot: Option<&str>) {
    app.click("[data-testid=add-files]").await;
    app.choose_in_dialog("Add files to upload", path, shot)
        .await;
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    app.wait_text("[data-testid=sources]", LONG, |t| t.contains(&name))
        .await;
}

/// Every control a person can reach has a name a screen reader can say.
async fn unlabeled_controls(app: &Desktop) -> Vec<String> {
    let js = r#"
        const bad = [];
        for (const el of document.querySelectorAll('button, input, select, textarea, [role=listbox], [tabindex]')) {
            const labelled = el.getAttribute('aria-label') || el.getAttribute('aria-labelledby')
                || (el.id && document.querySelector(`label[for="${el.id}"]`)) || el.closest('label')
                || (el.tagName === 'BUTTON' && el.textContent.trim());
            if (!labelled && el.type !== 'hidden') bad.push(el.outerHTML.slice(0, 120));
        }
        return bad;"#;
    serde_json::from_value(app.client.execute(js, vec![]).await.unwrap()).unwrap()
}

#[tokio::test]
async fn window_shows_the_connected_server_version() {
    let server = OxenServer::start();
    let app = Desktop::launch(Launch {
        sandbox: Some(server.url()),
        // The OS asks for dark: the window follows.
        env: vec![("GTK_THEME".into(), "Adwaita:dark".into())],
        ..Launch::default()
    })
    .await;
    assert_eq!(app.client.title().await.unwrap(), "OxDrop");
    app.find("[data-testid=use-sandbox]").await;
    let dark = app
        .client
        .execute(
            "return [matchMedia('(prefers-color-scheme: dark)').matches, getComputedStyle(document.documentElement).backgroundColor]",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(dark[0], true, "{dark}");
    assert_eq!(dark[1], "rgb(23, 23, 26)", "dark background: {dark}");
    let unlabeled = unlabeled_controls(&app).await;
    assert!(unlabeled.is_empty(), "{unlabeled:?}");
    app.screenshot("00-sign-in-dark").await;
    // Keyboard only: the sandbox button takes Enter.
    app.find("[data-testid=use-sandbox]")
        .await
        .send_keys("\u{E007}")
        .await
        .unwrap();
    let status = app
        .wait_text("[data-testid=server-status]", LONG, |t| {
            t.contains("oxen-server")
        })
        .await;
    assert!(status.contains("oxen-server 0.65.2"), "{status}");
    assert!(status.contains(&server.url()), "{status}");
    assert_eq!(app.text("#server-version").await, "oxen-server 0.65.2");
    app.find("[data-testid=repos]").await;
    let unlabeled = unlabeled_controls(&app).await;
    assert!(unlabeled.is_empty(), "{unlabeled:?}");
    app.screenshot("00-connected-dark").await;
    app.quit().await;
}

#[tokio::test]
async fn sign_in_create_repo_drag_pick_upload_and_branch() {
    let server = OxenServer::start();
    let proxy = AuthProxy::start(server.port(), KEY);
    // "Open in browser" goes through xdg-open, which honours $BROWSER: record what it opens.
    let browser_dir = tempfile::tempdir().unwrap();
    let opened = browser_dir.path().join("opened.txt");
    let browser = browser_dir.path().join("browser.sh");
    std::fs::write(
        &browser,
        format!("#!/bin/sh\necho \"$1\" >> {}\n", opened.display()),
    )
    .unwrap();
    std::fs::set_permissions(
        &browser,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let app = Desktop::launch(Launch {
        env: vec![("BROWSER".into(), browser.to_string_lossy().into_owned())],
        ..Launch::default()
    })
    .await;

    // Sign in with a key; it goes to the keychain and nowhere else.
    sign_in(&app, &proxy.url(), "ada", KEY).await;
    app.screenshot("01-sign-in").await;
    app.click("[data-testid=sign-in]").await;
    app.wait_text("[data-testid=server-status]", LONG, |t| {
        t.contains("oxen-server 0.65.2")
    })
    .await;
    let account = format!("ada@{}", proxy.url());
    assert_eq!(
        keychain_lookup(&app.keychain_service, &account).as_deref(),
        Some(KEY)
    );
    assert!(
        !app.client.source().await.unwrap().contains(KEY),
        "the key left the page"
    );

    // A new repository, checked as it is typed.
    app.click("[data-testid=new-repo]").await;
    app.fill("[data-testid=new-repo-name]", "a").await;
    app.wait_text("[data-testid=repo-name-check]", LONG, |t| {
        t.contains("at least 2 characters")
    })
    .await;
    app.fill("[data-testid=new-repo-name]", "photos").await;
    app.fill("[data-testid=new-repo-description]", "Holiday pictures")
        .await;
    app.click("[data-testid=create-repo]").await;
    repo_selected(&app, "photos").await;
    // Creating it again is "already exists — use it".
    app.click("[data-testid=new-repo]").await;
    app.fill("[data-testid=new-repo-name]", "photos").await;
    app.wait_text("[data-testid=repo-name-check]", LONG, |t| {
        t.contains("already exists")
    })
    .await;
    app.screenshot("02-new-repository").await;
    app.click("[data-testid=use-existing-repo]").await;
    repo_selected(&app, "photos").await;

    // A folder dragged from the OS, with a real XDND drag.
    let tmp = tempfile::tempdir().unwrap();
    let album = tmp.path().join("Summer 2024");
    let rel = fixtures::small_tree(&album, 40, 100, 50_000, 11);
    let (x, y, w, h) = app.window_geometry("OxDrop");
    app.drag_files_to(&[album.clone()], x + w / 4, y + h / 2)
        .await;
    app.wait_text("[data-testid=sources]", LONG, |t| t.contains("Summer 2024"))
        .await;

    // A file picked in the native dialog.
    let notes = fixtures::write_file(&tmp.path().join("notes é.txt"), 3000, 12);
    add_file_with_dialog(&app, &notes, Some("03-native-dialog")).await;
    app.screenshot("03-files").await;

    // Review, then upload with an author.
    app.click("[data-testid=review-upload]").await;
    app.wait_text("[data-testid=plan-summary]", LONG, |t| {
        t.contains("41 new files")
    })
    .await;
    set_author(&app, "Ada Lovelace", "ada@example.com").await;
    app.screenshot("04-review").await;
    app.click("[data-testid=upload]").await;
    app.wait_text("[data-testid=upload-done]", LONG, |t| t.contains("Commit"))
        .await;
    app.screenshot("05-done").await;
    let mut expect = pairs("Summer 2024", &album, &rel);
    expect.push(("notes é.txt".into(), notes.clone()));
    let report = oxenpy::assert_uploaded(&server.url(), "ada/photos", "main", &expect);
    assert_eq!(
        report.log[0].message,
        "Add 41 files: Summer 2024, notes é.txt"
    );
    assert_eq!(report.log[0].author, "Ada Lovelace");
    assert!(
        app.text("[data-testid=commit-id]")
            .await
            .starts_with(&report.log[0].id[..10])
    );

    app.click("[data-testid=open-commit]").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !opened.exists() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let url = std::fs::read_to_string(&opened).unwrap_or_default();
    assert_eq!(
        url.trim(),
        format!("{}/ada/photos/commit/{}", proxy.url(), report.log[0].id)
    );

    // A branch from main, and an upload to it.
    app.click("[data-testid=new-upload]").await;
    app.click("[data-testid=new-branch]").await;
    app.fill("[data-testid=new-branch-name]", "experiment")
        .await;
    app.click("[data-testid=create-branch]").await;
    app.wait_text("[data-testid=branch-select] option:checked", LONG, |t| {
        t == "experiment"
    })
    .await;
    // Into a folder picked from the repository's own folders.
    app.click_text("dest-folders", "Summer 2024").await;
    let dest = app
        .find("[data-testid=dest-input]")
        .await
        .prop("value")
        .await
        .unwrap();
    assert_eq!(dest.as_deref(), Some("Summer 2024"));
    let extra = fixtures::write_file(&tmp.path().join("extra.csv"), 5000, 13);
    add_file_with_dialog(&app, &extra, None).await;
    // The author is remembered now.
    review_and_upload(&app, "1 new file", None).await;
    let exp = oxenpy::assert_uploaded(
        &server.url(),
        "ada/photos",
        "experiment",
        &[("Summer 2024/extra.csv".into(), extra)],
    );
    assert_eq!(exp.log[0].author, "Ada Lovelace");
    assert!(
        exp.tree.contains(&"notes é.txt".to_owned()),
        "branched from main"
    );
    let main = oxenpy::check(&server.url(), "ada/photos", "main", &[]);
    assert!(
        !main.tree.contains(&"Summer 2024/extra.csv".to_owned()),
        "main untouched"
    );

    // Nothing the app wrote holds the key.
    let leaks = oxdrop_tests::cli::files_containing(&app.home, KEY);
    assert!(leaks.is_empty(), "{leaks:?}");
    app.quit().await;
}

#[tokio::test]
async fn a_rejected_key_asks_to_sign_in_again() {
    let server = OxenServer::start();
    let mut proxy = AuthProxy::start(server.port(), KEY);
    let app = Desktop::launch(Launch::default()).await;
    // A wrong key is refused at sign-in, and nothing is stored.
    sign_in(&app, &proxy.url(), "bob", "not-the-key").await;
    app.click("[data-testid=sign-in]").await;
    app.wait_text("[data-testid=signin-error]", LONG, |t| {
        t.contains("rejected your API key")
    })
    .await;
    app.screenshot("06-key-rejected").await;
    assert_eq!(
        keychain_lookup(&app.keychain_service, &format!("bob@{}", proxy.url())),
        None
    );
    // The right one works…
    app.fill("[data-testid=api-key]", KEY).await;
    app.click("[data-testid=sign-in]").await;
    app.wait_text("[data-testid=server-status]", LONG, |t| {
        t.contains("oxen-server")
    })
    .await;
    // …until it is revoked: the next call says so and offers to sign in again.
    proxy.set_key("rotated-key-999");
    app.click("[data-testid=new-repo]").await;
    app.fill("[data-testid=new-repo-name]", "after-revoke")
        .await;
    app.click("[data-testid=create-repo]").await;
    app.wait_text("[data-testid=repo-error]", LONG, |t| {
        t.contains("rejected your API key")
    })
    .await;
    // Neither key is in any file the app wrote, nor in its own output (logs, errors).
    for key in [KEY, "not-the-key"] {
        let leaks = oxdrop_tests::cli::files_containing(&app.home, key);
        assert!(leaks.is_empty(), "{leaks:?}");
    }
    assert!(
        !app.app_log().contains(KEY),
        "the key is in the app's output"
    );
    app.quit().await;
}

#[tokio::test]
async fn server_stopped_mid_upload_is_a_clear_error_then_resume_finishes() {
    let mut server = OxenServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let big = fixtures::write_file(&tmp.path().join("big.bin"), 400 * 1024 * 1024, 21);
    let app = Desktop::launch(Launch {
        sandbox: Some(server.url()),
        env: vec![("OXDROP_RETRY_SECS".into(), "12".into())],
        ..Launch::default()
    })
    .await;
    use_sandbox(&app).await;
    create_repo(&app, "resumable").await;
    add_file_with_dialog(&app, &big, None).await;
    app.click("[data-testid=review-upload]").await;
    app.wait_text("[data-testid=plan-summary]", LONG, |t| {
        t.contains("1 new file")
    })
    .await;
    set_author(&app, "Eve", "eve@example.com").await;
    app.click("[data-testid=upload]").await;
    // Crash the server once bytes are really flowing.
    wait_bytes_flowing(&app).await;
    server.crash();
    let err = app
        .wait_text("[data-testid=upload-error]", LONG, |t| !t.is_empty())
        .await;
    assert!(err.contains("Could not connect"), "{err}");
    assert!(err.contains("you can resume it"), "{err}");
    app.screenshot("07-server-gone").await;

    // The server comes back; the interrupted upload is offered for resuming and finishes.
    server.restart();
    app.click("[data-testid=back]").await;
    app.wait_text("[data-testid=interrupted]", LONG, |t| {
        t.contains("was interrupted")
    })
    .await;
    app.screenshot("08-resume-offered").await;
    app.click("[data-testid=resume]").await;
    app.wait_text("[data-testid=upload-done]", Duration::from_secs(240), |t| {
        t.contains("Commit")
    })
    .await;
    let report = oxenpy::assert_uploaded(
        &server.url(),
        "sandbox/resumable",
        "main",
        &[("big.bin".into(), big)],
    );
    assert_eq!(report.log[0].message, "Add big.bin");
    assert_eq!(
        report.log.iter().filter(|c| c.author == "Eve").count(),
        1,
        "one commit"
    );
    app.quit().await;
}

/// What a compromised page could try: invent file paths, forge a drop, call what it was not
/// granted, fish for the key. None of it works.
#[tokio::test]
async fn the_page_cannot_choose_files_forge_drops_or_see_the_key() {
    let server = OxenServer::start();
    let proxy = AuthProxy::start(server.port(), KEY);
    let app = Desktop::launch(Launch::default()).await;
    sign_in(&app, &proxy.url(), "sec", KEY).await;
    app.click("[data-testid=sign-in]").await;
    app.wait_text("[data-testid=server-status]", LONG, |t| {
        t.contains("oxen-server")
    })
    .await;
    let invoke = |cmd: &str, args: serde_json::Value| {
        let js = format!(
            "const done = arguments[0]; window.__TAURI_INTERNALS__.invoke({}, {}).then(v => done({{ok: JSON.stringify(v)}}), e => done({{err: JSON.stringify(e)}}));",
            serde_json::to_string(cmd).unwrap(),
            args
        );
        let client = app.client.clone();
        async move { client.execute_async(&js, vec![]).await.unwrap() }
    };
    let repo = serde_json::json!({"namespace": "sec", "name": "repo"});

    // A path the user never chose cannot be slipped into a plan…
    let r = invoke("plan_upload", serde_json::json!({"args": {"repo": repo, "branch": "main", "dest": "", "sources": ["/etc"]}})).await;
    assert!(
        r["err"].as_str().unwrap_or("").contains("unknown field"),
        "{r}"
    );
    // …nor into the list of chosen files, which takes only ids it handed out.
    let r = invoke("remove_source", serde_json::json!({"args": {"id": 4242}})).await;
    assert!(
        r["err"]
            .as_str()
            .unwrap_or("")
            .contains("not in the upload list"),
        "{r}"
    );
    // A forged OS drop: the page may not emit Tauri's drop event at all…
    let r = invoke("plugin:event|emit", serde_json::json!({"event": "tauri://drag-drop", "payload": {"paths": ["/etc/passwd"], "position": {"x": 10, "y": 10}}})).await;
    assert!(
        r["err"].as_str().unwrap_or("").contains("not allowed"),
        "{r}"
    );
    // …and nothing the page does adds files: only the window system's drop event does.
    let r = invoke("list_sources", serde_json::json!({})).await;
    assert_eq!(r["ok"].as_str().unwrap(), r#"{"items":[]}"#);
    // Capabilities it was not granted are refused (no file system, no shell, no window control).
    for cmd in [
        "plugin:fs|read_text_file",
        "plugin:shell|execute",
        "plugin:window|close",
        "plugin:opener|open_url",
    ] {
        let r = invoke(cmd, serde_json::json!({"path": "/etc/passwd"})).await;
        assert!(r.get("err").is_some(), "{cmd}: {r}");
    }
    // No command answers with the key.
    for cmd in [
        "accounts_state",
        "server_info",
        "list_namespaces",
        "list_sources",
        "interrupted_uploads",
    ] {
        let r = invoke(cmd, serde_json::json!({})).await;
        assert!(!r.to_string().contains(KEY), "{cmd} leaked the key: {r}");
        assert!(r.get("ok").is_some(), "{cmd}: {r}");
    }
    assert!(!app.client.source().await.unwrap().contains(KEY));
    app.quit().await;
}

/// Ten thousand files: the plan and the progress list render only what is on screen, scroll to
/// the end, and the upload lands in one commit.
#[tokio::test]
async fn ten_thousand_files_stay_smooth() {
    let server = OxenServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let folder = tmp.path().join("many");
    std::fs::create_dir_all(&folder).unwrap();
    for i in 0..10_000 {
        std::fs::write(folder.join(format!("file-{i:05}.txt")), format!("{i}\n")).unwrap();
    }
    let app = Desktop::launch(Launch {
        sandbox: Some(server.url()),
        ..Launch::default()
    })
    .await;
    use_sandbox(&app).await;
    create_repo(&app, "ten-thousand").await;
    let (x, y, w, h) = app.window_geometry("OxDrop");
    app.drag_files_to(&[folder.clone()], x + w / 4, y + h / 2)
        .await;
    app.wait_text("[data-testid=sources]", LONG, |t| t.contains("many"))
        .await;
    app.click("[data-testid=review-upload]").await;
    app.wait_text("[data-testid=plan-summary]", LONG, |t| {
        t.contains("10,000 new files")
    })
    .await;
    let rows = "return document.querySelectorAll('[role=listitem]').length";
    let rendered = app
        .client
        .execute(rows, vec![])
        .await
        .unwrap()
        .as_u64()
        .unwrap();
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
    app.wait_text("[data-testid=progress-stats]", LONG, |t| {
        !t.starts_with("0 files")
    })
    .await;
    let rendered = app
        .client
        .execute(rows, vec![])
        .await
        .unwrap()
        .as_u64()
        .unwrap();
    assert!(
        rendered < 80,
        "progress list renders only visible rows: {rendered}"
    );
    app.screenshot("09-ten-thousand-progress").await;
    // The user switches to another program: the end of the upload is announced by a system
    // notification (watched on the session bus).
    let monitor_log = tmp.path().join("dbus-monitor.txt");
    let mut monitor = std::process::Command::new("dbus-monitor")
        .args(["--session", "interface='org.freedesktop.Notifications'"])
        .stdout(std::fs::File::create(&monitor_log).unwrap())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let elsewhere = app.focus_elsewhere().await;
    app.wait_text("[data-testid=upload-done]", Duration::from_secs(300), |t| {
        t.contains("10,000 files")
    })
    .await;
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let mut seen = String::new();
    while std::time::Instant::now() < deadline && !seen.contains("Upload finished") {
        tokio::time::sleep(Duration::from_millis(200)).await;
        seen = std::fs::read_to_string(&monitor_log).unwrap_or_default();
    }
    let _ = monitor.kill();
    let _ = monitor.wait();
    drop(elsewhere);
    assert!(
        seen.contains("Notify") && seen.contains("Upload finished"),
        "no notification:\n{seen}"
    );
    assert!(seen.contains("10000 files committed to main"), "{seen}");
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
    app.quit().await;
}

#[tokio::test]
async fn several_accounts_switch_and_sign_out() {
    let server = OxenServer::start();
    let first = AuthProxy::start(server.port(), "first-key-1111");
    let second = AuthProxy::start(server.port(), "second-key-2222");
    let app = Desktop::launch(Launch::default()).await;
    sign_in(&app, &first.url(), "amy", "first-key-1111").await;
    app.click("[data-testid=sign-in]").await;
    app.wait_text("[data-testid=server-status]", LONG, |t| {
        t.contains(&first.url())
    })
    .await;
    // Add a second account from the switcher.
    app.find("[data-testid=account-select]")
        .await
        .select_by_value("__add__")
        .await
        .unwrap();
    sign_in(&app, &second.url(), "bea", "second-key-2222").await;
    app.click("[data-testid=sign-in]").await;
    app.wait_text("[data-testid=server-status]", LONG, |t| {
        t.contains(&second.url())
    })
    .await;
    let a = format!("amy@{}", first.url());
    let b = format!("bea@{}", second.url());
    // Switch back to the first; its key still works.
    app.find("[data-testid=account-select]")
        .await
        .select_by_value(&a)
        .await
        .unwrap();
    app.wait_text("[data-testid=server-status]", LONG, |t| {
        t.contains(&first.url())
    })
    .await;
    app.wait_text("[data-testid=namespaces]", LONG, |t| t.contains("amy"))
        .await;
    app.screenshot("10-accounts").await;
    // Sign out of it: its key leaves the keychain, the other account takes over.
    app.click("[data-testid=sign-out]").await;
    app.wait_text("[data-testid=server-status]", LONG, |t| {
        t.contains(&second.url())
    })
    .await;
    assert_eq!(keychain_lookup(&app.keychain_service, &a), None);
    assert_eq!(
        keychain_lookup(&app.keychain_service, &b).as_deref(),
        Some("second-key-2222")
    );
    app.click("[data-testid=sign-out]").await;
    app.find("[data-testid=sign-in]").await;
    assert_eq!(keychain_lookup(&app.keychain_service, &b), None);
    app.quit().await;
}

#[tokio::test]
async fn cancel_then_a_failed_file_and_retry_failed() {
    let server = OxenServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let big = fixtures::write_file(&tmp.path().join("large.bin"), 300 * 1024 * 1024, 31);
    let app = Desktop::launch(Launch {
        sandbox: Some(server.url()),
        ..Launch::default()
    })
    .await;
    use_sandbox(&app).await;
    create_repo(&app, "cancel-retry").await;
    add_file_with_dialog(&app, &big, None).await;
    app.click("[data-testid=review-upload]").await;
    app.wait_text("[data-testid=plan-summary]", LONG, |t| {
        t.contains("1 new file")
    })
    .await;
    set_author(&app, "Cai", "cai@example.com").await;
    app.click("[data-testid=upload]").await;
    wait_bytes_flowing(&app).await;
    app.click("[data-testid=cancel]").await;
    let msg = app
        .wait_text("[data-testid=upload-error]", LONG, |t| !t.is_empty())
        .await;
    assert!(msg.contains("cancelled. Nothing was committed"), "{msg}");
    let repo = oxdrop_core::RepoRef::new("sandbox", "cancel-retry").unwrap();
    assert!(
        server
            .client()
            .workspace_ids(&repo)
            .await
            .unwrap()
            .is_empty(),
        "nothing left on the server"
    );

    // Now a file that disappears after the review: it fails alone, and "Retry failed" sends it.
    app.click("[data-testid=back]").await;
    let shaky = fixtures::write_file(&tmp.path().join("shaky.txt"), 2000, 32);
    add_file_with_dialog(&app, &shaky, None).await;
    app.click("[data-testid=review-upload]").await;
    app.wait_text("[data-testid=plan-summary]", LONG, |t| {
        t.contains("2 new files")
    })
    .await;
    std::fs::remove_file(&shaky).unwrap();
    app.click("[data-testid=upload]").await;
    let failed = app
        .wait_text(
            "[data-testid=failed-files]",
            Duration::from_secs(180),
            |t| t.contains("shaky.txt"),
        )
        .await;
    assert!(failed.contains("no longer exists"), "{failed}");
    app.screenshot("11-failed-file").await;
    fixtures::write_file(&shaky, 2000, 32);
    app.click("[data-testid=retry-failed]").await;
    app.wait_text("[data-testid=upload-done]", LONG, |t| t.contains("1 file"))
        .await;
    let report = oxenpy::assert_uploaded(
        &server.url(),
        "sandbox/cancel-retry",
        "main",
        &[("large.bin".into(), big), ("shaky.txt".into(), shaky)],
    );
    let ours: Vec<&str> = report
        .log
        .iter()
        .filter(|c| c.author == "Cai")
        .map(|c| c.message.as_str())
        .collect();
    assert_eq!(ours, ["Add shaky.txt", "Add 2 files: large.bin, shaky.txt"]);
    app.quit().await;
}

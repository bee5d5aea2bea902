//! Uploading from the window: the whole journey from signing in to a branch, an upload
//! interrupted by the server going away and resumed, and cancel, a failed file and retry.

use std::time::Duration;

use oxdrop_tests::desktop::{Desktop, Launch};
use oxdrop_tests::faults::{Fault, FaultProxy, Rule};
use oxdrop_tests::nginx::AuthProxy;
use oxdrop_tests::oxenpy::Change;
use oxdrop_tests::upload::pairs;
use oxdrop_tests::{OxenServer, fixtures, oxenpy};

use crate::steps::{
    BrowserRecorder, KEY, LONG, add_file_with_dialog, create_repo, current, current_commit,
    drop_on_window, keychain_lookup, launch_on_sandbox, repo_selected, review, review_and_upload,
    set_author, sign_in, start_big_upload, text_content, use_sandbox, wait_committed,
    wait_connected,
};

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
    wait_connected(&app, "oxen-server 0.65.2").await;
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
    drop_on_window(&app, &album, "Summer 2024").await;

    // A file picked in the native dialog.
    let notes = fixtures::write_file(&tmp.path().join("notes é.txt"), 3000, 12);
    add_file_with_dialog(&app, &notes, Some("03-native-dialog")).await;
    app.screenshot("03-files").await;

    // Review, then upload with an author.
    review(&app, "41 new files").await;
    set_author(&app, "Ada Lovelace", "ada@example.com").await;
    app.screenshot("04-review").await;
    app.click("[data-testid=upload]").await;
    wait_committed(&app, "", LONG).await;
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
        current_commit(&app)
            .await
            .starts_with(&report.log[0].id[..10])
    );

    app.click(&current("entry-open")).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !opened.exists() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let url = std::fs::read_to_string(&opened).unwrap_or_default();
    // The uploaded folder (here the top level) at that commit.
    assert_eq!(
        url.trim(),
        format!("{}/ada/photos/dir/{}", proxy.url(), report.log[0].id)
    );

    // A branch from main, and an upload to it.
    app.click(&current("new-upload")).await;
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
async fn server_stopped_mid_upload_is_a_clear_error_then_resume_finishes() {
    let mut server = OxenServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let app = Desktop::launch(Launch {
        sandbox: Some(server.url()),
        env: vec![(
            oxdrop_core::client::TIME_SCALE_VAR.into(),
            oxdrop_tests::faults::test_time_scale().to_string(),
        )],
        ..Launch::default()
    })
    .await;
    use_sandbox(&app).await;
    create_repo(&app, "resumable").await;
    let big = start_big_upload(
        &app,
        &tmp.path().join("big.bin"),
        400 * 1024 * 1024,
        21,
        ("Eve", "eve@example.com"),
    )
    .await;
    // Crash the server once bytes are really flowing.
    server.crash();
    let err = app
        .wait_text(&current("entry-problem"), LONG, |t| !t.is_empty())
        .await;
    assert!(err.contains("Could not connect"), "{err}");
    assert!(err.contains("you can resume it"), "{err}");
    app.screenshot("07-server-gone").await;

    // The server comes back; the interrupted upload is offered for resuming and finishes.
    server.restart();
    app.wait_text(&current("entry-state"), LONG, |t| t == "Interrupted")
        .await;
    app.screenshot("08-resume-offered").await;
    app.click(&current("entry-resume")).await;
    wait_committed(&app, "", Duration::from_secs(240)).await;
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

#[tokio::test]
async fn cancel_then_a_failed_file_and_retry_failed() {
    let server = OxenServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let app = launch_on_sandbox(&server).await;
    create_repo(&app, "cancel-retry").await;
    let big = start_big_upload(
        &app,
        &tmp.path().join("large.bin"),
        300 * 1024 * 1024,
        31,
        ("Cai", "cai@example.com"),
    )
    .await;
    app.click(&current("entry-cancel")).await;
    let msg = app
        .wait_text(&current("entry-problem"), LONG, |t| !t.is_empty())
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
    // (The files went with the cancelled upload: both are added again.)
    add_file_with_dialog(&app, &big, None).await;
    let shaky = fixtures::write_file(&tmp.path().join("shaky.txt"), 2000, 32);
    add_file_with_dialog(&app, &shaky, None).await;
    review(&app, "2 new files").await;
    std::fs::remove_file(&shaky).unwrap();
    app.click("[data-testid=upload]").await;
    let failed = app
        .wait_text(&current("entry-failed"), Duration::from_secs(180), |t| {
            t.contains("shaky.txt")
        })
        .await;
    assert!(failed.contains("no longer exists"), "{failed}");
    app.screenshot("11-failed-file").await;
    fixtures::write_file(&shaky, 2000, 32);
    app.click(&current("entry-retry")).await;
    wait_committed(&app, "1 file (", LONG).await;
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

#[tokio::test]
async fn review_leaves_out_links_outside_and_clutter_and_links_can_be_included() {
    let server = OxenServer::start();
    let tmp = tempfile::tempdir().unwrap();
    // A folder holding a photo, a .DS_Store and a link to a private folder elsewhere.
    let private = tmp.path().join("private");
    let key = fixtures::write_file(&private.join("id_rsa"), 64, 41);
    let album = tmp.path().join("album");
    let photo = fixtures::write_file(&album.join("photo.jpg"), 4000, 42);
    fixtures::write_file(&album.join(".DS_Store"), 30, 43);
    std::os::unix::fs::symlink(&private, album.join("home-link")).unwrap();
    let app = launch_on_sandbox(&server).await;
    create_repo(&app, "left-out").await;
    drop_on_window(&app, &album, "album").await;

    // Only the photo is new; the link and the clutter are listed apart, with the reason.
    review(&app, "new file").await;
    app.screenshot("12-not-uploaded").await;
    let summary = app.text("[data-testid=plan-summary]").await;
    assert!(summary.starts_with("1 new file"), "{summary}");
    let files = text_content(&app, "[data-testid=plan-files]").await;
    assert!(
        files.contains("album/photo.jpg")
            && !files.contains("id_rsa")
            && !files.contains(".DS_Store"),
        "{files}"
    );
    let left_out = app.text("[data-testid=not-uploaded]").await;
    assert!(
        left_out.contains("album/home-link") && left_out.contains("link to outside the folder"),
        "{left_out}"
    );
    let target = std::fs::canonicalize(&private).unwrap();
    assert!(left_out.contains(target.to_str().unwrap()), "{left_out}");
    assert!(
        left_out.contains("album/.DS_Store") && left_out.contains("system file"),
        "{left_out}"
    );

    // Choosing to include what the link points to plans again, and lists it as new.
    app.click("[data-testid=follow-links]").await;
    app.wait_text("[data-testid=plan-summary]", LONG, |t| {
        t.starts_with("2 new files")
    })
    .await;
    let files = text_content(&app, "[data-testid=plan-files]").await;
    assert!(files.contains("album/home-link/id_rsa"), "{files}");
    let left_out = app.text("[data-testid=not-uploaded]").await;
    assert!(
        !left_out.contains("album/home-link") && left_out.contains("album/.DS_Store"),
        "{left_out}"
    );
    app.screenshot("13-links-included").await;
    set_author(&app, "Lin", "lin@example.com").await;
    app.click("[data-testid=upload]").await;
    wait_committed(&app, "", LONG).await;
    let report = oxenpy::assert_uploaded(
        &server.url(),
        "sandbox/left-out",
        "main",
        &[
            ("album/photo.jpg".into(), photo),
            ("album/home-link/id_rsa".into(), key),
        ],
    );
    assert_eq!(report.tree.len(), 2, "{:?}", report.tree);
    app.quit().await;
}

#[tokio::test]
async fn a_file_changed_on_the_branch_after_review_goes_back_to_review_with_a_notice() {
    let server = OxenServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let app = launch_on_sandbox(&server).await;
    create_repo(&app, "promise").await;
    let mine = fixtures::write_file(&tmp.path().join("notes.txt"), 3000, 41);
    add_file_with_dialog(&app, &mine, None).await;
    review(&app, "1 new file").await;
    set_author(&app, "Dana", "dana@example.com").await;

    // While the user looks at the review, a collaborator commits a file of the same name.
    oxenpy::commit_as(
        &server.url(),
        "sandbox/promise",
        "main",
        ("Collab Orator", "collab@example.com"),
        "Their notes",
        Change::Put("notes.txt", b"their notes"),
    );
    app.click("[data-testid=upload]").await;
    let notice = app
        .wait_text(&current("review-outdated"), LONG, |t| !t.is_empty())
        .await;
    for says in [
        "notes.txt added in",
        "on main",
        "by Collab Orator",
        "Their notes",
        "Review again",
    ] {
        assert!(notice.contains(says), "'{says}' missing: {notice}");
    }
    // Files chosen meanwhile for the next upload are never replaced unasked: Review again says
    // so and the upload stays as it is; once they are removed, it goes ahead.
    let next = fixtures::write_file(&tmp.path().join("next.txt"), 100, 42);
    add_file_with_dialog(&app, &next, None).await;
    app.click(&current("entry-review-again")).await;
    let said = app
        .wait_text("[data-testid=problem]", LONG, |t| {
            t.contains("Review again replaces the files chosen now")
        })
        .await;
    assert!(said.contains("Upload them first"), "{said}");
    assert_eq!(
        app.text(&current("entry-state")).await,
        "Needs a new review"
    );
    app.click("[data-testid=sources] button").await;
    // The file list is gone once the removal is done.
    let listed = "return document.querySelector('[data-testid=sources]') !== null";
    for _ in 0..50 {
        if app.client.execute(listed, vec![]).await.unwrap() == false {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // "Review again" brings the upload back to Review, with the same notice.
    app.click(&current("entry-review-again")).await;
    let notice = app
        .wait_text(
            "[data-testid=review] [data-testid=review-outdated]",
            LONG,
            |t| !t.is_empty(),
        )
        .await;
    assert!(notice.contains("notes.txt added in"), "{notice}");
    // The fresh plan on screen says what the upload will now do.
    app.wait_text("[data-testid=plan-summary]", LONG, |t| {
        t.contains("1 will overwrite")
    })
    .await;
    app.screenshot("12-review-outdated").await;
    let theirs = tmp.path().join("theirs.txt");
    std::fs::write(&theirs, b"their notes").unwrap();
    oxenpy::assert_uploaded(
        &server.url(),
        "sandbox/promise",
        "main",
        &[("notes.txt".into(), theirs)],
    );

    // Upload again, knowingly: it lands on top of theirs.
    app.click("[data-testid=upload]").await;
    wait_committed(&app, "", LONG).await;
    let report = oxenpy::assert_uploaded(
        &server.url(),
        "sandbox/promise",
        "main",
        &[("notes.txt".into(), mine)],
    );
    let log: Vec<(&str, &str)> = report
        .log
        .iter()
        .map(|c| (c.author.as_str(), c.message.as_str()))
        .collect();
    assert_eq!(
        log[..2],
        [
            ("Dana", "Update notes.txt"),
            ("Collab Orator", "Their notes")
        ]
    );
    app.quit().await;
}

/// Two interrupted uploads; the older one is resumed from the list and fails again: resuming it
/// again continues exactly that one (not the other one), and "Open in browser" then opens the
/// commit it made.
#[tokio::test]
async fn resume_now_continues_the_upload_that_failed_and_opens_its_commit() {
    let server = OxenServer::start();
    let proxy = FaultProxy::start(server.port(), vec![]).await;
    let browser = BrowserRecorder::new();
    let tmp = tempfile::tempdir().unwrap();
    let app = Desktop::launch(Launch {
        sandbox: Some(proxy.url()),
        env: vec![
            (
                oxdrop_core::client::TIME_SCALE_VAR.into(),
                oxdrop_tests::faults::test_time_scale().to_string(),
            ),
            browser.env(),
        ],
        ..Launch::default()
    })
    .await;
    use_sandbox(&app).await;
    create_repo(&app, "pick-one").await;
    // A first commit, so the next uploads go through a workspace the commit can fail on.
    add_file_with_dialog(
        &app,
        &fixtures::write_file(&tmp.path().join("seed.txt"), 10, 41),
        None,
    )
    .await;
    review(&app, "1 new file").await;
    set_author(&app, "Fay", "fay@example.com").await;
    app.click("[data-testid=upload]").await;
    wait_committed(&app, "", LONG).await;
    app.click(&current("new-upload")).await;

    // The server refuses every commit: two uploads end interrupted, the older one first.
    proxy.set_rules(vec![Rule::new(
        "/merge/",
        1,
        1,
        Fault::Respond {
            status: 503,
            retry_after: None,
            body: "",
        },
    )]);
    let older = fixtures::write_file(&tmp.path().join("older.txt"), 10, 42);
    let newer = fixtures::write_file(&tmp.path().join("newer.txt"), 10, 43);
    for file in [&older, &newer] {
        add_file_with_dialog(&app, file, None).await;
        review(&app, "1 new file").await;
        app.click("[data-testid=upload]").await;
        app.wait_text(&current("entry-problem"), LONG, |t| {
            t.contains("you can resume it")
        })
        .await;
    }
    let listed = app
        .wait_text("[data-testid=uploads]", LONG, |t| {
            t.matches("Interrupted").count() == 2
        })
        .await;
    assert!(
        listed.find("older.txt") < listed.find("newer.txt"),
        "in the order they were made: {listed}"
    );

    // Resume the older one from the list; it fails again.
    let older_entry = entry_showing(&app, "older.txt").await;
    let refused = proxy.count(&proxy.counters.injected);
    app.click(&format!("{older_entry} [data-testid=entry-resume]"))
        .await;
    let deadline = std::time::Instant::now() + LONG;
    while proxy.count(&proxy.counters.injected) == refused {
        assert!(std::time::Instant::now() < deadline, "the resume never ran");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.wait_text(
        &format!("{older_entry} [data-testid=entry-problem]"),
        LONG,
        |t| t.contains("you can resume it"),
    )
    .await;
    // The server is fine again: resuming it once more finishes the one that failed.
    proxy.set_rules(vec![]);
    app.click(&format!("{older_entry} [data-testid=entry-resume]"))
        .await;
    app.wait_text(
        &format!("{older_entry} [data-testid=entry-outcome]"),
        LONG,
        |t| t.contains("1 file (") && t.contains("committed as"),
    )
    .await;
    let report = oxenpy::assert_uploaded(
        &server.url(),
        "sandbox/pick-one",
        "main",
        &[("older.txt".into(), older)],
    );
    assert_eq!(report.log[0].message, "Add older.txt", "{:?}", report.log);
    assert!(
        !report.tree.iter().any(|p| p.contains("newer.txt")),
        "the other upload was not touched: {:?}",
        report.tree
    );

    app.click(&format!("{older_entry} [data-testid=entry-open]"))
        .await;
    assert_eq!(
        browser.opened().await,
        format!("{}/sandbox/pick-one/dir/{}", proxy.url(), report.log[0].id)
    );
    let other = entry_showing(&app, "newer.txt").await;
    app.wait_text(&format!("{other} [data-testid=entry-state]"), LONG, |t| {
        t == "Interrupted"
    })
    .await;
    app.quit().await;
}

/// A selector for the entry of the Uploads panel whose text shows `what`.
async fn entry_showing(app: &Desktop, what: &str) -> String {
    let js = "return [...document.querySelectorAll('[data-testid=upload-entry]')] \
              .find((e) => e.textContent.includes(arguments[0]))?.dataset.id ?? null";
    let id = app.client.execute(js, vec![what.into()]).await.unwrap();
    let id = id
        .as_str()
        .unwrap_or_else(|| panic!("no entry shows {what}"));
    format!("[data-testid=upload-entry][data-id='{id}']")
}

//! The window itself: its title, the OS's dark theme, labels a screen reader can say, and the
//! keyboard.

use oxdrop_tests::OxenServer;
use oxdrop_tests::desktop::{Desktop, Launch};

use crate::steps::{LONG, unlabeled_controls, wait_connected};

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
    let status = wait_connected(&app, "oxen-server").await;
    assert!(status.contains("oxen-server 0.65.2"), "{status}");
    assert!(status.contains(&server.url()), "{status}");
    assert_eq!(app.text("#server-version").await, "oxen-server 0.65.2");
    app.find("[data-testid=repos]").await;
    let unlabeled = unlabeled_controls(&app).await;
    assert!(unlabeled.is_empty(), "{unlabeled:?}");
    app.screenshot("00-connected-dark").await;
    app.quit().await;
}

/// `scripts/run-app` opens the window while the sandbox's server is still being built: the
/// sign-in screen says so (with the time left and the build log), and offers the sandbox as soon
/// as the script's status file says it is ready, without a restart.
#[tokio::test]
async fn the_sandbox_being_prepared_shows_progress_then_becomes_usable_without_a_restart() {
    let server = OxenServer::start();
    let dir = tempfile::tempdir().unwrap();
    let status = dir.path().join("status.json");
    let log = dir.path().join("build.log");
    std::fs::write(
        &log,
        "   Compiling libduckdb-sys v1.10506.1\n   Compiling oxen-server v0.65.2\n",
    )
    .unwrap();
    // As scripts/sandbox.sh does: a whole new file, renamed into place.
    let write_status = |state: &str, minutes: Option<u32>, message: &str| {
        let tmp = dir.path().join(".status.tmp");
        let body = serde_json::json!({"state": state, "url": server.url(), "log": log,
            "started_unix": 1, "minutes_left": minutes, "message": message});
        std::fs::write(&tmp, body.to_string()).unwrap();
        std::fs::rename(&tmp, &status).unwrap();
    };
    write_status(
        "building",
        Some(12),
        "Preparing the local sandbox: building oxen-server 0.65.2.",
    );
    let app = Desktop::launch(Launch {
        sandbox: Some(server.url()),
        env: vec![(
            "OXDROP_SANDBOX_STATUS".into(),
            status.to_string_lossy().into_owned(),
        )],
        ..Launch::default()
    })
    .await;
    let said = app
        .wait_text("[data-testid=sandbox-state]", LONG, |t| {
            t.contains("being prepared")
        })
        .await;
    assert!(said.contains("about 12 minutes left"), "{said}");
    let disabled = "return document.querySelector('[data-testid=use-sandbox]').disabled";
    assert_eq!(app.client.execute(disabled, vec![]).await.unwrap(), true);
    app.click("[data-testid=sandbox-show-log]").await;
    app.wait_text("[data-testid=sandbox-log]", LONG, |t| {
        t.contains("Compiling oxen-server v0.65.2")
    })
    .await;
    let unlabeled = unlabeled_controls(&app).await;
    assert!(unlabeled.is_empty(), "{unlabeled:?}");
    app.screenshot("01-sandbox-preparing").await;

    // The script finishes the build and starts the server: the same window offers it.
    write_status("ready", None, "The local sandbox is ready.");
    let deadline = std::time::Instant::now() + LONG;
    while app.client.execute(disabled, vec![]).await.unwrap() == true {
        assert!(
            std::time::Instant::now() < deadline,
            "the sandbox never became usable"
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    app.click("[data-testid=use-sandbox]").await;
    let connected = wait_connected(&app, "oxen-server").await;
    assert!(connected.contains(&server.url()), "{connected}");
    app.quit().await;
}

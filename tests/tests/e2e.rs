//! End to end: the real OxDrop window (WebKitGTK under Xvfb, driven through tauri-driver), the
//! real oxen-server, the real Secret Service, real OS drags and native dialogs.

// Test code: `&[path.clone()]` reads better, and a panic is how a test fails.
#![allow(clippy::cloned_ref_to_slice_refs, clippy::unwrap_used)]

use std::time::Duration;

use oxdrop_tests::OxenServer;
use oxdrop_tests::desktop::{Desktop, Launch};

#[tokio::test]
async fn window_shows_the_connected_server_version() {
    let server = OxenServer::start();
    let app = Desktop::launch(Launch {
        sandbox: Some(server.url()),
        ..Launch::default()
    })
    .await;
    assert_eq!(app.client.title().await.unwrap(), "OxDrop");
    app.find("[data-testid=use-sandbox]").await;
    app.screenshot("01-sign-in").await;
    app.click("[data-testid=use-sandbox]").await;
    let status = app
        .wait_text(
            "[data-testid=server-status]",
            Duration::from_secs(30),
            |t| t.contains("oxen-server"),
        )
        .await;
    assert!(status.contains("oxen-server 0.65.2"), "{status}");
    assert!(status.contains(&server.url()), "{status}");
    assert_eq!(app.text("#server-version").await, "oxen-server 0.65.2");
    app.screenshot("02-connected").await;
    app.quit().await;
}

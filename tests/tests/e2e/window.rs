//! The window itself: its title, the OS's dark theme, labels a screen reader can say, and the
//! keyboard.

use oxdrop_tests::OxenServer;
use oxdrop_tests::desktop::{Desktop, Launch};

use crate::steps::{unlabeled_controls, wait_connected};

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

//! Accounts in the window: a rejected or revoked key, several accounts, switching and signing
//! out, always checked against the real keychain; the history's *Upload to the same place again*
//! across accounts.

use oxdrop_tests::desktop::{Desktop, Launch};
use oxdrop_tests::nginx::AuthProxy;
use oxdrop_tests::{OxenServer, fixtures};

use crate::steps::{
    KEY, LONG, add_file_with_dialog, create_repo, current, keychain_lookup, repo_selected, review,
    review_and_upload, set_author, sign_in, wait_committed, wait_connected,
};

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
    wait_connected(&app, "oxen-server").await;
    // …until it is revoked: the next call says so and offers to sign in again. The form
    // names its namespace once the namespace list is in, so the revoke cannot overtake that.
    app.click("[data-testid=new-repo]").await;
    app.wait_text("[data-testid=new-repo-form]", LONG, |t| {
        t.contains("Name in bob")
    })
    .await;
    proxy.set_key("rotated-key-999");
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
async fn several_accounts_switch_and_sign_out() {
    let server = OxenServer::start();
    let first = AuthProxy::start(server.port(), "first-key-1111");
    let second = AuthProxy::start(server.port(), "second-key-2222");
    let app = Desktop::launch(Launch::default()).await;
    sign_in(&app, &first.url(), "amy", "first-key-1111").await;
    app.click("[data-testid=sign-in]").await;
    wait_connected(&app, &first.url()).await;
    // Add a second account from the switcher.
    add_account(&app, &second.url(), "bea", "second-key-2222").await;
    let a = format!("amy@{}", first.url());
    let b = format!("bea@{}", second.url());
    // Switch back to the first; its key still works.
    app.find("[data-testid=account-select]")
        .await
        .select_by_value(&a)
        .await
        .unwrap();
    wait_connected(&app, &first.url()).await;
    app.wait_text("[data-testid=namespaces]", LONG, |t| t.contains("amy"))
        .await;
    app.screenshot("10-accounts").await;
    // Sign out of it: its key leaves the keychain, the other account takes over.
    app.click("[data-testid=sign-out]").await;
    wait_connected(&app, &second.url()).await;
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

/// *Upload to the same place again* in the history, for an upload made as another account:
/// that account becomes the active one first; once it is signed out, the history says so and
/// fills in nothing. On the way, a pinned place stays first among the recent places.
#[tokio::test]
async fn upload_to_the_same_place_again_switches_to_the_account_that_made_it() {
    let server = OxenServer::start();
    let first = AuthProxy::start(server.port(), "first-key-1111");
    let second = AuthProxy::start(server.port(), "second-key-2222");
    let tmp = tempfile::tempdir().unwrap();
    let app = Desktop::launch(Launch::default()).await;
    sign_in(&app, &first.url(), "amy", "first-key-1111").await;
    app.click("[data-testid=sign-in]").await;
    wait_connected(&app, &first.url()).await;
    let amy = format!("amy@{}", first.url());

    // Two uploads as amy; the first place is pinned, so it stays first though older.
    create_repo(&app, "photos").await;
    let photo = fixtures::write_file(&tmp.path().join("photo.jpg"), 3000, 81);
    add_file_with_dialog(&app, &photo, None).await;
    review(&app, "1 new file").await;
    set_author(&app, "Amy", "amy@example.com").await;
    app.click("[data-testid=upload]").await;
    wait_committed(&app, "", LONG).await;
    app.click(&current("new-upload")).await;
    app.click("[data-testid=place] [data-testid=pin-place]")
        .await;
    app.wait_text("[data-testid=place][data-pinned=true]", LONG, |t| {
        t.contains("amy/photos")
    })
    .await;
    create_repo(&app, "notes").await;
    let note = fixtures::write_file(&tmp.path().join("note.txt"), 300, 82);
    add_file_with_dialog(&app, &note, None).await;
    review_and_upload(&app, "1 new file", None).await;
    let places = app
        .wait_text("[data-testid=recent-places]", LONG, |t| {
            t.contains("amy/notes")
        })
        .await;
    assert!(
        places.find("amy/photos") < places.find("amy/notes"),
        "the pinned place first: {places}"
    );
    app.screenshot("21-pinned-place").await;

    // Now as bea: the history's "again" on amy's upload switches back to amy.
    add_account(&app, &second.url(), "bea", "second-key-2222").await;
    app.click("[data-testid=show-history]").await;
    app.fill("[data-testid=history-search]", "photos").await;
    app.wait_text("[data-testid=history]", LONG, |t| !t.contains("amy/notes"))
        .await;
    app.click("[data-testid=history-again]").await;
    wait_connected(&app, &first.url()).await;
    let active = app
        .find("[data-testid=account-select]")
        .await
        .prop("value")
        .await
        .unwrap();
    assert_eq!(active.as_deref(), Some(amy.as_str()));
    repo_selected(&app, "photos").await;

    // amy signs out: bea is active again, and "again" says amy is no longer signed in.
    app.click("[data-testid=sign-out]").await;
    wait_connected(&app, &second.url()).await;
    app.click("[data-testid=show-history]").await;
    app.fill("[data-testid=history-search]", "photos").await;
    app.wait_text("[data-testid=history]", LONG, |t| !t.contains("amy/notes"))
        .await;
    app.click("[data-testid=history-again]").await;
    let said = app
        .wait_text("[data-testid=history-again-refused]", LONG, |t| {
            !t.is_empty()
        })
        .await;
    assert!(
        said.contains(&format!("made as amy on {}", first.url())) && said.contains("no longer"),
        "{said}"
    );
    app.screenshot("22-again-account-gone").await;
    app.quit().await;
}

/// Signs in to one more account from the account switcher, and waits until it is connected.
async fn add_account(app: &Desktop, server: &str, user: &str, key: &str) {
    app.find("[data-testid=account-select]")
        .await
        .select_by_value("__add__")
        .await
        .unwrap();
    sign_in(app, server, user, key).await;
    app.click("[data-testid=sign-in]").await;
    wait_connected(app, server).await;
}

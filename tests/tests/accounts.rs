//! Accounts against the real Secret Service (gnome-keyring in the test run's D-Bus session) and a
//! real auth proxy (nginx) in front of the real oxen-server.

// Test code: `&[path.clone()]` reads better, and a panic is how a test fails.
#![allow(clippy::cloned_ref_to_slice_refs, clippy::unwrap_used)]

use oxdrop_core::ErrorCode;
use oxdrop_core::accounts::{self, Keychain, SecretText, SettingsStore, SignIn};
use oxdrop_tests::cli::{CliUser, finish};
use oxdrop_tests::nginx::AuthProxy;
use oxdrop_tests::upload::pairs;
use oxdrop_tests::{OxenServer, fixtures, oxenpy, unique_name};

const KEY: &str = "oxdrop-test-key-5f1c9a7e2b";

#[test]
fn login_keeps_the_key_only_in_the_keychain() {
    let server = OxenServer::start();
    let proxy = AuthProxy::start(server.port(), KEY);
    let user = CliUser::new();

    let run = user.login(&proxy.url(), "alice", KEY);
    assert_eq!(run.code, 0, "{run:?}");
    let id = format!("alice@{}", proxy.url());
    // Checked from outside OxDrop, with libsecret's own tool.
    assert_eq!(user.keychain_lookup(&id).as_deref(), Some(KEY));
    let attrs = std::process::Command::new("secret-tool")
        .args([
            "search",
            "--all",
            "service",
            &user.keychain_service,
            "username",
            &id,
        ])
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&attrs.stdout) + String::from_utf8_lossy(&attrs.stderr);
    assert!(
        listing.contains(&format!("attribute.service = {}", user.keychain_service)),
        "{listing}"
    );
    assert!(
        listing.contains(&format!("attribute.username = {id}")),
        "{listing}"
    );

    // Commands against that server need no OXDROP_API_KEY now: the proxy lets them through.
    let created = user.run(&["--server", &proxy.url(), "create-repo", "alice/photos"]);
    assert_eq!(created.code, 0, "{created:?}");
    let listed = user.run(&["ls", "alice"]);
    assert_eq!(listed.code, 0, "{listed:?}");
    assert!(listed.stdout.contains("alice/photos"));
    let accounts = user.run(&["accounts"]);
    assert!(
        accounts
            .stdout
            .contains(&format!("* {}  alice", proxy.url())),
        "{accounts:?}"
    );

    // The key is in no file OxDrop wrote: settings, logs, journals.
    assert!(user.config_dir().join("settings.json").exists());
    assert!(
        user.files_containing(KEY).is_empty(),
        "{:?}",
        user.files_containing(KEY)
    );

    let out = user.run(&["logout", "--server", &proxy.url()]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(user.keychain_lookup(&id), None, "the entry is gone");
    let after = user.run(&["--server", &proxy.url(), "ls", "alice"]);
    assert_eq!(
        after.code, 5,
        "without the key the proxy refuses: {after:?}"
    );
    assert!(after.stderr.contains("rejected your API key"), "{after:?}");
}

#[test]
fn a_rejected_key_is_never_stored() {
    let server = OxenServer::start();
    let proxy = AuthProxy::start(server.port(), KEY);
    let user = CliUser::new();
    let run = user.login(&proxy.url(), "mallory", "wrong-key-123");
    assert_eq!(run.code, 5, "{run:?}");
    assert!(run.stderr.contains("rejected your API key"), "{run:?}");
    assert_eq!(
        user.keychain_lookup(&format!("mallory@{}", proxy.url())),
        None
    );
    assert!(
        user.files_containing("wrong-key-123").is_empty(),
        "a failed sign-in wrote the key"
    );
    let accounts = user.run(&["accounts"]);
    assert!(accounts.stdout.contains("No accounts"), "{accounts:?}");
}

#[test]
fn a_key_revoked_mid_session_surfaces_as_key_rejected() {
    let server = OxenServer::start();
    let mut proxy = AuthProxy::start(server.port(), KEY);
    let user = CliUser::new();
    assert_eq!(user.login(&proxy.url(), "bob", KEY).code, 0);
    assert_eq!(user.run(&["ls", "bob"]).code, 0);
    proxy.set_key("a-new-key-after-rotation");
    let run = user.run(&["ls", "bob"]);
    assert_eq!(run.code, 5, "{run:?}");
    assert!(
        run.stderr.contains("rejected your API key. Sign in again"),
        "{run:?}"
    );
}

#[test]
fn a_key_rejected_mid_upload_keeps_the_upload_and_it_resumes_after_signing_in_again() {
    let server = OxenServer::start();
    let mut proxy = AuthProxy::start(server.port(), KEY);
    let url = proxy.url();
    let user = CliUser::new().with_env("OXDROP_AUTHOR", "Bob Builder <bob@example.com>");
    assert_eq!(user.login(&url, "bob", KEY).code, 0);
    assert_eq!(user.run(&["create-repo", "bob/keys"]).code, 0);
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("drop");
    let rel = fixtures::small_tree(&root, 200, 100, 4000, 7);

    let mut child = user.spawn_slow_upload(&[
        "upload",
        root.to_str().unwrap(),
        "--repo",
        "bob/keys",
        "-m",
        "through a key change",
    ]);
    let journaled = user.wait_for_staged(&mut child, 3);
    // The key is revoked while files are on their way.
    proxy.set_key("oxdrop-test-key-rotated-8d2e");
    let stopped = finish(child);
    assert_eq!(stopped.code, 5, "{stopped:?}");
    assert!(
        stopped.stderr.contains("rejected your API key") && stopped.stderr.contains("resume"),
        "{stopped:?}"
    );
    assert!(
        !stopped.stderr.contains("Upload the files again"),
        "{stopped:?}"
    );
    // Kept: the journal here, the workspace on the server.
    assert_eq!(user.journaled().unwrap().id, journaled.id);
    let listed = user.run(&["uploads"]);
    assert!(listed.stdout.contains("bob/keys/main"), "{listed:?}");
    let repo = oxdrop_core::RepoRef::new("bob", "keys").unwrap();
    let direct = server.client();
    let workspaces = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(direct.workspace_ids(&repo))
        .unwrap();
    assert_eq!(workspaces, [journaled.workspace_id]);

    // Signed in again with the new key, the upload resumes to one commit.
    assert_eq!(
        user.login(&url, "bob", "oxdrop-test-key-rotated-8d2e").code,
        0
    );
    let resumed = user.run(&["resume"]);
    assert_eq!(resumed.code, 0, "{resumed:?}");
    assert!(resumed.stdout.contains("200 files"), "{resumed:?}");
    let report = oxenpy::assert_uploaded(
        &server.url(),
        "bob/keys",
        "main",
        &pairs("drop", &root, &rel),
    );
    let ours = report
        .log
        .iter()
        .filter(|c| c.message == "through a key change")
        .count();
    assert_eq!(ours, 1, "exactly one commit: {:?}", report.log);
    assert_eq!(report.tree.len(), 200);
    assert!(user.journaled().is_none());
}

#[test]
fn two_accounts_do_not_collide() {
    let server = OxenServer::start();
    let proxy_a = AuthProxy::start(server.port(), "key-for-server-a-111");
    let proxy_b = AuthProxy::start(server.port(), "key-for-server-b-222");
    let user = CliUser::new();
    assert_eq!(
        user.login(&proxy_a.url(), "ann", "key-for-server-a-111")
            .code,
        0
    );
    assert_eq!(
        user.login(&proxy_b.url(), "ann", "key-for-server-b-222")
            .code,
        0
    );
    // Same user name on the same server as a second account too.
    assert_eq!(
        user.login(&proxy_a.url(), "ben", "key-for-server-a-111")
            .code,
        0
    );
    let a = format!("ann@{}", proxy_a.url());
    let b = format!("ann@{}", proxy_b.url());
    let c = format!("ben@{}", proxy_a.url());
    assert_eq!(
        user.keychain_lookup(&a).as_deref(),
        Some("key-for-server-a-111")
    );
    assert_eq!(
        user.keychain_lookup(&b).as_deref(),
        Some("key-for-server-b-222")
    );
    assert_eq!(
        user.keychain_lookup(&c).as_deref(),
        Some("key-for-server-a-111")
    );
    // Each server gets its own key.
    assert_eq!(user.run(&["--server", &proxy_b.url(), "ls", "ann"]).code, 0);
    assert_eq!(user.run(&["--server", &proxy_a.url(), "ls", "ann"]).code, 0);
    let out = user.run(&["--server", &proxy_b.url(), "logout"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(user.keychain_lookup(&b), None);
    assert_eq!(
        user.keychain_lookup(&a).as_deref(),
        Some("key-for-server-a-111"),
        "the other stays"
    );
}

#[test]
fn no_secret_service_is_a_clear_error_and_nothing_is_stored() {
    let server = OxenServer::start();
    let user = CliUser::new().with_env(
        "DBUS_SESSION_BUS_ADDRESS",
        "unix:path=/nonexistent/oxdrop-no-bus",
    );
    let run = user.login(&server.url(), "carol", "some-key-4242");
    assert_eq!(run.code, 5, "{run:?}");
    assert!(run.stderr.contains("no keychain is available"), "{run:?}");
    assert!(run.stderr.contains("gnome-keyring"), "{run:?}");
    assert!(
        !run.stderr.contains("DBus") && !run.stderr.contains("dbus"),
        "raw errors stay in the log: {run:?}"
    );
    assert!(user.files_containing("some-key-4242").is_empty());
    assert!(user.run(&["accounts"]).stdout.contains("No accounts"));
}

#[test]
fn plain_http_to_another_computer_needs_consent() {
    let user = CliUser::new();
    let run = user.login("http://data.example.com", "dave", "k-123456");
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("not encrypted"), "{run:?}");
}

#[tokio::test]
async fn sign_in_in_process_and_a_keyless_local_server() {
    let server = OxenServer::start();
    let dir = tempfile::tempdir().unwrap();
    let store = SettingsStore::new(dir.path());
    let keychain = Keychain::new(&unique_name("OxDrop-test"));
    // A bare local oxen-server needs no key: the account has none, and nothing is stored.
    let account = accounts::sign_in(
        &store,
        &keychain,
        SignIn {
            server: server.url(),
            user: String::new(),
            key: SecretText::new(""),
            accept_insecure: false,
        },
    )
    .await
    .unwrap();
    assert!(!account.has_key);
    assert_eq!(
        keychain
            .get(&account.id)
            .unwrap()
            .map(|k| k.expose().to_owned()),
        None
    );
    let settings = store.load();
    assert_eq!(settings.active.as_deref(), Some(account.id.as_str()));
    let client = accounts::client_for(&keychain, &account).unwrap();
    assert_eq!(client.version().await.unwrap().version, "0.65.2");

    // Not an Oxen server at all.
    let err = accounts::sign_in(
        &store,
        &keychain,
        SignIn {
            server: "http://127.0.0.1:9".into(),
            user: "x".into(),
            key: SecretText::new("k"),
            accept_insecure: false,
        },
    )
    .await
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::Unreachable);
    // An empty key for a server elsewhere is refused before anything is sent.
    let err = accounts::sign_in(
        &store,
        &keychain,
        SignIn {
            server: "https://hub.oxen.ai".into(),
            user: "x".into(),
            key: SecretText::new("  "),
            accept_insecure: false,
        },
    )
    .await
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidInput);
    assert_eq!(store.load().accounts.len(), 1);
}

//! What a compromised page could try against the app's own commands and capabilities.

use oxdrop_tests::OxenServer;
use oxdrop_tests::desktop::{Desktop, Launch};
use oxdrop_tests::nginx::AuthProxy;

use crate::steps::{KEY, sign_in, wait_connected};

/// What a compromised page could try: invent file paths, forge a drop, call what it was not
/// granted, fish for the key. None of it works.
#[tokio::test]
async fn the_page_cannot_choose_files_forge_drops_or_see_the_key() {
    let server = OxenServer::start();
    let proxy = AuthProxy::start(server.port(), KEY);
    let app = Desktop::launch(Launch::default()).await;
    sign_in(&app, &proxy.url(), "sec", KEY).await;
    app.click("[data-testid=sign-in]").await;
    wait_connected(&app, "oxen-server").await;
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
    ] {
        let r = invoke(cmd, serde_json::json!({})).await;
        assert!(!r.to_string().contains(KEY), "{cmd} leaked the key: {r}");
        assert!(r.get("ok").is_some(), "{cmd}: {r}");
    }
    let r = invoke("search_history", serde_json::json!({"args": {"query": ""}})).await;
    assert!(
        !r.to_string().contains(KEY),
        "search_history leaked the key: {r}"
    );
    assert!(r.get("ok").is_some(), "search_history: {r}");
    assert!(!app.client.source().await.unwrap().contains(KEY));
    app.quit().await;
}

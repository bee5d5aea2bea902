//! What real networks and servers do to an upload: the server killed and restarted mid-upload,
//! connections reset mid-body, responses held back, 429/500/502/503 in the server's place — all
//! against the real oxen-server, through a fault-injecting proxy where needed. Every run must end
//! in exactly one commit with every byte right, or in a clear error; never a hang, never a
//! duplicate.

// Test code: `&[path.clone()]` reads better, and a panic is how a test fails.
#![allow(clippy::cloned_ref_to_slice_refs, clippy::unwrap_used)]

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use oxdrop_core::client::ClientOptions;
use oxdrop_core::plan::make_plan;
use oxdrop_core::retry::RetryPolicy;
use oxdrop_core::upload::{self, Phase, Tuning, UploadOptions};
use oxdrop_core::{ApiKey, ErrorCode, OxenClient, ServerUrl};
use oxdrop_tests::faults::{Fault, FaultProxy, Rule};
use oxdrop_tests::upload::{Recorder, author, pairs, request, upload_paths};
use oxdrop_tests::{OxenServer, fixtures, oxenpy};
use tokio_util::sync::CancellationToken;

fn client_for(url: &str, options: ClientOptions) -> OxenClient {
    OxenClient::with_options(
        ServerUrl::parse(url).unwrap(),
        ApiKey::new("k-123456"),
        options,
    )
    .unwrap()
}

/// Short timeouts, so held-back answers turn into retries within the test's time.
fn impatient() -> ClientOptions {
    ClientOptions {
        read_timeout: Duration::from_secs(4),
        request_timeout: Duration::from_secs(8),
        commit_timeout: Duration::from_secs(8),
        retry: RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(2),
            max_elapsed: Duration::from_secs(60),
        },
        ..ClientOptions::default()
    }
}

#[tokio::test]
async fn heavy_server_killed_twice_mid_upload_still_one_commit() {
    let server = Arc::new(Mutex::new(OxenServer::start()));
    let (url, client) = {
        let s = server.lock().unwrap();
        (s.url(), s.client())
    };
    let repo =
        oxdrop_core::RepoRef::new("oxdrop-tests", &oxdrop_tests::unique_name("crash")).unwrap();
    client.create_repository(&repo, None).await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("load");
    let mut rel = fixtures::small_tree(&root, 1000, 100, 20_000, 5);
    fixtures::write_file(&root.join("one-gib.bin"), 1024 * 1024 * 1024, 6);
    rel.push("one-gib.bin".into());
    let journal = tempfile::tempdir().unwrap();
    let req = request(&repo, "main", "", &[root.clone()]);
    let plan = make_plan(&client, &req).await.unwrap();
    let options = UploadOptions {
        message: "survives crashes".into(),
        author: author(),
        tuning: Tuning::default(),
        journal_dir: Some(journal.path().to_path_buf()),
    };
    let recorder = Arc::new(Recorder::default());

    // Kill the server (SIGKILL, no goodbye) twice while bytes are flowing, restarting it each time.
    let watcher = recorder.clone();
    let chaos_server = server.clone();
    let chaos = tokio::spawn(async move {
        let mut crashes = 0;
        let mut threshold = 150 * 1024 * 1024;
        while crashes < 2 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let sent = watcher.snapshots().last().map_or(0, |s| s.bytes_done);
            if sent > threshold {
                let s = chaos_server.clone();
                tokio::task::spawn_blocking(move || {
                    let mut s = s.lock().unwrap();
                    s.crash();
                    std::thread::sleep(Duration::from_secs(2));
                    s.restart();
                })
                .await
                .unwrap();
                crashes += 1;
                threshold = sent + 300 * 1024 * 1024;
            }
        }
        crashes
    });
    let outcome = upload::upload(
        &client,
        &req,
        &plan,
        &options,
        recorder.clone(),
        CancellationToken::new(),
    )
    .await
    .unwrap();
    assert_eq!(chaos.await.unwrap(), 2, "the server really went down twice");
    assert_eq!(outcome.files_sent, 1001);
    assert!(outcome.failed.is_empty(), "{:?}", outcome.failed);
    assert!(
        recorder
            .snapshots()
            .iter()
            .any(|s| s.notice.as_deref().is_some_and(|n| n.contains("Retrying"))),
        "the user was told about the retries"
    );
    let report =
        oxenpy::assert_uploaded(&url, &repo.to_string(), "main", &pairs("load", &root, &rel));
    let ours = report
        .log
        .iter()
        .filter(|c| c.message == "survives crashes")
        .count();
    assert_eq!(ours, 1, "exactly one commit: {:?}", report.log);
    assert_eq!(report.tree.len(), 1001, "nothing duplicated, nothing extra");
    assert!(client.workspace_ids(&repo).await.unwrap().is_empty());
    assert!(
        upload::list_resumable(journal.path()).is_empty(),
        "journal cleared"
    );
}

#[tokio::test]
async fn resets_stalls_and_injected_errors_are_retried_without_duplicates() {
    let server = OxenServer::start();
    let repo = server.new_repo("faulty").await;
    let proxy = FaultProxy::start(
        server.port(),
        vec![
            // A batch cut off mid-body, twice.
            Rule::new(
                "POST /api/repos/oxdrop-tests",
                2,
                5,
                Fault::ResetMidBody { after: 64 * 1024 },
            ),
            // The server "busy" for a part, honoured via Retry-After.
            Rule::new(
                "/parts/",
                3,
                7,
                Fault::Respond {
                    status: 429,
                    retry_after: Some(1),
                    body: "",
                },
            ),
            // Proxies failing in front of the server.
            Rule::new(
                "/parts/",
                5,
                11,
                Fault::Respond {
                    status: 502,
                    retry_after: None,
                    body: "<html>Bad Gateway</html>",
                },
            ),
            Rule::new(
                "/workspaces/",
                4,
                0,
                Fault::Respond {
                    status: 503,
                    retry_after: None,
                    body: "",
                },
            ),
            Rule::new(
                "POST /api/repos/oxdrop-tests",
                4,
                0,
                Fault::Respond {
                    status: 500,
                    retry_after: None,
                    body: "",
                },
            ),
            // An answer held back past the client's patience: the part was stored, the client
            // sends it again, the server ignores the copy.
            Rule::new("/parts/", 8, 0, Fault::Stall(Duration::from_secs(6))),
            // The server "drops" a file from a batch without saying so: it must be sent again.
            Rule::new("/files/", 1, 0, Fault::DropFromPaths),
            // The commit's answer held back: the commit happened; the client must notice
            // instead of committing twice or reporting failure.
            Rule::new("/merge/main", 1, 0, Fault::Stall(Duration::from_secs(10))),
        ],
    )
    .await;
    let client = client_for(&proxy.url(), impatient());
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("net");
    let mut rel = fixtures::small_tree(&root, 300, 1000, 60_000, 8);
    fixtures::write_file(&root.join("big.bin"), 120 * 1024 * 1024 + 7, 9);
    rel.push("big.bin".into());
    let started = Instant::now();
    let (_, outcome) = upload_paths(
        &client,
        &repo,
        "main",
        "",
        &[root.clone()],
        "through faults",
    )
    .await
    .unwrap();
    assert!(started.elapsed() < Duration::from_secs(240));
    assert_eq!(outcome.files_sent, 301);
    assert!(outcome.failed.is_empty(), "{:?}", outcome.failed);
    let c = &proxy.counters;
    assert!(c.resets.load(Ordering::Relaxed) >= 1, "resets: {c:?}");
    assert!(c.stalls.load(Ordering::Relaxed) >= 2, "stalls: {c:?}");
    assert!(c.injected.load(Ordering::Relaxed) >= 3, "injected: {c:?}");
    assert!(c.dropped.load(Ordering::Relaxed) >= 1, "dropped: {c:?}");
    let report = oxenpy::assert_uploaded(
        &server.url(),
        &repo.to_string(),
        "main",
        &pairs("net", &root, &rel),
    );
    assert_eq!(
        report
            .log
            .iter()
            .filter(|l| l.message == "through faults")
            .count(),
        1,
        "{:?}",
        report.log
    );
    assert_eq!(
        report.log[0].id, outcome.commit.id,
        "the outcome names the real commit"
    );
    assert_eq!(report.tree.len(), 301);
}

#[tokio::test]
async fn a_server_that_never_answers_ends_in_a_clear_error_not_a_hang() {
    let server = OxenServer::start();
    let repo = server.new_repo("stalled").await;
    let proxy = FaultProxy::start(server.port(), vec![]).await;
    let mut options = impatient();
    options.retry.max_elapsed = Duration::from_secs(15);
    let client = client_for(&proxy.url(), options);
    let tmp = tempfile::tempdir().unwrap();
    let file = fixtures::write_file(&tmp.path().join("f.bin"), 3 * 1024 * 1024, 1);
    let req = request(&repo, "main", "", &[file]);
    let plan = make_plan(&client, &req).await.unwrap();
    // From now on every answer is held back for an hour.
    proxy.set_rules(vec![Rule::new(
        "",
        1,
        1,
        Fault::Stall(Duration::from_secs(3600)),
    )]);
    let recorder = Arc::new(Recorder::default());
    let started = Instant::now();
    let err = upload::upload(
        &client,
        &req,
        &plan,
        &oxdrop_tests::upload::options("never"),
        recorder.clone(),
        CancellationToken::new(),
    )
    .await
    .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(err.code, ErrorCode::Timeout, "{}", err.message);
    assert!(
        err.message.contains("did not answer in time"),
        "{}",
        err.message
    );
    assert_eq!(recorder.snapshots().last().unwrap().phase, Phase::Finished);
}

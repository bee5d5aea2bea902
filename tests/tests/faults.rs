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
use oxdrop_core::upload::{self, NoProgress, Phase, Tuning, UploadOptions};
use oxdrop_core::{ApiKey, ErrorCode, OxenClient, RemotePath, RepoRef, ServerUrl};
use oxdrop_tests::faults::{Fault, FaultProxy, Rule, test_client_options};
use oxdrop_tests::hostile::{Behavior, HostileServer, peak_memory_growth};
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

/// Every file arrived with every byte right (checked by oxenai), in exactly one commit with this
/// message, and nothing else is on the branch.
fn assert_one_commit(
    url: &str,
    repo: &RepoRef,
    message: &str,
    files: &[(String, std::path::PathBuf)],
) -> oxenpy::Report {
    let report = oxenpy::assert_uploaded(url, &repo.to_string(), "main", files);
    let ours = report.log.iter().filter(|c| c.message == message).count();
    assert_eq!(ours, 1, "exactly one commit: {:?}", report.log);
    assert_eq!(
        report.tree.len(),
        files.len(),
        "nothing duplicated, nothing extra"
    );
    report
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
        ..UploadOptions::default()
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
    assert_one_commit(&url, &repo, "survives crashes", &pairs("load", &root, &rel));
    assert!(client.workspace_ids(&repo).await.unwrap().is_empty());
    assert!(
        upload::list_resumable(journal.path()).is_empty(),
        "journal cleared"
    );
}

#[tokio::test]
async fn resets_stalls_and_injected_errors_are_retried_without_duplicates() {
    let patience = test_client_options().read_timeout;
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
            Rule::new(
                "/parts/",
                8,
                0,
                Fault::Stall(patience + Duration::from_secs(3)),
            ),
            // The server "drops" a file from a batch without saying so: it must be sent again.
            Rule::new("/files/", 1, 0, Fault::DropFromPaths),
            // The commit's answer lost: the commit happened; the client must notice instead of
            // committing twice or reporting failure.
            Rule::new("/merge/main", 1, 0, Fault::LoseAnswer),
        ],
    )
    .await;
    let client = client_for(&proxy.url(), test_client_options());
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
    assert!(c.stalls.load(Ordering::Relaxed) >= 1, "stalls: {c:?}");
    assert!(c.answers_lost.load(Ordering::Relaxed) >= 1, "lost: {c:?}");
    assert!(c.injected.load(Ordering::Relaxed) >= 3, "injected: {c:?}");
    assert!(c.dropped.load(Ordering::Relaxed) >= 1, "dropped: {c:?}");
    let report = assert_one_commit(
        &server.url(),
        &repo,
        "through faults",
        &pairs("net", &root, &rel),
    );
    assert_eq!(
        report.log[0].id, outcome.commit.id,
        "the outcome names the real commit"
    );
}

#[tokio::test]
async fn a_server_that_never_answers_ends_in_a_clear_error_not_a_hang() {
    let server = OxenServer::start();
    let repo = server.new_repo("stalled").await;
    let proxy = FaultProxy::start(server.port(), vec![]).await;
    let client = client_for(&proxy.url(), test_client_options());
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

#[tokio::test]
async fn a_frozen_part_is_abandoned_and_the_upload_finishes_by_itself() {
    let server = OxenServer::start();
    let repo = server.new_repo("frozen").await;
    // The second part request freezes after 1 MiB: no more bytes taken, no answer, sockets open.
    let proxy = FaultProxy::start(
        server.port(),
        vec![Rule::new(
            "/parts/",
            2,
            0,
            Fault::FreezeMidBody { after: 1 << 20 },
        )],
    )
    .await;
    let client = client_for(&proxy.url(), test_client_options());
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("set");
    let mut rel = fixtures::small_tree(&root, 20, 100, 20_000, 3);
    fixtures::write_file(&root.join("video.bin"), 96 * 1024 * 1024 + 5, 4);
    rel.push("video.bin".into());
    let started = Instant::now();
    let (_, outcome) = upload_paths(
        &client,
        &repo,
        "main",
        "",
        &[root.clone()],
        "despite a frozen part",
    )
    .await
    .unwrap();
    let took = started.elapsed();
    assert_eq!(
        proxy.count(&proxy.counters.frozen),
        1,
        "the part really froze"
    );
    assert_eq!(outcome.files_sent, 21);
    assert!(outcome.failed.is_empty(), "{:?}", outcome.failed);
    assert!(took < Duration::from_secs(150), "took {took:?}");
    assert_one_commit(
        &server.url(),
        &repo,
        "despite a frozen part",
        &pairs("set", &root, &rel),
    );
}

#[tokio::test]
async fn a_part_frozen_on_every_attempt_is_a_clear_interruption_and_resume_finishes() {
    let server = OxenServer::start();
    let repo = server.new_repo("frozen-always").await;
    let proxy = FaultProxy::start(server.port(), vec![]).await;
    let client = client_for(&proxy.url(), test_client_options());
    let tmp = tempfile::tempdir().unwrap();
    let big = fixtures::write_file(&tmp.path().join("big.bin"), 24 * 1024 * 1024 + 3, 7);
    let notes = fixtures::write_file(&tmp.path().join("notes.txt"), 700, 8);
    let req = request(&repo, "main", "", &[big.clone(), notes.clone()]);
    let plan = make_plan(&client, &req).await.unwrap();
    let journal = tempfile::tempdir().unwrap();
    let options = UploadOptions {
        message: "after the freeze".into(),
        author: author(),
        tuning: Tuning::default(),
        journal_dir: Some(journal.path().to_path_buf()),
        ..UploadOptions::default()
    };
    // Every part request freezes, for longer than OxDrop keeps retrying.
    proxy.set_rules(vec![Rule::new(
        "/parts/",
        1,
        1,
        Fault::FreezeMidBody { after: 1 << 20 },
    )]);
    let started = Instant::now();
    let err = upload::upload(
        &client,
        &req,
        &plan,
        &options,
        Arc::new(NoProgress),
        CancellationToken::new(),
    )
    .await
    .unwrap_err();
    let took = started.elapsed();
    assert!(took < Duration::from_secs(180), "took {took:?}");
    assert!(proxy.count(&proxy.counters.frozen) >= 2);
    assert!(err.retryable, "{err:?}");
    assert!(
        err.message.contains("was interrupted") && err.message.contains("resume"),
        "{}",
        err.message
    );
    let said = err.message.to_lowercase();
    for promise in ["try again", "will wait", "will start", "will try"] {
        assert!(
            !said.contains(promise),
            "an interruption promises nothing more: {}",
            err.message
        );
    }
    let resumable = upload::list_resumable(journal.path());
    assert_eq!(resumable.len(), 1, "kept for resume");

    // The network heals (the frozen connections stay frozen); resume finishes the upload.
    proxy.set_rules(vec![]);
    let outcome = upload::resume(
        &client,
        journal.path(),
        &upload::UploadId::parse(&resumable[0].id).unwrap(),
        Tuning::default(),
        Arc::new(NoProgress),
        CancellationToken::new(),
        CancellationToken::new(),
    )
    .await
    .unwrap();
    assert_eq!(outcome.files_sent, 2);
    assert_one_commit(
        &server.url(),
        &repo,
        "after the freeze",
        &[("big.bin".into(), big), ("notes.txt".into(), notes)],
    );
    assert!(upload::list_resumable(journal.path()).is_empty());
}

// ----- a broken or hostile server cannot exhaust memory ------------------------------------------

/// Peak memory growth allowed while refusing a huge answer: the 16 MiB cap, with room for the
/// allocator and the runtime, far below the 100 MiB sent.
const MEMORY_BOUND: u64 = 48 << 20;

#[tokio::test]
async fn answers_of_a_hundred_mib_are_refused_fast_or_slow_with_bounded_memory() {
    for (declare_length, pause) in [(true, Duration::ZERO), (false, Duration::from_millis(40))] {
        let hostile = HostileServer::start(Behavior::HugeJson {
            bytes: 100 << 20,
            chunk: 1 << 20,
            pause,
            declare_length,
        })
        .await;
        let client = client_for(&hostile.url(), test_client_options());
        let started = Instant::now();
        let (result, growth) = peak_memory_growth(client.version()).await;
        let took = started.elapsed();
        eprintln!(
            "length declared: {declare_length}; took {took:?}; memory grew by {} MiB",
            growth >> 20
        );
        let err = result.unwrap_err();
        assert_eq!(err.code, ErrorCode::BadResponse, "{}", err.message);
        assert!(
            err.message.contains("far larger than expected"),
            "{}",
            err.message
        );
        assert!(took < Duration::from_secs(15), "took {took:?}");
        assert!(
            growth < MEMORY_BOUND,
            "memory grew by {} MiB (length declared: {declare_length})",
            growth >> 20
        );
    }
}

#[tokio::test]
async fn a_folder_listing_that_never_ends_is_a_clear_error() {
    let hostile = HostileServer::start(Behavior::EndlessPages).await;
    let client = client_for(&hostile.url(), test_client_options());
    let repo = RepoRef::new("someone", "endless").unwrap();
    let started = Instant::now();
    let (result, growth) = peak_memory_growth(tokio::time::timeout(
        Duration::from_secs(20),
        client.list_dir_all(&repo, "main", &RemotePath::root()),
    ))
    .await;
    let err = result
        .expect("ends by itself, quickly")
        .expect_err("a listing that repeats itself is refused");
    assert_eq!(err.code, ErrorCode::BadResponse, "{}", err.message);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(growth < MEMORY_BOUND, "memory grew by {} MiB", growth >> 20);
    assert!(hostile.requests().len() <= 3, "stopped at the repeat");
}

#[tokio::test]
async fn a_part_size_of_one_byte_is_refused_before_anything_is_built() {
    let server = OxenServer::start();
    let repo = server.new_repo("tiny-parts").await;
    let size: u64 = 12 * 1024 * 1024 + 1;
    // The real server's begin answer, rewritten to parts of one byte (consistent with the size).
    let patch: &'static str = Box::leak(
        serde_json::json!({"part_size": 1, "num_parts": size, "part_window": size})
            .to_string()
            .into_boxed_str(),
    );
    let proxy = FaultProxy::start(
        server.port(),
        vec![Rule::new(
            "/versions/uploads HTTP",
            1,
            1,
            Fault::PatchJson(patch),
        )],
    )
    .await;
    let client = client_for(&proxy.url(), test_client_options());
    let tmp = tempfile::tempdir().unwrap();
    let big = fixtures::write_file(&tmp.path().join("big.bin"), size, 11);
    let notes = fixtures::write_file(&tmp.path().join("notes.txt"), 900, 12);
    let started = Instant::now();
    let (result, growth) = peak_memory_growth(upload_paths(
        &client,
        &repo,
        "main",
        "",
        &[big, notes.clone()],
        "tiny parts",
    ))
    .await;
    let (_, outcome) = result.unwrap();
    assert!(proxy.count(&proxy.counters.patched) >= 1);
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(growth < MEMORY_BOUND, "memory grew by {} MiB", growth >> 20);
    assert_eq!(outcome.files_sent, 1, "the other file is committed");
    assert_eq!(outcome.failed.len(), 1);
    let why = &outcome.failed[0].error;
    assert_eq!(why.code, ErrorCode::BadResponse, "{}", why.message);
    assert_one_commit(
        &server.url(),
        &repo,
        "tiny parts",
        &[("notes.txt".into(), notes)],
    );
}

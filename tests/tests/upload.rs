//! The upload engine against the real oxen-server; every result read back with Oxen's own Python
//! client and compared byte for byte.

// Test code: `&[path.clone()]` reads better, and a panic is how a test fails.
#![allow(clippy::cloned_ref_to_slice_refs, clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use oxdrop_core::ErrorCode;
use oxdrop_core::plan::{FileStatus, make_plan};
use oxdrop_core::upload::{self, FileState, Phase};
use oxdrop_tests::upload::{
    Fixture, Recorder, fire_when_sent, options, pairs, request, upload_paths,
};
use oxdrop_tests::{fixtures, oxenpy};
use tokio_util::sync::CancellationToken;

#[tokio::test]
async fn first_small_upload_into_an_empty_repo_is_one_commit() {
    let Fixture {
        server,
        client,
        repo,
        tmp,
    } = Fixture::new("first").await;
    let a = fixtures::write_file(&tmp.path().join("a.txt"), 1000, 1);
    let b = fixtures::write_file(&tmp.path().join("b.bin"), 20_000, 2);
    let (plan, outcome) = upload_paths(&client, &repo, "main", "docs", &[a.clone(), b.clone()], "")
        .await
        .unwrap();
    assert_eq!(plan.totals.new_files, 2);
    assert_eq!(plan.default_message, "Add 2 files to docs: a.txt, b.bin");
    assert_eq!(outcome.files_sent, 2);
    assert!(outcome.failed.is_empty());
    let report = oxenpy::assert_uploaded(
        &server.url(),
        &repo.to_string(),
        "main",
        &[("docs/a.txt".into(), a), ("docs/b.bin".into(), b)],
    );
    assert_eq!(report.tree, vec!["docs/a.txt", "docs/b.bin"]);
    assert_eq!(report.log.len(), 1, "exactly one commit: {:?}", report.log);
    assert_eq!(report.log[0].id, outcome.commit.id);
    assert_eq!(report.log[0].message, "Add 2 files to docs: a.txt, b.bin");
    assert_eq!(report.log[0].author, "Test Author");
}

#[tokio::test]
async fn nested_folders_non_ascii_and_empty_files_into_an_empty_repo() {
    let Fixture {
        server,
        client,
        repo,
        tmp,
    } = Fixture::new("nested").await;
    let root = tmp.path().join("Données été");
    let rel: Vec<PathBuf> = [
        "日本語/ファイル.txt",
        "a/b/c/deep.csv",
        "empty.dat",
        "ünï/ñ ç.md",
        "spaces in name/x y.txt",
    ]
    .iter()
    .map(PathBuf::from)
    .collect();
    for (i, r) in rel.iter().enumerate() {
        let size = if r.ends_with("empty.dat") {
            0
        } else {
            3000 + i as u64
        };
        fixtures::write_file(&root.join(r), size, i as u64);
    }
    let (plan, outcome) = upload_paths(&client, &repo, "main", "", &[root.clone()], "unicode")
        .await
        .unwrap();
    assert_eq!(plan.files.len(), 5);
    assert!(plan.refused.is_empty(), "{:?}", plan.refused);
    assert_eq!(outcome.files_sent, 5);
    let expect = pairs("Données été", &root, &rel);
    let report = oxenpy::assert_uploaded(&server.url(), &repo.to_string(), "main", &expect);
    let mut want: Vec<String> = expect.iter().map(|(r, _)| r.clone()).collect();
    want.sort();
    assert_eq!(report.tree, want);
    // The empty repository got the server's own initial commit, then exactly ours.
    assert_eq!(report.log[0].message, "unicode");
    assert!(report.log.len() <= 2, "{:?}", report.log);
}

#[tokio::test]
async fn heavy_thousand_files_land_in_one_commit() {
    let Fixture {
        server,
        client,
        repo,
        tmp,
    } = Fixture::new("thousand").await;
    let seed = fixtures::write_file(&tmp.path().join("seed.txt"), 10, 0);
    upload_paths(&client, &repo, "main", "", &[seed], "seed")
        .await
        .unwrap();
    let root = tmp.path().join("dataset");
    let rel = fixtures::small_tree(&root, 1200, 0, 48 * 1024, 42);
    let recorder = Arc::new(Recorder::default());
    let req = request(&repo, "main", "", &[root.clone()]);
    let plan = make_plan(&client, &req).await.unwrap();
    assert_eq!(plan.totals.new_files, 1200);
    let outcome = upload::upload(
        &client,
        &req,
        &plan,
        &options("1200 files"),
        recorder.clone(),
        CancellationToken::new(),
    )
    .await
    .unwrap();
    assert_eq!(outcome.files_sent, 1200);
    assert!(outcome.failed.is_empty());

    let snaps = recorder.snapshots();
    let last = snaps.last().unwrap();
    assert_eq!(last.phase, Phase::Finished);
    assert_eq!((last.files_done, last.files_total), (1200, 1200));
    assert_eq!(last.bytes_done, last.bytes_total);
    assert!(
        snaps.windows(2).all(|w| w[0].bytes_done <= w[1].bytes_done),
        "bytes never go back without a retry"
    );
    assert!(snaps.len() < 600, "throttled: {} snapshots", snaps.len());
    let sent_updates = snaps
        .iter()
        .flat_map(|s| &s.files)
        .filter(|f| f.state == FileState::Sent)
        .count();
    assert_eq!(sent_updates, 1200);

    let report = oxenpy::assert_uploaded(
        &server.url(),
        &repo.to_string(),
        "main",
        &pairs("dataset", &root, &rel),
    );
    assert_eq!(report.tree.len(), 1201);
    assert_eq!(report.log[0].message, "1200 files");
    assert_eq!(
        report.log[1].message, "seed",
        "one commit on top of the seed"
    );
    // The workspace is gone after the commit.
    assert!(client.workspace_ids(&repo).await.unwrap().is_empty());
}

#[tokio::test]
async fn heavy_big_file_goes_in_parts_with_small_and_empty_ones() {
    let Fixture {
        server,
        client,
        repo,
        tmp,
    } = Fixture::new("big").await;
    let big = fixtures::write_file(&tmp.path().join("big.bin"), 150 * 1024 * 1024 + 12345, 9);
    let mid = fixtures::write_file(&tmp.path().join("mid.bin"), 11 * 1024 * 1024, 8);
    let empty = fixtures::write_file(&tmp.path().join("zero.txt"), 0, 0);
    let small = fixtures::write_file(&tmp.path().join("small.txt"), 100, 1);
    let sources = vec![big.clone(), mid.clone(), empty.clone(), small.clone()];
    let (plan, outcome) = upload_paths(&client, &repo, "main", "blobs", &sources, "big one")
        .await
        .unwrap();
    assert_eq!(
        plan.totals.new_bytes,
        150 * 1024 * 1024 + 12345 + 11 * 1024 * 1024 + 100
    );
    assert_eq!(outcome.files_sent, 4);
    let expect: Vec<(String, PathBuf)> = sources
        .iter()
        .map(|p| {
            (
                format!("blobs/{}", p.file_name().unwrap().to_string_lossy()),
                p.clone(),
            )
        })
        .collect();
    let report = oxenpy::assert_uploaded(&server.url(), &repo.to_string(), "main", &expect);
    assert_eq!(report.log[0].message, "big one");
}

#[tokio::test]
async fn identical_reupload_changes_nothing_and_edits_overwrite() {
    let Fixture {
        server,
        client,
        repo,
        tmp,
    } = Fixture::new("same").await;
    let root = tmp.path().join("set");
    let rel = fixtures::small_tree(&root, 30, 1, 5000, 3);
    fixtures::write_file(&root.join("large.bin"), 6 * 1024 * 1024, 5);
    upload_paths(&client, &repo, "main", "", &[root.clone()], "v1")
        .await
        .unwrap();

    let req = request(&repo, "main", "", &[root.clone()]);
    let plan = make_plan(&client, &req).await.unwrap();
    assert_eq!(plan.totals.unchanged_files, 31, "{:?}", plan.totals);
    assert_eq!(plan.totals.new_files + plan.totals.overwrite_files, 0);
    let err = upload::upload(
        &client,
        &req,
        &plan,
        &options(""),
        Arc::new(upload::NoProgress),
        CancellationToken::new(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::NothingChanged);
    assert!(err.message.contains("Nothing changed"));

    // Same size, other bytes: only the hash tells; different size: obvious.
    fixtures::write_file(
        &root.join(&rel[0]),
        std::fs::metadata(root.join(&rel[0])).unwrap().len(),
        999,
    );
    fixtures::write_file(&root.join(&rel[1]), 10, 998);
    let plan = make_plan(&client, &req).await.unwrap();
    assert_eq!(plan.totals.overwrite_files, 2);
    assert_eq!(plan.totals.unchanged_files, 29);
    assert_eq!(plan.default_message, "Update 2 files: set");
    let outcome = upload::upload(
        &client,
        &req,
        &plan,
        &options(""),
        Arc::new(upload::NoProgress),
        CancellationToken::new(),
    )
    .await
    .unwrap();
    assert_eq!(outcome.files_sent, 2);
    assert_eq!(outcome.files_unchanged, 29);
    let mut all = pairs("set", &root, &rel);
    all.push(("set/large.bin".into(), root.join("large.bin")));
    let report = oxenpy::assert_uploaded(&server.url(), &repo.to_string(), "main", &all);
    assert_eq!(
        report
            .log
            .iter()
            .map(|c| c.message.as_str())
            .take(2)
            .collect::<Vec<_>>(),
        vec!["Update 2 files: set", "v1"]
    );
}

#[tokio::test]
async fn upload_to_another_branch_leaves_main_alone() {
    let Fixture {
        server,
        client,
        repo,
        tmp,
    } = Fixture::new("branchy").await;
    let a = fixtures::write_file(&tmp.path().join("a.txt"), 10, 1);
    upload_paths(&client, &repo, "main", "", &[a.clone()], "on main")
        .await
        .unwrap();
    client
        .create_branch(&repo, "experiment", "main")
        .await
        .unwrap();
    let b = fixtures::write_file(&tmp.path().join("b.txt"), 10, 2);
    let (_, outcome) = upload_paths(
        &client,
        &repo,
        "experiment",
        "",
        &[b.clone()],
        "on experiment",
    )
    .await
    .unwrap();
    assert_eq!(outcome.branch, "experiment");
    let exp = oxenpy::assert_uploaded(
        &server.url(),
        &repo.to_string(),
        "experiment",
        &[("a.txt".into(), a.clone()), ("b.txt".into(), b)],
    );
    assert_eq!(exp.tree, vec!["a.txt", "b.txt"]);
    let main = oxenpy::assert_uploaded(
        &server.url(),
        &repo.to_string(),
        "main",
        &[("a.txt".into(), a)],
    );
    assert_eq!(main.tree, vec!["a.txt"]);
    let missing = upload_paths(&client, &repo, "nope", "", &[tmp.path().join("a.txt")], "")
        .await
        .unwrap_err();
    assert_eq!(missing.code, ErrorCode::BranchNotFound);
}

#[tokio::test]
async fn racing_uploads_on_one_branch_both_land() {
    let Fixture {
        server,
        client,
        repo,
        tmp,
    } = Fixture::new("race").await;
    let seed = fixtures::write_file(&tmp.path().join("seed.txt"), 10, 0);
    upload_paths(&client, &repo, "main", "", &[seed], "seed")
        .await
        .unwrap();
    let left = tmp.path().join("left");
    let right = tmp.path().join("right");
    let lrel = fixtures::small_tree(&left, 80, 100, 20_000, 1);
    let rrel = fixtures::small_tree(&right, 80, 100, 20_000, 2);
    let c2 = server.client();
    let (lsrc, rsrc) = ([left.clone()], [right.clone()]);
    let (l, r) = tokio::join!(
        upload_paths(&client, &repo, "main", "", &lsrc, "left"),
        upload_paths(&c2, &repo, "main", "", &rsrc, "right"),
    );
    let (l, r) = (l.unwrap().1, r.unwrap().1);
    assert_ne!(l.commit.id, r.commit.id);
    let mut expect = pairs("left", &left, &lrel);
    expect.extend(pairs("right", &right, &rrel));
    let report = oxenpy::assert_uploaded(&server.url(), &repo.to_string(), "main", &expect);
    let messages: Vec<&str> = report.log.iter().map(|c| c.message.as_str()).collect();
    assert!(
        messages[..2].contains(&"left") && messages[..2].contains(&"right"),
        "{messages:?}"
    );
}

#[tokio::test]
async fn racing_uploads_of_the_same_path_conflict_clearly_and_retry_lands() {
    let Fixture {
        server,
        client,
        repo,
        tmp,
    } = Fixture::new("samepath").await;
    let base = fixtures::write_file(&tmp.path().join("base/data.csv"), 100, 0);
    upload_paths(&client, &repo, "main", "", &[base], "base")
        .await
        .unwrap();
    // Another client is mid-upload of the same file: its workspace is open and staged…
    let other = server.client();
    let ws = other
        .create_workspace(&repo, "main", "other-client")
        .await
        .unwrap();
    let theirs_bytes = bytes::Bytes::from_static(b"their version of the data");
    let staged = other
        .stage_files(
            &repo,
            &ws.id,
            vec![oxdrop_core::client::BatchFile {
                path: oxdrop_core::RemotePath::parse("data.csv").unwrap(),
                bytes: theirs_bytes.clone(),
                gzip: false,
            }],
        )
        .await
        .unwrap();
    assert_eq!(staged, vec!["data.csv"]);
    // …when ours lands first.
    let mine = fixtures::write_file(&tmp.path().join("mine/data.csv"), 200, 1);
    upload_paths(&client, &repo, "main", "", &[mine.clone()], "mine")
        .await
        .unwrap();
    // Their commit is refused in plain words, not as a raw 409.
    let author = oxdrop_tests::upload::author();
    let err = other
        .commit_workspace(&repo, &ws.id, "main", "theirs", &author)
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::BranchMoved);
    assert_eq!(err.status, Some(409));
    assert!(
        err.message.contains("changed some of the same files"),
        "{}",
        err.message
    );
    other.delete_workspace(&repo, &ws.id).await.unwrap();
    // They review again (the plan now says "will overwrite") and upload: it lands.
    let theirs = tmp.path().join("theirs/data.csv");
    std::fs::create_dir_all(theirs.parent().unwrap()).unwrap();
    std::fs::write(&theirs, &theirs_bytes).unwrap();
    let (plan, _) = upload_paths(
        &other,
        &repo,
        "main",
        "",
        &[theirs.clone()],
        "theirs, again",
    )
    .await
    .unwrap();
    assert_eq!(plan.totals.overwrite_files, 1);
    let report = oxenpy::assert_uploaded(
        &server.url(),
        &repo.to_string(),
        "main",
        &[("data.csv".into(), theirs)],
    );
    let messages: Vec<&str> = report.log.iter().map(|c| c.message.as_str()).collect();
    assert_eq!(
        messages,
        ["theirs, again", "mine", "base"],
        "nothing lost from history"
    );
    assert!(client.workspace_ids(&repo).await.unwrap().is_empty());
}

#[tokio::test]
async fn heavy_cancel_mid_upload_commits_nothing_and_leaves_no_workspace() {
    let Fixture {
        server: _server,
        client,
        repo,
        tmp,
    } = Fixture::new("cancel").await;
    let seed = fixtures::write_file(&tmp.path().join("seed.txt"), 10, 0);
    upload_paths(&client, &repo, "main", "", &[seed], "seed")
        .await
        .unwrap();
    let head = client.branch(&repo, "main").await.unwrap().commit_id;
    let big = fixtures::write_file(&tmp.path().join("big.bin"), 400 * 1024 * 1024, 4);
    let req = request(&repo, "main", "", &[big]);
    let plan = make_plan(&client, &req).await.unwrap();
    let cancel = CancellationToken::new();
    let recorder = Arc::new(Recorder::default());
    // Cancel once the upload is visibly under way.
    fire_when_sent(recorder.clone(), cancel.clone(), 20 * 1024 * 1024);
    let started = std::time::Instant::now();
    let err = upload::upload(
        &client,
        &req,
        &plan,
        &options("never"),
        recorder.clone(),
        cancel,
    )
    .await
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::Cancelled);
    assert!(err.message.contains("Nothing was committed"));
    assert!(started.elapsed() < Duration::from_secs(120));
    assert_eq!(
        client.branch(&repo, "main").await.unwrap().commit_id,
        head,
        "no commit"
    );
    assert!(
        client.workspace_ids(&repo).await.unwrap().is_empty(),
        "workspace removed"
    );
    assert!(
        recorder
            .snapshots()
            .iter()
            .any(|s| s.phase == Phase::Cancelling)
    );
}

#[tokio::test]
async fn refused_files_do_not_stop_the_rest() {
    let Fixture {
        server,
        client,
        repo,
        tmp,
    } = Fixture::new("refused").await;
    let dir = tmp.path().join("mixed");
    let good = fixtures::write_file(&dir.join("good.txt"), 50, 1);
    std::os::unix::fs::symlink(&dir, dir.join("loop")).unwrap();
    assert!(
        std::process::Command::new("mkfifo")
            .arg(dir.join("pipe"))
            .status()
            .unwrap()
            .success()
    );
    fixtures::write_file(&dir.join(".oxen/HEAD"), 5, 2);
    let (plan, outcome) = upload_paths(&client, &repo, "main", "", &[dir.clone()], "")
        .await
        .unwrap();
    assert_eq!(plan.files.len(), 1);
    assert_eq!(plan.refused.len(), 3, "{:?}", plan.refused);
    assert_eq!(outcome.files_sent, 1);
    oxenpy::assert_uploaded(
        &server.url(),
        &repo.to_string(),
        "main",
        &[("mixed/good.txt".into(), good)],
    );
}

#[tokio::test]
async fn plan_refuses_paths_that_clash_with_the_branch() {
    let Fixture {
        server: _server,
        client,
        repo,
        tmp,
    } = Fixture::new("clash").await;
    fixtures::write_file(&tmp.path().join("v1/report"), 10, 1);
    fixtures::write_file(&tmp.path().join("v1/images/a.png"), 10, 2);
    upload_paths(
        &client,
        &repo,
        "main",
        "",
        &[tmp.path().join("v1/report"), tmp.path().join("v1/images")],
        "v1",
    )
    .await
    .unwrap();
    // Now a folder named like the existing file, and a file named like the existing folder.
    fixtures::write_file(&tmp.path().join("v2/report/page.txt"), 10, 3);
    fixtures::write_file(&tmp.path().join("v2/images"), 10, 4);
    fixtures::write_file(&tmp.path().join("v2/ok.txt"), 10, 5);
    let req = request(
        &repo,
        "main",
        "",
        &[
            tmp.path().join("v2/report"),
            tmp.path().join("v2/images"),
            tmp.path().join("v2/ok.txt"),
        ],
    );
    let plan = make_plan(&client, &req).await.unwrap();
    let statuses: Vec<(&str, FileStatus)> = plan
        .files
        .iter()
        .map(|f| (f.remote.as_str(), f.status))
        .collect();
    assert_eq!(statuses, vec![("ok.txt", FileStatus::New)]);
    assert_eq!(plan.refused.len(), 2);
    assert!(
        plan.refused
            .iter()
            .all(|r| r.reason == oxdrop_core::plan::RefusalReason::PathConflict)
    );
}

#[tokio::test]
async fn a_branch_with_only_the_servers_empty_commit_plans_and_uploads() {
    // What a cancelled first upload leaves behind: `main` exists, with no files at all.
    let Fixture {
        server,
        client,
        repo,
        tmp,
    } = Fixture::new("emptytree").await;
    let ws = client
        .create_workspace(&repo, "main", "left-behind")
        .await
        .unwrap();
    client.delete_workspace(&repo, &ws.id).await.unwrap();
    assert!(!client.repository(&repo).await.unwrap().is_empty);
    let f = fixtures::write_file(&tmp.path().join("first.txt"), 10, 1);
    let (plan, outcome) = upload_paths(&client, &repo, "main", "in/here", &[f.clone()], "")
        .await
        .unwrap();
    assert_eq!(plan.totals.new_files, 1);
    assert_eq!(outcome.files_sent, 1);
    oxenpy::assert_uploaded(
        &server.url(),
        &repo.to_string(),
        "main",
        &[("in/here/first.txt".into(), f)],
    );
}

#[tokio::test]
async fn progress_counts_only_the_files_it_sends() {
    let Fixture {
        server: _server,
        client,
        repo,
        tmp,
    } = Fixture::new("counts").await;
    let root = tmp.path().join("set");
    fixtures::small_tree(&root, 10, 100, 2000, 1);
    upload_paths(&client, &repo, "main", "", &[root.clone()], "v1")
        .await
        .unwrap();
    // Ten files already there, five new ones: five to send.
    for i in 0..5 {
        fixtures::write_file(&root.join(format!("new-{i}.txt")), 500, 100 + i);
    }
    let req = request(&repo, "main", "", &[root.clone()]);
    let plan = make_plan(&client, &req).await.unwrap();
    assert_eq!(
        (plan.totals.unchanged_files, plan.totals.new_files),
        (10, 5)
    );
    let recorder = Arc::new(Recorder::default());
    let outcome = upload::upload(
        &client,
        &req,
        &plan,
        &options("five more"),
        recorder.clone(),
        CancellationToken::new(),
    )
    .await
    .unwrap();
    assert_eq!((outcome.files_sent, outcome.files_unchanged), (5, 10));
    let snaps = recorder.snapshots();
    for s in &snaps {
        assert_eq!(s.files_total, 5, "{s:?}");
        assert!(s.files_done + s.files_failed <= s.files_total, "{s:?}");
    }
    let last = snaps.last().unwrap();
    assert_eq!((last.files_done, last.files_total), (5, 5));
    let states: Vec<FileState> = snaps
        .iter()
        .flat_map(|s| &s.files)
        .map(|f| f.state)
        .collect();
    let count = |state| states.iter().filter(|s| **s == state).count();
    assert_eq!(
        (count(FileState::Unchanged), count(FileState::Sent)),
        (10, 5)
    );
}

#[tokio::test]
async fn names_a_repository_path_cannot_hold_are_refused_in_the_plan() {
    let Fixture {
        server,
        client,
        repo,
        tmp,
    } = Fixture::new("names").await;
    // A file named like a Windows drive, and one with a backslash (a folder separator to Oxen on
    // Windows) in its name: neither may reach a plan, whose journal could not be read back.
    let drive = fixtures::write_file(&tmp.path().join("C:"), 10, 1);
    let dir = tmp.path().join("drop");
    fixtures::write_file(&dir.join("back\\slash.txt"), 10, 2);
    fixtures::write_file(&dir.join("D:"), 10, 3);
    let fine = fixtures::write_file(&dir.join("fine.txt"), 10, 4);
    let req = request(&repo, "main", "", &[drive, dir.clone()]);
    let plan = make_plan(&client, &req).await.unwrap();
    let files: Vec<&str> = plan.files.iter().map(|f| f.remote.as_str()).collect();
    assert_eq!(files, ["drop/D:", "drop/fine.txt"], "{:?}", plan.refused);
    let mut refused: Vec<(&str, &str)> = plan
        .refused
        .iter()
        .map(|r| (r.local.rsplit('/').next().unwrap(), r.message.as_str()))
        .collect();
    refused.sort();
    assert_eq!(refused.len(), 2, "{refused:?}");
    assert!(
        refused[0].0 == "C:" && refused[0].1.contains("drive"),
        "{refused:?}"
    );
    assert!(
        refused[1].0 == "back\\slash.txt" && refused[1].1.contains("backslash"),
        "{refused:?}"
    );
    assert!(
        plan.refused
            .iter()
            .all(|r| r.reason == oxdrop_core::plan::RefusalReason::NameNotAllowed)
    );
    // What is planned can be journaled and read back.
    let text = serde_json::to_string(&plan).unwrap();
    serde_json::from_str::<oxdrop_core::plan::Plan>(&text).unwrap();
    let journal = tempfile::tempdir().unwrap();
    let mut options = options("names");
    options.journal_dir = Some(journal.path().to_path_buf());
    let outcome = upload::upload(
        &client,
        &req,
        &plan,
        &options,
        Arc::new(upload::NoProgress),
        CancellationToken::new(),
    )
    .await
    .unwrap();
    assert_eq!(outcome.files_sent, 2);
    oxenpy::assert_uploaded(
        &server.url(),
        &repo.to_string(),
        "main",
        &[("drop/fine.txt".into(), fine)],
    );
}

#[tokio::test]
async fn heavy_a_queued_upload_paused_mid_way_keeps_what_was_sent_and_resumes_to_one_commit() {
    let Fixture {
        server,
        client,
        repo,
        tmp,
    } = Fixture::new("pause").await;
    let seed = fixtures::write_file(&tmp.path().join("seed.txt"), 10, 0);
    upload_paths(&client, &repo, "main", "", &[seed], "seed")
        .await
        .unwrap();
    let head = client.branch(&repo, "main").await.unwrap().commit_id;
    let big = fixtures::write_file(&tmp.path().join("big.bin"), 200 * 1024 * 1024, 5);
    let small = fixtures::write_file(&tmp.path().join("small.txt"), 3000, 6);
    let req = request(&repo, "main", "in", &[big.clone(), small.clone()]);
    let plan = make_plan(&client, &req).await.unwrap();
    let journal = tempfile::tempdir().unwrap();
    let pause = CancellationToken::new();
    let queued = upload::prepare(
        &client,
        &req,
        &plan,
        &upload::UploadOptions {
            journal_dir: Some(journal.path().to_path_buf()),
            upload_id: Some(upload::UploadId::new()),
            ..options("paused and resumed")
        },
    )
    .unwrap();
    assert_eq!(
        upload::list_resumable(journal.path()).len(),
        1,
        "queued = journaled"
    );

    let recorder = Arc::new(Recorder::default());
    fire_when_sent(recorder.clone(), pause.clone(), 20 * 1024 * 1024);
    let run = |pause: CancellationToken, sink: Arc<Recorder>| {
        upload::resume(
            &client,
            journal.path(),
            &queued,
            upload::Tuning::default(),
            sink,
            CancellationToken::new(),
            pause,
        )
    };
    let err = run(pause, recorder.clone()).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::Paused, "{err:?}");
    let snapshots = recorder.snapshots();
    let sent_before = snapshots.iter().map(|s| s.bytes_done).max().unwrap();
    assert!(sent_before > 20 * 1024 * 1024, "{sent_before}");
    assert!(
        sent_before < 200 * 1024 * 1024,
        "stopped before the end: {sent_before}"
    );
    assert_eq!(
        client.branch(&repo, "main").await.unwrap().commit_id,
        head,
        "nothing committed while paused"
    );
    assert_eq!(
        client.workspace_ids(&repo).await.unwrap().len(),
        1,
        "the workspace is kept"
    );
    let kept = upload::list_resumable(journal.path());
    assert_eq!(kept.len(), 1, "the journal is kept");
    assert_eq!(kept[0].id, queued.to_string());

    // Resume: what was acknowledged is not sent again.
    let again = Arc::new(Recorder::default());
    let outcome = run(CancellationToken::new(), again.clone()).await.unwrap();
    assert_eq!(outcome.files_sent, 2);
    assert!(upload::list_resumable(journal.path()).is_empty());
    assert!(client.workspace_ids(&repo).await.unwrap().is_empty());
    let report = oxenpy::assert_uploaded(
        &server.url(),
        &repo.to_string(),
        "main",
        &[
            ("seed.txt".into(), tmp.path().join("seed.txt")),
            ("in/big.bin".into(), big),
            ("in/small.txt".into(), small),
        ],
    );
    assert_eq!(report.log.len(), 2, "one commit more: {:?}", report.log);
    assert_eq!(report.log[0].id, outcome.commit.id);
}

#[tokio::test]
async fn a_queued_upload_whose_repository_or_branch_vanished_is_stopped_with_that_reason() {
    use oxdrop_core::queue::{Origin, QueuedUpload, check_destination};
    let Fixture {
        server,
        client,
        repo,
        tmp,
    } = Fixture::new("vanish").await;
    let seed = fixtures::write_file(&tmp.path().join("seed.txt"), 10, 0);
    upload_paths(&client, &repo, "main", "", &[seed], "seed")
        .await
        .unwrap();
    client.create_branch(&repo, "side", "main").await.unwrap();
    let file = fixtures::write_file(&tmp.path().join("a.txt"), 10, 1);
    let server_url = server.server_url();
    let queued = |branch: &str| {
        let req = request(&repo, branch, "", &[file.clone()]);
        let (client, server_url) = (&client, &server_url);
        async move {
            let plan = make_plan(client, &req).await.unwrap();
            QueuedUpload::new("q", "acc", server_url, &req, &plan, "m", Origin::Manual)
        }
    };
    let on_side = queued("side").await;
    check_destination(&client, &on_side).await.unwrap();
    let deleted = reqwest::Client::new()
        .delete(format!("{}/api/repos/{repo}/branches/side", server.url()))
        .header("user-agent", oxdrop_core::client::USER_AGENT)
        .send()
        .await
        .unwrap();
    assert!(deleted.status().is_success(), "{deleted:?}");
    let err = check_destination(&client, &on_side).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::BranchNotFound, "{err:?}");
    assert!(
        err.message.contains("branch side no longer exists"),
        "{}",
        err.message
    );

    let on_main = queued("main").await;
    client.delete_repository(&repo).await.unwrap();
    let err = check_destination(&client, &on_main).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::RepoNotFound, "{err:?}");
    assert!(err.message.contains("no longer exists"), "{}", err.message);
}

//! The list of uploads: order, turns per server, moves, states after a run and after a restart,
//! and persistence.

use super::*;
use crate::client::OxenClient;
use crate::model::{Author, Commit};
use crate::plan::{Plan, PlanRequest};
use crate::remote_path::RemotePath;
use crate::repo_ref::RepoRef;
use crate::server_url::ServerUrl;
use crate::upload::{FailedFile, ResumableUpload, UploadOptions, UploadOutcome};

fn server(n: u16) -> ServerUrl {
    ServerUrl::parse(&format!("http://127.0.0.1:{n}")).unwrap()
}

fn plan(files: &[&str]) -> (PlanRequest, Plan) {
    let repo = RepoRef::new("ada", "photos").unwrap();
    let remote: Vec<String> = files.iter().map(|f| format!("in/{f}")).collect();
    let remote: Vec<&str> = remote.iter().map(String::as_str).collect();
    let plan = Plan::of_new_files(repo.clone(), RemotePath::parse("in").unwrap(), &remote, 5);
    let request = PlanRequest {
        repo,
        branch: "main".into(),
        dest: plan.dest.clone(),
        sources: vec!["/home/ada/Summer".into()],
        follow_links: false,
        ignore_patterns: vec![],
        contents: None,
    };
    (request, plan)
}

fn entry(id: &str, on: u16) -> QueuedUpload {
    let (request, plan) = plan(&["Summer/a.jpg", "Summer/b.jpg"]);
    QueuedUpload::new(id, "ada", &server(on), &request, &plan, "m", Origin::Manual)
}

/// Its journal, as listed once a run stopped: `files` and `bytes` of it on the server.
fn journaled(e: &QueuedUpload, files: u32, bytes: u64) -> ResumableUpload {
    ResumableUpload {
        id: e.id.clone(),
        server: e.server.clone(),
        user: Some("ada".into()),
        repo: e.repo.clone(),
        branch: e.branch.clone(),
        message: e.message.clone(),
        files_total: e.files,
        files_sent: files,
        bytes_sent: bytes,
        bytes_total: e.bytes,
        started_unix: 1,
    }
}

fn ids(q: &Queue) -> Vec<&str> {
    q.uploads.iter().map(|u| u.id.as_str()).collect()
}

#[test]
fn a_new_entry_sums_up_its_plan() {
    let e = entry("a", 1);
    assert_eq!((e.files, e.bytes, e.state), (2, 10, UploadState::Queued));
    assert_eq!(e.folder.as_str(), "in/Summer");
    assert_eq!(e.sources, ["Summer"]);
    assert_eq!(e.file_names.len(), 2);
    assert!(!e.new_branch);
    let json = serde_json::to_value(Origin::Watch("w1".into())).unwrap();
    assert_eq!(json, serde_json::json!({"kind": "watch", "watch_id": "w1"}));
}

#[test]
fn an_entry_knows_whether_its_message_is_the_suggested_one() {
    let (request, plan) = plan(&["Summer/a.jpg"]);
    let suggested = &plan.default_message;
    let e = QueuedUpload::new(
        "a",
        "ada",
        &server(1),
        &request,
        &plan,
        suggested,
        Origin::Manual,
    );
    assert!(e.suggested_message);
    let mine = QueuedUpload::new(
        "b",
        "ada",
        &server(1),
        &request,
        &plan,
        "Mine",
        Origin::Manual,
    );
    assert!(!mine.suggested_message);
    // Lists written before it was kept read as the user's own message (kept on a retry).
    let mut json = serde_json::to_value(&e).unwrap();
    json.as_object_mut().unwrap().remove("suggested_message");
    let old: QueuedUpload = serde_json::from_value(json).unwrap();
    assert!(!old.suggested_message);
}

#[test]
fn one_at_a_time_per_server_in_order() {
    let mut q = Queue::default();
    for (id, on) in [("a", 1), ("b", 1), ("c", 2)] {
        q.push(entry(id, on));
    }
    assert_eq!(q.next_to_start(1).unwrap().id, "a");
    q.entry("a").unwrap().start();
    // Server 1 is busy: the next in line for another server goes.
    assert_eq!(q.next_to_start(1).unwrap().id, "c");
    assert_eq!(
        q.next_to_start(2).unwrap().id,
        "b",
        "a setting may allow more"
    );
    q.entry("c").unwrap().start();
    assert!(q.next_to_start(1).is_none());
    let done = Err(Error::paused());
    let a = q.entry("a").unwrap();
    let kept = journaled(a, 1, 5);
    a.finish(&done, Some(&kept));
    assert_eq!(q.get("a").unwrap().state, UploadState::Paused);
    assert_eq!(q.next_to_start(1).unwrap().id, "b", "a paused upload waits");
}

#[test]
fn queued_uploads_move_among_themselves_and_running_ones_stay_put() {
    let mut q = Queue::default();
    for id in ["a", "b", "c", "d"] {
        q.push(entry(id, 1));
    }
    q.entry("a").unwrap().start();
    q.move_queued("d", true).unwrap();
    assert_eq!(ids(&q), ["a", "b", "d", "c"]);
    q.move_queued("b", true).unwrap();
    assert_eq!(
        ids(&q),
        ["a", "b", "d", "c"],
        "the first queued stays first"
    );
    q.move_queued("b", false).unwrap();
    assert_eq!(ids(&q), ["a", "d", "b", "c"]);
    assert!(q.move_queued("a", false).is_err(), "running");
    let err = q.remove("a").unwrap_err();
    assert_eq!(err.code, ErrorCode::UploadRunning);
    assert_eq!(q.remove("b").unwrap().id, "b");
    assert!(q.remove("b").is_err());
}

#[test]
fn how_a_run_ended_decides_the_state() {
    let commit = Commit {
        id: "c0ffee".into(),
        message: "m".into(),
        author: "A".into(),
        email: "a@b.c".into(),
        timestamp: String::new(),
        parent_ids: vec![],
    };
    let outcome = UploadOutcome {
        commit,
        branch: "main".into(),
        files_sent: 1,
        bytes_sent: 5,
        files_unchanged: 0,
        failed: vec![FailedFile {
            index: 1,
            local: "/tmp/b".into(),
            remote: RemotePath::parse("in/b").unwrap(),
            error: Error::new(ErrorCode::LocalIo, "gone"),
        }],
        web_url: "w".into(),
        folder_url: "f".into(),
    };
    let cases: Vec<(crate::Result<UploadOutcome>, bool, UploadState)> = vec![
        (Ok(outcome), false, UploadState::Done),
        (Err(Error::paused()), true, UploadState::Paused),
        (Err(Error::cancelled()), false, UploadState::Cancelled),
        (
            Err(Error::new(ErrorCode::Unreachable, "down")),
            true,
            UploadState::Interrupted,
        ),
        (
            Err(Error::new(ErrorCode::KeyRejected, "key")),
            true,
            UploadState::Interrupted,
        ),
        (
            Err(Error::new(ErrorCode::ReviewOutdated, "changed")),
            false,
            UploadState::NeedsReview,
        ),
        (
            Err(Error::new(ErrorCode::NothingToUpload, "none")),
            false,
            UploadState::Failed,
        ),
    ];
    for (result, kept, want) in cases {
        let mut e = entry("x", 1);
        e.start();
        let kept = kept.then(|| journaled(&e, 1, 5));
        e.finish(&result, kept.as_ref());
        assert_eq!(e.state, want, "{result:?}");
        // What a resume would not send again is shown while it can be resumed.
        let sent = matches!(want, UploadState::Paused | UploadState::Interrupted)
            .then_some(SentSoFar { files: 1, bytes: 5 });
        assert_eq!(e.sent, sent, "{result:?}");
        assert_eq!(e.finished_unix.is_some(), want.is_finished());
        assert_eq!(
            e.problem.is_some(),
            result.is_err() && want != UploadState::Paused
        );
    }
    let mut e = entry("x", 1);
    e.start();
    let kept = journaled(&e, 1, 5);
    e.finish(&Err(Error::paused()), Some(&kept));
    e.requeue().unwrap();
    assert_eq!(e.state, UploadState::Queued);
    assert_eq!(
        e.sent,
        Some(SentSoFar { files: 1, bytes: 5 }),
        "kept while waiting"
    );
    assert!(e.requeue().is_err(), "already queued");
    e.start();
    assert_eq!(e.sent, None, "its progress is shown while it runs");
}

#[test]
fn the_list_persists_in_order_and_a_restart_interrupts_what_ran() {
    let dir = tempfile::tempdir().unwrap();
    let journals = dir.path().join("uploads");
    let store = QueueStore::new(dir.path());
    store
        .update(|q| {
            for id in ["a", "b", "c"] {
                q.push(entry(id, 1));
            }
            q.entry("a")?.start();
            Ok(())
        })
        .unwrap();
    store.update(|q| q.move_queued("c", true)).unwrap();

    // An upload interrupted outside the list (the command line), journaled only.
    let client = OxenClient::new(server(1), None).unwrap().for_user("ada");
    let (request, plan) = plan(&["cli.txt"]);
    let options = UploadOptions {
        author: Author {
            name: "A".into(),
            email: "a@b.c".into(),
        },
        journal_dir: Some(journals.clone()),
        ..UploadOptions::default()
    };
    let outside = crate::upload::prepare(&client, &request, &plan, &options).unwrap();
    // Its one file (5 bytes) reached the server before it stopped.
    let (_, mut journal) = crate::upload::journal::Journal::open(&journals, &outside).unwrap();
    journal.state.staged.insert(0);
    journal.save(true).unwrap();
    drop(journal);

    // The app starts again.
    let (q, ()) = store
        .update(|q| {
            q.after_restart(&journals);
            Ok(())
        })
        .unwrap();
    assert_eq!(ids(&q), [outside.to_string().as_str(), "a", "c", "b"]);
    let a = q.get("a").unwrap();
    assert_eq!(a.state, UploadState::Interrupted);
    assert!(a.problem.as_ref().unwrap().message.contains("was closed"));
    let adopted = q.get(&outside.to_string()).unwrap();
    assert_eq!(adopted.state, UploadState::Interrupted);
    assert!(
        adopted
            .problem
            .as_ref()
            .unwrap()
            .message
            .contains("stopped part way"),
        "{adopted:?}"
    );
    assert_eq!(adopted.account_id, "ada@http://127.0.0.1:1");
    assert_eq!(adopted.sent, Some(SentSoFar { files: 1, bytes: 5 }));
    assert_eq!(a.sent, None, "no journal, nothing to say");
    assert_eq!(adopted.file_names[0].as_str(), "in/cli.txt");
    assert_eq!(store.load(), q, "what is on disk");

    // Adopted once only.
    let (again, ()) = store
        .update(|q| {
            q.after_restart(&journals);
            Ok(())
        })
        .unwrap();
    assert_eq!(again.uploads.len(), 4);
}

#[test]
fn only_the_newest_finished_uploads_are_kept_and_they_can_be_cleared() {
    let mut q = Queue::default();
    q.push(entry("waiting", 1));
    for n in 0..(FINISHED_MAX + 5) {
        let mut e = entry(&format!("f{n}"), 1);
        e.finish(&Err(Error::cancelled()), None);
        q.push(e);
    }
    q.trim_finished();
    assert_eq!(q.uploads.len(), FINISHED_MAX + 1);
    assert!(q.get("waiting").is_some());
    assert!(q.get("f0").is_none() && q.get("f5").is_some());
    q.clear_finished();
    assert_eq!(ids(&q), ["waiting"]);
}

//! The journal: round trips, the lock of a running upload, ids.

use super::*;
use crate::plan::PlanTotals;
use crate::remote_path::RemotePath;

fn plan_file(id: &UploadId) -> PlanFile {
    let repo = RepoRef::new("ns", "repo").unwrap();
    PlanFile {
        format: FORMAT,
        id: id.to_string(),
        server: ServerUrl::parse("http://127.0.0.1:1").unwrap(),
        user: Some("ada".into()),
        request: PlanRequest {
            repo: repo.clone(),
            branch: "main".into(),
            dest: RemotePath::root(),
            sources: vec![],
            follow_links: false,
            ignore_patterns: vec![],
            contents: None,
        },
        plan: Plan {
            repo,
            branch: "main".into(),
            dest: RemotePath::root(),
            base_commit: None,
            files: vec![],
            refused: vec![],
            excluded: vec![],
            notes: vec![],
            totals: PlanTotals::default(),
            default_message: "m".into(),
            removals: vec![],
        },
        message: "m".into(),
        author: Author {
            name: "A".into(),
            email: "a@b.c".into(),
        },
        started_unix: 5,
    }
}

fn create(dir: &Path) -> (UploadId, Journal) {
    let id = UploadId::new();
    let journal = Journal::create(dir, id.clone(), &plan_file(&id)).unwrap();
    (id, journal)
}

#[test]
fn round_trips_and_lists() {
    let dir = tempfile::tempdir().unwrap();
    let (id, mut j) = create(dir.path());
    j.state.workspace_id = Some("ws".into());
    j.state.staged.insert(3);
    j.save(true).unwrap();
    drop(j);
    let (pf, j2) = Journal::open(dir.path(), &id).unwrap();
    assert_eq!(pf.id, id.to_string());
    assert_eq!(pf.user.as_deref(), Some("ada"));
    assert_eq!(j2.state.workspace_id.as_deref(), Some("ws"));
    assert!(j2.state.staged.contains(&3));
    drop(j2);
    let listed = list_resumable(dir.path());
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].files_sent, 1);
    let (_, j3) = Journal::open(dir.path(), &id).unwrap();
    j3.remove();
    assert!(list_resumable(dir.path()).is_empty());
    assert_eq!(
        Journal::open(dir.path(), &id).unwrap_err().code,
        ErrorCode::ResumeMismatch
    );
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
    assert!(left.is_empty(), "nothing left behind: {left:?}");
}

/// What a resume will not send again: staged files, whole. A big file's stored parts do not
/// count until it is staged (the server forgets them after a minute idle).
#[test]
fn what_was_sent_counts_staged_files_only() {
    let dir = tempfile::tempdir().unwrap();
    let id = UploadId::new();
    let mut pf = plan_file(&id);
    pf.plan = Plan::of_new_files(
        pf.plan.repo.clone(),
        RemotePath::root(),
        &["a", "b", "big"],
        0,
    );
    let sizes = [100, 7, 25 * 1024 + 7];
    for (f, size) in pf.plan.files.iter_mut().zip(sizes) {
        f.size = size;
    }
    // Listed only while nobody runs it: each step below closes the journal first.
    drop(Journal::create(dir.path(), id.clone(), &pf).unwrap());
    let listed = || list_resumable(dir.path()).remove(0);
    let u = listed();
    assert_eq!((u.files_sent, u.bytes_sent), (0, 0));
    assert_eq!((u.files_total, u.bytes_total), (3, 100 + 7 + 25 * 1024 + 7));

    let (_, mut j) = Journal::open(dir.path(), &id).unwrap();
    j.state.staged.insert(0);
    let parts = PartsState {
        part_size: 10 * 1024,
        parts_done: [1, 3].into_iter().collect(),
        ..PartsState::default()
    };
    j.state.parts.insert(2, parts);
    j.save(true).unwrap();
    drop(j);
    let u = listed();
    assert_eq!((u.files_sent, u.bytes_sent), (1, 100));

    let (_, mut j) = Journal::open(dir.path(), &id).unwrap();
    j.state.staged.insert(2);
    j.save(true).unwrap();
    drop(j);
    let u = listed();
    assert_eq!((u.files_sent, u.bytes_sent), (2, 100 + 25 * 1024 + 7));
}

#[test]
fn one_run_per_journal_and_a_running_one_is_not_listed() {
    let dir = tempfile::tempdir().unwrap();
    let (id, running) = create(dir.path());
    let (other, idle) = create(dir.path());
    drop(idle);
    let listed: Vec<String> = list_resumable(dir.path())
        .into_iter()
        .map(|u| u.id)
        .collect();
    assert_eq!(listed, [other.to_string()], "the running one is left out");
    let second = Journal::open(dir.path(), &id).unwrap_err();
    assert_eq!(second.code, ErrorCode::UploadRunning);
    assert_eq!(
        second.message,
        "This upload is running in another window or command. Wait for it to finish."
    );
    assert_eq!(
        peek(dir.path(), &id).unwrap_err().code,
        ErrorCode::UploadRunning
    );
    drop(running);
    assert_eq!(
        list_resumable(dir.path()).len(),
        2,
        "free once its run ends"
    );
    assert!(Journal::open(dir.path(), &id).is_ok());
}

#[test]
fn ids_are_uuids_never_paths() {
    for bad in [
        "../../x",
        "u1",
        "",
        "a/b",
        "00000000-0000-0000-0000-00000000000g",
    ] {
        let err = UploadId::parse(bad).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidInput, "{bad:?}");
        assert!(err.message.contains("is not an upload id"), "{bad:?}");
    }
    let id = UploadId::new();
    assert_eq!(UploadId::parse(&id.to_string()).unwrap(), id);
    let upper = id.to_string().to_uppercase();
    assert_eq!(UploadId::parse(&upper).unwrap().to_string(), id.to_string());
}

#[test]
fn a_plan_under_another_ids_name_is_not_opened() {
    let dir = tempfile::tempdir().unwrap();
    let (id, j) = create(dir.path());
    drop(j);
    let other = UploadId::new();
    for suffix in ["plan.json", "state.json"] {
        std::fs::copy(id.file(dir.path(), suffix), other.file(dir.path(), suffix)).unwrap();
    }
    let err = Journal::open(dir.path(), &other).unwrap_err();
    assert_eq!(err.code, ErrorCode::ResumeMismatch);
    let listed: Vec<String> = list_resumable(dir.path())
        .into_iter()
        .map(|u| u.id)
        .collect();
    assert_eq!(listed, [id.to_string()]);
}

#[test]
fn opening_an_unknown_id_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let err = Journal::open(dir.path(), &UploadId::new()).unwrap_err();
    assert_eq!(err.code, ErrorCode::ResumeMismatch);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    let absent = dir.path().join("absent");
    let err = Journal::open(&absent, &UploadId::new()).unwrap_err();
    assert_eq!(err.code, ErrorCode::ResumeMismatch);
}

#[test]
fn unwritable_folder_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-folder");
    std::fs::write(&file, b"x").unwrap();
    let id = UploadId::new();
    let err = Journal::create(&file.join("uploads"), id.clone(), &plan_file(&id)).unwrap_err();
    assert_eq!(err.code, ErrorCode::ConfigUnwritable);
    assert!(err.message.contains("cannot save upload progress"));
}

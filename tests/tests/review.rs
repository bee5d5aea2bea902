//! The review is a promise: what the user saw stays true until the commit. When someone changes
//! the upload's files on the branch after the review (a collaborator's commit made with oxenai),
//! nothing is sent and the user is asked to review again — for a fresh upload and for a resume
//! days later. A move that touches none of the upload's files goes ahead.

// Test code: `&[path.clone()]` reads better, and a panic is how a test fails.
#![allow(clippy::cloned_ref_to_slice_refs, clippy::unwrap_used)]

use std::path::Path;

use oxdrop_core::ErrorCode;
use oxdrop_core::model::BranchChange;
use oxdrop_core::plan::{FileStatus, make_plan};
use oxdrop_core::upload::UploadOptions;
use oxdrop_tests::cli::CliUser;
use oxdrop_tests::oxenpy::{self, Change};
use oxdrop_tests::upload::{Fixture, options, request, send, upload_paths};
use oxdrop_tests::{OxenServer, fixtures};

const COLLAB: (&str, &str) = ("Collab Orator", "collab@example.com");

/// The file at `remote` on `main`, read back with oxenai, is exactly `bytes`.
fn assert_on_branch(server: &str, repo: &str, remote: &str, bytes: &[u8]) {
    let tmp = tempfile::tempdir().unwrap();
    let local = tmp.path().join("expected");
    std::fs::write(&local, bytes).unwrap();
    oxenpy::assert_uploaded(server, repo, "main", &[(remote.into(), local)]);
}

fn journal_is_empty(dir: &Path) -> bool {
    std::fs::read_dir(dir).map_or(true, |d| d.count() == 0)
}

#[tokio::test]
async fn files_changed_on_the_branch_after_review_stop_the_upload_before_anything_is_sent() {
    let Fixture {
        server,
        client,
        repo,
        tmp,
    } = Fixture::new("outdated").await;
    let v1 = tmp.path().join("v1/data");
    fixtures::write_file(&v1.join("a.csv"), 100, 1);
    fixtures::write_file(&v1.join("gone.txt"), 100, 2);
    upload_paths(&client, &repo, "main", "", &[v1], "seed")
        .await
        .unwrap();

    // The user reviews: a.csv and gone.txt will be overwritten, new.txt is new.
    let mine = tmp.path().join("v2/data");
    fixtures::write_file(&mine.join("a.csv"), 120, 3);
    fixtures::write_file(&mine.join("gone.txt"), 120, 4);
    fixtures::write_file(&mine.join("new.txt"), 50, 5);
    let req = request(&repo, "main", "", &[mine.clone()]);
    let plan = make_plan(&client, &req).await.unwrap();
    let statuses: Vec<(&str, FileStatus)> = plan
        .files
        .iter()
        .map(|f| (f.remote.as_str(), f.status))
        .collect();
    assert_eq!(
        statuses,
        [
            ("data/a.csv", FileStatus::Overwrite),
            ("data/gone.txt", FileStatus::Overwrite),
            ("data/new.txt", FileStatus::New),
        ]
    );

    // Then a collaborator edits a.csv, adds new.txt and removes gone.txt, one commit each.
    let (url, name) = (server.url(), repo.to_string());
    let theirs = b"their careful edit".as_slice();
    let edited = oxenpy::commit_as(
        &url,
        &name,
        "main",
        COLLAB,
        "Fix the labels",
        Change::Put("data/a.csv", theirs),
    );
    let added = oxenpy::commit_as(
        &url,
        &name,
        "main",
        COLLAB,
        "Add notes",
        Change::Put("data/new.txt", b"their notes"),
    );
    let removed = oxenpy::commit_as(
        &url,
        &name,
        "main",
        COLLAB,
        "Drop the old file",
        Change::Delete("data/gone.txt"),
    );

    let journal = tempfile::tempdir().unwrap();
    let err = send(
        &client,
        &req,
        &plan,
        &UploadOptions {
            journal_dir: Some(journal.path().to_path_buf()),
            ..options("mine")
        },
    )
    .await
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::ReviewOutdated, "{err:?}");
    assert!(!err.retryable, "a fresh review is needed, not a retry");
    let changed = err.changed.clone().unwrap();
    let found: Vec<(&str, BranchChange, &str, &str)> = changed
        .iter()
        .map(|c| {
            let commit = c.commit.as_ref().expect("the commit that changed it");
            (
                c.path.as_str(),
                c.change,
                commit.id.as_str(),
                commit.author.as_str(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (
                "data/a.csv",
                BranchChange::Modified,
                edited.as_str(),
                COLLAB.0
            ),
            (
                "data/gone.txt",
                BranchChange::Removed,
                removed.as_str(),
                COLLAB.0
            ),
            (
                "data/new.txt",
                BranchChange::Added,
                added.as_str(),
                COLLAB.0
            ),
        ]
    );
    for says in [
        "data/a.csv",
        "data/new.txt",
        "data/gone.txt",
        "Collab Orator",
        "Fix the labels",
        &edited[..10],
        "main",
        "Review",
    ] {
        assert!(
            err.message.contains(says),
            "'{says}' missing from: {}",
            err.message
        );
    }

    // Nothing of ours reached the branch, no workspace is left, and no resume is offered.
    assert_eq!(
        client.branch(&repo, "main").await.unwrap().commit_id,
        removed
    );
    assert!(client.workspace_ids(&repo).await.unwrap().is_empty());
    assert!(
        journal_is_empty(journal.path()),
        "the outdated plan is not kept"
    );
    assert_on_branch(&url, &name, "data/a.csv", theirs);

    // A fresh review shows the branch as it is now; that upload goes ahead.
    let again = make_plan(&client, &req).await.unwrap();
    assert_eq!(again.totals.overwrite_files, 2, "{:?}", again.files);
    assert_eq!(again.totals.new_files, 1, "gone.txt is new again");
    send(&client, &req, &again, &options("mine, reviewed"))
        .await
        .unwrap();
    assert_on_branch(
        &url,
        &name,
        "data/a.csv",
        &std::fs::read(mine.join("a.csv")).unwrap(),
    );
}

#[tokio::test]
async fn a_move_that_touches_none_of_the_files_goes_ahead_on_top_of_it() {
    let Fixture {
        server,
        client,
        repo,
        tmp,
    } = Fixture::new("unrelated").await;
    let seed = fixtures::write_file(&tmp.path().join("seed.txt"), 10, 0);
    upload_paths(&client, &repo, "main", "", &[seed.clone()], "seed")
        .await
        .unwrap();
    let mine = fixtures::write_file(&tmp.path().join("mine/x.txt"), 300, 1);
    let req = request(&repo, "main", "", &[tmp.path().join("mine")]);
    let plan = make_plan(&client, &req).await.unwrap();

    let (url, name) = (server.url(), repo.to_string());
    let theirs = oxenpy::commit_as(
        &url,
        &name,
        "main",
        COLLAB,
        "Their own work",
        Change::Put("theirs/y.txt", b"unrelated"),
    );

    let outcome = send(&client, &req, &plan, &options("mine")).await.unwrap();
    assert_eq!(
        outcome.commit.parent_ids,
        [theirs.clone()],
        "committed on top of the moved head"
    );
    let their_file = tmp.path().join("their-y.txt");
    std::fs::write(&their_file, b"unrelated").unwrap();
    let report = oxenpy::assert_uploaded(
        &url,
        &name,
        "main",
        &[
            ("mine/x.txt".into(), mine),
            ("theirs/y.txt".into(), their_file),
            ("seed.txt".into(), seed),
        ],
    );
    let messages: Vec<&str> = report.log.iter().map(|c| c.message.as_str()).collect();
    assert_eq!(messages[..3], ["mine", "Their own work", "seed"]);
}

#[tokio::test]
async fn a_first_upload_into_an_empty_repo_stops_when_someone_got_there_first() {
    let Fixture {
        server,
        client,
        repo,
        tmp,
    } = Fixture::new("emptyrace").await;
    let mine = fixtures::write_file(&tmp.path().join("README.md"), 40, 1);
    let req = request(&repo, "main", "", &[mine]);
    let plan = make_plan(&client, &req).await.unwrap();
    assert_eq!(plan.base_commit, None);

    let (url, name) = (server.url(), repo.to_string());
    let theirs = oxenpy::commit_as(
        &url,
        &name,
        "main",
        COLLAB,
        "Their readme",
        Change::Put("README.md", b"their readme"),
    );
    let err = send(&client, &req, &plan, &options("mine"))
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::ReviewOutdated, "{err:?}");
    let changed = err.changed.unwrap();
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].change, BranchChange::Added);
    assert_eq!(changed[0].commit.as_ref().unwrap().id, theirs);
    assert_eq!(
        client.branch(&repo, "main").await.unwrap().commit_id,
        theirs
    );
    assert_on_branch(&url, &name, "README.md", b"their readme");
}

/// A CLI user, a repository and a folder of 200 small files to upload with `-m resumable`.
struct Interrupted {
    server: OxenServer,
    user: CliUser,
    repo: oxdrop_core::RepoRef,
    _tmp: tempfile::TempDir,
    args: Vec<String>,
    /// A file the interrupted upload had already staged.
    carried: String,
    workspace_id: String,
}

/// A collaborator's commit of their version of `carried`; returns it.
fn their_version(url: &str, repo: &str, carried: &str) -> String {
    let change = Change::Put(carried, THEIRS);
    oxenpy::commit_as(url, repo, "main", COLLAB, "Their version", change)
}

const THEIRS: &[u8] = b"theirs, keep me";

/// Starts the upload with the command line and kills it (no chance to clean up) once a few files
/// are on the server.
async fn interrupted_upload(prefix: &str) -> Interrupted {
    let server = OxenServer::start();
    let repo = server.new_repo(prefix).await;
    let seed = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("drop");
    fixtures::small_tree(&root, 200, 100, 4000, 3);
    // The branch has a commit, as most do: the upload goes through a workspace.
    let first = fixtures::write_file(&seed.path().join("seed.txt"), 10, 0);
    upload_paths(&server.client(), &repo, "main", "", &[first], "seed")
        .await
        .unwrap();
    let user = CliUser::new().with_env("OXDROP_AUTHOR", "Script Runner <runner@example.com>");
    let args: Vec<String> = [
        "--server",
        &server.url(),
        "upload",
        root.to_str().unwrap(),
        "--repo",
        &repo.to_string(),
        "-m",
        "resumable",
    ]
    .map(str::to_owned)
    .into();
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut child = user.spawn_slow_upload(&argv);
    let journaled = user.wait_for_staged(&mut child, 3);
    child.kill().unwrap();
    child.wait().unwrap();
    Interrupted {
        server,
        user,
        repo,
        _tmp: tmp,
        args,
        carried: journaled.staged[0].clone(),
        workspace_id: journaled.workspace_id,
    }
}

#[tokio::test]
async fn a_resume_whose_workspace_is_gone_stops_when_its_files_changed_on_the_branch() {
    let Interrupted {
        server,
        user,
        repo,
        _tmp,
        args,
        carried,
        workspace_id,
    } = interrupted_upload("resumegone").await;
    let client = server.client();
    // Days later: a cleanup removed the workspace, and a collaborator changed a file it carries.
    client.delete_workspace(&repo, &workspace_id).await.unwrap();
    let (url, name) = (server.url(), repo.to_string());
    let theirs = their_version(&url, &name, &carried);

    let resumed = user.run(&["--server", &url, "--json", "resume"]);
    assert_eq!(resumed.code, 7, "{resumed:?}");
    assert!(resumed.stderr.contains(&carried), "{resumed:?}");
    assert!(resumed.stderr.contains("Collab Orator"), "{resumed:?}");
    let json: serde_json::Value = serde_json::from_str(resumed.stdout.trim()).unwrap();
    assert_eq!(json["error"]["code"], "review_outdated", "{json}");
    assert_eq!(
        json["error"]["changed"][0]["path"],
        carried.as_str(),
        "{json}"
    );
    assert_eq!(
        json["error"]["changed"][0]["commit"]["id"],
        theirs.as_str(),
        "{json}"
    );

    assert_on_branch(&url, &name, &carried, THEIRS);
    assert_eq!(
        client.branch(&repo, "main").await.unwrap().commit_id,
        theirs
    );
    assert!(client.workspace_ids(&repo).await.unwrap().is_empty());
    assert!(user.journaled().is_none(), "the old plan cannot be resumed");

    // Running the upload again plans afresh: the file now shows as one to overwrite.
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let again = user.run(&argv);
    assert_eq!(again.code, 0, "{again:?}");
    assert!(!again.stderr.contains("Resuming"), "{again:?}");
    assert!(again.stderr.contains("1 to overwrite"), "{again:?}");
}

#[tokio::test]
async fn a_resume_whose_workspace_survived_is_stopped_by_the_servers_conflict_check() {
    let Interrupted {
        server,
        user,
        repo,
        _tmp,
        args: _,
        carried,
        workspace_id,
    } = interrupted_upload("resumekept").await;
    let client = server.client();
    assert!(
        client
            .workspace_ids(&repo)
            .await
            .unwrap()
            .contains(&workspace_id)
    );
    let (url, name) = (server.url(), repo.to_string());
    let theirs = their_version(&url, &name, &carried);

    let resumed = user.run(&["--server", &url, "resume"]);
    assert_eq!(resumed.code, 7, "{resumed:?}");
    assert!(resumed.stderr.contains(&carried), "{resumed:?}");
    assert!(resumed.stderr.contains("Review"), "{resumed:?}");
    assert_on_branch(&url, &name, &carried, THEIRS);
    assert_eq!(
        client.branch(&repo, "main").await.unwrap().commit_id,
        theirs
    );
    assert!(
        client.workspace_ids(&repo).await.unwrap().is_empty(),
        "workspace removed"
    );
    assert!(user.journaled().is_none(), "the old plan cannot be resumed");
}

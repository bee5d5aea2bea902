//! Bad input never loses data: each case ends in a clear message naming the problem, and the rest
//! of the batch goes ahead. (Name and path rules are also covered by unit tests in oxdrop-core and
//! by tests/cli.rs; this file covers files, servers and the config folder.)

// Test code: `&[path.clone()]` reads better, and a panic is how a test fails.
#![allow(clippy::cloned_ref_to_slice_refs, clippy::unwrap_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use oxdrop_core::plan::{FileStatus, RefusalReason, make_plan};
use oxdrop_core::upload::{self, NoProgress};
use oxdrop_core::{ApiKey, ErrorCode, OxenClient, ServerUrl};
use oxdrop_tests::cli::{CliUser, cli_bin};
use oxdrop_tests::hostile::{Behavior, HostileServer};
use oxdrop_tests::nginx::SelfSignedTls;
use oxdrop_tests::upload::{Recorder, options, request, upload_paths};
use oxdrop_tests::{OxenServer, fixtures, oxenpy};
use tokio_util::sync::CancellationToken;

fn client(url: &str) -> OxenClient {
    OxenClient::new(
        ServerUrl::parse(url).unwrap(),
        ApiKey::new("secret-key-for-tests-0042"),
    )
    .unwrap()
}

#[tokio::test]
async fn files_deleted_or_edited_after_planning_fail_alone() {
    let server = OxenServer::start();
    let c = server.client();
    let repo = server.new_repo("edits").await;
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("set");
    let rel = fixtures::small_tree(&root, 20, 100, 2000, 1);
    let req = request(&repo, "main", "", &[root.clone()]);
    let plan = make_plan(&c, &req).await.unwrap();
    std::fs::remove_file(root.join(&rel[0])).unwrap();
    std::fs::write(root.join(&rel[1]), b"edited after review, different size").unwrap();
    let outcome = upload::upload(
        &c,
        &req,
        &plan,
        &options("partial"),
        Arc::new(NoProgress),
        CancellationToken::new(),
    )
    .await
    .unwrap();
    assert_eq!(outcome.files_sent, 18);
    let mut failed: Vec<(String, ErrorCode)> = outcome
        .failed
        .iter()
        .map(|f| (f.remote.to_string(), f.error.code))
        .collect();
    failed.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        failed,
        vec![
            (
                format!("set/{}", rel[0].display()),
                ErrorCode::FileUnreadable
            ),
            (format!("set/{}", rel[1].display()), ErrorCode::FileChanged),
        ]
    );
    assert!(
        outcome
            .failed
            .iter()
            .any(|f| f.error.message.contains("no longer exists"))
    );
    assert!(outcome.failed.iter().any(|f| {
        f.error
            .message
            .contains("changed after the upload was planned")
    }));
    let report = oxenpy::check(&server.url(), &repo.to_string(), "main", &[]);
    assert_eq!(
        report.tree.len(),
        18,
        "the rest was committed, nothing wrong was sent"
    );
}

#[tokio::test]
async fn heavy_a_big_file_edited_while_it_uploads_is_not_committed_wrong() {
    let server = OxenServer::start();
    let c = server.client();
    let repo = server.new_repo("editing").await;
    let tmp = tempfile::tempdir().unwrap();
    let big = fixtures::write_file(&tmp.path().join("video.bin"), 200 * 1024 * 1024, 3);
    let small = fixtures::write_file(&tmp.path().join("notes.txt"), 500, 4);
    let req = request(&repo, "main", "", &[big.clone(), small.clone()]);
    let plan = make_plan(&c, &req).await.unwrap();
    let recorder = Arc::new(Recorder::default());
    let watcher = recorder.clone();
    let target = big.clone();
    // Once its bytes are flowing, change bytes in the middle of the file (same size, new date).
    let editor = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(20)).await;
            if watcher
                .snapshots()
                .iter()
                .any(|s| s.bytes_done > 30 * 1024 * 1024)
            {
                use std::io::{Seek, SeekFrom, Write};
                let mut f = std::fs::OpenOptions::new()
                    .write(true)
                    .open(&target)
                    .unwrap();
                f.seek(SeekFrom::Start(150 * 1024 * 1024)).unwrap();
                f.write_all(&[0xAB; 4096]).unwrap();
                return;
            }
        }
    });
    let outcome = upload::upload(
        &c,
        &req,
        &plan,
        &options("edited"),
        recorder,
        CancellationToken::new(),
    )
    .await
    .unwrap();
    editor.await.unwrap();
    assert_eq!(outcome.files_sent, 1);
    assert_eq!(outcome.failed.len(), 1);
    assert_eq!(
        outcome.failed[0].error.code,
        ErrorCode::FileChanged,
        "{}",
        outcome.failed[0].error.message
    );
    let report = oxenpy::assert_uploaded(
        &server.url(),
        &repo.to_string(),
        "main",
        &[("notes.txt".into(), small)],
    );
    assert_eq!(
        report.tree,
        vec!["notes.txt"],
        "the changed file is not in the commit"
    );
}

/// Runs the CLI as an unprivileged user, so file permissions apply (the tests run as root).
fn as_nobody(user: &CliUser, args: &[&str]) -> oxdrop_tests::cli::Run {
    for dir in [user.config_dir(), user.data_dir()] {
        std::fs::create_dir_all(&dir).unwrap();
        Command::new("chown")
            .args(["-R", "nobody:nogroup"])
            .arg(&dir)
            .status()
            .unwrap();
    }
    let cmd = user.command(args);
    let program = cmd.get_program().to_owned();
    let mut wrapped = Command::new("setpriv");
    wrapped
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(program)
        .args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => wrapped.env(k, v),
            None => wrapped.env_remove(k),
        };
    }
    wrapped.env("HOME", user.home.path());
    user.run_with(&mut wrapped, "")
}

fn open_to_all(path: &Path) {
    let mut p = path.to_path_buf();
    loop {
        let _ = std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755));
        if !p.pop() || p == Path::new("/tmp") || p.as_os_str().is_empty() {
            break;
        }
    }
}

#[test]
fn unreadable_files_and_folders_are_refused_by_name() {
    let server = OxenServer::start();
    let u = CliUser::new().with_env("OXDROP_AUTHOR", "Nobody <nobody@example.com>");
    open_to_all(u.home.path());
    assert_eq!(
        u.run(&["--server", &server.url(), "create-repo", "ns/perms"])
            .code,
        0
    );
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("mixed");
    let ok = fixtures::write_file(&root.join("readable.txt"), 100, 1);
    let secret = fixtures::write_file(&root.join("secret.txt"), 100, 2);
    fixtures::write_file(&root.join("locked/inside.txt"), 100, 3);
    open_to_all(&root.join("locked/inside.txt"));
    open_to_all(&ok);
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::set_permissions(root.join("locked"), std::fs::Permissions::from_mode(0o700)).unwrap();
    assert!(cli_bin().exists());
    let run = as_nobody(
        &u,
        &[
            "--server",
            &server.url(),
            "upload",
            root.to_str().unwrap(),
            "--repo",
            "ns/perms",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains(&format!(
            "Could not read {}: you don't have permission to read it",
            secret.display()
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("Could not open the folder") && run.stderr.contains("locked"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.contains("1 files"), "{run:?}");
    oxenpy::assert_uploaded(
        &server.url(),
        "ns/perms",
        "main",
        &[("mixed/readable.txt".into(), ok)],
    );
}

#[tokio::test]
async fn heavy_fifty_thousand_files_wide_and_a_deep_tree_in_one_commit() {
    // 100,000 tiny files between the fixtures and the server's copy: in memory, as they would
    // otherwise cost more time on this disk than the upload itself.
    let server = OxenServer::start_in_memory();
    let c = server.client();
    let repo = server.new_repo("wide").await;
    let tmp = fixtures::memory_tempdir("oxdrop-wide-");
    let wide = tmp.path().join("wide");
    std::fs::create_dir_all(&wide).unwrap();
    for i in 0..50_000 {
        std::fs::write(wide.join(format!("{i:05}.txt")), format!("file {i}\n")).unwrap();
    }
    let mut deep = tmp.path().join("deep");
    for level in 0..120 {
        deep.push(format!("level{level}"));
    }
    fixtures::write_file(&deep.join("bottom.bin"), 777, 5);
    let (plan, outcome) = upload_paths(
        &c,
        &repo,
        "main",
        "",
        &[wide.clone(), tmp.path().join("deep")],
        "wide and deep",
    )
    .await
    .unwrap();
    assert_eq!(plan.files.len(), 50_001);
    assert_eq!(outcome.files_sent, 50_001);
    // Read back through oxenai: every path in the tree (paged listings of the 50,000-file folder),
    // and a few files' bytes (downloading all 50,000 would prove no more about the upload).
    let deep_rel: PathBuf = deep.strip_prefix(tmp.path()).unwrap().join("bottom.bin");
    let deep_rel = deep_rel.to_string_lossy().into_owned();
    let sample: Vec<(String, PathBuf)> = [0, 1234, 49_999]
        .iter()
        .map(|i| (format!("wide/{i:05}.txt"), wide.join(format!("{i:05}.txt"))))
        .chain([(deep_rel.clone(), deep.join("bottom.bin"))])
        .collect();
    let report = oxenpy::check_files(&server.url(), &repo.to_string(), "main", &sample);
    assert!(
        report.missing.is_empty() && report.mismatched.is_empty() && report.checked == 4,
        "{report:?}"
    );
    let mut expected_tree: Vec<String> = (0..50_000)
        .map(|i| format!("wide/{i:05}.txt"))
        .chain([deep_rel])
        .collect();
    expected_tree.sort();
    assert_eq!(report.tree.len(), 50_001);
    assert!(
        report.tree == expected_tree,
        "the tree differs from the 50,001 files sent"
    );
    assert_eq!(report.log[0].message, "wide and deep");
}

#[tokio::test]
async fn non_oxen_servers_are_named_as_such() {
    for (behavior, says) in [
        (Behavior::Html, "sent a web page"),
        (Behavior::Garbage, "could not be read"),
        (Behavior::ForeignJson, "does not look like an Oxen server"),
    ] {
        let hostile = HostileServer::start(behavior.clone()).await;
        let err = client(&hostile.url()).version().await.unwrap_err();
        assert_eq!(
            err.code,
            ErrorCode::NotOxenServer,
            "{behavior:?}: {}",
            err.message
        );
        assert!(err.message.contains(says), "{behavior:?}: {}", err.message);
        assert!(
            !err.message.contains('{') && !err.message.contains('<'),
            "{}",
            err.message
        );
    }
}

#[tokio::test]
async fn the_key_never_follows_a_redirect_to_another_host() {
    let elsewhere = HostileServer::start(Behavior::FakeOxenVersion).await;
    let redirector = HostileServer::start(Behavior::RedirectTo(elsewhere.url())).await;
    let err = client(&redirector.url()).namespaces().await.unwrap_err();
    assert_eq!(err.code, ErrorCode::Redirected, "{}", err.message);
    assert!(
        err.message
            .contains("does not send your key to other addresses"),
        "{}",
        err.message
    );
    assert!(
        elsewhere.requests().is_empty(),
        "nothing was sent to the other host"
    );
    let sent = redirector.requests();
    assert!(
        sent[0]
            .to_ascii_lowercase()
            .contains("authorization: bearer secret-key-for-tests-0042"),
        "its own host gets it"
    );
}

#[tokio::test]
async fn tls_problems_and_unreachable_hosts_are_explained() {
    let server = OxenServer::start();
    let tls = SelfSignedTls::start(server.port());
    let err = client(&tls.url()).version().await.unwrap_err();
    assert_eq!(err.code, ErrorCode::Tls, "{}", err.message);
    assert!(
        err.message.contains("certificate is not trusted"),
        "{}",
        err.message
    );
    // https to a server that only speaks http.
    let plain = server.url().replace("http://", "https://");
    let err = client(&plain).version().await.unwrap_err();
    assert_eq!(err.code, ErrorCode::Tls, "{}", err.message);
    // Nothing listening.
    let err = client("http://127.0.0.1:9").version().await.unwrap_err();
    assert_eq!(err.code, ErrorCode::Unreachable);
    assert!(
        err.message.contains("Could not connect to 127.0.0.1"),
        "{}",
        err.message
    );
    // A name that does not resolve.
    let err = client("https://oxdrop-test-host.invalid")
        .version()
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Unreachable);
    assert!(
        err.message.contains("Could not find the server"),
        "{}",
        err.message
    );
}

/// A tmpfs of `size` mounted at `path` (unmounted on drop).
struct Mount(PathBuf);

impl Mount {
    fn tmpfs(path: &Path, size: &str) -> Mount {
        std::fs::create_dir_all(path).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(path)
            .status()
            .unwrap();
        assert!(
            ok.success(),
            "mounting a tmpfs needs root (the test suite runs as root)"
        );
        Mount(path.to_path_buf())
    }

    fn read_only(&self) {
        let ok = Command::new("mount")
            .args(["-o", "remount,ro"])
            .arg(&self.0)
            .status()
            .unwrap();
        assert!(ok.success());
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
fn a_full_or_read_only_config_folder_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    // Full: a 64 KiB disk, filled up.
    let full = Mount::tmpfs(&tmp.path().join("full"), "64k");
    let _ = std::fs::write(full.0.join("filler"), vec![0u8; 200 * 1024]);
    let u = CliUser::new().with_env("OXDROP_CONFIG_DIR", full.0.join("oxdrop").to_str().unwrap());
    let run = u.run(&["author", "Ada <ada@example.com>"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("cannot save its settings") && run.stderr.contains("the disk is full"),
        "{run:?}"
    );
    // Read-only.
    let ro = Mount::tmpfs(&tmp.path().join("ro"), "1m");
    std::fs::create_dir_all(ro.0.join("oxdrop")).unwrap();
    ro.read_only();
    let u = CliUser::new().with_env("OXDROP_CONFIG_DIR", ro.0.join("oxdrop").to_str().unwrap());
    let run = u.run(&["author", "Ada <ada@example.com>"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("the disk is read-only"), "{run:?}");
}

#[tokio::test]
async fn plan_statuses_for_every_kind_of_entry() {
    // The plan shows what happens to each file before anything is sent.
    let server = OxenServer::start();
    let c = server.client();
    let repo = server.new_repo("statuses").await;
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("d");
    fixtures::write_file(&d.join("same.txt"), 50, 1);
    fixtures::write_file(&d.join("changed.txt"), 50, 2);
    upload_paths(&c, &repo, "main", "", &[d.clone()], "v1")
        .await
        .unwrap();
    fixtures::write_file(&d.join("changed.txt"), 50, 3);
    fixtures::write_file(&d.join("new.txt"), 50, 4);
    std::os::unix::fs::symlink(d.join("nowhere"), d.join("dangling")).unwrap();
    let plan = make_plan(&c, &request(&repo, "main", "", &[d.clone()]))
        .await
        .unwrap();
    let statuses: Vec<(&str, FileStatus)> = plan
        .files
        .iter()
        .map(|f| (f.remote.as_str(), f.status))
        .collect();
    assert_eq!(
        statuses,
        vec![
            ("d/changed.txt", FileStatus::Overwrite),
            ("d/new.txt", FileStatus::New),
            ("d/same.txt", FileStatus::Unchanged)
        ]
    );
    assert_eq!(
        plan.refused.iter().map(|r| r.reason).collect::<Vec<_>>(),
        vec![RefusalReason::BrokenLink]
    );
}

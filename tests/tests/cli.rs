//! The `oxdrop` command line as scripts use it: real process, real server, exit codes, output.

// Test code: `&[path.clone()]` reads better, and a panic is how a test fails.
#![allow(clippy::cloned_ref_to_slice_refs, clippy::unwrap_used)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use oxdrop_core::client::TIME_SCALE_VAR;
use oxdrop_tests::cli::{CliUser, wait_while_running};
use oxdrop_tests::faults::{Fault, FaultProxy, Rule};
use oxdrop_tests::upload::pairs;
use oxdrop_tests::{OxenServer, fixtures, oxenpy};

fn user() -> CliUser {
    CliUser::new().with_env("OXDROP_AUTHOR", "Script Runner <runner@example.com>")
}

#[test]
fn upload_reports_progress_and_exit_codes_mean_something() {
    let server = OxenServer::start();
    let url = server.url();
    let u = user();
    let created = u.run(&["--server", &url, "create-repo", "team/assets"]);
    assert_eq!(created.code, 0, "{created:?}");
    let again = u.run(&["--server", &url, "create-repo", "team/assets"]);
    assert_eq!(again.code, 7, "{again:?}");
    assert!(again.stderr.contains("already exists"), "{again:?}");

    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("batch");
    let rel = fixtures::small_tree(&root, 60, 10, 30_000, 1);
    let dir = root.to_str().unwrap();
    let up = u.run(&[
        "--server",
        &url,
        "upload",
        dir,
        "--repo",
        "team/assets",
        "--to",
        "in",
        "-m",
        "first batch",
    ]);
    assert_eq!(up.code, 0, "{up:?}");
    // Not a terminal: plain progress lines, then the result on stdout.
    assert!(
        up.stderr.contains("Plan for team/assets/main (in): 60 new"),
        "{}",
        up.stderr
    );
    assert!(
        up.stderr.contains("files,") && up.stderr.contains("of"),
        "{}",
        up.stderr
    );
    assert!(up.stdout.starts_with("Committed "), "{}", up.stdout);
    assert!(up.stdout.contains("60 files"));
    oxenpy::assert_uploaded(&url, "team/assets", "main", &pairs("in/batch", &root, &rel));

    let same = u.run(&[
        "--server",
        &url,
        "upload",
        dir,
        "--repo",
        "team/assets",
        "--to",
        "in",
    ]);
    assert_eq!(same.code, 3, "{same:?}");
    assert!(same.stderr.contains("Nothing changed"), "{same:?}");

    // JSON for scripts.
    std::fs::write(root.join("new.txt"), b"one more").unwrap();
    let json = u.run(&[
        "--server",
        &url,
        "--json",
        "upload",
        dir,
        "--repo",
        "team/assets",
        "--to",
        "in",
    ]);
    assert_eq!(json.code, 0, "{json:?}");
    let outcome: serde_json::Value = serde_json::from_str(json.stdout.trim()).unwrap();
    assert_eq!(outcome["files_sent"], 1);
    assert_eq!(outcome["files_unchanged"], 60);
    assert!(outcome["commit"]["id"].as_str().unwrap().len() >= 16);

    let ls = u.run(&["--server", &url, "ls", "team/assets", "in/batch"]);
    assert_eq!(ls.code, 0);
    assert!(
        ls.stdout.contains("new.txt") && ls.stdout.contains("d0/"),
        "{ls:?}"
    );
    let branch = u.run(&[
        "--server",
        &url,
        "create-branch",
        "--repo",
        "team/assets",
        "review",
        "--from",
        "main",
    ]);
    assert_eq!(branch.code, 0, "{branch:?}");
    let dup = u.run(&[
        "--server",
        &url,
        "create-branch",
        "--repo",
        "team/assets",
        "review",
    ]);
    assert_eq!(dup.code, 7, "{dup:?}");
}

#[test]
fn bad_input_gets_a_clear_message_and_code_two() {
    let server = OxenServer::start();
    let url = server.url();
    let u = user();
    let tmp = tempfile::tempdir().unwrap();
    let f = fixtures::write_file(&tmp.path().join("f.txt"), 10, 1);
    let f = f.to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["upload", f, "--repo", "noslash"], "namespace/name"),
        (&["upload", f, "--repo", "ns/repo", "--to", "../up"], "'..'"),
        (
            &["upload", f, "--repo", "ns/repo", "--to", "/abs"],
            "absolute path",
        ),
        (
            &["upload", f, "--repo", "ns/repo", "--to", "a/.oxen/b"],
            ".oxen",
        ),
        (
            &["upload", f, "--repo", "ns/repo", "--branch", "has space"],
            "not a valid branch name",
        ),
        (&["create-repo", "ns/a"], "Invalid repository name"),
        (&["create-repo", "n.s/abc"], "Invalid namespace name"),
    ];
    for (args, says) in cases {
        let mut full = vec!["--server", url.as_str()];
        full.extend_from_slice(args);
        let run = u.run(&full);
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert!(run.stderr.contains(says), "{args:?}: {}", run.stderr);
        assert!(!run.stderr.contains("panicked"));
    }
    let no_author = CliUser::new().run(&["--server", &url, "create-repo", "ns/repo"]);
    assert_eq!(no_author.code, 0, "creating needs no author");
    let no_author = CliUser::new().run(&["--server", &url, "upload", f, "--repo", "ns/repo"]);
    assert_eq!(no_author.code, 2, "{no_author:?}");
    assert!(
        no_author.stderr.contains("Commits need an author"),
        "{no_author:?}"
    );
    let unreachable = u.run(&["--server", "http://127.0.0.1:9", "ls", "ns"]);
    assert_eq!(unreachable.code, 6, "{unreachable:?}");
    assert!(
        unreachable
            .stderr
            .contains("Could not connect to 127.0.0.1"),
        "{unreachable:?}"
    );
}

#[test]
fn heavy_killed_mid_upload_then_resumed_makes_one_commit() {
    let server = OxenServer::start();
    let url = server.url();
    let u = user();
    assert_eq!(
        u.run(&["--server", &url, "create-repo", "team/resume"])
            .code,
        0
    );
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("drop");
    let mut rel = fixtures::small_tree(&root, 300, 100, 40_000, 3);
    fixtures::write_file(&root.join("big.bin"), 300 * 1024 * 1024, 4);
    rel.push("big.bin".into());
    let dir = root.to_str().unwrap();
    let args = [
        "--server",
        url.as_str(),
        "upload",
        dir,
        "--repo",
        "team/resume",
        "-m",
        "resumable",
    ];

    // Kill the process (no chance to clean up) once the journal shows real progress.
    let mut child = u
        .command(&args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let journal = u.data_dir().join("uploads");
    let started = Instant::now();
    loop {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no progress journaled"
        );
        let progressed = std::fs::read_dir(&journal)
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| {
                e.file_name().to_string_lossy().ends_with(".state.json")
                    && std::fs::read_to_string(e.path()).is_ok_and(|t| {
                        t.contains("\"parts_done\":[") && !t.contains("\"parts_done\":[]")
                    })
            });
        if progressed {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "finished before it could be killed"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let listed = u.run(&["uploads"]);
    assert!(listed.stdout.contains("team/resume/main"), "{listed:?}");
    // What is on the server for good: the staged files, whose bytes are theirs on disk (the
    // big file's parts, which the server forgets, do not count).
    let json = u.run(&["--json", "uploads"]);
    let list: Vec<serde_json::Value> = serde_json::from_str(json.stdout.trim()).unwrap();
    let staged = u.journaled().unwrap().staged;
    let staged_bytes: u64 = staged
        .iter()
        .map(|remote| std::fs::metadata(tmp.path().join(remote)).unwrap().len())
        .sum();
    assert_eq!(
        list[0]["files_sent"].as_u64(),
        Some(staged.len() as u64),
        "{json:?}"
    );
    assert_eq!(
        list[0]["bytes_sent"].as_u64(),
        Some(staged_bytes),
        "{json:?}"
    );
    assert!(listed.stdout.contains(" files sent ("), "{listed:?}");
    // The same command again offers (and takes) the resume.
    let resumed = u.run(&args);
    assert_eq!(resumed.code, 0, "{resumed:?}");
    assert!(
        resumed.stderr.contains("Resuming an interrupted upload"),
        "{resumed:?}"
    );
    assert!(resumed.stdout.contains("301 files"), "{resumed:?}");
    let report = oxenpy::assert_uploaded(&url, "team/resume", "main", &pairs("drop", &root, &rel));
    let ours: Vec<_> = report
        .log
        .iter()
        .filter(|c| c.message == "resumable")
        .collect();
    assert_eq!(ours.len(), 1, "exactly one commit: {:?}", report.log);
    assert!(
        u.run(&["uploads"])
            .stdout
            .contains("No interrupted uploads")
    );
}

// ----- interrupted uploads: one run each, the ones the user meant, as asked ---------------------

/// The shipped waits at 1/20: a refused commit is retried for 6 s, then the upload stops as
/// interrupted (a batch of small files on loopback still has seconds to be answered).
const INTERRUPT_SCALE: &str = "0.05";

/// A repository with a first commit on a real server, a fault proxy in front of it that the
/// command line talks to, and one user of the command line.
struct Scene {
    server: OxenServer,
    proxy: FaultProxy,
    /// The proxy's address: what the command line is given.
    url: String,
    repo: String,
    user: CliUser,
    tmp: tempfile::TempDir,
}

impl Scene {
    async fn new(repo: &str) -> Scene {
        let server = OxenServer::start();
        let proxy = FaultProxy::start(server.port(), vec![]).await;
        let url = proxy.url();
        let user = user();
        let repo = format!("team/{repo}");
        let created = user.run(&["--server", &url, "create-repo", &repo]);
        assert_eq!(created.code, 0, "{created:?}");
        let tmp = tempfile::tempdir().unwrap();
        // A first commit, so that uploads go through a workspace (and can be interrupted).
        let seed = fixtures::write_file(&tmp.path().join("seed.txt"), 100, 1);
        let seeded = user.run(&[
            "--server",
            &url,
            "upload",
            seed.to_str().unwrap(),
            "--repo",
            &repo,
        ]);
        assert_eq!(seeded.code, 0, "{seeded:?}");
        Scene {
            server,
            proxy,
            url,
            repo,
            user,
            tmp,
        }
    }

    /// `oxdrop --server <proxy> args…`.
    fn run(&self, args: &[&str]) -> oxdrop_tests::cli::Run {
        let mut full = vec!["--server", self.url.as_str()];
        full.extend_from_slice(args);
        self.user.run(&full)
    }

    /// Runs `oxdrop --server <proxy> args…` while the server refuses every commit, so the upload
    /// stops after sending everything, interrupted; returns the interrupted upload's id.
    fn interrupted(&self, args: &[&str]) -> String {
        self.proxy.set_rules(vec![Rule::new(
            "/merge/",
            1,
            1,
            Fault::Respond {
                status: 503,
                retry_after: None,
                body: "",
            },
        )]);
        let mut full = vec!["--server", self.url.as_str()];
        full.extend_from_slice(args);
        let run = self.user.run_with(
            self.user
                .command(&full)
                .env(TIME_SCALE_VAR, INTERRUPT_SCALE),
            "",
        );
        self.proxy.set_rules(vec![]);
        assert_eq!(run.code, 6, "{run:?}");
        assert!(run.stderr.contains("you can resume it"), "{run:?}");
        let ids = self.listed();
        assert_eq!(ids.len(), 1, "{ids:?}");
        ids[0].clone()
    }

    /// `count` small files in `drop/`, uploaded as `message` and interrupted before the commit:
    /// the folder, the files (relative to it) and the upload's id.
    fn interrupted_drop(
        &self,
        count: usize,
        seed: u64,
        message: &str,
    ) -> (PathBuf, Vec<PathBuf>, String) {
        let root = self.tmp.path().join("drop");
        let rel = fixtures::small_tree(&root, count, 100, 2_000, seed);
        let dir = root.to_str().unwrap();
        let id = self.interrupted(&["upload", dir, "--repo", &self.repo, "-m", message]);
        (root, rel, id)
    }

    /// Starts `oxdrop resume <id>` with the commit's answer held back for `secs`, and returns
    /// once the commit is being held: the upload is then running, and stays so for `secs`.
    fn resume_slowly(&self, id: &str, secs: u64) -> std::process::Child {
        self.proxy.set_rules(vec![Rule::new(
            "/merge/",
            1,
            0,
            Fault::Stall(Duration::from_secs(secs)),
        )]);
        let held_before = self.proxy.count(&self.proxy.counters.stalls);
        let mut child = self
            .user
            .command(&["--server", &self.url, "resume", id])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        wait_while_running(&mut child, "the resume reached the commit", || {
            (self.proxy.count(&self.proxy.counters.stalls) > held_before).then_some(())
        });
        child
    }

    /// The ids `oxdrop uploads --json` lists.
    fn listed(&self) -> Vec<String> {
        let run = self.user.run(&["--json", "uploads"]);
        assert_eq!(run.code, 0, "{run:?}");
        let list: Vec<serde_json::Value> = serde_json::from_str(run.stdout.trim()).unwrap();
        list.iter()
            .map(|u| u["id"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Commits on main with this message.
    fn commits_with(&self, message: &str, expect: &[(String, PathBuf)]) -> Vec<oxenpy::LogEntry> {
        let report = oxenpy::assert_uploaded(&self.server.url(), &self.repo, "main", expect);
        report
            .log
            .into_iter()
            .filter(|c| c.message == message)
            .collect()
    }

    fn journal_dir(&self) -> PathBuf {
        self.user.data_dir().join("uploads")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_resume_of_a_running_upload_refuses_and_the_first_commits_once() {
    let scene = Scene::new("one-run").await;
    let (root, rel, id) = scene.interrupted_drop(20, 11, "only once");
    let first = scene.resume_slowly(&id, 8);
    let second = scene.run(&["resume", &id]);
    assert_ne!(second.code, 0, "{second:?}");
    assert!(
        second.stderr.contains(
            "This upload is running in another window or command. Wait for it to finish."
        ),
        "{second:?}"
    );
    let first = first.wait_with_output().unwrap();
    assert_eq!(first.status.code(), Some(0), "{first:?}");
    assert_eq!(
        scene
            .commits_with("only once", &pairs("drop", &root, &rel))
            .len(),
        1,
        "exactly one commit"
    );
    assert!(scene.listed().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_upload_is_not_listed_and_cannot_be_discarded() {
    let scene = Scene::new("no-discard").await;
    let (root, rel, id) = scene.interrupted_drop(20, 12, "kept running");
    let journal_files = || {
        let mut names: Vec<String> = std::fs::read_dir(scene.journal_dir())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".json"))
            .collect();
        names.sort();
        names
    };
    let before = journal_files();

    let running = scene.resume_slowly(&id, 8);
    assert!(scene.listed().is_empty(), "a running upload is not listed");
    let discard = scene.run(&["discard", &id]);
    assert_ne!(discard.code, 0, "{discard:?}");
    assert!(
        discard
            .stderr
            .contains("This upload is running in another window or command."),
        "{discard:?}"
    );
    assert_eq!(journal_files(), before, "nothing deleted");
    let running = running.wait_with_output().unwrap();
    assert_eq!(running.status.code(), Some(0), "{running:?}");
    assert_eq!(
        scene
            .commits_with("kept running", &pairs("drop", &root, &rel))
            .len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_and_discard_take_only_upload_ids() {
    let scene = Scene::new("ids").await;
    let (_, _, id) = scene.interrupted_drop(5, 14, "decoy");
    // A journal's plan outside the journal folder, where `../../decoy` leads: nothing may read
    // it (its files would be uploaded) or delete it.
    let journal = scene.journal_dir();
    let decoy = scene.user.home.path().join("decoy.plan.json");
    std::fs::copy(journal.join(format!("{id}.plan.json")), &decoy).unwrap();
    for entry in std::fs::read_dir(&journal).unwrap().flatten() {
        std::fs::remove_file(entry.path()).unwrap();
    }
    assert!(journal.join("../../decoy.plan.json").exists());

    for command in ["resume", "discard"] {
        for bad in ["../../decoy", "not-a-uuid", ""] {
            let run = scene.run(&[command, bad]);
            assert_eq!(run.code, 2, "{command} {bad:?}: {run:?}");
            assert!(
                run.stderr.contains("not an upload id"),
                "{command} {bad:?}: {run:?}"
            );
        }
    }
    assert!(decoy.exists(), "nothing deleted");
    assert!(scene.commits_with("decoy", &[]).is_empty(), "nothing read");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_as_another_user_is_refused_naming_the_account() {
    let scene = Scene::new("accounts").await;
    let ada = scene.user.login(&scene.url, "ada", "");
    assert_eq!(ada.code, 0, "{ada:?}");
    let (_, _, id) = scene.interrupted_drop(5, 13, "as ada");
    let bob = scene.user.login(&scene.url, "bob", "");
    assert_eq!(bob.code, 0, "{bob:?}");

    let as_bob = scene.user.run(&["resume", &id]);
    assert_ne!(as_bob.code, 0, "{as_bob:?}");
    assert!(
        as_bob.stderr.contains("started as ada") && as_bob.stderr.contains("switch to"),
        "{as_bob:?}"
    );
    assert_eq!(scene.listed(), [id.clone()], "kept for ada");
    assert!(
        scene.commits_with("as ada", &[]).is_empty(),
        "nothing committed"
    );

    let ada_again = scene.user.login(&scene.url, "ada", "");
    assert_eq!(ada_again.code, 0, "{ada_again:?}");
    let as_ada = scene.user.run(&["resume", &id]);
    assert_eq!(as_ada.code, 0, "{as_ada:?}");
    assert_eq!(scene.commits_with("as ada", &[]).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_resume_takes_the_new_message_and_author() {
    let scene = Scene::new("as-asked").await;
    let (root, rel, _) = scene.interrupted_drop(10, 15, "old message");
    let dir = root.to_str().unwrap();

    let again = scene.run(&[
        "upload",
        dir,
        "--repo",
        &scene.repo,
        "-m",
        "new message",
        "--author",
        "New Person <new@example.com>",
    ]);
    assert_eq!(again.code, 0, "{again:?}");
    assert!(
        again.stderr.contains("Resuming an interrupted upload"),
        "{again:?}"
    );
    let ours = scene.commits_with("new message", &pairs("drop", &root, &rel));
    assert_eq!(ours.len(), 1, "the message asked for now");
    assert_eq!(
        (ours[0].author.as_str(), ours[0].email.as_str()),
        ("New Person", "new@example.com")
    );
    assert!(scene.commits_with("old message", &[]).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_resume_refuses_when_the_files_changed_and_says_what_to_run() {
    let scene = Scene::new("changed").await;
    let root = scene.tmp.path().join("drop");
    let mut rel = fixtures::small_tree(&root, 10, 100, 2_000, 16);
    let dir = root.to_str().unwrap();
    let args = [
        "upload",
        dir,
        "--repo",
        scene.repo.as_str(),
        "-m",
        "all of it",
    ];
    let id = scene.interrupted(&args);
    fixtures::write_file(&root.join("added later.txt"), 500, 17);
    rel.push("added later.txt".into());

    let refused = scene.run(&args);
    assert_ne!(refused.code, 0, "{refused:?}");
    for says in [
        "added later.txt",
        &format!("oxdrop resume {id}"),
        &format!("oxdrop discard {id}"),
        "--fresh",
    ] {
        assert!(refused.stderr.contains(says), "{says}: {refused:?}");
    }
    assert_eq!(scene.listed(), [id.clone()], "nothing changed");

    // What it says to run works.
    let discarded = scene.run(&["discard", &id]);
    assert_eq!(discarded.code, 0, "{discarded:?}");
    let mut fresh = args.to_vec();
    fresh.push("--fresh");
    let up = scene.run(&fresh);
    assert_eq!(up.code, 0, "{up:?}");
    assert_eq!(
        scene
            .commits_with("all of it", &pairs("drop", &root, &rel))
            .len(),
        1
    );
    assert!(scene.listed().is_empty());
}

#[test]
fn dry_run_json_shows_what_is_left_out_and_follow_links_uploads_it() {
    let server = OxenServer::start();
    let url = server.url();
    let u = user();
    assert_eq!(
        u.run(&["--server", &url, "create-repo", "team/left-out"])
            .code,
        0
    );
    let tmp = tempfile::tempdir().unwrap();
    let private = tmp.path().join("private");
    let key = fixtures::write_file(&private.join("id_rsa"), 64, 1);
    let root = tmp.path().join("drop");
    let data = fixtures::write_file(&root.join("data.csv"), 500, 2);
    fixtures::write_file(&root.join(".DS_Store"), 20, 3);
    fixtures::write_file(&root.join("old.bak"), 10, 4);
    std::os::unix::fs::symlink(&private, root.join("home-link")).unwrap();
    std::os::unix::fs::symlink(tmp.path().join("nowhere"), root.join("broken")).unwrap();
    // The ignore list lives in the settings file the app shares.
    std::fs::create_dir_all(u.config_dir()).unwrap();
    std::fs::write(
        u.config_dir().join("settings.json"),
        r#"{"format":1,"accounts":[],"active":null,"author":null,"recent":[],"ignore_patterns":["*.bak"]}"#,
    )
    .unwrap();
    let dir = root.to_str().unwrap();
    let upload = |extra: &[&str]| {
        let mut args = vec![
            "--server",
            url.as_str(),
            "upload",
            dir,
            "--repo",
            "team/left-out",
        ];
        args.extend_from_slice(extra);
        u.run(&args)
    };

    // For scripts: the whole plan, with what is refused and what is left out, and why.
    let dry = upload(&["--dry-run", "--json"]);
    assert_eq!(dry.code, 0, "{dry:?}");
    let plan: serde_json::Value = serde_json::from_str(dry.stdout.trim())
        .unwrap_or_else(|e| panic!("no plan JSON on stdout ({e}): {dry:?}"));
    let files: Vec<&str> = plan["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["remote"].as_str().unwrap())
        .collect();
    assert_eq!(files, ["drop/data.csv"]);
    let mut excluded: Vec<(&str, &str, Option<&str>)> = plan["excluded"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["remote"].as_str().unwrap(),
                e["reason"].as_str().unwrap(),
                e["rule"].as_str(),
            )
        })
        .collect();
    excluded.sort();
    assert_eq!(
        excluded,
        [
            ("drop/.DS_Store", "system_clutter", None),
            ("drop/home-link", "link_outside", None),
            ("drop/old.bak", "ignored", Some("OxDrop settings: *.bak")),
        ]
    );
    let link = plan["excluded"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["reason"] == "link_outside")
        .unwrap();
    let target = std::fs::canonicalize(&private).unwrap();
    assert_eq!(link["target"].as_str(), target.to_str());
    assert_eq!(plan["refused"][0]["reason"], "broken_link");
    assert_eq!(plan["totals"]["excluded"], 3);
    assert_eq!(plan["totals"]["refused"], 1);

    // For people: the same, in words, with the way to include the link.
    let dry = upload(&["--dry-run"]);
    assert_eq!(dry.code, 0, "{dry:?}");
    assert!(dry.stdout.is_empty(), "{dry:?}");
    for says in [
        "3 left out",
        "left out   drop/home-link",
        "the rule '*.bak' in your OxDrop ignore list",
        "--follow-links",
    ] {
        assert!(dry.stderr.contains(says), "{says}: {}", dry.stderr);
    }

    let up = upload(&[]);
    assert_eq!(up.code, 0, "{up:?}");
    let report = oxenpy::assert_uploaded(
        &url,
        "team/left-out",
        "main",
        &[("drop/data.csv".into(), data)],
    );
    assert_eq!(report.tree, ["drop/data.csv"]);

    let follow = upload(&["--follow-links"]);
    assert_eq!(follow.code, 0, "{follow:?}");
    oxenpy::assert_uploaded(
        &url,
        "team/left-out",
        "main",
        &[("drop/home-link/id_rsa".into(), key)],
    );
}

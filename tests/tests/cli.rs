//! The `oxdrop` command line as scripts use it: real process, real server, exit codes, output.

// Test code: `&[path.clone()]` reads better, and a panic is how a test fails.
#![allow(clippy::cloned_ref_to_slice_refs, clippy::unwrap_used)]

use std::time::{Duration, Instant};

use oxdrop_tests::cli::CliUser;
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

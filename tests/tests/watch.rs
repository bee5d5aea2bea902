//! Watched folders (issue 17): the real `oxdrop watch run` process, a real folder, the real
//! oxen-server, and the branch's history as the judge of what it did.

// A panic is how a test fails.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::time::Duration;

use oxdrop_tests::oxenpy;
use oxdrop_tests::watching::{DEST, Watched, write};

const LONG: Duration = Duration::from_secs(120);

#[test]
fn a_burst_of_a_thousand_new_files_is_one_commit() {
    let mut w = Watched::new(&[("README.txt", b"runs of the instrument")], &[]);
    w.start();
    w.wait_for_commits(1, LONG);
    w.wait_for_output("Up to date", LONG);
    for i in 0..1000 {
        write(
            &w.folder.join(format!("burst/run-{i:04}.csv")),
            format!("run {i}\n").as_bytes(),
        );
    }
    let commits = w.wait_for_commits(2, Duration::from_secs(300));
    w.assert_no_more_commits(2, Duration::from_secs(6));
    let files = w.changed_in(&commits[0]);
    assert_eq!(
        files.len(),
        1000,
        "{:?} {:?}\n{}",
        &files[..files.len().min(5)],
        commits[0],
        w.output()
    );
    assert_eq!(
        commits[0].message,
        "Watch instrument: 1000 new (burst/run-0000.csv, burst/run-0001.csv, burst/run-0002.csv and 997 more)"
    );
}

#[test]
fn editing_two_files_is_one_commit_with_exactly_those_two_and_unchanged_files_are_not_sent() {
    let files: Vec<(String, Vec<u8>)> = (0..5)
        .map(|i| (format!("f{i}.txt"), format!("first {i}").into_bytes()))
        .collect();
    let initial: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    let mut w = Watched::new(&initial, &[]);
    w.start();
    // The rescan at start finds what is already there.
    let first = w.wait_for_commits(1, LONG);
    assert_eq!(w.changed_in(&first[0]).len(), 5);
    w.wait_for_output("Up to date", LONG);

    write(&w.folder.join("f1.txt"), b"second 1");
    write(&w.folder.join("f3.txt"), b"second 3");
    // Rewritten with the same bytes: a new date, nothing to send.
    write(&w.folder.join("f4.txt"), b"first 4");
    let commits = w.wait_for_commits(2, LONG);
    w.assert_no_more_commits(2, Duration::from_secs(6));
    assert_eq!(w.changed_in(&commits[0]), ["f1.txt", "f3.txt"]);
    assert_eq!(
        commits[0].message,
        "Watch instrument: 2 changed (f1.txt, f3.txt)"
    );

    // Only the date changes: the content check finds nothing to send, so no commit.
    let f0 = std::fs::File::options()
        .write(true)
        .open(w.folder.join("f0.txt"))
        .unwrap();
    f0.set_modified(std::time::SystemTime::now()).unwrap();
    drop(f0);
    w.assert_no_more_commits(2, Duration::from_secs(8));
}

#[test]
fn a_file_written_slowly_over_ten_seconds_is_uploaded_complete() {
    let mut w = Watched::new(&[], &[]);
    w.start();
    w.wait_for_output("Up to date", LONG);
    let path = w.folder.join("slow.bin");
    let mut file = std::fs::File::create(&path).unwrap();
    let chunk = vec![7u8; 64 * 1024];
    for _ in 0..20 {
        file.write_all(&chunk).unwrap();
        file.flush().unwrap();
        std::thread::sleep(Duration::from_millis(500));
    }
    drop(file);
    let commits = w.wait_for_commits(1, LONG);
    w.assert_no_more_commits(1, Duration::from_secs(6));
    let on_branch = w.files_at("main");
    assert_eq!(
        on_branch.get("slow.bin").map(|f| f.0),
        Some(20 * 64 * 1024),
        "only the complete file was committed: {on_branch:?}"
    );
    assert_eq!(commits[0].message, "Watch instrument: 1 new (slow.bin)");
    oxenpy::assert_uploaded(
        &w.server.url(),
        &w.repo.to_string(),
        "main",
        &[(format!("{DEST}/slow.bin"), path)],
    );
}

#[test]
fn killed_and_restarted_it_uploads_what_changed_while_it_was_down() {
    let mut w = Watched::new(&[("a.txt", b"a1"), ("b.txt", b"b1")], &[]);
    w.start();
    w.wait_for_commits(1, LONG);
    w.wait_for_output("Up to date", LONG);
    w.kill();

    write(&w.folder.join("a.txt"), b"a2 changed while down");
    write(&w.folder.join("sub/c.txt"), b"c1 new while down");
    w.assert_no_more_commits(1, Duration::from_secs(2));

    w.start();
    let commits = w.wait_for_commits(2, LONG);
    assert_eq!(w.changed_in(&commits[0]), ["a.txt", "sub/c.txt"]);
    assert_eq!(
        commits[0].message,
        "Watch instrument: 1 changed (a.txt), 1 new (sub/c.txt)"
    );
    // And it keeps watching.
    w.wait_for_output("Up to date", LONG);
    write(&w.folder.join("b.txt"), b"b2 after the restart");
    let commits = w.wait_for_commits(3, LONG);
    assert_eq!(w.changed_in(&commits[0]), ["b.txt"]);
}

/// Killed in the middle of an upload (one file per request, so it is surely under way), the
/// next start finishes that upload first: one commit with every file, nothing twice.
#[test]
fn killed_mid_upload_it_finishes_that_upload_first_in_one_commit() {
    let mut w = Watched::new(&[("README.txt", b"runs")], &[]);
    let user = std::mem::take(&mut w.user);
    w.user = user
        .with_env("OXDROP_PARALLEL", "1")
        .with_env("OXDROP_BATCH_FILES", "1");
    w.start();
    w.wait_for_commits(1, LONG);
    w.wait_for_output("Up to date", LONG);
    for i in 0..60u8 {
        write(
            &w.folder.join(format!("f{i:02}.csv")),
            &vec![b'a' + i % 26; 2000 + usize::from(i)],
        );
    }
    w.wait_for_line("Uploading 10% or more", LONG, |out| {
        out.lines().any(|l| {
            l.split("Uploading ")
                .nth(1)
                .and_then(|rest| rest.split('%').next()?.parse::<u8>().ok())
                .is_some_and(|p| (10..90).contains(&p))
        })
    });
    w.kill();
    assert_eq!(w.commits().len(), 1, "nothing more committed yet");

    w.start();
    let commits = w.wait_for_commits(2, LONG);
    w.wait_for_output("Up to date", LONG);
    w.assert_no_more_commits(2, Duration::from_secs(6));
    assert_eq!(w.changed_in(&commits[0]).len(), 60);
    assert_eq!(
        commits[0].message,
        "Watch instrument: 60 new (f00.csv, f01.csv, f02.csv and 57 more)"
    );
}

#[test]
fn a_local_deletion_changes_nothing_on_the_server_by_default() {
    let mut w = Watched::new(&[("keep.txt", b"k"), ("gone.txt", b"g")], &[]);
    w.start();
    w.wait_for_commits(1, LONG);
    w.wait_for_output("Up to date", LONG);
    std::fs::remove_file(w.folder.join("gone.txt")).unwrap();
    w.assert_no_more_commits(1, Duration::from_secs(8));
    // The next commit (something new) still leaves it on the branch.
    write(&w.folder.join("new.txt"), b"n");
    let commits = w.wait_for_commits(2, LONG);
    assert_eq!(w.changed_in(&commits[0]), ["new.txt"]);
    assert!(w.files_at("main").contains_key("gone.txt"));
}

#[test]
fn mirrored_deletions_are_confirmed_shown_and_remove_exactly_what_was_listed() {
    // Not confirmed: refused.
    let w0 = Watched::new(&[], &[]);
    let refused = w0.user.run(&[
        "--server",
        &w0.server.url(),
        "watch",
        "add",
        w0.folder.parent().unwrap().to_str().unwrap(),
        "--repo",
        &w0.repo.to_string(),
        "--mirror-deletions",
    ]);
    assert_ne!(refused.code, 0, "{refused:?}");
    assert!(refused.stderr.contains("Confirm with --yes"), "{refused:?}");
    drop(w0);

    let files: &[(&str, &[u8])] = &[("a.txt", b"a"), ("b.txt", b"b"), ("c/d.txt", b"d")];
    let mut w = Watched::new(files, &["--mirror-deletions", "--yes"]);
    w.start();
    w.wait_for_commits(1, LONG);
    w.wait_for_output("Up to date", LONG);
    std::fs::remove_file(w.folder.join("b.txt")).unwrap();
    std::fs::remove_file(w.folder.join("c/d.txt")).unwrap();
    w.wait_for_output("the next commit removes 2 file(s): b.txt, c/d.txt", LONG);
    let commits = w.wait_for_commits(2, LONG);
    assert_eq!(w.changed_in(&commits[0]), ["b.txt", "c/d.txt"]);
    assert_eq!(
        commits[0].message,
        "Watch instrument: 2 removed (b.txt, c/d.txt)"
    );
    assert_eq!(
        w.files_at("main").keys().collect::<Vec<_>>(),
        ["a.txt"],
        "exactly what was listed is removed"
    );
}

#[test]
fn a_file_changed_on_the_server_is_left_alone_and_reported() {
    let mut w = Watched::new(&[("shared.csv", b"v1"), ("mine.csv", b"m1")], &[]);
    w.start();
    w.wait_for_commits(1, LONG);
    w.wait_for_output("Up to date", LONG);
    w.colleague_puts(
        &format!("{DEST}/shared.csv"),
        b"v1 fixed on the server",
        "fix a value",
    );
    write(&w.folder.join("shared.csv"), b"v2 from the instrument");
    write(&w.folder.join("mine.csv"), b"m2");
    let commits = w.wait_for_commits(3, LONG);
    assert_eq!(
        w.changed_in(&commits[0]),
        ["mine.csv"],
        "{}",
        commits[0].message
    );
    w.wait_for_output("changed on the server", LONG);
    let out = w.wait_for_output("left as it is there", LONG);
    assert!(
        out.contains(&format!(
            "{DEST}/shared.csv changed on the server in commit"
        )),
        "{out}"
    );
    w.assert_no_more_commits(3, Duration::from_secs(6));
    let theirs = w.files_at("main")["shared.csv"].0;
    assert_eq!(
        theirs,
        b"v1 fixed on the server".len() as u64,
        "not overwritten"
    );
}

/// The rules of a manual upload: the `.oxenignore` at the top of the branch (as Oxen reads it)
/// and the ignore list in OxDrop's settings.
#[test]
fn ignore_rules_apply() {
    let mut w = Watched::new(&[("first.csv", b"f")], &[]);
    w.start();
    w.wait_for_commits(1, LONG);
    w.wait_for_output("Up to date", LONG);
    w.colleague_puts(".oxenignore", b"*.tmp\n", "ignore temporary files");
    std::fs::write(
        w.user.config_dir().join("settings.json"),
        r#"{"format":1,"accounts":[],"active":null,"author":null,"recent":[],"ignore_patterns":["scratch/"]}"#,
    )
    .unwrap();
    write(&w.folder.join("result.csv"), b"r");
    write(&w.folder.join("partial.tmp"), b"t");
    write(&w.folder.join("scratch/x.csv"), b"x");
    let commits = w.wait_for_commits(3, LONG);
    w.assert_no_more_commits(3, Duration::from_secs(6));
    assert_eq!(w.changed_in(&commits[0]), ["result.csv"]);
    assert_eq!(commits[0].message, "Watch instrument: 1 new (result.csv)");
}

/// The kernel's queue of notifications holds 16,384 events; a watcher that stops reading
/// (here: stopped with SIGSTOP) while 5,000 files are written into its folder (4 events each)
/// loses some, and only the rescan after the overflow finds them all.
#[test]
fn a_rescan_after_a_notification_overflow_finds_every_file() {
    // Draining 16,384 queued events takes a while on a busy machine: a longer quiet period
    // keeps the first files told of from going before the rescan found the rest.
    let mut w = Watched::new(&[], &["--rhythm", "settled:10s"]);
    w.start();
    w.wait_for_output("Up to date", LONG);
    w.stop_process();
    for i in 0..5000 {
        write(
            &w.folder.join(format!("n-{i:05}.txt")),
            format!("{i}").as_bytes(),
        );
    }
    w.continue_process();
    w.wait_for_output("file notifications overflowed; rescanning", LONG);
    let commits = w.wait_for_commits(1, Duration::from_secs(300));
    w.assert_no_more_commits(1, Duration::from_secs(6));
    assert_eq!(
        w.changed_in(&commits[0]).len(),
        5000,
        "{}\n{}",
        commits[0].message,
        w.output()
    );
}

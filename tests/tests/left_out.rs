//! What an upload leaves out on purpose, against the real oxen-server: links that lead out of a
//! dropped folder, system clutter, and files matched by the repository's `.oxenignore` or the
//! ignore list in settings. Each plan says what it left out and why; Oxen's own Python client
//! then shows that nothing of it reached the branch.

// Test code: `&[path.clone()]` reads better, and a panic is how a test fails.
#![allow(clippy::cloned_ref_to_slice_refs, clippy::unwrap_used)]

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use oxdrop_core::plan::{ExclusionReason, FileStatus, Plan, PlanRequest, make_plan};
use oxdrop_tests::upload::{self, Fixture, request, upload_paths};
use oxdrop_tests::{fixtures, oxenpy};

/// `(remote, reason, rule)` of every exclusion, sorted.
fn excluded(plan: &Plan) -> Vec<(String, ExclusionReason, Option<String>)> {
    let mut out: Vec<_> = plan
        .excluded
        .iter()
        .map(|e| (e.remote.to_string(), e.reason, e.rule.clone()))
        .collect();
    out.sort();
    out
}

fn remotes(plan: &Plan) -> Vec<String> {
    plan.files.iter().map(|f| f.remote.to_string()).collect()
}

async fn plan_and_upload(f: &Fixture, req: &PlanRequest, message: &str) -> Plan {
    upload::plan_and_upload(&f.client, req, message)
        .await
        .unwrap()
        .0
}

fn write(path: &Path, text: &str) -> PathBuf {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    path.to_path_buf()
}

#[tokio::test]
async fn links_leading_outside_the_dropped_folder_are_left_out_unless_asked() {
    let f = Fixture::new("links").await;
    // A private folder elsewhere on the computer, and a dropped folder with a link to it.
    let private = f.tmp.path().join("home");
    let key = write(&private.join(".ssh/id_rsa"), "-----BEGIN PRIVATE KEY-----");
    let drop = f.tmp.path().join("drop");
    let inside = fixtures::write_file(&drop.join("sub/file.txt"), 500, 1);
    symlink("./sub/file.txt", drop.join("inside-link")).unwrap();
    symlink(&private, drop.join("home-link")).unwrap();

    let req = request(&f.repo, "main", "", &[drop.clone()]);
    let plan = plan_and_upload(&f, &req, "without links").await;
    assert_eq!(remotes(&plan), ["drop/inside-link", "drop/sub/file.txt"]);
    assert_eq!(
        excluded(&plan),
        [("drop/home-link".into(), ExclusionReason::LinkOutside, None)]
    );
    let link = &plan.excluded[0];
    assert!(link.folder, "{link:?}");
    let target = std::fs::canonicalize(&private).unwrap();
    assert_eq!(link.target.as_deref(), Some(target.to_str().unwrap()));
    assert!(
        link.message.contains("outside") && link.message.contains(target.to_str().unwrap()),
        "{}",
        link.message
    );
    assert_eq!(plan.totals.excluded, 1);
    let report = oxenpy::assert_uploaded(
        &f.server.url(),
        &f.repo.to_string(),
        "main",
        &[
            ("drop/sub/file.txt".into(), inside.clone()),
            ("drop/inside-link".into(), inside.clone()),
        ],
    );
    assert!(
        report.tree.iter().all(|p| !p.starts_with("drop/home-link")),
        "nothing behind the link may reach the branch: {:?}",
        report.tree
    );

    // Asked for explicitly: the link is followed and what it points to is uploaded.
    let follow = PlanRequest {
        follow_links: true,
        ..req.clone()
    };
    let plan = plan_and_upload(&f, &follow, "with links").await;
    assert!(plan.excluded.is_empty(), "{:?}", plan.excluded);
    let sent: Vec<(String, FileStatus)> = plan
        .files
        .iter()
        .map(|p| (p.remote.to_string(), p.status))
        .collect();
    assert!(
        sent.contains(&("drop/home-link/.ssh/id_rsa".into(), FileStatus::New)),
        "{sent:?}"
    );
    oxenpy::assert_uploaded(
        &f.server.url(),
        &f.repo.to_string(),
        "main",
        &[("drop/home-link/.ssh/id_rsa".into(), key)],
    );
}

#[tokio::test]
async fn a_dropped_link_is_followed_and_links_are_checked_against_its_target() {
    let f = Fixture::new("dropped-link").await;
    // The user dropped a link to a folder: that is their choice, so it is followed, and its
    // target is the folder the links inside are checked against.
    let real = f.tmp.path().join("real");
    let data = fixtures::write_file(&real.join("data.csv"), 300, 2);
    symlink("data.csv", real.join("alias.csv")).unwrap();
    write(&f.tmp.path().join("next-door/secret.txt"), "secret");
    symlink("../next-door", real.join("neighbour")).unwrap();
    let shortcut = f.tmp.path().join("shortcut");
    symlink(&real, &shortcut).unwrap();
    let (plan, _) = upload_paths(&f.client, &f.repo, "main", "", &[shortcut], "")
        .await
        .unwrap();
    assert_eq!(
        excluded(&plan),
        [(
            "shortcut/neighbour".into(),
            ExclusionReason::LinkOutside,
            None
        )]
    );
    let report = oxenpy::assert_uploaded(
        &f.server.url(),
        &f.repo.to_string(),
        "main",
        &[
            ("shortcut/data.csv".into(), data.clone()),
            ("shortcut/alias.csv".into(), data),
        ],
    );
    assert_eq!(report.tree, ["shortcut/alias.csv", "shortcut/data.csv"]);
}

#[tokio::test]
async fn system_clutter_is_left_out_and_the_real_files_go() {
    let f = Fixture::new("clutter").await;
    let dir = f.tmp.path().join("Report");
    let real = [
        fixtures::write_file(&dir.join("report.docx"), 2000, 3),
        fixtures::write_file(&dir.join("notes.txt"), 100, 4),
        fixtures::write_file(&dir.join("sub/data.csv"), 700, 5),
    ];
    for clutter in [
        ".DS_Store",
        "Thumbs.db",
        "sub/desktop.ini",
        "__MACOSX/x",
        "__MACOSX/._report.docx",
        "~$report.docx",
        ".notes.txt.swp",
        "notes.txt~",
        ".#notes.txt",
        ".~lock.report.docx#",
    ] {
        write(&dir.join(clutter), "clutter");
    }
    let (plan, _) = upload_paths(&f.client, &f.repo, "main", "", &[dir.clone()], "")
        .await
        .unwrap();
    let clutter = ExclusionReason::SystemClutter;
    assert_eq!(
        excluded(&plan),
        [
            ("Report/.#notes.txt".into(), clutter, None),
            ("Report/.DS_Store".into(), clutter, None),
            ("Report/.notes.txt.swp".into(), clutter, None),
            ("Report/.~lock.report.docx#".into(), clutter, None),
            ("Report/Thumbs.db".into(), clutter, None),
            ("Report/__MACOSX".into(), clutter, None),
            ("Report/notes.txt~".into(), clutter, None),
            ("Report/sub/desktop.ini".into(), clutter, None),
            ("Report/~$report.docx".into(), clutter, None),
        ]
    );
    let macosx = plan
        .excluded
        .iter()
        .find(|e| e.remote.as_str() == "Report/__MACOSX")
        .unwrap();
    assert!(macosx.folder, "a folder is reported once: {macosx:?}");
    assert_eq!(plan.totals.excluded, 9);
    let report = oxenpy::assert_uploaded(
        &f.server.url(),
        &f.repo.to_string(),
        "main",
        &[
            ("Report/report.docx".into(), real[0].clone()),
            ("Report/notes.txt".into(), real[1].clone()),
            ("Report/sub/data.csv".into(), real[2].clone()),
        ],
    );
    assert_eq!(
        report.tree,
        [
            "Report/notes.txt",
            "Report/report.docx",
            "Report/sub/data.csv"
        ]
    );
}

#[tokio::test]
async fn the_branchs_oxenignore_leaves_matching_files_out_with_its_rule() {
    let f = Fixture::new("oxenignore").await;
    let rules = write(
        &f.tmp.path().join("rules/.oxenignore"),
        "# scratch\n*.tmp\nbuild/\n",
    );
    upload_paths(&f.client, &f.repo, "main", "", &[rules.clone()], "rules")
        .await
        .unwrap();

    let proj = f.tmp.path().join("proj");
    let keep = [
        fixtures::write_file(&proj.join("a.csv"), 400, 6),
        fixtures::write_file(&proj.join("keep/y.txt"), 50, 7),
    ];
    write(&proj.join("scratch.tmp"), "t");
    write(&proj.join("keep/deeper/more.tmp"), "t");
    write(&proj.join("build/out.bin"), "b");
    write(&proj.join("build/deep/x.txt"), "b");
    let req = request(&f.repo, "main", "", &[proj.clone()]);
    let plan = plan_and_upload(&f, &req, "project").await;
    let rule = |r: &str| Some(format!(".oxenignore: {r}"));
    let ignored = ExclusionReason::Ignored;
    assert_eq!(
        excluded(&plan),
        [
            ("proj/build".into(), ignored, rule("build/")),
            ("proj/keep/deeper/more.tmp".into(), ignored, rule("*.tmp")),
            ("proj/scratch.tmp".into(), ignored, rule("*.tmp")),
        ]
    );
    assert!(plan.excluded[0].folder);
    assert!(plan.notes.is_empty(), "{:?}", plan.notes);
    let report = oxenpy::assert_uploaded(
        &f.server.url(),
        &f.repo.to_string(),
        "main",
        &[
            ("proj/a.csv".into(), keep[0].clone()),
            ("proj/keep/y.txt".into(), keep[1].clone()),
        ],
    );
    assert_eq!(
        report.tree,
        [".oxenignore", "proj/a.csv", "proj/keep/y.txt"]
    );

    // One line Oxen cannot read makes Oxen ignore the whole file; OxDrop does the same, and says so.
    write(&rules, "*.tmp\n[z-a\n");
    upload_paths(&f.client, &f.repo, "main", "", &[rules], "broken rules")
        .await
        .unwrap();
    let plan = make_plan(&f.client, &req).await.unwrap();
    assert!(plan.excluded.is_empty(), "{:?}", plan.excluded);
    assert!(
        remotes(&plan).contains(&"proj/scratch.tmp".to_owned()),
        "{:?}",
        plan.files
    );
    assert_eq!(plan.notes.len(), 1, "{:?}", plan.notes);
    assert!(
        plan.notes[0].contains(".oxenignore") && plan.notes[0].contains("line 2"),
        "{}",
        plan.notes[0]
    );
}

#[tokio::test]
async fn the_ignore_list_in_settings_leaves_matching_files_out_with_its_rule() {
    let f = Fixture::new("settings-ignore").await;
    let dir = f.tmp.path().join("shoot");
    let raw = fixtures::write_file(&dir.join("raw/img.cr2"), 900, 8);
    write(&dir.join("img.cr2.bak"), "backup");
    write(&dir.join("cache/thumb.jpg"), "thumb");
    let req = PlanRequest {
        ignore_patterns: vec!["*.bak".into(), "cache/".into()],
        ..request(&f.repo, "main", "", &[dir.clone()])
    };
    let plan = plan_and_upload(&f, &req, "shoot").await;
    let rule = |r: &str| Some(format!("OxDrop settings: {r}"));
    let ignored = ExclusionReason::Ignored;
    assert_eq!(
        excluded(&plan),
        [
            ("shoot/cache".into(), ignored, rule("cache/")),
            ("shoot/img.cr2.bak".into(), ignored, rule("*.bak")),
        ]
    );
    let report = oxenpy::assert_uploaded(
        &f.server.url(),
        &f.repo.to_string(),
        "main",
        &[("shoot/raw/img.cr2".into(), raw)],
    );
    assert_eq!(report.tree, ["shoot/raw/img.cr2"]);
}

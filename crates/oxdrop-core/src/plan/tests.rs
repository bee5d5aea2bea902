use std::os::unix::fs::symlink;
use std::path::Path;

use super::*;

fn dest(p: &str) -> RemotePath {
    RemotePath::parse(p).unwrap()
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// Walks with the default rules: links outside left out, clutter left out, no ignore list.
fn walk(sources: &[PathBuf], dest: &RemotePath) -> (Vec<Candidate>, Vec<Refusal>) {
    let walked = walk_sources(sources, dest, &ExcludeRules::default());
    (walked.found, walked.refused)
}

fn remotes(found: &[Candidate]) -> Vec<&str> {
    let mut r: Vec<&str> = found.iter().map(|c| c.remote.as_str()).collect();
    r.sort();
    r
}

#[test]
fn folders_keep_their_name_and_structure() {
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("photos");
    write(&photos.join("a.jpg"), b"a");
    write(&photos.join("2024/b.jpg"), b"bb");
    write(&photos.join("2024/ünï 日本.txt"), b"");
    let loose = tmp.path().join("notes.md");
    write(&loose, b"notes");
    let (found, refused) = walk(&[photos, loose], &dest("incoming"));
    assert!(refused.is_empty(), "{refused:?}");
    assert_eq!(
        remotes(&found),
        vec![
            "incoming/notes.md",
            "incoming/photos/2024/b.jpg",
            "incoming/photos/2024/ünï 日本.txt",
            "incoming/photos/a.jpg",
        ]
    );
    let empty = found
        .iter()
        .find(|c| c.remote.as_str().ends_with(".txt"))
        .unwrap();
    assert_eq!(empty.size, 0, "0-byte files are planned like any other");
}

#[test]
fn symlinks_are_followed_but_loops_and_dangling_links_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    write(&root.join("real/file.txt"), b"x");
    symlink(root.join("real/file.txt"), root.join("link-to-file")).unwrap();
    symlink(&root, root.join("real/loop")).unwrap();
    symlink(tmp.path().join("nowhere"), root.join("dangling")).unwrap();
    symlink(root.join("self-a"), root.join("self-b")).unwrap();
    symlink(root.join("self-b"), root.join("self-a")).unwrap();
    let (found, refused) = walk(&[root], &RemotePath::root());
    assert_eq!(
        remotes(&found),
        vec!["root/link-to-file", "root/real/file.txt"]
    );
    let mut reasons: Vec<(String, RefusalReason)> = refused
        .iter()
        .map(|r| (r.remote.as_ref().unwrap().to_string(), r.reason))
        .collect();
    reasons.sort();
    assert_eq!(
        reasons,
        vec![
            ("root/dangling".into(), RefusalReason::BrokenLink),
            ("root/real/loop".into(), RefusalReason::SymlinkLoop),
            ("root/self-a".into(), RefusalReason::SymlinkLoop),
            ("root/self-b".into(), RefusalReason::SymlinkLoop),
        ]
    );
    assert!(refused.iter().all(|r| r.message.contains("Skipped")));
}

fn left_out(walked: &walk::Walked) -> Vec<(String, ExclusionReason, bool)> {
    let mut r: Vec<_> = walked
        .excluded
        .iter()
        .map(|e| (e.remote.to_string(), e.reason, e.folder))
        .collect();
    r.sort();
    r
}

#[test]
fn links_leading_outside_a_dropped_folder_are_left_out_unless_followed() {
    let tmp = tempfile::tempdir().unwrap();
    write(&tmp.path().join("outside/secret.txt"), b"s");
    let root = tmp.path().join("root");
    write(&root.join("in.txt"), b"i");
    symlink(root.join("in.txt"), root.join("inside")).unwrap();
    symlink("../outside", root.join("rel")).unwrap();
    symlink(tmp.path().join("outside/secret.txt"), root.join("out-file")).unwrap();
    let mut rules = ExcludeRules::default();
    let walked = walk_sources(std::slice::from_ref(&root), &RemotePath::root(), &rules);
    assert_eq!(remotes(&walked.found), vec!["root/in.txt", "root/inside"]);
    assert_eq!(
        left_out(&walked),
        vec![
            ("root/out-file".into(), ExclusionReason::LinkOutside, false),
            ("root/rel".into(), ExclusionReason::LinkOutside, true),
        ]
    );
    let outside = std::fs::canonicalize(tmp.path().join("outside")).unwrap();
    let rel = walked.excluded.iter().find(|e| e.folder).unwrap();
    assert_eq!(rel.target.as_deref(), outside.to_str());
    assert!(
        rel.message.contains("link to outside the folder"),
        "{}",
        rel.message
    );

    rules.follow_links = true;
    let walked = walk_sources(&[root], &RemotePath::root(), &rules);
    assert!(walked.excluded.is_empty(), "{:?}", walked.excluded);
    assert_eq!(
        remotes(&walked.found),
        vec![
            "root/in.txt",
            "root/inside",
            "root/out-file",
            "root/rel/secret.txt"
        ]
    );
}

#[test]
fn clutter_is_known_by_its_name_as_the_os_would_compare_it() {
    use exclude::clutter;
    for name in [
        ".DS_Store",
        ".ds_store",
        "Thumbs.db",
        "thumbs.db",
        "ehthumbs.db",
        "Desktop.ini",
        "~$report.docx",
        ".~lock.report.odt#",
        "notes.txt.swp",
        ".notes.txt.swp",
        "x.swo",
        "notes.txt~",
        ".#notes.txt",
    ] {
        assert!(clutter(name, false).is_some(), "{name}");
        assert!(clutter(name, true).is_none(), "a folder named {name}");
    }
    assert!(clutter("__MACOSX", true).is_some());
    assert!(clutter("__macosx", true).is_some());
    assert!(clutter("__MACOSX", false).is_none());
    for name in [
        "report.docx",
        "DATA.SWP",
        "~",
        ".swp",
        "a~b",
        "lock#",
        "x.db",
    ] {
        assert!(clutter(name, false).is_none(), "{name}");
    }
}

#[test]
fn a_dropped_clutter_file_is_the_users_choice_and_ignored_folders_are_reported_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dropped = tmp.path().join(".DS_Store");
    write(&dropped, b"chosen");
    let dir = tmp.path().join("dir");
    write(&dir.join(".DS_Store"), b"x");
    write(&dir.join("cache/a/b.bin"), b"x");
    write(&dir.join("cache/c.bin"), b"x");
    write(&dir.join("keep.txt"), b"x");
    let rules = ExcludeRules {
        ignore: IgnoreRules::from_settings(&["cache/".into()]),
        follow_links: false,
    };
    let walked = walk_sources(&[dropped, dir], &RemotePath::root(), &rules);
    assert_eq!(remotes(&walked.found), vec![".DS_Store", "dir/keep.txt"]);
    assert_eq!(
        left_out(&walked),
        vec![
            (
                "dir/.DS_Store".into(),
                ExclusionReason::SystemClutter,
                false
            ),
            ("dir/cache".into(), ExclusionReason::Ignored, true),
        ]
    );
    let cache = walked.excluded.iter().find(|e| e.folder).unwrap();
    assert_eq!(cache.rule.as_deref(), Some("OxDrop settings: cache/"));
}

#[test]
fn special_files_are_refused_with_their_kind() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dir");
    write(&dir.join("ok.txt"), b"ok");
    let fifo = dir.join("pipe");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let _socket = std::os::unix::net::UnixListener::bind(dir.join("sock")).unwrap();
    let (found, refused) = walk(&[dir, PathBuf::from("/dev/null")], &RemotePath::root());
    assert_eq!(remotes(&found), vec!["dir/ok.txt"]);
    let messages: Vec<&str> = refused.iter().map(|r| r.message.as_str()).collect();
    assert_eq!(refused.len(), 3, "{messages:?}");
    assert!(
        refused
            .iter()
            .all(|r| r.reason == RefusalReason::SpecialFile)
    );
    assert!(messages.iter().any(|m| m.contains("a pipe (FIFO)")));
    assert!(messages.iter().any(|m| m.contains("a socket")));
    assert!(messages.iter().any(|m| m.contains("a device")));
}

#[test]
fn names_that_cannot_live_in_a_repository_are_refused() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dir");
    write(&dir.join(".oxen/config.toml"), b"x");
    write(&dir.join("ok.txt"), b"x");
    write(&dir.join(OsStr::from_bytes(b"latin1-\xe9t\xe9.txt")), b"x");
    write(&dir.join("tab\tname.txt"), b"x");
    let (found, refused) = walk(&[dir], &RemotePath::root());
    assert_eq!(remotes(&found), vec!["dir/ok.txt"]);
    let mut reasons: Vec<RefusalReason> = refused.iter().map(|r| r.reason).collect();
    reasons.sort_by_key(|r| format!("{r:?}"));
    assert_eq!(
        reasons,
        vec![
            RefusalReason::NameNotAllowed,
            RefusalReason::NameNotAllowed,
            RefusalReason::NameNotText
        ]
    );
    assert!(
        refused
            .iter()
            .any(|r| r.message.contains("not valid text (UTF-8)"))
    );
    assert!(refused.iter().any(|r| r.message.contains(".oxen")));
}

#[test]
fn missing_sources_are_refused_not_fatal() {
    let tmp = tempfile::tempdir().unwrap();
    write(&tmp.path().join("here.txt"), b"x");
    let (found, refused) = walk(
        &[tmp.path().join("gone.txt"), tmp.path().join("here.txt")],
        &RemotePath::root(),
    );
    assert_eq!(remotes(&found), vec!["here.txt"]);
    assert_eq!(refused[0].reason, RefusalReason::Missing);
    assert!(refused[0].message.contains("no longer exists"));
}

#[test]
fn very_deep_folders_do_not_overflow() {
    let tmp = tempfile::tempdir().unwrap();
    let mut path = tmp.path().join("deep");
    for i in 0..300 {
        path.push(format!("{}", i % 10));
    }
    write(&path.join("leaf.txt"), b"leaf");
    let (found, refused) = walk(&[tmp.path().join("deep")], &RemotePath::root());
    assert!(refused.is_empty());
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].remote.segments().count(), 302);
}

fn cand(local: &str, remote: &str) -> Candidate {
    Candidate {
        local: local.into(),
        remote: dest(remote),
        size: 1,
        mtime_ns: None,
    }
}

#[test]
fn duplicate_destinations_refuse_every_copy() {
    let mut refused = Vec::new();
    let kept = refuse_collisions(
        vec![
            cand("/a/x.txt", "x.txt"),
            cand("/b/x.txt", "x.txt"),
            cand("/c/y.txt", "y.txt"),
        ],
        &mut refused,
    );
    assert_eq!(remotes(&kept), vec!["y.txt"]);
    assert_eq!(refused.len(), 2);
    assert!(
        refused
            .iter()
            .all(|r| r.reason == RefusalReason::DuplicateDestination)
    );
    assert!(refused[0].message.contains("/a/x.txt") && refused[0].message.contains("/b/x.txt"));
}

#[test]
fn a_file_where_another_file_needs_a_folder_is_refused() {
    let mut refused = Vec::new();
    let kept = refuse_collisions(
        vec![cand("/x/data", "data"), cand("/y/data/a.csv", "data/a.csv")],
        &mut refused,
    );
    assert_eq!(remotes(&kept), vec!["data/a.csv"]);
    assert_eq!(refused[0].reason, RefusalReason::PathConflict);
}

fn pf(remote: &str, status: FileStatus) -> PlannedFile {
    PlannedFile {
        local: format!("/l/{remote}"),
        remote: dest(remote),
        size: 1,
        status,
        hash: None,
        remote_hash: None,
        mtime_ns: None,
        remote_commit: None,
    }
}

#[test]
fn default_messages_describe_the_upload() {
    let root = RemotePath::root();
    assert_eq!(
        default_message(&[pf("a.csv", FileStatus::New)], &root),
        "Add a.csv"
    );
    assert_eq!(
        default_message(&[pf("a.csv", FileStatus::Overwrite)], &root),
        "Update a.csv"
    );
    let many = [
        pf("img/photos/1.jpg", FileStatus::New),
        pf("img/photos/2.jpg", FileStatus::New),
        pf("img/notes.md", FileStatus::Overwrite),
        pf("img/same.md", FileStatus::Unchanged),
    ];
    assert_eq!(
        default_message(&many, &dest("img")),
        "Add 3 files to img: photos, notes.md"
    );
    let wide: Vec<PlannedFile> = (0..6)
        .map(|i| pf(&format!("f{i}.txt"), FileStatus::New))
        .collect();
    assert_eq!(
        default_message(&wide, &root),
        "Add 6 files: f0.txt, f1.txt and 4 more"
    );
}

mod fuzz {
    use proptest::prelude::*;

    use super::*;

    /// A random tree: names (some odd), nesting, links, empty files.
    fn entries() -> impl Strategy<Value = Vec<(Vec<String>, u8)>> {
        let name = prop_oneof![
            "[a-z]{1,6}",
            Just(".oxen".to_owned()),
            Just("same".to_owned()),
            "[ a-zA-Z0-9_.\u{e9}-]{1,8}",
        ];
        proptest::collection::vec((proptest::collection::vec(name, 1..4), 0u8..4), 0..25)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

        /// Whatever is on disk, the walk ends, every file lands once at a valid, unique path,
        /// and the collision rules leave no path that is both a file and a folder.
        #[test]
        fn walking_any_tree_gives_unique_valid_paths(tree in entries()) {
            let tmp = tempfile::tempdir().unwrap();
            let root = tmp.path().join("root");
            std::fs::create_dir_all(&root).unwrap();
            for (parts, kind) in &tree {
                let path = parts.iter().fold(root.clone(), |p, n| p.join(n));
                if path.exists() || parts.iter().any(|p| p == "." || p == "..") { continue; }
                let Some(parent) = path.parent() else { continue };
                if std::fs::create_dir_all(parent).is_err() { continue; }
                let _ = match kind {
                    0 => std::fs::write(&path, b"x"),
                    1 => std::fs::write(&path, b""),
                    2 => std::fs::create_dir_all(&path),
                    _ => std::os::unix::fs::symlink(&root, &path),
                };
            }
            let (found, mut refused) = walk(&[root.clone(), root.clone()], &RemotePath::root());
            let kept = refuse_collisions(found.clone(), &mut refused);
            let mut seen = std::collections::HashSet::new();
            for c in &kept {
                prop_assert!(seen.insert(c.remote.clone()), "duplicate {}", c.remote);
                prop_assert_eq!(RemotePath::parse(c.remote.as_str()).ok(), Some(c.remote.clone()));
                prop_assert!(c.remote.segments().all(|s| !s.eq_ignore_ascii_case(".oxen")));
            }
            let folders: std::collections::HashSet<&str> = kept.iter().flat_map(|c| c.remote.ancestors()).collect();
            prop_assert!(kept.iter().all(|c| !folders.contains(c.remote.as_str())));
            // The same folder given twice: every file of it is a duplicate, so nothing is kept.
            prop_assert!(kept.is_empty() || found.is_empty());
        }
    }
}

#[test]
fn the_folder_of_an_upload_is_the_deepest_one_holding_all_its_files() {
    let plan = |d: &str, files: &[&str]| {
        Plan::of_new_files(RepoRef::new("ns", "repo").unwrap(), dest(d), files, 0)
    };
    let folder = |d: &str, files: &[&str]| plan(d, files).folder().as_str().to_owned();
    assert_eq!(
        folder("in", &["in/Summer/a.jpg", "in/Summer/2024/b.jpg"]),
        "in/Summer"
    );
    assert_eq!(folder("in", &["in/Summer/a.jpg", "in/notes.md"]), "in");
    assert_eq!(folder("", &["a.txt", "b/c.txt"]), "");
    assert_eq!(folder("in/x", &["in/x/one.txt"]), "in/x");
    assert_eq!(folder("in/x", &[]), "in/x");
    assert_eq!(folder("", &["ab/c.txt", "a/d.txt"]), "", "whole names only");
}

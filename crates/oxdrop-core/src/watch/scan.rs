//! Looking at the watched folder: what each file looks like (size and date, never its content),
//! the whole folder at once (a rescan) or one path an event named.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::fs::mtime_ns;

/// A file as seen on disk: enough to notice a change without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Seen {
    #[serde(rename = "n")]
    pub size: u64,
    #[serde(rename = "t", default, skip_serializing_if = "Option::is_none")]
    pub mtime_ns: Option<u128>,
}

impl Seen {
    fn of(meta: &std::fs::Metadata) -> Seen {
        Seen {
            size: meta.len(),
            mtime_ns: mtime_ns(meta),
        }
    }
}

/// Files under the folder by their path relative to it (`/`-separated).
pub(crate) type Snapshot = BTreeMap<String, Seen>;

/// What is at a path now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Found {
    File(Seen),
    /// A folder, with every file under it.
    Folder(Snapshot),
    Nothing,
}

/// What is at `folder/rel` now, links followed. A folder is walked (a folder moved in brings
/// files no event named).
pub(crate) fn look(folder: &Path, rel: &str) -> Found {
    let path = folder.join(rel);
    match std::fs::metadata(&path) {
        Ok(meta) if meta.is_file() => Found::File(Seen::of(&meta)),
        Ok(meta) if meta.is_dir() && !is_link(&path) => {
            let mut found = Snapshot::new();
            walk(&path, rel, &mut found);
            Found::Folder(found)
        }
        _ => Found::Nothing,
    }
}

/// Every file in the folder. Fails only when the folder itself cannot be read (gone, or its
/// disk not connected), which must never read as "everything was deleted".
pub(crate) fn scan(folder: &Path) -> std::io::Result<Snapshot> {
    let meta = std::fs::metadata(folder)?;
    if !meta.is_dir() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotADirectory,
            "not a folder",
        ));
    }
    std::fs::read_dir(folder)?;
    let mut found = Snapshot::new();
    walk(folder, "", &mut found);
    Ok(found)
}

/// Walks without recursion. Links to files are followed; links to folders are not (they could
/// loop, and the plan leaves links out of a watched folder's own tree anyway when they lead
/// outside). Names that are not text and `.oxen` folders cannot go to a repository: skipped.
fn walk(dir: &Path, rel: &str, found: &mut Snapshot) {
    let mut stack: Vec<(PathBuf, String)> = vec![(dir.to_path_buf(), rel.to_owned())];
    while let Some((dir, rel)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            let child = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                if !name.eq_ignore_ascii_case(".oxen") {
                    stack.push((entry.path(), child));
                }
            } else if let Ok(meta) = std::fs::metadata(entry.path())
                && meta.is_file()
            {
                found.insert(child, Seen::of(&meta));
            }
        }
    }
}

fn is_link(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// `path` relative to `folder`, `/`-separated, if it is inside it and its name is text.
pub(crate) fn relative(folder: &Path, path: &Path) -> Option<String> {
    let rest = path.strip_prefix(folder).ok()?;
    let mut parts = Vec::new();
    for c in rest.components() {
        match c {
            Component::Normal(name) => parts.push(name.to_str()?),
            _ => return None,
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// Can the file be opened for reading now (a writer may hold it locked on some systems)?
pub(crate) fn can_open(folder: &Path, rel: &str) -> bool {
    std::fs::File::open(folder.join(rel)).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, bytes: &[u8]) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }

    #[test]
    fn scans_every_file_by_its_relative_path() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        write(&root.join("a.csv"), b"12345");
        write(&root.join("runs/2024/b.bin"), b"");
        write(&root.join(".oxen/HEAD"), b"x");
        std::os::unix::fs::symlink(root.join("a.csv"), root.join("link.csv")).unwrap();
        std::os::unix::fs::symlink(root.join("runs"), root.join("runs-link")).unwrap();
        let found = scan(root).unwrap();
        let names: Vec<&str> = found.keys().map(String::as_str).collect();
        assert_eq!(names, vec!["a.csv", "link.csv", "runs/2024/b.bin"]);
        assert_eq!(found["a.csv"].size, 5);
        assert!(found["a.csv"].mtime_ns.is_some());
    }

    #[test]
    fn a_missing_folder_is_an_error_not_an_empty_one() {
        let tmp = tempfile::tempdir().unwrap();
        assert!(scan(&tmp.path().join("gone")).is_err());
        write(&tmp.path().join("file"), b"x");
        assert!(scan(&tmp.path().join("file")).is_err());
    }

    #[test]
    fn looks_at_files_folders_and_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        write(&root.join("moved-in/x/y.txt"), b"yy");
        write(&root.join("z.txt"), b"z");
        assert!(matches!(look(root, "z.txt"), Found::File(s) if s.size == 1));
        match look(root, "moved-in") {
            Found::Folder(files) => {
                assert_eq!(files.keys().collect::<Vec<_>>(), vec!["moved-in/x/y.txt"])
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(look(root, "nope"), Found::Nothing);
    }

    #[test]
    fn relative_paths_stay_inside_the_folder() {
        let folder = Path::new("/data/watched");
        assert_eq!(
            relative(folder, Path::new("/data/watched/a/b.csv")).as_deref(),
            Some("a/b.csv")
        );
        assert_eq!(relative(folder, Path::new("/data/watched")), None);
        assert_eq!(relative(folder, Path::new("/data/other/a")), None);
    }
}

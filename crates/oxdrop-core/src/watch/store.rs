//! The list of watches: `watches.json` in the config folder, changed only under a lock (read,
//! change, write back), so the app and `oxdrop watch` changing it at once lose nothing.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{NewWatch, Watch, WatchEdit};
use crate::error::{Error, ErrorCode, Result, describe_io_error};
use crate::fs::{FileLock, now_unix, write_atomic};
use crate::repo_ref::check_branch_name;

const FORMAT: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
struct WatchesFile {
    format: u32,
    watches: Vec<Watch>,
}

/// The `watches.json` file.
#[derive(Debug, Clone)]
pub struct WatchStore {
    path: PathBuf,
}

impl WatchStore {
    pub fn new(config_dir: &Path) -> WatchStore {
        WatchStore {
            path: config_dir.join("watches.json"),
        }
    }

    /// In the OS config folder (or `$OXDROP_CONFIG_DIR`), beside the settings.
    pub fn default_location() -> Result<WatchStore> {
        crate::app_dirs::required_config_dir().map(|d| WatchStore::new(&d))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every watch. A missing file is none; a damaged one is set aside (renamed, kept for the
    /// user) rather than overwritten.
    pub fn load(&self) -> Vec<Watch> {
        let Ok(bytes) = std::fs::read(&self.path) else {
            return Vec::new();
        };
        match serde_json::from_slice::<WatchesFile>(&bytes) {
            Ok(f) if f.format == FORMAT => f.watches,
            _ => {
                let aside = self
                    .path
                    .with_extension(format!("damaged-{}.json", now_unix()));
                tracing::warn!(path = %self.path.display(), aside = %aside.display(), "watches unreadable; set aside");
                let _ = std::fs::rename(&self.path, aside);
                Vec::new()
            }
        }
    }

    /// Reads, changes and writes back the list under an exclusive lock on `watches.lock`.
    pub fn update<T>(&self, change: impl FnOnce(&mut Vec<Watch>) -> Result<T>) -> Result<T> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| unwritable(dir, &e))?;
        let _lock =
            FileLock::acquire(&dir.join("watches.lock")).map_err(|e| unwritable(dir, &e))?;
        let mut watches = self.load();
        let result = change(&mut watches)?;
        let file = WatchesFile {
            format: FORMAT,
            watches,
        };
        let bytes = serde_json::to_vec_pretty(&file).map_err(Error::internal)?;
        write_atomic(&self.path, &bytes).map_err(|e| unwritable(dir, &e))?;
        Ok(result)
    }

    /// The watch with this id, or the one whose id starts with it (ids are long to type).
    pub fn find(&self, id: &str) -> Result<Watch> {
        find(&self.load(), id).cloned()
    }

    /// Adds a watch after checking the folder and the destination's names.
    pub fn add(&self, new: NewWatch) -> Result<Watch> {
        let folder = check_folder(&new.folder)?;
        check_branch_name(&new.destination.branch)?;
        new.rhythm.check()?;
        self.update(|watches| {
            if let Some(same) = watches
                .iter()
                .find(|w| w.folder == folder && w.destination == new.destination)
            {
                return Err(Error::new(
                    ErrorCode::InvalidInput,
                    format!(
                        "{} is already kept uploaded to that place (watch {}).",
                        folder.display(),
                        short_id(&same.id)
                    ),
                ));
            }
            let watch = Watch {
                id: uuid::Uuid::new_v4().to_string(),
                folder,
                destination: new.destination,
                rhythm: new.rhythm,
                mirror_deletions: new.mirror_deletions,
                paused: false,
                created_unix: now_unix(),
            };
            watches.push(watch.clone());
            Ok(watch)
        })
    }

    /// Applies an edit; returns the watch before and after.
    pub fn edit(&self, id: &str, edit: WatchEdit) -> Result<(Watch, Watch)> {
        if let Some(d) = &edit.destination {
            check_branch_name(&d.branch)?;
        }
        if let Some(r) = &edit.rhythm {
            r.check()?;
        }
        self.change(id, |w| {
            if let Some(d) = edit.destination {
                w.destination = d;
            }
            if let Some(r) = edit.rhythm {
                w.rhythm = r;
            }
            if let Some(m) = edit.mirror_deletions {
                w.mirror_deletions = m;
            }
        })
    }

    pub fn set_paused(&self, id: &str, paused: bool) -> Result<Watch> {
        self.change(id, |w| w.paused = paused)
            .map(|(_, after)| after)
    }

    pub fn remove(&self, id: &str) -> Result<Watch> {
        self.update(|watches| {
            let found = find(watches, id)?.id.clone();
            let at = watches.iter().position(|w| w.id == found).unwrap_or(0);
            Ok(watches.remove(at))
        })
    }

    fn change(&self, id: &str, f: impl FnOnce(&mut Watch)) -> Result<(Watch, Watch)> {
        self.update(|watches| {
            let found = find(watches, id)?.id.clone();
            let watch = watches
                .iter_mut()
                .find(|w| w.id == found)
                .ok_or_else(|| no_such_watch(id))?;
            let before = watch.clone();
            f(watch);
            Ok((before, watch.clone()))
        })
    }
}

/// The first 8 characters of an id: what the CLI shows and accepts.
pub(crate) fn short_id(id: &str) -> &str {
    &id[..id.len().min(8)]
}

fn find<'a>(watches: &'a [Watch], id: &str) -> Result<&'a Watch> {
    let id = id.trim();
    if let Some(w) = watches.iter().find(|w| w.id == id) {
        return Ok(w);
    }
    let mut matching = watches
        .iter()
        .filter(|w| !id.is_empty() && w.id.starts_with(id));
    match (matching.next(), matching.next()) {
        (Some(w), None) => Ok(w),
        (Some(_), Some(_)) => Err(Error::new(
            ErrorCode::InvalidInput,
            format!("More than one watch starts with '{id}'. Give more of its id."),
        )),
        _ => Err(no_such_watch(id)),
    }
}

fn no_such_watch(id: &str) -> Error {
    Error::new(
        ErrorCode::InvalidInput,
        format!("There is no watch '{id}'. `oxdrop watch list` shows them."),
    )
}

/// The folder as an absolute path with links resolved (events name paths under it), which must
/// be a folder that exists.
fn check_folder(folder: &Path) -> Result<PathBuf> {
    let resolved = std::fs::canonicalize(folder).map_err(|e| {
        Error::new(
            ErrorCode::InvalidPath,
            format!(
                "Cannot watch {}: {}.",
                folder.display(),
                describe_io_error(&e)
            ),
        )
    })?;
    if !resolved.is_dir() {
        return Err(Error::new(
            ErrorCode::InvalidPath,
            format!(
                "{} is a file. Choose a folder to keep uploaded.",
                folder.display()
            ),
        ));
    }
    Ok(resolved)
}

fn unwritable(dir: &Path, e: &std::io::Error) -> Error {
    Error::new(
        ErrorCode::ConfigUnwritable,
        format!(
            "OxDrop cannot save its list of watched folders in {}: {}. Free some space or fix the folder's permissions.",
            dir.display(),
            describe_io_error(e)
        ),
    )
    .retryable(false)
    .with_detail(e.to_string())
}

/// Held by the one process running the watches (the app or `oxdrop watch run`), so a folder is
/// never uploaded by two at once. `None` when another process holds it.
pub(crate) fn try_lock(path: &Path) -> std::io::Result<Option<FileLock>> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    FileLock::try_acquire(path, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::Destination;
    use crate::remote_path::RemotePath;
    use crate::repo_ref::RepoRef;
    use crate::watch::Rhythm;

    fn new_watch(folder: &Path) -> NewWatch {
        NewWatch {
            folder: folder.to_path_buf(),
            destination: Destination {
                account_id: "http://127.0.0.1:3000".into(),
                repo: RepoRef::new("ns", "data").unwrap(),
                branch: "main".into(),
                dest: RemotePath::parse("runs").unwrap(),
            },
            rhythm: Rhythm::default(),
            mirror_deletions: false,
        }
    }

    #[test]
    fn add_find_pause_edit_remove() {
        let tmp = tempfile::tempdir().unwrap();
        let folder = tmp.path().join("instrument");
        std::fs::create_dir(&folder).unwrap();
        let store = WatchStore::new(&tmp.path().join("config"));
        assert!(store.load().is_empty());
        let w = store.add(new_watch(&folder)).unwrap();
        assert_eq!(w.folder, std::fs::canonicalize(&folder).unwrap());
        let again = store.add(new_watch(&folder)).unwrap_err();
        assert!(
            again.message.contains("already kept uploaded"),
            "{}",
            again.message
        );
        assert_eq!(store.find(&w.id[..6]).unwrap(), w);
        assert!(store.set_paused(&w.id, true).unwrap().paused);
        let edit = WatchEdit {
            rhythm: Some(Rhythm::Every { secs: 3600 }),
            mirror_deletions: Some(true),
            ..WatchEdit::default()
        };
        let (before, after) = store.edit(&w.id, edit).unwrap();
        assert_eq!(before.rhythm, Rhythm::default());
        assert!(after.mirror_deletions && after.paused);
        assert_eq!(store.load(), vec![after]);
        store.remove(short_id(&w.id)).unwrap();
        assert!(store.load().is_empty());
        assert!(store.find(&w.id).unwrap_err().message.contains("no watch"));
    }

    #[test]
    fn only_folders_that_exist_can_be_watched() {
        let tmp = tempfile::tempdir().unwrap();
        let store = WatchStore::new(tmp.path());
        let missing = store.add(new_watch(&tmp.path().join("nope"))).unwrap_err();
        assert_eq!(missing.code, ErrorCode::InvalidPath);
        let file = tmp.path().join("file.txt");
        std::fs::write(&file, b"x").unwrap();
        let not_dir = store.add(new_watch(&file)).unwrap_err();
        assert!(not_dir.message.contains("is a file"), "{}", not_dir.message);
    }

    #[test]
    fn changes_from_many_threads_are_all_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let store = WatchStore::new(tmp.path());
        std::thread::scope(|s| {
            for t in 0..4 {
                let store = store.clone();
                let base = tmp.path().to_path_buf();
                s.spawn(move || {
                    for i in 0..10 {
                        let folder = base.join(format!("f{t}-{i}"));
                        std::fs::create_dir(&folder).unwrap();
                        store.add(new_watch(&folder)).unwrap();
                    }
                });
            }
        });
        assert_eq!(store.load().len(), 40);
    }

    #[test]
    fn only_one_process_runs_the_watches() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("run.lock");
        let held = try_lock(&path).unwrap();
        assert!(held.is_some());
        assert!(
            try_lock(&path).unwrap().is_none(),
            "a second holder is refused"
        );
        drop(held);
        assert!(try_lock(&path).unwrap().is_some());
    }
}

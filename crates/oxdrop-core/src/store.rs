//! A small JSON file in the data folder that several windows and commands may change: read,
//! changed and written back under a lock (`<name>.lock`), written atomically, and set aside
//! rather than overwritten when it cannot be read. The upload list and the history live in
//! such files.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, ErrorCode, Result, describe_io_error};
use crate::fs::{FileLock, now_unix, write_atomic};

#[derive(Debug, Clone)]
pub(crate) struct LockedJson {
    path: PathBuf,
    /// What the file holds, for messages ("the list of uploads").
    what: &'static str,
}

impl LockedJson {
    pub(crate) fn new(path: PathBuf, what: &'static str) -> LockedJson {
        LockedJson { path, what }
    }

    #[cfg(test)]
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The content; a missing file is an empty start, a damaged one is renamed
    /// (`<name>.damaged-<time>.json`) and an empty start made.
    pub(crate) fn load<T: DeserializeOwned + Default>(&self) -> T {
        let Ok(bytes) = std::fs::read(&self.path) else {
            return T::default();
        };
        match serde_json::from_slice::<T>(&bytes) {
            Ok(value) => value,
            Err(e) => {
                let aside = self
                    .path
                    .with_extension(format!("damaged-{}.json", now_unix()));
                tracing::warn!(path = %self.path.display(), aside = %aside.display(), error = %e, "unreadable; set aside");
                let _ = std::fs::rename(&self.path, aside);
                T::default()
            }
        }
    }

    /// Reads, lets `change` edit, writes back, all under the lock, so that two writers never
    /// lose each other's changes. Nothing is written when `change` fails.
    pub(crate) fn update<T, R>(&self, change: impl FnOnce(&mut T) -> Result<R>) -> Result<(T, R)>
    where
        T: Serialize + DeserializeOwned + Default,
    {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| self.unwritable(&e))?;
        let lock = self.path.with_extension("lock");
        let _lock = FileLock::acquire(&lock).map_err(|e| self.unwritable(&e))?;
        let mut value: T = self.load();
        let answer = change(&mut value)?;
        let bytes = serde_json::to_vec_pretty(&value).map_err(Error::internal)?;
        write_atomic(&self.path, &bytes).map_err(|e| self.unwritable(&e))?;
        Ok((value, answer))
    }

    fn unwritable(&self, e: &std::io::Error) -> Error {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        Error::new(
            ErrorCode::ConfigUnwritable,
            format!(
                "OxDrop cannot save {} in {}: {}. Free some space or fix the folder's permissions.",
                self.what,
                dir.display(),
                describe_io_error(e)
            ),
        )
        .retryable(false)
        .with_detail(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_from_many_threads_are_all_kept_and_a_damaged_file_is_set_aside() {
        let dir = tempfile::tempdir().unwrap();
        let file = LockedJson::new(dir.path().join("list.json"), "the list");
        std::thread::scope(|s| {
            for t in 0..4u32 {
                let file = &file;
                s.spawn(move || {
                    for n in 0..25u32 {
                        file.update(|v: &mut Vec<u32>| {
                            v.push(t * 100 + n);
                            Ok(())
                        })
                        .unwrap();
                    }
                });
            }
        });
        let mut all: Vec<u32> = file.load();
        all.sort_unstable();
        assert_eq!(all.len(), 100, "no change lost");
        std::fs::write(file.path(), b"{oops").unwrap();
        assert!(file.load::<Vec<u32>>().is_empty());
        let aside = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().contains("damaged"))
            .count();
        assert_eq!(aside, 1, "kept for the user");
    }

    #[test]
    fn a_failed_change_writes_nothing_and_an_unwritable_folder_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = LockedJson::new(dir.path().join("list.json"), "the list");
        let refused = file.update(|v: &mut Vec<u32>| {
            v.push(1);
            Err::<(), _>(Error::invalid_input("no"))
        });
        assert!(refused.is_err());
        assert!(!file.path().exists());
        let blocker = dir.path().join("blocker");
        std::fs::write(&blocker, b"x").unwrap();
        let bad = LockedJson::new(blocker.join("sub/list.json"), "the list");
        let err = bad.update(|_: &mut Vec<u32>| Ok(())).unwrap_err();
        assert_eq!(err.code, ErrorCode::ConfigUnwritable);
        assert!(err.message.contains("cannot save the list"), "{err:?}");
    }
}

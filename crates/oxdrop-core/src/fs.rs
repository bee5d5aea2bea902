//! Small file-system helpers shared by the settings, the upload journal, the plan and the engine.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

/// Writes `bytes` to `path` through a temporary file and a rename, so a crash leaves either the
/// old or the new content, never half of it. The temporary name is unique to this write (two
/// threads or processes writing at once never share one), and the folder is synced after the
/// rename so the new name survives a power cut.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    let tmp = path.with_file_name(format!(
        ".{name}.{}-{}.tmp",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    let written = (|| {
        let mut file = File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written?;
    sync_dir(path.parent().unwrap_or(Path::new(".")))
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Windows cannot open a folder as a file; its renames are durable once they return.
#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}

/// An OS lock on a file (`flock` on Unix), held while this value lives. The kernel frees it when
/// the process ends, however it ends, so a crash never leaves a stale lock. Another holder in
/// this same process (another open of the file) counts as another holder.
#[derive(Debug)]
pub(crate) struct FileLock {
    _file: File,
}

impl FileLock {
    fn open(path: &Path) -> std::io::Result<File> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
    }

    /// Waits until the lock is free and takes it.
    pub(crate) fn acquire(path: &Path) -> std::io::Result<FileLock> {
        let file = Self::open(path)?;
        file.lock()?;
        Ok(FileLock { _file: file })
    }

    /// Takes the lock if nobody holds it; `None` when someone does. A shared lock only keeps
    /// exclusive holders out.
    pub(crate) fn try_acquire(path: &Path, shared: bool) -> std::io::Result<Option<FileLock>> {
        let file = Self::open(path)?;
        let taken = if shared {
            file.try_lock_shared()
        } else {
            file.try_lock()
        };
        match taken {
            Ok(()) => Ok(Some(FileLock { _file: file })),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(e)) => Err(e),
        }
    }
}

/// Seconds since the epoch (0 on a clock set before 1970).
pub(crate) fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A file's modification time in nanoseconds since the epoch, to notice edits.
pub(crate) fn mtime_ns(meta: &std::fs::Metadata) -> Option<u128> {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_nanos())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_from_many_threads_never_share_a_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.json");
        std::thread::scope(|s| {
            for t in 0..4u8 {
                let path = &path;
                s.spawn(move || {
                    for _ in 0..50 {
                        write_atomic(path, &[t; 4096]).unwrap();
                    }
                });
            }
        });
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes.len(), 4096);
        assert!(bytes.iter().all(|b| *b == bytes[0]), "one whole write");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(left.len(), 1, "no temporary file left: {left:?}");
    }

    #[test]
    fn a_held_lock_is_refused_until_released() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        let held = FileLock::try_acquire(&path, false).unwrap().unwrap();
        assert!(FileLock::try_acquire(&path, false).unwrap().is_none());
        assert!(FileLock::try_acquire(&path, true).unwrap().is_none());
        drop(held);
        let shared = FileLock::try_acquire(&path, true).unwrap().unwrap();
        assert!(FileLock::try_acquire(&path, true).unwrap().is_some());
        assert!(FileLock::try_acquire(&path, false).unwrap().is_none());
        drop(shared);
        assert!(FileLock::acquire(&path).is_ok());
    }
}

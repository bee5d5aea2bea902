//! A planned file on this computer: reading it exactly as planned (or saying why not), hashing a
//! big one in one streaming pass, streaming its parts from disk, and choosing what to compress.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::sync::CancellationToken;

use super::GzipPolicy;
use super::progress::Tracker;
use crate::error::{Error, ErrorCode, Result, describe_io_error};
use crate::fs::mtime_ns;
use crate::hash::{hash_bytes, hash_reader, same_hash};
use crate::plan::PlannedFile;

/// The server inflates gzip parts only up to this size.
const GZIP_LIMIT: u64 = 10 << 20;

pub(super) fn part_len(size: u64, part_size: u64, n: u64) -> u64 {
    let offset = (n - 1) * part_size;
    part_size.min(size.saturating_sub(offset))
}

/// Reads part `n` straight from disk as the request body, counting bytes as they go out.
pub(super) async fn part_body(
    path: &Path,
    offset: u64,
    len: u64,
    tracker: Arc<Tracker>,
    counted: Arc<AtomicU64>,
) -> Result<reqwest::Body> {
    let mut file = tokio::fs::File::open(path)
        .await
        .map_err(|e| Error::local_io("read", path, &e).retryable(false))?;
    file.seek(std::io::SeekFrom::Start(offset))
        .await
        .map_err(|e| Error::local_io("read", path, &e).retryable(false))?;
    let reader = file.take(len);
    let stream =
        tokio_util::io::ReaderStream::with_capacity(reader, 256 << 10).inspect(move |chunk| {
            if let Ok(c) = chunk {
                tracker.add_bytes(c.len() as u64);
                counted.fetch_add(c.len() as u64, Ordering::Relaxed);
            }
        });
    Ok(reqwest::Body::wrap_stream(stream))
}

pub(super) fn file_changed(file: &PlannedFile) -> Error {
    Error::new(
        ErrorCode::FileChanged,
        format!(
            "{} changed after the upload was planned (its size, date or content is different), so it was not sent. Review the upload and send it again.",
            file.local
        ),
    )
}

pub(super) fn unreadable(file: &PlannedFile, e: &std::io::Error) -> Error {
    Error::new(
        ErrorCode::FileUnreadable,
        format!("Could not read {}: {}.", file.local, describe_io_error(e)),
    )
    .with_detail(e.to_string())
}

/// Opens the file and checks it is still as planned: the same size, and the same date if the plan
/// saw one.
fn open_as_planned(file: &PlannedFile) -> Result<(std::fs::File, std::fs::Metadata)> {
    let handle = std::fs::File::open(&file.local).map_err(|e| unreadable(file, &e))?;
    let before = handle.metadata().map_err(|e| unreadable(file, &e))?;
    if before.len() != file.size || (file.mtime_ns.is_some() && mtime_ns(&before) != file.mtime_ns)
    {
        return Err(file_changed(file));
    }
    Ok((handle, before))
}

/// After reading `read` bytes: all of the planned size, and the file not touched meanwhile.
fn check_unchanged_since(file: &PlannedFile, before: &std::fs::Metadata, read: u64) -> Result<()> {
    let after = std::fs::metadata(&file.local).map_err(|e| unreadable(file, &e))?;
    if read != file.size || after.len() != file.size || mtime_ns(&after) != mtime_ns(before) {
        return Err(file_changed(file));
    }
    Ok(())
}

/// The content hash must be the planned one, when the plan knew it (computed only then).
fn check_planned_hash(file: &PlannedFile, hash: impl FnOnce() -> String) -> Result<()> {
    match &file.hash {
        Some(planned) if !same_hash(planned, &hash()) => Err(file_changed(file)),
        _ => Ok(()),
    }
}

/// The file as planned, or why not: still there, same size and date before and after reading,
/// and the same content hash if the plan knew it.
pub(super) fn read_checked(file: &PlannedFile) -> Result<Bytes> {
    let (mut handle, before) = open_as_planned(file)?;
    let mut bytes = Vec::with_capacity(file.size as usize);
    handle
        .read_to_end(&mut bytes)
        .map_err(|e| unreadable(file, &e))?;
    check_unchanged_since(file, &before, bytes.len() as u64)?;
    check_planned_hash(file, || hash_bytes(&bytes))?;
    Ok(Bytes::from(bytes))
}

/// Hashes a big file in one streaming pass, checking it is still the file that was planned.
pub(super) fn hash_checked(file: &PlannedFile, stop: &CancellationToken) -> Result<String> {
    let (handle, before) = open_as_planned(file)?;
    let mut reader = StopReading {
        inner: handle,
        stop,
    };
    let (hash, read) = hash_reader(&mut reader).map_err(|e| {
        if stop.is_cancelled() {
            Error::cancelled()
        } else {
            unreadable(file, &e)
        }
    })?;
    check_unchanged_since(file, &before, read)?;
    check_planned_hash(file, || hash.clone())?;
    Ok(hash)
}

/// Reads until `stop` fires, then fails every read: a cancel ends the hashing of a big file
/// within one buffer.
struct StopReading<'a, R> {
    inner: R,
    stop: &'a CancellationToken,
}

impl<R: Read> Read for StopReading<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.stop.is_cancelled() {
            return Err(std::io::Error::other("cancelled"));
        }
        self.inner.read(buf)
    }
}

/// Names the server's multipart sanitizer (for `PUT /file`) leaves untouched.
pub(super) fn multipart_name_survives(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && !name.chars().all(|c| c == '.')
        && !name.chars().any(|c| {
            matches!(c, '/' | '\\' | '?' | '<' | '>' | ':' | '*' | '|' | '"') || c.is_control()
        })
}

/// Gzip is worth it for text-like content crossing a real network, never for media and archives
/// that are compressed already, and never on loopback where the CPU is the limit.
pub(super) fn wants_gzip(policy: GzipPolicy, remote_server: bool, file: &PlannedFile) -> bool {
    if file.size > GZIP_LIMIT || file.size < 512 {
        return false;
    }
    match policy {
        GzipPolicy::Never => false,
        GzipPolicy::Always => true,
        GzipPolicy::Auto => {
            const COMPRESSED: &[&str] = &[
                "jpg",
                "jpeg",
                "png",
                "gif",
                "webp",
                "avif",
                "heic",
                "mp3",
                "mp4",
                "m4a",
                "mov",
                "mkv",
                "webm",
                "ogg",
                "flac",
                "zip",
                "gz",
                "tgz",
                "bz2",
                "xz",
                "zst",
                "7z",
                "rar",
                "parquet",
                "arrow",
                "pdf",
                "docx",
                "xlsx",
                "pptx",
                "npz",
                "pt",
                "safetensors",
                "bin",
            ];
            let ext = file
                .remote
                .file_name()
                .rsplit_once('.')
                .map(|(_, e)| e.to_ascii_lowercase());
            remote_server && !ext.is_some_and(|e| COMPRESSED.contains(&e.as_str()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::FileStatus;
    use crate::remote_path::RemotePath;

    fn pf(name: &str, size: u64) -> PlannedFile {
        PlannedFile {
            local: "/x".into(),
            remote: RemotePath::parse(name).unwrap(),
            size,
            status: FileStatus::New,
            hash: None,
            remote_hash: None,
            mtime_ns: None,
            remote_commit: None,
        }
    }

    #[test]
    fn gzip_only_where_it_pays() {
        assert!(wants_gzip(GzipPolicy::Auto, true, &pf("a.csv", 4096)));
        assert!(
            !wants_gzip(GzipPolicy::Auto, false, &pf("a.csv", 4096)),
            "loopback"
        );
        assert!(
            !wants_gzip(GzipPolicy::Auto, true, &pf("a.JPG", 4096)),
            "compressed media"
        );
        assert!(
            !wants_gzip(GzipPolicy::Always, true, &pf("a.csv", GZIP_LIMIT + 1)),
            "server limit"
        );
        assert!(
            !wants_gzip(GzipPolicy::Always, true, &pf("a.csv", 10)),
            "tiny"
        );
    }

    #[test]
    fn part_lengths_cover_the_file_exactly() {
        let size: u64 = 25 * 1024 + 7;
        let part = 10 * 1024;
        let n = size.div_ceil(part);
        let total: u64 = (1..=n).map(|i| part_len(size, part, i)).sum();
        assert_eq!(total, size);
        assert_eq!(part_len(size, part, 3), 5 * 1024 + 7);
    }

    #[test]
    fn read_checked_notices_edits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.txt");
        std::fs::write(&path, b"hello").unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        let mut file = pf("f.txt", 5);
        file.local = path.to_string_lossy().into_owned();
        file.mtime_ns = mtime_ns(&meta);
        assert_eq!(&read_checked(&file).unwrap()[..], b"hello");
        file.hash = Some(hash_bytes(b"other"));
        assert_eq!(
            read_checked(&file).unwrap_err().code,
            ErrorCode::FileChanged
        );
        file.hash = None;
        std::fs::write(&path, b"hello world").unwrap();
        assert_eq!(
            read_checked(&file).unwrap_err().code,
            ErrorCode::FileChanged
        );
        std::fs::remove_file(&path).unwrap();
        let gone = read_checked(&file).unwrap_err();
        assert_eq!(gone.code, ErrorCode::FileUnreadable);
        assert!(gone.message.contains("no longer exists"));
    }

    #[test]
    fn multipart_safe_names() {
        assert!(multipart_name_survives("photo 1.jpg"));
        assert!(multipart_name_survives("ünï.txt"));
        for bad in ["a:b", "a?", "..", "a|b", "q\"", "tab\t"] {
            assert!(!multipart_name_survives(bad), "{bad}");
        }
    }
}

//! A planned file on this computer: reading it exactly as planned (or saying why not), hashing a
//! big one in one streaming pass, streaming its parts from disk, and choosing what to compress.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use bytes::Bytes;
use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::sync::CancellationToken;

use super::GzipPolicy;
use super::progress::Tracker;
use crate::error::{Error, ErrorCode, Result, describe_io_error};
use crate::hash::{same_hash, to_hex};
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

pub(super) fn mtime_ns(meta: &std::fs::Metadata) -> Option<u128> {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos())
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

/// The file as planned, or why not: still there, same size and date before and after reading,
/// and the same content hash if the plan knew it.
pub(super) fn read_checked(file: &PlannedFile) -> Result<Bytes> {
    let path = Path::new(&file.local);
    let mut handle = std::fs::File::open(path).map_err(|e| unreadable(file, &e))?;
    let before = handle.metadata().map_err(|e| unreadable(file, &e))?;
    if before.len() != file.size || (file.mtime_ns.is_some() && mtime_ns(&before) != file.mtime_ns)
    {
        return Err(file_changed(file));
    }
    let mut bytes = Vec::with_capacity(file.size as usize);
    handle
        .read_to_end(&mut bytes)
        .map_err(|e| unreadable(file, &e))?;
    let after = std::fs::metadata(path).map_err(|e| unreadable(file, &e))?;
    if bytes.len() as u64 != file.size
        || after.len() != file.size
        || mtime_ns(&after) != mtime_ns(&before)
    {
        return Err(file_changed(file));
    }
    if let Some(planned) = &file.hash
        && !same_hash(planned, &crate::hash::hash_bytes(&bytes))
    {
        return Err(file_changed(file));
    }
    Ok(Bytes::from(bytes))
}

/// Hashes a big file in one streaming pass, checking it is still the file that was planned.
pub(super) fn hash_checked(file: &PlannedFile, stop: &CancellationToken) -> Result<String> {
    let path = Path::new(&file.local);
    let mut handle = std::fs::File::open(path).map_err(|e| unreadable(file, &e))?;
    let before = handle.metadata().map_err(|e| unreadable(file, &e))?;
    if before.len() != file.size || (file.mtime_ns.is_some() && mtime_ns(&before) != file.mtime_ns)
    {
        return Err(file_changed(file));
    }
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        if stop.is_cancelled() {
            return Err(Error::cancelled());
        }
        let n = match handle.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(unreadable(file, &e)),
        };
        hasher.update(&buf[..n]);
        total += n as u64;
    }
    let after = std::fs::metadata(path).map_err(|e| unreadable(file, &e))?;
    if total != file.size || after.len() != file.size || mtime_ns(&after) != mtime_ns(&before) {
        return Err(file_changed(file));
    }
    let hash = to_hex(hasher.digest128());
    if let Some(planned) = &file.hash
        && !same_hash(planned, &hash)
    {
        return Err(file_changed(file));
    }
    Ok(hash)
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
            mtime_ns: None,
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
        file.hash = Some(crate::hash::hash_bytes(b"other"));
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

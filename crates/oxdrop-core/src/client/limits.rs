//! What OxDrop accepts of a server's answers, so that a broken or hostile server cannot make it
//! read, list or plan without end: answer sizes, folder listings, part layouts. Each check is a
//! plain function (property-tested in `tests/fuzz.rs`); a violation is a `BadResponse` error in
//! plain words, never a panic and never an allocation the server chose.

use std::collections::HashSet;
use std::hash::{Hash, Hasher};

use crate::error::{Error, ErrorCode, Result};

/// The most of a JSON answer OxDrop reads: the largest real one (a listing page of 1,000 entries
/// with their commits) is well under 2 MiB.
pub const MAX_JSON_BODY: usize = 16 << 20;
/// The most of an error answer OxDrop reads; the rest is cut off, not refused.
pub const MAX_ERROR_BODY: usize = 64 << 10;
/// Folder listings: pages and entries read before the listing is called endless.
pub const MAX_DIR_PAGES: u32 = 100_000;
pub const MAX_DIR_ENTRIES: u64 = 10_000_000;
/// Part uploads: the smallest part a server may ask for (unless the file is smaller), the
/// largest, and the most parts (oxen-server asks for 10 MiB parts, and at most 10,000 of them).
pub const MIN_PART_SIZE: u64 = 64 << 10;
pub const MAX_PART_SIZE: u64 = 5 << 30;
pub const MAX_PARTS: u64 = 100_000;

/// An answer body being read, refused as soon as it passes `limit` bytes.
#[derive(Debug)]
pub struct CappedBody {
    bytes: Vec<u8>,
    limit: usize,
}

impl CappedBody {
    /// Refuses at once an answer that announces more than `limit` bytes; reserves no more than
    /// `limit` for one that announces less.
    pub fn new(limit: usize, declared: Option<u64>) -> Result<CappedBody> {
        if declared.is_some_and(|n| n > limit as u64) {
            return Err(oversized(limit));
        }
        let reserve = declared.map_or(0, |n| n as usize).min(limit);
        Ok(CappedBody {
            bytes: Vec::with_capacity(reserve),
            limit,
        })
    }

    pub fn push(&mut self, chunk: &[u8]) -> Result<()> {
        if chunk.len() > self.limit - self.bytes.len() {
            return Err(oversized(self.limit));
        }
        self.bytes.extend_from_slice(chunk);
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

fn oversized(limit: usize) -> Error {
    Error::new(
        ErrorCode::BadResponse,
        "The server sent an answer far larger than expected, so OxDrop stopped reading it. \
         Check the server address; if it is right, tell whoever runs the server.",
    )
    .with_detail(format!("answer over {limit} bytes"))
}

/// Reading every page of a folder listing without trusting the server's page count: it ends at
/// the last page, at an empty page, or in an error when a page comes back again or the listing
/// passes [`MAX_DIR_PAGES`] or [`MAX_DIR_ENTRIES`].
#[derive(Debug)]
pub struct PageWalk {
    next: u32,
    entries: u64,
    seen: HashSet<u64>,
}

impl Default for PageWalk {
    fn default() -> Self {
        PageWalk {
            next: 1,
            entries: 0,
            seen: HashSet::new(),
        }
    }
}

impl PageWalk {
    /// The page to read next (1-based).
    pub fn page(&self) -> u32 {
        self.next
    }

    /// Takes what the page from [`PageWalk::page`] held: its entry names and the page count it
    /// claims. `Ok(true)` when another page must be read.
    pub fn after_page<'a>(
        &mut self,
        names: impl ExactSizeIterator<Item = &'a str>,
        total_pages: u32,
    ) -> Result<bool> {
        let count = names.len() as u64;
        if count == 0 {
            return Ok(false);
        }
        if !self.seen.insert(page_fingerprint(names)) {
            return Err(listing_error("it sent the same page twice"));
        }
        self.entries += count;
        if self.entries > MAX_DIR_ENTRIES {
            return Err(listing_error("it has more than 10,000,000 entries"));
        }
        if self.next >= total_pages {
            return Ok(false);
        }
        if self.next >= MAX_DIR_PAGES {
            return Err(listing_error("it has more than 100,000 pages"));
        }
        self.next += 1;
        Ok(true)
    }
}

fn page_fingerprint<'a>(names: impl Iterator<Item = &'a str>) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for name in names {
        name.hash(&mut hasher);
    }
    hasher.finish()
}

fn listing_error(why: &str) -> Error {
    Error::new(
        ErrorCode::BadResponse,
        format!(
            "The server's folder listing does not add up ({why}), so OxDrop stopped reading it. \
             Tell whoever runs the server."
        ),
    )
}

/// How the server asked for a file's parts, once checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartLayout {
    pub part_size: u64,
    pub num_parts: u64,
    /// Parts the server takes ahead of the first one it has not hashed (at most `num_parts`).
    pub part_window: u64,
}

/// Checks the layout a server proposed for uploading `size` bytes in parts, before anything is
/// built from it: parts of [`MIN_PART_SIZE`] (or the whole file, when smaller) up to
/// [`MAX_PART_SIZE`], exactly enough of them, at most [`MAX_PARTS`], a window of at least one.
pub fn check_part_layout(
    size: u64,
    part_size: u64,
    num_parts: u64,
    part_window: u64,
) -> Result<PartLayout> {
    let refuse = |why: String| {
        Err(Error::new(
            ErrorCode::BadResponse,
            format!("The server proposed an upload layout OxDrop cannot follow ({why})."),
        )
        .retryable(false))
    };
    if size == 0 {
        return refuse("an empty file in parts".into());
    }
    if part_size < MIN_PART_SIZE.min(size) {
        return refuse(format!("parts of {part_size} bytes"));
    }
    if part_size > MAX_PART_SIZE {
        return refuse(format!("parts of {part_size} bytes"));
    }
    let expected = size.div_ceil(part_size);
    if num_parts != expected {
        return refuse(format!("{num_parts} parts where {expected} are needed"));
    }
    if num_parts > MAX_PARTS {
        return refuse(format!("{num_parts} parts"));
    }
    if part_window == 0 {
        return refuse("no part at a time".into());
    }
    Ok(PartLayout {
        part_size,
        num_parts,
        part_window: part_window.min(num_parts),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_capped_declared_or_not() {
        assert!(CappedBody::new(10, Some(11)).is_err());
        let mut body = CappedBody::new(10, None).unwrap();
        body.push(b"12345").unwrap();
        body.push(b"12345").unwrap();
        assert_eq!(body.push(b"!").unwrap_err().code, ErrorCode::BadResponse);
        assert_eq!(body.into_bytes(), b"1234512345");
    }

    #[test]
    fn listings_end_or_fail_but_never_run_on() {
        let mut walk = PageWalk::default();
        assert!(walk.after_page(["a", "b"].into_iter(), 3).unwrap());
        assert_eq!(walk.page(), 2);
        let again = walk.after_page(["a", "b"].into_iter(), 3).unwrap_err();
        assert!(
            again.message.contains("same page twice"),
            "{}",
            again.message
        );
        let mut walk = PageWalk::default();
        assert!(walk.after_page(["a"].into_iter(), u32::MAX).unwrap());
        assert!(
            !walk.after_page([].into_iter(), u32::MAX).unwrap(),
            "empty page ends"
        );
        let mut walk = PageWalk::default();
        assert!(
            !walk.after_page(["a"].into_iter(), 0).unwrap(),
            "a count of 0 is one page"
        );
    }

    #[test]
    fn part_layouts_are_checked_before_use() {
        let ten_mib = 10 << 20;
        let ok = check_part_layout(96 << 20, ten_mib, 10, 102).unwrap();
        assert_eq!(ok.part_window, 10, "window no wider than the parts");
        for (size, part, parts, window) in [
            (96 << 20, 1, 96 << 20, 1),
            (96 << 20, ten_mib, 11, 1),
            (96 << 20, ten_mib, 10, 0),
            (96 << 20, 6 << 30, 1, 1),
            (1 << 40, 1 << 20, 1 << 20, 1),
            (0, ten_mib, 0, 1),
        ] {
            let err = check_part_layout(size, part, parts, window).unwrap_err();
            assert_eq!(err.code, ErrorCode::BadResponse);
            assert!(!err.retryable);
        }
        assert!(
            check_part_layout(1000, 1000, 1, 1).is_ok(),
            "a small file in one part"
        );
    }
}

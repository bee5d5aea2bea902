//! Paths inside a repository, checked before anything is sent.
//!
//! The rules are oxen-server 0.65.2's own (liboxen `util/fs.rs`), so a path refused here would be
//! refused by the server too.

use std::fmt;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{Error, ErrorCode, Result};

fn invalid_path(message: String) -> Error {
    Error::new(ErrorCode::InvalidPath, message)
}

/// A path inside a repository: relative, `/`-separated, normalised, never escaping the tree and
/// never touching `.oxen`. The empty path is the repository root.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize, TS)]
#[serde(try_from = "String", into = "String")]
#[ts(type = "string")]
pub struct RemotePath(String);

impl RemotePath {
    pub fn root() -> Self {
        RemotePath(String::new())
    }

    /// Parses a path typed by a user or sent by a caller. `.` segments and repeated or trailing
    /// slashes are dropped; `..`, absolute paths, backslashes and `.oxen` are refused with the
    /// reason.
    pub fn parse(raw: &str) -> Result<Self> {
        if raw.starts_with('/') || raw.starts_with('\\') {
            return Err(invalid_path(format!(
                "'{raw}' is an absolute path. Give a folder inside the repository, such as \
                 'images/2024', or leave it empty for the top level."
            )));
        }
        let mut parts: Vec<&str> = Vec::new();
        for segment in raw.split('/') {
            match segment {
                "" | "." => {}
                ".." => {
                    return Err(invalid_path(format!(
                        "'{raw}' points outside the repository: it has a '..' part."
                    )));
                }
                _ => parts.push(segment),
            }
        }
        RemotePath::checked(parts.join("/"), raw)
    }

    /// The one check every path passes, however it was made (parsed, joined or read back from
    /// a journal): what the server could misread or refuse never becomes a `RemotePath`.
    fn checked(path: String, shown: &str) -> Result<Self> {
        if let Some(drive) = drive_prefix(&path) {
            return Err(invalid_path(format!(
                "'{shown}' cannot be used in a repository: it starts with '{drive}', which \
                 Windows reads as a drive. Rename it, or put it inside a folder."
            )));
        }
        for segment in path.split('/') {
            check_segment(segment).map_err(|why| {
                invalid_path(format!("'{shown}' cannot be used in a repository: {why}."))
            })?;
        }
        Ok(RemotePath(path))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// Appends one file or folder name; the result is checked like any path.
    pub fn join(&self, name: &str) -> Result<Self> {
        if name.is_empty() || name == "." || name == ".." || name.contains('/') {
            return Err(invalid_path(format!(
                "'{name}' cannot be used as a file name in a repository."
            )));
        }
        let path = if self.0.is_empty() {
            name.to_owned()
        } else {
            format!("{}/{}", self.0, name)
        };
        RemotePath::checked(path, name)
    }

    /// The folder holding this path (root for a top-level entry).
    pub fn parent(&self) -> RemotePath {
        match self.0.rsplit_once('/') {
            Some((parent, _)) => RemotePath(parent.to_owned()),
            None => RemotePath::root(),
        }
    }

    pub fn file_name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or("")
    }

    /// Every ancestor folder, nearest last, root excluded: `a/b/c` → `a`, `a/b`.
    pub fn ancestors(&self) -> impl Iterator<Item = &str> {
        self.0.match_indices('/').map(|(i, _)| &self.0[..i])
    }

    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split('/').filter(|s| !s.is_empty())
    }
}

/// `C:` at the start of a path: a drive to Windows, so never a path inside a repository.
fn drive_prefix(path: &str) -> Option<&str> {
    let bytes = path.as_bytes();
    (bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':').then(|| &path[..2])
}

/// One path component: not `.oxen` in any of the forms the server refuses, no control characters,
/// no backslash (Oxen turns it into a folder separator).
fn check_segment(segment: &str) -> std::result::Result<(), String> {
    let lower = segment.to_ascii_lowercase();
    let oxen_like = lower == ".oxen"
        || lower.trim_end_matches(['.', ' ']) == ".oxen"
        || lower.starts_with(".oxen:")
        || (lower.starts_with("oxen~") && lower[5..].chars().all(|c| c.is_ascii_digit()));
    if oxen_like {
        return Err("'.oxen' is Oxen's own folder".into());
    }
    if segment.contains('\\') {
        return Err(
            "it contains a backslash ('\\'), which Oxen reads as a folder separator; rename it"
                .into(),
        );
    }
    if let Some(c) = segment.chars().find(|c| c.is_control()) {
        return Err(format!(
            "it contains the control character '{}'",
            c.escape_default()
        ));
    }
    if segment.len() > 255 {
        return Err("a name is longer than 255 bytes".into());
    }
    Ok(())
}

impl fmt::Display for RemotePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("/")
        } else {
            f.write_str(&self.0)
        }
    }
}

impl fmt::Debug for RemotePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RemotePath({:?})", self.0)
    }
}

impl TryFrom<String> for RemotePath {
    type Error = Error;
    fn try_from(value: String) -> Result<Self> {
        RemotePath::parse(&value)
    }
}

impl From<RemotePath> for String {
    fn from(value: RemotePath) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_paths_normalise() {
        assert_eq!(RemotePath::parse("").unwrap().as_str(), "");
        assert_eq!(RemotePath::parse("./a//b/./c/").unwrap().as_str(), "a/b/c");
        assert_eq!(RemotePath::parse("images").unwrap().as_str(), "images");
        assert_eq!(RemotePath::parse("ünï/日本").unwrap().as_str(), "ünï/日本");
    }

    #[test]
    fn remote_paths_refuse_escapes_and_oxen() {
        for bad in [
            "/abs",
            "\\abs",
            "C:/x",
            "a/../b",
            "..",
            ".oxen",
            "a/.OXEN/b",
            ".oxen.",
            ".oxen:s",
            "OXEN~1",
            "a\nb",
            // Found by the property test: absolute only once `./` is dropped.
            "./\\",
            ".//C:",
            // Oxen reads a backslash as a folder separator.
            "a\\b",
            "a/b\\",
        ] {
            let err = RemotePath::parse(bad).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidPath, "{bad:?}");
        }
        assert!(
            RemotePath::parse("a/../b")
                .unwrap_err()
                .message
                .contains("'..'")
        );
    }

    #[test]
    fn remote_path_helpers() {
        let p = RemotePath::parse("a/b/c.txt").unwrap();
        assert_eq!(p.parent().as_str(), "a/b");
        assert_eq!(p.file_name(), "c.txt");
        assert_eq!(p.ancestors().collect::<Vec<_>>(), vec!["a", "a/b"]);
        assert_eq!(RemotePath::root().join("x").unwrap().as_str(), "x");
        assert!(p.join("..").is_err());
        assert!(p.join("a/b").is_err());
        assert!(p.join(".oxen").is_err());
    }

    #[test]
    fn joined_names_pass_the_same_check_as_parsed_paths() {
        let root = RemotePath::root();
        let folder = RemotePath::parse("photos").unwrap();
        for (parent, name) in [
            (&root, "C:"),
            (&root, "c:notes.txt"),
            (&root, "\\server"),
            (&folder, "back\\slash.txt"),
            (&folder, ".oxen"),
        ] {
            let err = parent.join(name).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidPath, "{name:?}");
            assert!(err.message.contains(name), "{name:?}: {}", err.message);
        }
        assert!(
            root.join("C:")
                .unwrap_err()
                .message
                .contains("Windows reads as a drive")
        );
        // Inside a folder, a colon is just a character.
        let inner = folder.join("C:").unwrap();
        assert_eq!(RemotePath::parse(inner.as_str()).unwrap(), inner);
        // Whatever join makes reads back, as a journal reads it.
        let json = serde_json::to_string(&inner).unwrap();
        assert_eq!(serde_json::from_str::<RemotePath>(&json).unwrap(), inner);
        assert!(serde_json::from_str::<RemotePath>("\"C:\"").is_err());
    }
}

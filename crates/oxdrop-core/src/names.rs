//! Names and repository paths, checked before anything is sent.
//!
//! The rules are oxen-server 0.65.2's own (liboxen `repositories.rs`, `ref_manager.rs`,
//! `util/fs.rs`), so a name refused here would be refused by the server too, and a name accepted
//! here is never turned into a 500 by the server.

use std::fmt;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{Error, ErrorCode, Result};

fn invalid_name(message: String) -> Error {
    Error::new(ErrorCode::InvalidName, message)
}

fn invalid_path(message: String) -> Error {
    Error::new(ErrorCode::InvalidPath, message)
}

/// `^[A-Za-z0-9][A-Za-z0-9_.-]+$`: at least two ASCII characters.
pub fn check_repo_name(name: &str) -> Result<()> {
    let mut chars = name.chars();
    let ok = match chars.next() {
        Some(first) if first.is_ascii_alphanumeric() => {
            let rest: Vec<char> = chars.collect();
            !rest.is_empty()
                && rest
                    .iter()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(invalid_name(format!(
            "Invalid repository name '{name}'. A repository name is at least 2 characters long, \
             starts with a letter or digit, and uses only letters, digits, '_', '-' and '.'."
        )))
    }
}

/// `^[A-Za-z0-9][A-Za-z0-9_-]{1,49}$`, and not one of the server's own folder names.
pub fn check_namespace(name: &str) -> Result<()> {
    let len = name.chars().count();
    let mut chars = name.chars();
    let shape_ok = (2..=50).contains(&len)
        && chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'));
    if !shape_ok {
        return Err(invalid_name(format!(
            "Invalid namespace name '{name}'. A namespace is 2 to 50 characters long, starts with \
             a letter or digit, and uses only letters, digits, '_' and '-'."
        )));
    }
    if name.eq_ignore_ascii_case("repo") || name.eq_ignore_ascii_case("name_table") {
        return Err(invalid_name(format!(
            "'{name}' is reserved by the server and cannot be used as a namespace."
        )));
    }
    Ok(())
}

/// The server's branch-name rules, plus what cannot travel safely in its URLs.
pub fn check_branch_name(name: &str) -> Result<()> {
    let refuse = |why: &str| {
        Err(invalid_name(format!(
            "'{name}' is not a valid branch name: {why}."
        )))
    };
    if name.is_empty() {
        return Err(invalid_name("A branch needs a name.".into()));
    }
    if name.trim() != name || name.contains(' ') {
        return refuse("branch names cannot contain spaces");
    }
    for bad in ["..", "@{"] {
        if name.contains(bad) {
            return refuse(&format!("it cannot contain '{bad}'"));
        }
    }
    if let Some(c) = name
        .chars()
        .find(|c| matches!(c, '~' | '^' | ':' | '?' | '[' | '*' | '\\' | '%') || c.is_control())
    {
        return refuse(&format!("it cannot contain '{}'", c.escape_default()));
    }
    if name == "@" {
        return refuse("'@' alone is reserved");
    }
    if name.ends_with('.') {
        return refuse("it cannot end with '.'");
    }
    if name.starts_with('/') || name.ends_with('/') || name.contains("//") {
        return refuse("slashes must separate words, as in 'feature/images'");
    }
    Ok(())
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
    /// slashes are dropped; `..`, absolute paths and `.oxen` are refused with the reason.
    pub fn parse(raw: &str) -> Result<Self> {
        let absolute = || {
            invalid_path(format!(
                "'{raw}' is an absolute path. Give a folder inside the repository, such as \
                 'images/2024', or leave it empty for the top level."
            ))
        };
        if raw.starts_with('/') || raw.starts_with('\\') || has_drive_prefix(raw) {
            return Err(absolute());
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
                _ => {
                    check_segment(segment).map_err(|why| {
                        invalid_path(format!("'{raw}' cannot be used in a repository: {why}."))
                    })?;
                    parts.push(segment);
                }
            }
        }
        let path = parts.join("/");
        // `./\\x` or `./C:` only look absolute once the `.` is gone: check the result too.
        if path.starts_with('\\') || has_drive_prefix(&path) {
            return Err(absolute());
        }
        Ok(RemotePath(path))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// Appends one file or folder name, checked like any segment.
    pub fn join(&self, name: &str) -> Result<Self> {
        if name.is_empty() || name == "." || name == ".." || name.contains('/') {
            return Err(invalid_path(format!(
                "'{name}' cannot be used as a file name in a repository."
            )));
        }
        check_segment(name).map_err(|why| {
            invalid_path(format!("'{name}' cannot be used in a repository: {why}."))
        })?;
        Ok(if self.0.is_empty() {
            RemotePath(name.to_owned())
        } else {
            RemotePath(format!("{}/{}", self.0, name))
        })
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

fn has_drive_prefix(raw: &str) -> bool {
    let bytes = raw.as_bytes();
    bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':'
}

/// One path component: not `.oxen` in any of the forms the server refuses, no control characters.
fn check_segment(segment: &str) -> std::result::Result<(), String> {
    let lower = segment.to_ascii_lowercase();
    let oxen_like = lower == ".oxen"
        || lower.trim_end_matches(['.', ' ']) == ".oxen"
        || lower.starts_with(".oxen:")
        || (lower.starts_with("oxen~") && lower[5..].chars().all(|c| c.is_ascii_digit()));
    if oxen_like {
        return Err("'.oxen' is Oxen's own folder".into());
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

/// `namespace/name`, both checked.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]

pub struct RepoRef {
    pub namespace: String,
    pub name: String,
}

impl RepoRef {
    /// A reference to an existing repository. The server only needs each part to be one plain
    /// path segment here; repositories made by older servers may not meet today's creation rules,
    /// and must stay reachable.
    pub fn new(namespace: &str, name: &str) -> Result<Self> {
        for (what, part) in [("namespace", namespace), ("repository name", name)] {
            let plain = !part.is_empty()
                && part != "."
                && part != ".."
                && !part.contains(['/', '\\'])
                && !part.chars().any(char::is_control);
            if !plain {
                return Err(invalid_name(format!(
                    "'{part}' is not a valid {what}: it must be a single word without slashes."
                )));
            }
        }
        Ok(RepoRef {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        })
    }

    /// A reference for a repository about to be created: the server's creation rules.
    pub fn for_create(namespace: &str, name: &str) -> Result<Self> {
        check_namespace(namespace)?;
        check_repo_name(name)?;
        RepoRef::new(namespace, name)
    }

    /// Parses `namespace/name`.
    pub fn parse(text: &str) -> Result<Self> {
        match text.split_once('/') {
            Some((ns, name)) if !name.contains('/') => RepoRef::new(ns, name),
            _ => Err(invalid_name(format!(
                "'{text}' is not a repository. Write it as namespace/name, for example \
                 'my-team/photos'."
            ))),
        }
    }
}

impl fmt::Display for RepoRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_names() {
        for ok in ["ab", "cats", "my-data_v1.2", "A1"] {
            check_repo_name(ok).unwrap();
        }
        for bad in ["", "a", "-ab", ".ab", "my repo", "naïve", "a/b", "ab!"] {
            let err = check_repo_name(bad).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidName, "{bad}");
            assert!(err.message.contains("Invalid repository name"), "{bad}");
        }
    }

    #[test]
    fn namespaces() {
        for ok in ["ab", "my-org", "Team_1", &"a".repeat(50)] {
            check_namespace(ok).unwrap();
        }
        for bad in [
            "a",
            "a.b",
            "-ab",
            "my org",
            &"a".repeat(51),
            "repo",
            "Name_Table",
        ] {
            assert!(check_namespace(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn branch_names() {
        for ok in ["main", "feature/x", "v1.0-rc", "a+b", "ünï"] {
            check_branch_name(ok).unwrap();
        }
        for bad in [
            "", "a..b", "a~1", "a^", "a:b", "a?", "a[", "a*", "a\\b", "a b", "a@{1", "@", "ends.",
            "/lead", "trail/", "a//b", "50%", "tab\t",
        ] {
            let err = check_branch_name(bad).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidName, "{bad:?}");
        }
    }

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
    fn repo_ref_parse() {
        let r = RepoRef::parse("my-team/photos").unwrap();
        assert_eq!(r.to_string(), "my-team/photos");
        assert!(RepoRef::parse("photos").is_err());
        assert!(RepoRef::parse("a/b/c").is_err());
        assert!(RepoRef::parse("ns/..").is_err());
        assert!(RepoRef::for_create("ns", "my repo").is_err());
        RepoRef::new("legacy.ns", "x").unwrap();
    }
}

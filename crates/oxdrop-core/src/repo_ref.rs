//! Repository references and the names they are made of, checked before anything is sent.
//!
//! The rules are oxen-server 0.65.2's own (liboxen `repositories.rs`, `ref_manager.rs`), so a name
//! refused here would be refused by the server too, and a name accepted here is never turned into
//! a 500 by the server.

use std::fmt;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{Error, ErrorCode, Result};

fn invalid_name(message: String) -> Error {
    Error::new(ErrorCode::InvalidName, message)
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

//! Ignore rules in gitignore syntax: the repository's `.oxenignore` and the ignore list in
//! OxDrop's settings. Both are matched against repository paths, as Oxen matches them.
//!
//! Like Oxen (liboxen `core/oxenignore.rs`), only the `.oxenignore` at the top of the branch
//! counts, and one line it cannot read makes it ignore the whole file. OxDrop does the same, so it
//! uploads exactly what `oxen add` would, and says so in the plan's notes. The settings list is
//! OxDrop's own: a bad pattern there is skipped alone, also with a note.

use ignore::Match;
use ignore::gitignore::{Gitignore, GitignoreBuilder};

use super::PlanRequest;
use crate::client::OxenClient;
use crate::error::{ErrorCode, Result};
use crate::remote_path::RemotePath;

const OXENIGNORE: &str = ".oxenignore";
/// An `.oxenignore` is a few lines; a larger one is not read (and the plan says so).
const OXENIGNORE_MAX_BYTES: usize = 256 * 1024;
/// Where rules come from: the label of a rule ("<label>: <pattern>") and, in words, whose they are.
const REPO: (&str, &str) = (".oxenignore", "the repository's .oxenignore");
const SETTINGS: (&str, &str) = ("OxDrop settings", "your OxDrop ignore list");

/// One list of rules and where it came from.
struct RuleSet {
    matcher: Gitignore,
    source: (&'static str, &'static str),
}

/// The rule that left a path out.
pub(super) struct RuleMatch {
    /// `<label>: <pattern>`, as `.oxenignore: *.tmp`.
    pub rule: String,
    pub pattern: String,
    /// Whose rule it is, in words.
    pub whose: &'static str,
}

/// Every ignore rule that applies to one plan.
#[derive(Default)]
pub(super) struct IgnoreRules {
    sets: Vec<RuleSet>,
}

impl IgnoreRules {
    /// The rule that leaves `path` (or a folder above it) out.
    pub(super) fn matched(&self, path: &RemotePath, is_dir: bool) -> Option<RuleMatch> {
        self.sets.iter().find_map(|set| {
            match set
                .matcher
                .matched_path_or_any_parents(path.as_str(), is_dir)
            {
                Match::Ignore(glob) => Some(RuleMatch {
                    rule: format!("{}: {}", set.source.0, glob.original()),
                    pattern: glob.original().to_owned(),
                    whose: set.source.1,
                }),
                _ => None,
            }
        })
    }

    /// The branch's `.oxenignore` (when the branch has commits) and the settings list, with
    /// notes for the user about rules that could not be used.
    pub(super) async fn load(
        client: &OxenClient,
        request: &PlanRequest,
        head: Option<&str>,
    ) -> Result<(IgnoreRules, Vec<String>)> {
        let mut rules = IgnoreRules::default();
        let mut notes = Vec::new();
        if let Some(head) = head {
            let path = RemotePath::parse(OXENIGNORE)?;
            match client
                .download_small(&request.repo, head, &path, OXENIGNORE_MAX_BYTES)
                .await
            {
                Ok(Some(bytes)) => match oxenignore(&bytes) {
                    Ok(matcher) => rules.push(matcher, REPO),
                    Err(why) => notes.push(format!(
                        "The repository's .oxenignore was not used: {why}. Oxen ignores the whole file when one line is wrong, and so does OxDrop, so none of its rules apply to this upload. Fix that line on the branch to have them applied."
                    )),
                },
                Ok(None) => notes.push(format!(
                    "The repository's .oxenignore was not used: it is larger than {} KiB, which no list of rules needs.",
                    OXENIGNORE_MAX_BYTES / 1024
                )),
                Err(e) if e.code == ErrorCode::PathNotFound => {}
                Err(e) => return Err(e),
            }
        }
        let (matcher, bad) = settings_list(&request.ignore_patterns);
        notes.extend(bad);
        rules.push(matcher, SETTINGS);
        Ok((rules, notes))
    }

    /// Rules from the settings' patterns only (the walk's tests use it).
    #[cfg(test)]
    pub(super) fn from_settings(patterns: &[String]) -> IgnoreRules {
        let mut rules = IgnoreRules::default();
        rules.push(settings_list(patterns).0, SETTINGS);
        rules
    }

    fn push(&mut self, matcher: Gitignore, source: (&'static str, &'static str)) {
        if !matcher.is_empty() {
            self.sets.push(RuleSet { matcher, source });
        }
    }
}

fn builder() -> GitignoreBuilder {
    // Paths are matched relative to the repository root; this root never prefixes them.
    GitignoreBuilder::new("")
}

/// An `.oxenignore`'s rules, or why it cannot be used: like Oxen, any line it cannot read (not
/// text, or not a valid pattern) spoils the whole file.
fn oxenignore(bytes: &[u8]) -> std::result::Result<Gitignore, String> {
    let mut builder = builder();
    for (index, raw) in bytes.split(|b| *b == b'\n').enumerate() {
        let number = index + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let Ok(mut line) = std::str::from_utf8(raw) else {
            return Err(format!("line {number} is not valid text (UTF-8)"));
        };
        if index == 0 {
            line = line.trim_start_matches('\u{feff}');
        }
        if builder.add_line(None, line).is_err() {
            return Err(format!("line {number} ('{line}') is not a valid pattern"));
        }
    }
    builder
        .build()
        .map_err(|e| format!("its rules could not be read ({e})"))
}

/// The settings' patterns: a bad one is left out alone, with a note.
fn settings_list(patterns: &[String]) -> (Gitignore, Vec<String>) {
    let mut builder = builder();
    let mut notes = Vec::new();
    for pattern in patterns {
        if builder.add_line(None, pattern).is_err() {
            notes.push(format!(
                "The pattern '{pattern}' in OxDrop's ignore list is not valid, so it was not used. Fix it in the settings."
            ));
        }
    }
    match builder.build() {
        Ok(matcher) => (matcher, notes),
        Err(e) => {
            notes.push(format!(
                "OxDrop's ignore list was not used: its rules could not be read ({e})."
            ));
            (Gitignore::empty(), notes)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(p: &str) -> RemotePath {
        RemotePath::parse(p).unwrap()
    }

    fn rules_of(text: &str) -> IgnoreRules {
        let mut rules = IgnoreRules::default();
        rules.push(oxenignore(text.as_bytes()).unwrap(), REPO);
        rules
    }

    #[test]
    fn oxenignore_rules_match_repository_paths_and_name_the_rule() {
        let rules = rules_of("\u{feff}# comment\r\n*.tmp\r\nbuild/\n/top.txt\n!keep.tmp\n");
        let m = |p: &str, dir: bool| rules.matched(&path(p), dir).map(|m| m.rule);
        assert_eq!(m("a/b/x.tmp", false).as_deref(), Some(".oxenignore: *.tmp"));
        assert_eq!(
            m("data/build", true).as_deref(),
            Some(".oxenignore: build/")
        );
        assert_eq!(
            m("build/deep/file.txt", false).as_deref(),
            Some(".oxenignore: build/")
        );
        assert_eq!(m("build", false), None, "build/ matches folders only");
        assert_eq!(
            m("top.txt", false).as_deref(),
            Some(".oxenignore: /top.txt")
        );
        assert_eq!(m("sub/top.txt", false), None, "anchored to the top");
        assert_eq!(m("keep.tmp", false), None, "a negation keeps it");
        assert_eq!(m("x.csv", false), None);
    }

    #[test]
    fn one_bad_line_spoils_the_whole_oxenignore_as_in_oxen() {
        let err = oxenignore(b"*.tmp\n[z-a\n").err().unwrap();
        assert!(err.contains("line 2") && err.contains("[z-a"), "{err}");
        let err = oxenignore(b"*.tmp\n\xff\xfe\n").err().unwrap();
        assert!(
            err.contains("line 2") && err.contains("not valid text"),
            "{err}"
        );
        assert!(oxenignore(b"").unwrap().is_empty());
    }

    #[test]
    fn a_bad_settings_pattern_is_skipped_alone() {
        let (matcher, notes) = settings_list(&["*.bak".into(), "[z-a".into()]);
        assert_eq!(notes.len(), 1);
        assert!(notes[0].contains("'[z-a'"), "{}", notes[0]);
        let mut rules = IgnoreRules::default();
        rules.push(matcher, SETTINGS);
        let found = rules.matched(&path("x/y.bak"), false).unwrap();
        assert_eq!(found.rule, "OxDrop settings: *.bak");
        assert_eq!(found.whose, "your OxDrop ignore list");
    }
}

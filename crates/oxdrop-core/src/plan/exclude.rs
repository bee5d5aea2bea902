//! What a plan leaves out on purpose, and why: links that lead out of what was dropped, the
//! clutter operating systems and editors leave behind, and files matched by an ignore rule.
//!
//! A refusal says "this cannot be uploaded"; an exclusion says "this was left out on purpose, and
//! you can change that" (follow the links, edit the ignore rules, or drop the file itself).

use std::path::Path;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::ignore::IgnoreRules;
use crate::remote_path::RemotePath;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ExclusionReason {
    /// A symbolic link whose target lies outside the dropped folder: not followed unless asked.
    LinkOutside,
    /// A file the operating system or an editor leaves behind (`.DS_Store`, lock and swap files).
    SystemClutter,
    /// Matched by the repository's `.oxenignore` or the ignore list in OxDrop's settings.
    Ignored,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct Exclusion {
    /// The local path, as it can be shown.
    pub local: String,
    pub remote: RemotePath,
    /// A whole folder was left out (reported once, not file by file).
    pub folder: bool,
    pub reason: ExclusionReason,
    /// The rule that matched, as `.oxenignore: *.tmp` or `OxDrop settings: *.bak`.
    pub rule: Option<String>,
    /// Where a link leads (for `link_outside`).
    pub target: Option<String>,
    /// What was left out and why, for people.
    pub message: String,
}

/// What one plan leaves out.
#[derive(Default)]
pub(super) struct ExcludeRules {
    pub ignore: IgnoreRules,
    /// Follow links that lead outside a dropped folder too.
    pub follow_links: bool,
}

impl ExcludeRules {
    /// Why an item found while walking is left out, if it is, by its name and its rules.
    /// `dropped` is an item the user chose themselves: never taken for clutter.
    pub(super) fn by_name(
        &self,
        local: &Path,
        remote: &RemotePath,
        is_dir: bool,
        dropped: bool,
    ) -> Option<Exclusion> {
        let shown = display(remote, is_dir);
        if let Some(found) = self.ignore.matched(remote, is_dir) {
            let message = format!(
                "{shown}: left out by the rule '{}' in {}.",
                found.pattern, found.whose
            );
            let mut e = Exclusion::new(
                local,
                remote.clone(),
                is_dir,
                ExclusionReason::Ignored,
                message,
            );
            e.rule = Some(found.rule);
            return Some(e);
        }
        if dropped {
            return None;
        }
        let what = clutter(remote.file_name(), is_dir)?;
        let message =
            format!("{shown}: {what}, a system file nobody means to share — not uploaded.");
        Some(Exclusion::new(
            local,
            remote.clone(),
            is_dir,
            ExclusionReason::SystemClutter,
            message,
        ))
    }
}

/// A link that resolves outside the dropped folder, which is not followed.
pub(super) fn link_outside(
    local: &Path,
    remote: &RemotePath,
    is_dir: bool,
    target: &Path,
) -> Exclusion {
    let shown = display(remote, is_dir);
    let message = format!(
        "{shown}: link to outside the folder — not uploaded. It points to {}.",
        target.display()
    );
    let mut e = Exclusion::new(
        local,
        remote.clone(),
        is_dir,
        ExclusionReason::LinkOutside,
        message,
    );
    e.target = Some(target.display().to_string());
    e
}

fn display(remote: &RemotePath, is_dir: bool) -> String {
    if is_dir {
        format!("{remote}/")
    } else {
        remote.to_string()
    }
}

/// Files and folders that operating systems and editors leave beside people's files. Nobody means
/// to put them in a repository, and some tell more than they seem (`.DS_Store` lists a folder's
/// names, `Thumbs.db` keeps thumbnails of its pictures, even deleted ones), so they are left out
/// unless dropped by themselves. The OSes that make the first ones compare names without case,
/// so they are matched without case too; editors' leftovers come from case-sensitive systems
/// and are matched exactly.
const OS_FILES: &[(&str, &str)] = &[
    (".DS_Store", "macOS's record of how a folder is shown"),
    ("Thumbs.db", "Windows' cache of picture thumbnails"),
    ("ehthumbs.db", "Windows Media Center's cache of thumbnails"),
    ("desktop.ini", "Windows' settings for how a folder is shown"),
];
const OS_FOLDERS: &[(&str, &str)] = &[("__MACOSX", "macOS's extra data from a zip file")];
/// (starts with, ends with, what): lock, swap and backup files of office programs and editors.
const LEFTOVERS: &[(&str, &str, &str)] = &[
    ("~$", "", "an Office lock file"),
    (".~lock.", "#", "a LibreOffice lock file"),
    ("", ".swp", "an editor's swap file"),
    ("", ".swo", "an editor's swap file"),
    ("", "~", "an editor's backup copy"),
    (".#", "", "an Emacs lock file"),
];

/// What the clutter named `name` is, if it is clutter.
pub(super) fn clutter(name: &str, is_dir: bool) -> Option<&'static str> {
    if is_dir {
        return OS_FOLDERS
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, what)| *what);
    }
    if let Some((_, what)) = OS_FILES.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
        return Some(what);
    }
    LEFTOVERS
        .iter()
        .find(|(start, end, _)| {
            name.len() > start.len() + end.len() && name.starts_with(start) && name.ends_with(end)
        })
        .map(|(_, _, what)| *what)
}

impl Exclusion {
    pub(super) fn new(
        local: &Path,
        remote: RemotePath,
        folder: bool,
        reason: ExclusionReason,
        message: String,
    ) -> Exclusion {
        Exclusion {
            local: local.display().to_string(),
            remote,
            folder,
            reason,
            rule: None,
            target: None,
            message,
        }
    }
}

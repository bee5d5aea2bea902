//! The commit message of a watch: what changed, in a line someone reading the history
//! understands: "Watch instrument: 2 changed (a.csv, b.csv), 3 new (c.csv, d.csv, e.csv)".

use std::path::Path;

/// At most this many names per group; the rest are counted.
const NAMES: usize = 3;

/// Files by what happened to them (paths relative to the folder).
#[derive(Debug, Default)]
pub(crate) struct Changed {
    pub changed: Vec<String>,
    pub new: Vec<String>,
    pub removed: Vec<String>,
}

pub(crate) fn commit_message(folder: &Path, what: &Changed) -> String {
    let name = folder.file_name().map_or_else(
        || folder.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let groups: Vec<String> = [
        ("changed", &what.changed),
        ("new", &what.new),
        ("removed", &what.removed),
    ]
    .into_iter()
    .filter(|(_, files)| !files.is_empty())
    .map(|(label, files)| format!("{} {label} ({})", files.len(), names(files)))
    .collect();
    if groups.is_empty() {
        format!("Watch {name}")
    } else {
        format!("Watch {name}: {}", groups.join(", "))
    }
}

fn names(files: &[String]) -> String {
    let mut sorted: Vec<&str> = files.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    if sorted.len() <= NAMES {
        sorted.join(", ")
    } else {
        format!(
            "{} and {} more",
            sorted[..NAMES].join(", "),
            sorted.len() - NAMES
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    #[test]
    fn lists_what_changed() {
        let folder = Path::new("/data/instrument");
        let what = Changed {
            changed: list(&["b.csv", "a.csv"]),
            new: list(&["runs/1.bin", "runs/2.bin", "runs/3.bin", "runs/4.bin"]),
            removed: list(&["old.txt"]),
        };
        assert_eq!(
            commit_message(folder, &what),
            "Watch instrument: 2 changed (a.csv, b.csv), 4 new (runs/1.bin, runs/2.bin, runs/3.bin and 1 more), 1 removed (old.txt)"
        );
        let only_new = Changed {
            new: list(&["x"]),
            ..Changed::default()
        };
        assert_eq!(
            commit_message(folder, &only_new),
            "Watch instrument: 1 new (x)"
        );
    }
}

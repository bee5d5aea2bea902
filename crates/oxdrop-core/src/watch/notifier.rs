//! One OS notifier for every watched folder (inotify on Linux: one watch per folder, shared by
//! every program the user runs, so one instance for all), debounced, and turned into what the
//! watches need to hear: these paths changed, look at everything again, or notifications are
//! not available for this folder.

use std::path::{Path, PathBuf};
use std::time::Duration;

use notify_debouncer_full::notify::event::{AccessKind, AccessMode};
use notify_debouncer_full::notify::{self, EventKind, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer};
use tokio::sync::mpsc::UnboundedSender;

use crate::error::{Error, ErrorCode, Result};

/// Events of one path within this time come as one.
const DEBOUNCE: Duration = Duration::from_millis(500);

/// What the notifier tells the watches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Notice {
    /// Something happened at these paths (files or folders, absolute).
    Changed(Vec<PathBuf>),
    /// Events were lost (the kernel's queue overflowed): every folder must be looked at again.
    Rescan,
    /// The system's limit on watched folders was reached under these paths (all, if empty).
    TooManyFolders(Vec<PathBuf>),
}

/// How watching one folder failed.
#[derive(Debug)]
pub(crate) enum WatchFailure {
    /// The system's limit on watched folders was reached: fall back to rescans.
    TooManyFolders,
    Other(Error),
}

pub(crate) struct Notifier {
    debouncer: Debouncer<notify::RecommendedWatcher, RecommendedCache>,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Notifier")
    }
}

impl Notifier {
    /// Notices go to `tx`; the handler never blocks (the channel is unbounded), so the OS queue
    /// is read as fast as it fills.
    pub(crate) fn new(tx: UnboundedSender<Notice>) -> Result<Notifier> {
        let debouncer = new_debouncer(DEBOUNCE, None, move |result: DebounceEventResult| {
            for notice in notices(result) {
                let _ = tx.send(notice);
            }
        })
        .map_err(|e| {
            Error::new(
                ErrorCode::LocalIo,
                "This computer cannot tell OxDrop about changes to folders.",
            )
            .with_detail(e.to_string())
        })?;
        Ok(Notifier { debouncer })
    }

    /// Starts watching a folder and everything under it. Blocks while the system adds a watch
    /// per subfolder (a fraction of a second for 50,000 files).
    pub(crate) fn watch(&mut self, folder: &Path) -> std::result::Result<(), WatchFailure> {
        self.debouncer
            .watch(folder, RecursiveMode::Recursive)
            .map_err(|e| match e.kind {
                notify::ErrorKind::MaxFilesWatch => WatchFailure::TooManyFolders,
                _ => WatchFailure::Other(
                    Error::new(
                        ErrorCode::LocalIo,
                        format!(
                            "OxDrop cannot be told about changes in {}.",
                            folder.display()
                        ),
                    )
                    .with_detail(e.to_string()),
                ),
            })
    }

    pub(crate) fn unwatch(&mut self, folder: &Path) {
        let _ = self.debouncer.unwatch(folder);
    }
}

/// What a batch of debounced events means for the watches.
fn notices(result: DebounceEventResult) -> Vec<Notice> {
    let mut out = Vec::new();
    match result {
        Ok(events) => {
            let mut changed = Vec::new();
            for event in events {
                if event.need_rescan() {
                    tracing::info!("file notifications overflowed; rescanning");
                    out.push(Notice::Rescan);
                    continue;
                }
                if matters(&event.kind) {
                    changed.extend(event.paths.iter().cloned());
                }
            }
            if !changed.is_empty() {
                changed.sort();
                changed.dedup();
                out.push(Notice::Changed(changed));
            }
        }
        Err(errors) => {
            for e in errors {
                match e.kind {
                    notify::ErrorKind::MaxFilesWatch => {
                        out.push(Notice::TooManyFolders(e.paths.clone()))
                    }
                    _ => {
                        // Something was missed or cannot be watched: look again.
                        tracing::warn!(error = %e, "file notifications failed");
                        out.push(Notice::Rescan);
                    }
                }
            }
        }
    }
    out
}

/// Reads (OxDrop's own included) open files without changing them: only a writer closing a
/// file, and creations, changes, removals and renames, mean something changed.
fn matters(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_) => true,
        EventKind::Any | EventKind::Other => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{CreateKind, Flag, ModifyKind, RenameMode};
    use notify::{ErrorKind, Event};
    use notify_debouncer_full::DebouncedEvent;
    use std::time::Instant;

    fn ev(kind: EventKind, paths: &[&str]) -> DebouncedEvent {
        let mut event = Event::new(kind);
        for p in paths {
            event = event.add_path(PathBuf::from(p));
        }
        DebouncedEvent::new(event, Instant::now())
    }

    #[test]
    fn reads_are_not_changes_but_a_writer_closing_is() {
        let batch = vec![
            ev(
                EventKind::Access(AccessKind::Open(AccessMode::Any)),
                &["/w/a"],
            ),
            ev(
                EventKind::Access(AccessKind::Close(AccessMode::Read)),
                &["/w/a"],
            ),
            ev(
                EventKind::Access(AccessKind::Close(AccessMode::Write)),
                &["/w/b"],
            ),
            ev(EventKind::Create(CreateKind::File), &["/w/c"]),
            ev(
                EventKind::Modify(ModifyKind::Name(RenameMode::Both)),
                &["/w/d", "/w/e"],
            ),
        ];
        assert_eq!(
            notices(Ok(batch)),
            vec![Notice::Changed(
                ["/w/b", "/w/c", "/w/d", "/w/e"].map(PathBuf::from).to_vec()
            )]
        );
        let only_reads = vec![ev(
            EventKind::Access(AccessKind::Open(AccessMode::Any)),
            &["/w/a"],
        )];
        assert!(notices(Ok(only_reads)).is_empty());
    }

    #[test]
    fn an_overflow_asks_for_a_rescan_and_the_watch_limit_is_told() {
        let overflow = DebouncedEvent::new(
            Event::new(EventKind::Other).set_flag(Flag::Rescan),
            Instant::now(),
        );
        assert_eq!(notices(Ok(vec![overflow])), vec![Notice::Rescan]);
        let limit = notify::Error::new(ErrorKind::MaxFilesWatch).add_path(PathBuf::from("/w/deep"));
        assert_eq!(
            notices(Err(vec![limit])),
            vec![Notice::TooManyFolders(vec![PathBuf::from("/w/deep")])]
        );
        let other = notify::Error::generic("lost");
        assert_eq!(notices(Err(vec![other])), vec![Notice::Rescan]);
    }
}

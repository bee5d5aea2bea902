//! Locking that survives a panic elsewhere.

use std::sync::{Mutex, MutexGuard};

/// Locks `m` even if a thread panicked while holding it: the data behind OxDrop's locks is
/// bookkeeping (progress, sets of sent files) that stays usable, and one failed worker must not
/// bring down the whole upload or app.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

//! Where OxDrop keeps its files: settings in the OS config folder, logs and upload journals in the
//! OS data folder. `OXDROP_CONFIG_DIR` and `OXDROP_DATA_DIR` override both (tests, portable use).

use std::path::PathBuf;

use crate::error::{Error, ErrorCode, Result};

/// `~/.config/oxdrop` on Linux, `~/Library/Application Support/oxdrop` on macOS,
/// `%APPDATA%\oxdrop` on Windows.
pub fn config_dir() -> Option<PathBuf> {
    std::env::var_os("OXDROP_CONFIG_DIR")
        .map(PathBuf::from)
        .or_else(|| dirs::config_dir().map(|d| d.join("oxdrop")))
}

/// `~/.local/share/oxdrop` on Linux; the same folders as [`config_dir`] elsewhere.
pub fn data_dir() -> Option<PathBuf> {
    std::env::var_os("OXDROP_DATA_DIR")
        .map(PathBuf::from)
        .or_else(|| dirs::data_dir().map(|d| d.join("oxdrop")))
}

/// The log folder inside [`data_dir`].
pub fn log_dir() -> Option<PathBuf> {
    data_dir().map(|d| d.join("logs"))
}

/// The upload journal folder: `<data dir>/uploads` (e.g. ~/.local/share/oxdrop/uploads on
/// Linux), or `$OXDROP_DATA_DIR/uploads`.
pub fn journal_dir() -> Result<PathBuf> {
    required_data_dir().map(|d| d.join("uploads"))
}

/// [`data_dir`], or the one "no data folder" error (the list of uploads, the history and the
/// journals all live there).
pub fn required_data_dir() -> Result<PathBuf> {
    data_dir().ok_or_else(|| {
        Error::new(
            ErrorCode::LocalIo,
            "This system has no data folder for OxDrop.",
        )
    })
}

/// [`config_dir`], or the one "no configuration folder" error.
pub fn required_config_dir() -> Result<PathBuf> {
    config_dir().ok_or_else(|| {
        Error::new(
            ErrorCode::ConfigUnwritable,
            "This system has no configuration folder for OxDrop.",
        )
    })
}

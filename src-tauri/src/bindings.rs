//! TypeScript types for the UI, generated from the Rust types so they are never written twice.
//! `cargo test -p oxdrop-app bindings` fails when ui/src/lib/bindings is out of date;
//! `OXDROP_UPDATE_BINDINGS=1` rewrites it.

use std::path::Path;

use ts_rs::TS as _;

/// How the types are written: 64-bit integers as `number` (sizes and counts stay far below 2^53).
fn config(dir: &Path) -> ts_rs::Config {
    ts_rs::Config::new()
        .with_out_dir(dir)
        .with_large_int("number")
}

/// Writes every exported type (and what it references) into `dir`, one file per type, and the
/// command table as `commands.ts`.
pub fn export_all(dir: &Path) -> Result<(), ts_rs::ExportError> {
    let cfg = config(dir);
    crate::commands::export_types(&cfg)?;
    // What travels outside command results: errors, progress events, the drop event.
    oxdrop_core::Error::export_all(&cfg)?;
    oxdrop_core::upload::ProgressSnapshot::export_all(&cfg)?;
    crate::state::SourcesView::export_all(&cfg)?;
    crate::runner::UploadsEvent::export_all(&cfg)?;
    crate::watches::WatchesView::export_all(&cfg)?;
    std::fs::write(dir.join("commands.ts"), crate::commands::typescript(&cfg))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    fn read_dir(dir: &std::path::Path) -> BTreeMap<String, String> {
        let mut files = BTreeMap::new();
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".ts") {
                files.insert(name, std::fs::read_to_string(entry.path()).unwrap());
            }
        }
        files
    }

    #[test]
    fn bindings_are_up_to_date() {
        let committed = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ui/src/lib/bindings");
        if std::env::var_os("OXDROP_UPDATE_BINDINGS").is_some() {
            let _ = std::fs::remove_dir_all(&committed);
            super::export_all(&committed).unwrap();
        }
        let fresh = tempfile_dir();
        super::export_all(&fresh).unwrap();
        let (want, have) = (read_dir(&fresh), read_dir(&committed));
        let _ = std::fs::remove_dir_all(&fresh);
        assert!(!want.is_empty());
        assert_eq!(
            want.keys().collect::<Vec<_>>(),
            have.keys().collect::<Vec<_>>(),
            "ui/src/lib/bindings has other files than the Rust types produce; \
             run OXDROP_UPDATE_BINDINGS=1 cargo test -p oxdrop-app bindings"
        );
        for (name, text) in &want {
            assert_eq!(
                Some(text),
                have.get(name),
                "ui/src/lib/bindings/{name} is out of date; \
                 run OXDROP_UPDATE_BINDINGS=1 cargo test -p oxdrop-app bindings"
            );
        }
    }

    fn tempfile_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("oxdrop-bindings-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}

//! Text onto the system clipboard through GTK on the main thread (GTK serves the selection from
//! its main loop for as long as the app runs). No clipboard plugin: it would bring in some
//! thirty crates for one call.

use oxdrop_core::{Error, ErrorCode};
use tauri::AppHandle;

#[cfg(target_os = "linux")]
pub fn set_text(app: &AppHandle, text: String) -> Result<(), Error> {
    app.run_on_main_thread(move || {
        let clipboard = gtk::Clipboard::get(&gtk::gdk::SELECTION_CLIPBOARD);
        clipboard.set_text(&text);
        // Hands it to a clipboard manager, if one runs, so it outlives the app.
        clipboard.store();
    })
    .map_err(|e| unavailable(&e.to_string()))
}

#[cfg(not(target_os = "linux"))]
pub fn set_text(_app: &AppHandle, _text: String) -> Result<(), Error> {
    Err(unavailable("not supported on this system yet"))
}

fn unavailable(detail: &str) -> Error {
    Error::new(ErrorCode::LocalIo, "OxDrop could not use the clipboard.")
        .with_detail(detail.to_owned())
}

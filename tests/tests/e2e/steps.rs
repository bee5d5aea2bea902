//! What a person does in the window, as steps the tests share: sign in, pick a repository, add
//! files, review and upload; and the checks that look outside the window (the keychain, labels).

use std::path::{Path, PathBuf};
use std::time::Duration;

use oxdrop_tests::OxenServer;
use oxdrop_tests::desktop::{Desktop, Launch};
use oxdrop_tests::fixtures;

/// The API key the auth proxy accepts in the tests that sign in with one.
pub const KEY: &str = "e2e-key-7d3f09c1a5b2";
/// How long a step may take before the test fails.
pub const LONG: Duration = Duration::from_secs(60);

/// The key the OS keychain holds for `account` under `service`, if any.
pub fn keychain_lookup(service: &str, account: &str) -> Option<String> {
    let out = std::process::Command::new("secret-tool")
        .args(["lookup", "service", service, "username", account])
        .output()
        .unwrap();
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Fills the sign-in form for another server (without submitting it).
pub async fn sign_in(app: &Desktop, server: &str, user: &str, key: &str) {
    app.click("[data-testid=server-other]").await;
    app.fill("[data-testid=server-url]", server).await;
    app.fill("[data-testid=user]", user).await;
    app.fill("[data-testid=api-key]", key).await;
}

/// Waits until the server status line says `says` (the server's version, or its address), and
/// returns the line.
pub async fn wait_connected(app: &Desktop, says: &str) -> String {
    app.wait_text("[data-testid=server-status]", LONG, |t| t.contains(says))
        .await
}

/// Signs in to the sandbox server the app was launched with, and waits until it is connected.
pub async fn use_sandbox(app: &Desktop) {
    app.click("[data-testid=use-sandbox]").await;
    wait_connected(app, "oxen-server").await;
}

/// The app launched with `server` as its sandbox, signed in to it.
pub async fn launch_on_sandbox(server: &OxenServer) -> Desktop {
    let app = Desktop::launch(Launch {
        sandbox: Some(server.url()),
        ..Launch::default()
    })
    .await;
    use_sandbox(&app).await;
    app
}

/// Creates a repository through *New repository…* and waits until it is selected.
pub async fn create_repo(app: &Desktop, name: &str) {
    app.click("[data-testid=new-repo]").await;
    app.fill("[data-testid=new-repo-name]", name).await;
    app.click("[data-testid=create-repo]").await;
    repo_selected(app, name).await;
}

pub async fn set_author(app: &Desktop, name: &str, email: &str) {
    app.fill("[data-testid=author-name]", name).await;
    app.fill("[data-testid=author-email]", email).await;
}

/// The entry of the Uploads panel for the upload the user started last (its progress, then how
/// it ended).
pub const CURRENT: &str = "[data-testid=upload-entry][data-current]";

/// `part` (a test id) of the current upload's entry.
pub fn current(part: &str) -> String {
    format!("{CURRENT} [data-testid={part}]")
}

/// Waits until the current upload is committed and its entry says `says`; returns the line.
pub async fn wait_committed(app: &Desktop, says: &str, timeout: Duration) -> String {
    app.wait_text(&current("entry-outcome"), timeout, |t| {
        t.contains("committed as") && t.contains(says)
    })
    .await
}

/// The commit id the current upload's entry shows.
pub async fn current_commit(app: &Desktop) -> String {
    app.text(&current("entry-commit")).await
}

/// Waits until the current upload's progress line shows megabytes actually sent.
pub async fn wait_bytes_flowing(app: &Desktop) {
    app.wait_text(&current("entry-stats"), LONG, |t| {
        t.split(" · ")
            .nth(1)
            .is_some_and(|b| b.contains("MB of") && !b.starts_with("0 "))
    })
    .await;
}

/// Waits for the repository picker to show `name` as the selected repository.
pub async fn repo_selected(app: &Desktop, name: &str) {
    app.wait_text("[data-testid=repos] [aria-selected=true]", LONG, |t| {
        t == name
    })
    .await;
}

/// Opens the review of what was added and waits until its summary says `summary_says`.
pub async fn review(app: &Desktop, summary_says: &str) {
    app.click("[data-testid=review-upload]").await;
    app.wait_text("[data-testid=plan-summary]", LONG, |t| {
        t.contains(summary_says)
    })
    .await;
}

/// All the text inside `css`, shown or not: WebKit's WebDriver leaves out text it clips (the
/// paths of the review's file list are cut with an ellipsis when long).
pub async fn text_content(app: &Desktop, css: &str) -> String {
    app.find(css)
        .await
        .prop("textContent")
        .await
        .unwrap()
        .unwrap_or_default()
}

/// Reviews, uploads, waits for the commit and returns its id as the window shows it.
pub async fn review_and_upload(app: &Desktop, summary_says: &str, shot: Option<&str>) -> String {
    review(app, summary_says).await;
    if let Some(name) = shot {
        app.screenshot(name).await;
    }
    app.click("[data-testid=upload]").await;
    wait_committed(app, "", LONG).await;
    current_commit(app).await
}

/// Adds `path` through the native file chooser and waits until the upload list shows it.
pub async fn add_file_with_dialog(app: &Desktop, path: &Path, shot: Option<&str>) {
    const MANGLED: &str = "dropped path no longer exists";
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    // xdotool types a non-ASCII letter by remapping a spare key for a moment; on a loaded machine
    // GTK can read that key after the remap is undone, and the letter is lost ("notes .txt" for
    // "notes é.txt", seen in a CI rehearsal). The app then logs that the path does not exist:
    // the test's typing failed, not the app, so it types the path again (three tries in all).
    const DIALOG: &str = "Add files to upload";
    for attempt in 1..=3 {
        let mangled_before = app.app_log().matches(MANGLED).count();
        open_dialog(app, "[data-testid=add-files]", DIALOG).await;
        app.choose_in_dialog(DIALOG, path, shot).await;
        let deadline = std::time::Instant::now() + LONG;
        let mut mistyped = false;
        while !mistyped && std::time::Instant::now() < deadline {
            let shown = app.text_now("[data-testid=sources]").await;
            if shown.is_some_and(|t| t.contains(&name)) {
                return;
            }
            mistyped = attempt < 3 && app.app_log().matches(MANGLED).count() > mangled_before;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        if !mistyped {
            break;
        }
        eprintln!("try {attempt}: the dialog received a mistyped path; typing it again");
    }
    app.wait_text("[data-testid=sources]", LONG, |t| t.contains(&name))
        .await;
}

/// Clicks `button` until the native dialog titled `title` is shown. A click can miss while the
/// layout moves under the pointer (an upload starting or ending changes the list's height): then
/// no dialog comes, and waiting for it would hang the test.
pub async fn open_dialog(app: &Desktop, button: &str, title: &str) {
    let title = format!("^{title}$");
    for attempt in 1..=3 {
        app.click(button).await;
        if app.wait_window(&title, Duration::from_secs(20)).is_some() {
            return;
        }
        eprintln!("try {attempt}: no dialog after clicking {button}; clicking again");
    }
    app.window(&title);
}

/// Drags `path` from the OS onto the window (a real XDND drag) and waits until the upload list
/// shows `shown_as`.
pub async fn drop_on_window(app: &Desktop, path: &Path, shown_as: &str) {
    // While uploading, the title starts with the percentage ("42% · OxDrop").
    let (x, y, w, h) = app.window_geometry(".*OxDrop");
    app.drag_files_to(&[path.to_path_buf()], x + w / 4, y + h / 2)
        .await;
    app.wait_text("[data-testid=sources]", LONG, |t| t.contains(shown_as))
        .await;
}

/// Makes a `size`-byte file at `path`, picks it in the native dialog, reviews it, uploads it as
/// `author` (name, email) and returns once megabytes are really flowing: an upload under way
/// for a test to interrupt.
pub async fn start_big_upload(
    app: &Desktop,
    path: &Path,
    size: u64,
    seed: u64,
    author: (&str, &str),
) -> PathBuf {
    let big = fixtures::write_file(path, size, seed);
    add_file_with_dialog(app, &big, None).await;
    review(app, "1 new file").await;
    set_author(app, author.0, author.1).await;
    app.click("[data-testid=upload]").await;
    wait_bytes_flowing(app).await;
    big
}

/// Every control a person can reach has a name a screen reader can say: the ones that don't.
pub async fn unlabeled_controls(app: &Desktop) -> Vec<String> {
    let js = r#"
        const bad = [];
        for (const el of document.querySelectorAll('button, input, select, textarea, [role=listbox], [tabindex]')) {
            const labelled = el.getAttribute('aria-label') || el.getAttribute('aria-labelledby')
                || (el.id && document.querySelector(`label[for="${el.id}"]`)) || el.closest('label')
                || (el.tagName === 'BUTTON' && el.textContent.trim());
            if (!labelled && el.type !== 'hidden') bad.push(el.outerHTML.slice(0, 120));
        }
        return bad;"#;
    serde_json::from_value(app.client.execute(js, vec![]).await.unwrap()).unwrap()
}

/// "Open in browser" goes through xdg-open, which honours $BROWSER: a browser that only writes
/// down what it is asked to open. Launch the app with `BROWSER` set to `script`.
pub struct BrowserRecorder {
    _dir: tempfile::TempDir,
    pub script: PathBuf,
    opened: PathBuf,
}

impl BrowserRecorder {
    pub fn new() -> BrowserRecorder {
        let dir = tempfile::tempdir().unwrap();
        let opened = dir.path().join("opened.txt");
        let script = dir.path().join("browser.sh");
        std::fs::write(
            &script,
            format!("#!/bin/sh\necho \"$1\" >> {}\n", opened.display()),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        BrowserRecorder {
            _dir: dir,
            script,
            opened,
        }
    }

    /// `BROWSER=<script>`, for `Launch::env`.
    pub fn env(&self) -> (String, String) {
        ("BROWSER".into(), self.script.to_string_lossy().into_owned())
    }

    /// What the browser was asked to open (waiting up to 20 s for it).
    pub async fn opened(&self) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while !self.opened.exists() && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        std::fs::read_to_string(&self.opened)
            .unwrap_or_default()
            .trim()
            .to_owned()
    }
}

/// Presses `keys` on whatever has the keyboard focus, as a person at the keyboard does (no
/// element is aimed at).
pub async fn press(app: &Desktop, keys: &str) {
    app.client
        .active_element()
        .await
        .expect("a focused element")
        .send_keys(keys)
        .await
        .expect("keys");
}

/// The focused element, for messages: its tag, id, test id and text.
pub async fn focused(app: &Desktop) -> String {
    let js = "const e = document.activeElement; return e ? `${e.tagName.toLowerCase()}#${e.id}` + \
              `[${e.dataset.testid ?? ''}] ${(e.textContent ?? '').trim().slice(0, 40)}` : 'none'";
    app.client
        .execute(js, vec![])
        .await
        .unwrap()
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn focus_is(app: &Desktop, css: &str) -> bool {
    let js = "return document.activeElement?.matches(arguments[0]) ?? false";
    app.client.execute(js, vec![css.into()]).await.unwrap() == true
}

/// Waits until the keyboard focus is on `css` (the page moves it after its own steps).
pub async fn wait_focus(app: &Desktop, css: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !focus_is(app, css).await {
        if std::time::Instant::now() > deadline {
            let shot = app.screen_shot(&format!("failure-focus-{}", std::process::id()));
            panic!(
                "the focus never came to {css}; it is on {} (screen in {})",
                focused(app).await,
                shot.display()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Presses Tab (Shift+Tab with `backwards`) until the focus is on `css`, as a person looking for
/// a control does; fails after 60 presses with the way the focus went.
pub async fn tab_to(app: &Desktop, css: &str, backwards: bool) {
    use fantoccini::key::Key;
    let key = if backwards {
        format!("{}{}", Key::Shift, Key::Tab)
    } else {
        Key::Tab.to_string()
    };
    let mut way = Vec::new();
    for _ in 0..60 {
        if focus_is(app, css).await {
            return;
        }
        press(app, &key).await;
        way.push(focused(app).await);
    }
    panic!(
        "Tab never reached {css}; the focus went:\n{}",
        way.join("\n")
    );
}

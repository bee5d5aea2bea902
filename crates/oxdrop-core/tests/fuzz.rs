//! Property tests ("bounded fuzzing", run in every test pass): the parsers that read what servers
//! and users send never panic or hang, and what they accept keeps its promises.

use oxdrop_core::client::wire::ServerError;
use oxdrop_core::repo_ref::{check_branch_name, check_namespace, check_repo_name};
use oxdrop_core::{RemotePath, ServerUrl};
use proptest::prelude::*;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Bodies that look a little like what servers send, and plain noise.
fn bodies() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512),
        "[ -~]{0,200}".prop_map(String::into_bytes),
        (
            "[a-z_ ]{0,20}",
            "[ -~]{0,40}",
            proptest::option::of("[ -~]{0,40}"),
            proptest::option::of("[ -~]{0,40}")
        )
            .prop_map(|(msg, desc, title, detail)| {
                let mut v = serde_json::json!({"status": "error", "status_message": msg, "status_description": desc});
                if title.is_some() || detail.is_some() {
                    v["error"] = serde_json::json!({"type": "x", "title": title, "detail": detail});
                }
                v.to_string().into_bytes()
            }),
        Just(b"<!DOCTYPE html><html><body>502</body></html>".to_vec()),
        Just(br#"{"error": 5, "status": [1,2]}"#.to_vec()),
    ]
}

proptest! {
    #![proptest_config(config(2000))]

    #[test]
    fn error_bodies_parse_without_panics_and_never_show_raw_markup(body in bodies()) {
        let parsed = ServerError::parse(&body);
        if let Some(text) = parsed.human_text() {
            let markup = text.starts_with(['{', '<', '[']);
            prop_assert!(!markup, "raw markup shown: {}", text);
            prop_assert!(text.len() <= 400);
        }
        let _ = parsed.log_text();
    }

    #[test]
    fn remote_paths_never_escape_and_parse_is_idempotent(raw in "[a-zA-Z0-9./\\\\ _~:\u{e9}\u{65e5}-]{0,40}") {
        if let Ok(path) = RemotePath::parse(&raw) {
            let text = path.as_str();
            prop_assert!(!text.starts_with('/'));
            prop_assert!(!text.ends_with('/'));
            for segment in text.split('/').filter(|s| !s.is_empty()) {
                prop_assert!(segment != ".." && segment != ".");
                prop_assert!(!segment.eq_ignore_ascii_case(".oxen"));
            }
            prop_assert_eq!(RemotePath::parse(text).ok(), Some(path.clone()));
        }
    }

    /// However a path is made, it is the same check: a joined path parses back to itself, so a
    /// journal holding it can always be read again.
    #[test]
    fn joined_paths_parse_back_to_themselves(
        parent in "[a-zA-Z0-9./\\\\ _~:\u{e9}-]{0,20}",
        name in "[a-zA-Z0-9.\\\\ _~:\u{e9}-]{1,12}",
    ) {
        let parent = RemotePath::parse(&parent).unwrap_or_default();
        if let Ok(joined) = parent.join(&name) {
            prop_assert_eq!(RemotePath::parse(joined.as_str()).ok(), Some(joined.clone()));
            let json = serde_json::to_string(&joined).unwrap();
            prop_assert_eq!(serde_json::from_str::<RemotePath>(&json).ok(), Some(joined.clone()));
        }
    }

    #[test]
    fn any_text_as_a_path_or_name_is_handled(raw in any::<String>()) {
        let _ = RemotePath::parse(&raw);
        if check_branch_name(&raw).is_ok() {
            prop_assert!(!raw.contains(' ') && !raw.contains("..") && !raw.is_empty());
        }
        if check_repo_name(&raw).is_ok() {
            prop_assert!(raw.len() >= 2 && raw.is_ascii());
        }
        if check_namespace(&raw).is_ok() {
            prop_assert!(!raw.contains('.') && !raw.contains('/'));
        }
        if let Ok(url) = ServerUrl::parse(&raw) {
            prop_assert_eq!(ServerUrl::parse(&url.to_string()).ok(), Some(url.clone()));
        }
    }
}

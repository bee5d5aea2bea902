//! Property tests ("bounded fuzzing", run in every test pass): the parsers that read what servers
//! and users send never panic or hang, and what they accept keeps its promises — including the
//! limits on what a server can make OxDrop read, list or build.

use oxdrop_core::client::limits::{
    CappedBody, MAX_DIR_ENTRIES, MAX_DIR_PAGES, MAX_PART_SIZE, MAX_PARTS, MIN_PART_SIZE, PageWalk,
    check_part_layout,
};
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

/// Sizes near the limits and anywhere at all.
fn sizes() -> impl Strategy<Value = u64> {
    prop_oneof![
        any::<u64>(),
        0u64..4,
        (MIN_PART_SIZE - 2)..(MIN_PART_SIZE + 2),
        (MAX_PART_SIZE - 2)..(MAX_PART_SIZE + 2),
        1u64..(1 << 41),
    ]
}

proptest! {
    #![proptest_config(config(5000))]

    /// Whatever layout a server proposes for a file's parts, the check never panics, and what it
    /// accepts is bounded: the parts cover the file exactly and are never more than MAX_PARTS,
    /// so nothing built from them grows with the server's numbers.
    #[test]
    fn any_begin_answer_is_refused_or_bounded(
        size in sizes(),
        part_size in sizes(),
        num_parts in prop_oneof![any::<u64>(), 0u64..200_000],
        window in prop_oneof![any::<u64>(), 0u64..200],
        consistent in any::<bool>(),
    ) {
        let num_parts = match (consistent, part_size) {
            (true, p) if p > 0 => size.div_ceil(p),
            _ => num_parts,
        };
        if let Ok(layout) = check_part_layout(size, part_size, num_parts, window) {
            prop_assert!(layout.num_parts <= MAX_PARTS);
            prop_assert!(layout.num_parts >= 1);
            prop_assert!(layout.part_size <= MAX_PART_SIZE);
            prop_assert!(layout.part_size >= MIN_PART_SIZE.min(size));
            prop_assert_eq!(layout.num_parts, size.div_ceil(layout.part_size));
            prop_assert!(layout.part_window >= 1 && layout.part_window <= layout.num_parts);
        }
    }

    /// An answer is never held past its cap, whether or not it announced its length, and is
    /// refused exactly when it (or its announcement) passes the cap.
    #[test]
    fn answers_past_their_cap_are_refused(
        limit in 0usize..4096,
        declared in proptest::option::of(0u64..8192),
        chunks in proptest::collection::vec(0usize..1500, 0..12),
    ) {
        let total: usize = chunks.iter().sum();
        let refused_at_once = declared.is_some_and(|d| d > limit as u64);
        let mut body = match CappedBody::new(limit, declared) {
            Ok(b) => b,
            Err(_) => {
                prop_assert!(refused_at_once);
                return Ok(());
            }
        };
        prop_assert!(!refused_at_once);
        let mut refused = false;
        for n in chunks {
            if body.push(&vec![b' '; n]).is_err() {
                refused = true;
                break;
            }
            prop_assert!(body.len() <= limit);
        }
        prop_assert_eq!(refused, total > limit);
    }
}

proptest! {
    #![proptest_config(config(800))]

    /// A server may claim any page count and send any pages, repeated in any cycle: the walk
    /// ends, at the latest when a page comes back, and never reads past its limits.
    #[test]
    fn any_folder_listing_ends(
        script in proptest::collection::vec(
            (proptest::collection::vec("[a-c]{1,3}", 0..5), any::<u32>()),
            1..40,
        ),
    ) {
        let mut walk = PageWalk::default();
        let mut reads = 0usize;
        loop {
            let (names, total_pages) = &script[reads % script.len()];
            reads += 1;
            prop_assert!(reads <= script.len() + 1, "the walk ran on");
            match walk.after_page(names.iter().map(String::as_str), *total_pages) {
                Ok(true) => prop_assert!(walk.page() <= MAX_DIR_PAGES),
                Ok(false) | Err(_) => break,
            }
        }
    }
}

/// A server that sends a new page every time and claims 4,294,967,295 of them is stopped by the
/// limits, not by its count.
#[test]
fn endless_new_pages_stop_at_the_limit() {
    let mut walk = PageWalk::default();
    let mut pages = 0u64;
    let err = loop {
        let name = format!("file-{pages}");
        pages += 1;
        match walk.after_page(std::iter::once(name.as_str()), u32::MAX) {
            Ok(true) => {}
            Ok(false) => panic!("the walk believed the count"),
            Err(e) => break e,
        }
    };
    assert_eq!(pages, u64::from(MAX_DIR_PAGES));
    assert!(err.message.contains("pages"), "{}", err.message);
    assert!(pages <= MAX_DIR_ENTRIES);
}

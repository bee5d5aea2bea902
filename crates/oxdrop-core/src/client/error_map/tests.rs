use super::*;

fn server() -> ServerUrl {
    ServerUrl::parse("http://127.0.0.1:3000").unwrap()
}

fn map(status: u16, body: &str, call: &ApiCall<'_>) -> Error {
    status_error(
        StatusCode::from_u16(status).unwrap(),
        &ServerError::parse(body.as_bytes()),
        call,
        &server(),
        None,
    )
}

#[test]
fn maps_every_documented_case() {
    let repo = RepoRef::new("ox", "cats").unwrap();
    let root = RemotePath::root();
    let cases: Vec<(u16, &str, ApiCall<'_>, ErrorCode, bool)> = vec![
        (
            409,
            r#"{"status":"error","status_message":"Repo already exists.","oxen_version":"0.65.2"}"#,
            ApiCall::CreateRepo(&repo),
            ErrorCode::RepoExists,
            false,
        ),
        (
            404,
            r#"{"status":"error","status_message":"resource_not_found","oxen_version":"0.65.2","status_description":"Repository 'ox/cats' not found"}"#,
            ApiCall::Repo(&repo),
            ErrorCode::RepoNotFound,
            false,
        ),
        (
            404,
            r#"{"error":{"type":"resource_not_found","title":"Branch does not exist","detail":"Could not find branch: Branch 'x' not found"},"status":"error","status_message":"resource_not_found"}"#,
            ApiCall::Branch(&repo, "x"),
            ErrorCode::BranchNotFound,
            false,
        ),
        (
            404,
            r#"{"error":{"type":"resource_not_found","title":"Path does not exist"},"status":"error","status_message":"resource_not_found"}"#,
            ApiCall::Path(&repo, "main", &root),
            ErrorCode::PathNotFound,
            false,
        ),
        (
            422,
            r#"{"status":"error","status_message":"NoChanges","oxen_version":"0.65.2"}"#,
            ApiCall::Commit(&repo, "main"),
            ErrorCode::NothingChanged,
            false,
        ),
        (
            422,
            r#"{"error":{"type":"no_changes","title":"No changes to commit"},"status":"error","status_message":"bad_request"}"#,
            ApiCall::Commit(&repo, "main"),
            ErrorCode::NothingChanged,
            false,
        ),
        (
            409,
            r#"{"error":{"type":"conflict","title":"Workspace is behind","detail":"…"},"status":"error","status_message":"conflict"}"#,
            ApiCall::Commit(&repo, "main"),
            ErrorCode::BranchMoved,
            true,
        ),
        (
            429,
            r#"{"error":{"type":"upload_part_deferred","title":"Deferred"},"status":"error","status_message":"too_many_requests"}"#,
            ApiCall::Stage(&repo),
            ErrorCode::ServerBusy,
            true,
        ),
        (
            426,
            r#"{"error":{"type":"update_required","title":"Update Required","detail":"Oxen CLI out of date."},"status":"error","status_message":"update_required"}"#,
            ApiCall::Server,
            ErrorCode::UpgradeRequired,
            false,
        ),
        (
            400,
            "Payload error",
            ApiCall::Stage(&repo),
            ErrorCode::InvalidInput,
            false,
        ),
        (
            400,
            r#"{"error":{"type":"bad_request","title":"Bad request","detail":"Invalid resource: a/../b is outside the working tree: it has a `..` component"},"status":"error","status_message":"bad_request"}"#,
            ApiCall::Stage(&repo),
            ErrorCode::InvalidPath,
            false,
        ),
        (
            500,
            r#"{"error":{"type":"internal_server_error","title":"Branch already exists: dev"},"status":"error","status_message":"internal_server_error"}"#,
            ApiCall::CreateBranch(&repo, "dev", "main"),
            ErrorCode::BranchExists,
            false,
        ),
        (
            500,
            r#"{"error":{"type":"internal_server_error","title":"boom"},"status":"error","status_message":"internal_server_error"}"#,
            ApiCall::Repo(&repo),
            ErrorCode::ServerError,
            true,
        ),
        (
            502,
            "<html><body>Bad gateway</body></html>",
            ApiCall::Repo(&repo),
            ErrorCode::ServerError,
            true,
        ),
        (503, "", ApiCall::Repo(&repo), ErrorCode::ServerError, true),
        (
            401,
            "unauthorized",
            ApiCall::Repo(&repo),
            ErrorCode::KeyRejected,
            false,
        ),
        (
            403,
            r#"{"status":"error","status_message":"unauthenticated"}"#,
            ApiCall::Repo(&repo),
            ErrorCode::KeyRejected,
            false,
        ),
        (
            404,
            "<!DOCTYPE html><html>Not Found</html>",
            ApiCall::Repo(&repo),
            ErrorCode::NotOxenServer,
            false,
        ),
        (302, "", ApiCall::Repo(&repo), ErrorCode::Redirected, false),
        (
            404,
            r#"{"status":"error","status_message":"resource_not_found","status_description":"Workspace not found: x"}"#,
            ApiCall::Commit(&repo, "main"),
            ErrorCode::NotFound,
            true,
        ),
        (
            404,
            r#"{"status":"error","status_message":"resource_not_found","status_description":"Version upload 5f2c not found"}"#,
            ApiCall::UploadPart(&repo),
            ErrorCode::UploadExpired,
            false,
        ),
        (
            400,
            r#"{"status":"error","status_message":"bad_request","status_description":"Version upload refused: the file's 10 bytes hash to 1f, not 2e (upload 5f2c)"}"#,
            ApiCall::UploadPart(&repo),
            ErrorCode::ContentMismatch,
            false,
        ),
        (
            400,
            r#"{"status":"error","status_message":"bad_request","status_description":"Version upload refused: part 9 is out of range (upload 5f2c)"}"#,
            ApiCall::UploadPart(&repo),
            ErrorCode::InvalidInput,
            false,
        ),
    ];
    for (status, body, call, want, retryable) in cases {
        let err = map(status, body, &call);
        assert_eq!(err.code, want, "{status} {body}");
        assert_eq!(err.retryable, retryable, "{status} {body}");
        assert_eq!(err.status, Some(status));
        assert!(
            !err.message.contains('{'),
            "raw JSON in message: {}",
            err.message
        );
        assert!(
            !err.message.contains('<'),
            "HTML in message: {}",
            err.message
        );
        if err.retryable {
            assert!(promises_nothing(&err.message), "{}", err.message);
        }
    }
}

/// A retryable message is shown while OxDrop retries and, when retries run out, as the reason an
/// upload was interrupted: it must say what happened, not what OxDrop will do.
fn promises_nothing(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    ![
        "try again",
        "will wait",
        "will try",
        "will start",
        "retrying",
    ]
    .iter()
    .any(|p| lower.contains(p))
}

#[test]
fn stalls_are_timeouts_that_promise_nothing() {
    use crate::client::watchdog::Stall;
    for phase in [Stall::Sending, Stall::Answering] {
        let err = stalled(phase, &server());
        assert_eq!(err.code, ErrorCode::Timeout);
        assert!(err.retryable);
        assert!(promises_nothing(&err.message), "{}", err.message);
    }
    assert!(
        stalled(Stall::Answering, &server())
            .message
            .contains("did not answer in time")
    );
}

mod fuzz {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

        /// Any status with any body maps to an error with plain words: no raw JSON or HTML.
        #[test]
        fn every_answer_maps_to_plain_words(status in 300u16..600, body in proptest::collection::vec(any::<u8>(), 0..300), call in 0usize..11) {
            let repo = RepoRef::new("ns", "repo").unwrap();
            let root = RemotePath::root();
            let calls = [
                ApiCall::Server, ApiCall::Namespace("ns"), ApiCall::Repo(&repo), ApiCall::CreateRepo(&repo),
                ApiCall::Branch(&repo, "main"), ApiCall::CreateBranch(&repo, "b", "main"),
                ApiCall::Path(&repo, "main", &root), ApiCall::Workspace(&repo), ApiCall::Stage(&repo),
                ApiCall::Commit(&repo, "main"), ApiCall::UploadPart(&repo),
            ];
            let Ok(status) = StatusCode::from_u16(status) else { return Ok(()) };
            let server = ServerUrl::parse("http://127.0.0.1:3000").unwrap();
            let err = status_error(status, &ServerError::parse(&body), &calls[call], &server, None);
            prop_assert!(!err.message.is_empty());
            prop_assert!(!err.message.contains("\"status\""));
            prop_assert!(!err.message.to_ascii_lowercase().contains("<html"));
            prop_assert_eq!(err.status, Some(status.as_u16()));
            if err.retryable {
                prop_assert!(promises_nothing(&err.message), "{}", err.message);
            }
        }
    }
}

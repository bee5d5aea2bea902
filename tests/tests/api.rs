//! The Oxen client against the real oxen-server: every endpoint OxDrop uses, and how each
//! refusal reaches the user.

// Test code: `&[path.clone()]` reads better, and a panic is how a test fails.
#![allow(clippy::cloned_ref_to_slice_refs, clippy::unwrap_used)]

use oxdrop_core::model::Author;
use oxdrop_core::{ErrorCode, OxenClient, RemotePath, RepoRef};
use oxdrop_tests::{OxenServer, fixtures, unique_name};

fn author() -> Author {
    Author {
        name: "Test Author".into(),
        email: "author@example.com".into(),
    }
}

/// Puts files on `main` with a one-request commit, to have something to list.
async fn seed(client: &OxenClient, repo: &RepoRef, dir: &str, files: &[(&str, &[u8])]) {
    let files = files
        .iter()
        .map(|(n, b)| (n.to_string(), bytes::Bytes::copy_from_slice(b)))
        .collect();
    client
        .put_files(
            repo,
            "main",
            &RemotePath::parse(dir).unwrap(),
            files,
            "seed",
            &author(),
        )
        .await
        .expect("seed upload");
}

#[tokio::test]
async fn version_health_and_namespaces() {
    let server = OxenServer::start();
    let client = server.client();
    assert_eq!(client.version().await.unwrap().version, "0.65.2");
    client.health().await.unwrap();
    let repo = server.new_repo("ns").await;
    let namespaces = client.namespaces().await.unwrap();
    assert!(
        namespaces.iter().any(|n| n == "oxdrop-tests"),
        "{namespaces:?}"
    );
    let repos = client.repositories("oxdrop-tests").await.unwrap();
    assert!(repos.iter().any(|r| r.name == repo.name));
    assert!(
        client.repositories("nobody-here").await.unwrap().is_empty(),
        "unknown namespace is empty"
    );
}

#[tokio::test]
async fn create_repository_twice_says_already_exists() {
    let server = OxenServer::start();
    let client = server.client();
    let repo = RepoRef::new("oxdrop-tests", &unique_name("twice")).unwrap();
    let created = client
        .create_repository(&repo, Some("a description"))
        .await
        .unwrap();
    assert_eq!(
        (created.namespace.as_str(), created.name.as_str()),
        (repo.namespace.as_str(), repo.name.as_str())
    );
    let again = client.create_repository(&repo, None).await.unwrap_err();
    assert_eq!(again.code, ErrorCode::RepoExists);
    assert_eq!(again.status, Some(409));
    assert!(
        again.message.contains("already exists"),
        "{}",
        again.message
    );
    // Names differing only in case are the same repository on the server.
    let upper = RepoRef::new("oxdrop-tests", &repo.name.to_uppercase()).unwrap();
    assert_eq!(
        client
            .create_repository(&upper, None)
            .await
            .unwrap_err()
            .code,
        ErrorCode::RepoExists
    );
}

#[tokio::test]
async fn invalid_names_are_refused_before_sending() {
    let server = OxenServer::start();
    let client = server.client();
    for (ns, name) in [
        ("oxdrop-tests", "a"),
        ("oxdrop-tests", "my repo"),
        ("x", "fine"),
        ("a.b", "fine"),
    ] {
        let repo = RepoRef::new(ns, name).unwrap();
        let err = client.create_repository(&repo, None).await.unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidName, "{ns}/{name}");
        assert_eq!(err.status, None, "refused locally, not by the server");
    }
}

#[tokio::test]
async fn empty_repository_then_first_upload() {
    let server = OxenServer::start();
    let client = server.client();
    let repo = server.new_repo("empty").await;
    let details = client.repository(&repo).await.unwrap();
    assert!(details.is_empty);
    assert!(client.branches(&repo).await.unwrap().is_empty());
    assert_eq!(
        client.branch(&repo, "main").await.unwrap_err().code,
        ErrorCode::BranchNotFound
    );
    let listing = client
        .list_dir(&repo, "main", &RemotePath::root(), 1, 100)
        .await
        .unwrap_err();
    assert_eq!(listing.code, ErrorCode::PathNotFound);
    let branch_err = client
        .create_branch(&repo, "dev", "main")
        .await
        .unwrap_err();
    assert_eq!(branch_err.code, ErrorCode::RepoEmpty);

    seed(&client, &repo, "", &[("hello.txt", b"hello")]).await;
    assert!(!client.repository(&repo).await.unwrap().is_empty);
    let branches = client.branches(&repo).await.unwrap();
    assert_eq!(
        branches.iter().map(|b| b.name.as_str()).collect::<Vec<_>>(),
        vec!["main"]
    );
}

#[tokio::test]
async fn branches_create_get_and_refusals() {
    let server = OxenServer::start();
    let client = server.client();
    let repo = server.new_repo("branches").await;
    seed(&client, &repo, "", &[("a.txt", b"a")]).await;
    let main = client.branch(&repo, "main").await.unwrap();
    let dev = client
        .create_branch(&repo, "feature/x", "main")
        .await
        .unwrap();
    assert_eq!(dev.name, "feature/x");
    assert_eq!(dev.commit_id, main.commit_id);
    assert_eq!(client.branch(&repo, "feature/x").await.unwrap(), dev);
    let again = client
        .create_branch(&repo, "feature/x", "main")
        .await
        .unwrap_err();
    assert_eq!(again.code, ErrorCode::BranchExists);
    assert!(again.message.contains("already exists"));
    let from_missing = client.create_branch(&repo, "y", "nope").await.unwrap_err();
    assert_eq!(
        from_missing.code,
        ErrorCode::BranchNotFound,
        "{}",
        from_missing.message
    );
    let bad = client
        .create_branch(&repo, "has space", "main")
        .await
        .unwrap_err();
    assert_eq!(bad.code, ErrorCode::InvalidName);
    let names: Vec<String> = client
        .branches(&repo)
        .await
        .unwrap()
        .into_iter()
        .map(|b| b.name)
        .collect();
    assert_eq!(names, vec!["main", "feature/x"], "main first");
}

#[tokio::test]
async fn listing_is_paginated_and_files_download() {
    let server = OxenServer::start();
    let client = server.client();
    let repo = server.new_repo("listing").await;
    let tmp = tempfile::tempdir().unwrap();
    // 250 files through the engine, so the listing has three pages of 100.
    let names = fixtures::small_tree(&tmp.path().join("many"), 250, 1, 64, 7);
    assert_eq!(names.len(), 250);
    let request = oxdrop_core::plan::PlanRequest {
        repo: repo.clone(),
        branch: "main".into(),
        dest: RemotePath::root(),
        sources: vec![tmp.path().join("many")],
        follow_links: false,
        ignore_patterns: vec![],
        contents: None,
    };
    let plan = oxdrop_core::plan::make_plan(&client, &request)
        .await
        .unwrap();
    let options = oxdrop_core::upload::UploadOptions {
        message: String::new(),
        author: author(),
        tuning: Default::default(),
        journal_dir: None,
        ..Default::default()
    };
    oxdrop_core::upload::upload(
        &client,
        &request,
        &plan,
        &options,
        std::sync::Arc::new(oxdrop_core::upload::NoProgress),
        Default::default(),
    )
    .await
    .unwrap();

    let d0 = RemotePath::parse("many/d0").unwrap();
    let page = client.list_dir(&repo, "main", &d0, 1, 10).await.unwrap();
    assert_eq!(page.entries.len(), 7, "d0 holds e0..e6");
    let e0 = RemotePath::parse("many/d0/e0").unwrap();
    let first = client.list_dir(&repo, "main", &e0, 1, 2).await.unwrap();
    assert_eq!(first.entries.len(), 2);
    assert!(first.total_pages >= 2);
    let all = client.list_dir_all(&repo, "main", &e0).await.unwrap();
    assert_eq!(all.len() as u64, first.total_entries);

    let file = &all[0];
    assert!(!file.is_dir);
    let meta = client.metadata(&repo, "main", &file.path).await.unwrap();
    assert_eq!(meta.size, file.size);
    let body = client
        .download(&repo, "main", &file.path)
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let local = std::fs::read(tmp.path().join(file.path.as_str())).unwrap();
    assert_eq!(body.as_ref(), local.as_slice());
    assert_eq!(
        meta.hash
            .as_deref()
            .map(|h| oxdrop_core::hash::same_hash(h, &oxdrop_core::hash::hash_bytes(&local))),
        Some(true)
    );
}

#[tokio::test]
async fn not_found_refusals_name_the_thing() {
    let server = OxenServer::start();
    let client = server.client();
    let missing = RepoRef::new("oxdrop-tests", "does-not-exist").unwrap();
    let err = client.repository(&missing).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::RepoNotFound);
    assert!(err.message.contains("oxdrop-tests/does-not-exist"));
    let repo = server.new_repo("nf").await;
    seed(&client, &repo, "", &[("a.txt", b"a")]).await;
    let path = RemotePath::parse("no/such.txt").unwrap();
    let err = client.metadata(&repo, "main", &path).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::PathNotFound);
    assert!(err.message.contains("no/such.txt"));
}

#[tokio::test]
async fn user_agent_gate_and_request_ids() {
    let server = OxenServer::start();
    let raw = reqwest::Client::new();
    // The gate exists: a UA that looks like an old Oxen CLI is refused…
    let refused = raw
        .get(format!("{}/api/namespaces", server.url()))
        .header("user-agent", "oxen/0.1.0")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 426);
    // …and OxDrop's passes it, and the request id we send comes back.
    let ok = raw
        .get(format!("{}/api/namespaces", server.url()))
        .header("user-agent", oxdrop_core::client::USER_AGENT)
        .header("x-oxen-request-id", "oxdrop-test-1234")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    assert_eq!(ok.headers()["x-oxen-request-id"], "oxdrop-test-1234");
}

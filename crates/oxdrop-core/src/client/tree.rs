//! Reading a repository at a revision: folder listings, metadata, downloads and commit history.

use reqwest::{Method, Response};
use url::Url;

use super::error_map::ApiCall;
use super::http::enc;
use super::limits::PageWalk;
use super::{OxenClient, wire};
use crate::error::{ErrorCode, Result};
use crate::model::{Commit, DirEntry, DirPage};
use crate::remote_path::RemotePath;
use crate::repo_ref::RepoRef;

impl OxenClient {
    /// One page of a folder listing at a revision (branch or commit).
    pub async fn list_dir(
        &self,
        repo: &RepoRef,
        revision: &str,
        dir: &RemotePath,
        page: u32,
        page_size: u32,
    ) -> Result<DirPage> {
        let url = self.revision_url(repo, &["dir"], revision, dir);
        let query = [
            ("page", page.max(1).to_string()),
            ("page_size", page_size.clamp(1, 1000).to_string()),
        ];
        let body: wire::DirBody = self
            .get_json_query(url, &query, &ApiCall::Path(repo, revision, dir))
            .await?;
        let entries = body
            .entries
            .into_iter()
            .filter_map(|e| {
                let path = dir.join(&e.filename).ok()?;
                Some(DirEntry {
                    name: e.filename,
                    path,
                    is_dir: e.is_dir,
                    size: e.size,
                    hash: if e.is_dir { None } else { e.hash },
                    latest_commit: e.latest_commit.map(Commit::from),
                })
            })
            .collect();
        Ok(DirPage {
            entries,
            page: body.page_number.unwrap_or(page),
            total_pages: body.total_pages.unwrap_or(1),
            total_entries: body.total_entries.unwrap_or(0),
        })
    }

    /// Every entry of a folder, all pages. The server's page count is not trusted: the walk
    /// ends at an empty page, and refuses a page seen before or a listing past its limits.
    pub async fn list_dir_all(
        &self,
        repo: &RepoRef,
        revision: &str,
        dir: &RemotePath,
    ) -> Result<Vec<DirEntry>> {
        let mut all = Vec::new();
        let mut walk = PageWalk::default();
        loop {
            let listing = self
                .list_dir(repo, revision, dir, walk.page(), 1000)
                .await?;
            let more = walk.after_page(
                listing.entries.iter().map(|e| e.name.as_str()),
                listing.total_pages,
            )?;
            all.extend(listing.entries);
            if !more {
                return Ok(all);
            }
        }
    }

    /// Metadata of one file or folder at a revision.
    pub async fn metadata(
        &self,
        repo: &RepoRef,
        revision: &str,
        path: &RemotePath,
    ) -> Result<DirEntry> {
        let url = self.revision_url(repo, &["meta"], revision, path);
        let body: wire::MetaBody = self
            .get_json(url, &ApiCall::Path(repo, revision, path))
            .await?;
        Ok(DirEntry {
            name: path.file_name().to_owned(),
            path: path.clone(),
            is_dir: body.entry.is_dir,
            size: body.entry.size,
            hash: body.entry.hash,
            latest_commit: body.entry.latest_commit.map(Commit::from),
        })
    }

    /// Starts a download of one file at a revision; the caller streams the body.
    pub async fn download(
        &self,
        repo: &RepoRef,
        revision: &str,
        path: &RemotePath,
    ) -> Result<Response> {
        let url = self.revision_url(repo, &["file"], revision, path);
        let req = self.request(Method::GET, url);
        self.send(req, &ApiCall::Path(repo, revision, path)).await
    }

    /// A small file at a revision, read whole; `None` when it is larger than `max` bytes (so a
    /// hostile or mistaken server cannot make us hold a huge body).
    pub async fn download_small(
        &self,
        repo: &RepoRef,
        revision: &str,
        path: &RemotePath,
        max: usize,
    ) -> Result<Option<Vec<u8>>> {
        let response = self.download(repo, revision, path).await?;
        // The only refusal of a capped read is "larger than the cap": here, "too big to use".
        match self.read_body(response, max).await {
            Ok(body) => Ok(Some(body)),
            Err(e) if e.code == ErrorCode::BadResponse => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Latest commits of a branch, newest first (one page).
    pub async fn commits(
        &self,
        repo: &RepoRef,
        revision: &str,
        page_size: u32,
    ) -> Result<Vec<Commit>> {
        let url = self.revision_url(repo, &["commits", "history"], revision, &RemotePath::root());
        let query = [
            ("page", "1".to_owned()),
            ("page_size", page_size.to_string()),
        ];
        let body: wire::CommitsBody = self
            .get_json_query(url, &query, &ApiCall::Branch(repo, revision))
            .await?;
        Ok(body.commits.into_iter().map(Commit::from).collect())
    }

    /// The URL of a commit in the server's web interface (the hub's layout).
    pub fn commit_web_url(&self, repo: &RepoRef, commit_id: &str) -> Url {
        let path = format!(
            "{}/{}/commit/{}",
            enc(&repo.namespace),
            enc(&repo.name),
            enc(commit_id)
        );
        self.inner.server.join(&path)
    }

    /// The URL of a folder at a commit in the server's web interface (the hub's layout, which
    /// names folders `dir/<revision>/<path>` as its API does).
    pub fn folder_web_url(&self, repo: &RepoRef, commit_id: &str, folder: &RemotePath) -> Url {
        let mut path = format!(
            "{}/{}/dir/{}",
            enc(&repo.namespace),
            enc(&repo.name),
            enc(commit_id)
        );
        for segment in folder.segments() {
            path.push('/');
            path.push_str(&enc(segment));
        }
        self.inner.server.join(&path)
    }
}

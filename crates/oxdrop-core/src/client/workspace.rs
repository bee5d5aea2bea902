//! Workspaces, staged files, part uploads and commits: the endpoints behind an upload.

use bytes::Bytes;
use reqwest::Method;

use super::error_map::ApiCall;
use super::limits::check_part_layout;
use super::multipart::{Field, Multipart};
use super::watchdog::AnswerWait;
use super::{OxenClient, wire};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{Author, Commit};
use crate::remote_path::RemotePath;
use crate::repo_ref::RepoRef;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    pub id: String,
    /// The commit the workspace was made from.
    pub commit_id: Option<String>,
}

/// One file for a multipart batch: its destination and its bytes (already read and checked).
#[derive(Debug, Clone)]
pub struct BatchFile {
    pub path: RemotePath,
    pub bytes: Bytes,
    /// Send gzip-compressed (the server inflates parts up to 10 MiB).
    pub gzip: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BeginUpload {
    /// The server already has these bytes; with a destination, the file is staged already.
    AlreadyStored,
    AwaitingParts {
        upload_id: String,
        part_size: u64,
        num_parts: u64,
        part_window: u64,
    },
}

impl OxenClient {
    /// Creates a workspace on `branch`. In an empty repository the server first makes an empty
    /// initial commit so that the branch exists.
    pub async fn create_workspace(
        &self,
        repo: &RepoRef,
        branch: &str,
        workspace_id: &str,
    ) -> Result<Workspace> {
        let body = serde_json::json!({
            "workspace_id": workspace_id,
            "branch_name": branch,
            // What the official client sends "for the hub"; ignored by oxen-server.
            "resource_path": "/",
            "entity_type": "user",
        });
        let req = self
            .request(Method::PUT, self.repo_url(repo, &["workspaces"]))
            .json(&body)
            .timeout(self.options().request_timeout);
        let created: wire::WorkspaceBody = self.send_json(req, &ApiCall::Workspace(repo)).await?;
        Ok(Workspace {
            id: created.workspace.id,
            commit_id: created.workspace.commit.map(|c| c.id),
        })
    }

    /// The workspace, or `None` when the server no longer has it (committed or deleted).
    pub async fn get_workspace(
        &self,
        repo: &RepoRef,
        workspace_id: &str,
    ) -> Result<Option<Workspace>> {
        let req = self
            .request(
                Method::GET,
                self.repo_url(repo, &["workspaces", workspace_id]),
            )
            .timeout(self.options().request_timeout);
        match self
            .send_json::<wire::WorkspaceBody>(req, &ApiCall::Workspace(repo))
            .await
        {
            Ok(body) => Ok(Some(Workspace {
                id: body.workspace.id,
                commit_id: body.workspace.commit.map(|c| c.id),
            })),
            Err(e) if e.status == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn delete_workspace(&self, repo: &RepoRef, workspace_id: &str) -> Result<()> {
        let req = self
            .request(
                Method::DELETE,
                self.repo_url(repo, &["workspaces", workspace_id]),
            )
            .timeout(self.options().request_timeout);
        match self.send(req, &ApiCall::Workspace(repo)).await {
            Ok(_) => Ok(()),
            Err(e) if e.status == Some(404) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Workspace ids on this repository (to find ones left behind).
    pub async fn workspace_ids(&self, repo: &RepoRef) -> Result<Vec<String>> {
        #[derive(serde::Deserialize)]
        struct Body {
            #[serde(default)]
            workspaces: Vec<wire::WorkspaceJson>,
        }
        let req = self
            .request(Method::GET, self.repo_url(repo, &["workspaces"]))
            .timeout(self.options().request_timeout);
        let body: Body = self.send_json(req, &ApiCall::Workspace(repo)).await?;
        Ok(body.workspaces.into_iter().map(|w| w.id).collect())
    }

    /// Stages a batch of files in one multipart request. The file name of each part carries its
    /// full path from the repository root. Returns the paths the server says it took; the caller
    /// must compare, since the server drops failed parts silently.
    pub async fn stage_files(
        &self,
        repo: &RepoRef,
        workspace_id: &str,
        files: Vec<BatchFile>,
    ) -> Result<Vec<String>> {
        let mut fields = Vec::with_capacity(files.len());
        for file in files {
            let (bytes, content_type) = if file.gzip {
                (Bytes::from(gzip(&file.bytes)?), "application/gzip")
            } else {
                (file.bytes, "application/octet-stream")
            };
            fields.push(Field::File {
                name: "file[]",
                filename: file.path.as_str().to_owned(),
                content_type,
                bytes,
            });
        }
        // `files/` with an empty folder: the part names hold the whole path.
        let mut url = self.repo_url(repo, &["workspaces", workspace_id, "files"]);
        url.set_path(&format!("{}/", url.path()));
        let body = Multipart::new(fields);
        let req = self
            .request(Method::POST, url)
            .header(reqwest::header::CONTENT_TYPE, body.content_type())
            .header(reqwest::header::CONTENT_LENGTH, body.len())
            .body(body.into_body());
        let body: wire::PathsBody = self.send_json(req, &ApiCall::Stage(repo)).await?;
        Ok(body.paths)
    }

    /// Stages the removal of these paths (files or folders) from the branch in the workspace.
    /// Returns the paths the server could not remove (206): not in the workspace's commit, so
    /// already gone. Staging a removal again is harmless, so a resumed upload simply repeats it.
    pub async fn stage_removals(
        &self,
        repo: &RepoRef,
        workspace_id: &str,
        paths: &[RemotePath],
    ) -> Result<Vec<String>> {
        let paths: Vec<&str> = paths.iter().map(RemotePath::as_str).collect();
        let req = self
            .request(
                Method::DELETE,
                self.repo_url(repo, &["workspaces", workspace_id, "files"]),
            )
            .json(&paths)
            .timeout(self.options().request_timeout);
        let response = self.send(req, &ApiCall::Stage(repo)).await?;
        let partial = response.status() == reqwest::StatusCode::PARTIAL_CONTENT;
        let body: wire::PathsBody = self.parse_json(response).await?;
        Ok(if partial { body.paths } else { Vec::new() })
    }

    /// Begins a part upload of a file whose XXH3-128 and size are known, staged into the
    /// workspace at `path` once complete.
    pub async fn begin_upload(
        &self,
        repo: &RepoRef,
        hash: &str,
        size: u64,
        workspace_id: &str,
        path: &RemotePath,
    ) -> Result<BeginUpload> {
        let body = serde_json::json!({
            "hash": hash,
            "size": size,
            "destination": {"workspace_id": workspace_id, "path": path.as_str()},
        });
        let req = self
            .request(Method::POST, self.repo_url(repo, &["versions", "uploads"]))
            .json(&body)
            .timeout(self.options().request_timeout);
        let begun: wire::BeginUploadBody = self.send_json(req, &ApiCall::Stage(repo)).await?;
        match begun.file.as_str() {
            "already_stored" => Ok(BeginUpload::AlreadyStored),
            "awaiting_parts" => match (begun.upload_id, begun.part_size, begun.num_parts) {
                (Some(upload_id), Some(part_size), Some(num_parts)) => {
                    // Checked before anything is built from it: a server could ask for parts of
                    // one byte, or for billions of them.
                    let window = begun.part_window.unwrap_or(1);
                    let layout = check_part_layout(size, part_size, num_parts, window)?;
                    Ok(BeginUpload::AwaitingParts {
                        upload_id,
                        part_size: layout.part_size,
                        num_parts: layout.num_parts,
                        part_window: layout.part_window,
                    })
                }
                _ => Err(Error::new(
                    ErrorCode::BadResponse,
                    "The server began an upload without saying how to send it.",
                )),
            },
            other => Err(Error::new(
                ErrorCode::BadResponse,
                "The server answered the upload in a way OxDrop does not understand.",
            )
            .with_detail(format!("file={other}"))),
        }
    }

    /// Sends part `number` (1-based). `body` must yield exactly `len` bytes. Returns whether
    /// this part completed the file (the server verified the hash and staged it).
    ///
    /// No limit on the whole request (a part takes as long as the network needs); the watchdog
    /// ends it when the connection stalls. The answer gets `read_timeout`, and `commit_timeout`
    /// when that runs out while `may_complete` says this part may be the one that completes the
    /// file: the server hashes, publishes and stages the file before it answers that one.
    pub async fn put_part(
        &self,
        repo: &RepoRef,
        upload_id: &str,
        number: u64,
        body: reqwest::Body,
        len: u64,
        may_complete: &(dyn Fn() -> bool + Sync),
    ) -> Result<bool> {
        let n = number.to_string();
        let url = self.repo_url(repo, &["versions", "uploads", upload_id, "parts", &n]);
        let req = self
            .request(Method::PUT, url)
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .header(reqwest::header::CONTENT_LENGTH, len)
            .body(body);
        let options = self.options();
        let answer = AnswerWait {
            within: options.read_timeout,
            longer: Some((options.commit_timeout, may_complete)),
        };
        let answer: wire::PartBody = self
            .send_json_awaiting(req, &ApiCall::UploadPart(repo), answer)
            .await?;
        Ok(answer.completed)
    }

    /// Does the server's version store hold this content already?
    pub async fn has_version(&self, repo: &RepoRef, hash: &str) -> Result<Option<u64>> {
        let req = self
            .request(
                Method::GET,
                self.repo_url(repo, &["versions", hash, "metadata"]),
            )
            .timeout(self.options().request_timeout);
        match self
            .send_json::<wire::VersionMetaBody>(req, &ApiCall::Stage(repo))
            .await
        {
            Ok(body) => Ok(Some(body.version.size)),
            Err(e) if e.status == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Commits everything staged in the workspace onto `branch`.
    pub async fn commit_workspace(
        &self,
        repo: &RepoRef,
        workspace_id: &str,
        branch: &str,
        message: &str,
        author: &Author,
    ) -> Result<Commit> {
        let url = self.revision_url(
            repo,
            &["workspaces", workspace_id, "merge"],
            branch,
            &RemotePath::root(),
        );
        let body = serde_json::json!({
            "message": message,
            "author": author.name,
            "email": author.email,
        });
        // The server answers only once the commit is made, possibly minutes later.
        let req = self.request(Method::POST, url).json(&body);
        let within = AnswerWait::within(self.options().commit_timeout);
        let committed: wire::CommitBody = self
            .send_json_awaiting(req, &ApiCall::Commit(repo, branch), within)
            .await?;
        Ok(committed.commit.into())
    }

    /// One-request upload-and-commit of small files into one folder (`PUT /file`). In an empty
    /// repository this creates `branch` with a real first commit. The whole body must stay under
    /// the server's 2 MiB multipart limit.
    pub async fn put_files(
        &self,
        repo: &RepoRef,
        branch: &str,
        dir: &RemotePath,
        files: Vec<(String, Bytes)>,
        message: &str,
        author: &Author,
    ) -> Result<Commit> {
        let mut fields = vec![
            Field::Text {
                name: "name",
                value: author.name.clone(),
            },
            Field::Text {
                name: "email",
                value: author.email.clone(),
            },
            Field::Text {
                name: "message",
                value: message.to_owned(),
            },
        ];
        for (filename, bytes) in files {
            fields.push(Field::File {
                name: "files[]",
                filename,
                content_type: "application/octet-stream",
                bytes,
            });
        }
        let body = Multipart::new(fields);
        let mut url = self.revision_url(repo, &["file"], branch, dir);
        if dir.is_root() {
            url.set_path(&format!("{}/", url.path()));
        }
        let req = self
            .request(Method::PUT, url)
            .header(reqwest::header::CONTENT_TYPE, body.content_type())
            .header(reqwest::header::CONTENT_LENGTH, body.len())
            .body(body.into_body());
        let within = AnswerWait::within(self.options().commit_timeout);
        let committed: wire::CommitBody = self
            .send_json_awaiting(req, &ApiCall::Commit(repo, branch), within)
            .await?;
        Ok(committed.commit.into())
    }
}

fn gzip(bytes: &[u8]) -> Result<Vec<u8>> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(bytes.len() / 2 + 64),
        flate2::Compression::fast(),
    );
    encoder.write_all(bytes).map_err(Error::internal)?;
    encoder.finish().map_err(Error::internal)
}

//! The server, its namespaces, repositories and branches.

use reqwest::Method;

use super::error_map::{ApiCall, not_oxen};
use super::{OxenClient, wire};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{Branch, RepoDetails, RepoSummary, ServerInfo};
use crate::remote_path::RemotePath;
use crate::repo_ref::{RepoRef, check_branch_name, check_namespace, check_repo_name};
use crate::retry::retry;

impl OxenClient {
    /// `GET /api/version`, also the check that this is an Oxen server at all.
    pub async fn version(&self) -> Result<ServerInfo> {
        let call = ApiCall::Server;
        let url = self.url(&["version"]);
        let timeout = self.inner.options.request_timeout;
        let response = retry(
            &self.inner.options.quick_retry,
            &self.inner.never,
            |_, _, _| {},
            |_| {
                self.send(
                    self.request(Method::GET, url.clone()).timeout(timeout),
                    &call,
                )
            },
        )
        .await?;
        let header_version = response
            .headers()
            .get("oxen-version")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body: Result<wire::VersionBody> = self.parse_json(response).await;
        let version = match body {
            Ok(b) => b.oxen_version.or(header_version),
            // An unreadable body explains itself ("sent a web page"), unless the header says.
            Err(e) => Some(header_version.ok_or(e)?),
        };
        match version {
            Some(v) if !v.trim().is_empty() => Ok(ServerInfo { version: v }),
            _ => Err(not_oxen(
                &self.inner.server,
                "no Oxen version in the answer",
            )),
        }
    }

    /// `GET /api/health`.
    pub async fn health(&self) -> Result<()> {
        let _: serde_json::Value = self
            .get_json(self.url(&["health"]), &ApiCall::Server)
            .await?;
        Ok(())
    }

    // ----- namespaces and repositories --------------------------------------------------------

    pub async fn namespaces(&self) -> Result<Vec<String>> {
        let body: wire::NamespacesBody = self
            .get_json(self.url(&["namespaces"]), &ApiCall::Server)
            .await?;
        let mut names: Vec<String> = body.namespaces.into_iter().map(|n| n.namespace).collect();
        names.sort_by_key(|n| n.to_lowercase());
        names.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
        Ok(names)
    }

    /// Repositories in a namespace. An unknown namespace is simply empty (as the server says).
    pub async fn repositories(&self, namespace: &str) -> Result<Vec<RepoSummary>> {
        RepoRef::new(namespace, "x")?;
        let body: wire::ReposBody = self
            .get_json(
                self.url(&["repos", namespace]),
                &ApiCall::Namespace(namespace),
            )
            .await?;
        let mut repos: Vec<RepoSummary> = body
            .repositories
            .into_iter()
            .map(|r| RepoSummary {
                namespace: r.namespace,
                name: r.name,
            })
            .collect();
        repos.sort_by_key(|r| r.name.to_lowercase());
        Ok(repos)
    }

    pub async fn repository(&self, repo: &RepoRef) -> Result<RepoDetails> {
        let body: wire::RepoBody = self
            .get_json(self.repo_url(repo, &[]), &ApiCall::Repo(repo))
            .await?;
        let r = body.repository;
        Ok(RepoDetails {
            namespace: r.namespace,
            name: r.name,
            is_empty: r.is_empty.unwrap_or(r.latest_commit.is_none()),
            size: r.size.unwrap_or(0),
            branch_count: r.branch_count,
        })
    }

    /// Creates an empty repository. An existing one gives [`ErrorCode::RepoExists`]: the caller
    /// may simply continue with it.
    pub async fn create_repository(
        &self,
        repo: &RepoRef,
        description: Option<&str>,
    ) -> Result<RepoSummary> {
        check_namespace(&repo.namespace)?;
        check_repo_name(&repo.name)?;
        let mut body = serde_json::json!({"namespace": repo.namespace, "name": repo.name});
        if let Some(d) = description.map(str::trim).filter(|d| !d.is_empty()) {
            // Ignored by oxen-server 0.65.2, used by the hub.
            body["description"] = serde_json::Value::String(d.to_owned());
        }
        // Not retried: a lost answer followed by a retry would report "already exists" for the
        // repository we just made. The caller shows a retryable error instead.
        let req = self
            .request(Method::POST, self.url(&["repos"]))
            .json(&body)
            .timeout(self.inner.options.request_timeout);
        let created: wire::RepoBody = self.send_json(req, &ApiCall::CreateRepo(repo)).await?;
        Ok(RepoSummary {
            namespace: created.repository.namespace,
            name: created.repository.name,
        })
    }

    pub async fn delete_repository(&self, repo: &RepoRef) -> Result<()> {
        let req = self
            .request(Method::DELETE, self.repo_url(repo, &[]))
            .timeout(self.inner.options.request_timeout);
        self.send(req, &ApiCall::Repo(repo)).await?;
        Ok(())
    }

    // ----- branches ---------------------------------------------------------------------------

    pub async fn branches(&self, repo: &RepoRef) -> Result<Vec<Branch>> {
        let body: wire::BranchesBody = self
            .get_json(self.repo_url(repo, &["branches"]), &ApiCall::Repo(repo))
            .await?;
        let mut branches: Vec<Branch> = body
            .branches
            .into_iter()
            .map(|b| Branch {
                name: b.name,
                commit_id: b.commit_id,
            })
            .collect();
        branches.sort_by(|a, b| {
            (a.name != "main", a.name.to_lowercase())
                .cmp(&(b.name != "main", b.name.to_lowercase()))
        });
        Ok(branches)
    }

    pub async fn branch(&self, repo: &RepoRef, name: &str) -> Result<Branch> {
        check_branch_name(name)?;
        let url = self.revision_url(repo, &["branches"], name, &RemotePath::root());
        let body: wire::BranchBody = self.get_json(url, &ApiCall::Branch(repo, name)).await?;
        Ok(Branch {
            name: body.branch.name,
            commit_id: body.branch.commit_id,
        })
    }

    /// Creates `new_name` from the head of `from`. The server would silently return an existing
    /// branch; we say so instead ([`ErrorCode::BranchExists`]).
    pub async fn create_branch(
        &self,
        repo: &RepoRef,
        new_name: &str,
        from: &str,
    ) -> Result<Branch> {
        check_branch_name(new_name)?;
        check_branch_name(from)?;
        match self.branch(repo, new_name).await {
            Ok(_) => {
                return Err(Error::new(
                    ErrorCode::BranchExists,
                    format!(
                        "A branch named '{new_name}' already exists in {repo}. Pick it from the list, or choose another name."
                    ),
                ));
            }
            Err(e) if e.code == ErrorCode::BranchNotFound => {}
            Err(e) => return Err(e),
        }
        if self.repository(repo).await?.is_empty {
            return Err(Error::new(
                ErrorCode::RepoEmpty,
                format!(
                    "{repo} has no commits yet, so there is nothing to branch from. Upload files first; the first upload creates the branch."
                ),
            ));
        }
        let body = serde_json::json!({"new_name": new_name, "from_name": from});
        let req = self
            .request(Method::POST, self.repo_url(repo, &["branches"]))
            .json(&body)
            .timeout(self.inner.options.request_timeout);
        let created: wire::BranchBody = self
            .send_json(req, &ApiCall::CreateBranch(repo, new_name, from))
            .await?;
        Ok(Branch {
            name: created.branch.name,
            commit_id: created.branch.commit_id,
        })
    }
}

//! What oxen-server 0.65.2 sends, as serde types, and the parser for its four error shapes.

use serde::Deserialize;

use crate::error::truncate;
use crate::model::Commit;

/// The fields any error body may carry (shapes A, B and C). Shape D is plain text.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ErrorBodyJson {
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub status_message: Option<String>,
    #[serde(default)]
    pub status_description: Option<String>,
    #[serde(default)]
    pub error: Option<StructuredError>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct StructuredError {
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub detail: Option<String>,
}

/// A parsed error response: whatever of the known fields were present, or the text.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ServerError {
    /// `status_message` (shape A/B/C) — a code such as `resource_not_found`, or sometimes text.
    pub status_message: Option<String>,
    /// `status_description` (shape B), human text.
    pub description: Option<String>,
    /// `error.type` (shape C), e.g. `no_changes`, `conflict`.
    pub kind: Option<String>,
    /// `error.title` (shape C), human text.
    pub title: Option<String>,
    /// `error.detail` (shape C), human text.
    pub detail: Option<String>,
    /// The body itself when it was not JSON (shape D), trimmed.
    pub text: Option<String>,
    /// The body looked like an HTML page, i.e. not an Oxen server answering.
    pub is_html: bool,
}

impl ServerError {
    pub fn parse(body: &[u8]) -> ServerError {
        if let Ok(json) = serde_json::from_slice::<ErrorBodyJson>(body) {
            let structured = json.error.unwrap_or_default();
            let parsed = ServerError {
                status_message: json.status_message,
                description: json.status_description,
                kind: structured.kind,
                title: structured.title,
                detail: structured.detail,
                text: None,
                is_html: false,
            };
            if parsed.status_message.is_some() || parsed.kind.is_some() || json.status.is_some() {
                return parsed;
            }
        }
        let text = String::from_utf8_lossy(body).trim().to_owned();
        let lower = text
            .get(..text.len().min(512))
            .unwrap_or("")
            .to_ascii_lowercase();
        ServerError {
            is_html: lower.starts_with("<!doctype") || lower.starts_with("<html"),
            text: (!text.is_empty()).then(|| truncate(&text, 300)),
            ..ServerError::default()
        }
    }

    /// Was any Oxen-shaped JSON found?
    pub fn is_oxen_json(&self) -> bool {
        self.status_message.is_some() || self.kind.is_some()
    }

    /// The most specific human-readable explanation the server gave, if any. Codes such as
    /// `bad_request` and JSON are never returned.
    pub fn human_text(&self) -> Option<&str> {
        let candidates = [
            self.detail.as_deref(),
            self.description.as_deref(),
            self.title.as_deref(),
            self.status_message.as_deref(),
            self.text.as_deref(),
        ];
        candidates
            .into_iter()
            .flatten()
            .find(|t| looks_human(t))
            .map(str::trim)
    }

    /// Does any field say this (case-insensitive)?
    pub fn mentions(&self, needle: &str) -> bool {
        let needle = needle.to_ascii_lowercase();
        [
            &self.status_message,
            &self.description,
            &self.kind,
            &self.title,
            &self.detail,
            &self.text,
        ]
        .into_iter()
        .flatten()
        .any(|t| t.to_ascii_lowercase().contains(&needle))
    }

    /// One line for logs.
    pub fn log_text(&self) -> String {
        let parts: Vec<String> = [
            ("message", &self.status_message),
            ("type", &self.kind),
            ("title", &self.title),
            ("detail", &self.detail),
            ("description", &self.description),
            ("text", &self.text),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
        .collect();
        parts.join("; ")
    }
}

/// Text meant for people: has a space, is not a snake_case code, not JSON, not HTML.
fn looks_human(text: &str) -> bool {
    let t = text.trim();
    !t.is_empty()
        && t.contains(' ')
        && !t.starts_with('{')
        && !t.starts_with('[')
        && !t.starts_with('<')
        && t.len() <= 400
}

#[derive(Debug, Deserialize)]
pub(crate) struct VersionBody {
    pub oxen_version: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct NamespacesBody {
    pub namespaces: Vec<NamespaceJson>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct NamespaceJson {
    pub namespace: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ReposBody {
    pub repositories: Vec<RepoJson>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RepoBody {
    pub repository: RepoJson,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RepoJson {
    pub namespace: String,
    pub name: String,
    #[serde(default)]
    pub is_empty: Option<bool>,
    #[serde(default)]
    pub size: Option<u64>,
    #[serde(default)]
    pub branch_count: Option<u64>,
    #[serde(default)]
    pub latest_commit: Option<CommitJson>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct CommitJson {
    pub id: String,
    #[serde(default)]
    pub parent_ids: Vec<String>,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub author: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub timestamp: String,
}

impl From<CommitJson> for Commit {
    fn from(c: CommitJson) -> Self {
        Commit {
            id: c.id,
            message: c.message,
            author: c.author,
            email: c.email,
            timestamp: c.timestamp,
            parent_ids: c.parent_ids,
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct BranchesBody {
    pub branches: Vec<BranchJson>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct BranchBody {
    pub branch: BranchJson,
}

#[derive(Debug, Deserialize)]
pub(crate) struct BranchJson {
    pub name: String,
    pub commit_id: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct DirBody {
    #[serde(default)]
    pub entries: Vec<DirEntryJson>,
    #[serde(default)]
    pub page_number: Option<u32>,
    #[serde(default)]
    pub total_pages: Option<u32>,
    #[serde(default)]
    pub total_entries: Option<u64>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct DirEntryJson {
    pub filename: String,
    #[serde(default)]
    pub is_dir: bool,
    #[serde(default)]
    pub size: u64,
    #[serde(default)]
    pub hash: Option<String>,
    /// The last commit that changed this file or folder, at the listed revision.
    #[serde(default)]
    pub latest_commit: Option<CommitJson>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct MetaBody {
    pub entry: DirEntryJson,
}

#[derive(Debug, Deserialize)]
pub(crate) struct CommitBody {
    pub commit: CommitJson,
}

#[derive(Debug, Deserialize)]
pub(crate) struct CommitsBody {
    #[serde(default)]
    pub commits: Vec<CommitJson>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct WorkspaceBody {
    pub workspace: WorkspaceJson,
}

#[derive(Debug, Deserialize)]
pub(crate) struct WorkspaceJson {
    pub id: String,
    #[serde(default)]
    pub commit: Option<CommitJson>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct PathsBody {
    #[serde(default)]
    pub paths: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct BeginUploadBody {
    pub file: String,
    #[serde(default)]
    pub upload_id: Option<String>,
    #[serde(default)]
    pub part_size: Option<u64>,
    #[serde(default)]
    pub num_parts: Option<u64>,
    #[serde(default)]
    pub part_window: Option<u64>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct PartBody {
    #[serde(default)]
    pub completed: bool,
}

#[derive(Debug, Deserialize)]
pub(crate) struct VersionMetaBody {
    pub version: VersionMetaJson,
}

#[derive(Debug, Deserialize)]
pub(crate) struct VersionMetaJson {
    #[allow(dead_code)]
    pub hash: String,
    pub size: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_a_status_message() {
        let e = ServerError::parse(
            br#"{"status":"error","status_message":"Repo already exists.","oxen_version":"0.65.2"}"#,
        );
        assert_eq!(e.status_message.as_deref(), Some("Repo already exists."));
        assert_eq!(e.human_text(), Some("Repo already exists."));
        assert!(e.is_oxen_json());
        let code_only = ServerError::parse(
            br#"{"status":"error","status_message":"resource_not_found","oxen_version":"0.65.2"}"#,
        );
        assert_eq!(
            code_only.human_text(),
            None,
            "a code is not text for people"
        );
    }

    #[test]
    fn shape_b_description() {
        let e = ServerError::parse(
            br#"{"status":"error","status_message":"resource_not_found","oxen_version":"0.65.2","status_description":"Repository 'ox/cats' not found"}"#,
        );
        assert_eq!(e.human_text(), Some("Repository 'ox/cats' not found"));
        assert!(e.mentions("not found"));
    }

    #[test]
    fn shape_c_structured() {
        let e = ServerError::parse(
            br#"{"error":{"type":"no_changes","title":"No changes to commit","detail":"Nothing staged"},"status":"error","status_message":"bad_request"}"#,
        );
        assert_eq!(e.kind.as_deref(), Some("no_changes"));
        assert_eq!(
            e.human_text(),
            Some("Nothing staged"),
            "detail is the most specific"
        );
        let generic = ServerError::parse(
            br#"{"error":{"type":"internal_server_error","title":"'a b' is not a valid branch name."},"status":"error","status_message":"internal_server_error"}"#,
        );
        assert_eq!(
            generic.human_text(),
            Some("'a b' is not a valid branch name.")
        );
    }

    #[test]
    fn shape_d_text_and_empty() {
        let e = ServerError::parse(b"Payload error");
        assert_eq!(e.text.as_deref(), Some("Payload error"));
        assert!(!e.is_oxen_json());
        let empty = ServerError::parse(b"");
        assert_eq!(empty, ServerError::default());
        assert_eq!(empty.human_text(), None);
    }

    #[test]
    fn html_and_foreign_json_are_not_oxen() {
        let html = ServerError::parse(b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>");
        assert!(html.is_html);
        assert_eq!(html.human_text(), None, "HTML is never shown");
        let foreign = ServerError::parse(br#"{"message":"Not Found","documentation_url":"x"}"#);
        assert!(!foreign.is_oxen_json());
        assert_eq!(foreign.human_text(), None, "raw JSON is never shown");
        let garbage = ServerError::parse(&[0xff, 0xfe, 0x00, 0x41]);
        assert!(!garbage.is_oxen_json());
    }
}

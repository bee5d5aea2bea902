//! Which server, which key, which author: from flags, the environment and (later) the accounts.

use std::path::Path;

use oxdrop_core::model::Author;
use oxdrop_core::plan::PlanRequest;
use oxdrop_core::upload::list_resumable;
use oxdrop_core::{ApiKey, Error, ErrorCode, OxenClient, ServerUrl};

/// A client for `--server` (or $OXDROP_SERVER) with the key from $OXDROP_API_KEY.
pub fn client(server: Option<&str>) -> Result<OxenClient, Error> {
    let server = match server {
        Some(s) => ServerUrl::parse(s)?,
        None => {
            return Err(Error::new(
                ErrorCode::NotSignedIn,
                "No server given. Pass --server URL or set OXDROP_SERVER.",
            ));
        }
    };
    let key = std::env::var("OXDROP_API_KEY").ok().and_then(ApiKey::new);
    if key.is_some() {
        server.check_secure(false)?;
    }
    OxenClient::new(server, key)
}

/// "Name <email>" from the flag or $OXDROP_AUTHOR.
pub fn author(flag: Option<&str>) -> Result<Author, Error> {
    let missing = || {
        Error::new(
            ErrorCode::InvalidInput,
            "Commits need an author. Pass --author \"Your Name <you@example.com>\" or set OXDROP_AUTHOR.",
        )
    };
    let text = flag.ok_or_else(missing)?;
    let author = parse_author(text).ok_or_else(missing)?;
    author.check()?;
    Ok(author)
}

fn parse_author(text: &str) -> Option<Author> {
    let (name, rest) = text.split_once('<')?;
    let email = rest.strip_suffix('>')?.trim();
    Some(Author {
        name: name.trim().to_owned(),
        email: email.to_owned(),
    })
}

/// An interrupted upload of exactly these sources to the same place, if any.
pub fn matching_interrupted(
    dir: &Path,
    client: &OxenClient,
    request: &PlanRequest,
) -> Option<String> {
    list_resumable(dir).into_iter().find_map(|u| {
        if &u.server != client.server() || u.repo != request.repo || u.branch != request.branch {
            return None;
        }
        let text = std::fs::read_to_string(dir.join(format!("{}.plan.json", u.id))).ok()?;
        let stored: serde_json::Value = serde_json::from_str(&text).ok()?;
        let same = stored["request"] == serde_json::to_value(request).ok()?;
        same.then_some(u.id)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_author() {
        let a = parse_author("Ada Lovelace <ada@example.com>").unwrap();
        assert_eq!(
            (a.name.as_str(), a.email.as_str()),
            ("Ada Lovelace", "ada@example.com")
        );
        assert!(parse_author("Ada").is_none());
    }
}

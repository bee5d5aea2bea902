//! Which server, which key, which author: flags, then the environment, then the signed-in
//! accounts (the same ones the app uses, with keys in the OS keychain).

use std::io::{IsTerminal, Read};
use std::path::Path;

use oxdrop_core::accounts::{self, Keychain, SecretText, SettingsStore, SignIn};
use oxdrop_core::model::Author;
use oxdrop_core::plan::PlanRequest;
use oxdrop_core::upload::{self, Interrupted, UploadId, list_resumable};
use oxdrop_core::{ApiKey, Error, ErrorCode, OxenClient, ServerUrl};

pub fn store() -> Result<SettingsStore, Error> {
    SettingsStore::default_location()
}

/// A client for `--server` (or the active account), with the key from `$OXDROP_API_KEY` or the
/// account's keychain entry.
pub fn client(server: Option<&str>) -> Result<OxenClient, Error> {
    let settings = store()?.load();
    let (url, account) = match server {
        Some(s) => {
            let url = ServerUrl::parse(s)?;
            let account = settings.account_for(&url).cloned();
            (url, account)
        }
        None => match settings.active_account() {
            Some(a) => (a.server.clone(), Some(a.clone())),
            None => {
                return Err(Error::new(
                    ErrorCode::NotSignedIn,
                    "Not signed in. Run `oxdrop login --server URL` first, or pass --server.",
                ));
            }
        },
    };
    let env_key = std::env::var("OXDROP_API_KEY").ok().and_then(ApiKey::new);
    let key = match (env_key, &account) {
        (Some(k), _) => Some(k),
        (None, Some(a)) if a.has_key => Some(Keychain::default_service().get(&a.id)?.ok_or_else(|| {
            Error::new(ErrorCode::NotSignedIn, format!("The key for {} is no longer in the keychain. Run `oxdrop login --server {}` again.", a.server, a.server))
        })?),
        _ => None,
    };
    if key.is_some() {
        url.check_secure(account.as_ref().is_some_and(|a| a.insecure_ok))?;
    }
    let user = account.as_ref().map_or("", |a| a.user.as_str());
    Ok(OxenClient::new(url, key)?.for_user(user))
}

/// Reads the key: all of standard input when piped, a hidden prompt on a terminal. Never from
/// an argument, which other users of the computer can read.
fn read_key() -> Result<SecretText, Error> {
    if std::io::stdin().is_terminal() {
        let key = rpassword::prompt_password("API key (input hidden): ").map_err(|e| {
            Error::new(
                ErrorCode::InvalidInput,
                "Could not read the key from the terminal.",
            )
            .with_detail(e.to_string())
        })?;
        Ok(SecretText::new(key))
    } else {
        let mut key = String::new();
        std::io::stdin().read_to_string(&mut key).map_err(|e| {
            Error::new(
                ErrorCode::InvalidInput,
                "Could not read the key from standard input.",
            )
            .with_detail(e.to_string())
        })?;
        Ok(SecretText::new(key))
    }
}

pub async fn login(
    server: &str,
    user: Option<String>,
    insecure: bool,
) -> Result<accounts::Account, Error> {
    let key = read_key()?;
    let form = SignIn {
        server: server.to_owned(),
        user: user.unwrap_or_default(),
        key,
        accept_insecure: insecure,
    };
    accounts::sign_in(&store()?, &Keychain::default_service(), form).await
}

pub fn logout(server: &str, user: Option<&str>) -> Result<Vec<String>, Error> {
    let url = ServerUrl::parse(server)?;
    let store = store()?;
    let ids: Vec<String> = store
        .load()
        .accounts
        .into_iter()
        .filter(|a| a.server == url && user.is_none_or(|u| a.user == u))
        .map(|a| a.id)
        .collect();
    if ids.is_empty() {
        return Err(Error::new(
            ErrorCode::NotSignedIn,
            format!("No account is signed in to {url}."),
        ));
    }
    let keychain = Keychain::default_service();
    for id in &ids {
        accounts::sign_out(&store, &keychain, id)?;
    }
    Ok(ids)
}

/// The commit author: the flag, `$OXDROP_AUTHOR`, then the saved author (the app's too).
pub fn author(flag: Option<&str>) -> Result<Author, Error> {
    let author = match flag {
        Some(text) => parse_author(text).ok_or_else(missing_author)?,
        None => store()?.load().author.ok_or_else(missing_author)?,
    };
    author.check()?;
    Ok(author)
}

fn missing_author() -> Error {
    Error::new(
        ErrorCode::InvalidInput,
        "Commits need an author. Pass --author \"Your Name <you@example.com>\", set OXDROP_AUTHOR, or save one with `oxdrop author \"Your Name <you@example.com>\"`.",
    )
}

pub fn parse_author(text: &str) -> Option<Author> {
    let (name, rest) = text.split_once('<')?;
    let email = rest.trim().strip_suffix('>')?.trim();
    Some(Author {
        name: name.trim().to_owned(),
        email: email.to_owned(),
    })
}

/// An interrupted upload of exactly these sources to the same place, if any (one that is
/// running right now, in the app or another command, is not).
pub fn matching_interrupted(
    dir: &Path,
    client: &OxenClient,
    request: &PlanRequest,
) -> Option<Interrupted> {
    let wanted = serde_json::to_value(request).ok()?;
    list_resumable(dir).into_iter().find_map(|u| {
        if &u.server != client.server() || u.repo != request.repo || u.branch != request.branch {
            return None;
        }
        let found = upload::interrupted(dir, &UploadId::parse(&u.id).ok()?).ok()?;
        let same = serde_json::to_value(&found.request).ok()? == wanted;
        same.then_some(found)
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

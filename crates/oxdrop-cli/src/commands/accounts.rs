//! `login`, `logout`, `accounts` and `author`: who uploads, to which server, with which key.

use oxdrop_core::{Error, ErrorCode};

use crate::connect;
use crate::exit::Exit;

/// `server` defaults to the hub here: signing in is how a server becomes known.
pub async fn cmd_login(
    server: Option<&str>,
    user: Option<String>,
    insecure: bool,
    json: bool,
) -> Result<Exit, Error> {
    let server = server.unwrap_or(oxdrop_core::server_url::HUB_URL);
    let account = connect::login(server, user, insecure).await?;
    if json {
        println!(
            "{}",
            serde_json::to_string(&account).map_err(Error::internal)?
        );
    } else {
        println!(
            "Signed in to {} as {}. The key is in the system keychain.",
            account.server,
            if account.user.is_empty() {
                "(no user name)"
            } else {
                &account.user
            }
        );
    }
    Ok(Exit::Ok)
}

/// `server` defaults to the active account's.
pub fn cmd_logout(server: Option<String>, user: Option<String>) -> Result<Exit, Error> {
    let server = match server {
        Some(s) => s,
        None => connect::store()?
            .load()
            .active_account()
            .map(|a| a.server.to_string())
            .ok_or_else(|| Error::new(ErrorCode::NotSignedIn, "Not signed in to any server."))?,
    };
    for id in connect::logout(&server, user.as_deref())? {
        println!("Signed out {id}; its key was deleted from the keychain.");
    }
    Ok(Exit::Ok)
}

pub fn cmd_accounts(json: bool) -> Result<Exit, Error> {
    let settings = connect::store()?.load();
    if json {
        println!(
            "{}",
            serde_json::to_string(&settings.accounts).map_err(Error::internal)?
        );
    } else if settings.accounts.is_empty() {
        println!("No accounts. Sign in with `oxdrop login --server URL`.");
    } else {
        for a in &settings.accounts {
            let mark = if settings.active.as_deref() == Some(a.id.as_str()) {
                "*"
            } else {
                " "
            };
            println!("{mark} {}  {}", a.server, a.user);
        }
    }
    Ok(Exit::Ok)
}

/// Saves `author` when given, then shows the saved one.
pub fn cmd_author(author: Option<String>) -> Result<Exit, Error> {
    let store = connect::store()?;
    let author = match author {
        Some(text) => {
            let parsed = connect::parse_author(&text).ok_or_else(|| {
                Error::new(
                    ErrorCode::InvalidInput,
                    "Write the author as \"Name <email>\".",
                )
            })?;
            parsed.check()?;
            store
                .update(|settings| {
                    settings.author = Some(parsed);
                    Ok(())
                })?
                .0
                .author
        }
        None => store.load().author,
    };
    match author {
        Some(a) => println!("{} <{}>", a.name, a.email),
        None => println!("No author saved."),
    }
    Ok(Exit::Ok)
}

//! `create-repo`, `create-branch` and `ls`: the repositories themselves.

use oxdrop_core::{Error, RemotePath, RepoRef};

use crate::connect;
use crate::exit::Exit;

pub async fn cmd_create_repo(
    server: Option<&str>,
    repo: &str,
    description: Option<&str>,
    json: bool,
) -> Result<Exit, Error> {
    let client = connect::client(server)?;
    let repo = RepoRef::parse(repo)?;
    let created = client.create_repository(&repo, description).await?;
    if json {
        println!(
            "{}",
            serde_json::to_string(&created).map_err(Error::internal)?
        );
    } else {
        println!("Created {}/{}", created.namespace, created.name);
    }
    Ok(Exit::Ok)
}

pub async fn cmd_create_branch(
    server: Option<&str>,
    repo: &str,
    name: &str,
    from: &str,
    json: bool,
) -> Result<Exit, Error> {
    let client = connect::client(server)?;
    let repo = RepoRef::parse(repo)?;
    let branch = client.create_branch(&repo, name, from).await?;
    if json {
        println!(
            "{}",
            serde_json::to_string(&branch).map_err(Error::internal)?
        );
    } else {
        println!(
            "Created branch {} from {from} at {}",
            branch.name,
            short(&branch.commit_id)
        );
    }
    Ok(Exit::Ok)
}

/// A namespace's repositories, or a folder of a repository.
pub async fn cmd_ls(
    server: Option<&str>,
    target: &str,
    path: &str,
    branch: &str,
    json: bool,
) -> Result<Exit, Error> {
    let client = connect::client(server)?;
    if !target.contains('/') {
        let repos = client.repositories(target).await?;
        if json {
            println!(
                "{}",
                serde_json::to_string(&repos).map_err(Error::internal)?
            );
        } else {
            for r in repos {
                println!("{}/{}", r.namespace, r.name);
            }
        }
        return Ok(Exit::Ok);
    }
    let repo = RepoRef::parse(target)?;
    let entries = client
        .list_dir_all(&repo, branch, &RemotePath::parse(path)?)
        .await?;
    if json {
        println!(
            "{}",
            serde_json::to_string(&entries).map_err(Error::internal)?
        );
    } else {
        for e in entries {
            if e.is_dir {
                println!("{:>12}  {}/", "", e.name);
            } else {
                println!("{:>12}  {}", e.size, e.name);
            }
        }
    }
    Ok(Exit::Ok)
}

fn short(id: &str) -> &str {
    &id[..id.len().min(10)]
}

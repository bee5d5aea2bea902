//! One upload of a watch: the settled changes planned with the planner every upload uses,
//! someone else's changes on the branch left alone, mirrored deletions checked, and one commit
//! through the engine, journaled in the watch's own folder so a restart finishes it first.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::Instant;

use tokio_util::sync::CancellationToken;

use super::message::{Changed, commit_message};
use super::place::{branch_files, connect, no_author, rel_of, remote_of};
use super::record::{ConflictRecord, FileRecord};
use super::runner::Runner;
use super::scan::{Seen, can_open};
use super::status::{Conflict, ConflictKind};
use super::verdict::{Removal, Verdict, judge, judge_removal};
use crate::accounts::Destination;
use crate::client::OxenClient;
use crate::error::Result;
use crate::plan::{FileStatus, FolderContents, PlanRequest, hash_many, make_plan};
use crate::upload::{self, UploadOptions};

impl Runner {
    /// Uploads what is ready, if an interrupted upload does not come first.
    pub(super) async fn go(&mut self) {
        if !upload::list_resumable(&self.journals()).is_empty() {
            self.resume_interrupted().await;
            return;
        }
        let started = Instant::now();
        let ready = self.ready(started);
        let deleted = self.deletions(Some(started));
        // Only what can be opened now (a writer may hold a file locked on some systems).
        let folder = self.watch.folder.clone();
        let (ready, busy): (Vec<_>, Vec<_>) = tokio::task::spawn_blocking(move || {
            ready
                .into_iter()
                .partition(|(rel, _): &(String, Seen)| can_open(&folder, rel))
        })
        .await
        .unwrap_or_default();
        for (rel, _) in busy {
            if let Some(c) = self.changes.delta.get_mut(&rel) {
                c.since = Instant::now();
            }
        }
        if ready.is_empty() && deleted.is_empty() {
            return;
        }
        let attempted: Vec<String> = ready
            .iter()
            .map(|(r, _)| r.clone())
            .chain(deleted.iter().cloned())
            .collect();
        self.set_uploading(true);
        let result = self.upload(ready, deleted).await;
        self.set_uploading(false);
        if let Err(e) = result {
            self.failed(e);
        }
        self.interrupted = !upload::list_resumable(&self.journals()).is_empty();
        self.recheck(attempted.clone()).await;
        // Ready files still waiting unchanged (they failed): wait before trying them again,
        // longer each time, so a file that cannot be sent never makes the watch spin.
        let stuck = attempted.iter().any(|rel| {
            self.changes
                .delta
                .get(rel)
                .is_some_and(|c| c.since <= started)
        });
        if stuck && self.retry_at.is_none() {
            self.failures = self.failures.saturating_add(1);
            let wait = self.shared.ctx.timing.backoff_first;
            self.retry_at = Some(Instant::now() + wait);
        }
    }

    async fn upload(&mut self, ready: Vec<(String, Seen)>, deleted: Vec<String>) -> Result<()> {
        let ctx = self.shared.ctx.clone();
        let client = connect(&ctx, &self.watch).await?;
        let settings = ctx.settings.load();
        let author = ctx
            .author
            .clone()
            .or(settings.author)
            .ok_or_else(no_author)?;
        author.check()?;
        let d = self.watch.destination.clone();
        let request = PlanRequest {
            repo: d.repo.clone(),
            branch: d.branch.clone(),
            dest: d.dest.clone(),
            sources: vec![self.watch.folder.clone()],
            follow_links: false,
            ignore_patterns: settings.ignore_patterns,
            contents: Some(FolderContents {
                only: Some(
                    ready
                        .iter()
                        .filter_map(|(rel, _)| remote_of(&d.dest, rel).ok())
                        .collect(),
                ),
            }),
        };
        let mut plan = make_plan(&client, &request).await?;

        // Someone else's changes on the branch stay as they are.
        let seen: HashMap<&str, Seen> = ready.iter().map(|(r, s)| (r.as_str(), *s)).collect();
        let mut conflicts: Vec<ConflictRecord> = Vec::new();
        let record = &self.record;
        plan.retain_files(|f| {
            let rel = rel_of(&d.dest, &f.remote);
            let (committed, inflight) = record.ours(&rel);
            match judge(f, committed, inflight) {
                Verdict::Go => true,
                Verdict::Conflict(kind) => {
                    conflicts.push(ConflictRecord {
                        server_hash: f.remote_hash.clone(),
                        seen: seen.get(rel.as_str()).copied(),
                        conflict: Conflict {
                            path: rel,
                            remote: f.remote.clone(),
                            kind,
                            commit: f.remote_commit.clone(),
                        },
                    });
                    false
                }
            }
        });
        let (removals, already_gone) = self
            .check_removals(&client, &d, &deleted, &mut conflicts)
            .await?;
        plan.removals = removals
            .iter()
            .filter_map(|rel| remote_of(&d.dest, rel).ok())
            .collect();

        // The content of every file sent is recorded; the engine checks it is what goes.
        let unhashed: Vec<usize> = plan
            .to_send()
            .filter(|(_, f)| f.hash.is_none())
            .map(|(i, _)| i)
            .collect();
        let hashed = hash_many(
            unhashed
                .iter()
                .map(|i| PathBuf::from(&plan.files[*i].local))
                .collect(),
        )
        .await?;
        let mut moved = HashSet::new();
        for (i, result) in unhashed.into_iter().zip(hashed) {
            match result {
                Ok((hash, read)) if read == plan.files[i].size => plan.files[i].hash = Some(hash),
                // Changed or unreadable since it was planned: next time.
                _ => {
                    moved.insert(plan.files[i].remote.clone());
                }
            }
        }
        if !moved.is_empty() {
            plan.retain_files(|f| !moved.contains(&f.remote));
        }

        // What needs no sending is dealt with now: unchanged files, what the plan left out.
        let planned: HashMap<String, usize> = plan
            .files
            .iter()
            .enumerate()
            .map(|(i, f)| (rel_of(&d.dest, &f.remote), i))
            .collect();
        let held: HashSet<String> = conflicts.iter().map(|c| c.conflict.path.clone()).collect();
        let moved: HashSet<String> = moved.iter().map(|r| rel_of(&d.dest, r)).collect();
        for (rel, seen) in &ready {
            if held.contains(rel) || moved.contains(rel) {
                continue;
            }
            match planned.get(rel).map(|i| &plan.files[*i]) {
                Some(f) if f.status == FileStatus::Unchanged => {
                    let hash = f.hash.clone().or_else(|| f.remote_hash.clone());
                    let as_planned = Seen {
                        size: f.size,
                        mtime_ns: f.mtime_ns,
                    };
                    self.record.dealt(rel, Some(as_planned), hash);
                }
                Some(_) => {}
                None => {
                    let hash = self.record.files.get(rel).and_then(|f| f.hash.clone());
                    self.record.dealt(rel, Some(*seen), hash);
                }
            }
        }
        for c in conflicts {
            self.record.conflicts.insert(c.conflict.path.clone(), c);
        }
        for rel in &already_gone {
            self.record.files.remove(rel);
        }

        let sending: Vec<(String, FileRecord)> = plan
            .to_send()
            .map(|(_, f)| {
                let record = FileRecord {
                    seen: Some(Seen {
                        size: f.size,
                        mtime_ns: f.mtime_ns,
                    }),
                    hash: f.hash.clone(),
                };
                (rel_of(&d.dest, &f.remote), record)
            })
            .collect();
        if sending.is_empty() && plan.removals.is_empty() {
            self.succeeded();
            return self.record.save(&self.dir);
        }
        let mut what = Changed::default();
        for (_, f) in plan.to_send() {
            let rel = rel_of(&d.dest, &f.remote);
            match f.status {
                FileStatus::New => what.new.push(rel),
                _ => what.changed.push(rel),
            }
        }
        what.removed = removals.clone();
        for (rel, file) in &sending {
            self.record.inflight.insert(rel.clone(), file.clone());
        }
        self.record.save(&self.dir)?;
        let options = UploadOptions {
            message: commit_message(&self.watch.folder, &what),
            author,
            tuning: ctx.tuning.clone(),
            journal_dir: Some(self.journals()),
            // A watch pauses between cycles (`oxdrop watch pause`), not in the middle of one.
            ..Default::default()
        };
        let result = upload::upload(
            &client,
            &request,
            &plan,
            &options,
            self.sink(),
            CancellationToken::new(),
        )
        .await;
        let sent: Vec<String> = sending.into_iter().map(|(rel, _)| rel).collect();
        self.after_upload(result, &d.dest, &sent, &removals)
    }

    /// Deleted files whose removal may go: only where the branch still has the watch's own
    /// content. Returns (to remove, already gone); the rest are conflicts.
    async fn check_removals(
        &self,
        client: &OxenClient,
        d: &Destination,
        deleted: &[String],
        conflicts: &mut Vec<ConflictRecord>,
    ) -> Result<(Vec<String>, Vec<String>)> {
        let (mut remove, mut gone) = (Vec::new(), Vec::new());
        if deleted.is_empty() {
            return Ok((remove, gone));
        }
        let on_branch = branch_files(client, d, deleted).await?;
        for rel in deleted {
            let ours = self.record.files.get(rel).and_then(|f| f.hash.as_deref());
            let theirs = on_branch.get(rel);
            let their_hash = theirs.map(|e| e.hash.as_deref().unwrap_or(""));
            match judge_removal(ours, their_hash) {
                Removal::Remove => remove.push(rel.clone()),
                Removal::AlreadyGone => gone.push(rel.clone()),
                Removal::Conflict => conflicts.push(ConflictRecord {
                    server_hash: theirs.and_then(|e| e.hash.clone()),
                    seen: None,
                    conflict: Conflict {
                        path: rel.clone(),
                        remote: remote_of(&d.dest, rel)?,
                        kind: ConflictKind::ChangedOnServer,
                        commit: theirs.and_then(|e| e.latest_commit.as_ref().map(|c| c.id.clone())),
                    },
                }),
            }
        }
        Ok((remove, gone))
    }
}

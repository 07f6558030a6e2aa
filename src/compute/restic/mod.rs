//! restic on a compute host: backups of homes, snapshots, verification, restore, retention.
//!
//! restic runs ON the host, over the SSH [`Session`]; every command line comes from a pure
//! builder in [`command`] and every output is read by a parser in [`parse`], both tested
//! without a host. The [`Restic`] runner here only joins them: run, classify a failure into a
//! [`ResticError`], parse. A backup is not trusted until it is listed afterwards with the
//! paths asked for ([`Restic::verify_snapshot`]); a restore is not trusted until the restored
//! path exists. Passwords never pass through here: only the path of the file on the host.
//! This module must not decide policy (what to back up, when to prune): callers do.

pub mod command;
pub mod error;
pub mod parse;
pub mod repo;

use std::time::{Duration, Instant};

use serde::Serialize;

pub use command::SnapshotFilter;
pub use error::ResticError;
pub use parse::{BackupSummary, ForgetGroup, ItemError, Snapshot, SnapshotId};
pub use repo::{DEFAULT_CACHE_DIR, Repo, redact_repository};

use crate::compute::command::{CommandOutput, RemoteCommand};
use crate::compute::{Session, SshError};
use crate::config::Keep;

/// What [`Restic::init_if_missing`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InitOutcome {
    Created,
    Existing,
}

/// A verified backup: the snapshot as listed afterwards and restic's summary.
#[derive(Debug, Clone, Serialize)]
pub struct BackupOutcome {
    pub snapshot: Snapshot,
    pub summary: BackupSummary,
    /// Wall-clock time of the backup command.
    pub elapsed: Duration,
}

impl BackupOutcome {
    pub fn id(&self) -> &SnapshotId {
        &self.snapshot.id
    }
}

/// What a `forget --prune` removed (or would remove, with `dry_run`).
#[derive(Debug, Clone, Serialize)]
pub struct ForgetOutcome {
    pub dry_run: bool,
    pub kept: Vec<Snapshot>,
    pub removed: Vec<Snapshot>,
}

/// What a verification should find in a snapshot.
#[derive(Debug, Clone, Default)]
pub struct Expect {
    /// Exactly these paths (order and trailing slashes do not matter).
    pub paths: Vec<String>,
    /// At least these tags.
    pub tags: Vec<String>,
    /// Also read this share of the repository's data (`restic check --read-data-subset`,
    /// e.g. `1/20` or `5%`). `check` takes restic's exclusive lock.
    pub read_data_subset: Option<String>,
}

/// restic over one SSH session, against one repository.
#[derive(Debug)]
pub struct Restic<'s> {
    session: &'s Session,
    repo: Repo,
}

impl<'s> Restic<'s> {
    pub fn new(session: &'s Session, repo: Repo) -> Self {
        Restic { session, repo }
    }

    pub fn repo(&self) -> &Repo {
        &self.repo
    }

    fn host_name(&self) -> &str {
        &self.session.host().name
    }

    /// Run a command; connection trouble becomes [`ResticError::Ssh`] with the repository
    /// redacted from the command shown.
    async fn exec(
        &self,
        cmd: &RemoteCommand,
        stdin: Option<&[u8]>,
    ) -> Result<CommandOutput, ResticError> {
        self.session
            .run(cmd, stdin, None)
            .await
            .map_err(|e| self.redact_ssh(e))
    }

    fn redact_ssh(&self, e: SshError) -> ResticError {
        match e {
            SshError::CommandTimeout {
                name,
                command,
                after,
            } => ResticError::Ssh(SshError::CommandTimeout {
                name,
                command: repo::redact_in(&command, &self.repo),
                after,
            }),
            SshError::ExecRefused { name, command } => ResticError::Ssh(SshError::ExecRefused {
                name,
                command: repo::redact_in(&command, &self.repo),
            }),
            e => ResticError::Ssh(e),
        }
    }

    /// Run, and turn a non-zero exit into a classified error.
    async fn run_ok(
        &self,
        action: &str,
        cmd: &RemoteCommand,
    ) -> Result<CommandOutput, ResticError> {
        let out = self.exec(cmd, None).await?;
        if out.success() {
            Ok(out)
        } else {
            Err(error::classify(
                self.host_name(),
                action,
                &self.repo,
                &out,
                None,
                Vec::new(),
            ))
        }
    }

    /// Does the repository exist (and open with the password)? `Ok(false)` only when it is
    /// missing; a wrong password or a lock is an error.
    pub async fn exists(&self) -> Result<bool, ResticError> {
        match self
            .run_ok("cat config", &command::probe(&self.repo)?)
            .await
        {
            Ok(_) => Ok(true),
            Err(ResticError::RepoMissing { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The repository must exist: a production repository is never created behind the
    /// operator's back. Missing -> [`ResticError::RepoMissing`], which says how to init it.
    pub async fn require(&self) -> Result<(), ResticError> {
        self.run_ok("cat config", &command::probe(&self.repo)?)
            .await
            .map(|_| ())
    }

    /// Create the repository if it does not exist (the lab, first runs of a rehearsal).
    pub async fn init_if_missing(&self) -> Result<InitOutcome, ResticError> {
        if self.exists().await? {
            return Ok(InitOutcome::Existing);
        }
        self.run_ok("init", &command::init(&self.repo)?).await?;
        Ok(InitOutcome::Created)
    }

    /// Back up `paths` (absolute) with `tags`, recorded as taken on `host`, then find the new
    /// snapshot by its full id and check it holds exactly those paths and tags. A snapshot that
    /// misses files (exit 3) is [`ResticError::Incomplete`], with its id and the files.
    pub async fn backup(
        &self,
        paths: &[String],
        tags: &[String],
        host: &str,
    ) -> Result<BackupOutcome, ResticError> {
        let cmd = command::backup(&self.repo, paths, tags, host)?;
        let started = Instant::now();
        let out = self.exec(&cmd, None).await?;
        let elapsed = started.elapsed();
        let stdout = out.stdout_text();
        let stderr = out.stderr_text();
        let summary = parse::parse_backup_summary(&stdout);
        if !out.success() {
            return Err(error::classify(
                self.host_name(),
                "backup",
                &self.repo,
                &out,
                summary.map(|s| s.snapshot_id),
                parse::parse_backup_errors(&stderr),
            ));
        }
        let Some(summary) = summary else {
            return Err(ResticError::Output {
                host: self.host_name().to_string(),
                action: "backup".into(),
                detail: "no summary line on stdout".into(),
            });
        };
        let expect = Expect {
            paths: paths.to_vec(),
            tags: tags.to_vec(),
            read_data_subset: None,
        };
        let skipped = parse::parse_skipped_paths(&stderr);
        let snapshot = match self.verify_snapshot(&summary.snapshot_id, &expect).await {
            Err(ResticError::Unverified {
                host,
                action,
                reason,
            }) if !skipped.is_empty() => {
                return Err(ResticError::Unverified {
                    host,
                    action,
                    reason: format!(
                        "{reason} (restic skipped paths that do not exist: {})",
                        skipped.join(", ")
                    ),
                });
            }
            other => other?,
        };
        Ok(BackupOutcome {
            snapshot,
            summary,
            elapsed,
        })
    }

    /// The snapshots that match `filter`.
    pub async fn snapshots(&self, filter: &SnapshotFilter) -> Result<Vec<Snapshot>, ResticError> {
        let out = self
            .run_ok("snapshots", &command::snapshots(&self.repo, filter)?)
            .await?;
        parse::parse_snapshots(&out.stdout_text()).map_err(|detail| ResticError::Output {
            host: self.host_name().to_string(),
            action: "snapshots".into(),
            detail,
        })
    }

    /// Find snapshot `id` (full or short) and check it against `expect`: listed, exactly one,
    /// the paths asked for, the tags asked for; optionally a `restic check` reading part of
    /// the data. Returns the snapshot with its full id.
    pub async fn verify_snapshot(
        &self,
        id: &str,
        expect: &Expect,
    ) -> Result<Snapshot, ResticError> {
        let unverified = |reason: String| ResticError::Unverified {
            host: self.host_name().to_string(),
            action: format!("snapshot {id}"),
            reason,
        };
        let filter = SnapshotFilter {
            ids: vec![id.to_string()],
            ..Default::default()
        };
        let found = self.snapshots(&filter).await?;
        let snap = match found.as_slice() {
            [one] => one.clone(),
            [] => return Err(unverified("it is not listed in the repository".into())),
            many => {
                return Err(unverified(format!(
                    "{} snapshots match this id",
                    many.len()
                )));
            }
        };
        if !snap.id.as_str().starts_with(&id.to_ascii_lowercase()) {
            return Err(unverified(format!("restic listed {} instead", snap.id)));
        }
        if let Some(reason) = mismatch(&snap, expect) {
            return Err(unverified(reason));
        }
        if let Some(subset) = &expect.read_data_subset {
            self.run_ok("check", &command::check(&self.repo, Some(subset))?)
                .await?;
        }
        Ok(snap)
    }

    /// Restore `include` (an absolute path inside snapshot `id`) under `target` (`/` puts it
    /// back in place), then check that it exists there: restic says nothing when an include
    /// matches no file.
    pub async fn restore(&self, id: &str, include: &str, target: &str) -> Result<(), ResticError> {
        self.run_ok(
            "restore",
            &command::restore(&self.repo, id, include, target)?,
        )
        .await?;
        let landed = command::restored_path(include, target);
        let out = self.exec(&command::exists(&landed)?, None).await?;
        if out.success() {
            Ok(())
        } else {
            Err(ResticError::Unverified {
                host: self.host_name().to_string(),
                action: format!("restore of snapshot {id}"),
                reason: format!(
                    "{landed} does not exist after the restore: is {include} inside that snapshot?"
                ),
            })
        }
    }

    /// Apply the retention policy `keep` to the snapshots matching `filter`, and prune the
    /// data no snapshot uses any more. With `dry_run`, only say what would go.
    pub async fn forget_prune(
        &self,
        keep: &Keep,
        filter: &SnapshotFilter,
        dry_run: bool,
    ) -> Result<ForgetOutcome, ResticError> {
        let cmd = command::forget_prune(&self.repo, keep, filter, dry_run)?;
        let out = self.run_ok("forget", &cmd).await?;
        let groups =
            parse::parse_forget(&out.stdout_text()).map_err(|detail| ResticError::Output {
                host: self.host_name().to_string(),
                action: "forget".into(),
                detail,
            })?;
        let mut outcome = ForgetOutcome {
            dry_run,
            kept: Vec::new(),
            removed: Vec::new(),
        };
        for g in groups {
            outcome.kept.extend(g.keep);
            outcome.removed.extend(g.remove);
        }
        Ok(outcome)
    }
}

/// Why `snap` does not match `expect`, if it does not.
pub fn mismatch(snap: &Snapshot, expect: &Expect) -> Option<String> {
    if !expect.paths.is_empty() {
        let mut want: Vec<String> = expect
            .paths
            .iter()
            .map(|p| command::normalize_path(p))
            .collect();
        let mut got: Vec<String> = snap
            .paths
            .iter()
            .map(|p| command::normalize_path(p))
            .collect();
        want.sort();
        want.dedup();
        got.sort();
        got.dedup();
        if want != got {
            return Some(format!(
                "it holds paths [{}], not [{}]",
                got.join(", "),
                want.join(", ")
            ));
        }
    }
    let missing: Vec<&str> = expect
        .tags
        .iter()
        .filter(|t| !snap.tags.contains(t))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        return Some(format!("it lacks the tags {}", missing.join(", ")));
    }
    None
}

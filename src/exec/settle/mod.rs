//! Settling: every operation whose end was not seen (its process was killed or signalled, or
//! lost sight of a task) is judged against the world at the start of every mutating run and by
//! `matelot journal settle`: done, not applied, partial, failed (changed), or unknown with what
//! to check. The match below is over every kind of plan, with no catch-all arm, so a new kind
//! of operation cannot be added without deciding how it is judged.
//!
//! This module gathers what the world shows (through [`World`]) and writes what was
//! concluded; the conclusions themselves are the pure functions of [`judge`]. A system that
//! cannot be reached leaves its rows interrupted, to be judged by a later run.

pub mod judge;

use chrono::{DateTime, Utc};
use serde::Serialize;

use self::judge::{AppSeen, Verdict};
use super::world::World;
use crate::cloudron::models::{App, RunState, TaskId};
use crate::cloudron::{Client, CloudronError};
use crate::compute::account_snapshot::{self, AccountError};
use crate::core::accounts::Facts;
use crate::error::Result;
use crate::exec::accounts::{cloudron_facts, gather_host};
use crate::journal::{
    Journal, OpId, OpPlan, OpResult, Operation, Status, UndoAction, UserRemovePlan,
};
use crate::output::Output;

/// What settling one row concluded.
#[derive(Debug, Clone, Serialize)]
pub struct Settled {
    pub op: OpId,
    pub kind: String,
    pub target: String,
    /// The status written, or `interrupted` when it is left for a later run.
    pub status: Status,
    pub note: String,
}

/// Judge every unsettled row and write the verdicts. Returns what was concluded, oldest
/// first. Warnings on stderr say what each row turned out to be.
pub async fn settle_all(journal: &Journal, world: &World, out: &Output) -> Result<Vec<Settled>> {
    journal.mark_interrupted()?;
    let mut settled = Vec::new();
    for op in journal.unsettled()? {
        let verdict = match judge_op(&op, journal, world).await {
            Ok(v) => v,
            Err(e) => Verdict::Later(format!("cannot look now: {e}")),
        };
        settled.push(write(journal, out, &op, verdict)?);
    }
    Ok(settled)
}

fn write(journal: &Journal, out: &Output, op: &Operation, v: Verdict) -> Result<Settled> {
    let head = format!(
        "operation {} ({} {}) was interrupted",
        op.id, op.kind, op.target
    );
    let note = v.note().to_string();
    let status = match &v {
        Verdict::Done(_) => Status::Done,
        Verdict::NotApplied(_) => Status::NotApplied,
        Verdict::Partial(_) => Status::Partial,
        Verdict::FailedChanged(_) => Status::FailedChanged,
        Verdict::Unknown(_) => Status::Unknown,
        Verdict::Later(_) => Status::Interrupted,
    };
    if status == Status::Interrupted {
        let text = format!("settle: cannot tell yet: {note}");
        if !journal.events(op.id)?.iter().any(|e| e.message == text) {
            journal.note(op.id, &text)?;
        }
        out.warn(format!(
            "{head}: {note}; left as it is for now (`matelot journal show {}`)",
            op.id
        ));
    } else {
        journal.settle(op.id, status, &format!("settled: {note}"))?;
        if status.changed_something()
            && let Some(hint) = super::undo::hint(op.id, &op.plan, op.restore_point.is_some())
        {
            journal.set_undo_hint(op.id, &hint)?;
        }
        out.warn(format!("{head}: {note}; settled as {}", status.label()));
    }
    Ok(Settled {
        op: op.id,
        kind: op.kind.to_string(),
        target: op.target.clone(),
        status,
        note,
    })
}

/// The recorded Cloudron task of an operation, if it recorded one.
fn recorded_task(op: &Operation) -> Option<TaskId> {
    match &op.result {
        Some(OpResult::Task(t)) if !t.task_id.is_empty() => Some(TaskId(t.task_id.clone())),
        _ => None,
    }
}

/// The app (`None` when the server says there is none) and the recorded task's state. A task
/// that cannot be read (gone from the server's list, or its route failing) leaves the app's
/// own state as the witness.
async fn app_seen(c: &Client, app_id: &str, task: Option<TaskId>) -> Result<AppSeen> {
    let app = match c.get_app(app_id).await {
        Ok(a) => Some(a),
        Err(CloudronError::NotFound { .. }) => None,
        Err(e) => return Err(e.into()),
    };
    let task = match task {
        Some(t) => c.get_task(&t).await.ok(),
        None => None,
    };
    Ok(AppSeen { app, task })
}

/// The app installed at `fqdn` now, if any.
async fn app_at(c: &Client, fqdn: &str) -> Result<Option<App>> {
    Ok(c.list_apps()
        .await?
        .into_iter()
        .find(|a| a.fqdn.eq_ignore_ascii_case(fqdn)))
}

/// A backup of `app_id` created at or after `since`, if the server lists one.
async fn backup_since(c: &Client, app_id: &str, since: DateTime<Utc>) -> Result<Option<String>> {
    Ok(c.list_app_backups(app_id)
        .await?
        .into_iter()
        .filter(|b| b.is_complete() && b.creation_time.is_some_and(|t| t >= since))
        .max_by_key(|b| b.creation_time)
        .map(|b| b.id))
}

/// Facts of one system: a host's accounts, or the Cloudron's users and groups.
async fn facts_of(world: &World, system: &str) -> Result<Facts> {
    let mut facts = Facts::default();
    if system == "cloudron" {
        let c = world.cloudron()?;
        let (users, groups) = tokio::try_join!(c.list_users(), c.list_groups())?;
        facts.cloudron = Some(cloudron_facts(&users, &groups));
    } else {
        let session = world.host(system).await?;
        facts
            .compute
            .push(gather_host(session.host(), &session).await?);
    }
    Ok(facts)
}

/// Whether `username` has an account on compute host `host`.
async fn host_account(world: &World, host: &str, username: &str) -> Result<bool> {
    let session = world.host(host).await?;
    match account_snapshot::capture(&session, username).await {
        Ok(_) => Ok(true),
        Err(AccountError::NoSuchAccount { .. }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Whether the Cloudron has a user called `username`.
async fn cloudron_user(world: &World, username: &str) -> Result<bool> {
    let users = world.cloudron()?.list_users().await?;
    Ok(users.iter().any(|u| {
        u.username
            .as_deref()
            .is_some_and(|n| n.eq_ignore_ascii_case(username))
    }))
}

fn protected(journal: &Journal, fqdn: &str, want: bool, reached: bool) -> Result<Verdict> {
    if !reached {
        return Ok(Verdict::NotApplied(
            "it stopped before the change was made".into(),
        ));
    }
    let now = journal.is_protected(fqdn)?;
    Ok(if now == want {
        Verdict::Done(format!(
            "{fqdn} is {}protected",
            if want { "" } else { "not " }
        ))
    } else {
        Verdict::NotApplied(format!(
            "{fqdn} is {}protected",
            if now { "" } else { "not " }
        ))
    })
}

/// Look at the world and judge one operation.
async fn judge_op(op: &Operation, journal: &Journal, world: &World) -> Result<Verdict> {
    let reached = op.reached_running();
    let rp = op.restore_point.as_ref();
    Ok(match &op.plan {
        OpPlan::AppStart(a) | OpPlan::AppStop(a) | OpPlan::AppRestart(a) => {
            let want = match &op.plan {
                OpPlan::AppStart(_) => Some(RunState::Running),
                OpPlan::AppStop(_) => Some(RunState::Stopped),
                _ => None,
            };
            let seen = app_seen(world.cloudron()?, &a.app_id, recorded_task(op)).await?;
            judge::run_state(&a.fqdn, want, reached, &seen)
        }
        OpPlan::AppBackup(b) => {
            let c = world.cloudron()?;
            let seen = app_seen(c, &b.app_id, recorded_task(op)).await?;
            let new = backup_since(c, &b.app_id, op.created_at).await?;
            judge::app_backup(&b.fqdn, reached, &seen, new.as_deref())
        }
        OpPlan::AppUninstall(u) => {
            let seen = app_seen(world.cloudron()?, &u.app_id, recorded_task(op)).await?;
            judge::uninstall(u, reached, rp, &seen)
        }
        OpPlan::AppRestore(r) => {
            let seen = app_seen(world.cloudron()?, &r.app_id, recorded_task(op)).await?;
            judge::restore(&r.fqdn, reached, rp, &seen)
        }
        OpPlan::AppProtect(a) => protected(journal, &a.fqdn, true, reached)?,
        OpPlan::AppUnprotect(a) => protected(journal, &a.fqdn, false, reached)?,
        OpPlan::UserAdd(p) | OpPlan::UserLock(p) | OpPlan::UserUnlock(p) | OpPlan::UserSync(p) => {
            if reached {
                judge::accounts(p, reached, &facts_of(world, &p.system).await?)
            } else {
                judge::accounts(p, reached, &Facts::default())
            }
        }
        OpPlan::UserRemove(UserRemovePlan::Compute { host, username }) => {
            let present = reached && host_account(world, host, username).await?;
            judge::account(&format!("{username} on {host}"), reached, present, true)
        }
        OpPlan::UserRemove(UserRemovePlan::Cloudron { username, .. }) => {
            let present = reached && cloudron_user(world, username).await?;
            judge::account(
                &format!("{username} on the Cloudron"),
                reached,
                present,
                true,
            )
        }
        OpPlan::BackupRun(_) => judge::backup_run(reached, op.result.as_ref()),
        OpPlan::BackupInit(b) => {
            if reached {
                Verdict::Unknown(format!(
                    "whether the repository was created on {} cannot be told from here; \
                     `matelot backup init` is safe to run again and says",
                    b.hosts.join(", ")
                ))
            } else {
                Verdict::NotApplied("it stopped before anything was sent".into())
            }
        }
        OpPlan::BackupPrune(b) => {
            if reached {
                Verdict::Unknown(format!(
                    "a prune on {} may have removed snapshots before it stopped; `matelot \
                     backup list --compute` shows what is left, and running it again is safe",
                    b.hosts.join(", ")
                ))
            } else {
                Verdict::NotApplied("it stopped before anything was sent".into())
            }
        }
        OpPlan::HostTrust(t) => {
            let text = std::fs::read_to_string(&t.known_hosts).unwrap_or_default();
            let name = if t.address.is_empty() {
                &t.host
            } else {
                &t.address
            };
            let key_there = text
                .lines()
                .any(|l| !l.trim_start().starts_with('#') && l.contains(name.as_str()));
            match (reached, key_there) {
                (false, _) => Verdict::NotApplied("it stopped before the file was written".into()),
                (true, true) => {
                    Verdict::Done(format!("{} has a line for {}", t.known_hosts, t.host))
                }
                (true, false) => {
                    Verdict::NotApplied(format!("{} has no line for {}", t.known_hosts, t.host))
                }
            }
        }
        OpPlan::Undo(u) => match &u.action {
            UndoAction::ReinstallApp { app, .. } => {
                let at = app_at(world.cloudron()?, &app.fqdn).await?;
                judge::reinstall(app, reached, at.as_ref())
            }
            UndoAction::RestoreApp(r) => {
                let seen = app_seen(world.cloudron()?, &r.app_id, recorded_task(op)).await?;
                judge::restore(&r.fqdn, reached, rp, &seen)
            }
            UndoAction::RecreateAccount { host, username } => {
                let present = reached && host_account(world, host, username).await?;
                judge::account(&format!("{username} on {host}"), reached, present, false)
            }
            UndoAction::RecreateCloudronUser { username } => {
                let present = reached && cloudron_user(world, username).await?;
                judge::account(
                    &format!("{username} on the Cloudron"),
                    reached,
                    present,
                    false,
                )
            }
            UndoAction::SetRunState { app, running } => {
                let want = if *running {
                    RunState::Running
                } else {
                    RunState::Stopped
                };
                let seen = app_seen(world.cloudron()?, &app.app_id, recorded_task(op)).await?;
                judge::run_state(&app.fqdn, Some(want), reached, &seen)
            }
            UndoAction::SetProtection { app, protected: p } => {
                protected(journal, &app.fqdn, *p, reached)?
            }
        },
        OpPlan::Unreadable(u) => Verdict::Unknown(format!(
            "its plan cannot be read by this matelot ({}); check by hand what it did",
            u.why
        )),
    })
}

#[cfg(test)]
mod tests;

//! Undo: for every kind of operation, whether and how it is taken back. [`hint`] says what a
//! finished operation's journal row offers as its way back; [`plan_undo`] builds the change
//! that undoes one (an [`Action`] for the one path, with the lines that describe it) or
//! refuses, with exit 3 and the reason. Both are matches over every kind with no catch-all
//! arm: a new kind does not compile until someone decides.
//!
//! Undo never guesses: what it re-creates comes from the journal's restore point, and it
//! refuses when the thing is back already (an undo that was interrupted and then settled as
//! done counts; one that was not applied does not).

use crate::cloudron::Lifecycle;
use crate::cloudron::models::App;
use crate::compute::restic::Repo;
use crate::core::accounts::{Change, CloudronChange, ComputeChange};
use crate::error::{Error, Result};
use crate::exec::action::Action;
use crate::exec::app::{Protection, Reinstall, Restore, RunStateChange};
use crate::exec::user_remove::{RecreateCloudronUser, RecreateHostAccount};
use crate::exec::world::World;
use crate::journal::{
    AccountsPlan, AppRestorePlan, Journal, OpId, OpPlan, Operation, RestorePoint, Status,
    UserRemovePlan,
};

/// How a finished operation that changed something is undone, as the journal shows it.
pub fn hint(id: OpId, plan: &OpPlan, has_restore_point: bool) -> Option<String> {
    let undo = Some(format!("matelot undo {id}"));
    match plan {
        OpPlan::AppStart(_) | OpPlan::AppStop(_) => undo,
        OpPlan::AppProtect(_) | OpPlan::AppUnprotect(_) => undo,
        OpPlan::AppRestart(_) | OpPlan::AppBackup(_) => None,
        OpPlan::AppUninstall(_) | OpPlan::AppRestore(_) | OpPlan::UserRemove(_) => {
            has_restore_point.then(|| format!("matelot undo {id}"))
        }
        OpPlan::UserAdd(p) => created_users(p)
            .first()
            .map(|name| format!("matelot user remove {name} --on {}", p.system)),
        OpPlan::UserLock(p) => {
            subject_name(p).map(|name| format!("matelot user unlock {name} --on {}", p.system))
        }
        OpPlan::UserUnlock(p) => {
            subject_name(p).map(|name| format!("matelot user lock {name} --on {}", p.system))
        }
        OpPlan::UserSync(_) => None,
        OpPlan::BackupRun(_) | OpPlan::BackupInit(_) | OpPlan::BackupPrune(_) => None,
        OpPlan::HostTrust(_) => None,
        OpPlan::Undo(_) => None,
        OpPlan::Unreadable(_) => None,
    }
}

/// `user:alice` -> `alice`.
fn subject_name(p: &AccountsPlan) -> Option<&str> {
    p.subject.strip_prefix("user:")
}

fn created_users(p: &AccountsPlan) -> Vec<&str> {
    p.changes
        .iter()
        .filter_map(|c| match c {
            Change::Compute {
                change: ComputeChange::CreateUser { user, .. },
                ..
            } => Some(user.as_str()),
            Change::Cloudron {
                change: CloudronChange::CreateUser { username, .. },
            } => Some(username.as_str()),
            _ => None,
        })
        .collect()
}

/// The change that undoes an operation, with what to show before it runs.
pub struct Undo<'w> {
    pub action: Box<dyn Action + 'w>,
    /// `What: value` lines (the first says which operation is undone).
    pub impact: Vec<(String, String)>,
    /// The steps, in order, as people read them.
    pub steps: Vec<String>,
}

fn refuse(op: &Operation, why: impl std::fmt::Display) -> Error {
    Error::refused(format!(
        "operation {} ({} {}) cannot be undone: {why}; nothing was changed",
        op.id, op.kind, op.target
    ))
}

/// Whether `op` may be undone now: it changed something, and no undo of it is done or under
/// way. An undo that was interrupted and settled as not applied (or failed) does not count.
pub fn check_undoable(journal: &Journal, op: &Operation) -> Result<()> {
    match op.status {
        Status::Done | Status::Partial | Status::FailedChanged => {}
        Status::Interrupted => {
            return Err(refuse(
                op,
                format!(
                    "its end has not been judged yet (`matelot journal show {}`); try again \
                     when the target is no longer busy",
                    op.id
                ),
            ));
        }
        other => {
            return Err(refuse(
                op,
                format!("it is {}: it changed nothing", other.label()),
            ));
        }
    }
    for u in journal.undos_of(op.id)? {
        match u.status {
            Status::Done | Status::Partial => {
                return Err(Error::refused(format!(
                    "operation {} was already undone by operation {} ({}); nothing was changed",
                    op.id, u.id, u.status
                )));
            }
            Status::Planned | Status::Running => {
                return Err(Error::Locked(format!(
                    "operation {} is being undone right now by operation {} (pid {} on {})",
                    op.id, u.id, u.process.pid, u.process.host
                )));
            }
            _ => {}
        }
    }
    Ok(())
}

fn undoes(op: &Operation) -> Line {
    (
        "Undoes".into(),
        format!("operation {} ({} {})", op.id, op.kind, op.target),
    )
}

type Line = (String, String);

/// Build the undo of `op` (already checked with [`check_undoable`]).
pub async fn plan_undo<'w>(
    op: &Operation,
    journal: &Journal,
    world: &'w World,
) -> Result<Undo<'w>> {
    let cfg = world.config();
    let me = (op.id, op.kind);
    let rp = op.restore_point.as_ref();
    let no_rp = || {
        refuse(
            op,
            match &op.restore_point_problem {
                Some(p) => format!("its restore point cannot be read ({p})"),
                None => "it has no restore point in the journal".to_string(),
            },
        )
    };
    match &op.plan {
        OpPlan::AppStart(a) | OpPlan::AppStop(a) => {
            let stop = matches!(op.plan, OpPlan::AppStart(_));
            let action = if stop {
                Lifecycle::Stop
            } else {
                Lifecycle::Start
            };
            Ok(Undo {
                action: Box::new(RunStateChange {
                    client: world.cloudron()?.clone(),
                    app: a.clone(),
                    action,
                    undoes: Some(me),
                }),
                impact: vec![undoes(op)],
                steps: vec![format!(
                    "{}: POST /api/v1/apps/{}/{}, wait for the task, check the run state",
                    action.segment(),
                    a.app_id,
                    action.segment()
                )],
            })
        }
        OpPlan::AppRestart(_) => Err(refuse(op, "a restart has nothing to take back")),
        OpPlan::AppBackup(_) => Err(refuse(
            op,
            "a backup changes nothing live (delete it on the Cloudron if it is not wanted)",
        )),
        OpPlan::AppUninstall(u) => {
            let Some(RestorePoint::AppBackup(b)) = rp else {
                return Err(no_rp());
            };
            let c = world.cloudron()?;
            if let Some(a) = app_at(&c.list_apps().await?, &u.fqdn) {
                return Err(refuse(
                    op,
                    format!(
                        "{} is in use by app {} ({}): undoing it would install over it",
                        u.fqdn,
                        a.id,
                        a.name()
                    ),
                ));
            }
            Ok(Undo {
                action: Box::new(Reinstall {
                    client: c.clone(),
                    app: u.clone(),
                    backup_id: b.backup_id.clone(),
                    undoes: me,
                }),
                impact: vec![
                    undoes(op),
                    ("Reinstall at".into(), u.fqdn.clone()),
                    ("Package".into(), u.app_store_id.clone()),
                    ("From backup".into(), b.backup_id.clone()),
                ],
                steps: vec![
                    format!(
                        "install: POST /api/v1/apps {{appStoreId, subdomain {:?}, domain {:?}, \
                         the same accessRestriction, backupId {:?}}}, wait for the task, check \
                         the app runs",
                        u.subdomain, u.domain, b.backup_id
                    ),
                    format!("journal: the undo, linked to operation {}", op.id),
                ],
            })
        }
        OpPlan::AppRestore(r) => {
            let Some(RestorePoint::AppBackup(b)) = rp else {
                return Err(no_rp());
            };
            let c = world.cloudron()?;
            let app = c
                .get_app(&r.app_id)
                .await
                .map_err(|e| refuse(op, format!("its app {} cannot be read: {e}", r.fqdn)))?;
            let protected = crate::exec::app::protected_by(cfg, journal, &app)?;
            Ok(Undo {
                action: Box::new(Restore {
                    client: c.clone(),
                    plan: AppRestorePlan {
                        app_id: app.id.clone(),
                        fqdn: app.fqdn.clone(),
                        backup_id: b.backup_id.clone(),
                    },
                    preserve: cfg.guard.preserve,
                    protected,
                    undoes: Some(me),
                }),
                impact: vec![
                    undoes(op),
                    ("App".into(), format!("{} ({})", app.name(), app.fqdn)),
                    (
                        "Restore from".into(),
                        format!("{} (taken before operation {})", b.backup_id, op.id),
                    ),
                ],
                steps: vec![
                    format!(
                        "restore point: POST /api/v1/apps/{}/backup, wait, check it is listed, \
                         label it \"matelot op N: before undo of op {}\" and preserve it \
                         (checked)",
                        app.id, op.id
                    ),
                    format!(
                        "restore: POST /api/v1/apps/{}/restore {{\"backupId\": \"{}\"}} (the data \
                         there now is overwritten), wait, check the app",
                        app.id, b.backup_id
                    ),
                    format!("journal: the undo, linked to operation {}", op.id),
                ],
            })
        }
        OpPlan::AppProtect(a) | OpPlan::AppUnprotect(a) => {
            let protect = matches!(op.plan, OpPlan::AppUnprotect(_));
            Ok(Undo {
                action: Box::new(Protection {
                    app: a.clone(),
                    protect,
                    undoes: Some(me),
                }),
                impact: vec![undoes(op)],
                steps: vec![format!(
                    "{} {} in the journal",
                    if protect { "protect" } else { "unprotect" },
                    a.fqdn
                )],
            })
        }
        OpPlan::UserAdd(p) => Err(refuse(
            op,
            match created_users(p).first() {
                Some(name) => format!(
                    "removing an account is a guarded command of its own that archives the home \
                     first: `matelot user remove {name} --on {}`",
                    p.system
                ),
                None => "it created no account".to_string(),
            },
        )),
        OpPlan::UserLock(p) | OpPlan::UserUnlock(p) => Err(refuse(
            op,
            format!(
                "run `{}`",
                hint(op.id, &op.plan, false)
                    .unwrap_or_else(|| format!("matelot user unlock NAME --on {}", p.system))
            ),
        )),
        OpPlan::UserSync(p) => Err(refuse(
            op,
            format!(
                "a roster sync is taken back by syncing the roster you want ({} on {})",
                p.subject, p.system
            ),
        )),
        OpPlan::UserRemove(UserRemovePlan::Compute { host, username }) => {
            let Some(RestorePoint::ComputeAccount(point)) = rp else {
                return Err(no_rp());
            };
            let backup = cfg.backup.compute.as_ref().ok_or_else(|| {
                Error::Config(vec![
                    "no [backup.compute] table: the home is restored from its restic repository"
                        .into(),
                ])
            })?;
            let session = world.host(host).await?;
            Ok(Undo {
                action: Box::new(RecreateHostAccount {
                    session,
                    repo: Repo::from_config(backup),
                    point: point.clone(),
                    undoes: me,
                }),
                impact: {
                    let mut v = vec![undoes(op)];
                    v.extend(point.summary());
                    v
                },
                steps: vec![
                    format!(
                        "re-create {username} on {host} with uid {}, gid {}, the same groups, \
                         password hash and keys",
                        point.uid, point.gid
                    ),
                    format!(
                        "restore {} from snapshot {} and check the account matches the restore \
                         point",
                        point.home,
                        point.snapshot_id.as_ref().map_or("(none)", |s| s.as_str())
                    ),
                ],
            })
        }
        OpPlan::UserRemove(UserRemovePlan::Cloudron { username, .. }) => {
            let Some(RestorePoint::CloudronUser(point)) = rp else {
                return Err(no_rp());
            };
            let c = world.cloudron()?;
            let exists = c.list_users().await?.iter().any(|u| {
                u.username
                    .as_deref()
                    .is_some_and(|n| n.eq_ignore_ascii_case(username))
            });
            if exists {
                return Err(refuse(
                    op,
                    format!("a Cloudron user {username} exists again"),
                ));
            }
            Ok(Undo {
                action: Box::new(RecreateCloudronUser {
                    client: c.clone(),
                    point: point.clone(),
                    undoes: me,
                }),
                impact: vec![
                    undoes(op),
                    (
                        "Person".into(),
                        format!(
                            "{username} <{}> ({})",
                            point.user.email,
                            point.user.role.as_str()
                        ),
                    ),
                    ("Groups".into(), point.group_names.join(", ")),
                ],
                steps: vec![
                    "POST /api/v1/users with the same username, email, name and role".into(),
                    "PUT /api/v1/users/{new id}/groups with the same groups".into(),
                    format!(
                        "add the new id to the access restriction of {} app(s) that named the \
                         user",
                        point.apps_by_user.len()
                    ),
                ],
            })
        }
        OpPlan::BackupRun(_) | OpPlan::BackupInit(_) => Err(refuse(
            op,
            "a backup changes nothing live; there is nothing to take back",
        )),
        OpPlan::BackupPrune(_) => Err(refuse(
            op,
            "pruned snapshots are gone from the repository; restic cannot bring them back",
        )),
        OpPlan::HostTrust(t) => Err(refuse(
            op,
            format!(
                "to stop trusting the key, remove the line for {} from {}",
                t.host, t.known_hosts
            ),
        )),
        OpPlan::Undo(_) => Err(refuse(
            op,
            "it is itself an undo; take its effect back with a new command",
        )),
        OpPlan::Unreadable(u) => Err(refuse(
            op,
            format!(
                "its plan was written by an older matelot and cannot be read ({})",
                u.why
            ),
        )),
    }
}

fn app_at<'a>(apps: &'a [App], fqdn: &str) -> Option<&'a App> {
    apps.iter().find(|a| a.fqdn.eq_ignore_ascii_case(fqdn))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{AppRef, KeepPolicy};

    #[test]
    fn hints_say_the_way_back_only_where_there_is_one() {
        let app = AppRef {
            app_id: "a1".into(),
            fqdn: "chat.example.org".into(),
        };
        let lock = AccountsPlan {
            system: "calcul".into(),
            subject: "user:bob".into(),
            changes: vec![],
        };
        let id = OpId(7);
        assert_eq!(
            hint(id, &OpPlan::AppStop(app.clone()), false).as_deref(),
            Some("matelot undo 7")
        );
        assert_eq!(hint(id, &OpPlan::AppRestart(app), false), None);
        assert_eq!(
            hint(id, &OpPlan::UserLock(lock.clone()), false).as_deref(),
            Some("matelot user unlock bob --on calcul")
        );
        assert_eq!(
            hint(
                id,
                &OpPlan::BackupPrune(crate::journal::BackupPrunePlan {
                    hosts: vec![],
                    keep: KeepPolicy::default()
                }),
                true
            ),
            None
        );
        assert_eq!(
            hint(
                id,
                &OpPlan::UserRemove(UserRemovePlan::Compute {
                    host: "calcul".into(),
                    username: "zoe".into()
                }),
                false
            ),
            None,
            "a removal without a restore point cannot be undone"
        );
    }
}

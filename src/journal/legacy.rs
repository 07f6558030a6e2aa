//! Reading journals written before operations were typed (schema 1): each row's untyped
//! `planned` JSON, restore point and kind string are turned into the typed plan, restore point
//! and result of schema 2, once, inside the migration's transaction.
//!
//! Old rows are kept whole: a plan this code cannot re-shape is stored as it was and reads as
//! an unreadable plan (settle leaves it alone, undo refuses it and says why). Rows of one old
//! invocation share a run id derived from the process that wrote them.

use rusqlite::{Transaction, params};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::id::OpId;
use super::kind::{
    AccountsPlan, AppBackupPlan, AppRef, AppRestorePlan, AppUninstallPlan, BackupInitPlan,
    BackupPrunePlan, BackupRunPlan, KeepPolicy, OpKind, OpPlan, UndoAction, UndoPlan,
    UnreadablePlan, UserRemovePlan,
};
use super::restore_point::{AppBackupPoint, RestorePoint};
use super::result::{OpResult, TaskRecord};

/// One schema-1 row, as far as the conversion needs it.
#[derive(Debug, Clone)]
pub(super) struct OldRow {
    pub id: i64,
    pub kind: String,
    pub target: String,
    pub planned: Value,
    pub restore_kind: Option<String>,
    pub restore_id: Option<String>,
    pub restore_details: Value,
}

/// What a schema-1 row becomes.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Converted {
    pub plan: OpPlan,
    pub restore: Option<RestorePoint>,
    pub result: Option<OpResult>,
    pub undoes: Option<OpId>,
}

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_string()
}

/// `user:alice@calcul` -> (`user:alice`, `calcul`).
fn split_subject(target: &str) -> (String, String) {
    match target.rsplit_once('@') {
        Some((subject, system)) => (subject.to_string(), system.to_string()),
        None => (target.to_string(), String::new()),
    }
}

/// `cloudron compute:calcul compute:gpu` -> [`calcul`, `gpu`].
fn hosts_of(target: &str) -> Vec<String> {
    target
        .split_whitespace()
        .filter_map(|t| t.strip_prefix("compute:"))
        .map(str::to_string)
        .collect()
}

fn app_backup_point(row: &OldRow) -> Option<RestorePoint> {
    if row.restore_kind.as_deref() != Some("cloudron.app_backup") {
        return None;
    }
    let d = &row.restore_details;
    Some(RestorePoint::AppBackup(AppBackupPoint {
        backup_id: row.restore_id.clone().unwrap_or_default(),
        app_id: text(d, "app_id"),
        fqdn: text(d, "fqdn"),
        task_id: d["task_id"].as_str().map(str::to_string),
        label: d["label"].as_str().map(str::to_string),
        preserve_secs: d["preserve_secs"].as_u64(),
        creation_time: d["creation_time"].as_str().map(str::to_string),
    }))
}

fn other_restore_point(row: &OldRow) -> Option<RestorePoint> {
    let kind = row.restore_kind.as_deref()?;
    RestorePoint::from_stored(kind, row.restore_details.clone()).ok()
}

fn from_value<T: serde::de::DeserializeOwned>(v: Value) -> Result<T, String> {
    serde_json::from_value(v).map_err(|e| e.to_string())
}

/// The typed uninstall plan from a schema-1 `planned` object.
fn uninstall_plan(p: &Value) -> Result<AppUninstallPlan, String> {
    let mut p = p.clone();
    if let Value::Object(m) = &mut p {
        m.remove("change");
    }
    from_value(p)
}

/// Convert one schema-1 row. `rows` are all the rows (an old undo names the row it undid,
/// whose plan it needs).
pub(super) fn convert(row: &OldRow, rows: &[OldRow]) -> Converted {
    let kind = row.kind.parse::<OpKind>();
    let p = &row.planned;
    type Typed = (OpPlan, Option<RestorePoint>, Option<OpResult>, Option<OpId>);
    let typed: Result<Typed, String> = match &kind {
        Err(e) => Err(e.clone()),
        Ok(kind) => match *kind {
            OpKind::AppStart | OpKind::AppStop | OpKind::AppRestart => {
                let app = AppRef {
                    app_id: text(p, "app_id"),
                    fqdn: text(p, "fqdn"),
                };
                let plan = match kind {
                    OpKind::AppStart => OpPlan::AppStart(app),
                    OpKind::AppStop => OpPlan::AppStop(app),
                    _ => OpPlan::AppRestart(app),
                };
                Ok((plan, None, None, None))
            }
            OpKind::AppBackup => {
                let plan = OpPlan::AppBackup(AppBackupPlan {
                    app_id: text(p, "app_id"),
                    fqdn: text(p, "backup"),
                    label: p["label"].as_str().map(str::to_string),
                    keep_days: p["keep_days"].as_u64().and_then(|d| u32::try_from(d).ok()),
                });
                // Schema 1 kept the backup itself in the restore point columns.
                let result = row.restore_id.as_ref().map(|id| {
                    OpResult::Task(TaskRecord {
                        task_id: text(&row.restore_details, "task_id"),
                        app_id: Some(text(p, "app_id")),
                        backup_id: Some(id.clone()),
                        end: Some("success".into()),
                    })
                });
                Ok((plan, None, result, None))
            }
            OpKind::AppUninstall => uninstall_plan(p)
                .map(|u| (OpPlan::AppUninstall(u), app_backup_point(row), None, None)),
            OpKind::AppRestore => from_value::<AppRestorePlan>(p.clone())
                .map(|r| (OpPlan::AppRestore(r), app_backup_point(row), None, None)),
            OpKind::UserAdd | OpKind::UserLock | OpKind::UserUnlock | OpKind::UserSync => {
                let (subject, system) = split_subject(&row.target);
                let changes = match p {
                    Value::Array(_) => p.clone(),
                    _ => p["changes"].clone(),
                };
                from_value(changes).map(|changes| {
                    let plan = AccountsPlan {
                        system,
                        subject,
                        changes,
                    };
                    let plan = match kind {
                        OpKind::UserAdd => OpPlan::UserAdd(plan),
                        OpKind::UserLock => OpPlan::UserLock(plan),
                        OpKind::UserUnlock => OpPlan::UserUnlock(plan),
                        _ => OpPlan::UserSync(plan),
                    };
                    (plan, None, None, None)
                })
            }
            OpKind::UserRemove => {
                let plan = match p["side"].as_str() {
                    Some("compute") => Ok(UserRemovePlan::Compute {
                        host: text(p, "host"),
                        username: text(p, "username"),
                    }),
                    Some("cloudron") => Ok(UserRemovePlan::Cloudron {
                        username: text(p, "username"),
                        user_id: text(p, "user_id"),
                    }),
                    other => Err(format!("a user.remove on side {other:?}")),
                };
                plan.map(|u| (OpPlan::UserRemove(u), other_restore_point(row), None, None))
            }
            OpKind::BackupRun => Ok((
                OpPlan::BackupRun(BackupRunPlan {
                    cloudron: p["cloudron"].as_bool().unwrap_or(false),
                    hosts: hosts_of(&row.target),
                }),
                None,
                None,
                None,
            )),
            OpKind::BackupInit => Ok((
                OpPlan::BackupInit(BackupInitPlan {
                    hosts: hosts_of(&row.target),
                }),
                None,
                None,
                None,
            )),
            OpKind::BackupPrune => from_value::<KeepPolicy>(p["keep"].clone()).map(|keep| {
                (
                    OpPlan::BackupPrune(BackupPrunePlan {
                        hosts: hosts_of(&row.target),
                        keep,
                    }),
                    None,
                    None,
                    None,
                )
            }),
            OpKind::Undo => undo_plan(row, rows).map(|(plan, undoes)| {
                let rp = app_backup_point(row).or_else(|| other_restore_point(row));
                (OpPlan::Undo(plan), rp, None, Some(undoes))
            }),
            // Schema 1 never journaled these.
            OpKind::AppProtect | OpKind::AppUnprotect | OpKind::HostTrust => {
                Err(format!("schema 1 did not journal {kind}"))
            }
        },
    };
    match typed {
        Ok((plan, restore, result, undoes)) => Converted {
            plan,
            restore,
            result,
            undoes,
        },
        Err(why) => Converted {
            plan: OpPlan::Unreadable(UnreadablePlan {
                // An unknown kind string cannot come from schema 1; if one does, the row is
                // kept (as an unreadable undo, the one kind settle and undo never act on).
                kind: kind.clone().unwrap_or(OpKind::Undo),
                planned: p.clone(),
                why: format!("written by an older matelot ({}): {why}", row.kind),
            }),
            restore: other_restore_point(row),
            result: None,
            undoes: None,
        },
    }
}

fn undo_plan(row: &OldRow, rows: &[OldRow]) -> Result<(UndoPlan, OpId), String> {
    let p = &row.planned;
    let undoes = p["undoes"]
        .as_i64()
        .ok_or_else(|| "an undo without `undoes`".to_string())?;
    let of_kind: OpKind = text(p, "kind").parse()?;
    let original = rows.iter().find(|r| r.id == undoes);
    let action = match of_kind {
        OpKind::AppUninstall => {
            let original =
                original.ok_or_else(|| format!("the undone operation {undoes} is missing"))?;
            UndoAction::ReinstallApp {
                app: uninstall_plan(&original.planned)?,
                backup_id: text(p, "backup_id"),
            }
        }
        OpKind::AppRestore => UndoAction::RestoreApp(AppRestorePlan {
            app_id: text(p, "app_id"),
            fqdn: text(p, "fqdn"),
            backup_id: text(p, "backup_id"),
        }),
        OpKind::UserRemove => match p["side"].as_str() {
            Some("compute") => UndoAction::RecreateAccount {
                host: text(p, "host"),
                username: text(p, "username"),
            },
            _ => UndoAction::RecreateCloudronUser {
                username: text(p, "username"),
            },
        },
        other => return Err(format!("an undo of {other}")),
    };
    Ok((
        UndoPlan {
            undoes: OpId(undoes),
            of_kind,
            action,
        },
        OpId(undoes),
    ))
}

/// The run id of old rows: rows written by one process share it.
fn old_run_id(pid: i64, ticks: i64, boot: &str) -> String {
    let digest = Sha256::digest(format!("{pid}:{ticks}:{boot}").as_bytes());
    format!("old{}", &hex::encode(digest)[..5])
}

/// Migration 2's Rust step: copy every schema-1 row into `operations_v2` with its typed
/// plan, restore point and result, then put the new table in the old one's place.
pub(super) fn migrate_v1_rows(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare(
        "SELECT id, kind, target, planned, restore_kind, restore_id, restore_details,
                pid, pid_start_ticks, boot_id
         FROM operations ORDER BY id",
    )?;
    let json = |s: Option<String>| -> Value {
        s.and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or(Value::Null)
    };
    let mut rows = Vec::new();
    let mut runs = Vec::new();
    let mapped = stmt.query_map([], |r| {
        Ok((
            OldRow {
                id: r.get(0)?,
                kind: r.get(1)?,
                target: r.get(2)?,
                planned: json(r.get(3)?),
                restore_kind: r.get(4)?,
                restore_id: r.get(5)?,
                restore_details: json(r.get(6)?),
            },
            old_run_id(r.get(7)?, r.get(8)?, &r.get::<_, String>(9)?),
        ))
    })?;
    for m in mapped {
        let (row, run) = m?;
        rows.push(row);
        runs.push(run);
    }
    drop(stmt);
    for (row, run) in rows.iter().zip(&runs) {
        let c = convert(row, &rows);
        let kind = c.plan.kind();
        let unreadable = matches!(c.plan, OpPlan::Unreadable(_));
        let (rk, rid, rdetails) = match &c.restore {
            Some(rp) => (
                Some(rp.kind_name().to_string()),
                Some(rp.id()),
                Some(rp.details().to_string()),
            ),
            None if !unreadable => (None, None, None),
            // The restore point of a row this code could not re-type is kept as it was.
            None => (
                row.restore_kind.clone(),
                row.restore_id.clone(),
                (!row.restore_details.is_null()).then(|| row.restore_details.to_string()),
            ),
        };
        let result = c
            .result
            .as_ref()
            .map(|r| serde_json::to_value(r).unwrap_or(Value::Null).to_string());
        tx.execute(
            "INSERT INTO operations_v2 (id, run_id, kind, target, status, created_at, started_at,
                finished_at, actor_user, actor_host, actor_sudo_user, pid, pid_start_ticks,
                boot_id, command, plan, restore_kind, restore_id, restore_details, result,
                undoes, message, undo_hint)
             SELECT id, ?2, ?3, target, status, created_at, started_at, finished_at, actor_user,
                actor_host, actor_sudo_user, pid, pid_start_ticks, boot_id, command, ?4, ?5, ?6,
                ?7, ?8, ?9, message, undo_hint
             FROM operations WHERE id = ?1",
            params![
                row.id,
                run,
                kind.as_str(),
                c.plan.body().to_string(),
                rk,
                rid,
                rdetails,
                result,
                c.undoes.map(|o| o.0),
            ],
        )?;
    }
    tx.execute_batch(
        "DROP INDEX IF EXISTS operations_target;
         DROP INDEX IF EXISTS operations_created;
         DROP INDEX IF EXISTS operations_open;
         DROP TABLE operations;
         ALTER TABLE operations_v2 RENAME TO operations;
         CREATE INDEX operations_target ON operations(target);
         CREATE INDEX operations_created ON operations(created_at);
         CREATE INDEX operations_run ON operations(run_id);
         CREATE INDEX operations_undoes ON operations(undoes) WHERE undoes IS NOT NULL;
         CREATE INDEX operations_open ON operations(status)
             WHERE status IN ('planned','running','interrupted','unknown');",
    )?;
    // The sequence goes on from the old one, so ids are never reused.
    tx.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES ('format', '2')",
        [],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(id: i64, kind: &str, target: &str, planned: Value) -> OldRow {
        OldRow {
            id,
            kind: kind.into(),
            target: target.into(),
            planned,
            restore_kind: None,
            restore_id: None,
            restore_details: Value::Null,
        }
    }

    #[test]
    fn every_schema_1_shape_becomes_a_typed_plan() {
        let uninstall = row(
            15,
            "app.uninstall",
            "analytics.example.org",
            json!({"access_restriction": null, "app_id": "a1",
                   "app_store_id": "org.matomo.cloudronapp@1.58.2", "change": "app.uninstall",
                   "domain": "example.org", "fqdn": "analytics.example.org", "label": null,
                   "manifest_id": "org.matomo.cloudronapp", "subdomain": "analytics",
                   "version": "1.58.2"}),
        );
        let rows = vec![
            row(
                1,
                "user.sync",
                "roster:people.csv@calcul",
                json!([{"action": "create_group", "group": "physics", "host": "calcul", "on": "compute"}]),
            ),
            row(
                9,
                "app.stop",
                "chat.example.org",
                json!({"action": "stop", "app_id": "c1", "fqdn": "chat.example.org"}),
            ),
            row(
                14,
                "backup.run",
                "cloudron compute:calcul",
                json!({"cloudron": true, "compute": true, "host": null}),
            ),
            row(
                21,
                "backup.prune",
                "compute:calcul",
                json!({"forget": "x", "keep": {"daily": 7, "monthly": 6, "weekly": 4, "yearly": null}, "then": "prune"}),
            ),
            uninstall.clone(),
            row(
                16,
                "undo",
                "analytics.example.org",
                json!({"backup_id": "b1", "change": "undo", "fqdn": "analytics.example.org", "kind": "app.uninstall", "undoes": 15}),
            ),
            row(
                18,
                "user.remove",
                "user:zoe@calcul",
                json!({"change": "user.remove", "host": "calcul", "side": "compute", "username": "zoe"}),
            ),
        ];
        let kinds: Vec<String> = rows
            .iter()
            .map(|r| match convert(r, &rows).plan {
                OpPlan::Unreadable(u) => format!("unreadable: {}", u.why),
                p => p.kind().to_string(),
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "user.sync",
                "app.stop",
                "backup.run",
                "backup.prune",
                "app.uninstall",
                "undo",
                "user.remove"
            ]
        );
        match convert(&rows[0], &rows).plan {
            OpPlan::UserSync(a) => {
                assert_eq!(
                    (a.system.as_str(), a.subject.as_str()),
                    ("calcul", "roster:people.csv")
                );
                assert_eq!(a.changes.len(), 1);
            }
            other => panic!("{other:?}"),
        }
        match convert(&rows[5], &rows) {
            Converted {
                plan: OpPlan::Undo(u),
                undoes: Some(OpId(15)),
                ..
            } => match u.action {
                UndoAction::ReinstallApp { app, backup_id } => {
                    assert_eq!(app.fqdn, "analytics.example.org");
                    assert_eq!(backup_id, "b1");
                }
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        }
        match convert(&rows[2], &rows).plan {
            OpPlan::BackupRun(b) => {
                assert_eq!((b.cloudron, b.hosts), (true, vec!["calcul".into()]))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_shape_that_cannot_be_read_is_kept_verbatim() {
        let r = row(3, "app.uninstall", "x.example.org", json!({"nothing": 1}));
        match convert(&r, std::slice::from_ref(&r)).plan {
            OpPlan::Unreadable(u) => {
                assert_eq!(u.kind, OpKind::AppUninstall);
                assert_eq!(u.planned, json!({"nothing": 1}));
                assert!(u.why.contains("older matelot"), "{}", u.why);
            }
            other => panic!("{other:?}"),
        }
    }
}

//! What a finished task does to the estate: the app becomes `installed` (with restored data,
//! a new manifest, a new backup...), disappears, or a platform backup or cleanup is applied.
//! Called under the estate lock by the task runner; no waiting and no I/O here.

use std::collections::HashSet;

use serde_json::{Value, json};

use super::factory::{new_app_backup, new_box_backup, new_event};
use super::http::now_iso;
use super::job::{Job, Op};
use super::model::Estate;
use super::retention;

/// Mark a task successful with its result.
fn succeed(e: &mut Estate, task_id: &str, result: Value) {
    let now = now_iso();
    if let Some(t) = e.task_mut(task_id) {
        t.active = false;
        t.pending = false;
        t.success = true;
        t.percent = 100;
        t.message = "Done".into();
        t.result = result;
        t.ts = now.clone();
        t.lab_log.push(format!("{now} 100% Done"));
    }
}

/// Apply the operation's effect and mark the task done; `Err` fails the task.
pub fn finish(e: &mut Estate, job: &Job) -> Result<(), String> {
    let now = now_iso();
    let mut result = Value::Null;
    match &job.op {
        Op::BoxBackup => result = json!(box_backup(e, &job.task_id, &job.source)),
        Op::Cleanup => result = cleanup(e, &job.task_id, &job.source),
        Op::Uninstall => {
            let id = job.app_id.clone().unwrap_or_default();
            e.apps.retain(|a| a.id != id);
        }
        op => {
            let id = job.app_id.clone().unwrap_or_default();
            let restored = match op {
                Op::Restore { backup_id } => {
                    let b = e.backup(backup_id).ok_or("Backup not found")?;
                    Some((b.manifest.clone(), b.lab_data.clone()))
                }
                _ => None,
            };
            let mut new_backup = None;
            {
                let app = e.app_mut(&id).ok_or("App not found")?;
                match op {
                    Op::Backup => new_backup = Some(new_app_backup(app, "normal", now.clone())),
                    Op::Update {
                        manifest,
                        skip_backup,
                    } => {
                        if !skip_backup {
                            new_backup = Some(new_app_backup(app, "normal", now.clone()));
                        }
                        app.manifest = manifest.clone();
                        app.update_time = now.clone();
                    }
                    Op::Restore { .. } => {
                        if let Some((manifest, data)) = restored {
                            if let Some(m) = manifest {
                                app.manifest = m;
                            }
                            if let Some(d) = data {
                                app.lab_data = d;
                            }
                        }
                        app.run_state = "running".into();
                    }
                    Op::Stop => app.run_state = "stopped".into(),
                    Op::Start | Op::Restart | Op::Install | Op::Clone => {
                        app.run_state = "running".into();
                    }
                    _ => {}
                }
                app.installation_state = "installed".into();
                if app.run_state == "running" {
                    app.health = Some("healthy".into());
                }
                app.error = None;
                app.task_id = None;
                app.ts = now.clone();
            }
            if let Some(b) = new_backup {
                let fqdn = e.app(&id).map(|a| a.fqdn.clone()).unwrap_or_default();
                let action = if matches!(op, Op::Update { .. }) {
                    "app.update.finish"
                } else {
                    "app.backup.finish"
                };
                if matches!(op, Op::Backup) {
                    result = json!(b.id);
                }
                e.events.push(new_event(
                    action,
                    &job.source,
                    json!({"appId": id, "app": {"fqdn": fqdn}, "backupId": b.id, "errorMessage": ""}),
                    now.clone(),
                ));
                if job.fault != Some(super::faults::TaskFault::Unlisted) {
                    e.backups.push(b);
                }
            } else if matches!(op, Op::Update { .. }) {
                e.events.push(new_event(
                    "app.update.finish",
                    &job.source,
                    json!({"appId": id, "errorMessage": ""}),
                    now.clone(),
                ));
            }
        }
    }
    succeed(e, &job.task_id, result);
    Ok(())
}

/// A platform backup: fresh app backups for apps with automatic backups that are installed,
/// the last existing backup for the others. Returns the new backup's id.
fn box_backup(e: &mut Estate, task_id: &str, source: &Value) -> String {
    let now = now_iso();
    let mut depends = Vec::new();
    let mut fresh = Vec::new();
    for app in &e.apps {
        if app.enable_backup && app.installation_state == "installed" {
            let b = new_app_backup(app, "normal", now.clone());
            depends.push(b.id.clone());
            fresh.push(b);
        } else if let Some(prev) = e
            .backups
            .iter()
            .filter(|b| b.identifier == app.id && b.state == "normal")
            .max_by(|a, b| a.creation_time.cmp(&b.creation_time))
        {
            depends.push(prev.id.clone());
        }
    }
    e.backups.extend(fresh);
    let bx = new_box_backup(depends, "normal", now.clone());
    let id = bx.id.clone();
    e.backups.push(bx);
    e.events.push(new_event(
        "backup.finish",
        source,
        json!({"taskId": task_id, "backupId": id, "errorMessage": null}),
        now,
    ));
    id
}

/// Apply the retention policy; the result lists what was removed.
fn cleanup(e: &mut Estate, task_id: &str, source: &Value) -> Value {
    let installed: HashSet<String> = e.apps.iter().map(|a| a.id.clone()).collect();
    let removal = retention::plan_cleanup(
        &e.backups,
        &e.policy.retention,
        &installed,
        chrono::Utc::now(),
    );
    let paths = |ids: &[String]| -> Vec<String> {
        e.backups
            .iter()
            .filter(|b| ids.contains(&b.id))
            .map(|b| b.remote_path.clone())
            .collect()
    };
    let result = json!({
        "removedBoxBackupPaths": paths(&removal.box_ids),
        "removedAppBackupPaths": paths(&removal.app_ids),
        "removedMailBackupPaths": [],
        "missingBackupPaths": [],
    });
    e.backups
        .retain(|b| !removal.box_ids.contains(&b.id) && !removal.app_ids.contains(&b.id));
    let mut data = result.clone();
    if let Value::Object(m) = &mut data {
        m.insert("taskId".into(), json!(task_id));
        m.insert("errorMessage".into(), Value::Null);
    }
    e.events
        .push(new_event("backup.cleanup.finish", source, data, now_iso()));
    result
}

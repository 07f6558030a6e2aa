//! Platform backup and task routes: `GET /backups` (box backups with `dependsOn`),
//! `POST /backups/create` (409 while one runs), `POST /backups/cleanup` (retention),
//! `GET|POST /backups/policy`, `GET /backups/config`, `POST /backups/:id`; and `GET /tasks`,
//! `GET /tasks/:id`, `POST /tasks/:id/stop`, `GET /tasks/:id/logs`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::IntoResponse;
use serde_json::{Map, Value, json};

use super::app_ops::backup_changes;
use super::factory::{new_event, new_task};
use super::http::{
    ApiError, ApiResult, Body, accepted, no_content, now_iso, ok, ok_empty, page_of, paging, query,
};
use super::job::{Job, Op};
use super::layers::Caller;
use super::model::{Backup, api_json};
use super::state::Shared;
use super::tasks;

type St = State<Arc<Shared>>;

const RETENTION_KEYS: &[&str] = &[
    "keepWithinSecs",
    "keepDaily",
    "keepWeekly",
    "keepMonthly",
    "keepYearly",
];

/// `GET /backups`: platform backups, newest first.
pub async fn list(State(s): St, uri: Uri) -> ApiResult {
    let (page, per_page) = paging(&query(&uri))?;
    let e = s.read();
    let mut list: Vec<&Backup> = e
        .backups
        .iter()
        .filter(|b| b.kind == "box" && b.state == "normal")
        .collect();
    list.sort_by(|a, b| b.creation_time.cmp(&a.creation_time));
    let list: Vec<Value> = list.into_iter().map(api_json).collect();
    ok(json!({ "backups": page_of(&list, page, per_page) }))
}

/// Start a platform task (backup or cleanup).
fn begin(s: &Arc<Shared>, caller: &Caller, op: Op) -> Result<String, ApiError> {
    let is_backup = matches!(op, Op::BoxBackup);
    let (task_id, source) = s.mutate(|e| -> Result<(String, Value), ApiError> {
        if is_backup && e.box_backup_running() {
            return Err(ApiError::conflict("Backup already in progress"));
        }
        let task_id = e.take_task_id();
        let source = caller.source(&e.owner_id);
        if is_backup {
            e.events.push(new_event(
                "backup.start",
                &source,
                json!({"taskId": task_id}),
                now_iso(),
            ));
        }
        e.tasks.push(new_task(task_id.clone(), op.kind(), vec![]));
        Ok((task_id, source))
    })?;
    tasks::spawn(
        s,
        Job {
            task_id: task_id.clone(),
            app_id: None,
            op,
            fault: caller.fault,
            source,
        },
    );
    Ok(task_id)
}

pub async fn create(State(s): St, caller: Caller, _body: Body) -> ApiResult {
    accepted(json!({ "taskId": begin(&s, &caller, Op::BoxBackup)? }))
}

pub async fn cleanup(State(s): St, caller: Caller, _body: Body) -> ApiResult {
    accepted(json!({ "taskId": begin(&s, &caller, Op::Cleanup)? }))
}

pub async fn get_policy(State(s): St) -> ApiResult {
    let e = s.read();
    ok(json!({"policy": {"schedule": e.policy.schedule, "retention": e.policy.retention}}))
}

/// Validate a retention object: known keys with integer values, at least one.
fn retention(v: Option<&Value>) -> Result<Map<String, Value>, ApiError> {
    let Some(Value::Object(m)) = v else {
        return Err(ApiError::bad("retention is required"));
    };
    if m.is_empty() {
        return Err(ApiError::bad("retention must have at least one rule"));
    }
    for (k, v) in m {
        if !RETENTION_KEYS.contains(&k.as_str()) {
            return Err(ApiError::bad(format!("retention has an unknown key {k}")));
        }
        if v.as_i64().is_none() {
            return Err(ApiError::bad(format!("retention.{k} must be a number")));
        }
    }
    Ok(m.clone())
}

pub async fn set_policy(State(s): St, body: Body) -> ApiResult {
    let retention = retention(body.get("retention"))?;
    let schedule = body.opt_str("schedule")?.map(str::to_string);
    if let Some(sch) = &schedule
        && sch.split_whitespace().count() != 6
    {
        return Err(ApiError::bad(
            "schedule must be a cron pattern with six fields",
        ));
    }
    s.mutate(|e| {
        e.policy.retention = retention;
        if let Some(sch) = schedule {
            e.policy.schedule = sch;
        }
    });
    ok_empty()
}

pub async fn config() -> ApiResult {
    ok(json!({
        "provider": "filesystem",
        "format": "tgz",
        "backupFolder": "/var/backups",
        "noHardLinks": false,
        "encryption": null,
        "limits": {"memoryLimit": 1u64 << 30},
    }))
}

pub async fn mount_status() -> ApiResult {
    ok(json!({"state": "active", "message": "mounted"}))
}

/// `POST /backups/:id`: 200 `{}`.
pub async fn update(State(s): St, Path(id): Path<String>, body: Body) -> ApiResult {
    let (label, preserve) = backup_changes(&body)?;
    s.mutate(|e| -> Result<(), ApiError> {
        let b = e
            .backup_mut(&id)
            .ok_or_else(|| ApiError::not_found("Backup not found"))?;
        if let Some(l) = label {
            b.label = l;
        }
        if let Some(p) = preserve {
            b.preserve_secs = p;
        }
        Ok(())
    })?;
    ok_empty()
}

/// `GET /tasks`: newest first, optionally of one `type`.
pub async fn list_tasks(State(s): St, uri: Uri) -> ApiResult {
    let q = query(&uri);
    let (page, per_page) = paging(&q)?;
    let e = s.read();
    let mut list: Vec<&super::model::Task> = e
        .tasks
        .iter()
        .filter(|t| q.get("type").is_none_or(|k| &t.kind == k))
        .collect();
    list.sort_by_key(|t| std::cmp::Reverse(t.id.parse::<u64>().unwrap_or(0)));
    let list: Vec<Value> = list.into_iter().map(api_json).collect();
    ok(json!({ "tasks": page_of(&list, page, per_page) }))
}

pub async fn get_task(State(s): St, Path(id): Path<String>) -> ApiResult {
    let e = s.read();
    let t = e
        .task(&id)
        .ok_or_else(|| ApiError::not_found("No such task"))?;
    ok(api_json(t))
}

/// `POST /tasks/:id/stop`: 204; 409 when the task is not running.
pub async fn stop_task(State(s): St, Path(id): Path<String>) -> ApiResult {
    s.mutate(|e| -> Result<(), ApiError> {
        let t = e
            .task(&id)
            .ok_or_else(|| ApiError::not_found("No such task"))?;
        if !t.active {
            return Err(ApiError::conflict("Task is not active"));
        }
        tasks::fail(e, &id, &format!("Task {id} stopped"), "stopped");
        Ok(())
    })?;
    no_content()
}

/// `GET /tasks/:id/logs`: plain text, one progress line each.
pub async fn task_logs(State(s): St, Path(id): Path<String>) -> ApiResult {
    let e = s.read();
    let t = e
        .task(&id)
        .ok_or_else(|| ApiError::not_found("No such task"))?;
    let mut text = format!("{} Task {} ({}) started\n", t.creation_time, t.id, t.kind);
    for line in &t.lab_log {
        text.push_str(line);
        text.push('\n');
    }
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/x-logs".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"task-{id}.log\""),
            ),
        ],
        text,
    )
        .into_response())
}

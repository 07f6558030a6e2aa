//! Lifecycle operations on an existing app, each a task: uninstall, restore, backup, start,
//! stop, restart, update (all 202 `{taskId}`), plus the app's backups and its current task.
//! An app that a task owns is busy: another lifecycle call gets 409, as box's
//! `checkAppState` answers; an app in `error` accepts only uninstall, restore or a retry of
//! the operation that failed.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::Uri;
use serde_json::{Value, json};

use super::apps::resolve_manifest;
use super::factory::{new_event, new_task};
use super::http::{
    ApiError, ApiResult, Body, accepted, now_iso, ok, ok_empty, page_of, paging, query,
};
use super::job::{Job, Op};
use super::layers::Caller;
use super::model::{App, api_json};
use super::state::Shared;
use super::tasks;

type St = State<Arc<Shared>>;

/// May `app` start an operation that puts it in `state`?
fn check_app_state(app: &App, state: &str) -> Result<(), ApiError> {
    if let Some(tid) = &app.task_id {
        return Err(ApiError::conflict(format!(
            "Locked by task {tid} : {} / {}",
            app.installation_state, app.run_state
        )));
    }
    if app.is_busy() {
        return Err(ApiError::conflict(format!(
            "App is busy: {}",
            app.installation_state
        )));
    }
    if app.installation_state == "error" {
        let failed = app
            .error
            .as_ref()
            .and_then(|e| e.get("installationState"))
            .and_then(Value::as_str);
        let recovery = ["pending_uninstall", "pending_restore", "pending_import"];
        if failed != Some(state) && !recovery.contains(&state) {
            return Err(ApiError::conflict("Not allowed in error state"));
        }
    }
    Ok(())
}

/// Check the app, create its task, mark it `pending_*`, log `action`, and run the task.
pub fn begin_app_task(
    s: &Arc<Shared>,
    caller: &Caller,
    app_id: &str,
    op: Op,
    action: &str,
    data: Value,
) -> Result<String, ApiError> {
    let (task_id, source) = s.mutate(|e| -> Result<(String, Value), ApiError> {
        let app = e.app(app_id).ok_or_else(ApiError::app_not_found)?;
        check_app_state(app, op.pending_state())?;
        let fqdn = app.fqdn.clone();
        let task_id = e.take_task_id();
        let now = now_iso();
        if let Some(app) = e.app_mut(app_id) {
            app.installation_state = op.pending_state().into();
            app.task_id = Some(task_id.clone());
            app.ts = now.clone();
        }
        let source = caller.source(&e.owner_id);
        let mut d = json!({"appId": app_id, "app": {"fqdn": fqdn}, "taskId": task_id});
        if let (Value::Object(m), Value::Object(extra)) = (&mut d, data) {
            m.extend(extra);
        }
        e.events.push(new_event(action, &source, d, now));
        e.tasks
            .push(new_task(task_id.clone(), op.kind(), vec![json!(app_id)]));
        Ok((task_id, source))
    })?;
    tasks::spawn(
        s,
        Job {
            task_id: task_id.clone(),
            app_id: Some(app_id.to_string()),
            op,
            fault: caller.fault,
            source,
        },
    );
    Ok(task_id)
}

fn started(task_id: String) -> ApiResult {
    accepted(json!({ "taskId": task_id }))
}

pub async fn uninstall(
    State(s): St,
    Path(id): Path<String>,
    caller: Caller,
    _body: Body,
) -> ApiResult {
    started(begin_app_task(
        &s,
        &caller,
        &id,
        Op::Uninstall,
        "app.uninstall",
        json!({}),
    )?)
}

pub async fn start(State(s): St, Path(id): Path<String>, caller: Caller, _body: Body) -> ApiResult {
    started(begin_app_task(
        &s,
        &caller,
        &id,
        Op::Start,
        "app.start",
        json!({}),
    )?)
}

pub async fn stop(State(s): St, Path(id): Path<String>, caller: Caller, _body: Body) -> ApiResult {
    started(begin_app_task(
        &s,
        &caller,
        &id,
        Op::Stop,
        "app.stop",
        json!({}),
    )?)
}

pub async fn restart(
    State(s): St,
    Path(id): Path<String>,
    caller: Caller,
    _body: Body,
) -> ApiResult {
    started(begin_app_task(
        &s,
        &caller,
        &id,
        Op::Restart,
        "app.restart",
        json!({}),
    )?)
}

pub async fn backup(
    State(s): St,
    Path(id): Path<String>,
    caller: Caller,
    _body: Body,
) -> ApiResult {
    started(begin_app_task(
        &s,
        &caller,
        &id,
        Op::Backup,
        "app.backup",
        json!({}),
    )?)
}

pub async fn restore(
    State(s): St,
    Path(id): Path<String>,
    caller: Caller,
    body: Body,
) -> ApiResult {
    let backup_id = match body.get("backupId") {
        Some(Value::String(b)) => b.clone(),
        _ => return Err(ApiError::bad("backupId must be a string")),
    };
    {
        let e = s.read();
        let app = e.app(&id).ok_or_else(ApiError::app_not_found)?;
        let b = e
            .backup(&backup_id)
            .filter(|b| b.kind == "app" && b.state == "normal")
            .ok_or_else(|| ApiError::not_found("Backup not found"))?;
        let want = app.manifest.get("id");
        let got = b.manifest.as_ref().and_then(|m| m.get("id"));
        if want.is_some() && got != want {
            return Err(ApiError::bad(format!(
                "Backup {backup_id} is of another app"
            )));
        }
    }
    let op = Op::Restore {
        backup_id: backup_id.clone(),
    };
    let data = json!({ "backupId": backup_id });
    started(begin_app_task(&s, &caller, &id, op, "app.restore", data)?)
}

pub async fn update(State(s): St, Path(id): Path<String>, caller: Caller, body: Body) -> ApiResult {
    if body.has("appStoreId") && body.has("manifest") {
        return Err(ApiError::bad(
            "Only one of appStoreId or manifest is allowed",
        ));
    }
    let skip_backup = body.opt_bool("skipBackup")?.unwrap_or(false);
    body.opt_bool("force")?;
    let (store_id, manifest) = resolve_manifest(&body)?;
    {
        let e = s.read();
        let app = e.app(&id).ok_or_else(ApiError::app_not_found)?;
        if !store_id.is_empty() && !app.app_store_id.is_empty() && app.app_store_id != store_id {
            return Err(ApiError::bad(format!(
                "appStoreId {store_id} does not match the app's {}",
                app.app_store_id
            )));
        }
    }
    let to = manifest.get("version").cloned().unwrap_or(Value::Null);
    let op = Op::Update {
        manifest,
        skip_backup,
    };
    let data = json!({"toManifest": {"version": to}, "skipBackup": skip_backup});
    started(begin_app_task(&s, &caller, &id, op, "app.update", data)?)
}

/// `GET /apps/:id/backups`: this app's usable backups, newest first.
pub async fn backups(State(s): St, Path(id): Path<String>, uri: Uri) -> ApiResult {
    let (page, per_page) = paging(&query(&uri))?;
    let e = s.read();
    e.app(&id).ok_or_else(ApiError::app_not_found)?;
    let mut list: Vec<&super::model::Backup> = e
        .backups
        .iter()
        .filter(|b| b.kind == "app" && b.identifier == id && b.state == "normal")
        .collect();
    list.sort_by(|a, b| b.creation_time.cmp(&a.creation_time));
    let list: Vec<Value> = list.into_iter().map(api_json).collect();
    ok(json!({ "backups": page_of(&list, page, per_page) }))
}

/// `label` and `preserveSecs` of a backup, validated.
pub fn backup_changes(body: &Body) -> Result<(Option<String>, Option<u64>), ApiError> {
    let label = body.opt_str("label")?.map(str::to_string);
    let preserve = match body.get("preserveSecs") {
        None => None,
        Some(v) => Some(
            v.as_u64()
                .or_else(|| v.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
                .ok_or_else(|| ApiError::bad("preserveSecs must be a number"))?,
        ),
    };
    Ok((label, preserve))
}

/// `POST /apps/:id/backups/:backupId`: 200 `{}`.
pub async fn update_backup(
    State(s): St,
    Path((id, backup_id)): Path<(String, String)>,
    body: Body,
) -> ApiResult {
    let (label, preserve) = backup_changes(&body)?;
    s.mutate(|e| -> Result<(), ApiError> {
        e.app(&id).ok_or_else(ApiError::app_not_found)?;
        let b = e
            .backup_mut(&backup_id)
            .filter(|b| b.identifier == id)
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

/// `GET /apps/:id/task`: 400 "No active task" when the app has none.
pub async fn task(State(s): St, Path(id): Path<String>) -> ApiResult {
    let e = s.read();
    let app = e.app(&id).ok_or_else(ApiError::app_not_found)?;
    let task = app
        .task_id
        .as_deref()
        .and_then(|t| e.task(t))
        .ok_or_else(|| ApiError::bad("No active task"))?;
    ok(api_json(task))
}

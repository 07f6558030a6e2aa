//! App routes that create apps or change their settings: `GET /apps`, `GET /apps/:id`,
//! `POST /apps` (install, also from a `backupId`), `POST /apps/:id/clone`, the synchronous
//! `configure/*` settings and the app's eventlog. Validation follows box: the first missing
//! or mistyped field is named in a 400.
//!
//! Lifecycle operations on existing apps live in `app_ops`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::Uri;
use serde_json::{Value, json};

use super::catalog;
use super::factory::{AppSpec, new_app, new_event, new_task};
use super::http::{
    ApiError, ApiResult, Body, accepted, created, ok, ok_empty, page_of, paging, query,
};
use super::job::{Job, Op};
use super::layers::Caller;
use super::model::{AccessRestriction, AppData, Estate, app_json};
use super::state::Shared;
use super::tasks;

type St = State<Arc<Shared>>;

pub async fn list(State(s): St) -> ApiResult {
    let apps: Vec<Value> = s.read().apps.iter().map(app_json).collect();
    ok(json!({ "apps": apps }))
}

pub async fn get(State(s): St, Path(id): Path<String>) -> ApiResult {
    let e = s.read();
    let app = e.app(&id).ok_or_else(ApiError::app_not_found)?;
    ok(app_json(app))
}

/// `null` or `{users, groups}`.
pub fn access_restriction(v: &Value, field: &str) -> Result<Option<AccessRestriction>, ApiError> {
    match v {
        Value::Null => Ok(None),
        Value::Object(_) => serde_json::from_value(v.clone())
            .map(Some)
            .map_err(|_| ApiError::bad(format!("{field} users and groups must be string arrays"))),
        _ => Err(ApiError::bad(format!("{field} must be an object or null"))),
    }
}

/// The manifest and store id an install or update asks for.
pub fn resolve_manifest(body: &Body) -> Result<(String, Value), ApiError> {
    if body.has("manifest") && !body.get("manifest").is_some_and(Value::is_object) {
        return Err(ApiError::bad("manifest must be an object"));
    }
    let store_id = body.opt_str("appStoreId")?.filter(|s| !s.is_empty());
    if let Some(store_id) = store_id {
        let app = catalog::find(store_id).ok_or_else(|| {
            ApiError::not_found(format!("No such app in the App Store: {store_id}"))
        })?;
        let version = store_id.split_once('@').map(|(_, v)| v);
        return Ok((app.id.to_string(), catalog::manifest(app, version)));
    }
    match body.get("manifest") {
        Some(m) if m.get("version").is_some_and(Value::is_string) => Ok((String::new(), m.clone())),
        Some(_) => Err(ApiError::bad("Invalid manifest: version is required")),
        None => Err(ApiError::bad("appStoreId or manifest is required")),
    }
}

/// Check a location is valid and free.
fn check_location(e: &Estate, subdomain: &str, domain: &str) -> Result<String, ApiError> {
    if domain != e.domain {
        return Err(ApiError::not_found(format!("No such domain: {domain}")));
    }
    let valid = subdomain.split('.').all(|label| {
        label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    });
    if !valid || (subdomain.contains('.') && subdomain.split('.').any(str::is_empty)) {
        return Err(ApiError::bad(
            "subdomain can only contain lowercase alphanumerals, hyphen and dot",
        ));
    }
    let fqdn = if subdomain.is_empty() {
        domain.to_string()
    } else {
        format!("{subdomain}.{domain}")
    };
    if fqdn == e.dashboard_fqdn {
        return Err(ApiError::bad(format!(
            "{fqdn} is reserved for the dashboard"
        )));
    }
    if e.apps.iter().any(|a| a.fqdn == fqdn) {
        return Err(ApiError::conflict(format!("{fqdn} is already in use")));
    }
    Ok(fqdn)
}

/// The app backup a new app starts from; its app must be the one being installed.
fn backup_for(
    e: &Estate,
    backup_id: &str,
    manifest_id: Option<&str>,
) -> Result<(Value, AppData), ApiError> {
    let b = e
        .backup(backup_id)
        .filter(|b| b.kind == "app" && b.state == "normal")
        .ok_or_else(|| ApiError::not_found("Backup not found"))?;
    let manifest = b.manifest.clone().unwrap_or(Value::Null);
    if let Some(want) = manifest_id
        && manifest.get("id").and_then(Value::as_str) != Some(want)
    {
        return Err(ApiError::bad(format!(
            "Backup {backup_id} is of another app ({})",
            manifest
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or("unknown")
        )));
    }
    let data = b
        .lab_data
        .clone()
        .unwrap_or_else(|| AppData::fresh(backup_id));
    Ok((manifest, data))
}

/// `POST /apps`: 202 `{id, taskId}`.
pub async fn install(State(s): St, caller: Caller, body: Body) -> ApiResult {
    if body.has("manifest") && !body.get("manifest").is_some_and(Value::is_object) {
        return Err(ApiError::bad("manifest must be an object"));
    }
    body.opt_str("appStoreId")?;
    if !body.has("manifest") && body.opt_str("appStoreId")?.is_none_or(str::is_empty) {
        return Err(ApiError::bad("appStoreId or manifest is required"));
    }
    let subdomain = body.req_str("subdomain")?.to_string();
    let domain = body.req_str("domain")?.to_string();
    let access = match body.get("accessRestriction") {
        None => return Err(ApiError::bad("accessRestriction is required")),
        Some(v) => access_restriction(v, "accessRestriction")?,
    };
    let backup_id = body.opt_str("backupId")?.map(str::to_string);
    let label = match body.get("label") {
        None | Some(Value::Null) => None,
        Some(Value::String(l)) => Some(l.clone()),
        Some(_) => return Err(ApiError::bad("label must be a string")),
    };
    let enable_backup = body.opt_bool("enableBackup")?;
    let auto_update = body.opt_bool("enableAutomaticUpdate")?;
    let (store_id, manifest) = resolve_manifest(&body)?;

    let id = uuid::Uuid::new_v4().to_string();
    let (task_id, source) = s.mutate(|e| -> Result<(String, Value), ApiError> {
        let fqdn = check_location(e, &subdomain, &domain)?;
        let (manifest, data) = match &backup_id {
            Some(b) => backup_for(e, b, manifest.get("id").and_then(Value::as_str))?,
            None => (manifest, AppData::fresh(&id)),
        };
        let now = super::http::now_iso();
        let mut app = new_app(AppSpec {
            id: id.clone(),
            app_store_id: store_id,
            manifest,
            subdomain: &subdomain,
            domain: &domain,
            access_restriction: access,
            creation_time: now.clone(),
            data,
        });
        app.label = label;
        app.enable_backup = enable_backup.unwrap_or(true);
        app.enable_automatic_update = auto_update.unwrap_or(true);
        app.health = None;
        let task_id = e.take_task_id();
        app.installation_state = Op::Install.pending_state().into();
        app.task_id = Some(task_id.clone());
        let source = caller.source(&e.owner_id);
        e.events.push(new_event(
            "app.install",
            &source,
            json!({"appId": id, "app": {"fqdn": fqdn, "manifest": {"id": app.manifest.get("id")}}, "backupId": backup_id}),
            now,
        ));
        e.tasks.push(new_task(task_id.clone(), "app", vec![json!(id)]));
        e.apps.push(app);
        Ok((task_id, source))
    })?;
    tasks::spawn(
        &s,
        Job {
            task_id: task_id.clone(),
            app_id: Some(id.clone()),
            op: Op::Install,
            fault: caller.fault,
            source,
        },
    );
    accepted(json!({"id": id, "taskId": task_id}))
}

/// `POST /apps/:id/clone`: 201 `{id, taskId}`; the new app starts from the backup.
pub async fn clone(State(s): St, Path(src): Path<String>, caller: Caller, body: Body) -> ApiResult {
    let backup_id = match body.get("backupId") {
        Some(Value::String(b)) => b.clone(),
        _ => return Err(ApiError::bad("backupId must be a string")),
    };
    let subdomain = body.req_str("subdomain")?.to_string();
    let domain = body.req_str("domain")?.to_string();
    let id = uuid::Uuid::new_v4().to_string();
    let (task_id, source) = s.mutate(|e| -> Result<(String, Value), ApiError> {
        let source_app = e.app(&src).ok_or_else(ApiError::app_not_found)?.clone();
        let fqdn = check_location(e, &subdomain, &domain)?;
        let (manifest, data) = backup_for(
            e,
            &backup_id,
            source_app.manifest.get("id").and_then(Value::as_str),
        )?;
        let now = super::http::now_iso();
        let mut app = new_app(AppSpec {
            id: id.clone(),
            app_store_id: source_app.app_store_id.clone(),
            manifest,
            subdomain: &subdomain,
            domain: &domain,
            access_restriction: source_app.access_restriction.clone(),
            creation_time: now.clone(),
            data,
        });
        app.health = None;
        let task_id = e.take_task_id();
        app.installation_state = Op::Clone.pending_state().into();
        app.task_id = Some(task_id.clone());
        let source = caller.source(&e.owner_id);
        e.events.push(new_event(
            "app.clone",
            &source,
            json!({"appId": id, "oldAppId": src, "backupId": backup_id, "newApp": {"fqdn": fqdn}, "oldApp": {"fqdn": source_app.fqdn}}),
            now,
        ));
        e.tasks.push(new_task(task_id.clone(), "app", vec![json!(id)]));
        e.apps.push(app);
        Ok((task_id, source))
    })?;
    tasks::spawn(
        &s,
        Job {
            task_id: task_id.clone(),
            app_id: Some(id.clone()),
            op: Op::Clone,
            fault: caller.fault,
            source,
        },
    );
    created(json!({"id": id, "taskId": task_id}))
}

/// Synchronous settings: 200 `{}`.
pub async fn configure(
    State(s): St,
    Path((id, setting)): Path<(String, String)>,
    caller: Caller,
    body: Body,
) -> ApiResult {
    let change = |e: &mut Estate| -> Result<(), ApiError> {
        let owner = e.owner_id.clone();
        let app = e.app_mut(&id).ok_or_else(ApiError::app_not_found)?;
        match setting.as_str() {
            "access_restriction" => {
                let v = body
                    .get("accessRestriction")
                    .ok_or_else(|| ApiError::bad("accessRestriction is required"))?;
                app.access_restriction = access_restriction(v, "accessRestriction")?;
            }
            "operators" => {
                let v = body
                    .get("operators")
                    .ok_or_else(|| ApiError::bad("operators is required"))?;
                app.operators = access_restriction(v, "operators")?;
            }
            "label" => app.label = Some(body.req_str("label")?.to_string()),
            "notes" => app.notes = Some(body.req_str("notes")?.to_string()),
            "tags" => {
                app.tags = body
                    .get("tags")
                    .and_then(|t| serde_json::from_value(t.clone()).ok())
                    .ok_or_else(|| ApiError::bad("tags must be an array of strings"))?;
            }
            "automatic_backup" | "automatic_update" => {
                let enable = body
                    .opt_bool("enable")?
                    .ok_or_else(|| ApiError::bad("enable must be a boolean"))?;
                if setting == "automatic_backup" {
                    app.enable_backup = enable;
                } else {
                    app.enable_automatic_update = enable;
                }
            }
            _ => return Err(ApiError::no_such_route()),
        }
        let now = super::http::now_iso();
        app.ts = now.clone();
        let fqdn = app.fqdn.clone();
        let source = json!({"username": "admin", "userId": owner, "ip": caller.ip});
        e.events.push(new_event(
            "app.configure",
            &source,
            json!({"appId": id, "app": {"fqdn": fqdn}, "setting": setting, "body": Value::Object(body.0.clone())}),
            now,
        ));
        Ok(())
    };
    s.mutate(change)?;
    ok_empty()
}

/// `GET /apps/:id/eventlog`: this app's events, newest first.
pub async fn eventlog(State(s): St, Path(id): Path<String>, uri: Uri) -> ApiResult {
    let (page, per_page) = paging(&query(&uri))?;
    let e = s.read();
    e.app(&id).ok_or_else(ApiError::app_not_found)?;
    let events: Vec<Value> = e
        .events
        .iter()
        .rev()
        .filter(|ev| ev.data.get("appId").and_then(Value::as_str) == Some(id.as_str()))
        .map(super::model::api_json)
        .collect();
    ok(json!({ "eventlogs": page_of(&events, page, per_page) }))
}

//! The lab's control surface outside `/api/v1` (same token): faults, the request log, the
//! whole state, reset, and knobs a test needs to stage a situation (use an app so its data
//! changes, fill the disk, break a service, mark an app unhealthy, age a backup).
//!
//! These routes exist only in the emulator; a real Cloudron has nothing like them.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::Uri;
use serde_json::{Value, json};

use super::faults::Effect;
use super::http::{ApiError, ApiResult, Body, created, no_content, now_iso, ok, parse_iso, query};
use super::model::AppData;
use super::state::Shared;

type St = State<Arc<Shared>>;

/// `POST /__lab/faults {"match", "effect", "times"}`: 201 with the rule.
pub async fn add_fault(State(s): St, body: Body) -> ApiResult {
    let pattern = body.req_str("match")?.to_string();
    let effect_s = body.req_str("effect")?;
    let effect = Effect::parse(effect_s).ok_or_else(|| {
        ApiError::bad(format!(
            "effect must be http_500, http_503, task_error, task_stall, backup_unlisted, delay_ms:N or \
             drop_connection, got {effect_s:?}"
        ))
    })?;
    let times = match body.get("times") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .filter(|n| *n > 0)
                .ok_or_else(|| ApiError::bad("times must be a positive integer"))?,
        ),
    };
    let view = s
        .faults()
        .add(&pattern, effect, times)
        .map_err(ApiError::bad)?;
    created(serde_json::to_value(view).unwrap_or(Value::Null))
}

pub async fn list_faults(State(s): St) -> ApiResult {
    ok(json!({ "faults": s.faults().list() }))
}

pub async fn clear_faults(State(s): St) -> ApiResult {
    s.faults().clear();
    no_content()
}

pub async fn remove_fault(State(s): St, Path(id): Path<u64>) -> ApiResult {
    if s.faults().remove(id) {
        no_content()
    } else {
        Err(ApiError::not_found("No such fault"))
    }
}

/// `GET /__lab/requests[?since=SEQ]`: requests in the order received.
pub async fn requests(State(s): St, uri: Uri) -> ApiResult {
    let since = query(&uri)
        .get("since")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    ok(json!({ "requests": s.requests(since) }))
}

/// `GET /__lab/state`: the estate with the lab-only fields (app data), without the token.
pub async fn state(State(s): St) -> ApiResult {
    let mut v = serde_json::to_value(&*s.read()).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        m.remove("token");
    }
    ok(v)
}

pub async fn reset(State(s): St) -> ApiResult {
    s.reset();
    no_content()
}

/// Use an app: its data gets a new version and checksum. Only a running app can be used.
pub fn use_app_in(e: &mut super::model::Estate, id: &str) -> Result<AppData, ApiError> {
    let app = e.app_mut(id).ok_or_else(ApiError::app_not_found)?;
    if app.installation_state != "installed" || app.run_state != "running" {
        return Err(ApiError::conflict(format!(
            "App is not running ({} / {})",
            app.installation_state, app.run_state
        )));
    }
    app.lab_data = app.lab_data.used(&now_iso());
    Ok(app.lab_data.clone())
}

/// `POST /__lab/apps/:id/use`: 200 `{id, data}`; 409 unless the app is running.
pub async fn use_app(State(s): St, Path(id): Path<String>) -> ApiResult {
    let data = s.mutate(|e| use_app_in(e, &id))?;
    ok(json!({"id": id, "data": data}))
}

/// `POST /__lab/apps/:id/health {"health": "unhealthy"}`.
pub async fn set_health(State(s): St, Path(id): Path<String>, body: Body) -> ApiResult {
    let health = match body.get("health") {
        Some(Value::Null) => None,
        Some(Value::String(h)) => Some(h.clone()),
        _ => return Err(ApiError::bad("health must be a string or null")),
    };
    s.mutate(|e| -> Result<(), ApiError> {
        let app = e.app_mut(&id).ok_or_else(ApiError::app_not_found)?;
        app.health = health;
        app.ts = now_iso();
        Ok(())
    })?;
    no_content()
}

/// `POST /__lab/disk {"capacity": 0.93}` (`null` goes back to the computed usage).
pub async fn set_disk(State(s): St, body: Body) -> ApiResult {
    let capacity = match body.get("capacity") {
        Some(Value::Null) => None,
        Some(v) => Some(
            v.as_f64()
                .filter(|c| (0.0..=1.0).contains(c))
                .ok_or_else(|| ApiError::bad("capacity must be a number from 0 to 1"))?,
        ),
        None => return Err(ApiError::bad("capacity is required")),
    };
    s.mutate(|e| e.disk_capacity_override = capacity);
    no_content()
}

/// `POST /__lab/services/:name {"status": "stopped", "error": "..."}`.
pub async fn set_service(State(s): St, Path(name): Path<String>, body: Body) -> ApiResult {
    let status = body.req_str("status")?.to_string();
    let error = body.opt_str("error")?.map(str::to_string);
    s.mutate(|e| -> Result<(), ApiError> {
        let svc = e
            .services
            .iter_mut()
            .find(|x| x.name == name)
            .ok_or_else(|| ApiError::not_found("No such service"))?;
        svc.status = status;
        svc.error = error;
        Ok(())
    })?;
    no_content()
}

/// `POST /__lab/backups/:id {"creationTime": "..."}`: move a backup in time.
pub async fn set_backup(State(s): St, Path(id): Path<String>, body: Body) -> ApiResult {
    let at = body.req_str("creationTime")?;
    let t = parse_iso(at).ok_or_else(|| ApiError::bad("creationTime must be an ISO-8601 time"))?;
    s.mutate(|e| -> Result<(), ApiError> {
        let b = e
            .backup_mut(&id)
            .ok_or_else(|| ApiError::not_found("Backup not found"))?;
        b.creation_time = super::http::iso(t);
        Ok(())
    })?;
    no_content()
}

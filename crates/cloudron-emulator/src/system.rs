//! Platform routes: `cloudron/status` (public), `dashboard/config`, `system/info|memory|
//! disk_usage`, `services[/platform_status|/:name]`, `eventlog`, `profile`. Read-only views of
//! the estate in the live shapes.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::Uri;
use serde_json::{Map, Value, json};

use super::catalog;
use super::http::{ApiError, ApiResult, ok, page_of, paging, query};
use super::model::{CLOUDRON_VERSION, api_json};
use super::state::Shared;

type St = State<Arc<Shared>>;

pub async fn status() -> ApiResult {
    ok(json!({"version": CLOUDRON_VERSION}))
}

pub async fn dashboard_config(State(s): St) -> ApiResult {
    let e = s.read();
    ok(json!({
        "apiServerOrigin": "https://api.cloudron.io",
        "webServerOrigin": "https://cloudron.io",
        "consoleServerOrigin": "https://console.cloudron.io",
        "adminDomain": e.domain,
        "adminFqdn": e.dashboard_fqdn,
        "mailFqdn": e.dashboard_fqdn,
        "version": CLOUDRON_VERSION,
        "ubuntuVersion": "Ubuntu 24.04.2 LTS",
        "isDemo": false,
        "cloudronName": e.cloudron_name,
        "footer": "",
        "features": {
            "userMaxCount": null, "userGroups": true, "userRoles": true, "domainMaxCount": null,
            "externalLdap": true, "privateDockerRegistry": true, "branding": true,
            "support": true, "directoryConfig": true, "profileConfig": true,
            "mailboxMaxCount": null, "emailPremium": true
        },
        "profileLocked": false,
        "mandatory2FA": false,
        "external2FA": false,
    }))
}

pub async fn system_info(State(s): St) -> ApiResult {
    let e = s.read();
    ok(json!({
        "sysVendor": "Hetzner",
        "productName": "vServer",
        "uptimeSecs": 36 * 86400 + s.started.elapsed().as_secs(),
        "rebootRequired": false,
        "activationTime": e.activation_time,
    }))
}

pub async fn system_memory() -> ApiResult {
    ok(json!({"memory": 16u64 << 30, "swap": 4u64 << 30}))
}

pub async fn disk_usage(State(s): St) -> ApiResult {
    let e = s.read();
    let contents: Vec<Value> = e
        .apps
        .iter()
        .map(|a| {
            json!({
                "id": a.id, "type": "app",
                "path": format!("/home/yellowtent/appsdata/{}", a.id),
                "usage": catalog::usage_bytes(&a.app_store_id) + a.lab_data.version * 1_000_000,
            })
        })
        .chain([json!({
            "id": "platformdata", "type": "standard",
            "path": "/home/yellowtent/platformdata", "usage": e.disk_base_used,
        })])
        .collect();
    let counted: u64 = contents.iter().filter_map(|c| c["usage"].as_u64()).sum();
    let size = e.disk_size;
    let used = match e.disk_capacity_override {
        Some(c) => (c.clamp(0.0, 1.0) * size as f64) as u64,
        None => counted.min(size),
    };
    let fs = json!({
        "filesystem": "/dev/sda1", "type": "ext4", "size": size, "used": used,
        "available": size - used, "capacity": used as f64 / size as f64,
        "mountpoint": "/", "speed": 523.6, "contents": contents,
    });
    ok(json!({"usage": {
        "ts": chrono::Utc::now().timestamp_millis(),
        "filesystems": {"/dev/sda1": fs},
    }}))
}

pub async fn services(State(s): St) -> ApiResult {
    let names: Vec<String> = s.read().services.iter().map(|x| x.name.clone()).collect();
    ok(json!({ "services": names }))
}

pub async fn platform_status() -> ApiResult {
    ok(json!({"message": "Ready"}))
}

/// `{service: {...}}`: wrapped, as the dashboard reads it (the docs show it unwrapped).
pub async fn service(State(s): St, Path(name): Path<String>) -> ApiResult {
    let e = s.read();
    let svc = e
        .services
        .iter()
        .find(|x| x.name == name)
        .ok_or_else(|| ApiError::not_found("No such service"))?;
    ok(json!({ "service": api_json(svc) }))
}

/// Events newest first, with `search`, `actions=a,b` and paging.
pub async fn eventlog(State(s): St, uri: Uri) -> ApiResult {
    let q = query(&uri);
    let (page, per_page) = paging(&q)?;
    let actions: Vec<&str> = q
        .get("actions")
        .map(|a| {
            a.split(',')
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let search = q.get("search").map(|x| x.to_lowercase());
    let e = s.read();
    let mut events: Vec<Value> = e
        .events
        .iter()
        .rev()
        .filter(|ev| actions.is_empty() || actions.contains(&ev.action.as_str()))
        .map(api_json)
        .filter(|v| {
            search
                .as_deref()
                .is_none_or(|needle| v.to_string().to_lowercase().contains(needle))
        })
        .collect();
    events = page_of(&events, page, per_page);
    ok(json!({ "eventlogs": events }))
}

pub async fn event(State(s): St, Path(id): Path<String>) -> ApiResult {
    let e = s.read();
    let ev = e
        .events
        .iter()
        .find(|ev| ev.id == id)
        .ok_or_else(|| ApiError::not_found("Event not found"))?;
    ok(api_json(ev))
}

/// The token owner's profile.
pub async fn profile(State(s): St) -> ApiResult {
    let e = s.read();
    let u = e
        .user(&e.owner_id)
        .ok_or_else(|| ApiError::unauthorized("No such token"))?;
    let mut p = Map::new();
    for (k, v) in [
        ("id", json!(u.id)),
        ("username", json!(u.username)),
        ("email", json!(u.email)),
        ("fallbackEmail", json!(u.fallback_email)),
        ("displayName", json!(u.display_name)),
        (
            "twoFactorAuthenticationEnabled",
            json!(u.two_factor_authentication_enabled),
        ),
        ("role", json!(u.role)),
        ("hasBackgroundImage", json!(false)),
        ("avatarUrl", json!("")),
        ("source", json!(u.source)),
    ] {
        p.insert(k.into(), v);
    }
    ok(Value::Object(p))
}

//! Constructors for estate objects with the defaults a real Cloudron gives them (ids, paths,
//! timestamps, empty collections), used by both the seed and the routes so that a seeded app
//! and an installed one look alike.

use serde_json::{Map, Value, json};

use super::http::{hex8, iso, now_iso};
use super::model::{AccessRestriction, App, AppData, Backup, Event, Task, User};

/// What an app is made from.
pub struct AppSpec<'a> {
    pub id: String,
    pub app_store_id: String,
    pub manifest: Value,
    pub subdomain: &'a str,
    pub domain: &'a str,
    pub access_restriction: Option<AccessRestriction>,
    pub creation_time: String,
    pub data: AppData,
}

/// A new app record in `installed`/`running` state (routes then set the `pending_*` state).
pub fn new_app(spec: AppSpec<'_>) -> App {
    let fqdn = if spec.subdomain.is_empty() {
        spec.domain.to_string()
    } else {
        format!("{}.{}", spec.subdomain, spec.domain)
    };
    let mailbox_name = if spec.subdomain.is_empty() {
        "app.app".to_string()
    } else {
        format!("{}.app", spec.subdomain)
    };
    let memory_limit = spec
        .manifest
        .get("memoryLimit")
        .and_then(Value::as_u64)
        .unwrap_or(256 * 1024 * 1024);
    let title = spec
        .manifest
        .get("title")
        .and_then(Value::as_str)
        .unwrap_or("App")
        .to_string();
    App {
        icon_url: Some(format!("/api/v1/apps/{}/icon", spec.id)),
        id: spec.id,
        app_store_id: spec.app_store_id,
        installation_state: "installed".into(),
        run_state: "running".into(),
        health: Some("healthy".into()),
        error: None,
        task_id: None,
        subdomain: spec.subdomain.to_string(),
        domain: spec.domain.to_string(),
        fqdn,
        secondary_domains: Vec::new(),
        redirect_domains: Vec::new(),
        alias_domains: Vec::new(),
        ports: Map::new(),
        access_restriction: spec.access_restriction,
        operators: None,
        manifest: spec.manifest,
        memory_limit,
        cpu_quota: 100,
        sso: true,
        debug_mode: None,
        reverse_proxy_config: json!({"robotsTxt": "", "csp": null, "hstsPreload": false}),
        enable_backup: true,
        enable_automatic_update: true,
        update_time: spec.creation_time.clone(),
        ts: spec.creation_time.clone(),
        creation_time: spec.creation_time,
        tags: Vec::new(),
        label: None,
        notes: None,
        crontab: None,
        upstream_uri: String::new(),
        env: Map::new(),
        storage_volume_id: None,
        storage_volume_prefix: None,
        mounts: Vec::new(),
        enable_turn: false,
        enable_redis: true,
        enable_mailbox: true,
        mailbox_name,
        mailbox_domain: spec.domain.to_string(),
        mailbox_display_name: title,
        enable_inbox: false,
        inbox_name: None,
        inbox_domain: None,
        checklist: Map::new(),
        certificate: None,
        devices: Map::new(),
        lab_data: spec.data,
    }
}

/// `2025-12-26-210000-471`, the folder of a backup in the backup storage.
fn remote_folder(creation_time: &str) -> String {
    super::http::parse_iso(creation_time)
        .map(|t| t.format("%Y-%m-%d-%H%M%S-%3f").to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// A new app backup of `app` as it is now (state `creating` or `normal`).
pub fn new_app_backup(app: &App, state: &str, creation_time: String) -> Backup {
    let version = app.version();
    let size = 40_000_000 + (app.lab_data.version % 97) * 1_000_000;
    Backup {
        id: format!("app_{}_v{}_{}", app.id, version, hex8()),
        remote_path: format!(
            "{}/app_{}_v{}.tar.gz",
            remote_folder(&creation_time),
            app.fqdn,
            version
        ),
        label: String::new(),
        identifier: app.id.clone(),
        package_version: version,
        kind: "app".into(),
        state: state.into(),
        format: "tgz".into(),
        preserve_secs: 0,
        encryption_version: None,
        depends_on: Vec::new(),
        manifest: Some(app.manifest.clone()),
        stats: stats(&creation_time, size),
        creation_time,
        lab_data: Some(app.lab_data.clone()),
    }
}

/// A new platform backup that contains these app backups.
pub fn new_box_backup(depends_on: Vec<String>, state: &str, creation_time: String) -> Backup {
    let version = super::model::CLOUDRON_VERSION;
    Backup {
        id: format!("box_v{version}_{}", hex8()),
        remote_path: format!("{}/box_v{version}.tar.gz", remote_folder(&creation_time)),
        label: String::new(),
        identifier: "box".into(),
        package_version: version.into(),
        kind: "box".into(),
        state: state.into(),
        format: "tgz".into(),
        preserve_secs: 0,
        encryption_version: None,
        depends_on,
        manifest: None,
        stats: stats(&creation_time, 180_000_000),
        creation_time,
        lab_data: None,
    }
}

/// 9.x backup stats (`startTime` is epoch ms).
fn stats(creation_time: &str, size: u64) -> Value {
    let start = super::http::parse_iso(creation_time).map_or(0, |t| t.timestamp_millis());
    let upload = json!({
        "fileCount": 1 + size / 4_000_000,
        "size": size,
        "transferred": size,
        "startTime": start,
        "duration": 1_000 + size / 100_000,
    });
    json!({"upload": upload, "aggregatedUpload": upload})
}

/// A new task, active from the start.
pub fn new_task(id: String, kind: &str, args: Vec<Value>) -> Task {
    let now = now_iso();
    Task {
        id,
        kind: kind.into(),
        percent: 1,
        message: "Starting".into(),
        error: None,
        active: true,
        pending: false,
        success: false,
        result: Value::Null,
        args,
        creation_time: now.clone(),
        ts: now,
        lab_log: Vec::new(),
    }
}

/// A finished, successful task from the past (seeded history).
pub fn done_task(id: String, kind: &str, args: Vec<Value>, at: String, result: Value) -> Task {
    Task {
        id,
        kind: kind.into(),
        percent: 100,
        message: "Done".into(),
        error: None,
        active: false,
        pending: false,
        success: true,
        result,
        args,
        creation_time: at.clone(),
        ts: at,
        lab_log: Vec::new(),
    }
}

/// A new local user.
pub fn new_user(username: &str, email: &str, display_name: &str, role: &str, at: String) -> User {
    User {
        id: format!("uid-{}", uuid::Uuid::new_v4()),
        username: username.into(),
        email: email.into(),
        fallback_email: String::new(),
        display_name: display_name.into(),
        group_ids: Vec::new(),
        active: true,
        source: String::new(),
        role: role.into(),
        two_factor_authentication_enabled: false,
        invite_accepted: true,
        notification_config: Vec::new(),
        lab_creation_time: at,
    }
}

/// An eventlog entry made by `source`.
pub fn new_event(action: &str, source: &Value, data: Value, at: String) -> Event {
    Event {
        id: uuid::Uuid::new_v4().to_string(),
        action: action.into(),
        creation_time: at,
        source: source.clone(),
        data,
    }
}

/// A timestamp `secs` seconds ago.
pub fn ago(secs: i64) -> String {
    iso(chrono::Utc::now() - chrono::Duration::seconds(secs))
}

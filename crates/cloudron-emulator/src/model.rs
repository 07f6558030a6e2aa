//! The emulated Cloudron's estate as data: apps, backups, tasks, users, groups, events, policy.
//!
//! Field names follow the live API (camelCase), so an object's JSON *is* its API shape, minus
//! the lab-only fields (`labData`, `lab`) that [`strip_lab`] removes before anything is sent
//! on `/api/v1`. The same structs are persisted with `--state`. No I/O and no HTTP here.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Version string the emulator reports, as a live 9.0.15 does.
pub const CLOUDRON_VERSION: &str = "9.0.15";

/// An app's opaque "data": bumped when the app is used, captured by backups, brought back by
/// restore. It lets tests prove that a restore really restored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppData {
    pub version: u64,
    pub checksum: String,
}

impl AppData {
    /// The data of a freshly installed app.
    pub fn fresh(app_id: &str) -> Self {
        AppData {
            version: 1,
            checksum: digest(&[app_id, "1", "fresh"]),
        }
    }

    /// The data after one more use of the app: a new version and a new checksum.
    pub fn used(&self, salt: &str) -> Self {
        let version = self.version + 1;
        AppData {
            version,
            checksum: digest(&[&self.checksum, &version.to_string(), salt]),
        }
    }
}

/// Hex SHA-256 of the parts, separated so that ("ab","c") and ("a","bc") differ.
pub fn digest(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    hex::encode(h.finalize())
}

/// `{users:[uid], groups:[gid]}`; `None` on the app means everyone may use it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessRestriction {
    #[serde(default)]
    pub users: Vec<String>,
    #[serde(default)]
    pub groups: Vec<String>,
}

/// An installed (or installing) app, in the shape of `GET /apps/:id`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct App {
    pub id: String,
    pub app_store_id: String,
    pub installation_state: String,
    pub run_state: String,
    pub health: Option<String>,
    pub error: Option<Value>,
    pub task_id: Option<String>,
    pub subdomain: String,
    pub domain: String,
    pub fqdn: String,
    pub secondary_domains: Vec<Value>,
    pub redirect_domains: Vec<Value>,
    pub alias_domains: Vec<Value>,
    pub ports: Map<String, Value>,
    pub access_restriction: Option<AccessRestriction>,
    pub operators: Option<AccessRestriction>,
    pub manifest: Value,
    pub icon_url: Option<String>,
    pub memory_limit: u64,
    pub cpu_quota: u32,
    pub sso: bool,
    pub debug_mode: Option<Value>,
    pub reverse_proxy_config: Value,
    pub enable_backup: bool,
    pub enable_automatic_update: bool,
    pub creation_time: String,
    pub update_time: String,
    pub ts: String,
    pub tags: Vec<String>,
    pub label: Option<String>,
    pub notes: Option<String>,
    pub crontab: Option<String>,
    pub upstream_uri: String,
    pub env: Map<String, Value>,
    pub storage_volume_id: Option<String>,
    pub storage_volume_prefix: Option<String>,
    pub mounts: Vec<Value>,
    pub enable_turn: bool,
    pub enable_redis: bool,
    pub enable_mailbox: bool,
    pub mailbox_name: String,
    pub mailbox_domain: String,
    pub mailbox_display_name: String,
    pub enable_inbox: bool,
    pub inbox_name: Option<String>,
    pub inbox_domain: Option<String>,
    pub checklist: Map<String, Value>,
    pub certificate: Option<Value>,
    pub devices: Map<String, Value>,
    /// Lab only: the app's opaque data.
    pub lab_data: AppData,
}

impl App {
    /// The manifest's version (`""` when absent).
    pub fn version(&self) -> String {
        self.manifest
            .get("version")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    }

    /// True while a task owns the app (`pending_*`).
    pub fn is_busy(&self) -> bool {
        self.installation_state.starts_with("pending_")
    }
}

/// A backup, in the shape of `GET /backups` and `GET /apps/:id/backups` items.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Backup {
    pub id: String,
    pub remote_path: String,
    pub label: String,
    pub identifier: String,
    pub creation_time: String,
    pub package_version: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub state: String,
    pub format: String,
    pub preserve_secs: u64,
    pub encryption_version: Option<u32>,
    pub depends_on: Vec<String>,
    pub manifest: Option<Value>,
    pub stats: Value,
    /// Lab only: the app data this backup holds (app backups).
    pub lab_data: Option<AppData>,
}

/// `{message, code}` of a failed task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskError {
    pub message: String,
    pub code: String,
}

/// A task, in the shape of `GET /tasks/:id`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub percent: u32,
    pub message: String,
    pub error: Option<TaskError>,
    pub active: bool,
    pub pending: bool,
    pub success: bool,
    pub result: Value,
    pub args: Vec<Value>,
    pub creation_time: String,
    pub ts: String,
    /// Lab only: progress lines, served by `GET /tasks/:id/logs`.
    pub lab_log: Vec<String>,
}

/// A user, in the shape of `GET /users/:id`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: String,
    pub username: String,
    pub email: String,
    pub fallback_email: String,
    pub display_name: String,
    pub group_ids: Vec<String>,
    pub active: bool,
    pub source: String,
    pub role: String,
    pub two_factor_authentication_enabled: bool,
    pub invite_accepted: bool,
    pub notification_config: Vec<String>,
    /// Lab only: when the user was added.
    pub lab_creation_time: String,
}

/// A group as stored; `userIds` is derived from the users when rendered.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Group {
    pub id: String,
    pub name: String,
    pub source: String,
}

/// An eventlog entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub id: String,
    pub action: String,
    pub creation_time: String,
    pub source: Value,
    pub data: Value,
}

/// `GET /backups/policy` body (`{schedule, retention}`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Policy {
    pub schedule: String,
    pub retention: Map<String, Value>,
}

impl Default for Policy {
    /// Cloudron's default: nightly at 23:00, keep two days.
    fn default() -> Self {
        let mut retention = Map::new();
        retention.insert("keepWithinSecs".into(), Value::from(2 * 24 * 3600));
        Policy {
            schedule: "00 00 23 * * *".into(),
            retention,
        }
    }
}

/// A platform service (`GET /services/:name`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Service {
    pub name: String,
    pub status: String,
    pub memory_used: u64,
    pub memory_percent: u32,
    pub error: Option<String>,
    pub healthcheck: Value,
    pub config: Value,
    pub default_memory_limit: u64,
}

/// The API token: serialized as a plain string (the state file is 0600), redacted in `Debug`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Token(pub String);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// The whole estate: what `--state` persists and `GET /__lab/state` shows.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Estate {
    /// Persistence format version.
    pub format: u32,
    /// The seed this estate was made from (`demo`, `empty`), for `POST /__lab/reset`.
    pub seed: String,
    pub extra_apps: usize,
    pub domain: String,
    pub dashboard_fqdn: String,
    pub cloudron_name: String,
    pub activation_time: String,
    /// The API token (the owner's). Kept so a restarted lab keeps its token.
    pub token: Token,
    pub owner_id: String,
    pub next_task_id: u64,
    pub apps: Vec<App>,
    pub backups: Vec<Backup>,
    pub tasks: Vec<Task>,
    pub users: Vec<User>,
    pub groups: Vec<Group>,
    pub events: Vec<Event>,
    pub policy: Policy,
    pub services: Vec<Service>,
    pub disk_size: u64,
    /// Bytes used outside apps (system, platform data, local backups).
    pub disk_base_used: u64,
    /// When set (`POST /__lab/disk`), the fraction of the disk reported as used.
    pub disk_capacity_override: Option<f64>,
}

impl Estate {
    pub fn app(&self, id: &str) -> Option<&App> {
        self.apps.iter().find(|a| a.id == id)
    }
    pub fn app_mut(&mut self, id: &str) -> Option<&mut App> {
        self.apps.iter_mut().find(|a| a.id == id)
    }
    pub fn task(&self, id: &str) -> Option<&Task> {
        self.tasks.iter().find(|t| t.id == id)
    }
    pub fn task_mut(&mut self, id: &str) -> Option<&mut Task> {
        self.tasks.iter_mut().find(|t| t.id == id)
    }
    pub fn backup(&self, id: &str) -> Option<&Backup> {
        self.backups.iter().find(|b| b.id == id)
    }
    pub fn backup_mut(&mut self, id: &str) -> Option<&mut Backup> {
        self.backups.iter_mut().find(|b| b.id == id)
    }
    pub fn user(&self, id: &str) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }
    pub fn user_mut(&mut self, id: &str) -> Option<&mut User> {
        self.users.iter_mut().find(|u| u.id == id)
    }
    pub fn group(&self, id: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.id == id)
    }

    /// The next task id, as the decimal string the API uses.
    pub fn take_task_id(&mut self) -> String {
        let id = self.next_task_id;
        self.next_task_id += 1;
        id.to_string()
    }

    /// The group as the API shows it, with the ids of its members.
    pub fn group_json(&self, g: &Group) -> Value {
        let user_ids: Vec<&str> = self
            .users
            .iter()
            .filter(|u| u.group_ids.contains(&g.id))
            .map(|u| u.id.as_str())
            .collect();
        serde_json::json!({"id": g.id, "name": g.name, "source": g.source, "userIds": user_ids})
    }

    /// True when a platform backup task is running.
    pub fn box_backup_running(&self) -> bool {
        self.tasks.iter().any(|t| t.kind == "backup" && t.active)
    }
}

/// Remove the lab-only keys (`labData`, `labLog`, ...: `lab` then a capital) from an object
/// about to be sent on `/api/v1`. `label` is an API field and stays.
pub fn strip_lab(mut v: Value) -> Value {
    if let Value::Object(m) = &mut v {
        m.retain(|k, _| !is_lab_key(k));
    }
    v
}

fn is_lab_key(k: &str) -> bool {
    k.strip_prefix("lab")
        .and_then(|rest| rest.chars().next())
        .is_some_and(|c| c.is_ascii_uppercase())
}

/// Serialize a model object for the API (lab-only keys removed).
pub fn api_json<T: Serialize>(t: &T) -> Value {
    strip_lab(serde_json::to_value(t).unwrap_or(Value::Null))
}

/// An app as the API shows it: the stored object plus the caller's `accessLevel`.
pub fn app_json(app: &App) -> Value {
    let mut v = api_json(app);
    if let Value::Object(m) = &mut v {
        m.insert("accessLevel".into(), Value::from("admin"));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn use_changes_version_and_checksum() {
        let d = AppData::fresh("a");
        let e = d.used("x");
        assert_eq!(e.version, 2);
        assert_ne!(e.checksum, d.checksum);
        assert_eq!(e.checksum.len(), 64);
    }

    #[test]
    fn the_token_is_redacted_in_debug() {
        let t = Token("s3cret".into());
        assert_eq!(format!("{t:?}"), "Token(<redacted>)");
        assert_eq!(
            serde_json::to_string(&t).ok().as_deref(),
            Some("\"s3cret\"")
        );
    }

    #[test]
    fn digest_separates_parts() {
        assert_ne!(digest(&["ab", "c"]), digest(&["a", "bc"]));
    }

    #[test]
    fn strip_lab_removes_only_lab_keys() {
        let v = serde_json::json!({"id": "x", "labData": 1, "label": "kept"});
        assert_eq!(
            strip_lab(v),
            serde_json::json!({"id": "x", "label": "kept"})
        );
    }
}

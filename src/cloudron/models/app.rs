//! An installed app (`GET /apps`, `GET /apps/:id`) and its states (REFERENCE §4.1, §4.2).
//!
//! Only the fields matelot uses are kept; unknown ones are ignored, and fields that may carry
//! secrets (`env`, certificates) are deliberately not modelled, so `--json` cannot leak them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{TaskId, lenient_time, loose_u64, null_default, open_enum, opt_task_id};

open_enum! {
    /// `installationState`: `installed`, `error`, or a `pending_*` state while a task runs.
    InstallationState {
        Installed => "installed",
        Error => "error",
        PendingInstall => "pending_install",
        PendingClone => "pending_clone",
        PendingConfigure => "pending_configure",
        PendingUninstall => "pending_uninstall",
        PendingRestore => "pending_restore",
        PendingImport => "pending_import",
        PendingUpdate => "pending_update",
        PendingBackup => "pending_backup",
        PendingRecreateContainer => "pending_recreate_container",
        PendingLocationChange => "pending_location_change",
        PendingDataDirMigration => "pending_data_dir_migration",
        PendingResize => "pending_resize",
        PendingDebug => "pending_debug",
        PendingStart => "pending_start",
        PendingStop => "pending_stop",
        PendingRestart => "pending_restart",
        PendingForceUpdate => "pending_force_update",
    }
}

impl InstallationState {
    /// True while a task works on the app (any `pending_*`, known or not): lifecycle calls
    /// then fail with 409.
    pub fn is_pending(&self) -> bool {
        self.as_str().starts_with("pending_")
    }

    /// The dashboard's word for a pending state ("Backing up"...), or `None` when not pending.
    pub fn pending_label(&self) -> Option<String> {
        let word = match self {
            InstallationState::PendingInstall => "Installing",
            InstallationState::PendingClone => "Cloning",
            InstallationState::PendingConfigure
            | InstallationState::PendingRecreateContainer
            | InstallationState::PendingLocationChange
            | InstallationState::PendingDataDirMigration
            | InstallationState::PendingResize
            | InstallationState::PendingDebug => "Configuring",
            InstallationState::PendingUninstall => "Uninstalling",
            InstallationState::PendingRestore => "Restoring",
            InstallationState::PendingImport => "Importing",
            InstallationState::PendingUpdate | InstallationState::PendingForceUpdate => "Updating",
            InstallationState::PendingBackup => "Backing up",
            InstallationState::PendingStart => "Starting",
            InstallationState::PendingStop => "Stopping",
            InstallationState::PendingRestart => "Restarting",
            InstallationState::Unknown(s) => {
                return s
                    .strip_prefix("pending_")
                    .map(|rest| format!("Pending ({})", rest.replace('_', " ")));
            }
            InstallationState::Installed | InstallationState::Error => return None,
        };
        Some(word.to_string())
    }
}

open_enum! {
    /// `runState`: `running` or `stopped` (v4 also had pending run states).
    RunState {
        Running => "running",
        Stopped => "stopped",
        PendingStart => "pending_start",
        PendingStop => "pending_stop",
    }
}

open_enum! {
    /// `health`; `null` on the wire (not checked yet) is `Option::None` on the field.
    Health {
        Healthy => "healthy",
        Unhealthy => "unhealthy",
        Error => "error",
        Dead => "dead",
    }
}

/// `accessRestriction` / `operators`: `null` (everyone) or the users and groups allowed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessRestriction {
    #[serde(default, deserialize_with = "null_default")]
    pub users: Vec<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub groups: Vec<String>,
}

/// The app's `error`: documented as a string, sent as an object (`{reason, message, ...}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppError {
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl<'de> Deserialize<'de> for AppError {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        Ok(match v {
            serde_json::Value::String(message) => AppError {
                message,
                reason: None,
            },
            serde_json::Value::Object(map) => {
                let text = |k: &str| map.get(k).and_then(|v| v.as_str()).map(str::to_string);
                let reason = text("reason");
                let message = text("message")
                    .or_else(|| reason.clone())
                    .unwrap_or_else(|| serde_json::Value::Object(map.clone()).to_string());
                AppError { message, reason }
            }
            other => AppError {
                message: other.to_string(),
                reason: None,
            },
        })
    }
}

/// The parts of an app's CloudronManifest that matelot shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// Package id, e.g. `org.matomo.cloudronapp`.
    #[serde(default, deserialize_with = "null_default")]
    pub id: String,
    #[serde(default, deserialize_with = "null_default")]
    pub title: String,
    /// Package version (semver).
    #[serde(default, deserialize_with = "null_default")]
    pub version: String,
    #[serde(default, deserialize_with = "null_default")]
    pub upstream_version: String,
}

/// An installed app.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct App {
    pub id: String,
    #[serde(default, deserialize_with = "null_default")]
    pub app_store_id: String,
    #[serde(default, deserialize_with = "null_default")]
    pub manifest: Manifest,
    #[serde(default, deserialize_with = "null_default")]
    pub installation_state: InstallationState,
    #[serde(default, deserialize_with = "null_default")]
    pub run_state: RunState,
    /// `None` before the first health check.
    #[serde(default)]
    pub health: Option<Health>,
    #[serde(default)]
    pub error: Option<AppError>,
    #[serde(default, deserialize_with = "opt_task_id")]
    pub task_id: Option<TaskId>,
    /// Empty for an app on the bare domain. Called `location` before v6.
    #[serde(default, alias = "location", deserialize_with = "null_default")]
    pub subdomain: String,
    #[serde(default, deserialize_with = "null_default")]
    pub domain: String,
    #[serde(default, deserialize_with = "null_default")]
    pub fqdn: String,
    /// `None`: every user of the Cloudron may use the app.
    #[serde(default)]
    pub access_restriction: Option<AccessRestriction>,
    #[serde(default)]
    pub operators: Option<AccessRestriction>,
    /// The operator's own label for the app, if any.
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub tags: Vec<String>,
    /// Automatic backups on or off (apps with it off are skipped by platform backups).
    #[serde(default = "yes", deserialize_with = "null_true")]
    pub enable_backup: bool,
    #[serde(default, deserialize_with = "null_default")]
    pub enable_automatic_update: bool,
    /// Bytes; 0 means the manifest's default.
    #[serde(default, deserialize_with = "loose_u64")]
    pub memory_limit: u64,
    #[serde(default, deserialize_with = "lenient_time")]
    pub creation_time: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "lenient_time")]
    pub update_time: Option<DateTime<Utc>>,
}

fn yes() -> bool {
    true
}

fn null_true<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(Option::<bool>::deserialize(d)?.unwrap_or(true))
}

impl App {
    /// What people call the app: its label if set, else the package title, else its FQDN.
    pub fn name(&self) -> &str {
        match self.label.as_deref().map(str::trim) {
            Some(l) if !l.is_empty() => l,
            _ if !self.manifest.title.is_empty() => &self.manifest.title,
            _ => &self.fqdn,
        }
    }

    /// The state in the dashboard's words ("Running", "Stopped", "Backing up"...).
    pub fn state_label(&self) -> String {
        if let Some(p) = self.installation_state.pending_label() {
            return p;
        }
        match &self.installation_state {
            InstallationState::Error => return "Error".into(),
            InstallationState::Installed => {}
            other => return other.as_str().to_string(),
        }
        match (&self.run_state, &self.health) {
            (RunState::Stopped, _) => "Stopped".into(),
            (RunState::Running, None) => "Starting".into(),
            (RunState::Running, Some(Health::Healthy)) => "Running".into(),
            (RunState::Running, Some(_)) => "Not responding".into(),
            (other, _) => other.as_str().to_string(),
        }
    }

    /// True when a task is working on the app, so lifecycle calls would get a 409.
    pub fn is_busy(&self) -> bool {
        self.installation_state.is_pending()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"{
        "id": "9f9f78b2-6c5b-41df-9a21-5fa20dee3d6a",
        "appStoreId": "org.matomo.cloudronapp",
        "installationState": "installed",
        "runState": "running",
        "health": "healthy",
        "error": null,
        "taskId": null,
        "subdomain": "analytics",
        "domain": "example.org",
        "fqdn": "analytics.example.org",
        "accessRestriction": null,
        "manifest": {"id": "org.matomo.cloudronapp", "title": "Matomo", "version": "1.52.0",
                     "upstreamVersion": "5.2.1", "addons": {"mysql": {}}},
        "enableBackup": true,
        "creationTime": "2025-12-26T21:06:32.000Z",
        "env": {"SECRET": "hunter2"},
        "somethingNew": [1, 2, 3]
    }"#;

    #[test]
    fn a_full_app_parses_and_drops_unknown_fields() {
        let app: App = serde_json::from_str(FULL).expect("app");
        assert_eq!(app.fqdn, "analytics.example.org");
        assert_eq!(app.manifest.title, "Matomo");
        assert_eq!(app.installation_state, InstallationState::Installed);
        assert_eq!(app.health, Some(Health::Healthy));
        assert_eq!(app.access_restriction, None);
        assert!(app.creation_time.is_some());
        let out = serde_json::to_string(&app).expect("serialize");
        assert!(!out.contains("hunter2"), "env must not be modelled: {out}");
    }

    #[test]
    fn tolerant_of_what_real_servers_send() {
        let cases = [
            // error as an object, task id as a string, restriction as an object
            r#"{"id":"a","installationState":"error","error":{"reason":"Internal Error","message":"boom"},"taskId":"12","accessRestriction":{"users":["uid-1"],"groups":null}}"#,
            // error as a string, task id as a number, unknown state, nulls everywhere
            r#"{"id":"a","installationState":"pending_services_change","error":"boom","taskId":12,"health":null,"subdomain":null,"manifest":null,"enableBackup":null,"label":null}"#,
            // a list item with almost nothing, v4 `location`
            r#"{"id":"a","location":"old"}"#,
        ];
        for json in cases {
            let app: App = serde_json::from_str(json).expect(json);
            assert_eq!(app.id, "a");
        }
        let a: App = serde_json::from_str(cases[0]).expect("0");
        assert_eq!(a.error.as_ref().map(|e| e.message.as_str()), Some("boom"));
        assert_eq!(a.task_id, Some(TaskId("12".into())));
        assert_eq!(
            a.access_restriction.map(|r| r.users),
            Some(vec!["uid-1".into()])
        );
        let b: App = serde_json::from_str(cases[1]).expect("1");
        assert_eq!(
            b.installation_state,
            InstallationState::Unknown("pending_services_change".into())
        );
        assert!(b.is_busy());
        assert!(b.enable_backup);
        assert_eq!(b.state_label(), "Pending (services change)");
        let c: App = serde_json::from_str(cases[2]).expect("2");
        assert_eq!(c.subdomain, "old");
    }

    #[test]
    fn state_labels_follow_the_dashboard() {
        let app = |inst: &str, run: &str, health: Option<&str>| App {
            installation_state: InstallationState::parse(inst),
            run_state: RunState::parse(run),
            health: health.map(Health::parse),
            ..App::default()
        };
        let cases = [
            (app("installed", "running", Some("healthy")), "Running"),
            (app("installed", "running", None), "Starting"),
            (
                app("installed", "running", Some("unhealthy")),
                "Not responding",
            ),
            (app("installed", "stopped", Some("healthy")), "Stopped"),
            (app("error", "running", None), "Error"),
            (
                app("pending_backup", "running", Some("healthy")),
                "Backing up",
            ),
            (app("pending_stop", "running", None), "Stopping"),
        ];
        for (a, want) in cases {
            assert_eq!(a.state_label(), want, "{a:?}");
        }
    }

    #[test]
    fn name_prefers_label_then_title_then_fqdn() {
        let mut a = App {
            fqdn: "x.example.org".into(),
            ..App::default()
        };
        assert_eq!(a.name(), "x.example.org");
        a.manifest.title = "Matomo".into();
        assert_eq!(a.name(), "Matomo");
        a.label = Some("Stats".into());
        assert_eq!(a.name(), "Stats");
    }
}

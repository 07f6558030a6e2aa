//! Restore points: what a destructive operation saved, verified, before it changed anything,
//! so that `undo` can put things back. One variant per kind of saved thing, stored whole
//! (never passed through a redactor: a rewritten restore point is a broken one).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::cloudron::models::User;
use crate::compute::account_snapshot::AccountRestorePoint;

/// A restore point taken (and verified) before a destructive change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum RestorePoint {
    /// A Cloudron app backup, listed by the server, labelled and preserved past retention.
    #[serde(rename = "cloudron.app_backup")]
    AppBackup(AppBackupPoint),
    /// A restic snapshot of a compute account's home plus its passwd, group, shadow and
    /// authorized_keys lines.
    #[serde(rename = "compute.account")]
    ComputeAccount(AccountRestorePoint),
    /// A Cloudron user's record, groups and app access.
    #[serde(rename = "cloudron.user")]
    CloudronUser(CloudronUserPoint),
}

/// A verified app backup kept as a restore point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppBackupPoint {
    pub backup_id: String,
    pub app_id: String,
    #[serde(default)]
    pub fqdn: String,
    /// The backup task that made it.
    #[serde(default)]
    pub task_id: Option<String>,
    #[serde(default)]
    pub label: Option<String>,
    /// How long the Cloudron preserves it past retention.
    #[serde(default)]
    pub preserve_secs: Option<u64>,
    /// When the Cloudron says it was made (RFC 3339).
    #[serde(default)]
    pub creation_time: Option<String>,
}

/// What undo needs to bring a Cloudron user back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloudronUserPoint {
    pub user: User,
    pub group_names: Vec<String>,
    /// Apps whose access restriction names the user directly.
    pub apps_by_user: Vec<String>,
    /// Apps reachable through one of the user's groups (they come back with the groups).
    pub apps_by_group: Vec<String>,
}

impl RestorePoint {
    /// The stored kind name (`cloudron.app_backup`).
    pub fn kind_name(&self) -> &'static str {
        match self {
            RestorePoint::AppBackup(_) => "cloudron.app_backup",
            RestorePoint::ComputeAccount(_) => "compute.account",
            RestorePoint::CloudronUser(_) => "cloudron.user",
        }
    }

    /// The id people use to find it: the backup id, the snapshot id, the user id.
    pub fn id(&self) -> String {
        match self {
            RestorePoint::AppBackup(b) => b.backup_id.clone(),
            RestorePoint::ComputeAccount(a) => a
                .snapshot_id
                .as_ref()
                .map_or_else(|| "no-home".to_string(), |s| s.as_str().to_string()),
            RestorePoint::CloudronUser(u) => u.user.id.clone(),
        }
    }

    /// The details as stored (the variant's fields, without the kind tag).
    pub fn details(&self) -> Value {
        match serde_json::to_value(self) {
            Ok(Value::Object(mut m)) => {
                m.remove("kind");
                Value::Object(m)
            }
            _ => Value::Null,
        }
    }

    /// Read a stored restore point back from its columns.
    pub fn from_stored(kind: &str, details: Value) -> Result<RestorePoint, String> {
        let mut obj = match details {
            Value::Object(m) => m,
            Value::Null => serde_json::Map::new(),
            other => return Err(format!("restore point details are not an object: {other}")),
        };
        obj.insert("kind".into(), Value::String(kind.to_string()));
        serde_json::from_value(Value::Object(obj))
            .map_err(|e| format!("restore point of kind {kind} cannot be read: {e}"))
    }

    /// One line for people: `cloudron.app_backup app_1234_v1.2.3_abcd`.
    pub fn describe(&self) -> String {
        format!("{} {}", self.kind_name(), self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_app_backup_point_round_trips_through_its_columns() {
        let rp = RestorePoint::AppBackup(AppBackupPoint {
            backup_id: "app_a1_v1_x".into(),
            app_id: "a1".into(),
            fqdn: "analytics.example.org".into(),
            task_id: Some("12".into()),
            label: Some("matelot op 3: before uninstall".into()),
            preserve_secs: Some(86_400),
            creation_time: None,
        });
        let back = RestorePoint::from_stored(rp.kind_name(), rp.details()).unwrap();
        assert_eq!(back, rp);
        assert_eq!(rp.id(), "app_a1_v1_x");
        assert_eq!(rp.describe(), "cloudron.app_backup app_a1_v1_x");
    }

    #[test]
    fn an_unknown_kind_is_an_error_that_names_it() {
        let e = RestorePoint::from_stored("tape.vault", serde_json::json!({})).unwrap_err();
        assert!(e.contains("tape.vault"), "{e}");
    }
}

//! A Cloudron backup (`GET /backups`, `GET /apps/:id/backups`, REFERENCE §4.4).
//!
//! Platform (`box`) backups and app backups share this shape. A restore point is an app backup
//! whose `state` is `normal`, that the server lists, and whose `preserveSecs` keeps it past
//! retention; the helpers here answer those questions from the data alone.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Manifest, lenient_time, loose_u64, null_default, open_enum};

open_enum! {
    /// `type`: a platform backup or one app's backup.
    BackupType {
        Box => "box",
        App => "app",
    }
}

open_enum! {
    /// `state`: list endpoints return `normal` ones only.
    BackupState {
        Normal => "normal",
        Creating => "creating",
        Error => "error",
    }
}

/// One backup.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Backup {
    /// Opaque, e.g. `box_v9.0.15_344d94be` or `app_v2.2.2_ff231fee`.
    pub id: String,
    #[serde(default, deserialize_with = "null_default")]
    pub remote_path: String,
    /// The operator's label, `""` by default.
    #[serde(default, deserialize_with = "null_default")]
    pub label: String,
    /// `box` for platform backups; the app id for app backups.
    #[serde(default, deserialize_with = "null_default")]
    pub identifier: String,
    #[serde(default, rename = "type", deserialize_with = "null_default")]
    pub kind: BackupType,
    #[serde(default = "normal", deserialize_with = "null_normal")]
    pub state: BackupState,
    #[serde(default, deserialize_with = "lenient_time")]
    pub creation_time: Option<DateTime<Utc>>,
    /// The app's package version, or the Cloudron version for box backups (v4: `version`).
    #[serde(default, alias = "version", deserialize_with = "null_default")]
    pub package_version: String,
    #[serde(default, deserialize_with = "null_default")]
    pub format: String,
    /// 0 follows the retention policy; more keeps the backup at least this many seconds.
    #[serde(default, deserialize_with = "loose_u64")]
    pub preserve_secs: u64,
    /// For a box backup: the app backups it contains.
    #[serde(default, deserialize_with = "null_default")]
    pub depends_on: Vec<String>,
    #[serde(default)]
    pub manifest: Option<Manifest>,
    /// Upload statistics (9.x); used for the size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats: Option<serde_json::Value>,
}

fn normal() -> BackupState {
    BackupState::Normal
}

fn null_normal<'de, D: serde::Deserializer<'de>>(d: D) -> Result<BackupState, D::Error> {
    Ok(Option::<BackupState>::deserialize(d)?.unwrap_or(BackupState::Normal))
}

impl Backup {
    /// True when the backup completed (`state == normal`).
    pub fn is_complete(&self) -> bool {
        self.state == BackupState::Normal
    }

    /// How long the backup is preserved past retention, if at all.
    pub fn preserved_for(&self) -> Option<Duration> {
        (self.preserve_secs > 0).then(|| Duration::from_secs(self.preserve_secs))
    }

    /// Bytes uploaded, when the server reports it (`stats.upload.size` or
    /// `stats.aggregatedUpload.size`).
    pub fn size(&self) -> Option<u64> {
        let stats = self.stats.as_ref()?;
        ["aggregatedUpload", "upload"]
            .iter()
            .find_map(|k| stats.get(k)?.get("size")?.as_u64())
    }

    /// Age at `now` (`None` without a creation time).
    pub fn age(&self, now: DateTime<Utc>) -> Option<Duration> {
        let created = self.creation_time?;
        (now - created).to_std().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_box_backup_sample_parses() {
        let json = r#"{
            "id": "box_v9.0.15_344d94be",
            "remotePath": "2025-12-26-210000-471/box_v9.0.15.tar.gz",
            "label": "", "identifier": "box", "creationTime": "2025-12-26T21:00:00.471Z",
            "packageVersion": "9.0.15", "type": "box", "state": "normal", "preserveSecs": 0,
            "dependsOn": ["app_v1.52.0_ff231fee"],
            "stats": {"upload": {"fileCount": 12, "size": 1048576, "transferred": 1048576,
                      "startTime": 1766782800471, "duration": 5000}},
            "encryptionVersion": null
        }"#;
        let b: Backup = serde_json::from_str(json).expect("backup");
        assert_eq!(b.kind, BackupType::Box);
        assert!(b.is_complete());
        assert_eq!(b.size(), Some(1_048_576));
        assert_eq!(b.preserved_for(), None);
        assert_eq!(b.depends_on.len(), 1);
    }

    #[test]
    fn tolerant_app_backup_shapes() {
        let cases = [
            r#"{"id":"app_v2.2.2_ff231fee","type":"app","identifier":"9f9f","preserveSecs":7776000,"label":"before upgrade","manifest":{"version":"2.2.2"}}"#,
            r#"{"id":"old/2019-01-01/app_x","version":"1.0.0","label":null,"state":null,"dependsOn":null,"preserveSecs":null}"#,
            r#"{"id":"x","type":"snapshot","state":"uploading"}"#,
        ];
        for json in cases {
            let b: Backup = serde_json::from_str(json).expect(json);
            assert!(!b.id.is_empty());
        }
        let a: Backup = serde_json::from_str(cases[0]).expect("a");
        assert_eq!(a.preserved_for(), Some(Duration::from_secs(7_776_000)));
        assert!(
            a.is_complete(),
            "a missing state means a listed, normal backup"
        );
        let v4: Backup = serde_json::from_str(cases[1]).expect("v4");
        assert_eq!(v4.package_version, "1.0.0");
        let odd: Backup = serde_json::from_str(cases[2]).expect("odd");
        assert_eq!(odd.kind, BackupType::Unknown("snapshot".into()));
        assert!(!odd.is_complete());
    }
}

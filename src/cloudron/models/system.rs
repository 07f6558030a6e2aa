//! Platform-level facts: version, dashboard configuration, machine info, disks, memory and
//! services (REFERENCE §3.1, §4.6), for `health` and for showing where matelot is connected.
//!
//! Where the docs and live servers disagree on wrapping (`/dashboard/config` in an array,
//! `/services/:name` inside `{service}`), both shapes are accepted here.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{lenient_time, loose_u64, null_default};

/// `GET /cloudron/status` (public): the platform version.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    #[serde(default, deserialize_with = "null_default")]
    pub version: String,
}

/// `GET /services/platform_status`: `Ready`, or what the platform is busy with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformStatus {
    #[serde(default, deserialize_with = "null_default")]
    pub message: String,
}

/// `GET /dashboard/config`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DashboardConfig {
    #[serde(default, deserialize_with = "null_default")]
    pub api_server_origin: String,
    #[serde(default, deserialize_with = "null_default")]
    pub web_server_origin: String,
    #[serde(default, deserialize_with = "null_default")]
    pub admin_domain: String,
    #[serde(default, deserialize_with = "null_default")]
    pub admin_fqdn: String,
    #[serde(default, deserialize_with = "null_default")]
    pub mail_fqdn: String,
    #[serde(default, deserialize_with = "null_default")]
    pub version: String,
    #[serde(default, deserialize_with = "null_default")]
    pub ubuntu_version: String,
    #[serde(default, deserialize_with = "null_default")]
    pub is_demo: bool,
    #[serde(default, deserialize_with = "null_default")]
    pub cloudron_name: String,
}

/// The docs wrap the dashboard config in `{dashboard:[...]}`; servers answer it bare.
#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum DashboardConfigWire {
    Wrapped { dashboard: Vec<DashboardConfig> },
    Bare(DashboardConfig),
}

impl DashboardConfigWire {
    pub(crate) fn into_config(self) -> DashboardConfig {
        match self {
            DashboardConfigWire::Wrapped { dashboard } => {
                dashboard.into_iter().next().unwrap_or_default()
            }
            DashboardConfigWire::Bare(c) => c,
        }
    }
}

/// `GET /system/info`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SystemInfo {
    #[serde(default, deserialize_with = "null_default")]
    pub sys_vendor: String,
    #[serde(default, deserialize_with = "null_default")]
    pub product_name: String,
    #[serde(default, deserialize_with = "loose_u64")]
    pub uptime_secs: u64,
    #[serde(default, deserialize_with = "null_default")]
    pub reboot_required: bool,
    #[serde(default, deserialize_with = "lenient_time")]
    pub activation_time: Option<DateTime<Utc>>,
}

/// `GET /system/memory` (bytes).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Memory {
    #[serde(default, deserialize_with = "loose_u64")]
    pub memory: u64,
    #[serde(default, deserialize_with = "loose_u64")]
    pub swap: u64,
}

/// `GET /system/disk_usage`: filesystems by device. `None` before the first measurement.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DiskUsage {
    #[serde(default, deserialize_with = "lenient_time")]
    pub ts: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "null_default")]
    pub filesystems: BTreeMap<String, Filesystem>,
}

#[derive(Deserialize)]
pub(crate) struct DiskUsageWire {
    #[serde(default)]
    pub usage: Option<DiskUsage>,
}

/// One filesystem of the Cloudron host.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Filesystem {
    #[serde(default, deserialize_with = "null_default")]
    pub filesystem: String,
    #[serde(default, rename = "type", deserialize_with = "null_default")]
    pub kind: String,
    #[serde(default, deserialize_with = "loose_u64")]
    pub size: u64,
    #[serde(default, deserialize_with = "loose_u64")]
    pub used: u64,
    #[serde(default, deserialize_with = "loose_u64")]
    pub available: u64,
    /// 0..1 as sent; see [`Filesystem::used_percent`].
    #[serde(default, deserialize_with = "null_default")]
    pub capacity: f64,
    #[serde(default, deserialize_with = "null_default")]
    pub mountpoint: String,
    #[serde(default, deserialize_with = "null_default")]
    pub contents: Vec<DiskContent>,
}

impl Filesystem {
    /// Used space in percent, from `used/size` when known, else from `capacity`.
    pub fn used_percent(&self) -> f64 {
        if self.size > 0 {
            self.used as f64 * 100.0 / self.size as f64
        } else if self.capacity <= 1.0 {
            self.capacity * 100.0
        } else {
            self.capacity
        }
    }
}

/// What occupies a filesystem (an app, a service, the platform).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiskContent {
    #[serde(default, deserialize_with = "null_default")]
    pub id: String,
    #[serde(default, deserialize_with = "null_default")]
    pub path: String,
    #[serde(default, rename = "type", deserialize_with = "null_default")]
    pub kind: String,
    #[serde(default, deserialize_with = "loose_u64")]
    pub usage: u64,
}

/// `GET /services`: service names (an object with a `name` is accepted too).
#[derive(Deserialize)]
pub(crate) struct ServicesWire {
    #[serde(default, deserialize_with = "null_default")]
    pub services: Vec<serde_json::Value>,
}

impl ServicesWire {
    pub(crate) fn names(self) -> Vec<String> {
        self.services
            .into_iter()
            .filter_map(|v| match v {
                serde_json::Value::String(s) => Some(s),
                serde_json::Value::Object(m) => {
                    m.get("name").and_then(|n| n.as_str()).map(str::to_string)
                }
                _ => None,
            })
            .collect()
    }
}

/// `GET /services/:name`: the service's state; `status == "active"` when fine.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Service {
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    #[serde(default, deserialize_with = "null_default")]
    pub status: String,
    #[serde(default, deserialize_with = "loose_u64")]
    pub memory_used: u64,
    #[serde(default, deserialize_with = "null_default")]
    pub memory_percent: f64,
    /// Whatever the server says went wrong (string or object), `None` when fine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<serde_json::Value>,
}

impl Service {
    pub fn is_active(&self) -> bool {
        self.status == "active"
    }
}

/// The docs show `/services/:name` bare; the v7 dashboard reads `{service: ...}`.
#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum ServiceWire {
    Wrapped { service: Service },
    Bare(Service),
}

impl ServiceWire {
    pub(crate) fn into_service(self) -> Service {
        match self {
            ServiceWire::Wrapped { service } => service,
            ServiceWire::Bare(s) => s,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapped_and_bare_shapes_are_both_accepted() {
        let bare: DashboardConfigWire =
            serde_json::from_str(r#"{"adminFqdn":"my.example.org","version":"9.0.15"}"#)
                .expect("bare");
        let wrapped: DashboardConfigWire =
            serde_json::from_str(r#"{"dashboard":[{"adminFqdn":"my.example.org"}]}"#)
                .expect("wrapped");
        assert_eq!(bare.into_config().admin_fqdn, "my.example.org");
        assert_eq!(wrapped.into_config().admin_fqdn, "my.example.org");

        let s1: ServiceWire =
            serde_json::from_str(r#"{"service":{"name":"mysql","status":"active"}}"#).expect("1");
        let s2: ServiceWire =
            serde_json::from_str(r#"{"name":"mysql","status":"stopped","error":"boom"}"#)
                .expect("2");
        assert!(s1.into_service().is_active());
        let s2 = s2.into_service();
        assert!(!s2.is_active());
        assert!(s2.error.is_some());

        let names: ServicesWire =
            serde_json::from_str(r#"{"services":["mail",{"name":"mysql"},3]}"#).expect("names");
        assert_eq!(names.names(), vec!["mail".to_string(), "mysql".to_string()]);
    }

    #[test]
    fn disk_usage_parses_and_computes_percent() {
        let json = r#"{"usage":{"ts":"2025-12-26T21:00:00.000Z","filesystems":{
            "/dev/sda1":{"filesystem":"/dev/sda1","type":"ext4","size":1000,"used":850,
            "available":150,"capacity":0.85,"mountpoint":"/","speed":120,
            "contents":[{"id":"9f9f","path":"/home/yellowtent/appsdata/9f9f","type":"app","usage":400}]}}}}"#;
        let w: DiskUsageWire = serde_json::from_str(json).expect("disk");
        let usage = w.usage.expect("usage");
        let fs = &usage.filesystems["/dev/sda1"];
        assert!((fs.used_percent() - 85.0).abs() < 1e-9);
        assert_eq!(fs.contents[0].usage, 400);
        let none: DiskUsageWire = serde_json::from_str(r#"{"usage":null}"#).expect("null");
        assert!(none.usage.is_none());
        let cap_only = Filesystem {
            capacity: 0.5,
            ..Filesystem::default()
        };
        assert!((cap_only.used_percent() - 50.0).abs() < 1e-9);
    }
}

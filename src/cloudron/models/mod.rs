//! The Cloudron API's objects as typed Rust values, tolerant of what real servers send.
//!
//! Postel's law applies here more than anywhere: servers of different versions add fields,
//! add enum values, send task ids as strings or numbers, `error` as an object or a string,
//! `null` where the docs promise a string. So every struct ignores unknown fields and defaults
//! missing or `null` ones, every state enum has an `Unknown(String)` arm, and timestamps that
//! do not parse become `None` rather than failing the whole answer. These types hold data only:
//! no I/O, no printing.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

mod app;
mod backup;
mod people;
pub(crate) mod system;
mod task;

pub use app::{AccessRestriction, App, AppError, Health, InstallationState, Manifest, RunState};
pub use backup::{Backup, BackupState, BackupType};
pub use people::{Group, NewUser, Role, User};
pub use system::{
    DashboardConfig, DiskContent, DiskUsage, Filesystem, Memory, PlatformStatus, Service, Status,
    SystemInfo,
};
pub use task::{Task, TaskError};

/// Define a string enum with known values and an `Unknown(String)` arm, so a value added by a
/// newer Cloudron is kept (and shown) instead of failing the whole answer.
macro_rules! open_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
            /// A value this version of matelot does not know; kept verbatim.
            Unknown(String),
        }

        impl $name {
            /// The wire spelling.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $text,)*
                    $name::Unknown(s) => s,
                }
            }

            /// Parse the wire spelling; anything else becomes `Unknown`.
            pub fn parse(s: &str) -> Self {
                match s {
                    $($text => $name::$variant,)*
                    other => $name::Unknown(other.to_string()),
                }
            }
        }

        impl Default for $name {
            fn default() -> Self {
                $name::Unknown(String::new())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = $crate::cloudron::models::loose_string(d)?;
                Ok($name::parse(&s))
            }
        }
    };
}
pub(crate) use open_enum;

/// A task id. The docs say integer; live servers send strings (`"2737"`). Both are accepted
/// and kept as text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId(pub String);

impl TaskId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for TaskId {
    fn from(s: &str) -> Self {
        TaskId(s.to_string())
    }
}

impl Serialize for TaskId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for TaskId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(TaskId(loose_string(d)?))
    }
}

/// A string that may arrive as a string, a number or a boolean (ids, codes).
pub(crate) fn loose_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = String;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string or a number")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
            Ok(v)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
            Ok(v.to_string())
        }
    }
    d.deserialize_any(V)
}

/// `Option<String>` that also accepts numbers, for fields such as `taskId` and `error.code`.
pub(crate) fn opt_loose_string<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<String>, D::Error> {
    let v = Option::<serde_json::Value>::deserialize(d)?;
    Ok(match v {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s),
        Some(other) => Some(other.to_string()),
    })
}

/// A field whose `null` means "the default" (`""`, `false`, `[]`, `0`).
pub(crate) fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A number that may arrive as an integer, a float, a numeric string or `null` (sizes,
/// percentages, seconds). Anything unusable becomes 0.
pub(crate) fn loose_u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let v = Option::<serde_json::Value>::deserialize(d)?;
    Ok(match v {
        Some(serde_json::Value::Number(n)) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f.round() as u64))
            .unwrap_or(0),
        Some(serde_json::Value::String(s)) => s.trim().parse().unwrap_or(0),
        _ => 0,
    })
}

/// An ISO-8601 timestamp, or `None` when absent, `null` or unparseable.
pub(crate) fn lenient_time<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<DateTime<Utc>>, D::Error> {
    let v = Option::<serde_json::Value>::deserialize(d)?;
    Ok(match v {
        Some(serde_json::Value::String(s)) => DateTime::parse_from_rfc3339(&s)
            .ok()
            .map(|t| t.with_timezone(&Utc)),
        // Epoch milliseconds (some `stats` fields use them).
        Some(serde_json::Value::Number(n)) => n.as_i64().and_then(DateTime::from_timestamp_millis),
        _ => None,
    })
}

/// The list wrappers the API puts around collections: `{apps:[...]}`, `{backups:[...]}`...
#[derive(Debug, Deserialize)]
pub(crate) struct AppsPage {
    #[serde(default, deserialize_with = "null_default")]
    pub apps: Vec<App>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct BackupsPage {
    #[serde(default, deserialize_with = "null_default")]
    pub backups: Vec<Backup>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct UsersPage {
    #[serde(default, deserialize_with = "null_default")]
    pub users: Vec<User>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct GroupsPage {
    #[serde(default, deserialize_with = "null_default")]
    pub groups: Vec<Group>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct TasksPage {
    #[serde(default, deserialize_with = "null_default")]
    pub tasks: Vec<Task>,
}

/// `{taskId}` (and `{id, taskId}` for install and clone): what an async POST answers.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TaskStarted {
    /// The new app's id (install and clone only).
    #[serde(default, deserialize_with = "opt_loose_string")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "opt_task_id")]
    pub task_id: Option<TaskId>,
}

pub(crate) fn opt_task_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<TaskId>, D::Error> {
    Ok(opt_loose_string(d)?.map(TaskId))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_ids_are_accepted_as_strings_or_numbers() {
        let cases = [
            (r#"{"taskId":"2737"}"#, Some("2737")),
            (r#"{"taskId":2737}"#, Some("2737")),
            (r#"{"taskId":null}"#, None),
            (r#"{}"#, None),
            (
                r#"{"id":"9f9f78b2","taskId":"12","extra":true}"#,
                Some("12"),
            ),
        ];
        for (json, want) in cases {
            let t: TaskStarted = serde_json::from_str(json).expect(json);
            assert_eq!(t.task_id.as_ref().map(TaskId::as_str), want, "{json}");
        }
    }

    #[test]
    fn loose_numbers_and_times() {
        #[derive(Deserialize)]
        struct N {
            #[serde(default, deserialize_with = "loose_u64")]
            n: u64,
            #[serde(default, deserialize_with = "lenient_time")]
            t: Option<DateTime<Utc>>,
        }
        let cases = [
            (r#"{"n":5,"t":"2025-12-26T21:06:32.000Z"}"#, 5, true),
            (r#"{"n":5.6,"t":"not a time"}"#, 6, false),
            (r#"{"n":"42","t":1766783192000}"#, 42, true),
            (r#"{"n":null,"t":null}"#, 0, false),
            (r#"{}"#, 0, false),
        ];
        for (json, n, has_time) in cases {
            let v: N = serde_json::from_str(json).expect(json);
            assert_eq!(v.n, n, "{json}");
            assert_eq!(v.t.is_some(), has_time, "{json}");
        }
    }
}

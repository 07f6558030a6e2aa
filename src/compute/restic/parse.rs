//! Readers for restic 0.14's output: `snapshots --json` (one array), `backup --json` (`status`
//! and `summary` lines on stdout, `error` lines on stderr), `forget --prune --json` (JSON on
//! the first line, then plain text). Tolerant: unknown fields are ignored, `tags: null` is an
//! empty list, non-JSON lines are skipped. Pure functions, tested with output captured from
//! real restic runs.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// A full restic snapshot id (64 hex digits).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SnapshotId(String);

impl SnapshotId {
    /// Accept exactly 64 hexadecimal digits (lower-cased).
    pub fn parse(s: &str) -> Result<SnapshotId, String> {
        if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(SnapshotId(s.to_ascii_lowercase()))
        } else {
            Err(format!(
                "{s:?} is not a full restic snapshot id (64 hex digits)"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 8-digit form restic prints in tables.
    pub fn short(&self) -> &str {
        &self.0[..8]
    }
}

impl TryFrom<String> for SnapshotId {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        SnapshotId::parse(&s)
    }
}

impl From<SnapshotId> for String {
    fn from(id: SnapshotId) -> String {
        id.0
    }
}

impl fmt::Display for SnapshotId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn null_as_empty<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<String>>::deserialize(d)?.unwrap_or_default())
}

/// One snapshot as `restic snapshots --json` describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub id: SnapshotId,
    pub short_id: String,
    /// RFC 3339, as restic wrote it.
    pub time: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub paths: Vec<String>,
    #[serde(default)]
    pub hostname: String,
    #[serde(default)]
    pub username: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    #[serde(default)]
    pub tree: String,
}

impl Snapshot {
    /// The snapshot time, when restic wrote a valid RFC 3339 time.
    pub fn taken_at(&self) -> Option<chrono::DateTime<chrono::FixedOffset>> {
        chrono::DateTime::parse_from_rfc3339(&self.time).ok()
    }
}

/// Parse `restic snapshots --json`.
pub fn parse_snapshots(stdout: &str) -> Result<Vec<Snapshot>, String> {
    let text = stdout.trim();
    if text.is_empty() {
        return Err("restic snapshots printed nothing".into());
    }
    serde_json::from_str(text).map_err(|e| format!("restic snapshots --json: {e}"))
}

/// The `summary` line of `restic backup --json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BackupSummary {
    #[serde(default)]
    pub files_new: u64,
    #[serde(default)]
    pub files_changed: u64,
    #[serde(default)]
    pub files_unmodified: u64,
    #[serde(default)]
    pub dirs_new: u64,
    #[serde(default)]
    pub dirs_changed: u64,
    #[serde(default)]
    pub dirs_unmodified: u64,
    #[serde(default)]
    pub data_added: u64,
    #[serde(default)]
    pub total_files_processed: u64,
    #[serde(default)]
    pub total_bytes_processed: u64,
    /// Seconds.
    #[serde(default)]
    pub total_duration: f64,
    /// The short id (8 hex digits).
    pub snapshot_id: String,
}

#[derive(Deserialize)]
struct Tagged {
    message_type: String,
}

/// The summary line of `restic backup --json` stdout (`None` when there is none, e.g. when
/// restic stopped before writing a snapshot).
pub fn parse_backup_summary(stdout: &str) -> Option<BackupSummary> {
    stdout
        .lines()
        .rev()
        .filter(|l| l.trim_start().starts_with('{'))
        .filter(|l| serde_json::from_str::<Tagged>(l).is_ok_and(|t| t.message_type == "summary"))
        .filter_map(|l| serde_json::from_str::<BackupSummary>(l).ok())
        .next()
}

/// A file restic could not back up (an `error` line of `backup --json` on stderr).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemError {
    /// The file or directory.
    pub item: String,
    /// `archival`, `scan`, ...
    pub during: String,
    /// What went wrong, as restic said it.
    pub detail: String,
}

impl fmt::Display for ItemError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.item, self.detail)
    }
}

#[derive(Deserialize)]
struct ErrorLine {
    message_type: String,
    #[serde(default)]
    error: serde_json::Value,
    #[serde(default)]
    during: String,
    #[serde(default)]
    item: String,
}

/// `{"Op":"read","Path":"/x","Err":5}` -> `read: errno 5`; a string stays as it is.
fn error_detail(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Object(m) => {
            let op = m.get("Op").and_then(|o| o.as_str()).unwrap_or("error");
            match m.get("Err") {
                Some(serde_json::Value::Number(n)) => format!("{op}: errno {n}"),
                Some(serde_json::Value::String(s)) => format!("{op}: {s}"),
                Some(other) => format!("{op}: {other}"),
                None => v.to_string(),
            }
        }
        serde_json::Value::Null => "unknown error".to_string(),
        other => other.to_string(),
    }
}

/// The per-file `error` lines of `restic backup --json` stderr.
pub fn parse_backup_errors(stderr: &str) -> Vec<ItemError> {
    stderr
        .lines()
        .filter(|l| l.trim_start().starts_with('{'))
        .filter_map(|l| serde_json::from_str::<ErrorLine>(l).ok())
        .filter(|e| e.message_type == "error")
        .map(|e| ItemError {
            item: e.item,
            during: e.during,
            detail: error_detail(&e.error),
        })
        .collect()
}

/// Paths restic skipped because they do not exist (`X does not exist, skipping`).
pub fn parse_skipped_paths(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter_map(|l| l.trim().strip_suffix(" does not exist, skipping"))
        .map(str::to_string)
        .collect()
}

/// One group of `restic forget --json`: what it keeps and what it removes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForgetGroup {
    #[serde(default)]
    pub host: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub paths: Vec<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub tags: Vec<String>,
    #[serde(default, deserialize_with = "null_snapshots")]
    pub keep: Vec<Snapshot>,
    #[serde(default, deserialize_with = "null_snapshots")]
    pub remove: Vec<Snapshot>,
}

fn null_snapshots<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Snapshot>, D::Error> {
    Ok(Option::<Vec<Snapshot>>::deserialize(d)?.unwrap_or_default())
}

/// Parse the first line of `restic forget --prune --json` (the rest is prune's plain text).
/// No JSON at all means restic had nothing to consider (an empty repository or filter).
pub fn parse_forget(stdout: &str) -> Result<Vec<ForgetGroup>, String> {
    let Some(first) = stdout.lines().find(|l| !l.trim().is_empty()) else {
        return Ok(Vec::new());
    };
    let first = first.trim();
    if !first.starts_with('[') {
        return Err(format!(
            "restic forget --json: expected a JSON array, got {first:?}"
        ));
    }
    serde_json::from_str(first).map_err(|e| format!("restic forget --json: {e}"))
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;

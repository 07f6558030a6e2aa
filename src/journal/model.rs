//! The journal's vocabulary: operation ids, statuses, what a new operation says, what a stored
//! one looks like (the `--json` shape), restore points, filters and protections.
//!
//! Plain data with serde and parsing; no SQL and no I/O here.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Serialize, Serializer};
use serde_json::Value;

use super::id::{OpId, RunId};
use super::kind::{OpKind, OpPlan};
use super::process::{Actor, ProcessId};
use super::restore_point::RestorePoint;
use super::result::OpResult;
use super::status::Status;

/// What to record when an operation begins (always as `planned`). The writer's identity
/// (actor, pid, start time, host) and the redacted command line are filled in by
/// [`super::Journal::begin`].
#[derive(Debug, Clone)]
pub struct NewOp {
    pub plan: OpPlan,
    /// What it acts on, e.g. `matomo.example.org` or `user:alice@calcul`.
    pub target: String,
    pub run: RunId,
    /// The command line; `None` means this process's own arguments. Redacted before storing.
    pub command: Option<Vec<String>>,
}

impl NewOp {
    pub fn new(plan: OpPlan, target: impl Into<String>, run: &RunId) -> Self {
        NewOp {
            plan,
            target: target.into(),
            run: run.clone(),
            command: None,
        }
    }

    /// Record this command line instead of the process's own arguments.
    pub fn command(mut self, args: Vec<String>) -> Self {
        self.command = Some(args);
        self
    }
}

/// One stored operation: the `--json` shape of `journal list` and `journal show`.
///
/// `status` is the effective status: an operation left planned or running by a process
/// that is gone reads as `interrupted`, even before [`super::Journal::mark_interrupted`]
/// persists it.
#[derive(Debug, Clone, Serialize)]
pub struct Operation {
    pub id: OpId,
    pub run: RunId,
    #[serde(skip)]
    pub kind: OpKind,
    pub target: String,
    pub status: Status,
    #[serde(serialize_with = "ser_time")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "ser_opt_time")]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "ser_opt_time")]
    pub finished_at: Option<DateTime<Utc>>,
    pub actor: Actor,
    /// The writing process (pid, start ticks, boot id, host).
    pub process: ProcessId,
    /// The command line, secrets redacted.
    pub command: Vec<String>,
    /// `kind` and `plan` (the kind's typed plan).
    #[serde(flatten)]
    pub plan: OpPlan,
    pub restore_point: Option<RestorePoint>,
    /// Why a stored restore point could not be read, if it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restore_point_problem: Option<String>,
    pub result: Option<OpResult>,
    pub message: Option<String>,
    pub undo_hint: Option<String>,
    /// For an undo: the operation it undoes.
    pub undoes: Option<OpId>,
}

impl Operation {
    /// The operation as it may be shown: password hashes kept for undo are hidden.
    pub fn for_display(&self) -> Value {
        let mut v = serde_json::to_value(self).unwrap_or(Value::Null);
        // Every restore point shows the id people use to find it (backup, snapshot, user).
        if let (Some(rp), Some(obj)) = (
            &self.restore_point,
            v.get_mut("restore_point").and_then(Value::as_object_mut),
        ) {
            obj.insert("id".into(), Value::String(rp.id()));
        }
        super::redact::redact_for_display(&v)
    }

    /// True when the row got as far as `running`: the change itself may have been sent.
    pub fn reached_running(&self) -> bool {
        self.started_at.is_some()
    }
}

/// A line of an operation's history: status changes and notes, in order.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    #[serde(serialize_with = "ser_time")]
    pub at: DateTime<Utc>,
    /// The status entered, if this event is a status change.
    pub status: Option<Status>,
    pub message: String,
}

/// A target that destructive commands refuse, recorded in the journal so it outlives a
/// configuration edit.
#[derive(Debug, Clone, Serialize)]
pub struct Protection {
    pub target: String,
    #[serde(serialize_with = "ser_time")]
    pub added_at: DateTime<Utc>,
    pub actor: Actor,
    pub note: Option<String>,
}

/// How `Filter::target` matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetMatch {
    /// The target is exactly this.
    Exact(String),
    /// The target contains this, ignoring ASCII case.
    Contains(String),
}

/// Which operations [`super::Journal::list`] returns (newest first).
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Created at or after this time.
    pub since: Option<DateTime<Utc>>,
    pub target: Option<TargetMatch>,
    /// `app` matches `app.uninstall`, `app.restore`...; `app.uninstall` matches only itself.
    pub kind: Option<String>,
    /// Only the operations of this run.
    pub run: Option<RunId>,
    /// Only undos of this operation.
    pub undoes: Option<OpId>,
    /// Effective status (so `interrupted` finds rows not yet reconciled).
    pub status: Option<Status>,
    pub limit: Option<usize>,
}

/// Times are stored and printed as RFC 3339 UTC with milliseconds, e.g.
/// `2025-06-01T14:03:07.123Z`; this fixed shape also sorts as text.
pub fn format_time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn ser_time<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_time(t))
}

fn ser_opt_time<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&format_time(t)),
        None => s.serialize_none(),
    }
}

/// Parse a `--since` value relative to `now`: a duration back in time (`7d`, `36h`, `2w`,
/// `90m`, `1week 2days`), an RFC 3339 time (`2025-06-01T08:00:00Z`), or a date (`2025-06-01`,
/// midnight UTC).
pub fn parse_since(s: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let s = s.trim();
    if let Ok(d) = humantime::parse_duration(s) {
        let d = chrono::Duration::from_std(d).map_err(|_| format!("--since {s:?} is too long"))?;
        return now
            .checked_sub_signed(d)
            .ok_or_else(|| format!("--since {s:?} is too long"));
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        && let Some(t) = d.and_hms_opt(0, 0, 0)
    {
        return Ok(t.and_utc());
    }
    Err(format!(
        "--since {s:?} is neither a duration (7d, 36h, 2w) nor a date (2025-06-01 or \
         2025-06-01T08:00:00Z)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_accepts_durations_and_dates() {
        let now = DateTime::parse_from_rfc3339("2025-06-15T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let cases = [
            ("7d", "2025-06-08T12:00:00.000Z"),
            ("36h", "2025-06-14T00:00:00.000Z"),
            ("2w", "2025-06-01T12:00:00.000Z"),
            ("90m", "2025-06-15T10:30:00.000Z"),
            ("1day 2h", "2025-06-14T10:00:00.000Z"),
            ("2025-06-01", "2025-06-01T00:00:00.000Z"),
            ("2025-06-01T08:00:00+02:00", "2025-06-01T06:00:00.000Z"),
        ];
        for (input, want) in cases {
            let got = parse_since(input, now).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(format_time(&got), want, "{input}");
        }
        for bad in ["yesterday", "7 parsecs", "2025-13-01", ""] {
            let err = parse_since(bad, now).unwrap_err();
            assert!(err.contains("neither a duration"), "{bad}: {err}");
        }
    }
}

//! What an operation produced, recorded as it happens: the Cloudron task it started (the
//! moment the server answered, before waiting for it), what each account change did, what
//! each backup target did. A later run reads it to judge an interrupted operation, so it is
//! written before the step it describes is waited for, and rewritten as the operation goes.

use serde::{Deserialize, Serialize};

use crate::core::accounts::Change;

/// The typed result of an operation (see each kind's executor for which it writes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OpResult {
    /// A Cloudron task: app lifecycle, backup, uninstall, restore, install.
    Task(TaskRecord),
    /// One result per account change, in plan order.
    Accounts { outcomes: Vec<ChangeResult> },
    /// One result per backup target.
    Targets { targets: Vec<TargetResult> },
    /// A removed or re-created account (what was checked afterwards).
    Account { summary: String },
}

/// A Cloudron task an operation started.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TaskRecord {
    pub task_id: String,
    /// The app the task works on (a new app's id for an install).
    #[serde(default)]
    pub app_id: Option<String>,
    /// The backup it made, once known.
    #[serde(default)]
    pub backup_id: Option<String>,
    /// How it ended, once seen: `success`, `error: ...`.
    #[serde(default)]
    pub end: Option<String>,
}

/// What happened to one account change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// The system was changed.
    Changed,
    /// Already done (the step's guard found it so).
    Unchanged,
    /// It failed; `message` says why.
    Failed { message: String },
    /// Not tried, because a change it depends on failed (or the run was interrupted).
    NotRun { reason: String },
    /// No report came back (the connection died): it may or may not have happened.
    Unknown { reason: String },
}

impl Outcome {
    /// Changed or already done.
    pub fn is_done(&self) -> bool {
        matches!(self, Outcome::Changed | Outcome::Unchanged)
    }

    /// `changed`, `unchanged`, `failed`, `not run`, `unknown`.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Changed => "changed",
            Outcome::Unchanged => "unchanged",
            Outcome::Failed { .. } => "failed",
            Outcome::NotRun { .. } => "not run",
            Outcome::Unknown { .. } => "unknown",
        }
    }

    /// The message or reason, if any.
    pub fn detail(&self) -> Option<&str> {
        match self {
            Outcome::Failed { message } => Some(message),
            Outcome::NotRun { reason } | Outcome::Unknown { reason } => Some(reason),
            Outcome::Changed | Outcome::Unchanged => None,
        }
    }
}

/// One change and what happened to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeResult {
    pub change: Change,
    pub outcome: Outcome,
}

/// What one backup target did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetResult {
    /// `cloudron` or `compute:HOST`.
    pub target: String,
    pub ok: bool,
    /// The backup or snapshot id, when one was made.
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub detail: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_serialise_with_a_type_tag() {
        let r = OpResult::Task(TaskRecord {
            task_id: "7".into(),
            app_id: Some("a1".into()),
            backup_id: None,
            end: None,
        });
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["type"], "task");
        assert_eq!(v["task_id"], "7");
        assert_eq!(serde_json::from_value::<OpResult>(v).unwrap(), r);
        assert!(Outcome::Unchanged.is_done());
        assert!(!Outcome::NotRun { reason: "x".into() }.is_done());
    }
}

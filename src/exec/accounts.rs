//! People's accounts on real systems: gather facts from every targeted compute host (one SSH
//! round trip each) and from Cloudron (its users and groups, concurrently), then apply a plan
//! made by `core::accounts`: ONE batched script per host, Cloudron calls concurrently with a
//! bound, one journal row per system, and a result for every change.
//!
//! The pieces: [`Targets`] (which systems a command works on, from `--on`), [`Estate`] (open
//! connections; `gather`), [`apply_plan`] (apply + journal), [`apply_on_host`] and
//! [`remove_on_host`] (one host's changes, for callers such as the guarded `user remove`),
//! [`previous_locks`] (what a lock replaced, read back from the journal for unlock).
//! This module decides nothing: plans come from the pure planner, confirmation from the
//! command, and it never builds a remote command by hand (`compute::scripts` does).

use serde::Serialize;

use crate::cloudron::CloudronError;
use crate::compute::SshError;
use crate::compute::scripts::{FactsError, ScriptError};
use crate::core::accounts::Change;
use crate::journal::JournalError;

mod apply;
mod cloudron;
mod cloudron_facts;
mod gather;
mod history;
mod host;
mod targets;

pub use apply::{Applied, JournalPlan, OpRow, UndoHint, apply_plan, row_message, row_status};
pub use cloudron::apply_cloudron;
pub use cloudron_facts::cloudron_facts;
pub use gather::{Estate, gather_host, uid_range};
pub use history::{LOCK_KINDS, previous_locks};
pub use host::{HostRun, apply_on_host, remove_on_host};
pub use targets::Targets;

/// Changes sent at once to the Cloudron (like Ansible's forks).
pub const CLOUDRON_CONCURRENCY: usize = 8;
/// Compute hosts worked on at once.
pub const HOST_CONCURRENCY: usize = 8;

/// What happened to one change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// The system was changed.
    Changed,
    /// Already done (the step's guard found it so).
    Unchanged,
    /// It failed; `message` says why.
    Failed { message: String },
    /// Not tried, because a change it depends on failed.
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangeResult {
    pub change: Change,
    pub outcome: Outcome,
}

/// Why facts could not be gathered or a plan could not be applied at all.
#[derive(Debug, thiserror::Error)]
pub enum AccountsError {
    #[error(transparent)]
    Ssh(#[from] SshError),
    #[error(transparent)]
    Facts(#[from] FactsError),
    #[error(transparent)]
    Script(#[from] ScriptError),
    #[error(transparent)]
    Cloudron(#[from] CloudronError),
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// The facts script ran but did not succeed.
    #[error(
        "{host}: the facts script ended with {end}{}; check that bash, getent and setpriv \
         exist there and that the login user may read /etc/shadow (root, or sudo = true)",
        stderr_tail(.stderr)
    )]
    FactsFailed {
        host: String,
        end: String,
        stderr: String,
    },
    /// A change was asked of a function that does not do that kind of change.
    #[error("{0}")]
    Invalid(String),
}

impl From<AccountsError> for crate::error::Error {
    fn from(e: AccountsError) -> Self {
        use crate::error::Error;
        match e {
            AccountsError::Ssh(e) => e.into(),
            AccountsError::Cloudron(e) => e.into(),
            AccountsError::Journal(e) => e.into(),
            other => Error::Other(anyhow::Error::new(other)),
        }
    }
}

/// `: LAST LINES` of a remote stderr, or nothing when it is empty (at most 3 lines, 300
/// characters, control characters replaced).
pub(crate) fn stderr_tail(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if lines.is_empty() {
        return String::new();
    }
    let tail = lines[lines.len().saturating_sub(3)..].join(" / ");
    let mut clean: String = tail
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .take(300)
        .collect();
    if tail.chars().count() > 300 {
        clean.push('…');
    }
    format!(": {clean}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stderr_tail_keeps_the_last_lines_and_escapes_controls() {
        assert_eq!(stderr_tail(""), "");
        assert_eq!(stderr_tail("\n  \n"), "");
        assert_eq!(
            stderr_tail("a\nb\nc\nuseradd: group 'x' does not exist\n"),
            ": b / c / useradd: group 'x' does not exist"
        );
        assert_eq!(stderr_tail("bad\x1b[31m"), ": bad?[31m");
        let long = "x".repeat(400);
        assert_eq!(stderr_tail(&long).chars().count(), 2 + 300 + 1);
    }

    #[test]
    fn outcomes_serialise_with_a_status_tag() {
        let r = ChangeResult {
            change: Change::compute(
                "calcul",
                crate::core::accounts::ComputeChange::CreateGroup {
                    group: "physics".into(),
                },
            ),
            outcome: Outcome::Failed {
                message: "exit 9".into(),
            },
        };
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            serde_json::json!({
                "change": {"on": "compute", "host": "calcul", "action": "create_group", "group": "physics"},
                "outcome": {"status": "failed", "message": "exit 9"}
            })
        );
        assert!(Outcome::Unchanged.is_done());
        assert!(!Outcome::NotRun { reason: "x".into() }.is_done());
    }
}

//! People's accounts on real systems: gather facts from every targeted compute host (one SSH
//! round trip each) and from Cloudron (its users and groups, concurrently), then apply a plan
//! made by `core::accounts`: ONE batched script per host, Cloudron calls concurrently with a
//! bound, one journal row per system, and a result for every change.
//!
//! The pieces: [`Targets`] (which systems a command works on, from `--on`), [`Estate`] (open
//! connections; `gather`), [`SystemChanges`] (one system's changes, as a change for the one
//! path), [`apply_on_host`] and [`apply_cloudron`] (what it runs), [`previous_locks`] (what a
//! lock replaced, read back from the journal for unlock).
//! This module decides nothing: plans come from the pure planner, confirmation from the
//! command, and it never builds a remote command by hand (`compute::scripts` does).

use crate::cloudron::CloudronError;
use crate::compute::SshError;
use crate::compute::scripts::{FactsError, ScriptError};
use crate::journal::JournalError;

mod action;
mod cloudron;
mod cloudron_facts;
mod gather;
mod history;
mod host;
mod outcome;
mod targets;

pub use action::{System, SystemChanges};
pub use cloudron::apply_cloudron;
pub use cloudron_facts::cloudron_facts;
pub use gather::{Estate, gather_host, uid_range};
pub use history::{LOCK_KINDS, previous_locks};
pub use host::{HostRun, apply_on_host};
pub use outcome::{row_message, row_status};
pub use targets::Targets;

/// Changes sent at once to the Cloudron (like Ansible's forks).
pub const CLOUDRON_CONCURRENCY: usize = 8;
/// Compute hosts worked on at once.
pub const HOST_CONCURRENCY: usize = 8;

pub use crate::journal::{ChangeResult, Outcome};

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
    use crate::core::accounts::Change;

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

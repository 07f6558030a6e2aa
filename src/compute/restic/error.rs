//! What can go wrong when matelot drives restic on a compute host, told apart from restic's
//! exit status and its messages (restic 0.14 exits 1 for a missing repository, a wrong
//! password and a lock alike; 3 for a snapshot that misses files). Each case says what to do
//! next and whether trying again later may help.
//!
//! Messages never carry the password (restic never prints it, and matelot only knows the file
//! that holds it) and show repository strings redacted.

use crate::compute::SshError;
use crate::compute::command::CommandOutput;

use super::parse::ItemError;
use super::repo::{Repo, redact_in};

/// A restic failure on a compute host.
#[derive(Debug, thiserror::Error)]
pub enum ResticError {
    #[error(
        "restic repository {repository} does not exist on compute host {host} (or cannot be reached); create it once, on the host: {init}"
    )]
    RepoMissing {
        host: String,
        repository: String,
        init: String,
    },

    #[error(
        "restic on {host}: wrong password for repository {repository} (password file {password_file}); check that file on the host holds the repository's password"
    )]
    WrongPassword {
        host: String,
        repository: String,
        password_file: String,
    },

    #[error(
        "restic on {host}: cannot read the password file {password_file} ({detail}); create it on the host (mode 600, owned by root) or fix password_file in [backup.compute]"
    )]
    PasswordFile {
        host: String,
        password_file: String,
        detail: String,
    },

    #[error(
        "restic repository {repository} on {host} is locked by another process: {detail}; try again when it has finished (if that process is gone, run `restic unlock` on the host)"
    )]
    Locked {
        host: String,
        repository: String,
        detail: String,
    },

    #[error(
        "restic on {host} made an incomplete snapshot{}: {} could not be read{}; fix their permissions or exclude them, then back up again",
        snapshot_id.as_deref().map(|s| format!(" {s}")).unwrap_or_default(),
        plural(errors.len(), "file", "files"),
        first_errors(errors)
    )]
    Incomplete {
        host: String,
        snapshot_id: Option<String>,
        errors: Vec<ItemError>,
    },

    #[error(
        "restic is not installed on compute host {host}: install it there (apt-get install restic)"
    )]
    NotInstalled { host: String },

    #[error("restic {action} on {host} could not be verified: {reason}")]
    Unverified {
        host: String,
        action: String,
        reason: String,
    },

    #[error("restic {action} on {host} printed output matelot cannot read: {detail}")]
    Output {
        host: String,
        action: String,
        detail: String,
    },

    #[error("restic {action} on {host} failed ({end}): {stderr}")]
    Other {
        host: String,
        action: String,
        end: String,
        stderr: String,
    },

    #[error("invalid input for restic: {what}")]
    InvalidInput { what: String },

    #[error(transparent)]
    Ssh(#[from] SshError),
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

fn first_errors(errors: &[ItemError]) -> String {
    let shown: Vec<String> = errors.iter().take(3).map(|e| e.to_string()).collect();
    if shown.is_empty() {
        return String::new();
    }
    let more = errors.len().saturating_sub(3);
    let tail = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    format!(" ({}{tail})", shown.join("; "))
}

impl ResticError {
    /// True when trying again later may succeed: a lock held by another run, or trouble
    /// reaching the host.
    pub fn is_transient(&self) -> bool {
        match self {
            ResticError::Locked { .. } => true,
            ResticError::Ssh(e) => e.is_transient(),
            _ => false,
        }
    }
}

/// The last meaningful lines of restic's stderr, for a message (at most 6 lines, redacted).
pub fn stderr_excerpt(stderr: &str, repo: &Repo) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let start = lines.len().saturating_sub(6);
    let text = lines[start..].join(" / ");
    let text = redact_in(&text, repo);
    if text.is_empty() {
        "no message".to_string()
    } else {
        text
    }
}

/// Classify a failed restic run (status not 0) from its exit status and messages.
/// `items` are the per-file errors of a backup (exit 3).
pub fn classify(
    host: &str,
    action: &str,
    repo: &Repo,
    out: &CommandOutput,
    snapshot_id: Option<String>,
    items: Vec<ItemError>,
) -> ResticError {
    let stderr = out.stderr_text();
    let has = |needle: &str| stderr.contains(needle);
    let host = host.to_string();
    if out.status == Some(127) || has("restic: not found") || has("restic: No such file") {
        return ResticError::NotInstalled { host };
    }
    // restic 0.14 exits 3 only when a snapshot was written without some files.
    if out.status == Some(3) {
        return ResticError::Incomplete {
            host,
            snapshot_id,
            errors: items,
        };
    }
    if has("wrong password or no key found") {
        return ResticError::WrongPassword {
            host,
            repository: repo.display(),
            password_file: repo.password_file.clone(),
        };
    }
    if has("Resolving password failed") || has("reading password from file") {
        return ResticError::PasswordFile {
            host,
            password_file: repo.password_file.clone(),
            detail: stderr_excerpt(&stderr, repo),
        };
    }
    if has("repository is already locked") || has("unable to create lock") {
        return ResticError::Locked {
            host,
            repository: repo.display(),
            detail: first_line_with(&stderr, "locked", repo),
        };
    }
    if has("unable to open config file") || has("Is there a repository at the following location?")
    {
        return ResticError::RepoMissing {
            host,
            repository: repo.display(),
            init: repo.init_hint(),
        };
    }
    ResticError::Other {
        host,
        action: action.to_string(),
        end: out.describe_end(),
        stderr: stderr_excerpt(&stderr, repo),
    }
}

fn first_line_with(stderr: &str, needle: &str, repo: &Repo) -> String {
    let line = stderr
        .lines()
        .find(|l| l.contains(needle))
        .unwrap_or_default()
        .trim();
    redact_in(line, repo)
}

impl From<ResticError> for crate::error::Error {
    fn from(e: ResticError) -> Self {
        match e {
            ResticError::Ssh(s) => s.into(),
            ResticError::InvalidInput { .. } => crate::error::Error::Usage(e.to_string()),
            e => crate::error::Error::Failed(e.to_string()),
        }
    }
}

#[cfg(test)]
#[path = "error_tests.rs"]
mod tests;

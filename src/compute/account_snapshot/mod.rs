//! The per-person restore point taken before a compute account is removed, and its inverse.
//!
//! [`take`] captures, in one round trip, everything `userdel -r` destroys: the passwd line,
//! the group lines that name the account (and its primary group's), the shadow line, the
//! authorized_keys and the home's path and size; then it takes a restic snapshot of the home
//! tagged `matelot`, `op-<N>`, `user-<name>` and checks it is listed with that path. The
//! [`AccountRestorePoint`] it returns is data (serde) for the journal. [`recreate_account`] puts the
//! account back from it: same uid, gid, groups, GECOS, shell, password hash, keys and home.
//!
//! The shadow line holds a password hash: it is kept (undo needs it) but shown redacted
//! everywhere a human reads (`Debug`, `Display`, [`AccountRestorePoint::summary`]). This module
//! must not decide whether an account may be removed, and it never removes one.

pub mod script;
mod types;

use base64::Engine;
use serde::Serialize;

pub use types::{AccountRestorePoint, GroupEntry, PasswdEntry, ShadowLine, check_username};

use crate::compute::command::CommandError;
use crate::compute::restic::{Expect, Repo, Restic, ResticError, SnapshotId};
use crate::compute::{Session, SshError};

/// What can go wrong taking or using a per-person restore point.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("invalid restore point data: {what}")]
    Invalid { what: String },

    #[error("no local account {username} on compute host {host} (not in /etc/passwd)")]
    NoSuchAccount { host: String, username: String },

    #[error("capturing account {username} on {host} failed: {detail}")]
    Capture {
        host: String,
        username: String,
        detail: String,
    },

    #[error(
        "cannot recreate {username} on {host}: {detail}; resolve that on the host, then run the undo again"
    )]
    Conflict {
        host: String,
        username: String,
        detail: String,
    },

    #[error("recreating {username} on {host} failed at {step}: {detail}")]
    Recreate {
        host: String,
        username: String,
        step: String,
        detail: String,
    },

    #[error(
        "the restore point of {username} lives in repository {recorded}, but [backup.compute] now names {configured}; point repository back at it to restore"
    )]
    RepositoryMismatch {
        username: String,
        recorded: String,
        configured: String,
    },

    #[error("{username} was recreated on {host} but differs from the restore point: {}", differences.join("; "))]
    Differs {
        host: String,
        username: String,
        differences: Vec<String>,
    },

    #[error(transparent)]
    Restic(#[from] ResticError),

    #[error(transparent)]
    Ssh(#[from] SshError),
}

impl AccountError {
    /// True when trying again later may succeed (a restic lock, network trouble).
    pub fn is_transient(&self) -> bool {
        match self {
            AccountError::Restic(e) => e.is_transient(),
            AccountError::Ssh(e) => e.is_transient(),
            _ => false,
        }
    }
}

impl From<CommandError> for AccountError {
    fn from(e: CommandError) -> Self {
        AccountError::Invalid {
            what: e.to_string(),
        }
    }
}

impl From<AccountError> for crate::error::Error {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::Restic(r) => r.into(),
            AccountError::Ssh(s) => s.into(),
            AccountError::Invalid { .. } => crate::error::Error::Usage(e.to_string()),
            AccountError::Conflict { .. } => crate::error::Error::Refused(e.to_string()),
            e => crate::error::Error::Failed(e.to_string()),
        }
    }
}

/// The restic tags of a per-person restore point.
pub fn tags(username: &str, op: i64) -> Vec<String> {
    vec![
        "matelot".to_string(),
        format!("op-{op}"),
        format!("user-{username}"),
    ]
}

/// Capture the account as it is now (one round trip), without a snapshot.
pub async fn capture(session: &Session, username: &str) -> Result<script::Captured, AccountError> {
    check_username(username)?;
    let host = session.host().name.clone();
    let out = session.run(&script::capture(username)?, None, None).await?;
    if out.status == Some(script::NO_SUCH_ACCOUNT) {
        return Err(AccountError::NoSuchAccount {
            host,
            username: username.to_string(),
        });
    }
    let fail = |detail: String| AccountError::Capture {
        host: host.clone(),
        username: username.to_string(),
        detail,
    };
    if !out.success() {
        return Err(fail(format!(
            "{}: {}",
            out.describe_end(),
            out.stderr_text().trim()
        )));
    }
    script::parse_capture(&out.stdout_text()).map_err(fail)
}

/// Take a verified restore point of `username` for operation `op`: capture the account, snapshot
/// its home with restic (tags `matelot`, `op-<op>`, `user-<name>`), check the snapshot is listed
/// with that path and those tags. An account without a home gets a restore point without a
/// snapshot; a home that cannot be fully read is an error (nothing may be destroyed then).
pub async fn take(
    session: &Session,
    repo: &Repo,
    username: &str,
    op: i64,
) -> Result<AccountRestorePoint, AccountError> {
    let host = session.host().name.clone();
    let captured = capture(session, username).await?;
    let mut rp = AccountRestorePoint::from_capture(&host, username, &captured, repo)?;
    if rp.home_bytes.is_some() {
        let restic = Restic::new(session, repo.clone());
        let done = restic
            .backup(&[rp.home.clone()], &tags(username, op), &host)
            .await?;
        rp.snapshot_id = Some(done.snapshot.id.clone());
        rp.taken_at = done.snapshot.time.clone();
    }
    Ok(rp)
}

/// What [`recreate_account`] did.
#[derive(Debug, Clone, Serialize)]
pub struct Recreated {
    pub username: String,
    pub uid: u32,
    pub gid: u32,
    /// Names of the groups the account is in again (primary first).
    pub groups: Vec<String>,
    pub home: String,
    /// The snapshot the home came back from (none when there was no home).
    pub snapshot_id: Option<SnapshotId>,
    pub authorized_keys: bool,
}

/// Put an account back from its restore point: groups and user with the same ids, password
/// hash and ageing, home from the snapshot, authorized_keys; then capture it again and check
/// it matches. The account must not exist (a conflict changes nothing).
pub async fn recreate_account(
    session: &Session,
    repo: &Repo,
    rp: &AccountRestorePoint,
) -> Result<Recreated, AccountError> {
    check_username(&rp.username)?;
    if repo.display() != rp.repository {
        return Err(AccountError::RepositoryMismatch {
            username: rp.username.clone(),
            recorded: rp.repository.clone(),
            configured: repo.display(),
        });
    }
    let host = session.host().name.clone();
    let failed = |step: &str, detail: String| AccountError::Recreate {
        host: host.clone(),
        username: rp.username.clone(),
        step: step.to_string(),
        detail,
    };
    let restic = Restic::new(session, repo.clone());
    if let Some(id) = &rp.snapshot_id {
        // Before touching the accounts: the snapshot must still be there.
        let expect = Expect {
            paths: vec![rp.home.clone()],
            ..Default::default()
        };
        restic.verify_snapshot(id.as_str(), &expect).await?;
    }
    let stdin = script::shadow_stdin(rp);
    let out = session
        .run(
            &script::recreate(rp)?,
            stdin.as_deref().map(str::as_bytes),
            None,
        )
        .await?;
    if out.status == Some(script::CONFLICT) {
        return Err(AccountError::Conflict {
            host,
            username: rp.username.clone(),
            detail: out.stderr_text().trim().to_string(),
        });
    }
    if !out.success() {
        return Err(failed(
            "the account (groupadd/useradd/chpasswd/chage)",
            format!("{}: {}", out.describe_end(), out.stderr_text().trim()),
        ));
    }
    if let Some(id) = &rp.snapshot_id {
        restic.restore(id.as_str(), &rp.home, "/").await?;
    }
    if let Some(keys) = &rp.authorized_keys {
        let cmd = script::write_keys(rp.uid, rp.gid, &rp.home)?;
        let out = session.run(&cmd, Some(keys.as_bytes()), None).await?;
        if !out.success() {
            return Err(failed(
                "authorized_keys",
                format!("{}: {}", out.describe_end(), out.stderr_text().trim()),
            ));
        }
    }
    let after = capture(session, &rp.username).await?;
    let now = AccountRestorePoint::from_capture(&host, &rp.username, &after, repo)?;
    let differences = rp.differences(&now);
    if !differences.is_empty() {
        return Err(AccountError::Differs {
            host,
            username: rp.username.clone(),
            differences,
        });
    }
    Ok(Recreated {
        username: rp.username.clone(),
        uid: rp.uid,
        gid: rp.gid,
        groups: rp.group_names(),
        home: rp.home.clone(),
        snapshot_id: rp.snapshot_id.clone(),
        authorized_keys: rp.authorized_keys.is_some(),
    })
}

/// Decode the base64 authorized_keys of a capture.
pub(crate) fn decode_keys(b64: &str) -> Result<String, AccountError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|e| AccountError::Invalid {
            what: format!("authorized_keys in the capture are not base64: {e}"),
        })?;
    String::from_utf8(bytes).map_err(|_| AccountError::Invalid {
        what: "authorized_keys are not UTF-8 text".into(),
    })
}

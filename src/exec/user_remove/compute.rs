//! A person's account on a compute host: removed (severe: a restic snapshot of the home and
//! the account's passwd, group, shadow and authorized_keys lines first), or re-created from
//! that restore point by undo (moderate: it overwrites nothing; an account that exists again
//! is a conflict that changes nothing).

use std::sync::Arc;

use async_trait::async_trait;

use crate::compute::Session;
use crate::compute::account_snapshot::{self, AccountError, AccountRestorePoint};
use crate::compute::command::{CommandError, RemoteCommand};
use crate::compute::restic::Repo;
use crate::core::guard::Tier;
use crate::error::Error;
use crate::exec::action::{Action, Applied, Failure, OpCtx};
use crate::journal::{
    OpId, OpKind, OpPlan, OpResult, RestorePoint, UndoAction, UndoPlan, UserRemovePlan,
};

/// `userdel -r NAME`: the account, its group if private, its home and mail spool.
pub fn userdel(username: &str) -> Result<RemoteCommand, CommandError> {
    RemoteCommand::argv(["userdel", "-r", username])
}

/// Remove `username` on the session's host.
pub struct RemoveHostAccount {
    pub session: Arc<Session>,
    pub repo: Repo,
    pub username: String,
}

impl RemoveHostAccount {
    fn host_name(&self) -> &str {
        &self.session.host().name
    }
}

#[async_trait]
impl Action for RemoveHostAccount {
    fn plan(&self) -> OpPlan {
        OpPlan::UserRemove(UserRemovePlan::Compute {
            host: self.host_name().to_string(),
            username: self.username.clone(),
        })
    }

    fn target(&self) -> String {
        format!("user:{}@{}", self.username, self.host_name())
    }

    fn tier(&self) -> Tier {
        Tier::Severe
    }

    fn confirm_name(&self) -> String {
        self.username.clone()
    }

    async fn restore_point(&self, op: &OpCtx<'_>) -> Result<Option<RestorePoint>, Error> {
        let rp = account_snapshot::take(&self.session, &self.repo, &self.username, op.id.0).await?;
        Ok(Some(RestorePoint::ComputeAccount(rp)))
    }

    async fn apply(&self, op: &OpCtx<'_>, _rp: Option<&RestorePoint>) -> Result<Applied, Failure> {
        let (name, host) = (&self.username, self.host_name());
        let cmd = userdel(name).map_err(|e| Failure::NotApplied(Error::usage(e.to_string())))?;
        let out = self
            .session
            .run(&cmd, None, None)
            .await
            .map_err(Failure::unknown)?;
        match account_snapshot::capture(&self.session, name).await {
            Err(AccountError::NoSuchAccount { .. }) => {
                let summary = format!("{name} removed on {host}");
                op.record(OpResult::Account {
                    summary: summary.clone(),
                });
                Ok(Applied::done(summary))
            }
            Ok(_) => Err(Failure::NotApplied(Error::failed(format!(
                "userdel -r {name} on {host} {}: {}; the account is still there",
                out.describe_end(),
                out.stderr_text().trim()
            )))),
            Err(e) => Err(Failure::unknown(e)),
        }
    }
}

/// Re-create an account from its restore point (same uid, gid, groups, password hash, keys,
/// home from the snapshot), checked against the restore point.
pub struct RecreateHostAccount {
    pub session: Arc<Session>,
    pub repo: Repo,
    pub point: AccountRestorePoint,
    pub undoes: (OpId, OpKind),
}

#[async_trait]
impl Action for RecreateHostAccount {
    fn plan(&self) -> OpPlan {
        OpPlan::Undo(UndoPlan {
            undoes: self.undoes.0,
            of_kind: self.undoes.1,
            action: UndoAction::RecreateAccount {
                host: self.point.host.clone(),
                username: self.point.username.clone(),
            },
        })
    }

    fn target(&self) -> String {
        format!("user:{}@{}", self.point.username, self.point.host)
    }

    fn tier(&self) -> Tier {
        Tier::Moderate
    }

    fn confirm_name(&self) -> String {
        self.point.username.clone()
    }

    async fn apply(&self, op: &OpCtx<'_>, _rp: Option<&RestorePoint>) -> Result<Applied, Failure> {
        let rp = &self.point;
        match account_snapshot::recreate_account(&self.session, &self.repo, rp).await {
            Ok(r) => {
                let summary = format!(
                    "{} re-created on {} (uid {}, gid {}, groups {}, home {}{})",
                    r.username,
                    rp.host,
                    r.uid,
                    r.gid,
                    r.groups.join(","),
                    r.home,
                    if r.authorized_keys { ", keys" } else { "" }
                );
                op.record(OpResult::Account {
                    summary: summary.clone(),
                });
                Ok(Applied::done(summary))
            }
            Err(e @ (AccountError::Conflict { .. } | AccountError::RepositoryMismatch { .. })) => {
                Err(Failure::not_applied(e))
            }
            Err(e) => Err(Failure::unknown(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userdel_is_exact() {
        assert_eq!(
            userdel("alice").map(|c| c.as_str().to_string()).ok(),
            Some("userdel -r alice".into())
        );
    }
}

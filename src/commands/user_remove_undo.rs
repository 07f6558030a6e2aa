//! Undo of a compute `user.remove`: re-create the account from its restore point
//! (`account_snapshot::recreate_account`: same uid, gid, groups, password hash, keys, home from
//! the snapshot, checked against the restore point). Moderate: it overwrites nothing, and an
//! account that exists again is a conflict that changes nothing.

use serde_json::json;

use super::user_remove::{connect, repo, runtime};
use crate::Ctx;
use crate::compute::Session;
use crate::compute::account_snapshot::{self, AccountError, AccountRestorePoint};
use crate::compute::restic::Repo;
use crate::core::guard::Tier;
use crate::error::{Error, Result};
use crate::exec::guard::{self, Applied, Destructive, Guarded, Outcome};
use crate::journal::{Journal, OpId, Operation, RestorePoint};

struct Recreate<'a> {
    rt: &'a tokio::runtime::Runtime,
    session: &'a Session,
    repo: &'a Repo,
    rp: &'a AccountRestorePoint,
}

impl Destructive for Recreate<'_> {
    fn restore_point(&mut self, _op: OpId) -> Result<Option<RestorePoint>> {
        Ok(None)
    }

    fn apply(
        &mut self,
        _op: OpId,
        _rp: Option<&RestorePoint>,
    ) -> std::result::Result<String, Applied> {
        match self.rt.block_on(account_snapshot::recreate_account(
            self.session,
            self.repo,
            self.rp,
        )) {
            Ok(r) => Ok(format!(
                "{} re-created on {} (uid {}, gid {}, groups {}, home {}{})",
                r.username,
                self.rp.host,
                r.uid,
                r.gid,
                r.groups.join(","),
                r.home,
                if r.authorized_keys { ", keys" } else { "" }
            )),
            Err(e @ (AccountError::Conflict { .. } | AccountError::RepositoryMismatch { .. })) => {
                Err(Applied::NotApplied(e.into()))
            }
            Err(e) => Err(Applied::Unknown(e.into())),
        }
    }
}

/// `matelot undo OP` for a compute `user.remove`: re-create the account (moderate: it
/// overwrites nothing; an existing account is a conflict that changes nothing).
pub fn undo(
    ctx: &Ctx,
    journal: &Journal,
    op: &Operation,
    yes: bool,
    confirm: Option<&str>,
) -> Result<Option<Outcome>> {
    let cfg = ctx.config()?;
    let rp_row = op
        .restore_point
        .as_ref()
        .ok_or_else(|| Error::failed(format!("operation {} has no restore point", op.id)))?;
    let rp: AccountRestorePoint = serde_json::from_value(rp_row.details.clone()).map_err(|e| {
        Error::failed(format!(
            "operation {}'s restore point cannot be read: {e}",
            op.id
        ))
    })?;
    let host = cfg.compute.get(&rp.host).ok_or_else(|| {
        Error::Config(vec![format!(
            "operation {} was on compute host {}, which is no longer configured",
            op.id, rp.host
        )])
    })?;
    let repo = repo(cfg)?;
    let rt = runtime()?;
    let session = connect(&rt, ctx, cfg, host)?;
    let g = Guarded {
        kind: "undo".into(),
        target: op.target.clone(),
        confirm_name: rp.username.clone(),
        tier: Tier::Moderate,
        impact: {
            let mut v = vec![(
                "Undoes".to_string(),
                format!("operation {} ({} {})", op.id, op.kind, op.target),
            )];
            v.extend(rp.summary());
            v
        },
        steps: vec![
            format!(
                "re-create {} on {} with uid {}, gid {}, the same groups, password hash and keys",
                rp.username, rp.host, rp.uid, rp.gid
            ),
            format!(
                "restore {} from snapshot {} and check the account matches the restore point",
                rp.home,
                rp.snapshot_id.as_ref().map_or("(none)", |s| s.as_str())
            ),
        ],
        planned: json!({"change": "undo", "undoes": op.id.0, "kind": op.kind, "side": "compute", "host": rp.host, "username": rp.username}),
        protected: None,
    };
    let yes = yes || confirm == Some(rp.username.as_str());
    let mut action = Recreate {
        rt: &rt,
        session: &session,
        repo: &repo,
        rp: &rp,
    };
    guard::run(ctx, journal, &g, yes, confirm, &mut action)
}

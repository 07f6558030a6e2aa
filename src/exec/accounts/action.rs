//! One system's share of an account plan as a change for the one path: a host's changes as
//! ONE batched script over its session, or the Cloudron's as bounded concurrent calls. The
//! command splits its plan by system and hands the executor one of these per system, so each
//! system gets its own journal row and its own outcome.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;

use super::{apply_cloudron, apply_on_host, row_message, row_status};
use crate::cloudron::Client;
use crate::compute::Session;
use crate::core::accounts::{Change, CloudronFacts, Tier};
use crate::core::progress::Progress;
use crate::error::Error;
use crate::exec::action::{Action, Applied, Failure, OpCtx};
use crate::journal::{
    AccountsPlan, ChangeResult, OpKind, OpPlan, OpResult, Outcome, RestorePoint, Status,
};

/// Where one system's changes go.
pub enum System {
    Host(Arc<Session>),
    Cloudron {
        client: Box<Client>,
        facts: Box<CloudronFacts>,
    },
}

/// One system's account changes.
pub struct SystemChanges {
    /// `user.add`, `user.lock`, `user.unlock` or `user.sync`.
    pub kind: OpKind,
    pub plan: AccountsPlan,
    pub tier: Tier,
    pub system: System,
    /// Shared by every system of the command: one bar, ticked per change.
    pub progress: Arc<dyn Progress>,
    pub done: Arc<AtomicU64>,
}

impl SystemChanges {
    fn tick(&self, n: u64) {
        let pos = self.done.fetch_add(n, Ordering::Relaxed) + n;
        self.progress.set_position(pos);
    }
}

#[async_trait]
impl Action for SystemChanges {
    fn plan(&self) -> OpPlan {
        let p = self.plan.clone();
        match self.kind {
            OpKind::UserAdd => OpPlan::UserAdd(p),
            OpKind::UserLock => OpPlan::UserLock(p),
            OpKind::UserUnlock => OpPlan::UserUnlock(p),
            _ => OpPlan::UserSync(p),
        }
    }

    fn target(&self) -> String {
        format!("{}@{}", self.plan.subject, self.plan.system)
    }

    fn tier(&self) -> Tier {
        self.tier
    }

    async fn apply(&self, op: &OpCtx<'_>, _rp: Option<&RestorePoint>) -> Result<Applied, Failure> {
        let changes = &self.plan.changes;
        let outcomes: Vec<Outcome> = match &self.system {
            System::Host(session) => {
                let host = &self.plan.system;
                let steps: Vec<_> = changes
                    .iter()
                    .filter_map(|c| match c {
                        Change::Compute { change, .. } => Some(change.clone()),
                        Change::Cloudron { .. } => None,
                    })
                    .collect();
                let outcomes = match apply_on_host(host, session, &steps).await {
                    Ok(run) => run.outcomes(),
                    Err(e) => vec![
                        Outcome::Unknown {
                            reason: format!("{host}: {e}"),
                        };
                        steps.len()
                    ],
                };
                self.tick(outcomes.len() as u64);
                outcomes
            }
            System::Cloudron { client, facts } => {
                let steps: Vec<_> = changes
                    .iter()
                    .filter_map(|c| match c {
                        Change::Cloudron { change } => Some(change.clone()),
                        Change::Compute { .. } => None,
                    })
                    .collect();
                apply_cloudron(client, &steps, facts, &|| self.tick(1)).await
            }
        };
        let results: Vec<ChangeResult> = changes
            .iter()
            .cloned()
            .zip(outcomes.iter().cloned())
            .map(|(change, outcome)| ChangeResult { change, outcome })
            .collect();
        op.record(OpResult::Accounts { outcomes: results });
        let refs: Vec<&Outcome> = outcomes.iter().collect();
        let message = row_message(&refs);
        if outcomes
            .iter()
            .any(|o| matches!(o, Outcome::Unknown { .. }))
        {
            return Err(Failure::Unknown(Error::failed(message)));
        }
        match row_status(&refs) {
            Status::Done => Ok(Applied::done(message)),
            Status::Partial => Ok(Applied::partial(message)),
            _ => Err(Failure::NotApplied(Error::failed(message))),
        }
    }
}

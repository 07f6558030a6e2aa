//! A change whose work is a future the command builds (a backup of every target, a prune, a
//! host key written): it still goes through the one path (tier, confirmation, journal,
//! signals, outcome), is judged by its typed plan when interrupted, and undone (or refused)
//! by its kind like any other. The future does nothing until the executor applies it.

use futures::future::BoxFuture;
use tokio::sync::Mutex;

use async_trait::async_trait;

use crate::core::guard::Tier;
use crate::error::Error;
use crate::exec::action::{Action, Applied, Failure, OpCtx};
use crate::journal::{OpPlan, OpResult, RestorePoint};

/// What the work produced: how it went, and the result to record.
pub type Outcome = (Result<Applied, Failure>, Option<OpResult>);

pub struct Deferred<'a> {
    plan: OpPlan,
    target: String,
    tier: Tier,
    work: Mutex<Option<BoxFuture<'a, Outcome>>>,
}

impl<'a> Deferred<'a> {
    pub fn new(
        plan: OpPlan,
        target: impl Into<String>,
        tier: Tier,
        work: BoxFuture<'a, Outcome>,
    ) -> Self {
        Deferred {
            plan,
            target: target.into(),
            tier,
            work: Mutex::new(Some(work)),
        }
    }
}

#[async_trait]
impl Action for Deferred<'_> {
    fn plan(&self) -> OpPlan {
        self.plan.clone()
    }

    fn target(&self) -> String {
        self.target.clone()
    }

    fn tier(&self) -> Tier {
        self.tier
    }

    async fn apply(&self, op: &OpCtx<'_>, _rp: Option<&RestorePoint>) -> Result<Applied, Failure> {
        let Some(work) = self.work.lock().await.take() else {
            return Err(Failure::NotApplied(Error::failed(
                "this change was already carried out once",
            )));
        };
        let (result, recorded) = work.await;
        if let Some(r) = recorded {
            op.record(r);
        }
        result
    }
}

//! `app restore` (and the undo of a restore): severe, it overwrites live data. The data there
//! now is saved first (a verified restore point), then the restore POST, its task recorded and
//! followed, then the app checked.

use std::time::Duration;

use async_trait::async_trait;

use super::backup::take_point;
use super::task;
use crate::cloudron::Client;
use crate::core::guard::Tier;
use crate::error::Error;
use crate::exec::action::{Action, Applied, Failure, OpCtx};
use crate::journal::{
    AppRef, AppRestorePlan, OpId, OpKind, OpPlan, RestorePoint, UndoAction, UndoPlan,
};

pub struct Restore {
    pub client: Client,
    pub plan: AppRestorePlan,
    pub preserve: Duration,
    pub protected: Option<String>,
    /// The operation this undoes, when it is an undo.
    pub undoes: Option<(OpId, OpKind)>,
}

#[async_trait]
impl Action for Restore {
    fn plan(&self) -> OpPlan {
        match self.undoes {
            Some((undoes, of_kind)) => OpPlan::Undo(UndoPlan {
                undoes,
                of_kind,
                action: UndoAction::RestoreApp(self.plan.clone()),
            }),
            None => OpPlan::AppRestore(self.plan.clone()),
        }
    }

    fn target(&self) -> String {
        self.plan.fqdn.clone()
    }

    fn tier(&self) -> Tier {
        Tier::Severe
    }

    fn protected(&self) -> Option<String> {
        self.protected.clone()
    }

    async fn restore_point(&self, op: &OpCtx<'_>) -> Result<Option<RestorePoint>, Error> {
        let app = AppRef {
            app_id: self.plan.app_id.clone(),
            fqdn: self.plan.fqdn.clone(),
        };
        let why = match self.undoes {
            Some((id, _)) => format!("undo of op {id}"),
            None => "restore".to_string(),
        };
        take_point(op, &self.client, &app, self.preserve, &why)
            .await
            .map(Some)
    }

    async fn apply(&self, op: &OpCtx<'_>, rp: Option<&RestorePoint>) -> Result<Applied, Failure> {
        let (c, p) = (&self.client, &self.plan);
        let way_back = rp.map(|r| format!("matelot app restore {} --backup {}", p.fqdn, r.id()));
        let t = task::sent(c.restore_app(&p.app_id, &p.backup_id).await)?;
        task::record(op, &t, Some(&p.app_id), None);
        task::follow(op, c, &p.app_id, &t, &format!("restore {}", p.fqdn))
            .await
            .map_err(|e| task::judge_failure(e, &p.fqdn, way_back.clone()))?;
        match c.get_app(&p.app_id).await {
            Ok(a) if !a.is_busy() && a.error.is_none() => Ok(Applied::done(format!(
                "{} restored from {} ({})",
                a.fqdn,
                p.backup_id,
                a.state_label()
            ))),
            Ok(a) => Err(Failure::Changed {
                error: Error::failed(format!(
                    "after the restore task {t}, {} is {}",
                    a.fqdn,
                    a.state_label()
                )),
                state: format!("{} is {}", a.fqdn, a.state_label()),
                way_back,
            }),
            Err(e) => Err(Failure::unknown(e)),
        }
    }
}

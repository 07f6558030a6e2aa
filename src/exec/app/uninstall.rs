//! `app uninstall`: severe. The restore point (a verified, labelled, preserved backup) first,
//! then the uninstall POST, its task recorded and followed, then the app checked to be gone.

use std::time::Duration;

use async_trait::async_trait;

use super::backup::take_point;
use super::task::{self, TaskEnd};
use crate::cloudron::{Client, CloudronError, Lifecycle};
use crate::core::guard::Tier;
use crate::error::Error;
use crate::exec::action::{Action, Applied, Failure, OpCtx};
use crate::journal::{AppRef, AppUninstallPlan, OpPlan, RestorePoint};

pub struct Uninstall {
    pub client: Client,
    pub plan: AppUninstallPlan,
    /// How long the restore point is preserved past retention.
    pub preserve: Duration,
    pub protected: Option<String>,
}

#[async_trait]
impl Action for Uninstall {
    fn plan(&self) -> OpPlan {
        OpPlan::AppUninstall(self.plan.clone())
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
        take_point(op, &self.client, &app, self.preserve, "uninstall")
            .await
            .map(Some)
    }

    async fn apply(&self, op: &OpCtx<'_>, rp: Option<&RestorePoint>) -> Result<Applied, Failure> {
        let (c, id, fqdn) = (&self.client, &self.plan.app_id, &self.plan.fqdn);
        let way_back = rp.map(|r| format!("matelot app restore {fqdn} --backup {}", r.id()));
        let t = task::sent(c.app_lifecycle(id, Lifecycle::Uninstall).await)?;
        task::record(op, &t, Some(id), None);
        task::follow(op, c, id, &t, &format!("uninstall {fqdn}"))
            .await
            .map_err(|e| task::judge_failure(e, fqdn, way_back.clone()))?;
        match c.get_app(id).await {
            Err(CloudronError::NotFound { .. }) => Ok(Applied::done(format!("{fqdn} uninstalled"))),
            Ok(a) => Err(task::judge_failure(
                TaskEnd::Failed {
                    error: CloudronError::Unverified(format!(
                        "the uninstall task {t} ended but {fqdn} is still there ({})",
                        a.state_label()
                    )),
                    app: Some(Box::new(a)),
                },
                fqdn,
                way_back,
            )),
            Err(e) => Err(Failure::unknown(e)),
        }
    }
}

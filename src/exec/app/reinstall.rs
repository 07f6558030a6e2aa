//! The undo of an uninstall: install the app again at the same place (subdomain, domain,
//! access restriction, pinned package version) from its restore point. Moderate: it
//! overwrites nothing (the command checks the FQDN is free first).

use async_trait::async_trait;

use super::task;
use crate::cloudron::{Client, InstallRequest};
use crate::core::guard::Tier;
use crate::error::Error;
use crate::exec::action::{Action, Applied, Failure, OpCtx};
use crate::journal::{
    AppUninstallPlan, OpId, OpKind, OpPlan, OpResult, RestorePoint, TaskRecord, UndoAction,
    UndoPlan,
};

pub struct Reinstall {
    pub client: Client,
    pub app: AppUninstallPlan,
    pub backup_id: String,
    pub undoes: (OpId, OpKind),
}

#[async_trait]
impl Action for Reinstall {
    fn plan(&self) -> OpPlan {
        OpPlan::Undo(UndoPlan {
            undoes: self.undoes.0,
            of_kind: self.undoes.1,
            action: UndoAction::ReinstallApp {
                app: self.app.clone(),
                backup_id: self.backup_id.clone(),
            },
        })
    }

    fn target(&self) -> String {
        self.app.fqdn.clone()
    }

    fn tier(&self) -> Tier {
        Tier::Moderate
    }

    async fn apply(&self, op: &OpCtx<'_>, _rp: Option<&RestorePoint>) -> Result<Applied, Failure> {
        let (c, a) = (&self.client, &self.app);
        let request = InstallRequest {
            app_store_id: Some(a.app_store_id.clone()),
            manifest: None,
            subdomain: a.subdomain.clone(),
            domain: a.domain.clone(),
            access_restriction: a.access_restriction.clone(),
            backup_id: Some(self.backup_id.clone()),
            label: a.label.clone(),
        };
        let (new_id, t) = task::sent(c.install_app(&request).await)?;
        op.record(OpResult::Task(TaskRecord {
            task_id: t.to_string(),
            app_id: Some(new_id.clone()),
            backup_id: Some(self.backup_id.clone()),
            end: None,
        }));
        task::follow(op, c, &new_id, &t, &format!("reinstall {}", a.fqdn))
            .await
            .map_err(|e| {
                task::judge_failure(
                    e,
                    &a.fqdn,
                    Some(format!("matelot app uninstall {}", a.fqdn)),
                )
            })?;
        match c.get_app(&new_id).await {
            Ok(app) if !app.is_busy() && app.error.is_none() => Ok(Applied::done(format!(
                "{} installed again from backup {} (new app id {new_id}, {})",
                app.fqdn,
                self.backup_id,
                app.state_label()
            ))),
            Ok(app) => Err(Failure::Changed {
                error: Error::failed(format!(
                    "after the install task {t}, {} is {}",
                    app.fqdn,
                    app.state_label()
                )),
                state: format!("{} is {}", app.fqdn, app.state_label()),
                way_back: Some(format!("matelot app uninstall {}", app.fqdn)),
            }),
            Err(e) => Err(Failure::unknown(e)),
        }
    }
}

//! App backups: `app backup` as a change of its own, and the verified app restore point every
//! destructive app change takes first (a backup whose task succeeded, listed afterwards,
//! labelled "matelot op N: before ..." and preserved past retention, all checked).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;

use super::task;
use crate::cloudron::ops::{self, KeepOptions, VerifiedBackup};
use crate::cloudron::{Client, CloudronError};
use crate::core::guard::Tier;
use crate::error::Error;
use crate::exec::action::{Action, Applied, Failure, OpCtx};
use crate::journal::{
    AppBackupPlan, AppBackupPoint, AppRef, OpPlan, OpResult, RestorePoint, TaskRecord,
};

/// Back up `app`, verify it, label it "matelot op N: before WHY" and preserve it.
pub async fn take_point(
    op: &OpCtx<'_>,
    client: &Client,
    app: &AppRef,
    preserve: Duration,
    why: &str,
) -> Result<RestorePoint, Error> {
    let keep = KeepOptions {
        label: Some(format!("matelot op {}: before {why}", op.id)),
        preserve: Some(preserve),
    };
    let progress = op.progress(&format!("restore point for {}", app.fqdn));
    let note = |t: &crate::cloudron::models::TaskId| {
        op.note(&format!("restore point: backup task {t} started"));
    };
    let v = ops::backup_app(
        client,
        &app.app_id,
        &keep,
        progress.as_ref(),
        client.task_timeout(),
        &note,
    )
    .await?;
    Ok(RestorePoint::AppBackup(AppBackupPoint {
        backup_id: v.backup.id.clone(),
        app_id: app.app_id.clone(),
        fqdn: app.fqdn.clone(),
        task_id: Some(v.task_id.to_string()),
        label: Some(v.backup.label.clone()),
        preserve_secs: Some(v.backup.preserve_secs),
        creation_time: v.backup.creation_time.map(|t| t.to_rfc3339()),
    }))
}

/// `app backup`: one verified backup, optionally labelled and preserved.
pub struct AppBackup {
    pub client: Client,
    pub plan: AppBackupPlan,
    /// The verified backup, for the command's report.
    pub verified: Arc<Mutex<Option<VerifiedBackup>>>,
}

#[async_trait]
impl Action for AppBackup {
    fn plan(&self) -> OpPlan {
        OpPlan::AppBackup(self.plan.clone())
    }

    fn target(&self) -> String {
        self.plan.fqdn.clone()
    }

    fn tier(&self) -> Tier {
        Tier::Mild
    }

    async fn apply(&self, op: &OpCtx<'_>, _rp: Option<&RestorePoint>) -> Result<Applied, Failure> {
        let p = &self.plan;
        let keep = KeepOptions {
            label: p.label.clone(),
            preserve: p
                .keep_days
                .map(|d| Duration::from_secs(u64::from(d) * 86_400)),
        };
        let progress = op.progress(&format!("backup {}", p.fqdn));
        let record =
            |t: &crate::cloudron::models::TaskId| task::record(op, t, Some(&p.app_id), None);
        let c = &self.client;
        let v = ops::backup_app(
            c,
            &p.app_id,
            &keep,
            progress.as_ref(),
            c.task_timeout(),
            &record,
        )
        .await
        .map_err(|e| match e {
            CloudronError::Transport { .. } | CloudronError::Timeout { .. } => Failure::unknown(e),
            // A backup that failed or cannot be verified changed nothing live.
            other => Failure::NotApplied(other.into()),
        })?;
        op.record(OpResult::Task(TaskRecord {
            task_id: v.task_id.to_string(),
            app_id: Some(p.app_id.clone()),
            backup_id: Some(v.backup.id.clone()),
            end: Some("success".into()),
        }));
        let summary = format!("backup {} of {} verified", v.backup.id, p.fqdn);
        if let Ok(mut slot) = self.verified.lock() {
            *slot = Some(v);
        }
        Ok(Applied::done(summary))
    }
}

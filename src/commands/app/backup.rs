//! `matelot app backup APP [--label L] [--keep-days N]`: a verified backup, through the one
//! path (mild: no prompt; journalled with its task and the backup it made).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{AppView, check_report, human};
use crate::Ctx;
use crate::cli::app::BackupArgs;
use crate::cloudron::ops::KeepOptions;
use crate::error::{Error, Result};
use crate::exec::app::AppBackup;
use crate::exec::{Batch, Consent, outcome};
use crate::journal::AppBackupPlan;

pub async fn backup(ctx: &Ctx, args: BackupArgs) -> Result<()> {
    let c = ctx.world()?.cloudron()?;
    let app = super::facts::resolve_app(c, &args.app).await?;
    let who = format!("{} ({})", app.fqdn, app.name());
    let keep = KeepOptions {
        label: args.label.clone(),
        preserve: args
            .keep_days
            .map(|d| Duration::from_secs(u64::from(d) * 86_400)),
    };
    if ctx.check() {
        let plan = format!(
            "would back up {who}: POST /api/v1/apps/{}/backup, wait for the task (up to {}), \
             verify the new backup is listed{}",
            app.id,
            human(c.task_timeout()),
            keep_text(&keep)
        );
        return check_report(ctx, &app, "backup", &plan);
    }
    let run = ctx.begin_run().await?;
    let verified = Arc::new(Mutex::new(None));
    let action = AppBackup {
        client: c.clone(),
        plan: AppBackupPlan {
            app_id: app.id.clone(),
            fqdn: app.fqdn.clone(),
            label: args.label.clone(),
            keep_days: args.keep_days,
        },
        verified: Arc::clone(&verified),
    };
    let done = run
        .execute(Batch::one(action, Consent::default(), ""))
        .await?
        .unwrap_or_default();
    outcome(&done)?;
    let v = verified
        .lock()
        .ok()
        .and_then(|mut s| s.take())
        .ok_or_else(|| Error::failed("the backup was made but its record is missing"))?;
    if ctx.out.json {
        ctx.out.json(&serde_json::json!({
            "app": AppView::of(&app),
            "taskId": v.task_id,
            "backup": v.backup,
            "operation": done.first().map(|e| e.op),
        }))?;
        return Ok(());
    }
    ctx.out.info(format!(
        "{who}: backup {} verified (listed by the Cloudron{})",
        v.backup.id,
        keep_text(&keep)
    ));
    ctx.out.line(&v.backup.id)?;
    Ok(())
}

/// ", labelled "x", kept at least 30 days" (or nothing).
pub fn keep_text(keep: &KeepOptions) -> String {
    let mut s = String::new();
    if let Some(l) = &keep.label {
        s.push_str(&format!(", labelled {l:?}"));
    }
    if let Some(p) = keep.preserve {
        s.push_str(&format!(", kept at least {}", human(p)));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_options_are_described() {
        let k = KeepOptions {
            label: Some("before upgrade".into()),
            preserve: Some(Duration::from_secs(30 * 86_400)),
        };
        assert_eq!(
            keep_text(&k),
            ", labelled \"before upgrade\", kept at least 30 days"
        );
        assert_eq!(keep_text(&KeepOptions::default()), "");
    }
}

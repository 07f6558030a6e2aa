//! `matelot app restore APP [--backup ID] [--confirm FQDN]`: severe, it overwrites live data.
//! The data there now is saved first (a verified restore point), so `matelot undo N` can put
//! it back.

use super::facts::{impact, pick_backup, resolve_severe};
use super::human;
use super::uninstall::finish;
use crate::Ctx;
use crate::core::guard::Tier;
use crate::error::Result;
use crate::exec::app::{Restore, protected_by};
use crate::exec::{Batch, Consent, outcome};
use crate::journal::AppRestorePlan;
use crate::output::impact::Impact;

pub async fn restore(
    ctx: &Ctx,
    query: &str,
    wanted: Option<&str>,
    confirm: Option<&str>,
) -> Result<()> {
    let c = ctx.world()?.cloudron()?;
    let run = ctx.begin_run().await?;
    let (app, note) = resolve_severe(ctx, c, query).await?;
    let backups = c.list_app_backups(&app.id).await?;
    let from = pick_backup(&backups, wanted, &app.fqdn)?.clone();
    let mut lines = impact(c, &app, &backups).await;
    lines.extend(note.map(|n| ("Note".to_string(), n)));
    lines.push((
        "Restore from".into(),
        format!(
            "{} ({}{})",
            from.id,
            from.creation_time.map_or_else(
                || "time unknown".into(),
                |t| t.format("%Y-%m-%d %H:%M UTC").to_string()
            ),
            if from.label.is_empty() {
                String::new()
            } else {
                format!(", {:?}", from.label)
            }
        ),
    ));
    let cfg = ctx.config()?;
    let protected = match run.journal() {
        Some(j) => protected_by(cfg, j, &app)?,
        None => None,
    };
    let shown = Impact {
        kind: "app.restore".into(),
        target: app.fqdn.clone(),
        tier: Tier::Severe,
        confirm: app.fqdn.clone(),
        lines,
        steps: vec![
            format!(
                "restore point: POST /api/v1/apps/{}/backup, wait, check it is listed, label it \
                 \"matelot op N: before restore\" and preserve it {} (checked)",
                app.id,
                human(cfg.guard.preserve)
            ),
            format!(
                "restore: POST /api/v1/apps/{}/restore {{\"backupId\": \"{}\"}} (the data there \
                 now is overwritten), wait, check the app",
                app.id, from.id
            ),
            "journal: the operation, its restore point and `matelot undo N`".into(),
        ],
        protected: protected.clone(),
    };
    if run.is_check() {
        shown.print_check(&ctx.out)?;
        return Ok(());
    }
    shown.announce(&ctx.out);
    let action = Restore {
        client: c.clone(),
        plan: AppRestorePlan {
            app_id: app.id.clone(),
            fqdn: app.fqdn.clone(),
            backup_id: from.id.clone(),
        },
        preserve: cfg.guard.preserve,
        protected,
        undoes: None,
    };
    let consent = Consent {
        yes: false,
        confirm: confirm.map(str::to_string).into_iter().collect(),
    };
    let done = run
        .execute(Batch::one(action, consent, ""))
        .await?
        .unwrap_or_default();
    finish(ctx, &app, &done)?;
    outcome(&done)
}

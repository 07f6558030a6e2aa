//! `matelot app uninstall APP [--confirm FQDN]`: severe. Shows what would be lost, then the
//! one path: the exact FQDN typed (or `--confirm`), a verified restore point, the uninstall,
//! the journal with `matelot undo N`. An app named only by its title is refused.

use super::facts::{impact, resolve_severe};
use super::{AppView, human};
use crate::Ctx;
use crate::cloudron::models::App;
use crate::core::guard::Tier;
use crate::error::Result;
use crate::exec::app::{Uninstall, protected_by};
use crate::exec::{Batch, Consent, Executed, outcome};
use crate::journal::AppUninstallPlan;
use crate::output::impact::Impact;

/// What undo needs to put an uninstalled app back where it was.
pub fn uninstall_plan(app: &App) -> AppUninstallPlan {
    // Pinned to the version that was running, so the backup is restored into the same package.
    let base = if app.app_store_id.is_empty() {
        app.manifest.id.as_str()
    } else {
        app.app_store_id.split('@').next().unwrap_or_default()
    };
    let store_id = if app.manifest.version.is_empty() {
        base.to_string()
    } else {
        format!("{base}@{}", app.manifest.version)
    };
    AppUninstallPlan {
        app_id: app.id.clone(),
        fqdn: app.fqdn.clone(),
        subdomain: app.subdomain.clone(),
        domain: app.domain.clone(),
        app_store_id: store_id,
        manifest_id: app.manifest.id.clone(),
        version: app.manifest.version.clone(),
        label: app.label.clone(),
        access_restriction: app.access_restriction.clone(),
    }
}

pub async fn uninstall(ctx: &Ctx, query: &str, confirm: Option<&str>) -> Result<()> {
    let c = ctx.world()?.cloudron()?;
    let run = ctx.begin_run().await?;
    let (app, note) = resolve_severe(ctx, c, query).await?;
    let backups = c.list_app_backups(&app.id).await?;
    let mut lines = impact(c, &app, &backups).await;
    lines.extend(note.map(|n| ("Note".to_string(), n)));
    let cfg = ctx.config()?;
    let protected = match run.journal() {
        Some(j) => protected_by(cfg, j, &app)?,
        None => None,
    };
    let shown = Impact {
        kind: "app.uninstall".into(),
        target: app.fqdn.clone(),
        tier: Tier::Severe,
        confirm: app.fqdn.clone(),
        lines,
        steps: vec![
            format!(
                "restore point: POST /api/v1/apps/{}/backup, wait for the task (up to {}), check \
                 the new backup is listed, label it \"matelot op N: before uninstall\" and \
                 preserve it {} (checked)",
                app.id,
                human(c.task_timeout()),
                human(cfg.guard.preserve)
            ),
            format!(
                "uninstall: POST /api/v1/apps/{}/uninstall, wait for the task, check the app is gone",
                app.id
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
    let action = Uninstall {
        client: c.clone(),
        plan: uninstall_plan(&app),
        preserve: cfg.guard.preserve,
        protected,
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

/// Print what a guarded app change did: one JSON document, or the summary line, the restore
/// point and the undo hint.
pub fn finish(ctx: &Ctx, app: &App, done: &[Executed]) -> Result<()> {
    let Some(o) = done.first() else { return Ok(()) };
    if ctx.out.json {
        ctx.out
            .json(&serde_json::json!({ "operation": o, "app": AppView::of(app) }))?;
        return Ok(());
    }
    if !o.status.changed_something() {
        return Ok(());
    }
    ctx.out.line(format!("operation {}: {}", o.op, o.summary))?;
    if let Some(rp) = &o.restore_point {
        ctx.out.line(format!("restore point: {}", rp.describe()))?;
    }
    if let Some(undo) = &o.undo {
        ctx.out.line(format!("undo: {undo}"))?;
    }
    Ok(())
}

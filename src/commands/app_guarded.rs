//! `matelot app uninstall|restore|protect|unprotect`: the destructive app commands, through
//! the one guard (`exec::guard`). Each gathers the facts (the app, its newest backup, who can
//! reach it, whether it is protected), describes the change, and hands the guard the two steps
//! that touch the Cloudron: a verified, labelled, preserved backup, then the call itself.
//!
//! Nothing here sends a destructive request on its own: the order (confirm, journal, restore
//! point, call, journal) belongs to the guard. An app named only by its title is refused: a
//! severe command needs an id, FQDN, subdomain or URL.

use serde_json::{Value, json};

use super::app::{AppView, Session, human};
pub use super::app_facts::{
    APP_BACKUP, classify, follow, impact, judge, prepare, protection, resolve_severe,
    take_app_point,
};
use super::app_protect::{protect, unprotect};
use crate::Ctx;
use crate::cli::app::AppCmd;
use crate::cloudron::models::{App, Backup};
use crate::cloudron::{CloudronError, Lifecycle};
use crate::core::guard::Tier;
use crate::error::{Error, Result};
use crate::exec::guard::{self, Applied, Destructive, Guarded, Outcome};
use crate::journal::{OpId, RestorePoint};

pub fn run(ctx: &Ctx, s: &Session, cmd: AppCmd) -> Result<()> {
    match cmd {
        AppCmd::Uninstall(a) => uninstall(ctx, s, &a.app, a.confirm.as_deref()),
        AppCmd::Restore(a) => restore(ctx, s, &a.app, a.backup.as_deref(), a.confirm.as_deref()),
        AppCmd::Protect(a) => protect(ctx, s, &a.app),
        AppCmd::Unprotect(a) => unprotect(ctx, s, &a.app, a.yes),
        _ => Err(Error::usage("not a guarded app command")),
    }
}

struct Uninstall<'a> {
    ctx: &'a Ctx,
    s: &'a Session,
    app: &'a App,
}

impl Destructive for Uninstall<'_> {
    fn restore_point(&mut self, op: OpId) -> Result<Option<RestorePoint>> {
        take_app_point(self.ctx, self.s, self.app, op, "uninstall").map(Some)
    }

    fn apply(
        &mut self,
        _op: OpId,
        _rp: Option<&RestorePoint>,
    ) -> std::result::Result<String, Applied> {
        let (s, app) = (self.s, self.app);
        let task = s
            .block_on(s.client.app_lifecycle(&app.id, Lifecycle::Uninstall))
            .map_err(|e| classify(s, &app.id, e))?;
        follow(self.ctx, s, &format!("uninstall {}", app.fqdn), &task)?;
        match s.block_on(s.client.get_app(&app.id)) {
            Err(CloudronError::NotFound { .. }) => Ok(format!("{} uninstalled", app.fqdn)),
            Ok(a) => Err(Applied::NotApplied(Error::failed(format!(
                "the uninstall task {task} ended but {} is still there ({})",
                a.fqdn,
                a.state_label()
            )))),
            Err(e) => Err(Applied::Unknown(e.into())),
        }
    }
}

/// What undo needs to put an uninstalled app back where it was.
pub fn uninstall_plan(app: &App) -> Value {
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
    json!({
        "change": "app.uninstall",
        "app_id": app.id,
        "fqdn": app.fqdn,
        "subdomain": app.subdomain,
        "domain": app.domain,
        "app_store_id": store_id,
        "manifest_id": app.manifest.id,
        "version": app.manifest.version,
        "label": app.label,
        "access_restriction": app.access_restriction,
    })
}

fn uninstall(ctx: &Ctx, s: &Session, query: &str, confirm: Option<&str>) -> Result<()> {
    let (_lock, journal) = prepare(ctx, s)?;
    let (app, note) = resolve_severe(ctx, s, query)?;
    let backups = s.block_on(s.client.list_app_backups(&app.id))?;
    let mut impact = impact(s, &app, &backups);
    impact.extend(note.map(|n| ("Note".to_string(), n)));
    let timeout = s.client.task_timeout();
    let preserve = ctx.config()?.guard.preserve;
    let g = Guarded {
        kind: "app.uninstall".into(),
        target: app.fqdn.clone(),
        confirm_name: app.fqdn.clone(),
        tier: Tier::Severe,
        impact,
        steps: vec![
            format!(
                "restore point: POST /api/v1/apps/{}/backup, wait for the task (up to {}), check \
                 the new backup is listed, label it \"matelot op N: before uninstall\" and \
                 preserve it {} (checked)",
                app.id,
                human(timeout),
                human(preserve)
            ),
            format!(
                "uninstall: POST /api/v1/apps/{}/uninstall, wait for the task, check the app is gone",
                app.id
            ),
            "journal: the operation, its restore point and `matelot undo N`".into(),
        ],
        planned: uninstall_plan(&app),
        protected: protection(ctx, &journal, &app)?,
    };
    let mut action = Uninstall { ctx, s, app: &app };
    let outcome = guard::run(ctx, &journal, &g, false, confirm, &mut action)?;
    finish(ctx, &app, outcome)
}

struct Restore<'a> {
    ctx: &'a Ctx,
    s: &'a Session,
    app: &'a App,
    backup_id: String,
    why: &'a str,
}

impl Destructive for Restore<'_> {
    fn restore_point(&mut self, op: OpId) -> Result<Option<RestorePoint>> {
        take_app_point(self.ctx, self.s, self.app, op, self.why).map(Some)
    }

    fn apply(
        &mut self,
        _op: OpId,
        _rp: Option<&RestorePoint>,
    ) -> std::result::Result<String, Applied> {
        restore_to(self.ctx, self.s, self.app, &self.backup_id)
    }
}

/// `POST /apps/:id/restore`, wait, check the app is installed again.
pub fn restore_to(
    ctx: &Ctx,
    s: &Session,
    app: &App,
    backup_id: &str,
) -> std::result::Result<String, Applied> {
    let task = s
        .block_on(s.client.restore_app(&app.id, backup_id))
        .map_err(|e| classify(s, &app.id, e))?;
    follow(ctx, s, &format!("restore {}", app.fqdn), &task)?;
    match s.block_on(s.client.get_app(&app.id)) {
        Ok(a) if !a.is_busy() && a.error.is_none() => Ok(format!(
            "{} restored from {backup_id} ({})",
            a.fqdn,
            a.state_label()
        )),
        Ok(a) => Err(Applied::Unknown(Error::failed(format!(
            "after the restore task {task}, {} is {}",
            a.fqdn,
            a.state_label()
        )))),
        Err(e) => Err(Applied::Unknown(e.into())),
    }
}

/// The app's newest complete backup, or the one named (which must be the app's).
pub fn pick_backup<'a>(
    backups: &'a [Backup],
    wanted: Option<&str>,
    fqdn: &str,
) -> Result<&'a Backup> {
    match wanted {
        Some(id) => backups.iter().find(|b| b.id == id).ok_or_else(|| {
            Error::usage(format!(
                "backup {id:?} is not one of {fqdn}'s backups (`matelot backup list --app {fqdn}`)"
            ))
        }),
        None => backups
            .iter()
            .filter(|b| b.is_complete())
            .max_by_key(|b| b.creation_time)
            .ok_or_else(|| Error::failed(format!("{fqdn} has no backup to restore from"))),
    }
}

fn restore(
    ctx: &Ctx,
    s: &Session,
    query: &str,
    wanted: Option<&str>,
    confirm: Option<&str>,
) -> Result<()> {
    let (_lock, journal) = prepare(ctx, s)?;
    let (app, note) = resolve_severe(ctx, s, query)?;
    let backups = s.block_on(s.client.list_app_backups(&app.id))?;
    let from = pick_backup(&backups, wanted, &app.fqdn)?.clone();
    let mut impact = impact(s, &app, &backups);
    impact.extend(note.map(|n| ("Note".to_string(), n)));
    impact.push((
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
    let g = Guarded {
        kind: "app.restore".into(),
        target: app.fqdn.clone(),
        confirm_name: app.fqdn.clone(),
        tier: Tier::Severe,
        impact,
        steps: vec![
            format!(
                "restore point: POST /api/v1/apps/{}/backup, wait, check it is listed, label it \
                 \"matelot op N: before restore\" and preserve it {} (checked)",
                app.id,
                human(ctx.config()?.guard.preserve)
            ),
            format!(
                "restore: POST /api/v1/apps/{}/restore {{\"backupId\": \"{}\"}} (the data there now is overwritten), wait, check the app",
                app.id, from.id
            ),
            "journal: the operation, its restore point and `matelot undo N`".into(),
        ],
        planned: json!({
            "change": "app.restore",
            "app_id": app.id,
            "fqdn": app.fqdn,
            "backup_id": from.id,
        }),
        protected: protection(ctx, &journal, &app)?,
    };
    let mut action = Restore {
        ctx,
        s,
        app: &app,
        backup_id: from.id.clone(),
        why: "restore",
    };
    let outcome = guard::run(ctx, &journal, &g, false, confirm, &mut action)?;
    finish(ctx, &app, outcome)
}

/// Print the outcome: one JSON document, or the summary line and the undo hint.
pub fn finish(ctx: &Ctx, app: &App, outcome: Option<Outcome>) -> Result<()> {
    let Some(o) = outcome else { return Ok(()) };
    if ctx.out.json {
        ctx.out
            .json(&json!({ "operation": o, "app": AppView::of(app) }))?;
        return Ok(());
    }
    ctx.out.line(format!("operation {}: {}", o.op, o.summary))?;
    if let Some(rp) = &o.restore_point {
        ctx.out
            .line(format!("restore point: {} {}", rp.kind, rp.id))?;
    }
    if !o.undo.is_empty() {
        ctx.out.line(format!("undo: {}", o.undo))?;
    }
    Ok(())
}

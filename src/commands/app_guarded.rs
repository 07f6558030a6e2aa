//! `matelot app uninstall|restore|protect|unprotect`: the destructive app commands, through
//! the one guard (`exec::guard`). Each gathers the facts (the app, its newest backup, who can
//! reach it, whether it is protected), describes the change, and hands the guard the two steps
//! that touch the Cloudron: a verified, labelled, preserved backup, then the call itself.
//!
//! Nothing here sends a destructive request on its own: the order (confirm, journal, restore
//! point, call, journal) belongs to the guard. An app named only by its title is refused: a
//! severe command needs an id, FQDN, subdomain or URL.

use chrono::Utc;
use serde_json::{Value, json};

use super::app::{AppView, Session, confirm, human};
use crate::Ctx;
use crate::cli::app::AppCmd;
use crate::cloudron::models::{App, Backup};
use crate::cloudron::ops::{self, KeepOptions};
use crate::cloudron::{CloudronError, Lifecycle, MatchedBy, resolve};
use crate::core::guard::Tier;
use crate::error::{Error, Result};
use crate::exec::guard::{self, Applied, Destructive, Guarded, Outcome};
use crate::exec::reconcile::{self, Verdict};
use crate::journal::{Journal, OpId, Operation, RestorePoint};

/// The restore point kind of an app backup taken by the guard.
pub const APP_BACKUP: &str = "cloudron.app_backup";

pub fn run(ctx: &Ctx, s: &Session, cmd: AppCmd) -> Result<()> {
    match cmd {
        AppCmd::Uninstall(a) => uninstall(ctx, s, &a.app, a.confirm.as_deref()),
        AppCmd::Restore(a) => restore(ctx, s, &a.app, a.backup.as_deref(), a.confirm.as_deref()),
        AppCmd::Protect(a) => protect(ctx, s, &a.app),
        AppCmd::Unprotect(a) => unprotect(ctx, s, &a.app, a.yes),
        _ => Err(Error::usage("not a guarded app command")),
    }
}

/// Take the run lock (not under `--check`), open the journal and settle interrupted app
/// operations against the server. The lock guard must live as long as the command.
pub fn prepare(ctx: &Ctx, s: &Session) -> Result<(Option<crate::lock::RunLock>, Journal)> {
    let lock = if ctx.global.check {
        None
    } else {
        Some(ctx.run_lock()?)
    };
    let journal = ctx.journal()?;
    if !ctx.global.check {
        let apps = s.block_on(s.client.list_apps())?;
        reconcile::settle(ctx, &journal, |op| judge(op, &apps))?;
    }
    Ok((lock, journal))
}

/// What the app list says about an interrupted app operation.
pub fn judge(op: &Operation, apps: &[App]) -> Verdict {
    let id = op.planned["app_id"].as_str().unwrap_or_default();
    let app = apps.iter().find(|a| a.id == id);
    match op.kind.as_str() {
        "app.uninstall" => match app {
            None => Verdict::Applied(format!("app {id} is gone: the uninstall did happen")),
            Some(a) if a.is_busy() => {
                Verdict::Unknown(format!("{} is busy ({})", a.fqdn, a.state_label()))
            }
            Some(a) => Verdict::NotApplied(format!("{} is still installed", a.fqdn)),
        },
        "app.restore" => match app {
            Some(a) if !a.is_busy() && op.restore_point.is_none() => Verdict::NotApplied(format!(
                "no restore point was recorded, so no restore was sent; {} is {}",
                a.fqdn,
                a.state_label()
            )),
            Some(a) => Verdict::Unknown(format!(
                "{} is {}; whether its data was overwritten cannot be told from the server",
                a.fqdn,
                a.state_label()
            )),
            None => Verdict::Unknown(format!("app {id} is no longer installed")),
        },
        _ => Verdict::Skip,
    }
}

/// Resolve APP for a severe command: exactly one app, named by id, FQDN, subdomain or URL.
/// Under `--check` a title match is shown (with a note), since nothing will be changed.
pub fn resolve_severe(ctx: &Ctx, s: &Session, query: &str) -> Result<(App, Option<String>)> {
    let apps = s.block_on(s.client.list_apps())?;
    let r = resolve(&apps, query)?;
    let mut note = None;
    if r.by == MatchedBy::Name {
        let why = format!(
            "{query:?} matched {} by its title or label only; a destructive command needs the \
             app's id, FQDN, subdomain or URL (e.g. {})",
            r.app.fqdn, r.app.fqdn
        );
        if !ctx.global.check {
            return Err(Error::usage(why));
        }
        note = Some(why);
    }
    Ok((s.block_on(s.client.get_app(&r.app.id))?, note))
}

/// Why `app` is protected, if it is (the configuration first, then the journal).
pub fn protection(ctx: &Ctx, journal: &Journal, app: &App) -> Result<Option<String>> {
    let cfg = ctx.config()?;
    let names = [&app.id, &app.fqdn, &app.subdomain];
    if let Some(cc) = &cfg.cloudron
        && let Some(p) = cc
            .protect
            .iter()
            .find(|p| names.iter().any(|n| n.eq_ignore_ascii_case(p.trim())))
    {
        return Ok(Some(format!(
            "{} is protected by the configuration ([cloudron] protect = [{p:?}]); remove it \
             from there first if you really mean it",
            app.fqdn
        )));
    }
    if journal.is_protected(&app.fqdn)? {
        return Ok(Some(format!(
            "{} is protected (`matelot app protect`); run `matelot app unprotect {}` first if \
             you really mean it",
            app.fqdn, app.fqdn
        )));
    }
    Ok(None)
}

/// The impact lines of an app: what would be lost, and who would notice.
pub fn impact(s: &Session, app: &App, backups: &[Backup]) -> Vec<(String, String)> {
    let m = &app.manifest;
    let last = backups
        .iter()
        .filter(|b| b.is_complete())
        .max_by_key(|b| b.creation_time);
    let last = match last {
        Some(b) => format!(
            "{} ({} ago)",
            b.id,
            b.age(Utc::now())
                .map_or_else(|| "age unknown".into(), human)
        ),
        None => "none".to_string(),
    };
    vec![
        ("App".into(), format!("{} {}", app.name(), m.version)),
        ("FQDN".into(), app.fqdn.clone()),
        ("Id".into(), app.id.clone()),
        ("State".into(), app.state_label()),
        ("Last backup".into(), last),
        ("Users with access".into(), access_text(s, app)),
    ]
}

fn access_text(s: &Session, app: &App) -> String {
    let Some(r) = &app.access_restriction else {
        return "every user of the Cloudron".to_string();
    };
    let users = s.block_on(s.client.list_users()).unwrap_or_default();
    let groups = s.block_on(s.client.list_groups()).unwrap_or_default();
    let mut names: Vec<String> = r
        .users
        .iter()
        .map(|id| {
            users
                .iter()
                .find(|u| &u.id == id)
                .and_then(|u| u.username.clone())
                .unwrap_or_else(|| id.clone())
        })
        .collect();
    names.extend(r.groups.iter().map(|id| {
        let g = groups.iter().find(|g| &g.id == id);
        match g {
            Some(g) => format!("group {} ({} members)", g.name, g.user_ids.len()),
            None => format!("group {id}"),
        }
    }));
    if names.is_empty() {
        "nobody (an empty access list)".to_string()
    } else {
        names.join(", ")
    }
}

/// Back up `app_id`, verify it is listed, label it "matelot op N: before WHY" and preserve it.
pub fn take_app_point(
    ctx: &Ctx,
    s: &Session,
    app: &App,
    op: OpId,
    why: &str,
) -> Result<RestorePoint> {
    let preserve = ctx.config()?.guard.preserve;
    let keep = KeepOptions {
        label: Some(format!("matelot op {op}: before {why}")),
        preserve: Some(preserve),
    };
    let progress = ctx.out.progress(&format!("restore point for {}", app.fqdn));
    let v = s.block_on(ops::backup_app(
        &s.client,
        &app.id,
        &keep,
        progress.as_ref(),
        s.client.task_timeout(),
    ))?;
    Ok(RestorePoint {
        kind: APP_BACKUP.into(),
        id: v.backup.id.clone(),
        details: json!({
            "app_id": app.id,
            "fqdn": app.fqdn,
            "task_id": v.task_id,
            "label": v.backup.label,
            "preserve_secs": v.backup.preserve_secs,
            "creation_time": v.backup.creation_time,
        }),
    })
}

/// Sort a failed destructive POST: a refusal or server error with the app unchanged is "not
/// applied"; a lost connection, or an app that moved, is "unknown".
pub fn classify(s: &Session, app_id: &str, e: CloudronError) -> Applied {
    let sent_maybe = matches!(
        e,
        CloudronError::Transport { .. } | CloudronError::Timeout { .. }
    );
    if sent_maybe {
        return Applied::Unknown(e.into());
    }
    match s.block_on(s.client.get_app(app_id)) {
        Ok(a) if !a.is_busy() => Applied::NotApplied(e.into()),
        _ => Applied::Unknown(e.into()),
    }
}

/// Wait for the task a destructive POST started; a lost sight of it is "unknown".
pub fn follow(
    ctx: &Ctx,
    s: &Session,
    what: &str,
    task: &crate::cloudron::models::TaskId,
) -> std::result::Result<(), Applied> {
    let progress = ctx.out.progress(what);
    s.block_on(
        s.client
            .wait_task(task, progress.as_ref(), s.client.task_timeout()),
    )
    .map(|_| ())
    .map_err(|e| match e {
        CloudronError::TaskFailed { .. } => Applied::NotApplied(e.into()),
        other => Applied::Unknown(other.into()),
    })
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

fn protect(ctx: &Ctx, s: &Session, query: &str) -> Result<()> {
    let (app, _) = resolve_severe(ctx, s, query)?;
    if ctx.global.check {
        return super::app::check_report(
            ctx,
            &app,
            "protect",
            &format!("would protect {}", app.fqdn),
        );
    }
    let _lock = ctx.run_lock()?;
    let journal = ctx.journal()?;
    let added = journal.protect(&app.fqdn, Some(&format!("app {}", app.id)))?;
    let line = if added {
        format!(
            "{} is now protected: uninstall and restore refuse it",
            app.fqdn
        )
    } else {
        format!("{} was already protected", app.fqdn)
    };
    report(ctx, &app, "protect", added, &line)
}

fn unprotect(ctx: &Ctx, s: &Session, query: &str, yes: bool) -> Result<()> {
    let (app, _) = resolve_severe(ctx, s, query)?;
    let _lock = if ctx.global.check {
        None
    } else {
        Some(ctx.run_lock()?)
    };
    let journal = ctx.journal()?;
    let in_journal = journal.is_protected(&app.fqdn)?;
    if !in_journal {
        if let Some(why) = protection(ctx, &journal, &app)? {
            return Err(Error::refused(format!(
                "{why} (`app unprotect` only removes protections set with `app protect`)"
            )));
        }
        return report(
            ctx,
            &app,
            "unprotect",
            false,
            &format!("{} was not protected", app.fqdn),
        );
    }
    if ctx.global.check {
        return super::app::check_report(
            ctx,
            &app,
            "unprotect",
            &format!("would unprotect {}", app.fqdn),
        );
    }
    confirm(
        ctx,
        yes,
        &format!(
            "Unprotect {}? Uninstall and restore will then be possible",
            app.fqdn
        ),
    )?;
    journal.unprotect(&app.fqdn)?;
    let mut line = format!("{} is no longer protected (by `app protect`)", app.fqdn);
    if let Some(why) = protection(ctx, &journal, &app)? {
        line.push_str(&format!("; still: {why}"));
    }
    report(ctx, &app, "unprotect", true, &line)
}

fn report(ctx: &Ctx, app: &App, action: &str, changed: bool, line: &str) -> Result<()> {
    if ctx.out.json {
        ctx.out
            .json(&json!({"action": action, "changed": changed, "app": AppView::of(app)}))?;
    } else {
        ctx.out.line(line)?;
    }
    Ok(())
}

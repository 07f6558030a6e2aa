//! The facts and shared steps of the guarded app commands (uninstall, restore, their undo):
//! taking the lock and settling interrupted app operations, resolving APP strictly, reading
//! protections, the impact lines, the verified app restore point, and how a failed destructive
//! call is classified. No command logic and no destructive request here.

use chrono::Utc;
use serde_json::json;

use super::app::{Session, human};
use crate::Ctx;
use crate::cloudron::models::{App, Backup, TaskId};
use crate::cloudron::ops::{self, KeepOptions};
use crate::cloudron::{CloudronError, MatchedBy, resolve};
use crate::error::{Error, Result};
use crate::exec::guard::Applied;
use crate::exec::reconcile::{self, Verdict};
use crate::journal::{Journal, OpId, Operation, RestorePoint};

/// The restore point kind of an app backup taken by the guard.
pub const APP_BACKUP: &str = "cloudron.app_backup";

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
    task: &TaskId,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloudron::models::{InstallationState, RunState};
    use crate::journal::{Actor, OpId, ProcessId, Status};

    fn op(kind: &str, with_rp: bool) -> Operation {
        Operation {
            id: OpId(7),
            kind: kind.into(),
            target: "analytics.example.org".into(),
            status: Status::Interrupted,
            created_at: Utc::now(),
            started_at: None,
            finished_at: None,
            actor: Actor::current(),
            process: ProcessId::current(),
            command: vec![],
            planned: json!({"app_id": "a1"}),
            restore_point: with_rp.then(|| RestorePoint {
                kind: APP_BACKUP.into(),
                id: "b1".into(),
                details: json!({}),
            }),
            message: None,
            undo_hint: None,
        }
    }

    fn app(state: InstallationState) -> App {
        App {
            id: "a1".into(),
            fqdn: "analytics.example.org".into(),
            installation_state: state,
            run_state: RunState::Running,
            ..App::default()
        }
    }

    #[test]
    fn interrupted_app_operations_are_judged_by_what_the_server_shows() {
        let idle = vec![app(InstallationState::Installed)];
        let busy = vec![app(InstallationState::PendingUninstall)];
        let kind = |v: &Verdict| match v {
            Verdict::Applied(_) => "applied",
            Verdict::NotApplied(_) => "not applied",
            Verdict::Unknown(_) => "unknown",
            Verdict::Skip => "skip",
        };
        let rows: Vec<(&str, bool, &[App], &str)> = vec![
            ("app.uninstall", true, &[], "applied"),
            ("app.uninstall", true, &idle, "not applied"),
            ("app.uninstall", true, &busy, "unknown"),
            ("app.restore", false, &idle, "not applied"),
            ("app.restore", true, &idle, "unknown"),
            ("app.restore", true, &[], "unknown"),
            ("user.remove", true, &idle, "skip"),
        ];
        for (k, rp, apps, want) in rows {
            let got = judge(&op(k, rp), apps);
            assert_eq!(kind(&got), want, "{k} rp={rp} apps={}: {got:?}", apps.len());
        }
    }
}

//! `matelot app protect|unprotect`: protections kept in the journal, so they outlive a
//! configuration edit. `protect` is mild; `unprotect` is moderate (y/N, `--yes`) and cannot
//! lift a protection that lives in the configuration file (it says where that one is).

use serde_json::json;

use super::app::{AppView, Session, confirm};
use super::app_facts::{protection, resolve_severe};
use crate::Ctx;
use crate::cloudron::models::App;
use crate::error::{Error, Result};

pub fn protect(ctx: &Ctx, s: &Session, query: &str) -> Result<()> {
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

pub fn unprotect(ctx: &Ctx, s: &Session, query: &str, yes: bool) -> Result<()> {
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

//! `matelot app protect|unprotect APP`: protections kept in the journal, so they outlive a
//! configuration edit, changed through the one path. `protect` is mild; `unprotect` is
//! moderate (y/N, `--yes`) and cannot lift a protection that lives in the configuration file
//! (it says where that one is).

use super::facts::resolve_severe;
use super::{check_report, report};
use crate::Ctx;
use crate::error::{Error, Result};
use crate::exec::app::{Protection, protected_by};
use crate::exec::{Batch, Consent, outcome};
use crate::journal::AppRef;

pub async fn protect(ctx: &Ctx, query: &str) -> Result<()> {
    let c = ctx.world()?.cloudron()?;
    let (app, _) = resolve_severe(ctx, c, query).await?;
    if ctx.check() {
        return check_report(ctx, &app, "protect", &format!("would protect {}", app.fqdn));
    }
    let run = ctx.begin_run().await?;
    let action = Protection {
        app: AppRef {
            app_id: app.id.clone(),
            fqdn: app.fqdn.clone(),
        },
        protect: true,
        undoes: None,
    };
    let done = run
        .execute(Batch::one(action, Consent::default(), ""))
        .await?
        .unwrap_or_default();
    outcome(&done)?;
    let line = done.first().map(|e| e.summary.clone()).unwrap_or_default();
    report(ctx, &app, "protect", !line.contains("already"), &line)
}

pub async fn unprotect(ctx: &Ctx, query: &str, yes: bool) -> Result<()> {
    let c = ctx.world()?.cloudron()?;
    let (app, _) = resolve_severe(ctx, c, query).await?;
    let run = ctx.begin_run().await?;
    let cfg = ctx.config()?;
    let in_journal = match run.journal() {
        Some(j) => j.is_protected(&app.fqdn)?,
        None => false,
    };
    if !in_journal {
        if let Some(j) = run.journal()
            && let Some(why) = protected_by(cfg, j, &app)?
        {
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
    if run.is_check() {
        return check_report(
            ctx,
            &app,
            "unprotect",
            &format!("would unprotect {}", app.fqdn),
        );
    }
    let action = Protection {
        app: AppRef {
            app_id: app.id.clone(),
            fqdn: app.fqdn.clone(),
        },
        protect: false,
        undoes: None,
    };
    let consent = Consent {
        yes,
        ..Consent::default()
    };
    let question = format!(
        "Unprotect {}? Uninstall and restore will then be possible",
        app.fqdn
    );
    let done = run
        .execute(Batch::one(action, consent, question))
        .await?
        .unwrap_or_default();
    outcome(&done)?;
    let mut line = format!("{} is no longer protected (by `app protect`)", app.fqdn);
    if let Some(j) = run.journal()
        && let Some(why) = protected_by(cfg, j, &app)?
    {
        line.push_str(&format!("; still: {why}"));
    }
    report(ctx, &app, "unprotect", true, &line)
}

//! `matelot app ...`: the Cloudron's apps. One file per subcommand or concern: reading
//! (`list`, `show`), run-state changes (`lifecycle`), `backup`, the guarded `uninstall` and
//! `restore`, `protect`, and the facts the guarded ones gather (`facts`).
//!
//! Handlers resolve APP (exactly, or an error listing candidates), gather facts, say what they
//! would do under `--check`, and change things only through the one path (`exec::Run`).
//! Results are a table or lines for people, one JSON document with `--json`.

use std::time::Duration;

use serde::Serialize;

use crate::Ctx;
use crate::cli::app::AppCmd;
use crate::cloudron::models::App;
use crate::error::Result;

mod backup;
pub mod facts;
mod lifecycle;
mod list;
mod protect;
mod restore;
mod show;
mod uninstall;

pub use list::list_rows;
pub use show::show_lines;

/// An app as printed with `--json`: the typed fields plus the derived name and state.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppView<'a> {
    pub name: &'a str,
    pub state: String,
    #[serde(flatten)]
    pub app: &'a App,
}

impl<'a> AppView<'a> {
    pub fn of(app: &'a App) -> Self {
        AppView {
            name: app.name(),
            state: app.state_label(),
            app,
        }
    }
}

pub async fn run(ctx: &Ctx, cmd: AppCmd) -> Result<()> {
    match cmd {
        AppCmd::List => list::list(ctx).await,
        AppCmd::Show(a) => show::show(ctx, &a.app).await,
        AppCmd::Start(a) => lifecycle::start(ctx, &a.app).await,
        AppCmd::Stop(a) => lifecycle::stop(ctx, &a.app, a.yes).await,
        AppCmd::Restart(a) => lifecycle::restart(ctx, &a.app).await,
        AppCmd::Backup(a) => backup::backup(ctx, a).await,
        AppCmd::Uninstall(a) => uninstall::uninstall(ctx, &a.app, a.confirm.as_deref()).await,
        AppCmd::Restore(a) => {
            restore::restore(ctx, &a.app, a.backup.as_deref(), a.confirm.as_deref()).await
        }
        AppCmd::Protect(a) => protect::protect(ctx, &a.app).await,
        AppCmd::Unprotect(a) => protect::unprotect(ctx, &a.app, a.yes).await,
    }
}

/// One line for people, or `{action, changed, app}` with `--json`.
pub fn report(ctx: &Ctx, app: &App, action: &str, changed: bool, line: &str) -> Result<()> {
    if ctx.out.json {
        ctx.out.json(&serde_json::json!({
            "action": action,
            "changed": changed,
            "app": AppView::of(app),
        }))?;
    } else {
        ctx.out.line(line)?;
    }
    Ok(())
}

/// `--check`: say what would happen, as a line or a JSON document; change nothing.
pub fn check_report(ctx: &Ctx, app: &App, action: &str, plan: &str) -> Result<()> {
    if ctx.out.json {
        ctx.out.json(&serde_json::json!({
            "check": true,
            "action": action,
            "plan": plan,
            "app": AppView::of(app),
        }))?;
    } else {
        ctx.out.line(plan)?;
    }
    Ok(())
}

/// A duration for people: `30 days`, `1 day`, `1h`, `2m 30s`.
pub fn human(d: Duration) -> String {
    let secs = d.as_secs().max(1);
    match secs / 86_400 {
        1 if secs.is_multiple_of(86_400) => "1 day".to_string(),
        n if n > 1 && secs.is_multiple_of(86_400) => format!("{n} days"),
        _ => humantime::format_duration(Duration::from_secs(secs)).to_string(),
    }
}

fn dash(s: &str) -> String {
    if s.is_empty() {
        "-".to_string()
    } else {
        s.to_string()
    }
}

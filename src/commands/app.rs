//! `matelot app list|show|start|stop|restart|backup`: the Cloudron's apps.
//!
//! Handlers gather facts from the Cloudron, resolve the APP argument (exactly, or an error
//! listing candidates), say what they would do under `--check`, ask before a stop, then call
//! the verified operations of `cloudron::ops` under the run lock, with a journal row (kind
//! `app.stop`..., an undo hint, the backup as restore point) and render the result: a table or lines for
//! people, one JSON document with `--json`. The [`Session`] (a client and a small runtime) is
//! shared with `backup` and anyone else who talks to the Cloudron from a command.

use std::future::Future;
use std::time::Duration;

use anyhow::Context;
use serde::Serialize;

use crate::Ctx;
use crate::cli::app::{AppCmd, BackupArgs, StopArgs};
use crate::cloudron::models::App;
use crate::cloudron::ops::{self, KeepOptions};
use crate::cloudron::{Client, Lifecycle, resolve};
use crate::commands::recorded::Recorded;
use crate::error::{Error, Result};
use crate::journal::RestorePoint;

const NO_CLOUDRON: &str = "no Cloudron is configured: add a [cloudron] section with url and \
token_file to matelot.toml (or set MATELOT_CLOUDRON_URL and MATELOT_CLOUDRON_TOKEN)";

/// A Cloudron client plus the runtime its calls run on, for one command.
pub struct Session {
    rt: tokio::runtime::Runtime,
    pub client: Client,
}

impl Session {
    /// Connect (lazily: nothing is sent yet) to the configured Cloudron. Retries are reported
    /// on stderr; with `-v`, every request is.
    pub fn open(ctx: &Ctx) -> Result<Session> {
        let cfg = ctx.config()?;
        let cc = cfg
            .cloudron
            .as_ref()
            .ok_or_else(|| Error::Config(vec![NO_CLOUDRON.to_string()]))?;
        let out = ctx.out.clone();
        let client = Client::new(cc)?.with_trace(move |t| {
            if t.retry_in.is_some() {
                out.info(format!("cloudron: {t}"));
            } else {
                out.debug(format!("cloudron: {t}"));
            }
        });
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the async runtime")?;
        Ok(Session { rt, client })
    }

    /// Run a future to completion.
    pub fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    /// The app an APP argument designates (from the app list: a summary, not the detail).
    pub fn resolve_app(&self, query: &str) -> Result<App> {
        let apps = self.block_on(self.client.list_apps())?;
        Ok(resolve(&apps, query)?.app.clone())
    }
}

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

pub fn run(ctx: &Ctx, cmd: AppCmd) -> Result<()> {
    let s = Session::open(ctx)?;
    match cmd {
        AppCmd::List => list(ctx, &s),
        AppCmd::Show(a) => show(ctx, &s, &a.app),
        AppCmd::Start(a) => lifecycle(ctx, &s, &a.app, Lifecycle::Start, false),
        AppCmd::Stop(StopArgs { app, yes }) => lifecycle(ctx, &s, &app, Lifecycle::Stop, yes),
        AppCmd::Restart(a) => lifecycle(ctx, &s, &a.app, Lifecycle::Restart, false),
        AppCmd::Backup(args) => backup(ctx, &s, args),
        other => super::app_guarded::run(ctx, &s, other),
    }
}

fn list(ctx: &Ctx, s: &Session) -> Result<()> {
    let mut apps = s.block_on(s.client.list_apps())?;
    apps.sort_by(|a, b| a.fqdn.cmp(&b.fqdn).then_with(|| a.id.cmp(&b.id)));
    if ctx.out.json {
        let views: Vec<AppView> = apps.iter().map(AppView::of).collect();
        ctx.out.json(&serde_json::json!({ "apps": views }))?;
        return Ok(());
    }
    if apps.is_empty() {
        ctx.out.info("no apps are installed on this Cloudron");
    }
    ctx.out.table(&LIST_HEADERS, &list_rows(&apps))?;
    Ok(())
}

const LIST_HEADERS: [&str; 5] = ["APP", "FQDN", "STATE", "HEALTH", "VERSION"];

/// One row per app: name, FQDN, state label, health, package version.
pub fn list_rows(apps: &[App]) -> Vec<Vec<String>> {
    apps.iter()
        .map(|a| {
            vec![
                a.name().to_string(),
                a.fqdn.clone(),
                a.state_label(),
                a.health
                    .as_ref()
                    .map_or_else(|| "-".to_string(), |h| h.to_string()),
                dash(&a.manifest.version),
            ]
        })
        .collect()
}

fn show(ctx: &Ctx, s: &Session, query: &str) -> Result<()> {
    let summary = s.resolve_app(query)?;
    let app = s.block_on(s.client.get_app(&summary.id))?;
    if ctx.out.json {
        ctx.out.json(&AppView::of(&app))?;
        return Ok(());
    }
    for line in show_lines(&app) {
        ctx.out.line(line)?;
    }
    Ok(())
}

/// `app show` for people: aligned `Key: value` lines.
pub fn show_lines(app: &App) -> Vec<String> {
    let health = app
        .health
        .as_ref()
        .map_or_else(|| "not checked yet".to_string(), |h| h.to_string());
    let m = &app.manifest;
    let mut package = format!("{} {}", dash(&m.title), dash(&m.version));
    if !m.upstream_version.is_empty() {
        package.push_str(&format!(" (upstream {})", m.upstream_version));
    }
    if !m.id.is_empty() {
        package.push_str(&format!(", {}", m.id));
    }
    let access = match &app.access_restriction {
        None => "every user of the Cloudron".to_string(),
        Some(r) => {
            let parts: Vec<String> = [(r.users.len(), "user"), (r.groups.len(), "group")]
                .into_iter()
                .filter(|(n, _)| *n > 0)
                .map(|(n, what)| format!("{n} {what}{}", if n == 1 { "" } else { "s" }))
                .collect();
            if parts.is_empty() {
                "nobody (an empty access list)".to_string()
            } else {
                format!("restricted to {}", parts.join(" and "))
            }
        }
    };
    let mut rows: Vec<(&str, String)> = vec![
        ("App", format!("{} ({})", app.name(), app.fqdn)),
        ("Id", app.id.clone()),
        (
            "State",
            format!(
                "{} (installation {}, run {}, health {health})",
                app.state_label(),
                dash(app.installation_state.as_str()),
                dash(app.run_state.as_str()),
            ),
        ),
        ("Package", package),
        ("Access", access),
        (
            "Backups",
            if app.enable_backup {
                "automatic".to_string()
            } else {
                "automatic backups OFF: platform backups skip this app".to_string()
            },
        ),
    ];
    if let Some(t) = &app.task_id {
        rows.push(("Task", t.to_string()));
    }
    if let Some(e) = &app.error {
        rows.push(("Error", e.message.clone()));
    }
    if let Some(t) = app.creation_time {
        rows.push(("Created", t.format("%Y-%m-%d %H:%M UTC").to_string()));
    }
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 1;
    rows.into_iter()
        .map(|(k, v)| format!("{:<width$} {v}", format!("{k}:")))
        .collect()
}

fn lifecycle(ctx: &Ctx, s: &Session, query: &str, action: Lifecycle, yes: bool) -> Result<()> {
    let app = s.resolve_app(query)?;
    let who = format!("{} ({})", app.fqdn, app.name());
    let verb = action.segment();
    if ops::already_done(&app, action) {
        ctx.out.info(format!(
            "{who} is already {}; nothing to do",
            app.state_label()
        ));
        return report(
            ctx,
            &app,
            verb,
            false,
            &format!("{who}: already {}", app.state_label()),
        );
    }
    if app.is_busy() {
        let task = app
            .task_id
            .as_ref()
            .map(|t| format!(", task {t}"))
            .unwrap_or_default();
        return Err(Error::failed(format!(
            "{who} is busy ({}{task}): wait for it to finish (`matelot app show {}`) and \
             try again; nothing was changed",
            app.state_label(),
            app.fqdn
        )));
    }
    let timeout = s.client.task_timeout();
    if ctx.global.check {
        let plan = format!(
            "would {verb} {who}: POST /api/v1/apps/{}/{verb}, then wait for the task (up to {}) \
             and check the app's run state",
            app.id,
            human(timeout)
        );
        return check_report(ctx, &app, verb, &plan);
    }
    if action == Lifecycle::Stop {
        confirm(
            ctx,
            yes,
            &format!("Stop {who}? Its users lose access until it is started again"),
        )?;
    }
    let rec = Recorded::begin(
        ctx,
        &format!("app.{verb}"),
        &app.fqdn,
        serde_json::json!({ "action": verb, "app_id": app.id, "fqdn": app.fqdn }),
    )?;
    let progress = ctx.out.progress(&format!("{verb} {}", app.fqdn));
    let result = s.block_on(ops::change_run_state(
        &s.client,
        &app.id,
        action,
        progress.as_ref(),
        timeout,
    ));
    if result.is_ok()
        && let Some(hint) = undo_hint(action, &app.fqdn)
    {
        rec.undo_hint(&hint);
    }
    let done = rec.conclude(result.map_err(Error::from))?;
    report(
        ctx,
        &done,
        verb,
        true,
        &format!("{who}: {}", done.state_label()),
    )
}

/// The command that reverses a run-state change, for the journal (a restart has none).
fn undo_hint(action: Lifecycle, fqdn: &str) -> Option<String> {
    let verb = match action {
        Lifecycle::Stop => "start",
        Lifecycle::Start => "stop",
        _ => return None,
    };
    Some(format!("matelot app {verb} {fqdn}"))
}

fn report(ctx: &Ctx, app: &App, action: &str, changed: bool, line: &str) -> Result<()> {
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

/// A moderate action: `--yes`, or y/N on a terminal. No terminal and no `--yes`: refused
/// (exit 3), nothing changed.
pub fn confirm(ctx: &Ctx, yes: bool, question: &str) -> Result<()> {
    if yes {
        return Ok(());
    }
    if !ctx.out.can_prompt() {
        return Err(Error::refused(format!(
            "{question}: not confirmed, and there is no terminal to ask on (or --no-input is \
             set); pass --yes to do it from a script. Nothing was changed"
        )));
    }
    let ok = dialoguer::Confirm::new()
        .with_prompt(question)
        .default(false)
        .interact_on(&console::Term::stderr())
        .context("asking for confirmation")?;
    if ok {
        Ok(())
    } else {
        Err(Error::refused("declined; nothing was changed"))
    }
}

fn backup(ctx: &Ctx, s: &Session, args: BackupArgs) -> Result<()> {
    let app = s.resolve_app(&args.app)?;
    let who = format!("{} ({})", app.fqdn, app.name());
    let keep = KeepOptions {
        label: args.label,
        preserve: args
            .keep_days
            .map(|d| Duration::from_secs(u64::from(d) * 86_400)),
    };
    let timeout = s.client.task_timeout();
    if ctx.global.check {
        let plan = format!(
            "would back up {who}: POST /api/v1/apps/{}/backup, wait for the task (up to {}), \
             verify the new backup is listed{}",
            app.id,
            human(timeout),
            keep_text(&keep)
        );
        return check_report(ctx, &app, "backup", &plan);
    }
    let rec = Recorded::begin(
        ctx,
        "app.backup",
        &app.fqdn,
        serde_json::json!({
            "backup": app.fqdn, "app_id": app.id,
            "label": keep.label, "keep_days": args.keep_days,
        }),
    )?;
    let progress = ctx.out.progress(&format!("backup {}", app.fqdn));
    let result = s.block_on(ops::backup_app(
        &s.client,
        &app.id,
        &keep,
        progress.as_ref(),
        timeout,
    ));
    if let Ok(v) = &result {
        rec.restore_point(&RestorePoint {
            kind: "cloudron.app_backup".into(),
            id: v.backup.id.clone(),
            details: serde_json::json!({ "app_id": app.id, "task_id": v.task_id.to_string() }),
        });
    }
    let verified = rec.conclude(result.map_err(Error::from))?;
    if ctx.out.json {
        ctx.out.json(&serde_json::json!({
            "app": AppView::of(&app),
            "taskId": verified.task_id,
            "backup": verified.backup,
        }))?;
        return Ok(());
    }
    ctx.out.info(format!(
        "{who}: backup {} verified (listed by the Cloudron{})",
        verified.backup.id,
        keep_text(&keep)
    ));
    ctx.out.line(&verified.backup.id)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloudron::models::{Health, InstallationState, RunState};

    fn matomo() -> App {
        let mut a = App {
            id: "9f9f".into(),
            fqdn: "analytics.example.org".into(),
            installation_state: InstallationState::Installed,
            run_state: RunState::Running,
            health: Some(Health::Healthy),
            ..App::default()
        };
        a.manifest.title = "Matomo".into();
        a.manifest.version = "1.52.0".into();
        a
    }

    #[test]
    fn list_rows_show_name_state_health_version() {
        let mut stopped = matomo();
        stopped.run_state = RunState::Stopped;
        stopped.health = None;
        stopped.manifest.version.clear();
        assert_eq!(
            list_rows(&[matomo(), stopped]),
            vec![
                vec![
                    "Matomo",
                    "analytics.example.org",
                    "Running",
                    "healthy",
                    "1.52.0"
                ],
                vec!["Matomo", "analytics.example.org", "Stopped", "-", "-"],
            ]
        );
    }

    #[test]
    fn show_lines_are_aligned_and_warn_about_backups_off() {
        let mut a = matomo();
        a.enable_backup = false;
        let lines = show_lines(&a);
        assert_eq!(lines[0], "App:     Matomo (analytics.example.org)");
        assert_eq!(
            lines[2],
            "State:   Running (installation installed, run running, health healthy)"
        );
        assert!(
            lines.iter().any(|l| l.contains("automatic backups OFF")),
            "{lines:?}"
        );
    }

    #[test]
    fn stop_and_start_undo_each_other() {
        let f = "chat.example.org";
        assert_eq!(
            undo_hint(Lifecycle::Stop, f).as_deref(),
            Some("matelot app start chat.example.org")
        );
        assert_eq!(
            undo_hint(Lifecycle::Start, f).as_deref(),
            Some("matelot app stop chat.example.org")
        );
        assert_eq!(undo_hint(Lifecycle::Restart, f), None);
    }

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

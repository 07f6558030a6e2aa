//! `matelot backup list|run`: the Cloudron's backups (platform and per app).
//!
//! `run` is meant for cron: it waits for the backup task, verifies that the new backup is
//! listed by the server, prints its id on stdout and fails (exit 1, with the reason) otherwise.
//! Compute (restic) backups belong to the compute side and plug in here as another target.

use chrono::Local;
use serde::Serialize;

use super::app::{AppView, Session, human};
use crate::Ctx;
use crate::cli::backup::{BackupCmd, ListArgs, RunArgs};
use crate::cloudron::models::Backup;
use crate::cloudron::ops::{self, KeepOptions};
use crate::error::Result;

pub fn run(ctx: &Ctx, cmd: BackupCmd) -> Result<()> {
    match cmd {
        BackupCmd::List(args) => list(ctx, args),
        BackupCmd::Run(args) => run_backups(ctx, args),
    }
}

/// Which backups `list` shows.
#[derive(Debug, Serialize)]
#[serde(rename_all = "lowercase")]
enum Scope {
    Cloudron,
    App,
}

fn list(ctx: &Ctx, args: ListArgs) -> Result<()> {
    let s = Session::open(ctx)?;
    let (scope, app, backups) = match &args.app {
        Some(query) => {
            let app = s.resolve_app(query)?;
            let backups = s.block_on(s.client.list_app_backups(&app.id))?;
            (Scope::App, Some(app), backups)
        }
        None => (Scope::Cloudron, None, s.block_on(s.client.list_backups())?),
    };
    if ctx.out.json {
        ctx.out.json(&serde_json::json!({
            "scope": scope,
            "app": app.as_ref().map(AppView::of),
            "backups": backups,
        }))?;
        return Ok(());
    }
    if backups.is_empty() {
        ctx.out.info(match &app {
            Some(a) => format!("{} ({}) has no backups", a.fqdn, a.name()),
            None => "the Cloudron lists no platform backups".to_string(),
        });
    }
    ctx.out.table(&HEADERS, &rows(&backups))?;
    Ok(())
}

const HEADERS: [&str; 6] = ["ID", "CREATED", "VERSION", "LABEL", "PRESERVED", "SIZE"];

/// One row per backup, newest first as the server lists them.
fn rows(backups: &[Backup]) -> Vec<Vec<String>> {
    backups
        .iter()
        .map(|b| {
            vec![
                b.id.clone(),
                b.creation_time.map_or_else(
                    || "-".to_string(),
                    |t| t.with_timezone(&Local).format("%Y-%m-%d %H:%M").to_string(),
                ),
                or_dash(&b.package_version),
                or_dash(&b.label),
                b.preserved_for().map_or_else(|| "-".to_string(), human),
                b.size().map_or_else(|| "-".to_string(), bytes),
            ]
        })
        .collect()
}

fn run_backups(ctx: &Ctx, args: RunArgs) -> Result<()> {
    // With no selection, every configured target; today that is the Cloudron.
    let RunArgs { cloudron: _ } = args;
    let s = Session::open(ctx)?;
    let timeout = s.client.task_timeout();
    let url = s.client.url().to_string();
    if ctx.global.check {
        let plan = format!(
            "would back up the Cloudron at {url}: POST /api/v1/backups/create, wait for the \
             task (up to {}), verify the new backup is listed by GET /api/v1/backups",
            human(timeout)
        );
        if ctx.out.json {
            ctx.out.json(&serde_json::json!({
                "check": true,
                "action": "backup",
                "plan": plan,
                "cloudron": url,
            }))?;
        } else {
            ctx.out.line(plan)?;
        }
        return Ok(());
    }
    let progress = ctx.out.progress("backup cloudron");
    let verified = s.block_on(ops::backup_platform(
        &s.client,
        &KeepOptions::default(),
        progress.as_ref(),
        timeout,
    ))?;
    if ctx.out.json {
        ctx.out.json(&serde_json::json!({
            "cloudron": url,
            "taskId": verified.task_id,
            "backup": verified.backup,
        }))?;
        return Ok(());
    }
    ctx.out.info(format!(
        "the Cloudron at {url}: platform backup {} verified (listed by the Cloudron)",
        verified.backup.id
    ));
    ctx.out.line(&verified.backup.id)?;
    Ok(())
}

fn or_dash(s: &str) -> String {
    if s.is_empty() {
        "-".to_string()
    } else {
        s.to_string()
    }
}

/// Bytes in binary units: `512 B`, `1.0 KiB`, `3.4 GiB`.
fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = UNITS[0];
    for u in &UNITS[1..] {
        if v < 1024.0 {
            break;
        }
        v /= 1024.0;
        unit = u;
    }
    format!("{v:.1} {unit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_in_binary_units() {
        let cases = [
            (0, "0 B"),
            (1023, "1023 B"),
            (1024, "1.0 KiB"),
            (1_048_576, "1.0 MiB"),
            (3_650_722_201, "3.4 GiB"),
        ];
        for (n, want) in cases {
            assert_eq!(bytes(n), want);
        }
    }

    #[test]
    fn rows_fill_gaps_with_dashes() {
        let b = Backup {
            id: "box_v9.0.15_344d94be".into(),
            package_version: "9.0.15".into(),
            preserve_secs: 7 * 86_400,
            ..Backup::default()
        };
        assert_eq!(
            rows(&[b]),
            vec![vec![
                "box_v9.0.15_344d94be",
                "-",
                "9.0.15",
                "-",
                "7 days",
                "-"
            ]]
        );
    }
}

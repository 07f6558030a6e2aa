//! `matelot backup run|list|verify|prune|init`: the Cloudron's backups (platform and per app)
//! and the compute hosts' restic snapshots, under one noun.
//!
//! `run` is the cron-safe command (`backup/run.rs`): every target at once, one result, one
//! journal row, exit 0/4/1/75, a `--ping` for a dead man's switch (`backup/ping.rs`). `list`
//! and `verify` change nothing. `prune` and `init` change the compute repositories, so they
//! take the run lock and write a journal row. The restic side lives in `backup_compute`; this
//! file chooses targets, renders the Cloudron side and records what changed.

pub mod ping;
pub mod run;

use chrono::Local;
use serde::Serialize;
use serde_json::json;

use super::app::{AppView, Session, human};
use super::backup_compute as compute;
use super::recorded::Recorded;
use crate::Ctx;
use crate::cli::backup::{BackupCmd, InitArgs, ListArgs, PruneArgs, VerifyArgs};
use crate::cloudron::models::Backup;
use crate::error::{Error, Result};

pub fn run(ctx: &Ctx, cmd: BackupCmd) -> Result<()> {
    match cmd {
        BackupCmd::Run(args) => run::run(ctx, args),
        BackupCmd::List(args) => list(ctx, args),
        BackupCmd::Verify(args) => verify(ctx, args),
        BackupCmd::Prune(args) => prune(ctx, args),
        BackupCmd::Init(args) => init(ctx, args),
    }
}

/// Which backups `list` shows.
#[derive(Debug, Serialize)]
#[serde(rename_all = "lowercase")]
enum Scope {
    Cloudron,
    App,
}

/// `--compute`/`--host`: the restic snapshots. `--app`: one app's. `--cloudron`, or no flag
/// with a Cloudron configured: the platform backups; no flag and no Cloudron: the snapshots.
fn list(ctx: &Ctx, args: ListArgs) -> Result<()> {
    let compute_wanted = args.compute
        || args.host.is_some()
        || (!args.cloudron && args.app.is_none() && ctx.config()?.cloudron.is_none());
    if compute_wanted {
        return compute::list(ctx, args.host.as_deref());
    }
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

/// `backup verify`: no flag checks every configured target; `--host` implies `--compute`.
fn verify(ctx: &Ctx, args: VerifyArgs) -> Result<()> {
    let cfg = ctx.config()?;
    let sel = run::Selection::decide(cfg, args.cloudron, args.compute, args.host.as_deref())?;
    if args.read_data.is_some() && !sel.compute {
        return Err(Error::usage(
            "--read-data reads a restic repository back: use it with --compute (or no selection)",
        ));
    }
    if !sel.cloudron {
        return compute::verify(ctx, sel.host.as_deref(), args.read_data.as_deref());
    }
    let newest = newest_platform_backup(ctx);
    let mut hosts = sel
        .compute
        .then(|| compute::collect_verify(ctx, sel.host.as_deref(), args.read_data.as_deref()))
        .transpose()?;
    if ctx.out.json {
        ctx.out.json(&json!({
            "cloudron": match &newest {
                Ok(b) => json!({ "backup": b, "age_secs": age_secs(b), "error": null }),
                Err(e) => json!({ "backup": null, "error": e.to_string() }),
            },
            "compute": hosts,
        }))?;
    } else {
        let mut rows = vec![match &newest {
            Ok(b) => vec![
                "cloudron".to_string(),
                b.id.clone(),
                age_secs(b).map_or("-".into(), |a| {
                    human(std::time::Duration::from_secs(
                        u64::try_from(a).unwrap_or(0),
                    ))
                }),
                "-".into(),
                "ok".into(),
            ],
            Err(e) => vec![
                "cloudron".into(),
                "-".into(),
                "-".into(),
                "-".into(),
                e.to_string(),
            ],
        }];
        rows.extend(hosts.iter().flatten().map(compute::verify_row));
        ctx.out
            .table(&["TARGET", "BACKUP", "AGE", "DATA READ", "RESULT"], &rows)?;
    }
    let mut failures: Vec<compute::Failure> = Vec::new();
    let mut total = 1;
    if let Err(e) = newest {
        failures.push(("cloudron".into(), None, e.to_string()));
    }
    if let Some(h) = hosts.as_mut() {
        total += h.len();
        failures.extend(compute::verify_failures(h));
    }
    run::combine(total, failures).map_err(|e| match e {
        // One target: its error as it is; several: the combined message says "backup".
        Error::Partial(m) => Error::Partial(m.replacen("backup failed", "verification failed", 1)),
        Error::Failed(m) => Error::Failed(m.replacen("backup failed", "verification failed", 1)),
        other => other,
    })
}

/// The newest complete platform backup the Cloudron lists (an error if there is none).
fn newest_platform_backup(ctx: &Ctx) -> Result<Backup> {
    let s = Session::open(ctx)?;
    let mut backups = s.block_on(s.client.list_backups())?;
    backups.retain(Backup::is_complete);
    backups.sort_by_key(|b| b.creation_time);
    backups.pop().ok_or_else(|| {
        Error::failed(format!(
            "the Cloudron at {} lists no complete platform backup; run `matelot backup run --cloudron`",
            s.client.url()
        ))
    })
}

fn age_secs(b: &Backup) -> Option<i64> {
    b.creation_time
        .map(|t| (chrono::Utc::now() - t).num_seconds().max(0))
}

/// `backup prune --compute`: moderate, journalled, under the run lock (not with `--check`).
fn prune(ctx: &Ctx, args: PruneArgs) -> Result<()> {
    let PruneArgs { host, yes, .. } = args;
    if ctx.global.check {
        return compute::prune(ctx, host.as_deref(), yes);
    }
    let cfg = ctx.config()?;
    let b = compute::backup_config(cfg)?;
    let hosts = compute::select_hosts(cfg, host.as_deref())?;
    let target = hosts
        .iter()
        .map(|h| format!("compute:{}", h.name))
        .collect::<Vec<_>>()
        .join(" ");
    // Ask before taking the lock: a prompt left open must not block the nightly run.
    compute::confirm_prune(ctx, yes)?;
    let rec = Recorded::begin(
        ctx,
        "backup.prune",
        &target,
        json!({ "forget": "nightly snapshots beyond keep", "keep": b.keep, "then": "prune" }),
    )?;
    rec.conclude(compute::prune(ctx, host.as_deref(), true))
}

/// `backup init --compute`: journalled when it creates something, under the run lock.
fn init(ctx: &Ctx, args: InitArgs) -> Result<()> {
    let host = args.host.as_deref();
    if ctx.global.check {
        return compute::render_init(ctx, compute::collect_init(ctx, host)?);
    }
    let cfg = ctx.config()?;
    compute::backup_config(cfg)?;
    let target = compute::select_hosts(cfg, host)?
        .iter()
        .map(|h| format!("compute:{}", h.name))
        .collect::<Vec<_>>()
        .join(" ");
    let rec = Recorded::begin(
        ctx,
        "backup.init",
        &target,
        json!({ "init": "the [backup.compute] repository where it is missing" }),
    )?;
    let report = compute::collect_init(ctx, host);
    if let Ok(r) = &report {
        for h in r.created() {
            rec.note(&format!("{h}: repository created"));
        }
    }
    rec.conclude(report.and_then(|r| compute::render_init(ctx, r)))
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

//! `matelot backup run|list|verify|prune|init`: the Cloudron's backups (platform and per app)
//! and the compute hosts' restic snapshots, under one noun.
//!
//! `run` is the cron-safe command (`run.rs`): every target at once, one result, one journal
//! row, exit 0/4/1/75, a `--ping` for a dead man's switch (`ping.rs`). `list` and `verify`
//! change nothing. `prune` and `init` change the compute repositories, so they go through the
//! one path (run lock, journal row; prune is moderate). The restic side lives in `compute/`;
//! this file chooses targets and renders the Cloudron side.

pub mod compute;
pub mod ping;
pub mod run;

use std::sync::{Arc, Mutex};

use chrono::Local;
use futures::FutureExt;
use serde::Serialize;
use serde_json::json;

use super::app::{AppView, human};
use crate::Ctx;
use crate::cli::backup::{BackupCmd, InitArgs, ListArgs, PruneArgs, VerifyArgs};
use crate::cloudron::models::Backup;
use crate::core::guard::Tier;
use crate::error::{Error, Result};
use crate::exec::deferred::Deferred;
use crate::exec::{Applied, Batch, Consent, Failure, outcome};
use crate::journal::{BackupInitPlan, BackupPrunePlan, KeepPolicy, OpPlan};

pub async fn run(ctx: &Ctx, cmd: BackupCmd) -> Result<()> {
    match cmd {
        BackupCmd::Run(args) => run::run(ctx, args).await,
        BackupCmd::List(args) => list(ctx, args).await,
        BackupCmd::Verify(args) => verify(ctx, args).await,
        BackupCmd::Prune(args) => prune(ctx, args).await,
        BackupCmd::Init(args) => init(ctx, args).await,
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
async fn list(ctx: &Ctx, args: ListArgs) -> Result<()> {
    let compute_wanted = args.compute
        || args.host.is_some()
        || (!args.cloudron && args.app.is_none() && ctx.config()?.cloudron.is_none());
    if compute_wanted {
        return compute::list(ctx, args.host.as_deref()).await;
    }
    let c = ctx.world()?.cloudron()?;
    let (scope, app, backups) = match &args.app {
        Some(query) => {
            let app = super::app::facts::resolve_app(c, query).await?;
            let backups = c.list_app_backups(&app.id).await?;
            (Scope::App, Some(app), backups)
        }
        None => (Scope::Cloudron, None, c.list_backups().await?),
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
async fn verify(ctx: &Ctx, args: VerifyArgs) -> Result<()> {
    let cfg = ctx.config()?;
    let sel = run::Selection::decide(cfg, args.cloudron, args.compute, args.host.as_deref())?;
    if args.read_data.is_some() && !sel.compute {
        return Err(Error::usage(
            "--read-data reads a restic repository back: use it with --compute (or no selection)",
        ));
    }
    if !sel.cloudron {
        return compute::verify(ctx, sel.host.as_deref(), args.read_data.as_deref()).await;
    }
    let newest = newest_platform_backup(ctx).await;
    let mut hosts = if sel.compute {
        Some(compute::verify_hosts(ctx, sel.host.as_deref(), args.read_data.as_deref()).await?)
    } else {
        None
    };
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
async fn newest_platform_backup(ctx: &Ctx) -> Result<Backup> {
    let c = ctx.world()?.cloudron()?;
    let mut backups = c.list_backups().await?;
    backups.retain(Backup::is_complete);
    backups.sort_by_key(|b| b.creation_time);
    backups.pop().ok_or_else(|| {
        Error::failed(format!(
            "the Cloudron at {} lists no complete platform backup; run `matelot backup run --cloudron`",
            c.url()
        ))
    })
}

fn age_secs(b: &Backup) -> Option<i64> {
    b.creation_time
        .map(|t| (chrono::Utc::now() - t).num_seconds().max(0))
}

/// `backup prune --compute`: moderate (y/N, `--yes`), through the one path.
async fn prune(ctx: &Ctx, args: PruneArgs) -> Result<()> {
    let PruneArgs { host, yes, .. } = args;
    if ctx.check() {
        return compute::prune(ctx, host.as_deref()).await;
    }
    let cfg = ctx.config()?;
    let b = compute::backup_config(cfg)?;
    let hosts: Vec<String> = compute::select_hosts(cfg, host.as_deref())?
        .iter()
        .map(|h| h.name.clone())
        .collect();
    let target = hosts
        .iter()
        .map(|h| format!("compute:{h}"))
        .collect::<Vec<_>>()
        .join(" ");
    let run = ctx.begin_run().await?;
    let report = Arc::new(Mutex::new(None));
    let slot = Arc::clone(&report);
    let host_name = host.clone();
    let work = async move {
        let r = match compute::prune_hosts(ctx, host_name.as_deref()).await {
            Ok(hosts) => {
                let failed = hosts.iter().filter(|h| h.error.is_some()).count();
                let total = hosts.len();
                let r = summarise("pruned", failed, total);
                if let Ok(mut s) = slot.lock() {
                    *s = Some(hosts);
                }
                r
            }
            Err(e) => Err(Failure::NotApplied(e)),
        };
        (r, None)
    }
    .boxed();
    let keep = KeepPolicy {
        daily: b.keep.daily,
        weekly: b.keep.weekly,
        monthly: b.keep.monthly,
        yearly: b.keep.yearly,
    };
    let action = Deferred::new(
        OpPlan::BackupPrune(BackupPrunePlan { hosts, keep }),
        target,
        Tier::Moderate,
        work,
    );
    let consent = Consent {
        yes,
        ..Consent::default()
    };
    let question = "Forget nightly compute snapshots beyond [backup.compute] keep and prune the \
                    repository?";
    let done = run
        .execute(Batch::one(action, consent, question))
        .await?
        .unwrap_or_default();
    let hosts = report.lock().ok().and_then(|mut r| r.take());
    match hosts {
        Some(hosts) => compute::render_prune(ctx, hosts),
        None => outcome(&done),
    }
}

/// How a per-host change went, for the journal: all hosts, some (partial), none (failed).
fn summarise(what: &str, failed: usize, total: usize) -> std::result::Result<Applied, Failure> {
    match failed {
        0 => Ok(Applied::done(format!("{what} on {total} host(s)"))),
        f if f < total => Ok(Applied::partial(format!(
            "{what} on {} of {total} host(s); {f} failed",
            total - f
        ))),
        _ => Err(Failure::NotApplied(Error::failed(format!(
            "failed on every host ({total})"
        )))),
    }
}

/// `backup init --compute`: creates the repository where it is missing, through the one path.
async fn init(ctx: &Ctx, args: InitArgs) -> Result<()> {
    let host = args.host.as_deref();
    if ctx.check() {
        return compute::render_init(ctx, compute::init_hosts(ctx, host).await?);
    }
    let cfg = ctx.config()?;
    compute::backup_config(cfg)?;
    let hosts: Vec<String> = compute::select_hosts(cfg, host)?
        .iter()
        .map(|h| h.name.clone())
        .collect();
    let target = hosts
        .iter()
        .map(|h| format!("compute:{h}"))
        .collect::<Vec<_>>()
        .join(" ");
    let run = ctx.begin_run().await?;
    let report = Arc::new(Mutex::new(None));
    let slot = Arc::clone(&report);
    let work = async move {
        let r = match compute::init_hosts(ctx, host).await {
            Ok(rep) => {
                let failed = rep.hosts.iter().filter(|h| h.error.is_some()).count();
                let r = summarise("initialised", failed, rep.hosts.len());
                if let Ok(mut s) = slot.lock() {
                    *s = Some(rep);
                }
                r
            }
            Err(e) => Err(Failure::NotApplied(e)),
        };
        (r, None)
    }
    .boxed();
    let action = Deferred::new(
        OpPlan::BackupInit(BackupInitPlan { hosts }),
        target,
        Tier::Mild,
        work,
    );
    let done = run
        .execute(Batch::one(action, Consent::default(), ""))
        .await?
        .unwrap_or_default();
    let rep = report.lock().ok().and_then(|mut r| r.take());
    match rep {
        Some(rep) => {
            if let (Some(j), Some(e)) = (run.journal(), done.first()) {
                for h in rep.created() {
                    j.note(e.op, &format!("{h}: repository created"))?;
                }
            }
            compute::render_init(ctx, rep)
        }
        None => outcome(&done),
    }
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

//! `matelot backup run`: one cron-safe command for every backup. It takes the run lock (a
//! second overlapping run exits 75 naming the first), writes one journal row, backs up the
//! Cloudron and the compute hosts at the same time, prints ONE result for the whole run and
//! exits 0 (all verified), 4 (some targets failed) or 1 (all failed). With `--ping`, a dead
//! man's switch hears how it went.
//!
//! It decides what to back up and how the halves combine; it does not know how a Cloudron
//! backup or a restic snapshot is taken and verified (`cloudron::ops`, `backup_compute`).

use std::sync::{Arc, Mutex};

use futures::FutureExt;
use serde::Serialize;

use super::compute::{self, Failure, RunReport, human_bytes};
use super::ping::{self, PingReport, PingUrl, Signal};
use crate::Ctx;
use crate::cli::backup::RunArgs;
use crate::cloudron::models::Backup;
use crate::cloudron::ops::{self, KeepOptions};
use crate::config::Config;
use crate::core::guard::Tier;
use crate::error::{Error, Result};
use crate::exec::deferred::Deferred;
use crate::exec::{Applied, Batch, Consent, Failure as ExecFailure};
use crate::journal::{BackupRunPlan, OpPlan, OpResult, TargetResult};

/// What one `backup run` covers, decided from the flags and the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    pub cloudron: bool,
    pub compute: bool,
    /// Only this compute host.
    pub host: Option<String>,
}

impl Selection {
    /// No flag: every configured target. `--host` implies `--compute`. A flag naming a target
    /// that is not configured is a configuration error, raised before anything runs.
    pub fn decide(
        cfg: &Config,
        cloudron: bool,
        compute_flag: bool,
        host: Option<&str>,
    ) -> Result<Self> {
        let compute_flag = compute_flag || host.is_some();
        let has_cloudron = cfg.cloudron.is_some();
        let has_compute = cfg.backup.compute.is_some() && !cfg.compute.is_empty();
        let sel = if cloudron || compute_flag {
            Selection {
                cloudron,
                compute: compute_flag,
                host: host.map(str::to_string),
            }
        } else {
            Selection {
                cloudron: has_cloudron,
                compute: has_compute,
                host: None,
            }
        };
        if !sel.cloudron && !sel.compute {
            return Err(Error::Config(vec![
                "nothing to back up: configure [cloudron] (url, token_file), or compute hosts \
                 ([compute.NAME]) with [backup.compute]"
                    .into(),
            ]));
        }
        if sel.cloudron && !has_cloudron {
            return Err(Error::Config(vec![
                "--cloudron: no Cloudron is configured; add a [cloudron] section with url and \
                 token_file (or set MATELOT_CLOUDRON_URL and MATELOT_CLOUDRON_TOKEN)"
                    .into(),
            ]));
        }
        if sel.compute {
            compute::backup_config(cfg)?;
            compute::select_hosts(cfg, sel.host.as_deref())?;
        }
        Ok(sel)
    }

    /// The compute hosts of the run.
    fn hosts(&self, cfg: &Config) -> Result<Vec<String>> {
        if !self.compute {
            return Ok(Vec::new());
        }
        Ok(compute::select_hosts(cfg, self.host.as_deref())?
            .iter()
            .map(|h| h.name.clone())
            .collect())
    }

    /// The journal target: `cloudron compute:calcul compute:gpu`.
    fn target(&self, cfg: &Config) -> Result<String> {
        let mut parts = Vec::new();
        if self.cloudron {
            parts.push("cloudron".to_string());
        }
        for h in self.hosts(cfg)? {
            parts.push(format!("compute:{h}"));
        }
        Ok(parts.join(" "))
    }
}

/// The Cloudron's part of a run.
#[derive(Debug, Serialize)]
pub struct CloudronRun {
    pub url: String,
    /// `ok`, `failed` or `would_back_up` (`--check`).
    pub status: &'static str,
    pub task_id: Option<String>,
    pub backup: Option<Backup>,
    pub error: Option<String>,
    #[serde(skip)]
    failure: Option<Error>,
}

/// Everything one `backup run` did: the `--json` document.
#[derive(Debug, Serialize)]
pub struct Report {
    /// `ok`, `partial`, `failed`, or `check` under `--check`.
    pub status: &'static str,
    /// The journal operation (`matelot journal show N`); none under `--check`.
    pub operation: Option<i64>,
    pub cloudron: Option<CloudronRun>,
    pub compute: Option<RunReport>,
    pub pings: Vec<PingReport>,
}

async fn cloudron_half(ctx: &Ctx) -> CloudronRun {
    let mut r = CloudronRun {
        url: String::new(),
        status: "failed",
        task_id: None,
        backup: None,
        error: None,
        failure: None,
    };
    let got: Result<Option<ops::VerifiedBackup>> = async {
        let c = ctx.world()?.cloudron()?;
        r.url = c.url().to_string();
        if ctx.check() {
            return Ok(None);
        }
        let progress = ctx.out.progress("backup cloudron");
        let v = ops::backup_platform(
            c,
            &KeepOptions::default(),
            progress.as_ref(),
            c.task_timeout(),
            &|_| {},
        )
        .await?;
        Ok(Some(v))
    }
    .await;
    match got {
        Ok(None) => r.status = "would_back_up",
        Ok(Some(v)) => {
            r.status = "ok";
            r.task_id = Some(v.task_id.to_string());
            r.backup = Some(v.backup);
        }
        Err(e) => {
            r.error = Some(e.to_string());
            r.failure = Some(e);
        }
    }
    r
}

/// Both halves at the same time.
async fn both(ctx: &Ctx, sel: &Selection) -> Result<(Option<CloudronRun>, Option<RunReport>)> {
    let cloudron = async {
        if sel.cloudron {
            Some(cloudron_half(ctx).await)
        } else {
            None
        }
    };
    let computed = async {
        if sel.compute {
            Some(compute::backup_hosts(ctx, sel.host.as_deref()).await)
        } else {
            None
        }
    };
    let (cloudron, computed) = tokio::join!(cloudron, computed);
    Ok((cloudron, computed.transpose()?))
}

/// `matelot backup run [--cloudron] [--compute] [--host NAME] [--ping URL [--ping-start]]`.
pub async fn run(ctx: &Ctx, args: RunArgs) -> Result<()> {
    let ping = args.ping.as_ref().map(|p| p.check()).transpose()?;
    let mut pinged = false;
    let result = run_inner(ctx, &args, ping.as_ref(), &mut pinged).await;
    // A run that failed before its report (configuration, journal) still tells the dead
    // man's switch. A run refused by the lock pings nothing: the holder is doing the backup.
    if let (Some(url), Err(e)) = (&ping, &result)
        && !pinged
        && !ctx.check()
        && !matches!(e, Error::Locked(_))
    {
        ping::send(&ctx.out, url, Signal::Fail).await;
    }
    result
}

async fn run_inner(
    ctx: &Ctx,
    args: &RunArgs,
    ping: Option<&PingUrl>,
    pinged: &mut bool,
) -> Result<()> {
    let cfg = ctx.config()?;
    let sel = Selection::decide(cfg, args.cloudron, args.compute, args.host.as_deref())?;
    if ctx.check() {
        let (cloudron, compute) = both(ctx, &sel).await?;
        let report = Report {
            status: "check",
            operation: None,
            cloudron,
            compute,
            pings: Vec::new(),
        };
        render(ctx, &report)?;
        return match report.cloudron.and_then(|c| c.failure) {
            Some(e) => Err(e),
            None => Ok(()),
        };
    }
    let target = sel.target(cfg)?;
    let plan = BackupRunPlan {
        cloudron: sel.cloudron,
        hosts: sel.hosts(cfg)?,
    };
    let run = ctx.begin_run().await?;
    let mut pings = Vec::new();
    if let (Some(url), true) = (ping, args.ping_start) {
        pings.push(ping::send(&ctx.out, url, Signal::Start).await);
    }
    let halves = Arc::new(Mutex::new(None));
    let slot = Arc::clone(&halves);
    let sel_ref = &sel;
    let work = async move {
        match both(ctx, sel_ref).await {
            Err(e) => (Err(ExecFailure::NotApplied(e)), None),
            Ok((cloudron, compute)) => {
                let targets = targets_of(cloudron.as_ref(), compute.as_ref());
                let ok = targets.iter().filter(|t| t.ok).count();
                let total = targets.len();
                let notes = notes(cloudron.as_ref(), compute.as_ref()).join("; ");
                let text = format!("{ok} of {total} targets verified: {notes}");
                let r = match ok {
                    n if n == total => Ok(Applied::done(text)),
                    0 => Err(ExecFailure::NotApplied(Error::failed(text))),
                    _ => Ok(Applied::partial(text)),
                };
                if let Ok(mut s) = slot.lock() {
                    *s = Some((cloudron, compute));
                }
                (r, Some(OpResult::Targets { targets }))
            }
        }
    }
    .boxed();
    let action = Deferred::new(OpPlan::BackupRun(plan), target, Tier::Mild, work);
    let done = run
        .execute(Batch::one(action, Consent::default(), ""))
        .await?
        .unwrap_or_default();
    let op = done.first().map(|e| e.op);
    let (mut cloudron, mut compute) = halves
        .lock()
        .ok()
        .and_then(|mut h| h.take())
        .unwrap_or((None, None));
    let mut failures: Vec<Failure> = Vec::new();
    let mut total = 0;
    if let Some(c) = cloudron.as_mut() {
        total += 1;
        if let Some(msg) = c.error.clone() {
            failures.push(("cloudron".into(), c.failure.take(), msg));
        }
    }
    if let Some(r) = compute.as_mut() {
        total += r.hosts.len();
        failures.extend(r.take_failures());
    }
    let status = match failures.len() {
        0 => "ok",
        n if n < total => "partial",
        _ => "failed",
    };
    let outcome = if total == 0 {
        crate::exec::outcome(&done)
    } else {
        combine(total, failures)
    };
    if let Some(url) = ping {
        let signal = if outcome.is_ok() {
            Signal::Success
        } else {
            Signal::Fail
        };
        pings.push(ping::send(&ctx.out, url, signal).await);
        *pinged = true;
    }
    let report = Report {
        status,
        operation: op.map(|o| o.0),
        cloudron,
        compute,
        pings,
    };
    render(ctx, &report)?;
    outcome
}

/// One result per target, for the journal.
fn targets_of(cloudron: Option<&CloudronRun>, compute: Option<&RunReport>) -> Vec<TargetResult> {
    let mut v = Vec::new();
    if let Some(c) = cloudron {
        v.push(TargetResult {
            target: "cloudron".into(),
            ok: c.backup.is_some() && c.error.is_none(),
            id: c.backup.as_ref().map(|b| b.id.clone()),
            detail: c.error.clone().unwrap_or_default(),
        });
    }
    for h in compute.map(|r| r.hosts.as_slice()).unwrap_or_default() {
        v.push(TargetResult {
            target: format!("compute:{}", h.host),
            ok: h.snapshot_id.is_some() && h.error.is_none(),
            id: h.snapshot_id.clone(),
            detail: h.error.clone().unwrap_or_default(),
        });
    }
    v
}

/// One journal note per target: what was verified, or why it failed.
fn notes(cloudron: Option<&CloudronRun>, compute: Option<&RunReport>) -> Vec<String> {
    let mut v = Vec::new();
    if let Some(c) = cloudron {
        v.push(match (&c.backup, &c.error) {
            (Some(b), _) => format!("cloudron: platform backup {} verified", b.id),
            (None, e) => format!("cloudron: failed: {}", e.as_deref().unwrap_or("unknown")),
        });
    }
    for h in compute.map(|r| r.hosts.as_slice()).unwrap_or_default() {
        v.push(match (&h.snapshot_id, &h.error) {
            (Some(id), None) => format!("{}: snapshot {id} verified", h.host),
            (_, e) => format!("{}: {}: {}", h.host, h.status, e.as_deref().unwrap_or("")),
        });
    }
    v
}

/// The exit-code policy over every target: all fine; one target and it failed -> its own
/// error; some failed -> partial (4); all failed -> failed (1).
pub fn combine(total: usize, failures: Vec<Failure>) -> Result<()> {
    compute::outcome_over("backup", "targets", total, failures)
}

const HEADERS: [&str; 5] = ["TARGET", "STATUS", "ID", "SIZE", "DETAILS"];

/// One row per target: the Cloudron first, then the hosts in configuration order.
pub fn rows(report: &Report) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    if let Some(c) = &report.cloudron {
        let details = match (&c.error, c.status) {
            (Some(e), _) => e.clone(),
            (None, "would_back_up") => format!(
                "would POST /api/v1/backups/create at {}, wait for the task and verify the \
                 new backup is listed",
                c.url
            ),
            (None, _) => "platform backup, listed by the Cloudron".to_string(),
        };
        rows.push(vec![
            "cloudron".to_string(),
            c.status.to_string(),
            c.backup.as_ref().map_or("-".into(), |b| b.id.clone()),
            c.backup
                .as_ref()
                .and_then(Backup::size)
                .map_or("-".into(), human_bytes),
            details,
        ]);
    }
    for h in report.compute.iter().flat_map(|r| r.hosts.iter()) {
        let details = match (&h.error, h.status) {
            (Some(e), _) => e.clone(),
            (None, "would_back_up") => format!("would back up {}", h.paths.join(" ")),
            (None, _) => format!(
                "{} files of {} in {:.1}s",
                h.files,
                h.paths.join(" "),
                h.duration_ms as f64 / 1000.0
            ),
        };
        rows.push(vec![
            h.host.clone(),
            h.status.to_string(),
            h.short_id.clone().unwrap_or_else(|| "-".into()),
            if h.snapshot_id.is_some() {
                human_bytes(h.bytes)
            } else {
                "-".into()
            },
            details,
        ]);
    }
    rows
}

fn render(ctx: &Ctx, report: &Report) -> Result<()> {
    if ctx.out.json {
        ctx.out.json(report)?;
    } else {
        ctx.out.table(&HEADERS, &rows(report))?;
        if let Some(op) = report.operation {
            ctx.out.info(format!(
                "journal: operation {op} (`matelot journal show {op}`)"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "run_tests.rs"]
mod tests;

//! `matelot backup run`: one cron-safe command for every backup. It takes the run lock (a
//! second overlapping run exits 75 naming the first), writes one journal row, backs up the
//! Cloudron and the compute hosts at the same time, prints ONE result for the whole run and
//! exits 0 (all verified), 4 (some targets failed) or 1 (all failed). With `--ping`, a dead
//! man's switch hears how it went.
//!
//! It decides what to back up and how the halves combine; it does not know how a Cloudron
//! backup or a restic snapshot is taken and verified (`cloudron::ops`, `backup_compute`).

use serde::Serialize;
use serde_json::json;

use super::ping::{self, PingReport, PingUrl, Signal};
use crate::Ctx;
use crate::cli::backup::RunArgs;
use crate::cloudron::models::Backup;
use crate::cloudron::ops::{self, KeepOptions};
use crate::commands::app::Session;
use crate::commands::backup_compute::{self as compute, Failure, RunReport, human_bytes};
use crate::commands::recorded::Recorded;
use crate::config::Config;
use crate::error::{Error, Result};

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

    /// The journal target: `cloudron compute:calcul compute:gpu`.
    fn target(&self, cfg: &Config) -> Result<String> {
        let mut parts = Vec::new();
        if self.cloudron {
            parts.push("cloudron".to_string());
        }
        if self.compute {
            for h in compute::select_hosts(cfg, self.host.as_deref())? {
                parts.push(format!("compute:{}", h.name));
            }
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

fn cloudron_half(ctx: &Ctx) -> CloudronRun {
    let mut r = CloudronRun {
        url: String::new(),
        status: "failed",
        task_id: None,
        backup: None,
        error: None,
        failure: None,
    };
    let got = Session::open(ctx).and_then(|s| {
        r.url = s.client.url().to_string();
        if ctx.global.check {
            return Ok(None);
        }
        let progress = ctx.out.progress("backup cloudron");
        let timeout = s.client.task_timeout();
        let v = s.block_on(ops::backup_platform(
            &s.client,
            &KeepOptions::default(),
            progress.as_ref(),
            timeout,
        ))?;
        Ok(Some(v))
    });
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

/// Run both halves at the same time, each on a thread of its own (each has its own runtime).
fn both(ctx: &Ctx, sel: &Selection) -> Result<(Option<CloudronRun>, Option<RunReport>)> {
    std::thread::scope(|scope| {
        let cloudron = sel.cloudron.then(|| scope.spawn(|| cloudron_half(ctx)));
        let computed = sel
            .compute
            .then(|| compute::collect_run(ctx, sel.host.as_deref()));
        let cloudron = match cloudron.map(|h| h.join()) {
            None => None,
            Some(Ok(c)) => Some(c),
            Some(Err(_)) => return Err(Error::failed("the Cloudron backup thread panicked")),
        };
        Ok((cloudron, computed.transpose()?))
    })
}

/// `matelot backup run [--cloudron] [--compute] [--host NAME] [--ping URL [--ping-start]]`.
pub fn run(ctx: &Ctx, args: RunArgs) -> Result<()> {
    let ping = args.ping.as_ref().map(|p| p.check()).transpose()?;
    let mut pinged = false;
    let result = run_inner(ctx, &args, ping.as_ref(), &mut pinged);
    // A run that failed before its report (configuration, journal) still tells the dead
    // man's switch. A run refused by the lock pings nothing: the holder is doing the backup.
    if let (Some(url), Err(e)) = (&ping, &result)
        && !pinged
        && !ctx.global.check
        && !matches!(e, Error::Locked(_))
    {
        ping::send(&ctx.out, url, Signal::Fail);
    }
    result
}

fn run_inner(ctx: &Ctx, args: &RunArgs, ping: Option<&PingUrl>, pinged: &mut bool) -> Result<()> {
    let cfg = ctx.config()?;
    let sel = Selection::decide(cfg, args.cloudron, args.compute, args.host.as_deref())?;
    if ctx.global.check {
        let (cloudron, compute) = both(ctx, &sel)?;
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
    let rec = Recorded::begin(
        ctx,
        "backup.run",
        &target,
        json!({ "cloudron": sel.cloudron, "compute": sel.compute, "host": sel.host }),
    )?;
    let mut pings = Vec::new();
    if let (Some(url), true) = (ping, args.ping_start) {
        pings.push(ping::send(&ctx.out, url, Signal::Start));
    }
    let (mut cloudron, mut compute) = both(ctx, &sel)?;
    for note in notes(cloudron.as_ref(), compute.as_ref()) {
        rec.note(&note);
    }
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
    let outcome = combine(total, failures);
    if let Some(url) = ping {
        let signal = if outcome.is_ok() {
            Signal::Success
        } else {
            Signal::Fail
        };
        pings.push(ping::send(&ctx.out, url, signal));
        *pinged = true;
    }
    let report = Report {
        status,
        operation: Some(rec.id().0),
        cloudron,
        compute,
        pings,
    };
    let printed = render(ctx, &report);
    rec.conclude(outcome.and(printed))
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
    crate::commands::backup_compute::outcome_over("backup", "targets", total, failures)
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

//! `backup init --compute`: create the `[backup.compute]` repository, as seen from each host,
//! where it does not exist yet (`Restic::init_if_missing`). The explicit step an admin (or the
//! lab tour) takes once; `backup run` never creates a repository behind anyone's back.
//! An existing repository is left exactly as it is; `--check` only says which are missing.

use futures::StreamExt;
use serde::Serialize;

use super::{MAX_HOSTS_AT_ONCE, backup_config, connect, outcome, select_hosts};
use crate::Ctx;
use crate::compute::restic::{InitOutcome, Repo, Restic};
use crate::config::{ComputeBackup, ComputeHost};
use crate::error::{Error, Result};
use crate::exec::World;

/// One host's part of a `backup init`.
#[derive(Debug, Serialize)]
pub struct HostInit {
    pub host: String,
    /// `created`, `existing`, `missing` (`--check`) or `failed`.
    pub status: &'static str,
    pub error: Option<String>,
    #[serde(skip)]
    failure: Option<Error>,
}

/// A `backup init` over the compute hosts.
#[derive(Debug, Serialize)]
pub struct InitReport {
    pub repository: String,
    pub hosts: Vec<HostInit>,
}

impl InitReport {
    /// The hosts whose repository this run created.
    pub fn created(&self) -> Vec<&str> {
        self.hosts
            .iter()
            .filter(|h| h.status == "created")
            .map(|h| h.host.as_str())
            .collect()
    }
}

async fn init_one(world: &World, b: &ComputeBackup, h: &ComputeHost, dry_run: bool) -> HostInit {
    let got: Result<&'static str> = async {
        let session = connect(world, h).await?;
        let restic = Restic::new(&session, Repo::from_config(b));
        let status = if dry_run {
            if restic.exists().await? {
                "existing"
            } else {
                "missing"
            }
        } else {
            match restic.init_if_missing().await? {
                InitOutcome::Created => "created",
                InitOutcome::Existing => "existing",
            }
        };
        Ok(status)
    }
    .await;
    match got {
        Ok(status) => HostInit {
            host: h.name.clone(),
            status,
            error: None,
            failure: None,
        },
        Err(e) => HostInit {
            host: h.name.clone(),
            status: "failed",
            error: Some(e.to_string()),
            failure: Some(e),
        },
    }
}

/// Create the repository on each selected host where it is missing (`--check`: only look).
pub async fn init_hosts(ctx: &Ctx, host: Option<&str>) -> Result<InitReport> {
    let cfg = ctx.config()?;
    let b = backup_config(cfg)?;
    let hosts = select_hosts(cfg, host)?;
    let world = ctx.world()?;
    let dry_run = ctx.check();
    let hosts = futures::stream::iter(
        hosts
            .into_iter()
            .map(|h| init_one(world, b, h, dry_run))
            .collect::<Vec<_>>(),
    )
    .buffered(MAX_HOSTS_AT_ONCE)
    .collect()
    .await;
    Ok(InitReport {
        repository: Repo::from_config(b).display(),
        hosts,
    })
}

/// Print an init report (table or JSON) and map failures to the exit code.
pub fn render_init(ctx: &Ctx, mut report: InitReport) -> Result<()> {
    if ctx.out.json {
        ctx.out.json(&report)?;
    } else {
        let rows: Vec<Vec<String>> = report
            .hosts
            .iter()
            .map(|h| {
                vec![
                    h.host.clone(),
                    report.repository.clone(),
                    h.error.clone().unwrap_or_else(|| h.status.to_string()),
                ]
            })
            .collect();
        ctx.out.table(&["HOST", "REPOSITORY", "RESULT"], &rows)?;
    }
    let total = report.hosts.len();
    let failures = super::failures(&mut report.hosts);
    outcome("init", total, failures)
}

super::host_outcome!(HostInit);

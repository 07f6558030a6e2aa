//! `backup prune --compute`: apply `[backup.compute] keep` to the nightly snapshots of each host
//! and prune the repository. Moderate: y/N on a terminal, `--yes` in scripts; `--check` is a
//! restic dry run. Restore points (tagged `op-N`, never `nightly`) are not touched.

use futures::StreamExt;
use serde::Serialize;

use super::{MAX_HOSTS_AT_ONCE, NIGHTLY_TAGS, backup_config, connect, outcome, select_hosts};
use crate::Ctx;
use crate::compute::restic::{Repo, Restic, SnapshotFilter};
use crate::config::{ComputeBackup, ComputeHost};
use crate::error::{Error, Result};
use crate::exec::World;

/// One host's part of a `backup prune`.
#[derive(Debug, Serialize)]
pub struct HostPrune {
    pub host: String,
    pub dry_run: bool,
    pub kept: usize,
    pub removed: Vec<String>,
    pub error: Option<String>,
    #[serde(skip)]
    failure: Option<Error>,
}
/// Apply `[backup.compute] keep` to the nightly snapshots of each selected host and prune.
/// Restore points (tagged `op-N`, not `nightly`) are never touched. `--check` is a dry run.
/// The caller has already obtained consent (see [`prune`]).
pub async fn prune_hosts(ctx: &Ctx, host: Option<&str>) -> Result<Vec<HostPrune>> {
    let cfg = ctx.config()?;
    let b = backup_config(cfg)?;
    let hosts = select_hosts(cfg, host)?;
    let world = ctx.world()?;
    let dry_run = ctx.check();
    Ok(futures::stream::iter(
        hosts
            .into_iter()
            .map(|h| prune_one(world, b, h, dry_run))
            .collect::<Vec<_>>(),
    )
    .buffered(MAX_HOSTS_AT_ONCE)
    .collect()
    .await)
}

async fn prune_one(world: &World, b: &ComputeBackup, h: &ComputeHost, dry_run: bool) -> HostPrune {
    let mut r = HostPrune {
        host: h.name.clone(),
        dry_run,
        kept: 0,
        removed: Vec::new(),
        error: None,
        failure: None,
    };
    let got: Result<_> = async {
        let session = connect(world, h).await?;
        let filter = SnapshotFilter {
            host: Some(h.name.clone()),
            tags: NIGHTLY_TAGS.iter().map(|t| t.to_string()).collect(),
            ..Default::default()
        };
        let done = Restic::new(&session, Repo::from_config(b))
            .forget_prune(&b.keep, &filter, dry_run)
            .await?;
        Ok(done)
    }
    .await;
    match got {
        Ok(done) => {
            r.kept = done.kept.len();
            r.removed = done.removed.iter().map(|s| s.id.to_string()).collect();
        }
        Err(e) => {
            r.error = Some(e.to_string());
            r.failure = Some(e);
        }
    }
    r
}

/// `matelot backup prune --compute [--yes]`: moderate, so y/N on a terminal or `--yes`;
/// `--check` shows what would be forgotten without asking.
pub async fn prune(ctx: &Ctx, host: Option<&str>) -> Result<()> {
    let hosts = prune_hosts(ctx, host).await?;
    render_prune(ctx, hosts)
}

/// Print what a prune did (or would do) and map failures to the exit code.
pub fn render_prune(ctx: &Ctx, mut hosts: Vec<HostPrune>) -> Result<()> {
    if ctx.out.json {
        ctx.out.json(&serde_json::json!({ "compute": hosts }))?;
    } else {
        let rows: Vec<Vec<String>> = hosts
            .iter()
            .map(|h| {
                vec![
                    h.host.clone(),
                    h.kept.to_string(),
                    format!(
                        "{}{}",
                        h.removed.len(),
                        if h.dry_run { " (would remove)" } else { "" }
                    ),
                    h.error.clone().unwrap_or_default(),
                ]
            })
            .collect();
        ctx.out
            .table(&["HOST", "KEPT", "REMOVED", "ERROR"], &rows)?;
    }
    let total = hosts.len();
    let failures = super::failures(&mut hosts);
    outcome("prune", total, failures)
}

super::host_outcome!(HostPrune);

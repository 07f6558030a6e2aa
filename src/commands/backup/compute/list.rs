//! `backup list --compute`: the snapshots each host took (restic `--host` is the host's name in
//! the configuration), nightly backups and restore points alike. Changes nothing.

use futures::StreamExt;
use serde::Serialize;

use super::{MAX_HOSTS_AT_ONCE, backup_config, connect, outcome, select_hosts};
use crate::Ctx;
use crate::compute::restic::{Repo, Restic, Snapshot, SnapshotFilter};
use crate::config::{ComputeBackup, ComputeHost};
use crate::error::{Error, Result};
use crate::exec::World;

/// One host's snapshots for `backup list`.
#[derive(Debug, Serialize)]
pub struct HostSnapshots {
    pub host: String,
    pub snapshots: Vec<Snapshot>,
    pub error: Option<String>,
    #[serde(skip)]
    failure: Option<Error>,
}
/// The snapshots each selected host took (restic `--host` is the host's name in the config).
pub async fn list_hosts(ctx: &Ctx, host: Option<&str>) -> Result<Vec<HostSnapshots>> {
    let cfg = ctx.config()?;
    let b = backup_config(cfg)?;
    let hosts = select_hosts(cfg, host)?;
    let world = ctx.world()?;
    Ok(futures::stream::iter(
        hosts
            .into_iter()
            .map(|h| list_one(world, b, h))
            .collect::<Vec<_>>(),
    )
    .buffered(MAX_HOSTS_AT_ONCE)
    .collect()
    .await)
}

async fn list_one(world: &World, b: &ComputeBackup, h: &ComputeHost) -> HostSnapshots {
    let mut r = HostSnapshots {
        host: h.name.clone(),
        snapshots: Vec::new(),
        error: None,
        failure: None,
    };
    let got: Result<Vec<Snapshot>> = async {
        let session = connect(world, h).await?;
        let filter = SnapshotFilter {
            host: Some(h.name.clone()),
            ..Default::default()
        };
        let snaps = Restic::new(&session, Repo::from_config(b))
            .snapshots(&filter)
            .await?;
        Ok(snaps)
    }
    .await;
    match got {
        Ok(s) => r.snapshots = s,
        Err(e) => {
            r.error = Some(e.to_string());
            r.failure = Some(e);
        }
    }
    r
}

/// `matelot backup list --compute`: one row per snapshot, newest last.
pub async fn list(ctx: &Ctx, host: Option<&str>) -> Result<()> {
    let mut hosts = list_hosts(ctx, host).await?;
    if ctx.out.json {
        ctx.out.json(&serde_json::json!({ "compute": hosts }))?;
    } else {
        let mut rows = Vec::new();
        for h in &hosts {
            for s in &h.snapshots {
                rows.push(vec![
                    h.host.clone(),
                    s.short_id.clone(),
                    s.taken_at()
                        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                        .unwrap_or_else(|| s.time.clone()),
                    s.tags.join(","),
                    s.paths.join(" "),
                ]);
            }
        }
        ctx.out
            .table(&["HOST", "ID", "TIME", "TAGS", "PATHS"], &rows)?;
    }
    let total = hosts.len();
    let failures = super::failures(&mut hosts);
    outcome("listing backups", total, failures)
}

super::host_outcome!(HostSnapshots);

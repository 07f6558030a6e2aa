//! `backup verify --compute`: is each host's newest nightly snapshot there, of the configured
//! paths, and how old is it? With a data subset, restic also reads that share of the
//! repository back (`restic check --read-data-subset`, which takes restic's exclusive lock).
//! Changes nothing.

use futures::StreamExt;
use serde::Serialize;

use super::{
    Failure, MAX_HOSTS_AT_ONCE, NIGHTLY_TAGS, backup_config, connect, outcome, select_hosts,
};
use crate::Ctx;
use crate::compute::restic::{Expect, Repo, Restic, ResticError, SnapshotFilter};
use crate::config::{ComputeBackup, ComputeHost};
use crate::error::{Error, Result};
use crate::exec::World;

/// One host's newest nightly snapshot, checked.
#[derive(Debug, Serialize)]
pub struct HostVerify {
    pub host: String,
    pub snapshot_id: Option<String>,
    pub time: Option<String>,
    /// Seconds since the snapshot was taken.
    pub age_secs: Option<i64>,
    /// The `--read-data-subset` that was read back, if any.
    pub data_checked: Option<String>,
    pub error: Option<String>,
    #[serde(skip)]
    failure: Option<Error>,
}

/// Verify the newest nightly snapshot of each selected host.
pub async fn verify_hosts(
    ctx: &Ctx,
    host: Option<&str>,
    read_data_subset: Option<&str>,
) -> Result<Vec<HostVerify>> {
    let cfg = ctx.config()?;
    let b = backup_config(cfg)?;
    let hosts = select_hosts(cfg, host)?;
    let world = ctx.world()?;
    Ok(futures::stream::iter(
        hosts
            .into_iter()
            .map(|h| verify_one(world, b, h, read_data_subset))
            .collect::<Vec<_>>(),
    )
    .buffered(MAX_HOSTS_AT_ONCE)
    .collect()
    .await)
}

async fn verify_one(
    world: &World,
    b: &ComputeBackup,
    h: &ComputeHost,
    subset: Option<&str>,
) -> HostVerify {
    let mut r = HostVerify {
        host: h.name.clone(),
        snapshot_id: None,
        time: None,
        age_secs: None,
        data_checked: None,
        error: None,
        failure: None,
    };
    let got: Result<_> = async {
        let session = connect(world, h).await?;
        let restic = Restic::new(&session, Repo::from_config(b));
        let filter = SnapshotFilter {
            host: Some(h.name.clone()),
            tags: NIGHTLY_TAGS.iter().map(|t| t.to_string()).collect(),
            paths: b.paths.clone(),
            ..Default::default()
        };
        let mut snaps = restic.snapshots(&filter).await?;
        snaps.sort_by_key(|s| s.taken_at());
        let Some(newest) = snaps.pop() else {
            return Err(Error::failed(format!(
                "{}: no nightly snapshot of {} in {}; run `matelot backup run --compute`",
                h.name,
                b.paths.join(", "),
                restic.repo().display()
            )));
        };
        let expect = Expect {
            paths: b.paths.clone(),
            tags: filter.tags.clone(),
            read_data_subset: subset.map(str::to_string),
        };
        let snap = restic
            .verify_snapshot(newest.id.as_str(), &expect)
            .await
            .map_err(|e: ResticError| Error::from(e))?;
        Ok(snap)
    }
    .await;
    match got {
        Ok(snap) => {
            r.age_secs = snap
                .taken_at()
                .map(|t| (chrono::Utc::now() - t.with_timezone(&chrono::Utc)).num_seconds());
            r.snapshot_id = Some(snap.id.to_string());
            r.time = Some(snap.time);
            r.data_checked = subset.map(str::to_string);
        }
        Err(e) => {
            r.error = Some(e.to_string());
            r.failure = Some(e);
        }
    }
    r
}

/// A table row: host, snapshot (short), age, data read, result.
pub fn verify_row(h: &HostVerify) -> Vec<String> {
    vec![
        h.host.clone(),
        h.snapshot_id
            .as_deref()
            .map_or("-".into(), |s| s.chars().take(8).collect()),
        h.age_secs.map_or("-".into(), |a| {
            humantime::format_duration(std::time::Duration::from_secs(
                u64::try_from(a.max(0)).unwrap_or(0),
            ))
            .to_string()
        }),
        h.data_checked.clone().unwrap_or_else(|| "-".into()),
        h.error.clone().unwrap_or_else(|| "ok".into()),
    ]
}

/// The hosts that failed verification (each typed error taken once).
pub fn verify_failures(hosts: &mut [HostVerify]) -> Vec<Failure> {
    super::failures(hosts)
}

/// `matelot backup verify --compute [--read-data-subset S]`.
pub async fn verify(ctx: &Ctx, host: Option<&str>, read_data_subset: Option<&str>) -> Result<()> {
    let mut hosts = verify_hosts(ctx, host, read_data_subset).await?;
    if ctx.out.json {
        ctx.out.json(&serde_json::json!({ "compute": hosts }))?;
    } else {
        let rows: Vec<Vec<String>> = hosts.iter().map(verify_row).collect();
        ctx.out
            .table(&["HOST", "SNAPSHOT", "AGE", "DATA READ", "RESULT"], &rows)?;
    }
    let total = hosts.len();
    let failures = verify_failures(&mut hosts);
    outcome("verifying backups", total, failures)
}

super::host_outcome!(HostVerify);

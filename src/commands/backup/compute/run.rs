//! `backup run --compute`: a nightly restic snapshot of `[backup.compute] paths` on each host,
//! verified (listed afterwards with those paths), reported per host.

use std::time::Duration;

use futures::StreamExt;
use serde::Serialize;

use super::{
    Failure, MAX_HOSTS_AT_ONCE, NIGHTLY_TAGS, backup_config, connect, human_bytes, outcome,
    select_hosts,
};
use crate::Ctx;
use crate::compute::restic::{Repo, Restic, ResticError};
use crate::config::{ComputeBackup, ComputeHost};
use crate::core::progress::Progress;
use crate::error::{Error, Result};
use crate::exec::World;

/// One host's part of a `backup run`.
#[derive(Debug, Serialize)]
pub struct HostBackup {
    pub host: String,
    /// `ok`, `incomplete` (a snapshot missing some files), `failed` or `would_back_up` (`--check`).
    pub status: &'static str,
    pub paths: Vec<String>,
    pub snapshot_id: Option<String>,
    pub short_id: Option<String>,
    pub files: u64,
    pub bytes: u64,
    /// Bytes added to the repository (after deduplication).
    pub added: u64,
    pub duration_ms: u64,
    pub error: Option<String>,
    /// Whether trying again later may help (only with an error).
    pub transient: bool,
    #[serde(skip)]
    failure: Option<Error>,
}

/// A `backup run` over the compute hosts.
#[derive(Debug, Serialize)]
pub struct RunReport {
    pub repository: String,
    pub hosts: Vec<HostBackup>,
}
fn transient(e: &ResticError) -> bool {
    e.is_transient()
}

async fn backup_one(
    world: &World,
    b: &ComputeBackup,
    host: &ComputeHost,
    progress: Box<dyn Progress>,
) -> HostBackup {
    let mut r = HostBackup {
        host: host.name.clone(),
        status: "failed",
        paths: b.paths.clone(),
        snapshot_id: None,
        short_id: None,
        files: 0,
        bytes: 0,
        added: 0,
        duration_ms: 0,
        error: None,
        transient: false,
        failure: None,
    };
    progress.set_message("connecting");
    let session = match connect(world, host).await {
        Ok(s) => s,
        Err(e) => {
            progress.finish("failed to connect");
            r.error = Some(e.to_string());
            r.failure = Some(e);
            return r;
        }
    };
    let restic = Restic::new(&session, Repo::from_config(b));
    progress.set_message(&format!("backing up {}", b.paths.join(", ")));
    let tags: Vec<String> = NIGHTLY_TAGS.iter().map(|t| t.to_string()).collect();
    let result = match restic.require().await {
        Ok(()) => restic.backup(&b.paths, &tags, &host.name).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(done) => {
            r.status = "ok";
            r.snapshot_id = Some(done.snapshot.id.to_string());
            r.short_id = Some(done.snapshot.id.short().to_string());
            r.files = done.summary.total_files_processed;
            r.bytes = done.summary.total_bytes_processed;
            r.added = done.summary.data_added;
            r.duration_ms = u64::try_from(done.elapsed.as_millis()).unwrap_or(u64::MAX);
            progress.finish(&format!(
                "snapshot {} verified: {} files, {} in {}",
                done.snapshot.id.short(),
                r.files,
                human_bytes(r.bytes),
                humantime::format_duration(Duration::from_millis(r.duration_ms))
            ));
        }
        Err(e) => {
            if let ResticError::Incomplete { snapshot_id, .. } = &e {
                r.status = "incomplete";
                r.short_id = snapshot_id.clone();
            }
            r.transient = transient(&e);
            progress.finish(r.status);
            let err: Error = match &e {
                ResticError::RepoMissing { .. } => Error::Failed(format!(
                    "{e}; or, from here: matelot backup init --compute --host {}",
                    host.name
                )),
                _ => e.into(),
            };
            r.error = Some(err.to_string());
            r.failure = Some(err);
        }
    }
    r
}

/// Back up `[backup.compute] paths` on the selected hosts (tags `matelot`, `nightly`) and
/// verify each snapshot; with `--check`, only say what would be backed up.
pub async fn backup_hosts(ctx: &Ctx, host: Option<&str>) -> Result<RunReport> {
    let cfg = ctx.config()?;
    let b = backup_config(cfg)?;
    let hosts = select_hosts(cfg, host)?;
    let repository = Repo::from_config(b).display();
    if ctx.check() {
        let hosts = hosts
            .iter()
            .map(|h| HostBackup {
                host: h.name.clone(),
                status: "would_back_up",
                paths: b.paths.clone(),
                snapshot_id: None,
                short_id: None,
                files: 0,
                bytes: 0,
                added: 0,
                duration_ms: 0,
                error: None,
                transient: false,
                failure: None,
            })
            .collect();
        return Ok(RunReport { repository, hosts });
    }
    let world = ctx.world()?;
    let work: Vec<_> = hosts
        .into_iter()
        .map(|h| backup_one(world, b, h, ctx.out.progress(&format!("backup {}", h.name))))
        .collect();
    let hosts: Vec<HostBackup> = futures::stream::iter(work)
        .buffered(MAX_HOSTS_AT_ONCE)
        .collect()
        .await;
    Ok(RunReport { repository, hosts })
}

impl RunReport {
    /// The hosts that failed (each typed error taken once), for the exit-code policy.
    pub fn take_failures(&mut self) -> Vec<Failure> {
        super::failures(&mut self.hosts)
    }
}

/// `matelot backup run --compute [HOST]`: back up, print the report, exit 0 only if every host
/// has a complete, verified snapshot.
pub async fn run(ctx: &Ctx, host: Option<&str>) -> Result<()> {
    let mut report = backup_hosts(ctx, host).await?;
    if ctx.out.json {
        ctx.out.json(&report)?;
    } else {
        let rows: Vec<Vec<String>> = report
            .hosts
            .iter()
            .map(|h| {
                vec![
                    h.host.clone(),
                    h.status.to_string(),
                    h.short_id.clone().unwrap_or_else(|| "-".into()),
                    h.files.to_string(),
                    human_bytes(h.bytes),
                    format!("{:.1}s", h.duration_ms as f64 / 1000.0),
                    h.paths.join(" "),
                ]
            })
            .collect();
        ctx.out.table(
            &[
                "HOST", "STATUS", "SNAPSHOT", "FILES", "SIZE", "TIME", "PATHS",
            ],
            &rows,
        )?;
    }
    let failures = report.take_failures();
    outcome("backup", report.hosts.len(), failures)
}

super::host_outcome!(HostBackup);

//! `backup prune --compute`: apply `[backup.compute] keep` to the nightly snapshots of each host
//! and prune the repository. Moderate: y/N on a terminal, `--yes` in scripts; `--check` is a
//! restic dry run. Restore points (tagged `op-N`, never `nightly`) are not touched.

use futures::StreamExt;
use serde::Serialize;

use super::{
    MAX_HOSTS_AT_ONCE, NIGHTLY_TAGS, backup_config, connect, outcome, runtime, select_hosts,
};
use crate::Ctx;
use crate::compute::restic::{Repo, Restic, SnapshotFilter};
use crate::config::{ComputeBackup, ComputeHost, Config};
use crate::core::guard::{self, Consent, Decision, Tier};
use crate::error::{Error, Result};

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
    let may_prompt = ctx.out.can_prompt();
    let dry_run = ctx.global.check;
    Ok(futures::stream::iter(hosts)
        .map(|h| prune_one(cfg, b, h, may_prompt, dry_run))
        .buffered(MAX_HOSTS_AT_ONCE)
        .collect()
        .await)
}

async fn prune_one(
    cfg: &Config,
    b: &ComputeBackup,
    h: &ComputeHost,
    may_prompt: bool,
    dry_run: bool,
) -> HostPrune {
    let mut r = HostPrune {
        host: h.name.clone(),
        dry_run,
        kept: 0,
        removed: Vec::new(),
        error: None,
        failure: None,
    };
    let got: Result<_> = async {
        let session = connect(cfg, h, may_prompt).await?;
        let filter = SnapshotFilter {
            host: Some(h.name.clone()),
            tags: NIGHTLY_TAGS.iter().map(|t| t.to_string()).collect(),
            ..Default::default()
        };
        let done = Restic::new(&session, Repo::from_config(b))
            .forget_prune(&b.keep, &filter, dry_run)
            .await?;
        let _ = session.close().await;
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

/// Consent for a prune (moderate): `--yes`, or y/N on a terminal; no terminal and no `--yes`
/// is refused (exit 3). `--check` needs none (it is a dry run).
pub fn confirm_prune(ctx: &Ctx, yes: bool) -> Result<()> {
    if ctx.global.check {
        return Ok(());
    }
    let consent = Consent {
        yes,
        confirm: None,
        can_prompt: ctx.out.can_prompt(),
    };
    match guard::decide(Tier::Moderate, "compute backups", false, &consent) {
        Decision::Proceed => Ok(()),
        Decision::Refuse(why) => Err(Error::refused(why)),
        Decision::AskYesNo | Decision::AskExactName(_) => {
            let ok = dialoguer::Confirm::new()
                .with_prompt("Forget nightly compute snapshots beyond [backup.compute] keep and prune the repository?")
                .default(false)
                .interact_on(&console::Term::stderr())
                .map_err(|e| Error::failed(format!("reading the answer: {e}")))?;
            if ok {
                Ok(())
            } else {
                Err(Error::refused("declined: nothing was pruned"))
            }
        }
    }
}

/// `matelot backup prune --compute [--yes]`: moderate, so y/N on a terminal or `--yes`;
/// `--check` shows what would be forgotten without asking.
pub fn prune(ctx: &Ctx, host: Option<&str>, yes: bool) -> Result<()> {
    confirm_prune(ctx, yes)?;
    let mut hosts = runtime()?.block_on(prune_hosts(ctx, host))?;
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
    let failures = hosts
        .iter_mut()
        .filter(|h| h.error.is_some())
        .map(|h| {
            (
                h.host.clone(),
                h.failure.take(),
                h.error.clone().unwrap_or_default(),
            )
        })
        .collect();
    outcome("prune", total, failures)
}

//! The compute half of `matelot backup run|list|verify|prune|init`: restic on every configured
//! compute host (or one), against `[backup.compute]`, over the run's SSH sessions. The
//! `backup` noun (`commands/backup/`) wires them in and may merge their reports with the
//! Cloudron half, so each verb comes as `*_hosts` (data, `Serialize`) and as a function that
//! also renders it (table or one JSON document) and maps failures to exit codes.
//!
//! Hosts are worked on concurrently (at most [`MAX_HOSTS_AT_ONCE`]); one host failing does not
//! stop the others, and the exit code says so (4 partly done, 1 nothing done). A repository is
//! created only by `backup init` (explicitly): elsewhere a missing one is an error that says how.
//! Backups are mild (no prompt); prune is moderate (y/N on a terminal, `--yes` in scripts).
//!
//! `init.rs`, `run.rs`, `list.rs`, `verify.rs` and `prune.rs` hold one verb each; this file holds what they share:
//! host selection, connection, the exit-code policy.

use std::sync::Arc;

use crate::compute::Session;
use crate::config::{ComputeBackup, ComputeHost, Config};
use crate::error::{Error, Result};
use crate::exec::World;

mod init;
mod list;
mod prune;
mod run;
mod verify;

pub use init::{HostInit, InitReport, init_hosts, render_init};
pub use list::{HostSnapshots, list, list_hosts};
pub use prune::{HostPrune, prune, prune_hosts, render_prune};
pub use run::{HostBackup, RunReport, backup_hosts, run};
pub use verify::{HostVerify, verify, verify_failures, verify_hosts, verify_row};

/// Hosts backed up (or listed, pruned) at the same time.
pub const MAX_HOSTS_AT_ONCE: usize = 4;

/// Tags of a nightly backup.
pub const NIGHTLY_TAGS: [&str; 2] = ["matelot", "nightly"];

/// A host that failed: its name, the typed error (taken once), the message.
pub type Failure = (String, Option<Error>, String);

pub fn backup_config(cfg: &Config) -> Result<&ComputeBackup> {
    cfg.backup.compute.as_ref().ok_or_else(|| {
        Error::Config(vec![
            "no [backup.compute] table: add repository, password_file (and paths, keep) to back up the compute hosts"
                .into(),
        ])
    })
}

/// Every configured host, or the one called `name` (a usage error lists the configured ones).
pub fn select_hosts<'c>(cfg: &'c Config, name: Option<&str>) -> Result<Vec<&'c ComputeHost>> {
    if cfg.compute.is_empty() {
        return Err(Error::Config(vec![
            "no compute hosts configured: add a [compute.NAME] table".into(),
        ]));
    }
    match name {
        None => Ok(cfg.compute.values().collect()),
        Some(n) => cfg.compute.get(n).map(|h| vec![h]).ok_or_else(|| {
            let names: Vec<&str> = cfg.compute.keys().map(String::as_str).collect();
            Error::usage(format!(
                "no compute host named {n}; configured: {}",
                names.join(", ")
            ))
        }),
    }
}

/// The host's session, from the run's world (connected on first use).
pub(super) async fn connect(world: &World, host: &ComputeHost) -> Result<Arc<Session>> {
    world.host(&host.name).await
}

/// One host's part of a report that can fail: its name, its message, and the typed error
/// (taken once, for the exit-code policy).
pub trait HostOutcome {
    fn host(&self) -> &str;
    fn error(&self) -> Option<&String>;
    fn take_failure(&mut self) -> Option<Error>;
}

/// The hosts that failed, each typed error taken once.
pub fn failures<T: HostOutcome>(hosts: &mut [T]) -> Vec<Failure> {
    hosts
        .iter_mut()
        .filter(|h| h.error().is_some())
        .map(|h| {
            let msg = h.error().cloned().unwrap_or_default();
            (h.host().to_string(), h.take_failure(), msg)
        })
        .collect()
}

/// Implement [`HostOutcome`] for a report row with `host`, `error` and `failure` fields.
macro_rules! host_outcome {
    ($t:ty) => {
        impl $crate::commands::backup::compute::HostOutcome for $t {
            fn host(&self) -> &str {
                &self.host
            }
            fn error(&self) -> Option<&String> {
                self.error.as_ref()
            }
            fn take_failure(&mut self) -> Option<$crate::error::Error> {
                self.failure.take()
            }
        }
    };
}
pub(crate) use host_outcome;

/// Exit code policy for work on compute hosts (see [`outcome_over`]).
pub(super) fn outcome(what: &str, total: usize, failures: Vec<Failure>) -> Result<()> {
    outcome_over(what, "compute hosts", total, failures)
}

/// Exit code policy over `total` targets: all fine -> Ok; one target and it failed -> its own
/// error; some failed -> Partial (4); all failed -> Failed (1).
pub fn outcome_over(
    what: &str,
    targets: &str,
    total: usize,
    mut failures: Vec<Failure>,
) -> Result<()> {
    if failures.is_empty() {
        return Ok(());
    }
    if total == 1
        && let Some((_, Some(e), _)) = failures.pop()
    {
        return Err(e);
    }
    let lines: Vec<String> = failures
        .iter()
        .map(|(h, _, m)| format!("  {h}: {m}"))
        .collect();
    let msg = format!(
        "{what} failed on {} of {total} {targets}:\n{}",
        failures.len(),
        lines.join("\n")
    );
    if failures.len() < total {
        Err(Error::Partial(msg))
    } else {
        Err(Error::Failed(msg))
    }
}
/// `1.5 MiB`, `812 B`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut i = 0;
    while v >= 1024.0 && i < UNITS.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[i])
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_human() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(5 * 1024 * 1024 * 1024), "5.0 GiB");
    }

    #[test]
    fn the_exit_code_says_how_much_failed() {
        assert!(outcome("backup", 2, vec![]).is_ok());
        let one = |h: &str| (h.to_string(), None, format!("{h} is down"));
        let partial = outcome("backup", 2, vec![one("a")]).expect_err("partial");
        assert_eq!(partial.exit_code(), 4);
        assert_eq!(
            partial.to_string(),
            "backup failed on 1 of 2 compute hosts:\n  a: a is down"
        );
        let all = outcome("backup", 2, vec![one("a"), one("b")]).expect_err("all");
        assert_eq!(all.exit_code(), 1);
        let own = outcome(
            "backup",
            1,
            vec![(
                "a".into(),
                Some(Error::refused("host key")),
                "host key".into(),
            )],
        )
        .expect_err("own");
        assert_eq!(own.exit_code(), 3);
    }

    #[test]
    fn hosts_are_selected_by_name() {
        let mut cfg = Config::default();
        assert_eq!(select_hosts(&cfg, None).expect_err("none").exit_code(), 2);
        for n in ["alpha", "beta"] {
            cfg.compute
                .insert(n.into(), ComputeHost::new(n, format!("{n}.example.org")));
        }
        assert_eq!(select_hosts(&cfg, None).expect("all").len(), 2);
        assert_eq!(
            select_hosts(&cfg, Some("beta")).expect("one")[0].name,
            "beta"
        );
        let e = select_hosts(&cfg, Some("gamma")).expect_err("unknown");
        assert_eq!(
            e.to_string(),
            "no compute host named gamma; configured: alpha, beta"
        );
        assert!(backup_config(&cfg).is_err());
    }
}

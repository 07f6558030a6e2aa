//! restic command lines, built by pure functions so every string sent to the compute host has
//! an exact-string test. restic runs on the host; the repository, the password file and the
//! cache directory reach it as `env NAME=VALUE` words quoted by `shlex`, never spliced into a
//! shell string by hand.
//!
//! Nothing here performs I/O. The password itself never appears: only the path of the file
//! that holds it on the host. Repository strings can carry credentials (`rest:https://u:p@...`),
//! so everything meant for a human goes through [`redact_repository`].

use super::error::ResticError;
pub use super::repo::{DEFAULT_CACHE_DIR, Repo, redact_in, redact_repository};
use crate::compute::command::RemoteCommand;
use crate::config::Keep;

/// `env RESTIC_REPOSITORY=.. RESTIC_PASSWORD_FILE=.. RESTIC_CACHE_DIR=.. restic ARGS...`
/// (`env` so that the quoted assignments stay assignments).
pub fn restic(repo: &Repo, args: &[&str]) -> Result<RemoteCommand, ResticError> {
    let mut argv = vec![
        "env".to_string(),
        format!("RESTIC_REPOSITORY={}", repo.repository),
        format!("RESTIC_PASSWORD_FILE={}", repo.password_file),
        format!("RESTIC_CACHE_DIR={}", repo.cache_dir),
        "restic".to_string(),
    ];
    argv.extend(args.iter().map(|a| a.to_string()));
    RemoteCommand::argv(argv).map_err(|e| ResticError::InvalidInput {
        what: format!("restic command: {e}"),
    })
}

/// Reads the repository's config: cheap, and tells missing / wrong password / fine apart.
pub fn probe(repo: &Repo) -> Result<RemoteCommand, ResticError> {
    restic(repo, &["cat", "config"])
}

/// `restic init` (it ignores `--json`).
pub fn init(repo: &Repo) -> Result<RemoteCommand, ResticError> {
    restic(repo, &["init"])
}

/// A tag restic can carry: not empty, no comma (restic splits `--tag a,b`), no whitespace.
pub fn check_tag(tag: &str) -> Result<(), ResticError> {
    if tag.is_empty()
        || tag.contains(',')
        || tag.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(ResticError::InvalidInput {
            what: format!("restic tag {tag:?}: tags must be non-empty, without commas or spaces"),
        });
    }
    Ok(())
}

/// A path to back up or restore: absolute (restic stores relative paths under a fake root,
/// which a later `--include` would not find).
pub fn check_path(path: &str) -> Result<(), ResticError> {
    if !path.starts_with('/') {
        return Err(ResticError::InvalidInput {
            what: format!("path {path:?}: restic paths must be absolute"),
        });
    }
    Ok(())
}

/// `/home/` and `/home` are the same path to restic: drop trailing slashes (not the root's).
pub fn normalize_path(path: &str) -> String {
    let t = path.trim_end_matches('/');
    if t.is_empty() {
        "/".to_string()
    } else {
        t.to_string()
    }
}

/// `restic backup --json --host HOST --tag T... -- PATH...`
pub fn backup(
    repo: &Repo,
    paths: &[String],
    tags: &[String],
    host: &str,
) -> Result<RemoteCommand, ResticError> {
    if paths.is_empty() {
        return Err(ResticError::InvalidInput {
            what: "restic backup: no paths to back up".into(),
        });
    }
    let mut args: Vec<&str> = vec!["backup", "--json", "--host", host];
    for t in tags {
        check_tag(t)?;
        args.extend(["--tag", t.as_str()]);
    }
    args.push("--");
    for p in paths {
        check_path(p)?;
        args.push(p.as_str());
    }
    restic(repo, &args)
}

/// Which snapshots to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SnapshotFilter {
    /// Snapshots taken with `--host` this name.
    pub host: Option<String>,
    /// Snapshots carrying every one of these tags.
    pub tags: Vec<String>,
    /// Snapshots of exactly these paths.
    pub paths: Vec<String>,
    /// Only these snapshot ids (full or short).
    pub ids: Vec<String>,
}

fn filter_args(filter: &SnapshotFilter) -> Result<Vec<String>, ResticError> {
    let mut args = Vec::new();
    if let Some(h) = &filter.host {
        args.extend(["--host".to_string(), h.clone()]);
    }
    if !filter.tags.is_empty() {
        for t in &filter.tags {
            check_tag(t)?;
        }
        args.extend(["--tag".to_string(), filter.tags.join(",")]);
    }
    for p in &filter.paths {
        check_path(p)?;
        args.extend(["--path".to_string(), normalize_path(p)]);
    }
    Ok(args)
}

/// `restic snapshots --json [--host H] [--tag a,b] [--path P]... [ID...]`
pub fn snapshots(repo: &Repo, filter: &SnapshotFilter) -> Result<RemoteCommand, ResticError> {
    let mut args = vec!["snapshots".to_string(), "--json".to_string()];
    args.extend(filter_args(filter)?);
    for id in &filter.ids {
        check_id(id)?;
        args.push(id.clone());
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    restic(repo, &refs)
}

/// A snapshot id given to restic: hex only (full or short).
pub fn check_id(id: &str) -> Result<(), ResticError> {
    if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ResticError::InvalidInput {
            what: format!("snapshot id {id:?}: expected hexadecimal digits"),
        });
    }
    Ok(())
}

/// `restic check [--read-data-subset S]` (it ignores `--json`).
pub fn check(repo: &Repo, read_data_subset: Option<&str>) -> Result<RemoteCommand, ResticError> {
    match read_data_subset {
        Some(s) => restic(repo, &["check", "--read-data-subset", s]),
        None => restic(repo, &["check"]),
    }
}

/// `restic restore ID --target TARGET --include PATH`
pub fn restore(
    repo: &Repo,
    id: &str,
    include: &str,
    target: &str,
) -> Result<RemoteCommand, ResticError> {
    check_id(id)?;
    check_path(include)?;
    check_path(target)?;
    let include = normalize_path(include);
    restic(
        repo,
        &[
            "restore",
            id,
            "--target",
            target,
            "--include",
            include.as_str(),
        ],
    )
}

/// Where `include` lands when restored under `target`: `/` + `/home/a` is `/home/a`,
/// `/tmp/r` + `/home/a` is `/tmp/r/home/a`.
pub fn restored_path(include: &str, target: &str) -> String {
    let include = normalize_path(include);
    let target = normalize_path(target);
    if target == "/" {
        include
    } else {
        format!("{target}{include}")
    }
}

/// `test -e PATH`: did a restore bring anything back?
pub fn exists(path: &str) -> Result<RemoteCommand, ResticError> {
    RemoteCommand::argv(["test", "-e", path]).map_err(|e| ResticError::InvalidInput {
        what: format!("path {path:?}: {e}"),
    })
}

/// `restic forget --json --prune [--dry-run] --keep-daily N ... [filter]`. A policy that keeps
/// nothing is refused: restic would then forget nothing, silently.
pub fn forget_prune(
    repo: &Repo,
    keep: &Keep,
    filter: &SnapshotFilter,
    dry_run: bool,
) -> Result<RemoteCommand, ResticError> {
    let mut args = vec![
        "forget".to_string(),
        "--json".to_string(),
        "--prune".to_string(),
    ];
    if dry_run {
        args.push("--dry-run".to_string());
    }
    let policy = [
        ("--keep-daily", keep.daily),
        ("--keep-weekly", keep.weekly),
        ("--keep-monthly", keep.monthly),
        ("--keep-yearly", keep.yearly),
    ];
    let mut any = false;
    for (flag, n) in policy {
        if let Some(n) = n.filter(|n| *n > 0) {
            any = true;
            args.extend([flag.to_string(), n.to_string()]);
        }
    }
    if !any {
        return Err(ResticError::InvalidInput {
            what:
                "retention policy keeps nothing: set keep = { daily = 7, ... } in [backup.compute]"
                    .into(),
        });
    }
    args.extend(filter_args(filter)?);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    restic(repo, &refs)
}

#[cfg(test)]
#[path = "command_tests.rs"]
mod tests;

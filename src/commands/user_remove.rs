//! `matelot user remove NAME [--on compute,cloudron]`: remove a person's accounts, one guarded
//! operation per side and host, each through `exec::guard` with its own restore point.
//!
//! On a compute host the restore point is `account_snapshot::take` (a restic snapshot of the
//! home tagged with the operation, plus the account's passwd, group, shadow and authorized_keys
//! lines), then `userdel -r`; undo is in `user_remove_undo.rs`. The Cloudron side is
//! in `user_remove_cloudron.rs`. This module never removes an account without a verified restore
//! point in the journal, and never builds a remote command string by hand.

use serde_json::json;

use crate::Ctx;
use crate::cli::user_remove::{Side, UserRemoveArgs};
use crate::compute::account_snapshot::{self, AccountError, check_username};
use crate::compute::command::{CommandError, RemoteCommand};
use crate::compute::restic::Repo;
use crate::compute::{ConnectOptions, Session, known_hosts_file};
use crate::config::{ComputeHost, Config};
use crate::core::guard::Tier;
use crate::error::{Error, Result};
use crate::exec::guard::{self, Applied, Destructive, Guarded, Outcome};
use crate::journal::{Journal, OpId, RestorePoint};

/// The restore point kind of a compute account.
pub const COMPUTE_ACCOUNT: &str = "compute.account";

/// `userdel -r NAME`: the account, its group if private, its home and mail spool.
pub fn userdel(username: &str) -> std::result::Result<RemoteCommand, CommandError> {
    RemoteCommand::argv(["userdel", "-r", username])
}

/// `lastlog -u NAME`.
pub fn lastlog(username: &str) -> std::result::Result<RemoteCommand, CommandError> {
    RemoteCommand::argv(["lastlog", "-u", username])
}

/// The last login from `lastlog -u` output: "never", or the columns after the username.
pub fn parse_lastlog(stdout: &str) -> Option<String> {
    let line = stdout.lines().nth(1)?;
    if line.contains("**Never logged in**") {
        return Some("never".to_string());
    }
    let rest = line
        .split_whitespace()
        .skip(1)
        .collect::<Vec<_>>()
        .join(" ");
    (!rest.is_empty()).then_some(rest)
}

pub fn run(ctx: &Ctx, args: UserRemoveArgs) -> Result<()> {
    check_username(&args.name)?;
    let cfg = ctx.config()?;
    let sides = if args.on.is_empty() {
        let mut v = Vec::new();
        if !cfg.compute.is_empty() {
            v.push(Side::Compute);
        }
        if cfg.cloudron.is_some() {
            v.push(Side::Cloudron);
        }
        v
    } else {
        args.on.clone()
    };
    if sides.is_empty() {
        return Err(Error::Config(vec![
            "nothing to remove from: configure [compute.NAME] hosts or a [cloudron]".into(),
        ]));
    }
    let _lock = if ctx.global.check {
        None
    } else {
        Some(ctx.run_lock()?)
    };
    let journal = ctx.journal()?;
    if !ctx.global.check {
        journal.reconcile_interrupted()?;
    }
    let mut done = Vec::new();
    let mut errors: Vec<Error> = Vec::new();
    if sides.contains(&Side::Compute) {
        for host in compute_hosts(cfg)? {
            match remove_on_host(ctx, cfg, &journal, host, &args) {
                Ok(o) => done.extend(o),
                Err(e) => errors.push(e),
            }
        }
    }
    if sides.contains(&Side::Cloudron) {
        match super::user_remove_cloudron::remove(ctx, &journal, &args) {
            Ok(o) => done.extend(o),
            Err(e) => errors.push(e),
        }
    }
    report(ctx, &done)?;
    match (errors.len(), done.is_empty()) {
        (0, _) => Ok(()),
        (1, true) => Err(errors.remove(0)),
        (_, true) => Err(Error::failed(join(&errors))),
        (_, false) => Err(Error::Partial(format!(
            "removed on some sides only; {}",
            join(&errors)
        ))),
    }
}

fn join(errors: &[Error]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

fn compute_hosts(cfg: &Config) -> Result<Vec<&ComputeHost>> {
    if cfg.compute.is_empty() {
        return Err(Error::Config(vec![
            "no compute hosts configured: add a [compute.NAME] table".into(),
        ]));
    }
    Ok(cfg.compute.values().collect())
}

fn report(ctx: &Ctx, done: &[Outcome]) -> Result<()> {
    if ctx.out.json {
        ctx.out.json(&json!({ "operations": done }))?;
        return Ok(());
    }
    for o in done {
        ctx.out.line(format!("operation {}: {}", o.op, o.summary))?;
        if let Some(rp) = &o.restore_point {
            ctx.out
                .line(format!("restore point: {} {}", rp.kind, rp.id))?;
        }
        ctx.out.line(format!("undo: {}", o.undo))?;
    }
    Ok(())
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::failed(format!("cannot start the async runtime: {e}")))
}

pub(crate) fn connect(
    rt: &tokio::runtime::Runtime,
    ctx: &Ctx,
    cfg: &Config,
    host: &ComputeHost,
) -> Result<Session> {
    let opts = ConnectOptions {
        may_prompt: ctx.out.can_prompt(),
        ..ConnectOptions::default()
    };
    Ok(rt.block_on(Session::connect(host, &known_hosts_file(cfg, host), &opts))?)
}

pub(crate) fn repo(cfg: &Config) -> Result<Repo> {
    cfg.backup
        .compute
        .as_ref()
        .map(Repo::from_config)
        .ok_or_else(|| {
            Error::Config(vec![
                "no [backup.compute] table: a compute account is only removed after a restic \
             snapshot of its home, so add repository and password_file"
                    .into(),
            ])
        })
}

struct RemoveAccount<'a> {
    rt: &'a tokio::runtime::Runtime,
    session: &'a Session,
    repo: &'a Repo,
    name: &'a str,
    host: &'a str,
}

impl Destructive for RemoveAccount<'_> {
    fn restore_point(&mut self, op: OpId) -> Result<Option<RestorePoint>> {
        let rp = self.rt.block_on(account_snapshot::take(
            self.session,
            self.repo,
            self.name,
            op.0,
        ))?;
        let id = rp
            .snapshot_id
            .as_ref()
            .map_or_else(|| "no-home".to_string(), |s| s.as_str().to_string());
        let details = serde_json::to_value(&rp)
            .map_err(|e| Error::failed(format!("cannot record the restore point: {e}")))?;
        Ok(Some(RestorePoint {
            kind: COMPUTE_ACCOUNT.into(),
            id,
            details,
        }))
    }

    fn apply(
        &mut self,
        _op: OpId,
        _rp: Option<&RestorePoint>,
    ) -> std::result::Result<String, Applied> {
        let cmd =
            userdel(self.name).map_err(|e| Applied::NotApplied(Error::usage(e.to_string())))?;
        let out = self
            .rt
            .block_on(self.session.run(&cmd, None, None))
            .map_err(|e| Applied::Unknown(e.into()))?;
        match self
            .rt
            .block_on(account_snapshot::capture(self.session, self.name))
        {
            Err(AccountError::NoSuchAccount { .. }) => {
                Ok(format!("{} removed on {}", self.name, self.host))
            }
            Ok(_) => Err(Applied::NotApplied(Error::failed(format!(
                "userdel -r {} on {} {}: {}; the account is still there",
                self.name,
                self.host,
                out.describe_end(),
                out.stderr_text().trim()
            )))),
            Err(e) => Err(Applied::Unknown(e.into())),
        }
    }
}

fn remove_on_host(
    ctx: &Ctx,
    cfg: &Config,
    journal: &Journal,
    host: &ComputeHost,
    args: &UserRemoveArgs,
) -> Result<Vec<Outcome>> {
    let rt = runtime()?;
    let session = connect(&rt, ctx, cfg, host)?;
    let name = args.name.as_str();
    let captured = match rt.block_on(account_snapshot::capture(&session, name)) {
        Err(AccountError::NoSuchAccount { .. }) => {
            ctx.out.info(format!(
                "{name} has no account on {}: nothing to remove there",
                host.name
            ));
            return Ok(Vec::new());
        }
        other => other?,
    };
    let repo = repo(cfg)?;
    let last = rt
        .block_on(session.run(
            &lastlog(name).map_err(|e| Error::usage(e.to_string()))?,
            None,
            None,
        ))
        .ok()
        .filter(|o| o.success())
        .and_then(|o| parse_lastlog(&o.stdout_text()))
        .unwrap_or_else(|| "unknown (lastlog gave nothing)".into());
    let groups: Vec<String> = captured
        .groups
        .iter()
        .filter_map(|l| l.split(':').next().map(str::to_string))
        .collect();
    let home = captured
        .passwd
        .as_deref()
        .and_then(|p| p.split(':').nth(5))
        .unwrap_or("-")
        .to_string();
    let size = captured.home_bytes.map_or_else(
        || "no home directory".to_string(),
        super::backup_compute::human_bytes,
    );
    let g = Guarded {
        kind: "user.remove".into(),
        target: format!("user:{name}@{}", host.name),
        confirm_name: name.to_string(),
        tier: Tier::Severe,
        impact: vec![
            (
                "Person".into(),
                format!("{name} on compute host {}", host.name),
            ),
            ("Home".into(), format!("{home} ({size})")),
            (
                "Groups".into(),
                if groups.is_empty() {
                    "-".into()
                } else {
                    groups.join(", ")
                },
            ),
            ("Last login".into(), last),
            (
                "SSH keys".into(),
                if captured.keys_b64.is_some() {
                    "authorized_keys present"
                } else {
                    "none"
                }
                .into(),
            ),
        ],
        steps: vec![
            format!(
                "restore point: restic snapshot of {home} into {} tagged matelot, op-N, \
                 user-{name} (checked listed), plus the passwd, group, shadow and \
                 authorized_keys lines",
                repo.display()
            ),
            format!(
                "remove: userdel -r {name} on {}, check the account is gone",
                host.name
            ),
            "journal: the operation, its restore point and `matelot undo N`".into(),
        ],
        planned: json!({"change": "user.remove", "side": "compute", "host": host.name, "username": name}),
        protected: None,
    };
    let mut action = RemoveAccount {
        rt: &rt,
        session: &session,
        repo: &repo,
        name,
        host: &host.name,
    };
    Ok(guard::run(
        ctx,
        journal,
        &g,
        false,
        args.confirm.as_deref(),
        &mut action,
    )?
    .into_iter()
    .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_commands_are_exact() {
        assert_eq!(
            userdel("alice").map(|c| c.as_str().to_string()).ok(),
            Some("userdel -r alice".into())
        );
        assert_eq!(
            lastlog("bob").map(|c| c.as_str().to_string()).ok(),
            Some("lastlog -u bob".into())
        );
    }

    #[test]
    fn last_login_is_read_from_lastlog() {
        let never = "Username         Port     From             Latest\nalice                                      **Never logged in**\n";
        assert_eq!(parse_lastlog(never).as_deref(), Some("never"));
        let seen = "Username         Port     From             Latest\nbob              pts/0    10.0.0.5         Mon Jun  2 09:12:01 +0000 2025\n";
        assert_eq!(
            parse_lastlog(seen).as_deref(),
            Some("pts/0 10.0.0.5 Mon Jun 2 09:12:01 +0000 2025")
        );
        assert_eq!(parse_lastlog(""), None);
    }
}

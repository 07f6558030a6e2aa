//! `matelot user remove NAME [--on SYSTEMS] [--confirm NAME]`: severe. One change per system
//! where the person has an account (each compute host, the Cloudron), each with its own
//! verified restore point (a restic snapshot of the home plus the account's lines; the
//! Cloudron user's record, groups and app access), through the one path. What is lost is
//! shown first; the username is typed once (or passed to `--confirm`).

use std::sync::Arc;

use crate::Ctx;
use crate::cli::user::UserRemoveArgs;
use crate::cloudron::Client;
use crate::compute::Session;
use crate::compute::account_snapshot::{self, AccountError, check_username};
use crate::compute::command::RemoteCommand;
use crate::compute::restic::Repo;
use crate::core::guard::Tier;
use crate::error::{Error, Result};
use crate::exec::accounts::Targets;
use crate::exec::user_remove::{RemoveCloudronUser, RemoveHostAccount, capture};
use crate::exec::{Action, Batch, Consent, outcome};
use crate::output::impact::Impact;

/// `lastlog -u NAME`.
pub fn lastlog(username: &str) -> Result<RemoteCommand> {
    RemoteCommand::argv(["lastlog", "-u", username]).map_err(|e| Error::usage(e.to_string()))
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

pub async fn remove(ctx: &Ctx, args: UserRemoveArgs) -> Result<()> {
    check_username(&args.name)?;
    let cfg = ctx.config()?;
    let targets = Targets::select(cfg, &args.on.on).map_err(Error::Usage)?;
    if targets.hosts.is_empty() && targets.cloudron.is_none() {
        return Err(Error::Config(vec![
            "nothing to remove from: configure [compute.NAME] hosts or a [cloudron]".into(),
        ]));
    }
    let run = ctx.begin_run().await?;
    let world = ctx.world()?;
    let name = args.name.as_str();
    let mut actions: Vec<Box<dyn Action>> = Vec::new();
    let mut shown: Vec<Impact> = Vec::new();
    for host in &targets.hosts {
        let session = world.host(&host.name).await?;
        if let Some((action, impact)) = on_host(ctx, session, name).await? {
            actions.push(Box::new(action));
            shown.push(impact);
        }
    }
    if targets.cloudron.is_some() {
        let c = world.cloudron()?;
        if let Some((action, impact)) = on_cloudron(ctx, c, name).await? {
            actions.push(Box::new(action));
            shown.push(impact);
        }
    }
    if actions.is_empty() {
        ctx.out.info(format!(
            "{name} has no account on the systems asked: nothing to remove"
        ));
        return report(ctx, &[]);
    }
    if run.is_check() {
        if ctx.out.json {
            ctx.out
                .json(&serde_json::json!({ "check": true, "removals": shown }))?;
        } else {
            for s in &shown {
                for line in s.render() {
                    ctx.out.line(line)?;
                }
            }
            ctx.out.line("(--check: nothing was changed)")?;
        }
        return Ok(());
    }
    for s in &shown {
        s.announce(&ctx.out);
    }
    let batch = Batch {
        actions,
        consent: Consent {
            yes: false,
            confirm: args.confirm.into_iter().collect(),
        },
        question: format!("Remove {name}?"),
        concurrency: 1,
        no_prompt_refusal: None,
    };
    let done = run.execute(batch).await?.unwrap_or_default();
    report(ctx, &done)?;
    outcome(&done)
}

fn report(ctx: &Ctx, done: &[crate::exec::Executed]) -> Result<()> {
    if ctx.out.json {
        ctx.out.json(&serde_json::json!({ "operations": done }))?;
        return Ok(());
    }
    for o in done.iter().filter(|o| o.status.changed_something()) {
        ctx.out.line(format!("operation {}: {}", o.op, o.summary))?;
        if let Some(rp) = &o.restore_point {
            ctx.out.line(format!("restore point: {}", rp.describe()))?;
        }
        if let Some(u) = &o.undo {
            ctx.out.line(format!("undo: {u}"))?;
        }
    }
    Ok(())
}

fn repo(ctx: &Ctx) -> Result<Repo> {
    ctx.config()?
        .backup
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

/// The removal on one host, if the person has an account there.
async fn on_host(
    ctx: &Ctx,
    session: Arc<Session>,
    name: &str,
) -> Result<Option<(RemoveHostAccount, Impact)>> {
    let host = session.host().name.clone();
    let captured = match account_snapshot::capture(&session, name).await {
        Err(AccountError::NoSuchAccount { .. }) => {
            ctx.out.info(format!(
                "{name} has no account on {host}: nothing to remove there"
            ));
            return Ok(None);
        }
        other => other?,
    };
    let repo = repo(ctx)?;
    let last = session
        .run(&lastlog(name)?, None, None)
        .await
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
        crate::commands::backup::compute::human_bytes,
    );
    let impact = Impact {
        kind: "user.remove".into(),
        target: format!("user:{name}@{host}"),
        tier: Tier::Severe,
        confirm: name.to_string(),
        lines: vec![
            ("Person".into(), format!("{name} on compute host {host}")),
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
            format!("remove: userdel -r {name} on {host}, check the account is gone"),
            "journal: the operation, its restore point and `matelot undo N`".into(),
        ],
        protected: None,
    };
    Ok(Some((
        RemoveHostAccount {
            session,
            repo,
            username: name.to_string(),
        },
        impact,
    )))
}

/// The removal on the Cloudron, if the person has a user there.
async fn on_cloudron(
    ctx: &Ctx,
    c: &Client,
    name: &str,
) -> Result<Option<(RemoveCloudronUser, Impact)>> {
    let users = c.list_users().await?;
    let Some(user) = users.into_iter().find(|u| {
        u.username
            .as_deref()
            .is_some_and(|n| n.eq_ignore_ascii_case(name))
    }) else {
        ctx.out.info(format!(
            "{name} has no Cloudron account: nothing to remove there"
        ));
        return Ok(None);
    };
    let point = capture(c, &user.id).await?;
    let apps = c.list_apps().await?;
    let fqdns = |ids: &[String]| -> String {
        let v: Vec<String> = apps
            .iter()
            .filter(|a| ids.contains(&a.id))
            .map(|a| a.fqdn.clone())
            .collect();
        if v.is_empty() {
            "-".into()
        } else {
            v.join(", ")
        }
    };
    let everyone: Vec<String> = apps
        .iter()
        .filter(|a| a.access_restriction.is_none())
        .map(|a| a.fqdn.clone())
        .collect();
    let impact = Impact {
        kind: "user.remove".into(),
        target: format!("user:{name}@cloudron"),
        tier: Tier::Severe,
        confirm: name.to_string(),
        lines: vec![
            (
                "Person".into(),
                format!(
                    "{name} <{}> on the Cloudron ({})",
                    user.email,
                    user.role.as_str()
                ),
            ),
            (
                "Groups".into(),
                if point.group_names.is_empty() {
                    "-".into()
                } else {
                    point.group_names.join(", ")
                },
            ),
            ("Apps (by name)".into(), fqdns(&point.apps_by_user)),
            ("Apps (by group)".into(), fqdns(&point.apps_by_group)),
            (
                "Apps (everyone)".into(),
                if everyone.is_empty() {
                    "-".into()
                } else {
                    everyone.join(", ")
                },
            ),
        ],
        steps: vec![
            "restore point: the user's record, groups and app access, re-read from the Cloudron"
                .into(),
            format!("remove: DELETE /api/v1/users/{}, check it is gone", user.id),
            "journal: the operation, its restore point and `matelot undo N`".into(),
        ],
        protected: None,
    };
    Ok(Some((
        RemoveCloudronUser {
            client: c.clone(),
            user,
            username: name.to_string(),
        },
        impact,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lastlog_is_exact_and_parsed() {
        assert_eq!(
            lastlog("bob").map(|c| c.as_str().to_string()).ok(),
            Some("lastlog -u bob".into())
        );
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

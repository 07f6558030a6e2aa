//! `matelot host list|check|trust`: the configured compute hosts, a connection check, and the
//! one way a host key enters matelot's known_hosts (after the operator confirmed it, or with a
//! matching `--fingerprint`). A changed or revoked key is refused here too: no flag of this
//! command can override it. `list` and `check` change nothing.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures::FutureExt;
use serde::Serialize;

use crate::Ctx;
use crate::cli::host::HostCmd;
use crate::compute::known_hosts::{Entry, KnownHosts, append_entry, parse_fingerprint};
use crate::compute::ssh::{display_addr, refusal};
use crate::compute::{ConnectOptions, Decision, RemoteCommand, Session, fetch_host_key};
use crate::config::{ComputeHost, Config};
use crate::core::guard::Tier;
use crate::error::{Error, Result};
use crate::exec::deferred::Deferred;
use crate::exec::{Applied, Batch, Consent, Failure, outcome};
use crate::journal::{HostTrustPlan, OpPlan};

pub async fn run(ctx: &Ctx, cmd: HostCmd) -> Result<()> {
    match cmd {
        HostCmd::List => list(ctx),
        HostCmd::Check { name } => check(ctx, &name).await,
        HostCmd::Trust { name, fingerprint } => trust(ctx, &name, fingerprint.as_deref()).await,
    }
}

/// The host called `name`, or a usage error listing the configured ones.
fn find<'a>(cfg: &'a Config, name: &str) -> Result<&'a ComputeHost> {
    cfg.compute.get(name).ok_or_else(|| {
        let names: Vec<&str> = cfg.compute.keys().map(String::as_str).collect();
        Error::usage(if names.is_empty() {
            format!("no compute host named {name}: the configuration has no [compute.NAME] table")
        } else {
            format!(
                "no compute host named {name}; configured: {}",
                names.join(", ")
            )
        })
    })
}

fn connect_options(ctx: &Ctx) -> ConnectOptions {
    ConnectOptions {
        may_prompt: ctx.out.can_prompt(),
        ..ConnectOptions::default()
    }
}

fn known_files(cfg: &Config, host: &ComputeHost, opts: &ConnectOptions) -> Vec<PathBuf> {
    let mut files = vec![crate::compute::known_hosts_file(cfg, host)];
    files.extend(opts.user_known_hosts.clone());
    files
}

#[derive(Serialize)]
struct KeyRow {
    algorithm: String,
    fingerprint: String,
    file: String,
    line: usize,
}

impl KeyRow {
    fn of(e: &Entry) -> Self {
        KeyRow {
            algorithm: e.key.algorithm.clone(),
            fingerprint: e.key.fingerprint(),
            file: e.at.file.display().to_string(),
            line: e.at.line,
        }
    }
}

#[derive(Serialize)]
struct HostRow {
    name: String,
    host: String,
    port: u16,
    user: String,
    identity: Option<String>,
    sudo: bool,
    known_hosts: String,
    host_key: &'static str,
    keys: Vec<KeyRow>,
}

fn list(ctx: &Ctx) -> Result<()> {
    let cfg = ctx.config()?;
    let opts = connect_options(ctx);
    let mut rows = Vec::new();
    for host in cfg.compute.values() {
        let files = known_files(cfg, host, &opts);
        let kh = KnownHosts::load(&files).map_err(|e| Error::failed(e.to_string()))?;
        let keys: Vec<KeyRow> = kh
            .entries_for(&host.host, host.port)
            .into_iter()
            .map(KeyRow::of)
            .collect();
        rows.push(HostRow {
            name: host.name.clone(),
            host: host.host.clone(),
            port: host.port,
            user: host.user.clone(),
            identity: host.identity.as_ref().map(|p| p.display().to_string()),
            sudo: host.sudo,
            known_hosts: files[0].display().to_string(),
            host_key: if keys.is_empty() { "unknown" } else { "known" },
            keys,
        });
    }
    if ctx.out.json {
        ctx.out.json(&serde_json::json!({ "hosts": rows }))?;
        return Ok(());
    }
    if rows.is_empty() {
        ctx.out
            .info("no compute hosts configured (add a [compute.NAME] table)");
        return Ok(());
    }
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.name.clone(),
                format!("{}:{}", r.host, r.port),
                if r.sudo {
                    format!("{} (sudo)", r.user)
                } else {
                    r.user.clone()
                },
                r.identity.clone().unwrap_or_else(|| "ssh-agent".into()),
                match r.keys.first() {
                    Some(k) => format!("known: {} {}", k.algorithm, k.fingerprint),
                    None => format!("unknown: matelot host trust {}", r.name),
                },
            ]
        })
        .collect();
    ctx.out
        .table(&["NAME", "ADDRESS", "USER", "IDENTITY", "HOST KEY"], &table)?;
    Ok(())
}

#[derive(Serialize)]
struct CheckReport {
    name: String,
    address: String,
    user: String,
    sudo: bool,
    host_key: KeyRow,
    system: String,
    uid: Option<u32>,
    privileged: bool,
    connect_ms: u128,
    total_ms: u128,
}

async fn check(ctx: &Ctx, name: &str) -> Result<()> {
    let cfg = ctx.config()?;
    let host = find(cfg, name)?;
    let kh = crate::compute::known_hosts_file(cfg, host);
    let opts = connect_options(ctx);
    let t0 = Instant::now();
    let (session, uname, id) = async {
        let session = Session::connect(host, &kh, &opts).await?;
        let uname = RemoteCommand::script("uname -a");
        let id = RemoteCommand::script("id -u");
        let (u, i) = futures::join!(
            session.run(&uname, None, None),
            session.run(&id, None, None)
        );
        Ok::<_, crate::compute::SshError>((session, u?, i?))
    }
    .await?;
    for (what, out) in [("uname -a", &uname), ("id -u", &id)] {
        if !out.success() {
            return Err(Error::failed(format!(
                "`{what}` on {name} ended with {}: {}",
                out.describe_end(),
                out.stderr_text().trim()
            )));
        }
    }
    let uid = id.stdout_text().trim().parse::<u32>().ok();
    let report = CheckReport {
        name: host.name.clone(),
        address: display_addr(host),
        user: host.user.clone(),
        sudo: host.sudo,
        host_key: KeyRow {
            algorithm: session.host_key().algorithm.clone(),
            fingerprint: session.host_key().fingerprint(),
            file: session.trusted_at().file.display().to_string(),
            line: session.trusted_at().line,
        },
        system: uname.stdout_text().trim().to_string(),
        uid,
        privileged: uid == Some(0),
        connect_ms: session.connect_time.as_millis(),
        total_ms: t0.elapsed().as_millis(),
    };
    if !report.privileged {
        ctx.out.warn(format!(
            "commands on {name} do not run as root (uid {}): account changes will fail; set sudo = true in [compute.{name}] or connect as root",
            uid.map_or("?".to_string(), |u| u.to_string())
        ));
    }
    if ctx.out.json {
        ctx.out.json(&report)?;
        return Ok(());
    }
    let k = &report.host_key;
    let rows = vec![
        vec![
            "host".into(),
            format!("{} ({})", report.name, report.address),
        ],
        vec![
            "user".into(),
            format!(
                "{}{}",
                report.user,
                if report.sudo { " (sudo)" } else { "" }
            ),
        ],
        vec![
            "host key".into(),
            format!("{} {} ({}:{})", k.algorithm, k.fingerprint, k.file, k.line),
        ],
        vec!["system".into(), report.system.clone()],
        vec!["uid".into(), uid.map_or("?".into(), |u| u.to_string())],
        vec![
            "connected".into(),
            format!("{} ms (total {} ms)", report.connect_ms, report.total_ms),
        ],
    ];
    ctx.out.table(&["CHECK", "RESULT"], &rows)?;
    Ok(())
}

#[derive(Serialize)]
struct TrustReport {
    name: String,
    address: String,
    algorithm: String,
    fingerprint: String,
    /// `recorded`, `already_trusted` or `would_record` (with `--check`).
    status: &'static str,
    known_hosts: String,
    line: Option<usize>,
}

async fn trust(ctx: &Ctx, name: &str, fingerprint: Option<&str>) -> Result<()> {
    let expected = fingerprint
        .map(parse_fingerprint)
        .transpose()
        .map_err(Error::usage)?;
    let cfg = ctx.config()?;
    let host = find(cfg, name)?;
    let kh = crate::compute::known_hosts_file(cfg, host);
    let opts = connect_options(ctx);
    let (key, decision) = fetch_host_key(host, &kh, &opts).await?;
    let fp = key.fingerprint();
    let mut report = TrustReport {
        name: host.name.clone(),
        address: display_addr(host),
        algorithm: key.algorithm.clone(),
        fingerprint: fp.clone(),
        status: "already_trusted",
        known_hosts: kh.display().to_string(),
        line: None,
    };
    match &decision {
        Decision::Trusted { at } => {
            report.known_hosts = at.file.display().to_string();
            report.line = Some(at.line);
            ctx.out.info(format!(
                "{name}: {} {fp} is already trusted ({at})",
                key.algorithm
            ));
            return emit(ctx, &report);
        }
        Decision::Changed { .. } | Decision::Revoked { .. } => {
            return Err(refusal(host, &key, &decision)
                .map(Error::from)
                .unwrap_or_else(|| Error::refused("host key refused")));
        }
        Decision::Unknown { cert_authority } => {
            ctx.out.info(format!(
                "{name} ({}) offers host key {} {fp}",
                report.address, key.algorithm
            ));
            if let Some(at) = cert_authority {
                ctx.out.warn(format!(
                    "the @cert-authority line at {at} matches {name}, but matelot does not support host certificates"
                ));
            }
        }
    }
    if let Some(want) = &expected
        && *want != fp
    {
        return Err(Error::refused(format!(
            "fingerprint mismatch for {name}: the host offers {fp}, --fingerprint says {want}; nothing recorded"
        )));
    }
    if ctx.check() {
        report.status = "would_record";
        ctx.out.info(format!(
            "--check: would record {} in {}",
            crate::compute::known_hosts::entry_line(&host.host, host.port, &key),
            report.known_hosts
        ));
        return emit(ctx, &report);
    }
    let run = ctx.begin_run().await?;
    let line = Arc::new(Mutex::new(None));
    let slot = Arc::clone(&line);
    let (kh2, key2) = (kh.clone(), key.clone());
    let work = async move {
        match append_entry(&kh2, &host.host, host.port, &key2) {
            Ok(at) => {
                let summary = format!(
                    "recorded {} {} for {name} at {at}",
                    key2.algorithm,
                    key2.fingerprint()
                );
                if let Ok(mut s) = slot.lock() {
                    *s = Some(at.line);
                }
                (Ok(Applied::done(summary)), None)
            }
            Err(e) => (
                Err(Failure::NotApplied(Error::failed(format!(
                    "cannot write {}: {e}",
                    kh2.display()
                )))),
                None,
            ),
        }
    }
    .boxed();
    let action = Deferred::new(
        OpPlan::HostTrust(HostTrustPlan {
            host: host.name.clone(),
            address: host.host.clone(),
            fingerprint: fp.clone(),
            known_hosts: kh.display().to_string(),
        }),
        format!("host:{name}"),
        Tier::Moderate,
        work,
    );
    let batch = Batch {
        no_prompt_refusal: Some(format!(
            "no terminal to confirm the host key of {name}: compare {fp} with the host's own \
             (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub on its console), then run: matelot \
             host trust {name} --fingerprint {fp}"
        )),
        ..Batch::one(
            action,
            Consent {
                yes: expected.is_some(),
                ..Consent::default()
            },
            format!(
                "Trust this key for {name} and record it in {}?",
                report.known_hosts
            ),
        )
    };
    let done = run.execute(batch).await?.unwrap_or_default();
    outcome(&done)?;
    report.status = "recorded";
    report.line = line.lock().ok().and_then(|l| *l);
    if let Some(e) = done.first() {
        ctx.out.info(&e.summary);
    }
    emit(ctx, &report)
}

fn emit(ctx: &Ctx, report: &TrustReport) -> Result<()> {
    if ctx.out.json {
        ctx.out.json(report)?;
    } else {
        let line = report.line.map_or(String::new(), |l| format!(":{l}"));
        ctx.out.line(format!(
            "{}  {}  {} {}  {}  {}{line}",
            report.name,
            report.address,
            report.algorithm,
            report.fingerprint,
            report.status,
            report.known_hosts
        ))?;
    }
    Ok(())
}

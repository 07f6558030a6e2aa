//! `matelot lab up|down|status`: run the Cloudron emulator as a detached background process
//! and N sandboxed compute hosts ([`super::hosts`]), and leave in the lab directory what a
//! client needs: `matelot.toml`, `cloudron.token` (0600), the CA file, the hosts' client keys
//! and `known_hosts`, a pid file and the [`LabState`] listing what was started. `down` stops
//! only processes whose command line proves they are ours, and hosts only through their state
//! directories.
//!
//! It never stops a process it did not start, never writes outside the lab directory, and a
//! start that fails half-way stops what it had started.

pub mod background;

use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::Duration;

use cloudron_emulator::CA_FILE;
use serde::{Deserialize, Serialize};

use self::background::{Ready, kill_and_wait, spawn_emulator, stop_pid, wait_ready};
use super::hosts::{self, HostsError, LabHost};
use super::labstate::{LabProcess, LabState};

pub const CONFIG_FILE: &str = "matelot.toml";
/// The lab's `[state] dir` (journal, lock), relative to the lab directory.
pub const LAB_STATE_DIR: &str = "state";
pub const TOKEN_FILE: &str = "cloudron.token";
pub const LOG_FILE: &str = "cloudron.log";
pub const PID_FILE: &str = "cloudron.pid";
pub const CLOUDRON_STATE_FILE: &str = "cloudron-state.json";

/// Why a lab command failed.
#[derive(Debug, thiserror::Error)]
pub enum UpError {
    #[error("{what} ({}): {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    State(String),
    #[error("the Cloudron emulator did not start: {reason}; its log says:\n{log}")]
    NotReady { reason: String, log: String },
    #[error(transparent)]
    Hosts(#[from] HostsError),
}

pub(super) fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> UpError {
    let path = path.to_path_buf();
    move |source| UpError::Io { what, path, source }
}

/// What `lab up` should start.
#[derive(Debug, Clone)]
pub struct UpOptions {
    pub dir: PathBuf,
    /// The `matelot` binary to run `lab serve-cloudron` with.
    pub exe: PathBuf,
    pub fresh: bool,
    pub seed: String,
    pub task_duration: Duration,
    /// How many sandboxed compute hosts to start (0: a Cloudron-only lab).
    pub hosts: usize,
}

/// One line of `lab status` (and of `lab up`'s report).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ProcessStatus {
    pub name: String,
    /// `cloudron` or `compute`.
    pub kind: String,
    pub running: bool,
    pub pid: Option<u32>,
    pub url: Option<String>,
    /// Where it listens.
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub port: Option<u16>,
}

/// What `lab up` / `lab status` report.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LabReport {
    pub dir: PathBuf,
    pub running: bool,
    /// `lab up` found it already running and started nothing.
    pub already_running: bool,
    pub config: Option<PathBuf>,
    pub processes: Vec<ProcessStatus>,
}

/// The lab directory, made absolute (created when `create`).
pub fn lab_dir(dir: &Path, create: bool) -> Result<PathBuf, UpError> {
    if create {
        std::fs::create_dir_all(dir).map_err(io("creating the lab directory", dir))?;
    }
    match dir.canonicalize() {
        Ok(d) => Ok(d),
        Err(_) if !create => Ok(std::env::current_dir()
            .map(|c| c.join(dir))
            .unwrap_or_else(|_| dir.to_path_buf())),
        Err(e) => Err(io("resolving the lab directory", dir)(e)),
    }
}

/// The `matelot.toml` the lab writes (paths relative to the file): the Cloudron, the state
/// directory and, with hosts, one `[compute.NAME]` each and `[backup.compute]`.
pub fn config_toml(cloudron_url: &str, hosts: &[(String, IpAddr, u16)]) -> String {
    format!(
        "# Written by `matelot lab up`; `matelot lab down` stops the lab. Regenerated on each `up`.\n\
         [cloudron]\n\
         url = \"{cloudron_url}\"\n\
         token_file = \"{TOKEN_FILE}\"\n\
         ca_file = \"{CA_FILE}\"\n\
         \n\
         [state]\n\
         dir = \"state\"\n{}",
        hosts::compute_toml(hosts)
    )
}

/// `(address, port)` of a process: from its details (hosts) or its URL (the emulator).
fn address_of(p: &LabProcess) -> (Option<String>, Option<u16>) {
    let addr = p.details.get("address").and_then(|v| v.as_str());
    let port = p.details.get("port").and_then(|v| v.as_u64());
    if let (Some(a), Some(port)) = (addr, port) {
        return (Some(a.to_string()), u16::try_from(port).ok());
    }
    match p.url.as_deref().map(url::Url::parse) {
        Some(Ok(u)) => (u.host_str().map(str::to_string), u.port_or_known_default()),
        _ => (None, None),
    }
}

fn status_of(p: &LabProcess, running: bool) -> ProcessStatus {
    let (address, port) = address_of(p);
    ProcessStatus {
        name: p.name.clone(),
        kind: p.kind.clone(),
        running,
        pid: Some(p.pid),
        url: p.url.clone(),
        address,
        port,
    }
}

fn report(dir: &Path, st: &LabState, already_running: bool) -> LabReport {
    let processes: Vec<ProcessStatus> = st
        .processes
        .iter()
        .map(|p| {
            let running = p.is_running();
            ProcessStatus {
                pid: running.then_some(p.pid),
                ..status_of(p, running)
            }
        })
        .collect();
    let config = dir.join(CONFIG_FILE);
    LabReport {
        dir: dir.to_path_buf(),
        running: !processes.is_empty() && processes.iter().all(|p| p.running),
        already_running,
        config: config.exists().then_some(config),
        processes,
    }
}

/// Start the lab (or report that it already runs).
pub fn up(opts: &UpOptions) -> Result<LabReport, UpError> {
    let dir = lab_dir(&opts.dir, true)?;
    if let Some(st) = LabState::load(&dir).map_err(UpError::State)? {
        let stopped: Vec<&str> = st
            .processes
            .iter()
            .filter(|p| !p.is_running())
            .map(|p| p.name.as_str())
            .collect();
        if !st.processes.is_empty() && stopped.is_empty() {
            return Ok(report(&dir, &st, true));
        }
        if stopped.len() < st.processes.len() {
            return Err(partly_running(&dir, &stopped.join(", ")));
        }
    }
    if !hosts::running_under(&dir).is_empty() {
        return Err(partly_running(&dir, "unrecorded hosts are running"));
    }
    if opts.hosts > 0 {
        // Before anything starts: say exactly what is missing.
        hosts::check_prerequisites()?;
    }
    if opts.fresh {
        for f in [CLOUDRON_STATE_FILE, CA_FILE, cloudron_emulator::CA_KEY_FILE] {
            match std::fs::remove_file(dir.join(f)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(io("removing the saved lab state", &dir.join(f))(e));
                }
                _ => {}
            }
        }
        // The lab's journal, lock and known hosts describe the estate that was just thrown
        // away: a fresh lab starts a fresh journal too.
        let state = dir.join(LAB_STATE_DIR);
        match std::fs::remove_dir_all(&state) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(io("removing the lab's journal", &state)(e));
            }
            _ => {}
        }
    }
    // The emulator starts while the hosts do.
    let mut child = spawn_emulator(&opts.exe, &dir, &opts.seed, opts.task_duration)?;
    let started = match hosts::start(&dir, opts.hosts) {
        Ok(h) => h,
        Err(e) => {
            stop_child(&mut child);
            return Err(e.into());
        }
    };
    match finish(&dir, &mut child, &started) {
        Ok(st) => Ok(report(&dir, &st, false)),
        Err(e) => {
            stop_child(&mut child);
            for h in &started {
                let _ = hosts::stop(&h.state_dir);
            }
            Err(e)
        }
    }
}

fn partly_running(dir: &Path, what: &str) -> UpError {
    UpError::State(format!(
        "the lab in {} is only partly running ({what}): stop it with `matelot lab down --dir {}` first",
        dir.display(),
        dir.display()
    ))
}

/// An emulator that never became ready (or whose lab could not be written) is not left behind.
fn stop_child(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Wait for the emulator, write the client files and the lab state.
fn finish(dir: &Path, child: &mut Child, started: &[LabHost]) -> Result<LabState, UpError> {
    let log_path = dir.join(LOG_FILE);
    let ready = wait_ready(child, &log_path)?;
    write_client_files(dir, &ready, started)?;
    let pid = child.id();
    let pid_path = dir.join(PID_FILE);
    std::fs::write(&pid_path, format!("{pid}\n")).map_err(io("writing the pid file", &pid_path))?;
    let now = cloudron_emulator::http::now_iso();
    let mut processes = vec![LabProcess {
        kind: "cloudron".into(),
        name: "cloudron".into(),
        pid,
        cmdline_marker: vec![
            "serve-cloudron".into(),
            "--dir".into(),
            dir.display().to_string(),
        ],
        started_at: now.clone(),
        log: log_path,
        url: Some(ready.url.clone()),
        details: serde_json::Map::new(),
    }];
    processes.extend(started.iter().map(|h| host_process(h, &now)));
    let st = LabState {
        version: 1,
        dir: dir.to_path_buf(),
        processes,
    };
    st.save().map_err(UpError::State)?;
    Ok(st)
}

/// The `lab.json` entry of a host: its `unshare` process, proved by the init script, state
/// directory, port, address and name on its command line.
fn host_process(h: &LabHost, now: &str) -> LabProcess {
    let mut details = serde_json::Map::new();
    details.insert("address".into(), h.addr.to_string().into());
    details.insert("port".into(), h.port.into());
    details.insert("pid1".into(), h.pid1.into());
    details.insert("state_dir".into(), h.state_dir.display().to_string().into());
    LabProcess {
        kind: "compute".into(),
        name: h.name.clone(),
        pid: h.unshare_pid,
        cmdline_marker: vec![
            h.state_dir.join("init.sh").display().to_string(),
            h.state_dir.display().to_string(),
            h.port.to_string(),
            h.addr.to_string(),
            h.name.clone(),
        ],
        started_at: now.to_string(),
        log: h.state_dir.join("console.log"),
        url: Some(format!("ssh://root@{}:{}", h.addr, h.port)),
        details,
    }
}

fn write_client_files(dir: &Path, ready: &Ready, started: &[LabHost]) -> Result<(), UpError> {
    let token_path = dir.join(TOKEN_FILE);
    let mut f = cloudron_emulator::private_file(&token_path)
        .map_err(io("writing the token file", &token_path))?;
    writeln!(f, "{}", ready.token).map_err(io("writing the token file", &token_path))?;
    let hosts: Vec<(String, IpAddr, u16)> = started
        .iter()
        .map(|h| (h.name.clone(), h.addr, h.port))
        .collect();
    let config = dir.join(CONFIG_FILE);
    std::fs::write(&config, config_toml(&ready.url, &hosts))
        .map_err(io("writing matelot.toml", &config))?;
    let roster = dir.join(DEMO_ROSTER_FILE);
    std::fs::write(&roster, DEMO_ROSTER).map_err(io("writing the demo roster", &roster))
}

/// A small roster to rehearse `user sync` with (`jules` already has a Cloudron account in the
/// demo estate; `alice` and `bob` are new everywhere).
pub const DEMO_ROSTER_FILE: &str = "people.csv";

/// The demo roster's text (public keys only).
pub const DEMO_ROSTER: &str = "\
# A demo roster for the lab. Try: matelot --config lab/matelot.toml user sync lab/people.csv --check
username,email,name,groups,keys
alice,alice@example.org,Alice Martin,physics chemistry,ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHUsVapbe1+tx3o7mltg2+L11qU3NuYanzgHeeEkMLsQ alice@laptop
bob,bob@example.org,Bob Dupont,physics,ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBZfrAR6M46UoYRFo99hrYGNd3v0XX6RW8hMaRosxi0K bob@laptop
jules,jules@example.org,Jules Bernard,chemistry,
";

/// What `lab down` did.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DownReport {
    pub dir: PathBuf,
    /// Processes that were stopped.
    pub stopped: Vec<ProcessStatus>,
    /// Recorded processes that were already gone (or whose pid now belongs to another program).
    pub already_gone: Vec<String>,
}

/// Stop every process the lab started (and any host still running from `DIR/hosts`).
pub fn down(dir: &Path) -> Result<DownReport, UpError> {
    let dir = lab_dir(dir, false)?;
    let mut rep = DownReport {
        dir: dir.clone(),
        stopped: Vec::new(),
        already_gone: Vec::new(),
    };
    let mut st = LabState::load(&dir)
        .map_err(UpError::State)?
        .unwrap_or_default();
    for p in &st.processes {
        if !p.is_running() {
            rep.already_gone.push(p.name.clone());
            continue;
        }
        match p.details.get("state_dir").and_then(|v| v.as_str()) {
            Some(sd) if p.kind == "compute" => {
                let _ = hosts::stop(Path::new(sd));
                if p.is_running() {
                    // Still our unshare (the marker proves it): --kill-child takes the rest.
                    kill_and_wait(p.pid);
                }
            }
            _ => stop_pid(p.pid),
        }
        rep.stopped.push(status_of(p, p.is_running()));
    }
    for sd in hosts::running_under(&dir) {
        let name = sd
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let stopped = hosts::stop(&sd).unwrap_or(false);
        if stopped {
            rep.stopped.push(ProcessStatus {
                name,
                kind: "compute".into(),
                running: super::sandbox::running_in(&sd).is_some(),
                pid: None,
                url: None,
                address: None,
                port: None,
            });
        }
    }
    if st.dir.as_os_str().is_empty() {
        // Never started here: nothing to record.
        return Ok(rep);
    }
    st.processes.clear();
    st.save().map_err(UpError::State)?;
    let _ = std::fs::remove_file(dir.join(PID_FILE));
    Ok(rep)
}

/// Report on the lab without changing anything.
pub fn status(dir: &Path) -> Result<LabReport, UpError> {
    let dir = lab_dir(dir, false)?;
    let st = LabState::load(&dir)
        .map_err(UpError::State)?
        .unwrap_or_default();
    Ok(report(&dir, &st, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_toml_is_exact() {
        assert_eq!(
            config_toml("https://127.0.0.1:4443", &[]),
            "# Written by `matelot lab up`; `matelot lab down` stops the lab. Regenerated on each `up`.\n\
             [cloudron]\n\
             url = \"https://127.0.0.1:4443\"\n\
             token_file = \"cloudron.token\"\n\
             ca_file = \"cloudron-ca.pem\"\n\
             \n\
             [state]\n\
             dir = \"state\"\n"
        );
    }

    #[test]
    fn config_toml_with_a_host_parses() {
        let a: IpAddr = "127.0.0.2".parse().expect("ip");
        let text = config_toml("https://127.0.0.1:1", &[("calcul".into(), a, 2222)]);
        let v: Result<toml::Table, _> = toml::from_str(&text);
        let Ok(t) = v else { panic!("{text}") };
        assert_eq!(t["cloudron"]["token_file"].as_str(), Some("cloudron.token"));
        assert_eq!(t["compute"]["calcul"]["port"].as_integer(), Some(2222));
        assert_eq!(
            t["backup"]["compute"]["repository"].as_str(),
            Some("/srv/restic")
        );
    }

    #[test]
    fn host_entries_are_proved_by_their_unshare_command_line() {
        let h = LabHost {
            name: "calcul".into(),
            addr: "127.0.0.2".parse().expect("ip"),
            port: 40001,
            unshare_pid: 10,
            pid1: 11,
            state_dir: PathBuf::from("/l/hosts/calcul"),
            host_keys_pub: Vec::new(),
        };
        let p = host_process(&h, "t");
        let cmdline: Vec<String> = "unshare --mount --pid --fork --mount-proc --uts \
             --kill-child=SIGKILL -- /bin/bash /l/hosts/calcul/init.sh /l/hosts/calcul 40001 \
             127.0.0.2 calcul"
            .split_whitespace()
            .map(str::to_string)
            .collect();
        assert!(super::super::labstate::cmdline_matches(
            &cmdline,
            &p.cmdline_marker
        ));
        assert_eq!(address_of(&p), (Some("127.0.0.2".to_string()), Some(40001)));
        assert_eq!(p.url.as_deref(), Some("ssh://root@127.0.0.2:40001"));
    }

    #[test]
    fn the_emulator_address_comes_from_its_url() {
        let p = LabProcess {
            kind: "cloudron".into(),
            name: "cloudron".into(),
            pid: 1,
            cmdline_marker: Vec::new(),
            started_at: String::new(),
            log: PathBuf::new(),
            url: Some("https://127.0.0.1:4443".into()),
            details: serde_json::Map::new(),
        };
        assert_eq!(address_of(&p), (Some("127.0.0.1".to_string()), Some(4443)));
    }
}

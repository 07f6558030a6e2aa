//! `matelot lab up|down|status`: run the Cloudron emulator as a detached background process
//! (its own session, stderr to `DIR/cloudron.log`), wait for its ready line, and leave in the
//! lab directory what a client needs: `matelot.toml`, `cloudron.token` (0600), the CA file,
//! a pid file and the [`LabState`] listing what was started. `down` stops only processes
//! whose command line proves they are ours.
//!
//! It never stops a process it did not start, and never writes outside the lab directory.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::cloudron::CA_FILE;
use super::labstate::{LabProcess, LabState};

pub const CONFIG_FILE: &str = "matelot.toml";
pub const TOKEN_FILE: &str = "cloudron.token";
pub const LOG_FILE: &str = "cloudron.log";
pub const PID_FILE: &str = "cloudron.pid";
pub const CLOUDRON_STATE_FILE: &str = "cloudron-state.json";

/// How long `up` waits for the emulator's ready line.
const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// How long `down` waits after SIGTERM before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(5);

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
}

fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> UpError {
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
}

/// One line of `lab status` (and of `lab up`'s report).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ProcessStatus {
    pub name: String,
    pub kind: String,
    pub running: bool,
    pub pid: Option<u32>,
    pub url: Option<String>,
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

/// The `matelot.toml` the lab writes (paths relative to the file).
pub fn config_toml(cloudron_url: &str) -> String {
    format!(
        "# Written by `matelot lab up`; `matelot lab down` stops the lab. Regenerated on each `up`.\n\
         [cloudron]\n\
         url = \"{cloudron_url}\"\n\
         token_file = \"{TOKEN_FILE}\"\n\
         ca_file = \"{CA_FILE}\"\n\
         \n\
         [state]\n\
         dir = \"state\"\n"
    )
}

/// The `serve-cloudron` arguments `up` runs (after the binary).
pub fn serve_args(dir: &Path, seed: &str, task_duration: Duration) -> Vec<String> {
    vec![
        "lab".into(),
        "serve-cloudron".into(),
        "--listen".into(),
        "127.0.0.1:0".into(),
        "--seed".into(),
        seed.into(),
        "--task-duration".into(),
        format!("{}ms", task_duration.as_millis()),
        "--state".into(),
        dir.join(CLOUDRON_STATE_FILE).display().to_string(),
        "--dir".into(),
        dir.display().to_string(),
    ]
}

fn report(dir: &Path, st: &LabState, already_running: bool) -> LabReport {
    let processes: Vec<ProcessStatus> = st
        .processes
        .iter()
        .map(|p| {
            let running = p.is_running();
            ProcessStatus {
                name: p.name.clone(),
                kind: p.kind.clone(),
                running,
                pid: running.then_some(p.pid),
                url: p.url.clone(),
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
    if let Some(st) = LabState::load(&dir).map_err(UpError::State)?
        && st.process("cloudron").is_some_and(LabProcess::is_running)
    {
        return Ok(report(&dir, &st, true));
    }
    if opts.fresh {
        for f in [CLOUDRON_STATE_FILE, CA_FILE, super::cloudron::CA_KEY_FILE] {
            match std::fs::remove_file(dir.join(f)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(io("removing the saved lab state", &dir.join(f))(e));
                }
                _ => {}
            }
        }
    }
    let log_path = dir.join(LOG_FILE);
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(io("opening the emulator log", &log_path))?;
    let args = serve_args(&dir, &opts.seed, opts.task_duration);
    let mut cmd = Command::new(&opts.exe);
    cmd.args(&args)
        .current_dir(&dir)
        .env_remove("MATELOT_LAB_TOKEN")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log));
    // SAFETY: setsid is async-signal-safe; it detaches the emulator from our terminal and
    // process group so that it outlives this command and a Ctrl-C at the prompt.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd
        .spawn()
        .map_err(io("starting the Cloudron emulator", &opts.exe))?;
    let pid = child.id();
    let ready = wait_ready(&mut child, &log_path);
    let ready = match ready {
        Ok(r) => r,
        Err(e) => {
            // It never became ready: do not leave it behind.
            let _ = child.kill();
            let _ = child.wait();
            return Err(e);
        }
    };
    write_client_files(&dir, &ready)?;
    let pid_path = dir.join(PID_FILE);
    std::fs::write(&pid_path, format!("{pid}\n")).map_err(io("writing the pid file", &pid_path))?;
    let st = LabState {
        version: 1,
        dir: dir.clone(),
        processes: vec![LabProcess {
            kind: "cloudron".into(),
            name: "cloudron".into(),
            pid,
            cmdline_marker: vec![
                "serve-cloudron".into(),
                "--dir".into(),
                dir.display().to_string(),
            ],
            started_at: super::cloudron::http::now_iso(),
            log: log_path,
            url: Some(ready.url.clone()),
            details: serde_json::Map::new(),
        }],
    };
    st.save().map_err(UpError::State)?;
    Ok(report(&dir, &st, false))
}

/// The emulator's ready line (no `Debug`: it holds the token).
#[derive(Deserialize)]
struct Ready {
    url: String,
    token: String,
    #[allow(dead_code)]
    ca_file: Option<PathBuf>,
}

fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}

/// Read the first stdout line (in a thread, so a silent child cannot hang us).
fn wait_ready(child: &mut std::process::Child, log: &Path) -> Result<Ready, UpError> {
    let not_ready = |reason: String| UpError::NotReady {
        reason,
        log: log_tail(log),
    };
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| not_ready("its standard output is not available".into()))?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let r = BufReader::new(stdout).read_line(&mut line).map(|_| line);
        let _ = tx.send(r);
    });
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(Ok(line)) if !line.trim().is_empty() => {
                return serde_json::from_str(line.trim())
                    .map_err(|e| not_ready(format!("its ready line is not JSON ({e})")));
            }
            Ok(_) => return Err(not_ready("it exited before it was ready".into())),
            Err(_) => {
                if let Ok(Some(status)) = child.try_wait() {
                    return Err(not_ready(format!("it exited ({status})")));
                }
                if Instant::now() > deadline {
                    return Err(not_ready(format!(
                        "no ready line after {}s",
                        READY_TIMEOUT.as_secs()
                    )));
                }
            }
        }
    }
}

fn write_client_files(dir: &Path, ready: &Ready) -> Result<(), UpError> {
    let token_path = dir.join(TOKEN_FILE);
    let mut f = super::cloudron::private_file(&token_path)
        .map_err(io("writing the token file", &token_path))?;
    writeln!(f, "{}", ready.token).map_err(io("writing the token file", &token_path))?;
    let config = dir.join(CONFIG_FILE);
    std::fs::write(&config, config_toml(&ready.url)).map_err(io("writing matelot.toml", &config))
}

/// What `lab down` did.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DownReport {
    pub dir: PathBuf,
    /// Processes that were stopped.
    pub stopped: Vec<ProcessStatus>,
    /// Recorded processes that were already gone (or whose pid now belongs to another program).
    pub already_gone: Vec<String>,
}

/// Stop every process the lab started.
pub fn down(dir: &Path) -> Result<DownReport, UpError> {
    let dir = lab_dir(dir, false)?;
    let mut rep = DownReport {
        dir: dir.clone(),
        stopped: Vec::new(),
        already_gone: Vec::new(),
    };
    let Some(mut st) = LabState::load(&dir).map_err(UpError::State)? else {
        return Ok(rep);
    };
    for p in &st.processes {
        if !p.is_running() {
            rep.already_gone.push(p.name.clone());
            continue;
        }
        stop_pid(p.pid);
        rep.stopped.push(ProcessStatus {
            name: p.name.clone(),
            kind: p.kind.clone(),
            running: p.is_running(),
            pid: Some(p.pid),
            url: p.url.clone(),
        });
    }
    st.processes.clear();
    st.save().map_err(UpError::State)?;
    let _ = std::fs::remove_file(dir.join(PID_FILE));
    Ok(rep)
}

/// SIGTERM, wait, then SIGKILL if needed.
fn stop_pid(pid: u32) {
    let Ok(raw) = i32::try_from(pid) else { return };
    // SAFETY: plain kill(2) on a pid we verified is our emulator.
    unsafe { libc::kill(raw, libc::SIGTERM) };
    let deadline = Instant::now() + STOP_GRACE;
    while super::labstate::is_alive(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    if super::labstate::is_alive(pid) {
        // SAFETY: as above; it ignored SIGTERM for too long.
        unsafe { libc::kill(raw, libc::SIGKILL) };
        let deadline = Instant::now() + Duration::from_secs(2);
        while super::labstate::is_alive(pid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
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
            config_toml("https://127.0.0.1:4443"),
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
    fn config_toml_parses() {
        let v: Result<toml::Table, _> = toml::from_str(&config_toml("https://127.0.0.1:1"));
        assert!(v.is_ok_and(|t| t["cloudron"]["token_file"].as_str() == Some("cloudron.token")));
    }

    #[test]
    fn serve_args_are_exact() {
        let a = serve_args(Path::new("/l"), "demo", Duration::from_secs(2));
        assert_eq!(
            a.join(" "),
            "lab serve-cloudron --listen 127.0.0.1:0 --seed demo --task-duration 2000ms \
             --state /l/cloudron-state.json --dir /l"
        );
    }
}

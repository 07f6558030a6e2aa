//! The Cloudron emulator as a background process of `matelot lab up`: spawn
//! `matelot lab serve-cloudron` in its own session (stderr to the lab's log), read its ready
//! line without hanging on a silent child, and stop a process with SIGTERM then SIGKILL.
//!
//! It never signals a pid that its caller has not proved to be the lab's own, and the ready
//! line (which holds the token) is never printed or kept in a `Debug`-able value.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::{CLOUDRON_STATE_FILE, LOG_FILE, UpError, io};

/// How long `up` waits for the emulator's ready line.
const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// How long `down` waits after SIGTERM before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(5);

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

/// Start `exe lab serve-cloudron ...` detached from our terminal (`setsid`), its stderr
/// appended to `DIR/cloudron.log`, its stdout piped to us for the ready line.
pub fn spawn_emulator(
    exe: &Path,
    dir: &Path,
    seed: &str,
    task_duration: Duration,
) -> Result<Child, UpError> {
    let log_path = dir.join(LOG_FILE);
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(io("opening the emulator log", &log_path))?;
    let mut cmd = Command::new(exe);
    cmd.args(serve_args(dir, seed, task_duration))
        .current_dir(dir)
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
    cmd.spawn()
        .map_err(io("starting the Cloudron emulator", exe))
}

/// The emulator's ready line (no `Debug`: it holds the token).
#[derive(Deserialize)]
pub struct Ready {
    pub url: String,
    pub token: String,
    #[allow(dead_code)]
    pub ca_file: Option<PathBuf>,
}

fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}

/// Read the first stdout line (in a thread, so a silent child cannot hang us).
pub fn wait_ready(child: &mut Child, log: &Path) -> Result<Ready, UpError> {
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

/// SIGTERM, wait, then SIGKILL if needed. The caller has verified the pid is the lab's.
pub fn stop_pid(pid: u32) {
    let Ok(raw) = i32::try_from(pid) else { return };
    // SAFETY: plain kill(2) on a pid the caller verified is the lab's.
    unsafe { libc::kill(raw, libc::SIGTERM) };
    let deadline = Instant::now() + STOP_GRACE;
    while crate::lab::labstate::is_alive(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    if crate::lab::labstate::is_alive(pid) {
        kill_and_wait(pid);
    }
}

/// SIGKILL and wait (up to 2 s) for the process to be gone.
pub fn kill_and_wait(pid: u32) {
    let Ok(raw) = i32::try_from(pid) else { return };
    // SAFETY: as above; it ignored SIGTERM for too long, or ignores it by design (unshare).
    unsafe { libc::kill(raw, libc::SIGKILL) };
    let deadline = Instant::now() + Duration::from_secs(2);
    while crate::lab::labstate::is_alive(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

//! A running sandbox: run commands inside it (bypassing SSH, for test assertions), and stop
//! it. Stopping signals only PIDs proven to be the sandbox's own (the namespace's PID 1 must be
//! a child of our `unshare`), never a process found by name.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::{SandboxError, SandboxHost, process};

impl SandboxHost {
    /// Is the sandbox still running (our PID 1 alive under our `unshare`)?
    pub fn is_running(&self) -> bool {
        self.child.is_some() && process::is_our_pid1(self.pid1, self.unshare_pid)
    }

    /// Run a command inside the sandbox's namespaces (`nsenter -t PID1 -m -u -p`), bypassing
    /// SSH: for test assertions such as `id alice` or reading `/etc/shadow`.
    pub fn exec(&self, cmd: &[&str]) -> Result<Output, SandboxError> {
        self.exec_input(cmd, None)
    }

    /// Like [`SandboxHost::exec`], feeding `input` on stdin.
    pub fn exec_input(&self, cmd: &[&str], input: Option<&[u8]>) -> Result<Output, SandboxError> {
        use std::io::Write;
        if !self.is_running() {
            return Err(SandboxError::NotRunning {
                name: self.name.clone(),
            });
        }
        let io = |what: &str| {
            let what = format!("{what} in sandbox {}", self.name);
            move |source| SandboxError::Io { what, source }
        };
        let mut child = Command::new("nsenter")
            .arg(format!("--target={}", self.pid1))
            .args(["--mount", "--uts", "--pid", "--"])
            .args(cmd)
            .current_dir("/")
            .stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(io("starting nsenter"))?;
        if let (Some(data), Some(mut stdin)) = (input, child.stdin.take()) {
            stdin.write_all(data).map_err(io("writing stdin"))?;
        }
        child.wait_with_output().map_err(io("running a command"))
    }

    /// Let the sandbox outlive this value (and, if it was started with `tie_to_thread = false`,
    /// this process): nothing is stopped; [`stop_state_dir`] stops it later from its state
    /// directory. Returns that directory.
    pub fn detach(mut self) -> std::path::PathBuf {
        // Dropping a `Child` neither kills nor waits for it.
        self.child = None;
        self.state_dir.clone()
    }

    /// Stop: SIGKILL the namespace's PID 1 (after checking it is ours), wait for `unshare` to
    /// exit. Every process and mount of the sandbox is gone when this returns.
    pub fn stop(&mut self) -> Result<(), SandboxError> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        if self.pid1 != 0 && process::is_our_pid1(self.pid1, self.unshare_pid) {
            process::kill9(self.pid1);
        } else {
            // No provable PID 1: SIGKILL our own child; --kill-child takes PID 1 with it.
            let _ = child.kill();
        }
        process::wait_child(&mut child, Duration::from_secs(10))?;
        let _ = std::fs::remove_file(self.state_dir.join("pids"));
        Ok(())
    }
}

impl Drop for SandboxHost {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

/// Is `unshare_pid` alive and running the init script of this state directory?
fn is_our_unshare(state_dir: &Path, unshare_pid: u32) -> bool {
    let init = state_dir.join("init.sh").display().to_string();
    let cmdline = std::fs::read(format!("/proc/{unshare_pid}/cmdline")).unwrap_or_default();
    process::alive(unshare_pid)
        && String::from_utf8_lossy(&cmdline)
            .split('\0')
            .any(|a| a == init)
}

/// The `(unshare, PID 1)` of a sandbox running from this state directory, if any.
pub fn running_in(state_dir: &Path) -> Option<(u32, u32)> {
    let pids = std::fs::read_to_string(state_dir.join("pids")).ok()?;
    let mut it = pids
        .split_whitespace()
        .filter_map(|p| p.parse::<u32>().ok());
    let (unshare_pid, pid1) = (it.next()?, it.next()?);
    is_our_unshare(state_dir, unshare_pid).then_some((unshare_pid, pid1))
}

/// Stop a sandbox started with `tie_to_thread = false` by another process, from its state
/// directory. Only signals PIDs proven to be that sandbox's. Returns false if it was not running.
pub fn stop_state_dir(state_dir: &Path) -> Result<bool, SandboxError> {
    let Some((unshare_pid, pid1)) = running_in(state_dir) else {
        let _ = std::fs::remove_file(state_dir.join("pids"));
        return Ok(false);
    };
    let ours = || is_our_unshare(state_dir, unshare_pid);
    if process::is_our_pid1(pid1, unshare_pid) {
        process::kill9(pid1);
    } else {
        process::kill9(unshare_pid);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while ours() {
        if Instant::now() > deadline {
            process::kill9(unshare_pid);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let _ = std::fs::remove_file(state_dir.join("pids"));
    Ok(true)
}

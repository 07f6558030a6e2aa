//! A small fluent builder over the real binary, in the manner of `just`'s tests:
//! `Test::new().config(TOML).args(["config", "check"]).run().status(2).stderr_has("...")`.
//!
//! Every test runs in its own temporary directory, which is also HOME, the XDG directories and
//! the working directory, so nothing of the machine's own configuration leaks in.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_matelot");

pub struct Test {
    pub dir: tempfile::TempDir,
    args: Vec<String>,
    env: Vec<(String, String)>,
    env_remove: Vec<String>,
    stdin: Option<String>,
}

impl Default for Test {
    fn default() -> Self {
        Self::new()
    }
}

impl Test {
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("matelot-test-")
            .tempdir()
            .expect("tempdir");
        for d in ["home", "config", "state", "data", "cache"] {
            std::fs::create_dir_all(dir.path().join(d)).expect("mkdir");
        }
        Test {
            dir,
            args: Vec::new(),
            env: Vec::new(),
            env_remove: Vec::new(),
            stdin: None,
        }
    }

    /// The test's private directory (also the working directory).
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The state directory the binary uses (XDG_STATE_HOME/matelot).
    pub fn state_dir(&self) -> PathBuf {
        self.path().join("state/matelot")
    }

    /// Write `./matelot.toml` in the working directory.
    pub fn config(self, toml: &str) -> Self {
        self.write("matelot.toml", toml)
    }

    /// Write a file relative to the test directory.
    pub fn write(self, rel: &str, content: &str) -> Self {
        let p = self.path().join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&p, content).expect("write");
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    pub fn env(mut self, k: &str, v: impl Into<String>) -> Self {
        self.env.push((k.into(), v.into()));
        self
    }

    pub fn env_remove(mut self, k: &str) -> Self {
        self.env_remove.push(k.into());
        self
    }

    pub fn stdin(mut self, s: &str) -> Self {
        self.stdin = Some(s.into());
        self
    }

    /// A `Command` for the binary with this test's environment (for spawning by hand).
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(BIN);
        let p = self.path();
        cmd.current_dir(p)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", p.join("home"))
            .env("XDG_CONFIG_HOME", p.join("config"))
            .env("XDG_STATE_HOME", p.join("state"))
            .env("XDG_DATA_HOME", p.join("data"))
            .env("XDG_CACHE_HOME", p.join("cache"))
            .env("TERM", "dumb")
            .env("NO_COLOR", "1");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        for k in &self.env_remove {
            cmd.env_remove(k);
        }
        cmd.args(&self.args);
        cmd
    }

    /// Run to completion and capture everything.
    pub fn run(&self) -> Run {
        use std::io::Write;
        let mut cmd = self.command();
        cmd.stdin(if self.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn matelot");
        if let Some(input) = &self.stdin {
            let mut s = child.stdin.take().expect("stdin");
            s.write_all(input.as_bytes()).expect("write stdin");
        }
        let out = child.wait_with_output().expect("wait matelot");
        Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            args: self.args.clone(),
        }
    }
}

/// The result of one run, with assertions that print everything on failure.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub args: Vec<String>,
}

impl Run {
    fn dump(&self) -> String {
        format!(
            "matelot {:?}\nexit: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.args, self.code, self.stdout, self.stderr
        )
    }

    #[track_caller]
    pub fn status(self, code: i32) -> Self {
        assert_eq!(
            self.code,
            Some(code),
            "unexpected exit code\n{}",
            self.dump()
        );
        self
    }

    #[track_caller]
    pub fn success(self) -> Self {
        self.status(0)
    }

    #[track_caller]
    pub fn stdout_has(self, needle: &str) -> Self {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}\n{}",
            self.dump()
        );
        self
    }

    #[track_caller]
    pub fn stderr_has(self, needle: &str) -> Self {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}\n{}",
            self.dump()
        );
        self
    }

    #[track_caller]
    pub fn stdout_lacks(self, needle: &str) -> Self {
        assert!(
            !self.stdout.contains(needle),
            "stdout contains {needle:?}\n{}",
            self.dump()
        );
        self
    }

    #[track_caller]
    pub fn stderr_lacks(self, needle: &str) -> Self {
        assert!(
            !self.stderr.contains(needle),
            "stderr contains {needle:?}\n{}",
            self.dump()
        );
        self
    }

    /// stdout parsed as one JSON document.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON document: {e}\n{}", self.dump()))
    }
}

/// Run the binary under a pseudo-terminal (util-linux `script`), typing `input`.
pub fn on_a_terminal(t: Test, args: &str, input: &str) -> (Option<i32>, String) {
    use std::io::Write;
    let t = t.env("TERM", "xterm");
    let bin = t.command();
    let mut cmd = std::process::Command::new("script");
    cmd.args(["-qec", &format!("{} {args}", BIN), "/dev/null"])
        .env_clear()
        .current_dir(t.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (k, v) in bin.get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    let mut child = cmd.spawn().expect("script (util-linux) runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("type");
    // A prompt that waits for more than was typed must fail the test, not hang it.
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if rx.recv_timeout(std::time::Duration::from_secs(60)).is_err() {
            // SAFETY: killing the `script` process this test spawned (its pty child ends with it).
            unsafe { libc::kill(-(pid as i32), libc::SIGKILL) };
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
        }
    });
    let out = child.wait_with_output().expect("wait");
    let _ = tx.send(());
    let _ = watchdog.join();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

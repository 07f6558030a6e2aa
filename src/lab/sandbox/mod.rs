//! Sandboxed compute hosts: a real OpenSSH `sshd` in private mount, pid and uts namespaces,
//! with a RAM copy of the whole `/etc`, private `/home`, `/root`, `/run`, `/var/log`,
//! `/var/mail`, `/srv`, `/var/lib/sudo` and `/tmp`, and the rest of the machine read-only from
//! inside. `useradd`, `usermod`, `restic` and friends run for real and touch only the sandbox.
//!
//! Start = prepare a state directory, `unshare` the PID 1 script (`init.sh`), wait for a TCP
//! accept and a real SSH login with matelot's own client. Stop = SIGKILL of the namespace's
//! PID 1 (after proving it is ours), then wait for `unshare` to go: the kernel takes every
//! process and mount with it. Needs root, `openssh-server` and `util-linux`.
//!
//! A parent-death signal ties a sandbox to the *thread* that started it: a sandbox shared by
//! several test threads must be started from a thread that outlives them (see
//! `tests/it/common_sandbox.rs`). This module must never write to the real `/etc` or signal a
//! process it cannot prove is its own.

mod control;
mod error;
pub mod prepare;
pub mod process;

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

pub use control::{running_in, stop_state_dir};
pub use error::SandboxError;

use crate::compute::{ConnectOptions, Session, SshError};
use crate::config::ComputeHost;

/// How to start a sandbox.
#[derive(Debug, Clone)]
pub struct SandboxOptions {
    /// Host name inside the sandbox and name of its state directory.
    pub name: String,
    /// A loopback address (127.0.0.x); distinct addresses need no network setup.
    pub addr: IpAddr,
    /// 0 = pick a free port.
    pub port: u16,
    /// The state directory is `base_dir/name` (recreated on every start).
    pub base_dir: PathBuf,
    /// A directory of fake tools laid over `/usr/local/bin` inside (e.g. `nvidia-smi`).
    pub bin_dir: Option<PathBuf>,
    /// Kill the sandbox when the starting thread exits (true), or let it outlive the process
    /// (false, for `matelot lab up`; stop it later with [`stop_state_dir`]).
    pub tie_to_thread: bool,
    /// How long start-up may take.
    pub ready_timeout: Duration,
    /// Host key types sshd offers (`ed25519`, `ecdsa`, `rsa`), the first one preferred.
    pub host_key_types: Vec<String>,
}

impl SandboxOptions {
    /// Defaults: 127.0.0.1, a free port, no fake tools, tied to the thread, 30 s to start.
    pub fn new(name: impl Into<String>, base_dir: impl Into<PathBuf>) -> Self {
        SandboxOptions {
            name: name.into(),
            addr: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            base_dir: base_dir.into(),
            bin_dir: None,
            tie_to_thread: true,
            ready_timeout: Duration::from_secs(30),
            host_key_types: vec!["ed25519".to_string()],
        }
    }
}

/// How long start-up took, each measured from the call to [`SandboxHost::start`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SandboxTimings {
    /// State directory, keys and config written.
    pub prepared: Duration,
    /// sshd accepts TCP connections.
    pub tcp_ready: Duration,
    /// A real SSH login as root ran `true`.
    pub first_login: Duration,
}

/// A running sandbox. Dropping it stops it.
#[derive(Debug)]
pub struct SandboxHost {
    pub name: String,
    pub addr: IpAddr,
    pub port: u16,
    /// The server's first host key, an OpenSSH public key line.
    pub host_key_pub: String,
    /// Every host key of the server, in the order of `host_key_types`.
    pub host_keys_pub: Vec<String>,
    /// Root's private key (its public half is root's authorized key inside).
    pub client_key: PathBuf,
    /// A known_hosts file holding exactly this sandbox's key.
    pub known_hosts: PathBuf,
    pub state_dir: PathBuf,
    /// Our `unshare` child (host PID).
    pub unshare_pid: u32,
    /// The namespace's PID 1, finally sshd (host PID).
    pub pid1: u32,
    pub timings: SandboxTimings,
    child: Option<Child>,
}

const SBIN_PATH: &[&str] = &[
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
];

fn find_tool(name: &str) -> Option<PathBuf> {
    SBIN_PATH
        .iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
}

/// Root, sshd, unshare, nsenter, ssh-keygen: say exactly what is missing.
pub fn check_prerequisites() -> Result<PathBuf, SandboxError> {
    // SAFETY: geteuid(2) cannot fail and touches no memory.
    let uid = unsafe { libc::geteuid() };
    if uid != 0 {
        return Err(SandboxError::NotRoot { uid });
    }
    if !Path::new("/usr/sbin/sshd").is_file() {
        return Err(SandboxError::Missing {
            path: PathBuf::from("/usr/sbin/sshd"),
            why: "the OpenSSH server",
            package: "openssh-server",
        });
    }
    for (tool, why, package) in [
        ("nsenter", "to run commands inside", "util-linux"),
        (
            "ssh-keygen",
            "to make host and client keys",
            "openssh-client",
        ),
    ] {
        if find_tool(tool).is_none() {
            return Err(SandboxError::Missing {
                path: PathBuf::from(tool),
                why,
                package,
            });
        }
    }
    find_tool("unshare").ok_or(SandboxError::Missing {
        path: PathBuf::from("unshare"),
        why: "to create the namespaces",
        package: "util-linux",
    })
}

fn free_port(addr: IpAddr) -> Result<u16, SandboxError> {
    std::net::TcpListener::bind(SocketAddr::new(addr, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|source| SandboxError::Io {
            what: format!("finding a free port on {addr}"),
            source,
        })
}

impl SandboxHost {
    /// Start a sandbox and return once a real SSH login as root has worked.
    pub fn start(opts: SandboxOptions) -> Result<SandboxHost, SandboxError> {
        let t0 = Instant::now();
        prepare::validate_name(&opts.name)?;
        if !opts.addr.is_loopback() {
            return Err(SandboxError::NotLoopback(opts.addr));
        }
        let unshare = check_prerequisites()?;
        let state_dir = opts.base_dir.join(&opts.name);
        if control::running_in(&state_dir).is_some() {
            return Err(SandboxError::AlreadyRunning { dir: state_dir });
        }
        // A picked port can be taken between our probe and sshd's bind: try again then.
        let attempts = if opts.port == 0 { 3 } else { 1 };
        let mut last = None;
        for _ in 0..attempts {
            let port = if opts.port == 0 {
                free_port(opts.addr)?
            } else {
                opts.port
            };
            match Self::start_once(&opts, &unshare, port, t0) {
                Err(SandboxError::Died { console, .. })
                    if opts.port == 0 && console.contains("Address already in use") =>
                {
                    last = Some(console);
                }
                other => return other,
            }
        }
        Err(SandboxError::Died {
            name: opts.name.clone(),
            console: last.unwrap_or_default(),
        })
    }

    fn start_once(
        opts: &SandboxOptions,
        unshare: &Path,
        port: u16,
        t0: Instant,
    ) -> Result<SandboxHost, SandboxError> {
        let prep = prepare::prepare(
            &opts.base_dir,
            &opts.name,
            opts.bin_dir.as_deref(),
            &opts.host_key_types,
        )?;
        let paths = prep.paths;
        let kh: String = prep
            .host_keys_pub
            .iter()
            .map(|k| format!("{}\n", prepare::known_hosts_line(opts.addr, port, k)))
            .collect();
        std::fs::write(paths.known_hosts(), kh).map_err(|source| SandboxError::Io {
            what: format!("writing {}", paths.known_hosts().display()),
            source,
        })?;
        let prepared = t0.elapsed();
        let args = vec![
            paths.dir.display().to_string(),
            port.to_string(),
            opts.addr.to_string(),
            opts.name.clone(),
        ];
        let child = process::spawn_unshare(
            unshare,
            &paths.init(),
            &args,
            &paths.console(),
            opts.tie_to_thread,
        )?;
        let mut host = SandboxHost {
            name: opts.name.clone(),
            addr: opts.addr,
            port,
            host_key_pub: prep.host_keys_pub.first().cloned().unwrap_or_default(),
            host_keys_pub: prep.host_keys_pub,
            client_key: paths.client_key(),
            known_hosts: paths.known_hosts(),
            state_dir: paths.dir.clone(),
            unshare_pid: child.id(),
            pid1: 0,
            timings: SandboxTimings {
                prepared,
                ..Default::default()
            },
            child: Some(child),
        };
        // On any error below, dropping `host` stops what was started.
        let deadline = t0 + opts.ready_timeout;
        host.wait_tcp(deadline, opts.ready_timeout)?;
        host.timings.tcp_ready = t0.elapsed();
        host.first_login(deadline.saturating_duration_since(Instant::now()))?;
        host.timings.first_login = t0.elapsed();
        let pids = format!("{} {}\n", host.unshare_pid, host.pid1);
        std::fs::write(paths.pids(), pids).map_err(|source| SandboxError::Io {
            what: format!("writing {}", paths.pids().display()),
            source,
        })?;
        Ok(host)
    }

    fn console(&self) -> String {
        std::fs::read_to_string(self.state_dir.join("console.log")).unwrap_or_default()
    }

    fn wait_tcp(&mut self, deadline: Instant, limit: Duration) -> Result<(), SandboxError> {
        let target = SocketAddr::new(self.addr, self.port);
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(_)) = child.try_wait()
            {
                self.child = None;
                return Err(SandboxError::Died {
                    name: self.name.clone(),
                    console: self.console(),
                });
            }
            if self.pid1 == 0 {
                self.pid1 = process::first_child(self.unshare_pid).unwrap_or(0);
            }
            if self.pid1 != 0
                && TcpStream::connect_timeout(&target, Duration::from_millis(200)).is_ok()
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(SandboxError::Timeout {
                    name: self.name.clone(),
                    what: "accept TCP connections",
                    after: limit,
                    console: self.console(),
                });
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// A compute host entry for this sandbox: root, its client key, its known_hosts.
    pub fn compute_host(&self) -> ComputeHost {
        ComputeHost {
            name: self.name.clone(),
            host: self.addr.to_string(),
            port: self.port,
            user: "root".into(),
            identity: Some(self.client_key.clone()),
            known_hosts: Some(self.known_hosts.clone()),
            sudo: false,
            connect_timeout: Duration::from_secs(10),
            command_timeout: Duration::from_secs(60),
            min_uid: 1000,
        }
    }

    /// The known_hosts line for this sandbox (`[addr]:port type key`).
    pub fn known_hosts_line(&self) -> String {
        prepare::known_hosts_line(self.addr, self.port, &self.host_key_pub)
    }

    /// Log in as root with matelot's own SSH client and run `true`. On its own thread and
    /// runtime, so it works whether or not the caller is inside a tokio runtime.
    fn first_login(&self, limit: Duration) -> Result<(), SandboxError> {
        let host = ComputeHost {
            connect_timeout: limit.max(Duration::from_secs(1)),
            ..self.compute_host()
        };
        let name = self.name.clone();
        let login = move || -> Result<(), SandboxError> {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|source| SandboxError::Io {
                    what: "starting a tokio runtime".into(),
                    source,
                })?;
            let session = rt.block_on(async {
                let opts = ConnectOptions {
                    user_known_hosts: None,
                    ..ConnectOptions::default()
                };
                let kh = host.known_hosts.clone().unwrap_or_default();
                let session = Session::connect(&host, &kh, &opts).await?;
                let out = session
                    .run("true", None, Some(host.connect_timeout))
                    .await?;
                let _ = session.close().await;
                if out.success() {
                    Ok(())
                } else {
                    Err(SshError::ExecRefused {
                        name: host.name.clone(),
                        command: format!("true ({})", out.describe_end()),
                    })
                }
            });
            session.map_err(|e| SandboxError::Login {
                name,
                source: Box::new(e),
            })
        };
        match std::thread::scope(|s| s.spawn(login).join()) {
            Ok(r) => r,
            // The login thread panicked: report it as a failed start, not a crash.
            Err(_) => Err(SandboxError::NotRunning {
                name: self.name.clone(),
            }),
        }
    }
}

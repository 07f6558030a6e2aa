//! The lab's compute hosts: `matelot lab up --hosts N` starts N sandboxed sshd hosts
//! ([`SandboxHost`]) in parallel on distinct loopback addresses, gives each a restic password
//! file, copies each root client key into the lab directory and writes the lab's
//! `known_hosts` (exactly the lines `matelot host trust` would have recorded). The hosts are
//! detached: they outlive `lab up` and are stopped by `lab down` from their state directories.
//!
//! A start that fails half-way stops every host it started. Nothing here writes outside the
//! lab directory (and the sandboxes' own namespaces), and the restic password never reaches
//! a log, an error message or `Debug` output.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::compute::known_hosts::{HostKey, entry_line};
use crate::lab::sandbox::{self, SandboxError, SandboxHost, SandboxOptions};

/// Sandbox state directories live in `DIR/hosts/NAME`.
pub const HOSTS_DIR: &str = "hosts";
/// The lab's known_hosts, beside `matelot.toml`.
pub const KNOWN_HOSTS_FILE: &str = "known_hosts";
/// The restic repository inside each host (`/srv` is a private tmpfs there).
pub const RESTIC_REPOSITORY: &str = "/srv/restic";
/// The restic password file inside each host (mode 0600, random content).
pub const RESTIC_PASSWORD_FILE: &str = "/root/.config/restic/password";
/// Most hosts one lab may run (127.0.0.2 up to 127.0.0.65).
pub const MAX_HOSTS: usize = 64;

/// Why the lab's hosts could not be started.
#[derive(Debug, thiserror::Error)]
pub enum HostsError {
    #[error(
        "cannot start the lab's compute hosts: {source}. \
         Start a Cloudron-only lab with `matelot lab up --hosts 0`"
    )]
    Prerequisite {
        #[source]
        source: SandboxError,
    },
    #[error("compute host {name} did not start: {source}")]
    Start {
        name: String,
        #[source]
        source: SandboxError,
    },
    #[error("{what} on compute host {name} failed: {detail}")]
    Setup {
        name: String,
        what: &'static str,
        detail: String,
    },
    #[error("{what} ({}): {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("--hosts {0} is too many: a lab runs at most {MAX_HOSTS} compute hosts")]
    TooMany(usize),
}

/// A started, detached lab host: what `lab.json` and `matelot.toml` record about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabHost {
    pub name: String,
    pub addr: IpAddr,
    pub port: u16,
    /// The `unshare` process whose life is the host's.
    pub unshare_pid: u32,
    /// The namespace's PID 1 (sshd).
    pub pid1: u32,
    pub state_dir: PathBuf,
    /// The sandbox's host keys, OpenSSH public key lines.
    pub host_keys_pub: Vec<String>,
}

/// `calcul` for one host, `calcul1` ... `calculN` for several.
pub fn host_names(n: usize) -> Vec<String> {
    match n {
        0 => Vec::new(),
        1 => vec!["calcul".to_string()],
        _ => (1..=n).map(|i| format!("calcul{i}")).collect(),
    }
}

/// The loopback address of host `index` (0-based): 127.0.0.2, 127.0.0.3, ...
pub fn host_addr(index: usize) -> Result<IpAddr, HostsError> {
    u8::try_from(index + 2)
        .ok()
        .filter(|_| index < MAX_HOSTS)
        .map(|last| IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)))
        .ok_or(HostsError::TooMany(index + 1))
}

/// The root client key of host `name`, relative to the lab directory.
pub fn key_file(name: &str) -> String {
    format!("{name}.key")
}

/// The `[compute.NAME]` tables and the `[backup.compute]` table of the lab's `matelot.toml`
/// (empty without hosts). Paths are relative to the file.
pub fn compute_toml(hosts: &[(String, IpAddr, u16)]) -> String {
    if hosts.is_empty() {
        return String::new();
    }
    let mut s = String::new();
    for (name, addr, port) in hosts {
        s.push_str(&format!(
            "\n[compute.{name}]\n\
             host = \"{addr}\"\n\
             port = {port}\n\
             user = \"root\"\n\
             identity = \"{}\"\n\
             known_hosts = \"{KNOWN_HOSTS_FILE}\"\n",
            key_file(name)
        ));
    }
    s.push_str(&format!(
        "\n[backup.compute]\n\
         repository = \"{RESTIC_REPOSITORY}\"\n\
         password_file = \"{RESTIC_PASSWORD_FILE}\"\n\
         paths = [\"/home\"]\n\
         keep = {{ daily = 7, weekly = 4, monthly = 6 }}\n"
    ));
    s
}

/// The lab's known_hosts: every host key of every host, each line exactly as
/// `matelot host trust` records it (`[addr]:port TYPE BASE64`).
pub fn known_hosts_text(hosts: &[LabHost]) -> String {
    let mut s = String::new();
    for h in hosts {
        for key in h
            .host_keys_pub
            .iter()
            .filter_map(|k| HostKey::from_openssh(k))
        {
            s.push_str(&entry_line(&h.addr.to_string(), h.port, &key));
            s.push('\n');
        }
    }
    s
}

/// The shell script (run inside a sandbox, the password on its stdin) that writes the restic
/// password file with mode 0600 in a directory of mode 0700.
pub fn password_script(path: &str) -> Result<String, HostsError> {
    let parent = Path::new(path)
        .parent()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "/".into());
    let q = |s: &str| {
        shlex::try_quote(s)
            .map(|q| q.into_owned())
            .map_err(|e| HostsError::Setup {
                name: String::new(),
                what: "quoting the restic password path",
                detail: e.to_string(),
            })
    };
    Ok(format!(
        "umask 077 && mkdir -p {} && cat > {} && chmod 600 {}",
        q(&parent)?,
        q(path)?,
        q(path)?
    ))
}

/// 48 random hex characters.
fn random_password() -> String {
    hex::encode(rand::random::<[u8; 24]>())
}

/// Start one host and give it its restic password file. The host is still attached: dropping
/// it stops it.
fn start_one(base: &Path, name: &str, addr: IpAddr) -> Result<SandboxHost, HostsError> {
    let mut opts = SandboxOptions::new(name, base);
    opts.addr = addr;
    opts.tie_to_thread = false;
    opts.ready_timeout = Duration::from_secs(30);
    let host = SandboxHost::start(opts).map_err(|source| HostsError::Start {
        name: name.to_string(),
        source,
    })?;
    let script = password_script(RESTIC_PASSWORD_FILE)?;
    let password = random_password();
    let out = host
        .exec_input(&["sh", "-c", &script], Some(password.as_bytes()))
        .map_err(|e| HostsError::Setup {
            name: name.to_string(),
            what: "writing the restic password file",
            detail: e.to_string(),
        })?;
    if !out.status.success() {
        return Err(HostsError::Setup {
            name: name.to_string(),
            what: "writing the restic password file",
            detail: format!(
                "{}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        });
    }
    Ok(host)
}

/// Fail early, saying exactly what is missing (root, sshd, util-linux...).
pub fn check_prerequisites() -> Result<(), HostsError> {
    sandbox::check_prerequisites()
        .map(|_| ())
        .map_err(|source| HostsError::Prerequisite { source })
}

/// Start `n` hosts in parallel under `DIR/hosts`, copy their client keys into `dir` (0600)
/// and write `DIR/known_hosts`. On any failure every host started is stopped again.
pub fn start(dir: &Path, n: usize) -> Result<Vec<LabHost>, HostsError> {
    if n > MAX_HOSTS {
        return Err(HostsError::TooMany(n));
    }
    if n == 0 {
        return Ok(Vec::new());
    }
    check_prerequisites()?;
    let base = dir.join(HOSTS_DIR);
    std::fs::create_dir_all(&base).map_err(|source| HostsError::Io {
        what: "creating the hosts directory",
        path: base.clone(),
        source,
    })?;
    let names = host_names(n);
    let addrs = (0..n).map(host_addr).collect::<Result<Vec<_>, _>>()?;
    let results: Vec<Result<SandboxHost, HostsError>> = std::thread::scope(|s| {
        let handles: Vec<_> = names
            .iter()
            .zip(&addrs)
            .map(|(name, addr)| {
                let base = &base;
                s.spawn(move || start_one(base, name, *addr))
            })
            .collect();
        handles
            .into_iter()
            .zip(&names)
            .map(|(h, name)| {
                h.join().unwrap_or_else(|_| {
                    Err(HostsError::Setup {
                        name: name.clone(),
                        what: "starting",
                        detail: "the starting thread panicked".into(),
                    })
                })
            })
            .collect()
    });
    let mut started = Vec::new();
    let mut first_err = None;
    for r in results {
        match r {
            Ok(h) => started.push(h),
            Err(e) if first_err.is_none() => first_err = Some(e),
            Err(_) => {}
        }
    }
    if let Some(e) = first_err {
        // Dropping the attached hosts stops them.
        drop(started);
        return Err(e);
    }
    let hosts: Vec<LabHost> = started
        .iter()
        .map(|h| LabHost {
            name: h.name.clone(),
            addr: h.addr,
            port: h.port,
            unshare_pid: h.unshare_pid,
            pid1: h.pid1,
            state_dir: h.state_dir.clone(),
            host_keys_pub: h.host_keys_pub.clone(),
        })
        .collect();
    // On error, `started` is dropped here and stops every host.
    write_client_files(dir, &started, &hosts)?;
    for h in started {
        h.detach();
    }
    Ok(hosts)
}

fn write_client_files(
    dir: &Path,
    started: &[SandboxHost],
    hosts: &[LabHost],
) -> Result<(), HostsError> {
    for h in started {
        let dest = dir.join(key_file(&h.name));
        let io = |what| {
            let path = dest.clone();
            move |source| HostsError::Io { what, path, source }
        };
        let key = std::fs::read(&h.client_key).map_err(io("reading the client key"))?;
        let _ = std::fs::remove_file(&dest);
        let mut f = cloudron_emulator::private_file(&dest).map_err(io("writing the client key"))?;
        f.write_all(&key).map_err(io("writing the client key"))?;
    }
    let kh = dir.join(KNOWN_HOSTS_FILE);
    std::fs::write(&kh, known_hosts_text(hosts)).map_err(|source| HostsError::Io {
        what: "writing the lab's known_hosts",
        path: kh,
        source,
    })
}

/// Stop a lab host from its state directory (only PIDs proven to be its own are signalled),
/// and return only once its `unshare` and PID 1 have exited: `stop_state_dir` may return while
/// `unshare` is still exiting (its command line already empty), its mounts not yet released.
/// Returns false when it was not running.
pub fn stop(state_dir: &Path) -> Result<bool, SandboxError> {
    let pids = sandbox::running_in(state_dir);
    let stopped = sandbox::stop_state_dir(state_dir)?;
    if let Some((unshare_pid, pid1)) = pids {
        // Only waiting here, never signalling: these pids were proved ours above.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while [unshare_pid, pid1]
            .into_iter()
            .any(super::labstate::is_alive)
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    Ok(stopped)
}

/// Hosts running from `DIR/hosts/*` (also those a crashed `lab up` never recorded).
pub fn running_under(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir.join(HOSTS_DIR)) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| sandbox::running_in(p).is_some())
        .collect();
    v.sort();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_addresses() {
        assert!(host_names(0).is_empty());
        assert_eq!(host_names(1), ["calcul"]);
        assert_eq!(host_names(3), ["calcul1", "calcul2", "calcul3"]);
        assert_eq!(host_addr(0).ok(), "127.0.0.2".parse().ok());
        assert_eq!(host_addr(2).ok(), "127.0.0.4".parse().ok());
        assert_eq!(host_addr(MAX_HOSTS - 1).ok(), "127.0.0.65".parse().ok());
        assert!(matches!(host_addr(MAX_HOSTS), Err(HostsError::TooMany(65))));
    }

    #[test]
    fn compute_toml_is_exact() {
        let a: IpAddr = "127.0.0.2".parse().expect("ip");
        let b: IpAddr = "127.0.0.3".parse().expect("ip");
        assert_eq!(compute_toml(&[]), "");
        assert_eq!(
            compute_toml(&[("calcul1".into(), a, 40001), ("calcul2".into(), b, 40002)]),
            "\n[compute.calcul1]\n\
             host = \"127.0.0.2\"\n\
             port = 40001\n\
             user = \"root\"\n\
             identity = \"calcul1.key\"\n\
             known_hosts = \"known_hosts\"\n\
             \n[compute.calcul2]\n\
             host = \"127.0.0.3\"\n\
             port = 40002\n\
             user = \"root\"\n\
             identity = \"calcul2.key\"\n\
             known_hosts = \"known_hosts\"\n\
             \n[backup.compute]\n\
             repository = \"/srv/restic\"\n\
             password_file = \"/root/.config/restic/password\"\n\
             paths = [\"/home\"]\n\
             keep = { daily = 7, weekly = 4, monthly = 6 }\n"
        );
    }

    #[test]
    fn known_hosts_lines_are_what_host_trust_records() {
        let k = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIICvH5tm0dk06b2A2/rpe5K8Q8WKbtRf+yKb3ytoHH2J root@calcul";
        let h = LabHost {
            name: "calcul".into(),
            addr: "127.0.0.2".parse().expect("ip"),
            port: 40001,
            unshare_pid: 1,
            pid1: 2,
            state_dir: PathBuf::from("/l/hosts/calcul"),
            host_keys_pub: vec![k.into(), "garbage".into()],
        };
        assert_eq!(
            known_hosts_text(&[h]),
            "[127.0.0.2]:40001 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIICvH5tm0dk06b2A2/rpe5K8Q8WKbtRf+yKb3ytoHH2J\n"
        );
    }

    #[test]
    fn password_script_is_exact() {
        assert_eq!(
            password_script(RESTIC_PASSWORD_FILE).ok().as_deref(),
            Some(
                "umask 077 && mkdir -p /root/.config/restic && cat > /root/.config/restic/password \
                 && chmod 600 /root/.config/restic/password"
            )
        );
        assert_eq!(
            password_script("/a b/pw").ok().as_deref(),
            Some("umask 077 && mkdir -p '/a b' && cat > '/a b/pw' && chmod 600 '/a b/pw'")
        );
    }

    #[test]
    fn passwords_are_random_hex() {
        let (a, b) = (random_password(), random_password());
        assert_eq!(a.len(), 48);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}

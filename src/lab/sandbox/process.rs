//! The processes of a sandbox, seen from the real machine: spawning `unshare` (tied to the
//! spawning thread by a parent-death signal), finding the namespace's PID 1, proving a PID is
//! still ours before signalling it, and waiting for everything to be gone.
//!
//! PIDs are reused quickly on a busy machine: nothing here signals a PID whose identity it has
//! not just checked (the namespace's PID 1 must be a child of our `unshare`), and it never
//! signals by name.

use std::fs::File;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::error::SandboxError;

/// Fields of `/proc/PID/stat` we need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    pub state: char,
    pub ppid: u32,
}

/// Parse `/proc/PID/stat` text (the command name may contain spaces and parentheses).
pub fn parse_stat(text: &str) -> Option<Stat> {
    let rest = &text[text.rfind(')')? + 1..];
    let mut f = rest.split_whitespace();
    let state = f.next()?.chars().next()?;
    let ppid = f.next()?.parse().ok()?;
    Some(Stat { state, ppid })
}

/// The stat of a live process, `None` if it is gone.
pub fn stat(pid: u32) -> Option<Stat> {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|t| parse_stat(&t))
}

/// True when the process exists and is not a zombie (a zombie has released its namespaces).
pub fn alive(pid: u32) -> bool {
    stat(pid).is_some_and(|s| s.state != 'Z')
}

/// The first child of `pid` (our `unshare` has exactly one: the namespace's PID 1).
pub fn first_child(pid: u32) -> Option<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Is `pid1` still the namespace's PID 1 started by `unshare_pid`?
pub fn is_our_pid1(pid1: u32, unshare_pid: u32) -> bool {
    stat(pid1).is_some_and(|s| s.ppid == unshare_pid && s.state != 'Z')
}

/// Spawn `unshare ... init.sh STATE PORT ADDR NAME`, output to the console log.
/// With `tie_to_thread`, the kernel SIGKILLs `unshare` when the spawning *thread* exits, and
/// `--kill-child` then takes the whole namespace with it.
pub fn spawn_unshare(
    unshare: &Path,
    init: &Path,
    args: &[String],
    console: &Path,
    tie_to_thread: bool,
) -> Result<Child, SandboxError> {
    let log = File::create(console).map_err(|source| SandboxError::Io {
        what: format!("creating {}", console.display()),
        source,
    })?;
    let log2 = log.try_clone().map_err(|source| SandboxError::Io {
        what: format!("opening {}", console.display()),
        source,
    })?;
    let mut cmd = Command::new(unshare);
    cmd.args([
        "--mount",
        "--pid",
        "--fork",
        "--mount-proc",
        "--uts",
        "--kill-child=SIGKILL",
        "--",
        "/bin/bash",
    ])
    .arg(init)
    .args(args)
    .current_dir("/")
    .env_clear()
    .env(
        "PATH",
        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    )
    .env("LANG", "C.UTF-8")
    .stdin(Stdio::null())
    .stdout(log)
    .stderr(log2);
    // SAFETY: the closure runs in the forked child before exec and only calls
    // async-signal-safe functions (setsid, prctl, getppid); it allocates nothing.
    let parent = std::process::id();
    unsafe {
        use std::os::unix::process::CommandExt;
        cmd.pre_exec(move || {
            libc::setsid();
            if tie_to_thread {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // The parent may have died before prctl: then no signal would ever come.
                if libc::getppid() as u32 != parent {
                    return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
                }
            }
            Ok(())
        });
    }
    cmd.spawn().map_err(|source| SandboxError::Io {
        what: format!("starting {}", unshare.display()),
        source,
    })
}

/// SIGKILL a PID.
pub fn kill9(pid: u32) {
    // SAFETY: kill(2) with a plain PID and signal; no memory is involved.
    unsafe {
        libc::kill(pid as libc::pid_t, libc::SIGKILL);
    }
}

/// Wait for our `unshare` child to exit, up to `limit`; SIGKILL it (which, with `--kill-child`,
/// also kills the namespace's PID 1) if it has not. Reaps it either way.
pub fn wait_child(child: &mut Child, limit: Duration) -> Result<(), SandboxError> {
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => return Ok(()),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(2)),
            Ok(None) => {
                let _ = child.kill();
                child.wait().map_err(|source| SandboxError::Io {
                    what: "waiting for unshare".into(),
                    source,
                })?;
                return Ok(());
            }
            Err(source) => {
                return Err(SandboxError::Io {
                    what: "waiting for unshare".into(),
                    source,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_parses_names_with_spaces_and_parens() {
        let s = parse_stat("123 (sshd: /usr/sbin/sshd -D [listener] (x)) S 99 123 123 0 -1")
            .expect("parses");
        assert_eq!(
            s,
            Stat {
                state: 'S',
                ppid: 99
            }
        );
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn our_own_process_is_alive_and_a_child_of_its_parent() {
        let me = std::process::id();
        assert!(alive(me));
        let st = stat(me).expect("stat");
        assert!(is_our_pid1(me, st.ppid));
        assert!(!is_our_pid1(me, st.ppid + 1));
    }
}

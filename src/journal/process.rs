//! Who is running: the identity of a process (pid, start time, boot, host, user) and whether
//! a process recorded earlier is still the one running.
//!
//! A pid alone is not an identity: pids are reused. A journal row or a lock file records the
//! pid together with the process start time (`/proc/PID/stat` field 22, clock ticks since boot)
//! and the boot id, so a later reader can tell "still running" from "gone" and from "pid reused
//! by someone else". This module reads `/proc` and calls `libc`; it never writes anything, and
//! it never judges a process recorded on another host (it cannot see it).

use std::ffi::CStr;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The identity of one process, as recorded by a journal row or the run lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessId {
    pub pid: u32,
    /// Start time in clock ticks since boot (`/proc/PID/stat` field 22); 0 when unknown.
    pub start_ticks: u64,
    /// `/proc/sys/kernel/random/boot_id`; empty when unknown.
    #[serde(default)]
    pub boot_id: String,
    /// Host name the process ran on.
    pub host: String,
}

/// Who is acting: the user and the host. `sudo_user` is the person behind `sudo`, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub user: String,
    pub host: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sudo_user: Option<String>,
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.sudo_user {
            Some(s) if *s != self.user => write!(f, "{s}({})@{}", self.user, self.host),
            _ => write!(f, "{}@{}", self.user, self.host),
        }
    }
}

/// What a reader can say about a recorded process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    /// The same process is still running.
    Alive,
    /// It is gone: no such pid, the pid now belongs to another process, or the host rebooted.
    Gone,
    /// It ran on another host (or nothing could be read): no judgement.
    Unknown,
}

impl ProcessId {
    /// The identity of the calling process.
    pub fn current() -> ProcessId {
        let pid = std::process::id();
        ProcessId {
            pid,
            start_ticks: start_ticks(pid).unwrap_or(0),
            boot_id: boot_id().unwrap_or_default(),
            host: hostname(),
        }
    }

    /// Whether the recorded process still runs, judged from this host.
    pub fn liveness(&self) -> Liveness {
        let here = hostname();
        if self.host != here {
            return Liveness::Unknown;
        }
        if let Some(now) = boot_id()
            && !self.boot_id.is_empty()
            && self.boot_id != now
        {
            return Liveness::Gone;
        }
        if self.pid == 0 {
            return Liveness::Unknown;
        }
        match start_ticks(self.pid) {
            Some(ticks) if self.start_ticks == 0 || ticks == self.start_ticks => Liveness::Alive,
            Some(_) => Liveness::Gone,
            None if Path::new("/proc/self/stat").exists() => Liveness::Gone,
            // No /proc: fall back to the signal-0 probe (EPERM still means "exists").
            None => match pid_exists(self.pid) {
                Some(true) => Liveness::Alive,
                Some(false) => Liveness::Gone,
                None => Liveness::Unknown,
            },
        }
    }

    /// The wall-clock start time of the process, when it ran on this boot of this host.
    pub fn started_at(&self) -> Option<DateTime<Utc>> {
        if self.host != hostname() || self.start_ticks == 0 {
            return None;
        }
        if !self.boot_id.is_empty() && boot_id().as_deref() != Some(self.boot_id.as_str()) {
            return None;
        }
        let btime = boot_time_secs()?;
        let hz = clock_ticks_per_sec()?;
        let millis = i64::try_from(self.start_ticks.checked_mul(1000)? / hz).ok()?;
        DateTime::from_timestamp_millis(btime.checked_mul(1000)?.checked_add(millis)?)
    }
}

impl Actor {
    /// The calling user on this host.
    pub fn current() -> Actor {
        let user = user_name();
        let sudo_user = std::env::var("SUDO_USER")
            .ok()
            .filter(|s| !s.is_empty() && *s != user);
        Actor {
            user,
            host: hostname(),
            sudo_user,
        }
    }
}

/// This process's command line; arguments that are not UTF-8 are converted lossily (never
/// a panic, unlike `std::env::args`).
pub fn own_args() -> Vec<String> {
    std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect()
}

/// Field 22 of `/proc/PID/stat`: the start time in clock ticks since boot.
pub fn start_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_start_ticks(&stat)
}

/// Parse field 22 of a `/proc/PID/stat` line. The command name (field 2) is in parentheses
/// and may itself contain spaces and parentheses, so fields are counted after the last `)`.
pub fn parse_start_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    // After ")" come fields 3 (state), 4, ...; field 22 is the 20th of them.
    rest.split_whitespace().nth(22 - 3)?.parse().ok()
}

/// This boot's id, which changes at every boot.
pub fn boot_id() -> Option<String> {
    let s = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// The host name (`uname -n`), or `localhost` when it cannot be read.
pub fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates on success
    // when the name fits, and the last byte stays 0 because we pass len - 1.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len() - 1) };
    if rc != 0 {
        return "localhost".to_string();
    }
    CStr::from_bytes_until_nul(&buf)
        .ok()
        .and_then(|c| c.to_str().ok())
        .filter(|s| !s.is_empty())
        .map_or_else(|| "localhost".to_string(), str::to_string)
}

/// The name of the effective user, or `uid N` when it has no passwd entry.
pub fn user_name() -> String {
    // SAFETY: geteuid cannot fail.
    let uid = unsafe { libc::geteuid() };
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut buf = vec![0 as libc::c_char; 4096];
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: all pointers are valid for the call; getpwuid_r writes only into pwd and buf.
    let rc = unsafe { libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr(), buf.len(), &mut result) };
    if rc == 0 && !result.is_null() && !pwd.pw_name.is_null() {
        // SAFETY: on success pw_name points to a NUL-terminated string inside buf.
        if let Ok(name) = unsafe { CStr::from_ptr(pwd.pw_name) }.to_str() {
            return name.to_string();
        }
    }
    format!("uid {uid}")
}

/// `Some(true)` if a process with this pid exists, `Some(false)` if not, `None` if unknown.
fn pid_exists(pid: u32) -> Option<bool> {
    let pid = libc::pid_t::try_from(pid).ok()?;
    // SAFETY: signal 0 only checks for existence and permission; nothing is sent.
    if unsafe { libc::kill(pid, 0) } == 0 {
        return Some(true);
    }
    match std::io::Error::last_os_error().raw_os_error() {
        Some(libc::ESRCH) => Some(false),
        Some(libc::EPERM) => Some(true),
        _ => None,
    }
}

fn boot_time_secs() -> Option<i64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    stat.lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse().ok())
}

fn clock_ticks_per_sec() -> Option<u64> {
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    u64::try_from(hz).ok().filter(|h| *h > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_ticks_are_field_22_even_with_odd_command_names() {
        let cases = [
            (
                "1234 (bash) S 1 1234 1234 0 -1 4194304 100 0 0 0 1 2 0 0 20 0 1 0 98765 1000 200",
                Some(98765),
            ),
            (
                "77 (a) b (c)) R 1 77 77 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 4242 0 0",
                Some(4242),
            ),
            ("5 (short) S 1 2 3", None),
            ("no parenthesis here", None),
        ];
        for (line, want) in cases {
            assert_eq!(parse_start_ticks(line), want, "{line}");
        }
    }

    #[test]
    fn the_current_process_is_alive_and_a_changed_start_time_is_gone() {
        let me = ProcessId::current();
        assert!(me.start_ticks > 0, "read /proc/self/stat");
        assert_eq!(me.liveness(), Liveness::Alive);
        let reused = ProcessId {
            start_ticks: me.start_ticks + 1,
            ..me.clone()
        };
        assert_eq!(reused.liveness(), Liveness::Gone);
        let rebooted = ProcessId {
            boot_id: "not-this-boot".into(),
            ..me.clone()
        };
        assert_eq!(rebooted.liveness(), Liveness::Gone);
        let elsewhere = ProcessId {
            host: format!("{}-elsewhere", me.host),
            ..me.clone()
        };
        assert_eq!(elsewhere.liveness(), Liveness::Unknown);
    }

    #[test]
    fn start_time_is_in_the_past_and_after_boot() {
        let started = ProcessId::current().started_at().expect("start time");
        let now = Utc::now();
        assert!(started <= now + chrono::Duration::seconds(1), "{started}");
        assert!(
            now - started < chrono::Duration::hours(24 * 365),
            "{started}"
        );
    }

    #[test]
    fn actor_shows_the_person_behind_sudo() {
        let a = Actor {
            user: "root".into(),
            host: "calcul".into(),
            sudo_user: Some("alice".into()),
        };
        assert_eq!(a.to_string(), "alice(root)@calcul");
        let b = Actor {
            sudo_user: None,
            ..a
        };
        assert_eq!(b.to_string(), "root@calcul");
    }
}

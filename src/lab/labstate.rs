//! What `matelot lab up` started, recorded in `DIR/lab.json` so that `lab down` stops exactly
//! those processes and `lab status` can report on them. Each entry names the process, its
//! pid and the command-line words that prove a pid still belongs to it (pids are reused).
//!
//! Compute sandbox hosts are entries of the same list (`kind = "compute"`): their pid is the
//! `unshare` process whose life is the host's, and their `details` hold the address, port,
//! namespace PID 1 and state directory (from which `lab down` stops them).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// File name of the lab state in the lab directory.
pub const LAB_STATE_FILE: &str = "lab.json";

/// Everything the lab started.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct LabState {
    pub version: u32,
    /// The lab directory (absolute).
    pub dir: PathBuf,
    pub processes: Vec<LabProcess>,
}

/// One background process of the lab.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LabProcess {
    /// `cloudron` (the emulator) or `compute` (a sandbox host).
    pub kind: String,
    /// Unique within the lab, e.g. `cloudron`, `calcul` or `calcul2`.
    pub name: String,
    pub pid: u32,
    /// Words that must all appear in `/proc/PID/cmdline` for the pid to still be this process.
    pub cmdline_marker: Vec<String>,
    pub started_at: String,
    /// Where the process writes its log.
    pub log: PathBuf,
    /// Where it can be reached (`https://127.0.0.1:PORT`, `ssh://root@127.0.0.2:PORT`).
    pub url: Option<String>,
    /// Anything else a kind wants to remember (ports, files it owns).
    #[serde(default)]
    pub details: Map<String, Value>,
}

impl LabState {
    pub fn path(dir: &Path) -> PathBuf {
        dir.join(LAB_STATE_FILE)
    }

    /// Read the lab state; `Ok(None)` when the lab was never started here.
    pub fn load(dir: &Path) -> Result<Option<LabState>, String> {
        let path = Self::path(dir);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| format!("{} is not a lab state file: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("reading {}: {e}", path.display())),
        }
    }

    /// Write the lab state atomically.
    pub fn save(&self) -> Result<(), String> {
        let path = Self::path(&self.dir);
        let tmp = self.dir.join(format!(".{LAB_STATE_FILE}.tmp"));
        let text = serde_json::to_string_pretty(self).map_err(|e| e.to_string())?;
        std::fs::write(&tmp, text + "\n")
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|e| format!("writing {}: {e}", path.display()))
    }

    pub fn process(&self, name: &str) -> Option<&LabProcess> {
        self.processes.iter().find(|p| p.name == name)
    }
}

/// The process's state letter from `/proc/PID/stat` (`None` when there is no such process).
fn proc_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "PID (comm) S ...": comm may contain spaces and parentheses; the state follows the last ')'.
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

/// True when the process exists and is not a zombie.
pub fn is_alive(pid: u32) -> bool {
    matches!(proc_state(pid), Some(s) if s != 'Z' && s != 'X')
}

/// The process's command line words.
pub fn cmdline(pid: u32) -> Option<Vec<String>> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    Some(
        raw.split(|b| *b == 0)
            .filter(|w| !w.is_empty())
            .map(|w| String::from_utf8_lossy(w).into_owned())
            .collect(),
    )
}

/// True when `words` all appear in the command line, in this order (not necessarily adjacent).
pub fn cmdline_matches(cmdline: &[String], words: &[String]) -> bool {
    let mut it = cmdline.iter();
    words.iter().all(|w| it.any(|c| c == w))
}

impl LabProcess {
    /// Alive and still the process we started.
    pub fn is_running(&self) -> bool {
        is_alive(self.pid)
            && cmdline(self.pid).is_some_and(|c| cmdline_matches(&c, &self.cmdline_marker))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn marker_words_must_appear_in_order() {
        let c = words("/usr/bin/matelot lab serve-cloudron --state /l/s.json --dir /l");
        assert!(cmdline_matches(&c, &words("serve-cloudron --dir /l")));
        assert!(!cmdline_matches(&c, &words("serve-cloudron --dir /other")));
        assert!(!cmdline_matches(&c, &words("--dir /l serve-cloudron")));
        assert!(!cmdline_matches(
            &words("sleep 100"),
            &words("serve-cloudron")
        ));
    }

    #[test]
    fn this_process_is_alive_and_a_free_pid_is_not() {
        assert!(is_alive(std::process::id()));
        assert!(cmdline(std::process::id()).is_some_and(|c| !c.is_empty()));
        assert!(!is_alive(u32::MAX - 1));
    }

    #[test]
    fn save_and_load_round_trip() {
        let Ok(dir) = tempfile::tempdir() else {
            panic!("tempdir")
        };
        let st = LabState {
            version: 1,
            dir: dir.path().to_path_buf(),
            processes: vec![LabProcess {
                kind: "cloudron".into(),
                name: "cloudron".into(),
                pid: 42,
                cmdline_marker: words("serve-cloudron"),
                started_at: "2025-01-01T00:00:00.000Z".into(),
                log: dir.path().join("cloudron.log"),
                url: Some("https://127.0.0.1:1".into()),
                details: Map::new(),
            }],
        };
        assert_eq!(st.save(), Ok(()));
        assert_eq!(LabState::load(dir.path()), Ok(Some(st)));
        let empty = tempfile::tempdir().ok();
        assert!(empty.is_some_and(|d| LabState::load(d.path()) == Ok(None)));
    }
}

//! The run lock: one mutating matelot run at a time per state directory, so two admins (or an
//! admin and the nightly cron job) never change the same estate at once.
//!
//! The lock is an advisory `flock` on `<state dir>/matelot.lock`, taken with
//! [`std::fs::File::try_lock`]: the kernel releases it when the holder exits, however it
//! exits, so there are no stale locks to clean up. The holder writes who it is into the file
//! (pid, process start time, host, user, command line with secrets redacted) so a refused run
//! can say who is in the way. This module never waits long and never breaks a lock: a run
//! that cannot take it fails with exit 75 and tries again later.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::journal::process::own_args;
use crate::journal::redact::redact_args;
use crate::journal::{Actor, ProcessId, format_time};

/// How long [`RunLock::acquire`] keeps trying before reporting contention. Long enough to
/// ride out a `matelot lock status` probe or a run that is just releasing; short enough that
/// a refused run answers at once.
const PATIENCE: Duration = Duration::from_millis(250);
const RETRY_EVERY: Duration = Duration::from_millis(25);

/// Who holds the lock, as written into the lock file by the holder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Holder {
    pub process: ProcessId,
    pub actor: Actor,
    /// The holder's command line, secrets redacted.
    pub command: Vec<String>,
    /// When the holding process started (RFC 3339 UTC), if known.
    pub started_at: Option<String>,
    /// When it took the lock (RFC 3339 UTC).
    pub acquired_at: String,
}

impl Holder {
    fn current() -> Holder {
        let process = ProcessId::current();
        Holder {
            started_at: process.started_at().map(|t| format_time(&t)),
            process,
            actor: Actor::current(),
            command: redact_args(&own_args()),
            acquired_at: format_time(&Utc::now()),
        }
    }

    /// The command line for people: `matelot backup run` (program name without its path).
    pub fn command_line(&self) -> String {
        let mut words: Vec<&str> = self.command.iter().map(String::as_str).collect();
        if let Some(first) = words.first_mut() {
            *first = first.rsplit('/').next().unwrap_or(first);
        }
        shlex::try_join(words.iter().copied()).unwrap_or_else(|_| words.join(" "))
    }

    /// `pid 4242 (started 2025-06-01T02:00:00.000Z, `matelot backup run`) on calcul as root`
    pub fn describe(&self) -> String {
        let started = self.started_at.as_deref().unwrap_or("at an unknown time");
        format!(
            "pid {} (started {started}, `{}`) on {} as {}",
            self.process.pid,
            self.command_line(),
            self.process.host,
            self.actor.user
        )
    }
}

/// The run lock, held until dropped.
#[derive(Debug)]
pub struct RunLock {
    file: File,
    path: PathBuf,
    holder: Holder,
}

impl RunLock {
    /// Take the lock at `path` (creating the file and its directory), or fail with
    /// [`Error::Locked`] (exit 75) naming the holder.
    pub fn acquire(path: &Path) -> Result<RunLock> {
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        crate::journal::create_private_dir(dir).map_err(anyhow::Error::new)?;
        crate::journal::create_file(path, crate::journal::file_mode_for(dir))
            .map_err(anyhow::Error::new)?;
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .with_context(|| format!("opening the lock file {}", path.display()))?;
        let deadline = std::time::Instant::now() + PATIENCE;
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(RETRY_EVERY);
                }
                Err(std::fs::TryLockError::WouldBlock) => return Err(locked_error(path)),
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(anyhow::Error::new(e)
                        .context(format!("locking {}", path.display()))
                        .into());
                }
            }
        }
        let holder = Holder::current();
        let text = serde_json::to_string(&holder).context("describing the lock holder")?;
        file.set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| writeln!(file, "{text}"))
            .and_then(|()| file.flush())
            .with_context(|| format!("writing the lock holder into {}", path.display()))?;
        Ok(RunLock {
            file,
            path: path.to_path_buf(),
            holder,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What this process wrote into the lock file.
    pub fn holder(&self) -> &Holder {
        &self.holder
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        // Clear the holder first, so nobody reads a stale name after the release; both steps
        // are best effort because closing the file releases the lock anyway.
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

/// Whether the lock is free or who holds it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum LockStatus {
    Free,
    /// Held; `holder` is `None` if the file could not be read or the holder has not written
    /// itself into it yet.
    Held {
        holder: Option<Box<Holder>>,
    },
}

/// Look at the lock at `path` without taking it (a shared-lock probe of a few microseconds;
/// [`RunLock::acquire`] retries briefly, so a probe never makes a real run fail).
pub fn status(path: &Path) -> Result<LockStatus> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(LockStatus::Free),
        Err(e) => {
            return Err(anyhow::Error::new(e)
                .context(format!("opening the lock file {}", path.display()))
                .into());
        }
    };
    match file.try_lock_shared() {
        Ok(()) => {
            let _ = file.unlock();
            Ok(LockStatus::Free)
        }
        Err(std::fs::TryLockError::WouldBlock) => Ok(LockStatus::Held {
            holder: read_holder(path).map(Box::new),
        }),
        Err(std::fs::TryLockError::Error(e)) => Err(anyhow::Error::new(e)
            .context(format!("probing the lock {}", path.display()))
            .into()),
    }
}

/// The holder recorded in the lock file; a few quick re-reads cover the moment between the
/// holder's `flock` and its write.
fn read_holder(path: &Path) -> Option<Holder> {
    for _ in 0..4 {
        let mut text = String::new();
        if let Ok(mut f) = File::open(path)
            && f.read_to_string(&mut text).is_ok()
            && let Ok(h) = serde_json::from_str::<Holder>(text.trim())
        {
            return Some(h);
        }
        std::thread::sleep(RETRY_EVERY);
    }
    None
}

fn locked_error(path: &Path) -> Error {
    Error::Locked(match read_holder(path) {
        Some(h) => format!(
            "another matelot run holds the lock: {}; try again later",
            h.describe()
        ),
        None => format!(
            "another matelot run holds the lock {} (who holds it could not be read); try again later",
            path.display()
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_acquire_is_refused_naming_the_holder_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state/matelot.lock");
        assert_eq!(status(&path).unwrap(), LockStatus::Free);
        let first = RunLock::acquire(&path).unwrap();
        assert_eq!(first.holder().process, ProcessId::current());
        // flock conflicts between two open file descriptions, even within one process.
        let err = RunLock::acquire(&path).unwrap_err();
        assert_eq!(err.exit_code(), 75);
        let msg = err.to_string();
        let pid = std::process::id();
        assert!(
            msg.starts_with("another matelot run holds the lock: pid "),
            "{msg}"
        );
        assert!(msg.contains(&format!("pid {pid} (started ")), "{msg}");
        assert!(msg.ends_with("; try again later"), "{msg}");
        match status(&path).unwrap() {
            LockStatus::Held { holder: Some(h) } => assert_eq!(*h, *first.holder()),
            other => panic!("expected held, got {other:?}"),
        }
        drop(first);
        assert_eq!(status(&path).unwrap(), LockStatus::Free);
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "",
            "holder cleared"
        );
        let again = RunLock::acquire(&path).unwrap();
        drop(again);
    }

    #[test]
    fn the_command_line_is_shown_without_the_program_path() {
        let h = Holder {
            process: ProcessId::current(),
            actor: Actor::current(),
            command: vec![
                "/usr/local/bin/matelot".into(),
                "backup".into(),
                "run".into(),
            ],
            started_at: Some("2025-06-01T02:00:00.000Z".into()),
            acquired_at: "2025-06-01T02:00:01.000Z".into(),
        };
        assert_eq!(h.command_line(), "matelot backup run");
        let d = h.describe();
        assert!(
            d.starts_with(&format!(
                "pid {} (started 2025-06-01T02:00:00.000Z, `matelot backup run`) on ",
                h.process.pid
            )),
            "{d}"
        );
        let odd = Holder {
            command: vec!["matelot".into(), "play".into(), "my book.toml".into()],
            ..h
        };
        assert_eq!(odd.command_line(), "matelot play 'my book.toml'");
    }
}

//! The operations journal: one SQLite row per operation, written before a change and completed
//! after it, so a crash leaves evidence and every change says how to undo it.
//!
//! The journal is an embedded SQLite database (`<state dir>/journal.sqlite`) in WAL mode, so
//! readers never block and several matelot processes can write at once: every write is one
//! short `BEGIN IMMEDIATE` transaction that waits up to [`BUSY_TIMEOUT`] for the others. It
//! records what the executor tells it and judges whether the process that wrote an open row
//! is still alive; it never decides what to change, and it never stores a secret (command
//! lines, messages and planned changes go through [`redact`]).
//!
//! Every operation has a typed kind and plan ([`OpPlan`]), restore point ([`RestorePoint`])
//! and result ([`OpResult`]); `exec::settle` and `exec::undo` match on them exhaustively.
//! Free text (command lines, messages, notes) is redacted on the way in; typed data holds no
//! secret by construction and is stored exactly, so a restore point is never rewritten.

use std::fs::{DirBuilder, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags, Transaction, TransactionBehavior};

mod id;
mod kind;
mod legacy;
mod model;
mod ops;
pub mod process;
mod protect;
pub mod redact;
mod restore_point;
mod result;
mod rows;
pub mod schema;
mod status;
#[cfg(test)]
mod tests;

pub use id::{OpId, RunId};
pub use kind::{
    AccountsPlan, AppBackupPlan, AppRef, AppRestorePlan, AppUninstallPlan, BackupInitPlan,
    BackupPrunePlan, BackupRunPlan, HostTrustPlan, KeepPolicy, OpKind, OpPlan, UndoAction,
    UndoPlan, UnreadablePlan, UserRemovePlan,
};
pub use model::{
    Event, Filter, NewOp, Operation, Protection, TargetMatch, format_time, parse_since,
};
pub use process::{Actor, Liveness, ProcessId};
pub use redact::redact_args;
pub use restore_point::{AppBackupPoint, CloudronUserPoint, RestorePoint};
pub use result::{ChangeResult, OpResult, Outcome, TargetResult, TaskRecord};
pub use status::Status;

/// How long a write waits for other writers before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Everything the journal can fail with. Messages name the journal file and say what to do.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("cannot create the state directory {}: {source}", path.display())]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot create the journal {}: {source}", path.display())]
    CreateFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the journal {}: {source}; check that the state directory is writable", path.display())]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error(
        "the journal {} has schema version {found}, newer than this matelot knows ({known}); \
         upgrade matelot (the journal was left untouched)",
        path.display()
    )]
    TooNew {
        path: PathBuf,
        found: u32,
        known: u32,
    },
    #[error(
        "the journal {} stayed busy for more than {} s while {what} (another matelot is writing \
         to it); try again",
        path.display(), BUSY_TIMEOUT.as_secs()
    )]
    Busy { path: PathBuf, what: &'static str },
    #[error("journal {}: {what} failed: {source}", path.display())]
    Sql {
        path: PathBuf,
        what: &'static str,
        source: rusqlite::Error,
    },
    #[error("no operation {id} in the journal {}; `matelot journal list` shows the operations", path.display())]
    NotFound { path: PathBuf, id: OpId },
    #[error("operation {id} is already {status}; a finished operation is not changed")]
    Finished { id: OpId, status: Status },
    #[error("invalid journal request: {0}")]
    Invalid(String),
}

/// An open journal. Cheap to keep for a whole run; `Send + Sync`, so it can be shared.
pub struct Journal {
    conn: Mutex<Connection>,
    path: PathBuf,
    me: ProcessId,
    actor: Actor,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal").field("path", &self.path).finish()
    }
}

impl Journal {
    /// Open the journal at `path`, creating it (directory 0700, file 0600) and migrating its
    /// schema as needed. If the directory already exists and is group-writable (`chmod 2770`,
    /// the way two admins share a state directory), the file is created 0660 instead.
    pub fn open(path: &Path) -> Result<Journal, JournalError> {
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        create_private_dir(dir)?;
        create_file(path, file_mode_for(dir))?;
        let open_err = |source| JournalError::Open {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(open_err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
            .map_err(|e| map_sql(path, "switching to WAL mode", e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(JournalError::Invalid(format!(
                "{} cannot use WAL mode (got {mode}); keep the state directory on a local file system",
                path.display()
            )));
        }
        // FULL: a committed row survives a power cut, which is the point of writing it first.
        conn.pragma_update(None, "synchronous", "FULL")
            .and_then(|()| conn.pragma_update(None, "foreign_keys", "OFF"))
            .map_err(|e| map_sql(path, "setting pragmas", e))?;
        // Foreign keys are enforced after migrating: a migration that rebuilds a table drops
        // the old one, which SQLite refuses while rows reference it.
        schema::migrate(&conn, schema::MIGRATIONS).map_err(|e| match e {
            schema::MigrateError::TooNew { found, known } => JournalError::TooNew {
                path: path.to_path_buf(),
                found,
                known,
            },
            schema::MigrateError::Sql(e) => map_sql(path, "migrating the schema", e),
        })?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(|e| map_sql(path, "setting pragmas", e))?;
        Ok(Journal {
            conn: Mutex::new(conn),
            path: path.to_path_buf(),
            me: ProcessId::current(),
            actor: Actor::current(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<u32, JournalError> {
        schema::version(&self.conn()).map_err(|e| self.sql("reading the schema version", e))
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent (transactions roll
        // back on drop), so a poisoned lock is still usable.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Run `f` in one `BEGIN IMMEDIATE` transaction and commit it.
    fn write<T>(
        &self,
        what: &'static str,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, JournalError>,
    ) -> Result<T, JournalError> {
        let conn = self.conn();
        let tx = Transaction::new_unchecked(&conn, TransactionBehavior::Immediate)
            .map_err(|e| self.sql(what, e))?;
        let value = f(&tx)?;
        tx.commit().map_err(|e| self.sql(what, e))?;
        Ok(value)
    }

    fn sql(&self, what: &'static str, e: rusqlite::Error) -> JournalError {
        map_sql(&self.path, what, e)
    }
}

fn map_sql(path: &Path, what: &'static str, e: rusqlite::Error) -> JournalError {
    if matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    ) {
        return JournalError::Busy {
            path: path.to_path_buf(),
            what,
        };
    }
    JournalError::Sql {
        path: path.to_path_buf(),
        what,
        source: e,
    }
}

/// Create the state directory (and missing parents) with mode 0700; an existing one is kept
/// as the administrator set it.
pub(crate) fn create_private_dir(dir: &Path) -> Result<(), JournalError> {
    if dir.is_dir() {
        return Ok(());
    }
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|source| JournalError::CreateDir {
            path: dir.to_path_buf(),
            source,
        })
}

/// 0600, or 0660 when the directory is group-writable on purpose (a shared state directory).
pub(crate) fn file_mode_for(dir: &Path) -> u32 {
    match std::fs::metadata(dir) {
        Ok(m) if m.permissions().mode() & 0o070 == 0o070 => 0o660,
        _ => 0o600,
    }
}

/// Create `path` with `mode` if it does not exist (never truncating an existing file).
pub(crate) fn create_file(path: &Path, mode: u32) -> Result<(), JournalError> {
    let err = |source| JournalError::CreateFile {
        path: path.to_path_buf(),
        source,
    };
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
    {
        // The umask may have removed bits we want (group write): set the mode exactly.
        Ok(file) => file
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(err),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(err(e)),
    }
}

impl From<JournalError> for crate::error::Error {
    fn from(e: JournalError) -> Self {
        use crate::error::Error;
        match e {
            JournalError::NotFound { .. } => Error::Usage(e.to_string()),
            JournalError::TooNew { .. } => Error::Config(vec![e.to_string()]),
            other => Error::Other(anyhow::Error::new(other)),
        }
    }
}

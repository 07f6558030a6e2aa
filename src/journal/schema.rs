//! The journal's schema and its ordered migrations, tracked by SQLite's `PRAGMA user_version`.
//!
//! Migration N takes a database at version N-1 to version N. They run in one `BEGIN
//! IMMEDIATE` transaction, which re-reads the version first, so two processes opening an old
//! journal at once migrate it exactly once. To change the schema, append a migration; never
//! edit one that has shipped. A journal newer than this binary is refused, not touched.

use rusqlite::{Connection, Transaction, TransactionBehavior};

/// One step of the schema's history: SQL, then (when rows must be rewritten in ways SQL
/// cannot express, such as re-shaping JSON) a Rust step, in the same transaction.
pub struct Migration {
    /// The version this migration produces.
    pub version: u32,
    pub description: &'static str,
    pub sql: &'static str,
    pub rust: Option<fn(&Transaction<'_>) -> rusqlite::Result<()>>,
}

/// The schema's history, in order. Version `i + 1` is `MIGRATIONS[i]`.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "operations, events and protections",
        sql: "
        CREATE TABLE operations (
            id              INTEGER PRIMARY KEY AUTOINCREMENT,
            kind            TEXT NOT NULL,
            target          TEXT NOT NULL,
            status          TEXT NOT NULL CHECK (status IN
                ('planned','running','done','failed','refused','partial','interrupted')),
            created_at      TEXT NOT NULL,
            started_at      TEXT,
            finished_at     TEXT,
            actor_user      TEXT NOT NULL,
            actor_host      TEXT NOT NULL,
            actor_sudo_user TEXT,
            pid             INTEGER NOT NULL,
            pid_start_ticks INTEGER NOT NULL,
            boot_id         TEXT NOT NULL,
            command         TEXT NOT NULL,   -- JSON array of strings, secrets redacted
            planned         TEXT NOT NULL,   -- JSON, secrets redacted
            restore_kind    TEXT,
            restore_id      TEXT,
            restore_details TEXT,            -- JSON
            message         TEXT,
            undo_hint       TEXT
        );
        CREATE INDEX operations_target ON operations(target);
        CREATE INDEX operations_created ON operations(created_at);
        CREATE INDEX operations_open ON operations(status) WHERE status IN ('planned','running');

        CREATE TABLE events (
            id      INTEGER PRIMARY KEY AUTOINCREMENT,
            op_id   INTEGER NOT NULL REFERENCES operations(id),
            at      TEXT NOT NULL,
            status  TEXT,
            message TEXT NOT NULL
        );
        CREATE INDEX events_op ON events(op_id);

        CREATE TABLE protections (
            target          TEXT PRIMARY KEY,
            added_at        TEXT NOT NULL,
            actor_user      TEXT NOT NULL,
            actor_host      TEXT NOT NULL,
            actor_sudo_user TEXT,
            note            TEXT
        );
    ",
        rust: None,
    },
    Migration {
        version: 2,
        description: "typed operations: run ids, typed plans and results, more statuses, undo links",
        sql: "
        CREATE TABLE operations_v2 (
            id              INTEGER PRIMARY KEY AUTOINCREMENT,
            run_id          TEXT NOT NULL,
            kind            TEXT NOT NULL,
            target          TEXT NOT NULL,
            status          TEXT NOT NULL CHECK (status IN
                ('planned','running','done','failed','failed_changed','partial','refused',
                 'not_applied','interrupted','unknown')),
            created_at      TEXT NOT NULL,
            started_at      TEXT,
            finished_at     TEXT,
            actor_user      TEXT NOT NULL,
            actor_host      TEXT NOT NULL,
            actor_sudo_user TEXT,
            pid             INTEGER NOT NULL,
            pid_start_ticks INTEGER NOT NULL,
            boot_id         TEXT NOT NULL,
            command         TEXT NOT NULL,   -- JSON array of strings, secrets redacted
            plan            TEXT NOT NULL,   -- JSON: the kind's typed plan
            restore_kind    TEXT,
            restore_id      TEXT,
            restore_details TEXT,            -- JSON: the restore point's typed details
            result          TEXT,            -- JSON: the typed result, written as it happens
            undoes          INTEGER REFERENCES operations_v2(id),
            message         TEXT,
            undo_hint       TEXT
        );
        CREATE TABLE meta (
            key   TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
    ",
        rust: Some(super::legacy::migrate_v1_rows),
    },
];

/// The version this binary writes.
pub fn latest() -> u32 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// Why migrating failed.
#[derive(Debug)]
pub enum MigrateError {
    /// The database was written by a newer matelot.
    TooNew {
        found: u32,
        known: u32,
    },
    Sql(rusqlite::Error),
}

impl From<rusqlite::Error> for MigrateError {
    fn from(e: rusqlite::Error) -> Self {
        MigrateError::Sql(e)
    }
}

/// The database's schema version.
pub fn version(conn: &Connection) -> rusqlite::Result<u32> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
}

/// Bring the database to the last of `migrations`; returns the version found before.
pub fn migrate(conn: &Connection, migrations: &[Migration]) -> Result<u32, MigrateError> {
    let known = migrations.last().map_or(0, |m| m.version);
    // Cheap check outside a write transaction: the common case is "already current".
    let found = version(conn)?;
    if found == known {
        return Ok(found);
    }
    if found > known {
        return Err(MigrateError::TooNew { found, known });
    }
    let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
    // Another process may have migrated while we waited for the write lock.
    let found = version(&tx)?;
    if found > known {
        return Err(MigrateError::TooNew { found, known });
    }
    for m in migrations.iter().filter(|m| m.version > found) {
        tx.execute_batch(m.sql)?;
        if let Some(step) = m.rust {
            step(&tx)?;
        }
        tx.pragma_update(None, "user_version", m.version)?;
    }
    tx.commit()?;
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_consecutive_from_one() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version as usize, i + 1, "{}", m.description);
        }
        assert_eq!(latest() as usize, MIGRATIONS.len());
    }

    #[test]
    fn a_database_at_an_older_version_is_migrated_and_keeps_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.sqlite");
        let v1 = &MIGRATIONS[..1];
        let conn = Connection::open(&path).unwrap();
        assert_eq!(migrate(&conn, v1).unwrap(), 0);
        conn.execute(
            "INSERT INTO protections (target, added_at, actor_user, actor_host)
             VALUES ('matomo.example.org', '2025-01-01T00:00:00.000Z', 'root', 'h')",
            [],
        )
        .unwrap();
        drop(conn);

        // A later binary with a second migration opens the version-1 database.
        let later = [
            Migration { ..MIGRATIONS[0] },
            Migration {
                version: 2,
                description: "test: a reason for protections",
                sql: "ALTER TABLE protections ADD COLUMN reason TEXT NOT NULL DEFAULT 'config';",
                rust: None,
            },
        ];
        let conn = Connection::open(&path).unwrap();
        assert_eq!(migrate(&conn, &later).unwrap(), 1);
        assert_eq!(version(&conn).unwrap(), 2);
        let (target, reason): (String, String) = conn
            .query_row("SELECT target, reason FROM protections", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!(
            (target.as_str(), reason.as_str()),
            ("matomo.example.org", "config")
        );
        // Migrating again is a no-op.
        assert_eq!(migrate(&conn, &later).unwrap(), 2);

        // The older binary refuses the newer database instead of writing to it.
        match migrate(&conn, v1) {
            Err(MigrateError::TooNew { found: 2, known: 1 }) => {}
            other => panic!("expected TooNew, got {other:?}"),
        }
    }
}

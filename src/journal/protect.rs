//! Protected targets kept in the journal (`matelot app protect`), so a protection outlives a
//! configuration edit. This module only records and answers; refusing a destructive change
//! on a protected target is the guard's job.

use chrono::Utc;
use rusqlite::{OptionalExtension, params};

use super::model::Protection;
use super::process::Actor;
use super::rows::time_col;
use super::{Journal, JournalError, format_time};

impl Journal {
    /// Protect `target` (e.g. an app FQDN). Returns false if it was already protected, in
    /// which case the original record (who, when, note) is kept.
    pub fn protect(&self, target: &str, note: Option<&str>) -> Result<bool, JournalError> {
        let target = target.trim();
        if target.is_empty() {
            return Err(JournalError::Invalid(
                "cannot protect an empty target".into(),
            ));
        }
        let now = format_time(&Utc::now());
        let actor = &self.actor;
        self.write("protecting a target", |tx| {
            tx.execute(
                "INSERT OR IGNORE INTO protections
                    (target, added_at, actor_user, actor_host, actor_sudo_user, note)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![target, now, actor.user, actor.host, actor.sudo_user, note],
            )
            .map(|n| n == 1)
            .map_err(|e| self.sql("protecting a target", e))
        })
    }

    /// Remove the protection of `target`. Returns false if it was not protected.
    pub fn unprotect(&self, target: &str) -> Result<bool, JournalError> {
        let target = target.trim();
        self.write("unprotecting a target", |tx| {
            tx.execute("DELETE FROM protections WHERE target = ?1", [target])
                .map(|n| n == 1)
                .map_err(|e| self.sql("unprotecting a target", e))
        })
    }

    /// Whether `target` is protected (exact match; normalise names before asking).
    pub fn is_protected(&self, target: &str) -> Result<bool, JournalError> {
        self.conn()
            .query_row(
                "SELECT 1 FROM protections WHERE target = ?1",
                [target.trim()],
                |_| Ok(()),
            )
            .optional()
            .map(|found| found.is_some())
            .map_err(|e| self.sql("reading protections", e))
    }

    /// Every protected target, in name order.
    pub fn list_protected(&self) -> Result<Vec<Protection>, JournalError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(
                "SELECT target, added_at, actor_user, actor_host, actor_sudo_user, note
                 FROM protections ORDER BY target",
            )
            .map_err(|e| self.sql("reading protections", e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(Protection {
                    target: r.get(0)?,
                    added_at: time_col(r, 1)?,
                    actor: Actor {
                        user: r.get(2)?,
                        host: r.get(3)?,
                        sudo_user: r.get(4)?,
                    },
                    note: r.get(5)?,
                })
            })
            .map_err(|e| self.sql("reading protections", e))?;
        rows.collect::<Result<_, _>>()
            .map_err(|e| self.sql("reading protections", e))
    }
}

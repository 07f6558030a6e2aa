//! Writing and reading operations: begin, status changes, restore point, finish, notes,
//! queries, and the reconciliation of rows left open by a process that died.
//!
//! Every write is one short transaction that also appends an event, so `journal show` can
//! tell the story of an operation. Reads judge liveness on the fly and never write.

use chrono::Utc;
use rusqlite::{OptionalExtension, params};
use serde_json::Value;

use super::model::{Event, Filter, NewOp, OpId, Operation, RestorePoint, Status, TargetMatch};
use super::redact::{redact_args, redact_json, redact_text};
use super::rows::{COLUMNS, conv, row_to_op, time_col};
use super::{Journal, JournalError, format_time};

impl Journal {
    /// Record a new operation, as `planned` (or `running`), written by this process.
    /// Returns its id, to pass to the other calls and to show to the operator.
    pub fn begin(&self, op: NewOp) -> Result<OpId, JournalError> {
        if op.kind.trim().is_empty() {
            return Err(JournalError::Invalid("an operation needs a kind".into()));
        }
        if !op.status.is_open() {
            return Err(JournalError::Invalid(format!(
                "an operation begins planned or running, not {}",
                op.status
            )));
        }
        let now = format_time(&Utc::now());
        let command = op.command.unwrap_or_else(super::process::own_args);
        let command = Value::from(redact_args(&command)).to_string();
        let planned = redact_json(&op.planned).to_string();
        let started = (op.status == Status::Running).then_some(now.as_str());
        let (me, actor) = (&self.me, &self.actor);
        self.write("recording a new operation", |tx| {
            tx.execute(
                "INSERT INTO operations (kind, target, status, created_at, started_at,
                    actor_user, actor_host, actor_sudo_user, pid, pid_start_ticks, boot_id,
                    command, planned)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                params![
                    op.kind,
                    op.target,
                    op.status.as_str(),
                    now,
                    started,
                    actor.user,
                    me.host,
                    actor.sudo_user,
                    me.pid,
                    i64::try_from(me.start_ticks).unwrap_or(0),
                    me.boot_id,
                    command,
                    planned
                ],
            )
            .map_err(|e| self.sql("recording a new operation", e))?;
            let id = OpId(tx.last_insert_rowid());
            self.event(
                tx,
                id,
                &now,
                Some(op.status),
                &format!("begun as {}", op.status),
            )?;
            Ok(id)
        })
    }

    /// Move an open operation to `status`. Entering `running` sets the start time; a final
    /// status sets the finish time (prefer [`Journal::finish`], which also takes a message).
    pub fn set_status(&self, id: OpId, status: Status) -> Result<(), JournalError> {
        self.transition(id, status, None)
    }

    /// Finish an operation with a final status (done, failed, refused, partial) and, for a
    /// failure, the error text (redacted).
    pub fn finish(
        &self,
        id: OpId,
        status: Status,
        message: Option<&str>,
    ) -> Result<(), JournalError> {
        if status.is_open() || status == Status::Interrupted {
            return Err(JournalError::Invalid(format!(
                "operation {id} cannot finish as {status}; use done, failed, refused or partial"
            )));
        }
        self.transition(id, status, message)
    }

    fn transition(&self, id: OpId, to: Status, message: Option<&str>) -> Result<(), JournalError> {
        let now = format_time(&Utc::now());
        let message = message.map(redact_text);
        self.write("changing an operation's status", |tx| {
            let from = self.stored_status(tx, id)?;
            if !from.is_open() {
                return Err(JournalError::Finished { id, status: from });
            }
            let started = (to == Status::Running).then_some(now.as_str());
            let finished = (!to.is_open()).then_some(now.as_str());
            tx.execute(
                "UPDATE operations SET status = ?2,
                    started_at = COALESCE(started_at, ?3),
                    finished_at = COALESCE(?4, finished_at),
                    message = COALESCE(?5, message)
                 WHERE id = ?1",
                params![id.0, to.as_str(), started, finished, message],
            )
            .map_err(|e| self.sql("changing an operation's status", e))?;
            let text = match &message {
                Some(m) => format!("{from} -> {to}: {m}"),
                None => format!("{from} -> {to}"),
            };
            self.event(tx, id, &now, Some(to), &text)
        })
    }

    /// Settle an `interrupted` operation once the real state has been checked: `done` (the
    /// change did happen) or `failed` (it did not), with the reason. Only interrupted rows can
    /// be settled this way; the history keeps the `interrupted` event before it.
    pub fn settle_interrupted(
        &self,
        id: OpId,
        to: Status,
        message: &str,
    ) -> Result<(), JournalError> {
        if !matches!(to, Status::Done | Status::Failed) {
            return Err(JournalError::Invalid(format!(
                "an interrupted operation settles as done or failed, not {to}"
            )));
        }
        let now = format_time(&Utc::now());
        let message = redact_text(message);
        self.write("settling an interrupted operation", |tx| {
            let from = self.stored_status(tx, id)?;
            if from != Status::Interrupted {
                return Err(JournalError::Invalid(format!(
                    "operation {id} is {from}, not interrupted; only interrupted rows are settled"
                )));
            }
            tx.execute(
                "UPDATE operations SET status = ?2, finished_at = ?3, message = ?4 WHERE id = ?1",
                params![id.0, to.as_str(), now, message],
            )
            .map_err(|e| self.sql("settling an interrupted operation", e))?;
            self.event(
                tx,
                id,
                &now,
                Some(to),
                &format!("interrupted -> {to}: {message}"),
            )
        })
    }

    /// Record the restore point taken before the destructive step (details are redacted).
    pub fn set_restore_point(&self, id: OpId, rp: &RestorePoint) -> Result<(), JournalError> {
        let now = format_time(&Utc::now());
        let details = redact_json(&rp.details).to_string();
        self.update(id, "recording a restore point", &now, |tx| {
            tx.execute(
                "UPDATE operations SET restore_kind = ?2, restore_id = ?3, restore_details = ?4
                 WHERE id = ?1",
                params![id.0, rp.kind, rp.id, details],
            )?;
            Ok(format!("restore point {} {}", rp.kind, rp.id))
        })
    }

    /// Record how to undo the operation, e.g. `matelot undo 12`.
    pub fn set_undo_hint(&self, id: OpId, hint: &str) -> Result<(), JournalError> {
        let now = format_time(&Utc::now());
        let hint = redact_text(hint);
        self.update(id, "recording an undo hint", &now, |tx| {
            tx.execute(
                "UPDATE operations SET undo_hint = ?2 WHERE id = ?1",
                params![id.0, hint],
            )?;
            Ok(format!("undo: {hint}"))
        })
    }

    /// Append a note to the operation's history (e.g. "snapshot 1a2b verified").
    pub fn note(&self, id: OpId, text: &str) -> Result<(), JournalError> {
        let now = format_time(&Utc::now());
        let text = redact_text(text);
        self.update(id, "adding a note", &now, |_| Ok(text.clone()))
    }

    fn update(
        &self,
        id: OpId,
        what: &'static str,
        now: &str,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<String>,
    ) -> Result<(), JournalError> {
        self.write(what, |tx| {
            self.stored_status(tx, id)?;
            let text = f(tx).map_err(|e| self.sql(what, e))?;
            self.event(tx, id, now, None, &text)
        })
    }

    pub(super) fn stored_status(
        &self,
        conn: &rusqlite::Connection,
        id: OpId,
    ) -> Result<Status, JournalError> {
        let status: Option<String> = conn
            .query_row("SELECT status FROM operations WHERE id = ?1", [id.0], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| self.sql("reading an operation", e))?;
        let status = status.ok_or_else(|| JournalError::NotFound {
            path: self.path.clone(),
            id,
        })?;
        status.parse().map_err(|e: String| JournalError::Invalid(e))
    }

    fn event(
        &self,
        conn: &rusqlite::Connection,
        id: OpId,
        at: &str,
        status: Option<Status>,
        message: &str,
    ) -> Result<(), JournalError> {
        conn.execute(
            "INSERT INTO events (op_id, at, status, message) VALUES (?1, ?2, ?3, ?4)",
            params![id.0, at, status.map(Status::as_str), message],
        )
        .map(|_| ())
        .map_err(|e| self.sql("appending an event", e))
    }

    /// One operation, with its effective status, or `None` if there is no such id.
    pub fn get(&self, id: OpId) -> Result<Option<Operation>, JournalError> {
        let conn = self.conn();
        conn.query_row(
            &format!("SELECT {COLUMNS} FROM operations WHERE id = ?1"),
            [id.0],
            row_to_op,
        )
        .optional()
        .map_err(|e| self.sql("reading an operation", e))
    }

    /// The history of an operation, oldest first.
    pub fn events(&self, id: OpId) -> Result<Vec<Event>, JournalError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare("SELECT at, status, message FROM events WHERE op_id = ?1 ORDER BY id")
            .map_err(|e| self.sql("reading events", e))?;
        let rows = stmt
            .query_map([id.0], |r| {
                let status: Option<String> = r.get(1)?;
                Ok(Event {
                    at: time_col(r, 0)?,
                    status: status
                        .map(|s| s.parse())
                        .transpose()
                        .map_err(|e| conv(1, e))?,
                    message: r.get(2)?,
                })
            })
            .map_err(|e| self.sql("reading events", e))?;
        rows.collect::<Result<_, _>>()
            .map_err(|e| self.sql("reading events", e))
    }

    /// Operations matching `filter`, newest first.
    pub fn list(&self, filter: &Filter) -> Result<Vec<Operation>, JournalError> {
        let mut sql = format!("SELECT {COLUMNS} FROM operations WHERE 1 = 1");
        let mut args: Vec<String> = Vec::new();
        if let Some(since) = &filter.since {
            args.push(format_time(since));
            sql.push_str(&format!(" AND created_at >= ?{}", args.len()));
        }
        match &filter.target {
            Some(TargetMatch::Exact(t)) => {
                args.push(t.clone());
                sql.push_str(&format!(" AND target = ?{}", args.len()));
            }
            Some(TargetMatch::Contains(t)) => {
                args.push(t.to_lowercase());
                sql.push_str(&format!(" AND instr(lower(target), ?{}) > 0", args.len()));
            }
            None => {}
        }
        if let Some(kind) = &filter.kind {
            args.push(kind.clone());
            let n = args.len();
            sql.push_str(&format!(
                " AND (kind = ?{n} OR substr(kind, 1, length(?{n}) + 1) = ?{n} || '.')"
            ));
        }
        // Open rows may read as interrupted, so those statuses are decided after liveness.
        let post_filter = filter
            .status
            .filter(|s| s.is_open() || *s == Status::Interrupted);
        match filter.status {
            Some(Status::Interrupted) => {
                sql.push_str(" AND status IN ('planned', 'running', 'interrupted')");
            }
            Some(s) => {
                args.push(s.as_str().to_string());
                sql.push_str(&format!(" AND status = ?{}", args.len()));
            }
            None => {}
        }
        sql.push_str(" ORDER BY id DESC");
        if let (Some(limit), None) = (filter.limit, post_filter) {
            sql.push_str(&format!(" LIMIT {limit}"));
        }
        let conn = self.conn();
        let mut stmt = conn
            .prepare(&sql)
            .map_err(|e| self.sql("listing operations", e))?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(args.iter()), row_to_op)
            .map_err(|e| self.sql("listing operations", e))?;
        let mut out = Vec::new();
        for row in rows {
            if filter.limit.is_some_and(|l| out.len() >= l) {
                break;
            }
            let op = row.map_err(|e| self.sql("listing operations", e))?;
            if post_filter.is_none_or(|s| op.status == s) {
                out.push(op);
            }
        }
        Ok(out)
    }

    /// The newest operation on exactly this target, if any.
    pub fn latest_for_target(&self, target: &str) -> Result<Option<Operation>, JournalError> {
        let filter = Filter {
            target: Some(TargetMatch::Exact(target.to_string())),
            limit: Some(1),
            ..Filter::default()
        };
        Ok(self.list(&filter)?.into_iter().next())
    }

    /// Persist `interrupted` for every row left planned or running by a process that is gone
    /// (judged on this host only). Returns the ids it changed.
    pub fn reconcile_interrupted(&self) -> Result<Vec<OpId>, JournalError> {
        let now = format_time(&Utc::now());
        self.write("reconciling interrupted operations", |tx| {
            let mut stmt = tx
                .prepare(&format!(
                    "SELECT {COLUMNS} FROM operations WHERE status IN ('planned', 'running')"
                ))
                .map_err(|e| self.sql("reconciling interrupted operations", e))?;
            let stale: Vec<Operation> = stmt
                .query_map([], row_to_op)
                .and_then(|rows| rows.collect())
                .map_err(|e| self.sql("reconciling interrupted operations", e))?;
            let mut changed = Vec::new();
            for op in stale
                .into_iter()
                .filter(|op| op.status == Status::Interrupted)
            {
                let why = format!(
                    "the process that wrote it (pid {} on {}) ended before finishing it",
                    op.process.pid, op.process.host
                );
                tx.execute(
                    "UPDATE operations SET status = 'interrupted', message = COALESCE(message, ?2)
                     WHERE id = ?1",
                    params![op.id.0, why],
                )
                .map_err(|e| self.sql("reconciling interrupted operations", e))?;
                self.event(tx, op.id, &now, Some(Status::Interrupted), &why)?;
                changed.push(op.id);
            }
            Ok(changed)
        })
    }
}

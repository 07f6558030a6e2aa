//! Writing and reading operations: begin, status changes, restore point, finish, notes,
//! queries, and the reconciliation of rows left open by a process that died.
//!
//! Every write is one short transaction that also appends an event, so `journal show` can
//! tell the story of an operation. Reads judge liveness on the fly and never write.

use chrono::Utc;
use rusqlite::{OptionalExtension, params};
use serde_json::Value;

use super::id::OpId;
use super::kind::OpPlan;
use super::model::{Event, Filter, NewOp, Operation, TargetMatch};
use super::redact::{redact_args, redact_text};
use super::restore_point::RestorePoint;
use super::result::OpResult;
use super::rows::{COLUMNS, conv, row_to_op, time_col};
use super::status::Status;
use super::{Journal, JournalError, format_time};

impl Journal {
    /// Record a new operation as `planned`, written by this process. Returns its id, to pass
    /// to the other calls and to show to the operator.
    pub fn begin(&self, op: NewOp) -> Result<OpId, JournalError> {
        if let OpPlan::Unreadable(_) = op.plan {
            return Err(JournalError::Invalid(
                "an operation cannot begin with an unreadable plan".into(),
            ));
        }
        let now = format_time(&Utc::now());
        let command = op.command.unwrap_or_else(super::process::own_args);
        let command = Value::from(redact_args(&command)).to_string();
        let kind = op.plan.kind();
        let plan = op.plan.body().to_string();
        let undoes = op.plan.undoes().map(|o| o.0);
        let (me, actor) = (&self.me, &self.actor);
        self.write("recording a new operation", |tx| {
            tx.execute(
                "INSERT INTO operations (run_id, kind, target, status, created_at,
                    actor_user, actor_host, actor_sudo_user, pid, pid_start_ticks, boot_id,
                    command, plan, undoes)
                 VALUES (?1, ?2, ?3, 'planned', ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                params![
                    op.run.as_str(),
                    kind.as_str(),
                    op.target,
                    now,
                    actor.user,
                    me.host,
                    actor.sudo_user,
                    me.pid,
                    i64::try_from(me.start_ticks).unwrap_or(0),
                    me.boot_id,
                    command,
                    plan,
                    undoes
                ],
            )
            .map_err(|e| self.sql("recording a new operation", e))?;
            let id = OpId(tx.last_insert_rowid());
            self.event(tx, id, &now, Some(Status::Planned), "begun as planned")?;
            Ok(id)
        })
    }

    /// Record an operation that was refused or declined before anything was touched.
    pub fn refuse(&self, op: NewOp, why: &str) -> Result<OpId, JournalError> {
        let id = self.begin(op)?;
        self.finish(id, Status::Refused, Some(why))?;
        Ok(id)
    }

    /// `planned` -> `running`: the change itself is about to be sent.
    pub fn set_running(&self, id: OpId) -> Result<(), JournalError> {
        self.transition(id, Status::Running, None)
    }

    /// Finish an open operation with a final status and, for anything but `done`, the reason
    /// (redacted). The signal path uses `interrupted`, `unknown` marks an end not seen.
    pub fn finish(
        &self,
        id: OpId,
        status: Status,
        message: Option<&str>,
    ) -> Result<(), JournalError> {
        if status.is_open() {
            return Err(JournalError::Invalid(format!(
                "operation {id} cannot finish as {status}"
            )));
        }
        self.transition(id, status, message)
    }

    fn transition(&self, id: OpId, to: Status, message: Option<&str>) -> Result<(), JournalError> {
        let now = format_time(&Utc::now());
        let message = message.map(redact_text);
        self.write("changing an operation's status", |tx| {
            let from = self.stored(tx, id)?.status;
            if !from.is_open() {
                return Err(JournalError::Finished { id, status: from });
            }
            let started = (to == Status::Running).then_some(now.as_str());
            let finished = to.is_final().then_some(now.as_str());
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

    /// Settle an interrupted operation (or an open one whose writer is gone) once it has been
    /// judged against the world: any final status (`unknown` when the world cannot tell). The
    /// history keeps every earlier event.
    pub fn settle(&self, id: OpId, to: Status, message: &str) -> Result<(), JournalError> {
        if to.is_open() || to == Status::Interrupted {
            return Err(JournalError::Invalid(format!(
                "an operation settles as a final status or unknown, not {to}"
            )));
        }
        let now = format_time(&Utc::now());
        let message = redact_text(message);
        self.write("settling an operation", |tx| {
            let op = self.stored(tx, id)?;
            if !op.status.is_unsettled() {
                return Err(JournalError::Invalid(format!(
                    "operation {id} is {}, not interrupted; only interrupted rows are settled",
                    op.status
                )));
            }
            let finished = Some(now.as_str());
            tx.execute(
                "UPDATE operations SET status = ?2, finished_at = COALESCE(?3, finished_at),
                    message = ?4 WHERE id = ?1",
                params![id.0, to.as_str(), finished, message],
            )
            .map_err(|e| self.sql("settling an operation", e))?;
            self.event(
                tx,
                id,
                &now,
                Some(to),
                &format!("{} -> {}: {message}", op.status, to.label()),
            )
        })
    }

    /// Record the restore point taken (and verified) before the destructive step.
    pub fn set_restore_point(&self, id: OpId, rp: &RestorePoint) -> Result<(), JournalError> {
        let now = format_time(&Utc::now());
        let details = rp.details().to_string();
        self.update(id, "recording a restore point", &now, |tx| {
            tx.execute(
                "UPDATE operations SET restore_kind = ?2, restore_id = ?3, restore_details = ?4
                 WHERE id = ?1",
                params![id.0, rp.kind_name(), rp.id(), details],
            )?;
            Ok(format!("restore point {}", rp.describe()))
        })
    }

    /// Record what the operation produced so far (a task id the moment the server answered,
    /// then its end). Replaces the previous result; also allowed on a finished row.
    pub fn record_result(&self, id: OpId, result: &OpResult) -> Result<(), JournalError> {
        let now = format_time(&Utc::now());
        let json = serde_json::to_value(result)
            .map_err(|e| JournalError::Invalid(format!("cannot record a result: {e}")))?
            .to_string();
        let what = match result {
            OpResult::Task(t) => format!(
                "task {}{}",
                t.task_id,
                t.end
                    .as_deref()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default()
            ),
            OpResult::Accounts { outcomes } => format!("{} account change(s)", outcomes.len()),
            OpResult::Targets { targets } => format!("{} target(s)", targets.len()),
            OpResult::Account { summary } => summary.clone(),
        };
        self.update(id, "recording a result", &now, |tx| {
            tx.execute(
                "UPDATE operations SET result = ?2 WHERE id = ?1",
                params![id.0, json],
            )?;
            Ok(format!("result: {}", redact_text(&what)))
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
            self.stored(tx, id)?;
            let text = f(tx).map_err(|e| self.sql(what, e))?;
            self.event(tx, id, now, None, &text)
        })
    }

    /// The stored row with its effective status (an open row of a dead writer reads
    /// interrupted).
    pub(super) fn stored(
        &self,
        conn: &rusqlite::Connection,
        id: OpId,
    ) -> Result<Operation, JournalError> {
        conn.query_row(
            &format!("SELECT {COLUMNS} FROM operations WHERE id = ?1"),
            [id.0],
            row_to_op,
        )
        .optional()
        .map_err(|e| self.sql("reading an operation", e))?
        .ok_or_else(|| JournalError::NotFound {
            path: self.path.clone(),
            id,
        })
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
        if let Some(run) = &filter.run {
            args.push(run.as_str().to_string());
            sql.push_str(&format!(" AND run_id = ?{}", args.len()));
        }
        if let Some(undoes) = filter.undoes {
            args.push(undoes.0.to_string());
            sql.push_str(&format!(" AND undoes = CAST(?{} AS INTEGER)", args.len()));
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

    /// Every undo of `id`, newest first.
    pub fn undos_of(&self, id: OpId) -> Result<Vec<Operation>, JournalError> {
        self.list(&Filter {
            undoes: Some(id),
            ..Filter::default()
        })
    }

    /// Rows a later run must judge: interrupted, and open rows whose writer is gone (they
    /// read as interrupted). Oldest first.
    pub fn unsettled(&self) -> Result<Vec<Operation>, JournalError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(&format!(
                "SELECT {COLUMNS} FROM operations
                 WHERE status IN ('planned', 'running', 'interrupted') ORDER BY id"
            ))
            .map_err(|e| self.sql("listing unsettled operations", e))?;
        let rows = stmt
            .query_map([], row_to_op)
            .map_err(|e| self.sql("listing unsettled operations", e))?;
        let mut out = Vec::new();
        for row in rows {
            let op = row.map_err(|e| self.sql("listing unsettled operations", e))?;
            if op.status.is_unsettled() {
                out.push(op);
            }
        }
        Ok(out)
    }

    /// Persist `interrupted` for every row left planned or running by a process that is gone
    /// (judged on this host only). Returns the ids it changed.
    pub fn mark_interrupted(&self) -> Result<Vec<OpId>, JournalError> {
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

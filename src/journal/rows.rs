//! Mapping stored rows back to typed values: the column list of `operations`, and parsers
//! for the text columns (times, JSON) that fail with a conversion error rather than panic.
//! Reading an open row judges its writer's liveness here, so every read sees `interrupted`.

use chrono::{DateTime, Utc};
use rusqlite::Row;
use rusqlite::types::Type;
use serde_json::Value;

use super::model::{OpId, Operation, RestorePoint, Status};
use super::process::{Actor, Liveness, ProcessId};

pub(super) const COLUMNS: &str = "id, kind, target, status, created_at, started_at, finished_at, \
    actor_user, actor_host, actor_sudo_user, pid, pid_start_ticks, boot_id, command, planned, \
    restore_kind, restore_id, restore_details, message, undo_hint";
// One host column serves both the actor and the process: they are the same machine.

/// Map a row of `COLUMNS` to an operation, judging liveness for open rows.
pub(super) fn row_to_op(r: &Row<'_>) -> rusqlite::Result<Operation> {
    let status: String = r.get(3)?;
    let mut status: Status = status.parse().map_err(|e| conv(3, e))?;
    let process = ProcessId {
        pid: r.get(10)?,
        start_ticks: u64::try_from(r.get::<_, i64>(11)?).unwrap_or(0),
        boot_id: r.get(12)?,
        host: r.get(8)?,
    };
    if status.is_open() && process.liveness() == Liveness::Gone {
        status = Status::Interrupted;
    }
    let command: String = r.get(13)?;
    let restore_kind: Option<String> = r.get(15)?;
    let restore_point = match restore_kind {
        Some(kind) => Some(RestorePoint {
            kind,
            id: r.get::<_, Option<String>>(16)?.unwrap_or_default(),
            details: json_col(r, 17)?,
        }),
        None => None,
    };
    Ok(Operation {
        id: OpId(r.get(0)?),
        kind: r.get(1)?,
        target: r.get(2)?,
        status,
        created_at: time_col(r, 4)?,
        started_at: opt_time_col(r, 5)?,
        finished_at: opt_time_col(r, 6)?,
        actor: Actor {
            user: r.get(7)?,
            host: r.get(8)?,
            sudo_user: r.get(9)?,
        },
        process,
        command: serde_json::from_str(&command).map_err(|e| conv(13, e.to_string()))?,
        planned: json_col(r, 14)?,
        restore_point,
        message: r.get(18)?,
        undo_hint: r.get(19)?,
    })
}

pub(super) fn conv(idx: usize, msg: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(idx, Type::Text, msg.into())
}

pub(super) fn time_col(r: &Row<'_>, idx: usize) -> rusqlite::Result<DateTime<Utc>> {
    let s: String = r.get(idx)?;
    DateTime::parse_from_rfc3339(&s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| conv(idx, format!("bad time {s:?}: {e}")))
}

fn opt_time_col(r: &Row<'_>, idx: usize) -> rusqlite::Result<Option<DateTime<Utc>>> {
    match r.get::<_, Option<String>>(idx)? {
        Some(_) => time_col(r, idx).map(Some),
        None => Ok(None),
    }
}

fn json_col(r: &Row<'_>, idx: usize) -> rusqlite::Result<Value> {
    match r.get::<_, Option<String>>(idx)? {
        Some(s) => serde_json::from_str(&s).map_err(|e| conv(idx, e.to_string())),
        None => Ok(Value::Null),
    }
}

//! Mapping stored rows back to typed values: the column list of `operations`, and parsers
//! for the text columns (times, JSON) that fail with a conversion error rather than panic.
//! Reading an open row judges its writer's liveness here, so every read sees `interrupted`.

use chrono::{DateTime, Utc};
use rusqlite::Row;
use rusqlite::types::Type;
use serde_json::Value;

use super::id::{OpId, RunId};
use super::kind::{OpKind, OpPlan};
use super::model::Operation;
use super::process::{Actor, Liveness, ProcessId};
use super::restore_point::RestorePoint;
use super::result::OpResult;
use super::status::Status;

pub(super) const COLUMNS: &str = "id, run_id, kind, target, status, created_at, started_at, \
    finished_at, actor_user, actor_host, actor_sudo_user, pid, pid_start_ticks, boot_id, command, \
    plan, restore_kind, restore_id, restore_details, result, undoes, message, undo_hint";
// One host column serves both the actor and the process: they are the same machine.

/// Map a row of `COLUMNS` to an operation, judging liveness for open rows.
pub(super) fn row_to_op(r: &Row<'_>) -> rusqlite::Result<Operation> {
    let kind: String = r.get(2)?;
    let kind: OpKind = kind.parse().map_err(|e| conv(2, e))?;
    let status: String = r.get(4)?;
    let mut status: Status = status.parse().map_err(|e| conv(4, e))?;
    let process = ProcessId {
        pid: r.get(11)?,
        start_ticks: u64::try_from(r.get::<_, i64>(12)?).unwrap_or(0),
        boot_id: r.get(13)?,
        host: r.get(9)?,
    };
    if status.is_open() && process.liveness() == Liveness::Gone {
        status = Status::Interrupted;
    }
    let command: String = r.get(14)?;
    let restore_kind: Option<String> = r.get(16)?;
    let (restore_point, restore_point_problem) = match restore_kind {
        Some(k) => match RestorePoint::from_stored(&k, json_col(r, 18)?) {
            Ok(rp) => (Some(rp), None),
            Err(e) => (None, Some(e)),
        },
        None => (None, None),
    };
    let result = match json_col(r, 19)? {
        Value::Null => None,
        v => serde_json::from_value::<OpResult>(v).ok(),
    };
    Ok(Operation {
        id: OpId(r.get(0)?),
        run: RunId(r.get(1)?),
        kind,
        target: r.get(3)?,
        status,
        created_at: time_col(r, 5)?,
        started_at: opt_time_col(r, 6)?,
        finished_at: opt_time_col(r, 7)?,
        actor: Actor {
            user: r.get(8)?,
            host: r.get(9)?,
            sudo_user: r.get(10)?,
        },
        process,
        command: serde_json::from_str(&command).map_err(|e| conv(14, e.to_string()))?,
        plan: OpPlan::from_stored(kind, json_col(r, 15)?),
        restore_point,
        restore_point_problem,
        result,
        undoes: r.get::<_, Option<i64>>(20)?.map(OpId),
        message: r.get(21)?,
        undo_hint: r.get(22)?,
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

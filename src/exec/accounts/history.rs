//! What a lock replaced, read back from the journal, so `unlock` restores exactly what was
//! there. Every account operation journals its planned changes (a JSON array of `Change`); a
//! `Lock` change carries the account's expiry before the lock. Operations that may have
//! applied it count (done, partial, interrupted), oldest first, so the newest record wins.
//! Rows written in another shape (by an older or newer matelot) are skipped, not fatal.

use serde_json::Value;

use crate::core::accounts::{Change, ComputeChange, PreviousLock};
use crate::journal::{Filter, Journal, JournalError, Operation, Status};

/// The kind prefix of every account operation in the journal (`user.add`, `user.sync`...).
pub const LOCK_KINDS: &str = "user";

/// Every recorded lock, oldest first.
pub fn previous_locks(journal: &Journal) -> Result<Vec<PreviousLock>, JournalError> {
    let ops = journal.list(&Filter {
        kind: Some(LOCK_KINDS.to_string()),
        ..Filter::default()
    })?;
    Ok(locks_in(&ops))
}

/// The locks recorded in `ops` (newest first, as the journal lists them), oldest first.
pub fn locks_in(ops: &[Operation]) -> Vec<PreviousLock> {
    ops.iter()
        .rev()
        .filter(|op| {
            matches!(
                op.status,
                Status::Done | Status::Partial | Status::Interrupted
            )
        })
        .flat_map(|op| changes_of(&op.planned))
        .filter_map(|c| match c {
            Change::Compute {
                host,
                change:
                    ComputeChange::Lock {
                        user,
                        previous_expiry,
                    },
            } => Some(PreviousLock {
                host,
                user,
                expiry: previous_expiry,
            }),
            _ => None,
        })
        .collect()
}

/// The changes in a `planned` value: an array of changes, or an object with a `changes`
/// array. Elements that are not changes are skipped.
fn changes_of(planned: &Value) -> Vec<Change> {
    let items = match planned {
        Value::Array(a) => a,
        Value::Object(o) => match o.get("changes") {
            Some(Value::Array(a)) => a,
            _ => return Vec::new(),
        },
        _ => return Vec::new(),
    };
    items
        .iter()
        .filter_map(|v| serde_json::from_value(v.clone()).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{Actor, OpId, ProcessId};

    fn op(id: i64, status: Status, planned: Value) -> Operation {
        Operation {
            id: OpId(id),
            kind: "user.lock".into(),
            target: "user:bob@calcul".into(),
            status,
            created_at: chrono::Utc::now(),
            started_at: None,
            finished_at: None,
            actor: Actor::current(),
            process: ProcessId::current(),
            command: Vec::new(),
            planned,
            restore_point: None,
            message: None,
            undo_hint: None,
        }
    }

    fn lock(host: &str, user: &str, expiry: Option<i64>) -> Value {
        serde_json::to_value(Change::compute(
            host,
            ComputeChange::Lock {
                user: user.into(),
                previous_expiry: expiry,
            },
        ))
        .unwrap()
    }

    #[test]
    fn locks_are_read_oldest_first_from_ops_that_may_have_applied() {
        // Newest first, as Journal::list returns them.
        let ops = vec![
            op(
                5,
                Status::Failed,
                Value::Array(vec![lock("calcul", "bob", Some(1))]),
            ),
            op(
                4,
                Status::Refused,
                Value::Array(vec![lock("calcul", "bob", Some(2))]),
            ),
            op(
                3,
                Status::Partial,
                serde_json::json!({"changes": [lock("gpu", "bob", None), {"on": "martian"}]}),
            ),
            op(
                2,
                Status::Done,
                Value::Array(vec![lock("calcul", "bob", Some(20_500))]),
            ),
            op(1, Status::Interrupted, Value::String("not changes".into())),
        ];
        let locks = locks_in(&ops);
        assert_eq!(
            locks,
            vec![
                PreviousLock {
                    host: "calcul".into(),
                    user: "bob".into(),
                    expiry: Some(20_500)
                },
                PreviousLock {
                    host: "gpu".into(),
                    user: "bob".into(),
                    expiry: None
                },
            ]
        );
    }
}

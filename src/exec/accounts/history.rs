//! What a lock replaced, read back from the journal, so `unlock` restores exactly what was
//! there. Every account operation journals its typed changes; a `Lock` change carries the
//! account's expiry before the lock. Operations that may have applied it count (done,
//! partial, interrupted, unknown), oldest first, so the newest record wins.

use crate::core::accounts::{Change, ComputeChange, PreviousLock};
use crate::journal::{Filter, Journal, JournalError, OpPlan, Operation, Status};

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
                Status::Done | Status::Partial | Status::Interrupted | Status::Unknown
            )
        })
        .flat_map(|op| changes_of(&op.plan))
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

/// The account changes of a plan (none for other kinds).
fn changes_of(plan: &OpPlan) -> Vec<Change> {
    match plan {
        OpPlan::UserAdd(p) | OpPlan::UserLock(p) | OpPlan::UserUnlock(p) | OpPlan::UserSync(p) => {
            p.changes.clone()
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{AccountsPlan, Actor, OpId, OpKind, ProcessId, RunId};

    fn op(id: i64, status: Status, changes: Vec<Change>) -> Operation {
        Operation {
            id: OpId(id),
            run: RunId("r".into()),
            kind: OpKind::UserLock,
            target: "user:bob@calcul".into(),
            status,
            created_at: chrono::Utc::now(),
            started_at: None,
            finished_at: None,
            actor: Actor::current(),
            process: ProcessId::current(),
            command: Vec::new(),
            plan: OpPlan::UserLock(AccountsPlan {
                system: "calcul".into(),
                subject: "user:bob".into(),
                changes,
            }),
            restore_point: None,
            restore_point_problem: None,
            result: None,
            message: None,
            undo_hint: None,
            undoes: None,
        }
    }

    fn lock(host: &str, user: &str, expiry: Option<i64>) -> Change {
        Change::compute(
            host,
            ComputeChange::Lock {
                user: user.into(),
                previous_expiry: expiry,
            },
        )
    }

    #[test]
    fn locks_are_read_oldest_first_from_ops_that_may_have_applied() {
        // Newest first, as Journal::list returns them.
        let ops = vec![
            op(5, Status::Failed, vec![lock("calcul", "bob", Some(1))]),
            op(4, Status::Refused, vec![lock("calcul", "bob", Some(2))]),
            op(3, Status::Partial, vec![lock("gpu", "bob", None)]),
            op(2, Status::Done, vec![lock("calcul", "bob", Some(20_500))]),
            op(1, Status::Interrupted, vec![]),
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

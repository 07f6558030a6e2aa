//! Settling interrupted operations: a destructive command, before it touches a target, reports
//! every operation a dead process left open and checks the real state to say whether the
//! change happened (done) or not (failed). When the state cannot tell, the row stays
//! interrupted with a note, once. The judgement itself is the caller's (it knows the server);
//! this module only walks the journal and writes what was concluded.

use crate::Ctx;
use crate::error::Result;
use crate::journal::{Filter, Journal, Operation, Status};

/// What the real state says about an interrupted operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The change happened: settle as done, with this note.
    Applied(String),
    /// It did not: settle as failed, with this note.
    NotApplied(String),
    /// Cannot tell (yet): leave it interrupted, with this note (written once).
    Unknown(String),
    /// Not this caller's kind of operation.
    Skip,
}

/// Persist `interrupted` for rows whose writer is gone, then settle those `judge` can tell.
/// Returns how many rows were reported.
pub fn settle(
    ctx: &Ctx,
    journal: &Journal,
    mut judge: impl FnMut(&Operation) -> Verdict,
) -> Result<usize> {
    journal.reconcile_interrupted()?;
    let rows = journal.list(&Filter {
        status: Some(Status::Interrupted),
        ..Filter::default()
    })?;
    let mut reported = 0;
    for op in rows {
        let verdict = judge(&op);
        let head = format!(
            "operation {} ({} {}) was interrupted",
            op.id, op.kind, op.target
        );
        match verdict {
            Verdict::Skip => continue,
            Verdict::Applied(note) => {
                journal.settle_interrupted(op.id, Status::Done, &format!("reconciled: {note}"))?;
                journal.set_undo_hint(op.id, &format!("matelot undo {}", op.id))?;
                ctx.out.warn(format!("{head}: {note}; marked done"));
            }
            Verdict::NotApplied(note) => {
                journal.settle_interrupted(
                    op.id,
                    Status::Failed,
                    &format!("reconciled: not applied: {note}"),
                )?;
                ctx.out
                    .warn(format!("{head}: {note}; marked failed (not applied)"));
            }
            Verdict::Unknown(note) => {
                let text = format!("reconciled: cannot tell yet: {note}");
                let already = journal.events(op.id)?.iter().any(|e| e.message == text);
                if !already {
                    journal.note(op.id, &text)?;
                }
                ctx.out.warn(format!(
                    "{head}: {note}; left as it is (`matelot journal show {}`)",
                    op.id
                ));
            }
        }
        reported += 1;
    }
    Ok(reported)
}

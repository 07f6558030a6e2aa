//! A mutating command's bookkeeping in one place: take the run lock, write the journal row
//! before the change, complete it after. Commands that change something (`backup run`,
//! `app stop`...) wrap their work in a [`Recorded`], so a crash leaves a row that reads
//! `interrupted` and two overlapping runs never change the estate at once.
//!
//! It decides nothing about the change itself and never fails a change that already happened
//! because the journal could not be completed: that is a warning (the row then reads
//! `interrupted`, which is the truth as far as the journal knows).

use serde_json::Value;

use crate::Ctx;
use crate::error::{Error, Result};
use crate::journal::{Journal, NewOp, OpId, RestorePoint, Status};
use crate::lock::RunLock;
use crate::output::Output;

/// An operation in progress: the run lock held and its journal row open (`running`).
pub struct Recorded {
    journal: Journal,
    op: OpId,
    out: Output,
    open: bool,
    _lock: RunLock,
}

impl Recorded {
    /// Take the run lock (exit 75 if another run holds it), then record the operation as
    /// running. Nothing has been changed when this fails.
    pub fn begin(ctx: &Ctx, kind: &str, target: &str, planned: Value) -> Result<Recorded> {
        let lock = ctx.run_lock()?;
        let journal = ctx.journal()?;
        let op = journal.begin(NewOp::new(kind, target).planned(planned).running())?;
        ctx.out
            .debug(format!("journal: operation {op} ({kind} {target})"));
        Ok(Recorded {
            journal,
            op,
            out: ctx.out.clone(),
            open: true,
            _lock: lock,
        })
    }

    /// The operation's number (`matelot journal show N`).
    pub fn id(&self) -> OpId {
        self.op
    }

    /// Add a line to the operation's history (e.g. "snapshot 1a2b3c4d verified").
    pub fn note(&self, text: &str) {
        self.best_effort("adding a note", self.journal.note(self.op, text));
    }

    /// Record what the operation produced that can restore things (e.g. an app backup).
    pub fn restore_point(&self, rp: &RestorePoint) {
        self.best_effort(
            "recording the backup",
            self.journal.set_restore_point(self.op, rp),
        );
    }

    /// How to undo it, e.g. `matelot app start matomo.example.org`.
    pub fn undo_hint(&self, hint: &str) {
        self.best_effort(
            "recording the undo hint",
            self.journal.set_undo_hint(self.op, hint),
        );
    }

    /// Complete the row from the command's result (done; partial for exit 4; refused for
    /// exit 3; failed otherwise, with the error text) and hand the result back unchanged.
    pub fn conclude<T>(mut self, result: Result<T>) -> Result<T> {
        let (status, message) = match &result {
            Ok(_) => (Status::Done, None),
            Err(e) => (status_of(e), Some(e.to_string())),
        };
        self.finish(status, message.as_deref());
        result
    }

    /// Complete the row with an explicit status.
    pub fn finish(&mut self, status: Status, message: Option<&str>) {
        if !self.open {
            return;
        }
        self.open = false;
        let r = self.journal.finish(self.op, status, message);
        self.best_effort("completing the operation", r);
    }

    fn best_effort(&self, what: &str, r: std::result::Result<(), crate::journal::JournalError>) {
        if let Err(e) = r {
            self.out
                .warn(format!("journal operation {}: {what}: {e}", self.op));
        }
    }
}

impl Drop for Recorded {
    /// A command that returned early (an error propagated with `?`) without concluding: the
    /// row says it failed rather than staying open until it reads `interrupted`.
    fn drop(&mut self) {
        self.finish(
            Status::Failed,
            Some("ended before completing the operation"),
        );
    }
}

/// The journal status for a command's error.
pub fn status_of(e: &Error) -> Status {
    match e.exit_code() {
        crate::error::exit::PARTIAL => Status::Partial,
        crate::error::exit::REFUSED => Status::Refused,
        _ => Status::Failed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_map_to_journal_statuses() {
        assert_eq!(status_of(&Error::Partial("x".into())), Status::Partial);
        assert_eq!(status_of(&Error::refused("x")), Status::Refused);
        assert_eq!(status_of(&Error::failed("x")), Status::Failed);
        assert_eq!(status_of(&Error::Locked("x".into())), Status::Failed);
    }
}

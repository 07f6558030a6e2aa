//! What a change is, to the one path that carries it out: an [`Action`] says what it will do
//! (its typed plan, target, tier, confirmation name, protection), how to take and verify its
//! restore point, and how to apply itself. It never asks, journals or decides the order of
//! things: [`super::run::Run::execute`] does, the same way for every change.
//!
//! [`OpCtx`] is what an action may touch of the journal while it runs: record what it
//! produced the moment it is known (a task id before waiting for the task), add notes.

use std::sync::Mutex;

use async_trait::async_trait;

use crate::core::guard::Tier;
use crate::core::progress::Progress;
use crate::error::Error;
use crate::journal::{Journal, OpId, OpPlan, OpResult, RestorePoint, Status};
use crate::output::Output;

/// One change, carried out by the executor.
#[async_trait]
pub trait Action: Send + Sync {
    /// The typed plan the journal records (what a later run needs to judge and undo it).
    fn plan(&self) -> OpPlan;
    /// What it acts on, as the journal shows it (`matomo.example.org`, `user:alice@calcul`).
    fn target(&self) -> String;
    fn tier(&self) -> Tier;
    /// The exact name a severe change needs typed or passed to `--confirm`.
    fn confirm_name(&self) -> String {
        self.target()
    }
    /// Why the target is protected, if it is (refused outright at moderate and severe tiers).
    fn protected(&self) -> Option<String> {
        None
    }
    /// Take and verify the restore point. Nothing is changed yet; an error stops this change.
    /// A severe change must return one.
    async fn restore_point(&self, _op: &OpCtx<'_>) -> Result<Option<RestorePoint>, Error> {
        Ok(None)
    }
    /// Make the change and verify it.
    async fn apply(&self, op: &OpCtx<'_>, rp: Option<&RestorePoint>) -> Result<Applied, Failure>;
}

/// A change that went through (fully, or partly).
#[derive(Debug, Clone)]
pub struct Applied {
    /// `Done` or `Partial`.
    pub status: Status,
    /// One line for people: `analytics.example.org uninstalled`.
    pub summary: String,
}

impl Applied {
    pub fn done(summary: impl Into<String>) -> Self {
        Applied {
            status: Status::Done,
            summary: summary.into(),
        }
    }

    pub fn partial(summary: impl Into<String>) -> Self {
        Applied {
            status: Status::Partial,
            summary: summary.into(),
        }
    }
}

/// How a change can fail.
#[derive(Debug)]
pub enum Failure {
    /// It did not happen (refused, or failed before touching anything): nothing changed.
    NotApplied(Error),
    /// It failed after it had started changing things. `state` says what it left (`app
    /// analytics.example.org is in state error`), `way_back` how to return (a command).
    Changed {
        error: Error,
        state: String,
        way_back: Option<String>,
    },
    /// It was sent but its end could not be seen: the next run judges it.
    Unknown(Error),
}

impl Failure {
    pub fn not_applied(e: impl Into<Error>) -> Self {
        Failure::NotApplied(e.into())
    }

    pub fn unknown(e: impl Into<Error>) -> Self {
        Failure::Unknown(e.into())
    }
}

/// What a running action may touch of the journal, and how it reports progress.
pub struct OpCtx<'a> {
    pub id: OpId,
    journal: &'a Journal,
    out: &'a Output,
    last: Mutex<Option<OpResult>>,
}

impl<'a> OpCtx<'a> {
    pub(super) fn new(id: OpId, journal: &'a Journal, out: &'a Output) -> Self {
        OpCtx {
            id,
            journal,
            out,
            last: Mutex::new(None),
        }
    }

    /// Record what the operation produced so far. A journal write that fails is a warning:
    /// the change itself is not undone because its record could not be completed.
    pub fn record(&self, result: OpResult) {
        if let Err(e) = self.journal.record_result(self.id, &result) {
            self.out.warn(format!(
                "journal operation {}: recording a result: {e}",
                self.id
            ));
        }
        if let Ok(mut last) = self.last.lock() {
            *last = Some(result);
        }
    }

    /// Add a line to the operation's history.
    pub fn note(&self, text: &str) {
        if let Err(e) = self.journal.note(self.id, text) {
            self.out
                .warn(format!("journal operation {}: adding a note: {e}", self.id));
        }
    }

    /// A progress reporter (bar on a terminal, lines otherwise, nothing with `-q`).
    pub fn progress(&self, what: &str) -> Box<dyn Progress> {
        self.out.progress(what)
    }

    pub fn out(&self) -> &Output {
        self.out
    }

    /// The journal itself, for changes that live in it (protections).
    pub fn journal(&self) -> &Journal {
        self.journal
    }

    /// The last result recorded.
    pub(super) fn last(&self) -> Option<OpResult> {
        self.last.lock().ok().and_then(|l| l.clone())
    }
}

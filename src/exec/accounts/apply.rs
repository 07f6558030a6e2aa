//! Apply a whole plan: one journal row per system written before anything changes, then every
//! host's script and the Cloudron's calls at the same time (hosts bounded, Cloudron calls
//! bounded), then each row finished as done, partial or failed with what happened, and one
//! result per change in plan order. Nothing is retried: a re-run re-plans from fresh facts.

use std::sync::atomic::{AtomicU64, Ordering};

use futures::StreamExt;
use serde::Serialize;

use super::{
    AccountsError, ChangeResult, Estate, HOST_CONCURRENCY, Outcome, apply_cloudron, apply_on_host,
};
use crate::core::accounts::{Change, Facts, Plan};
use crate::core::progress::Progress;
use crate::journal::{Journal, NewOp, OpId, Status};

/// The undo hint of a journal row, from the system's name and its changes (`None`: no hint).
pub type UndoHint<'a> = dyn Fn(&str, &[Change]) -> Option<String> + Sync + 'a;

/// How to journal an application.
pub struct JournalPlan<'a> {
    pub journal: &'a Journal,
    /// Dotted verb: `user.add`, `user.lock`, `user.unlock`, `user.sync`.
    pub kind: &'a str,
    /// What the operation is about (`user:alice`, `roster:people.csv`); each row's target
    /// is this followed by `@SYSTEM`.
    pub subject: &'a str,
    /// The undo hint of a row that changed something.
    pub undo: Option<&'a UndoHint<'a>>,
}

/// One journal row written for a system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpRow {
    /// A host name or `cloudron`.
    pub system: String,
    pub op: OpId,
    pub status: Status,
}

/// What applying a plan did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Applied {
    /// One per change of the plan, in plan order.
    pub results: Vec<ChangeResult>,
    /// The journal rows written, one per system with changes.
    pub ops: Vec<OpRow>,
    /// Journal writes that failed after the changes were made (the changes stand).
    pub journal_errors: Vec<String>,
}

impl Applied {
    /// Every change changed or was already done.
    pub fn all_done(&self) -> bool {
        self.results.iter().all(|r| r.outcome.is_done())
    }

    /// At least one change was made (or may have been).
    pub fn any_applied(&self) -> bool {
        self.results
            .iter()
            .any(|r| matches!(r.outcome, Outcome::Changed | Outcome::Unknown { .. }))
    }

    /// Systems where something did not work, in order.
    pub fn failed_systems(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for r in self.results.iter().filter(|r| !r.outcome.is_done()) {
            let t = r.change.target().to_string();
            if !out.contains(&t) {
                out.push(t);
            }
        }
        out
    }
}

/// The systems with changes in the plan: hosts in plan order, then `cloudron`.
fn systems(plan: &Plan) -> Vec<String> {
    let mut out: Vec<String> = plan.hosts().into_iter().map(str::to_string).collect();
    if plan
        .changes
        .iter()
        .any(|c| matches!(c, Change::Cloudron { .. }))
    {
        out.push("cloudron".into());
    }
    out
}

/// The journal status of a system's row from its outcomes.
pub fn row_status(outcomes: &[&Outcome]) -> Status {
    if outcomes.iter().all(|o| o.is_done()) {
        Status::Done
    } else if outcomes
        .iter()
        .any(|o| matches!(o, Outcome::Changed | Outcome::Unknown { .. }))
    {
        Status::Partial
    } else {
        Status::Failed
    }
}

/// A row's closing message: counts, then the first problem.
pub fn row_message(outcomes: &[&Outcome]) -> String {
    let count = |label: &str| outcomes.iter().filter(|o| o.label() == label).count();
    let mut msg = format!(
        "{} changed, {} already done, {} failed, {} not run, {} unknown",
        count("changed"),
        count("unchanged"),
        count("failed"),
        count("not run"),
        count("unknown")
    );
    if let Some(d) = outcomes.iter().find_map(|o| match o {
        Outcome::Failed { message } => Some(message.as_str()),
        Outcome::Unknown { reason } => Some(reason.as_str()),
        _ => None,
    }) {
        msg.push_str("; first problem: ");
        msg.push_str(d);
    }
    msg
}

/// Apply `plan` (made from `facts`) on the estate's open connections.
pub async fn apply_plan(
    estate: &Estate,
    plan: &Plan,
    facts: &Facts,
    journal: Option<&JournalPlan<'_>>,
    progress: &dyn Progress,
) -> Result<Applied, AccountsError> {
    let systems = systems(plan);
    // 1. The journal first: a crash from here on leaves an `interrupted` row.
    let mut ops: Vec<(String, OpId)> = Vec::new();
    if let Some(j) = journal {
        for s in &systems {
            let changes: Vec<&Change> = plan.changes.iter().filter(|c| c.target() == s).collect();
            let op = j.journal.begin(
                NewOp::new(j.kind, format!("{}@{s}", j.subject))
                    .planned(serde_json::to_value(&changes).unwrap_or_default())
                    .running(),
            )?;
            ops.push((s.clone(), op));
        }
    }
    // 2. Every system at once.
    let total = plan.changes.len() as u64;
    progress.set_length(total);
    let done = AtomicU64::new(0);
    let tick = |n: u64| progress.set_position(done.fetch_add(n, Ordering::Relaxed) + n);
    let hosts = futures::stream::iter(plan.hosts())
        .map(|h| {
            let changes = plan.compute_changes(h);
            let tick = &tick;
            async move {
                let outcomes = match estate.session(h) {
                    None => vec![
                        Outcome::NotRun {
                            reason: format!("{h}: not connected"),
                        };
                        changes.len()
                    ],
                    Some(session) => match apply_on_host(h, session, &changes).await {
                        Ok(run) => run.outcomes(),
                        Err(e) => vec![
                            Outcome::Unknown {
                                reason: format!("{h}: {e}"),
                            };
                            changes.len()
                        ],
                    },
                };
                tick(outcomes.len() as u64);
                (h.to_string(), outcomes)
            }
        })
        .buffer_unordered(HOST_CONCURRENCY)
        .collect::<Vec<_>>();
    let cloudron_changes = plan.cloudron_changes();
    let cloudron = async {
        match (estate.cloudron(), &facts.cloudron) {
            _ if cloudron_changes.is_empty() => Vec::new(),
            (Some(client), Some(cf)) => {
                apply_cloudron(client, &cloudron_changes, cf, &|| tick(1)).await
            }
            _ => vec![
                Outcome::NotRun {
                    reason: "cloudron: not a target of this run".into(),
                };
                cloudron_changes.len()
            ],
        }
    };
    let (host_outcomes, cloudron_outcomes) = tokio::join!(hosts, cloudron);
    // 3. Outcomes back in plan order.
    let mut per_system: Vec<(String, std::vec::IntoIter<Outcome>)> = host_outcomes
        .into_iter()
        .map(|(h, o)| (h, o.into_iter()))
        .collect();
    per_system.push(("cloudron".into(), cloudron_outcomes.into_iter()));
    let results: Vec<ChangeResult> = plan
        .changes
        .iter()
        .map(|c| {
            let outcome = per_system
                .iter_mut()
                .find(|(s, _)| s == c.target())
                .and_then(|(_, it)| it.next())
                .unwrap_or(Outcome::Unknown {
                    reason: format!("{}: no result", c.target()),
                });
            ChangeResult {
                change: c.clone(),
                outcome,
            }
        })
        .collect();
    progress.finish(&format!("{total} change(s) applied"));
    // 4. Close the rows.
    let mut applied = Applied {
        results,
        ..Applied::default()
    };
    if let Some(j) = journal {
        for (system, op) in ops {
            let outcomes: Vec<&Outcome> = applied
                .results
                .iter()
                .filter(|r| r.change.target() == system)
                .map(|r| &r.outcome)
                .collect();
            let status = row_status(&outcomes);
            let message = row_message(&outcomes);
            let write = || -> Result<(), AccountsError> {
                j.journal.finish(op, status, Some(&message))?;
                let changes: Vec<Change> = applied
                    .results
                    .iter()
                    .filter(|r| r.change.target() == system)
                    .map(|r| r.change.clone())
                    .collect();
                if status != Status::Failed
                    && let Some(hint) = j.undo.and_then(|undo| undo(&system, &changes))
                {
                    j.journal.set_undo_hint(op, &hint)?;
                }
                Ok(())
            };
            if let Err(e) = write() {
                applied
                    .journal_errors
                    .push(format!("journal operation {op} ({system}): {e}"));
            }
            applied.ops.push(OpRow { system, op, status });
        }
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_done_partial_or_failed() {
        let changed = Outcome::Changed;
        let same = Outcome::Unchanged;
        let failed = Outcome::Failed {
            message: "calcul: exit 1".into(),
        };
        let not_run = Outcome::NotRun {
            reason: "earlier".into(),
        };
        let unknown = Outcome::Unknown {
            reason: "cut".into(),
        };
        assert_eq!(row_status(&[&changed, &same]), Status::Done);
        assert_eq!(row_status(&[&changed, &failed, &not_run]), Status::Partial);
        assert_eq!(row_status(&[&same, &failed]), Status::Failed);
        assert_eq!(row_status(&[&unknown]), Status::Partial);
        assert_eq!(row_status(&[&failed, &not_run]), Status::Failed);
        assert_eq!(
            row_message(&[&changed, &failed, &not_run]),
            "1 changed, 0 already done, 1 failed, 1 not run, 0 unknown; first problem: \
             calcul: exit 1"
        );
        assert_eq!(
            row_message(&[&same]),
            "0 changed, 1 already done, 0 failed, 0 not run, 0 unknown"
        );
    }
}

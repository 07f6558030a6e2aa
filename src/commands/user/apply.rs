//! The path every mutating account command follows (DESIGN.md): the run (lock, journal,
//! interrupted operations settled), gather facts (one SSH round trip per host, Cloudron lists
//! concurrently), plan (pure), render, stop here under `--check`, then the one path with one
//! change per system (severe plans refused here: removal is `user remove`), and on failure
//! gather again to say what is left. `add`, `lock`, `unlock` and `sync` differ only in their
//! [`Request`].

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Instant;

use super::report::{self, Document, OpRow};
use crate::Ctx;
use crate::core::accounts::{Change, Facts, Plan, PlanProblem, Tier};
use crate::core::progress::{NoProgress, Progress};
use crate::error::{Error, Result};
use crate::exec::accounts::{Estate, System, SystemChanges, Targets, previous_locks};
use crate::exec::{Batch, Consent, Executed, World, outcome};
use crate::journal::{AccountsPlan, ChangeResult, Journal, OpKind, OpResult, Outcome};

/// What a command wants done.
pub struct Request<'a> {
    /// `user.add`, `user.lock`, `user.unlock`, `user.sync`.
    pub kind: OpKind,
    /// Journal subject: `user:alice`, `roster:people.csv`.
    pub subject: String,
    /// The usernames asked for, for the summary.
    pub people: Vec<String>,
    /// `--on` words.
    pub on: &'a [String],
    pub yes: bool,
    /// Ask even when every change is mild (lock and unlock are moderate commands).
    pub always_confirm: bool,
    /// The y/N question.
    pub question: String,
    /// The planner, from facts.
    pub plan: &'a (dyn Fn(&Facts) -> std::result::Result<Plan, Vec<PlanProblem>> + Sync),
    /// A problem as the operator should read it (with `file:line` for a roster).
    pub show_problem: &'a (dyn Fn(&PlanProblem) -> String + Sync),
}

/// Connect to the targets through the run's world and gather their facts (previous locks from
/// `journal`).
pub async fn connect_and_gather(
    ctx: &Ctx,
    world: &World,
    targets: &Targets,
    journal: Option<&Journal>,
) -> Result<(Estate, Facts)> {
    let t0 = Instant::now();
    let estate = Estate::connect(world, targets).await?;
    let t1 = Instant::now();
    let mut facts = estate.gather().await?;
    if let Some(j) = journal {
        facts.previous_locks = previous_locks(j)?;
    }
    ctx.out.debug(format!(
        "connected in {} ms, facts gathered in {} ms",
        (t1 - t0).as_millis(),
        t1.elapsed().as_millis()
    ));
    for h in &facts.compute {
        for s in &h.skipped {
            ctx.out
                .debug(format!("{}: facts line not understood: {s:?}", h.host));
        }
    }
    Ok((estate, facts))
}

/// Run a mutating account command.
pub async fn execute(ctx: &Ctx, req: Request<'_>) -> Result<()> {
    let cfg = ctx.config()?;
    let targets = Targets::select(cfg, req.on).map_err(Error::Usage)?;
    let systems = targets.names();
    let run = ctx.begin_run().await?;
    let world = ctx.world()?;
    let (estate, facts) = connect_and_gather(ctx, world, &targets, run.journal()).await?;
    let plan = (req.plan)(&facts).map_err(|problems| plan_refused(&problems, req.show_problem))?;
    let shown = Shown {
        check: run.is_check(),
        systems: &systems,
        people: &req.people,
        plan: &plan,
    };
    if !ctx.out.json {
        ctx.out.line(report::plan_heading(&plan))?;
        for l in report::plan_lines(&plan) {
            ctx.out.line(l)?;
        }
    }
    if run.is_check() || plan.is_empty() {
        if ctx.out.json {
            shown.json(ctx, None, &[], None)?;
        } else if !plan.is_empty() {
            let summary = report::summarise(&systems, &req.people, &plan, None);
            ctx.out
                .table(&report::SUMMARY_HEADERS, &report::summary_rows(&summary))?;
            ctx.out.info("check mode: nothing was changed");
        }
        return Ok(());
    }
    refuse_removals(&req, &plan)?;
    let tier = match plan.tier().unwrap_or(Tier::Mild) {
        Tier::Mild if req.always_confirm => Tier::Moderate,
        t => t,
    };
    if ctx.out.json && tier >= Tier::Moderate {
        for l in report::plan_lines(&plan) {
            ctx.out.info(l);
        }
    }
    let progress: Arc<dyn Progress> = if ctx.out.stderr_tty {
        Arc::from(ctx.out.progress(req.kind.as_str()))
    } else {
        Arc::new(NoProgress)
    };
    progress.set_length(plan.changes.len() as u64);
    let done_count = Arc::new(AtomicU64::new(0));
    let mut actions: Vec<Box<dyn crate::exec::Action>> = Vec::new();
    for system in changed_systems(&plan) {
        let changes: Vec<Change> = plan
            .changes
            .iter()
            .filter(|c| c.target() == system)
            .cloned()
            .collect();
        let target = if system == "cloudron" {
            match (estate.cloudron(), &facts.cloudron) {
                (Some(client), Some(cf)) => System::Cloudron {
                    client: Box::new(client.clone()),
                    facts: Box::new(cf.clone()),
                },
                _ => return Err(Error::failed("the Cloudron is not connected")),
            }
        } else {
            System::Host(
                estate
                    .session(&system)
                    .ok_or_else(|| Error::failed(format!("{system}: not connected")))?,
            )
        };
        actions.push(Box::new(SystemChanges {
            kind: req.kind,
            plan: AccountsPlan {
                system,
                subject: req.subject.clone(),
                changes,
            },
            tier,
            system: target,
            progress: Arc::clone(&progress),
            done: Arc::clone(&done_count),
        }));
    }
    let batch = Batch {
        actions,
        consent: Consent {
            yes: req.yes,
            confirm: Vec::new(),
        },
        question: req.question.clone(),
        concurrency: crate::exec::accounts::HOST_CONCURRENCY,
        no_prompt_refusal: None,
    };
    let t0 = Instant::now();
    let done = run.execute(batch).await?.unwrap_or_default();
    progress.finish(&format!("{} change(s) applied", plan.changes.len()));
    ctx.out
        .debug(format!("applied in {} ms", t0.elapsed().as_millis()));
    let results = results_in_plan_order(&plan, &done);
    let ops: Vec<OpRow> = done
        .iter()
        .map(|e| OpRow {
            system: e
                .target
                .rsplit_once('@')
                .map_or_else(|| e.target.clone(), |(_, s)| s.to_string()),
            op: e.op,
            status: e.status,
        })
        .collect();
    let all_done = results.iter().all(|r| r.outcome.is_done());
    let remaining = if all_done {
        None
    } else {
        regather(ctx, &estate, &facts, &results, &req).await
    };
    if ctx.out.json {
        shown.json(ctx, Some(&results), &ops, remaining.as_ref())?;
    } else {
        for l in report::failure_lines(&results) {
            ctx.out.line(l)?;
        }
        let summary = report::summarise(&systems, &req.people, &plan, Some(&results));
        ctx.out
            .table(&report::SUMMARY_HEADERS, &report::summary_rows(&summary))?;
        if let Some(l) = report::journal_line(&ops) {
            ctx.out.line(l)?;
        }
        if let Some(r) = &remaining {
            ctx.out
                .line(format!("still to do: {}", report::plan_heading(r)))?;
            for l in report::plan_lines(r) {
                ctx.out.line(l)?;
            }
        }
    }
    outcome(&done).map_err(|e| match e {
        Error::Partial(m) | Error::Failed(m) if !all_done => explain(&results, &done, m),
        other => other,
    })
}

/// The systems with changes in the plan: hosts in plan order, then `cloudron`.
fn changed_systems(plan: &Plan) -> Vec<String> {
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

/// One result per change of the plan, in plan order, from what each system recorded.
fn results_in_plan_order(plan: &Plan, done: &[Executed]) -> Vec<ChangeResult> {
    let mut per_system: Vec<(String, std::vec::IntoIter<ChangeResult>)> = done
        .iter()
        .map(|e| {
            let system = e
                .target
                .rsplit_once('@')
                .map_or_else(|| e.target.clone(), |(_, s)| s.to_string());
            let results = match &e.result {
                Some(OpResult::Accounts { outcomes }) => outcomes.clone(),
                _ => Vec::new(),
            };
            (system, results.into_iter())
        })
        .collect();
    plan.changes
        .iter()
        .map(|c| {
            let found = per_system
                .iter_mut()
                .find(|(s, _)| s == c.target())
                .and_then(|(_, it)| it.next());
            found.unwrap_or_else(|| ChangeResult {
                change: c.clone(),
                outcome: Outcome::NotRun {
                    reason: format!("{}: not run (the run stopped before it)", c.target()),
                },
            })
        })
        .collect()
}

/// The exit message of a run with failures: what did not go through, where, and which
/// journal row says what (the first row that is not done).
fn explain(results: &[ChangeResult], done: &[Executed], _base: String) -> Error {
    let failed = results.iter().filter(|r| !r.outcome.is_done()).count();
    let mut systems: Vec<&str> = Vec::new();
    for r in results.iter().filter(|r| !r.outcome.is_done()) {
        if !systems.contains(&r.change.target()) {
            systems.push(r.change.target());
        }
    }
    let see = done
        .iter()
        .find(|e| !matches!(e.status, crate::journal::Status::Done))
        .map(|e| format!("; the journal says what (`matelot journal show {}`)", e.op))
        .unwrap_or_default();
    let any_applied = results
        .iter()
        .any(|r| matches!(r.outcome, Outcome::Changed | Outcome::Unknown { .. }));
    if any_applied {
        Error::Partial(format!(
            "partly applied: {failed} of {} changes did not go through on {}{see}; fix the \
             cause and run the same command again",
            results.len(),
            systems.join(", ")
        ))
    } else {
        Error::failed(format!(
            "nothing was applied: {failed} change(s) failed on {}{see}",
            systems.join(", ")
        ))
    }
}

/// What the JSON document is about.
struct Shown<'a> {
    check: bool,
    systems: &'a [String],
    people: &'a [String],
    plan: &'a Plan,
}

impl Shown<'_> {
    fn json(
        &self,
        ctx: &Ctx,
        results: Option<&[ChangeResult]>,
        ops: &[OpRow],
        remaining: Option<&Plan>,
    ) -> Result<()> {
        ctx.out.json(&Document {
            check: self.check,
            targets: self.systems,
            plan: self.plan,
            tier: self.plan.tier(),
            summary: report::summarise(self.systems, self.people, self.plan, results),
            results,
            journal: ops,
            remaining,
        })?;
        Ok(())
    }
}

/// Every plan problem, with the roster line when there is one: exit 2, nothing changed.
fn plan_refused(problems: &[PlanProblem], show: &(dyn Fn(&PlanProblem) -> String + Sync)) -> Error {
    let lines: Vec<String> = problems.iter().map(show).collect();
    match lines.as_slice() {
        [one] => Error::Usage(format!("{one}; nothing was changed")),
        many => Error::Usage(format!(
            "{} problems; nothing was changed:\n  {}",
            many.len(),
            many.join("\n  ")
        )),
    }
}

/// A plan that removes accounts is refused: removal is a guarded command of its own.
fn refuse_removals(req: &Request<'_>, plan: &Plan) -> Result<()> {
    if plan.tier() != Some(Tier::Severe) {
        return Ok(());
    }
    let removed: Vec<String> = plan
        .changes
        .iter()
        .filter(|c| c.tier() == Tier::Severe)
        .map(|c| format!("{}@{}", c.subject(), c.target()))
        .collect();
    Err(Error::refused(format!(
        "this plan removes accounts ({}); removing an account is a guarded command of its own \
         that archives the home first (`matelot user remove NAME`), never part of {}; set \
         their state to locked or drop --prune remove. Nothing was changed",
        removed.join(", "),
        req.kind
    )))
}

/// After a failure: facts again from every system that was changed (the ones that worked
/// too, or their changes would show as still to do), and what is left to do.
async fn regather(
    ctx: &Ctx,
    estate: &Estate,
    facts: &Facts,
    results: &[ChangeResult],
    req: &Request<'_>,
) -> Option<Plan> {
    let mut again = facts.clone();
    let result: Result<()> = async {
        let mut systems: Vec<&str> = Vec::new();
        for r in results {
            if !systems.contains(&r.change.target()) {
                systems.push(r.change.target());
            }
        }
        for system in systems {
            if system == "cloudron" {
                again.cloudron = estate.gather_cloudron().await?;
            } else if let Some(h) = estate.gather_host(system).await?
                && let Some(slot) = again.compute.iter_mut().find(|c| c.host == system)
            {
                *slot = h;
            }
        }
        Ok(())
    }
    .await;
    if let Err(e) = result {
        ctx.out.warn(format!(
            "could not gather facts again after the failure: {e}"
        ));
        return None;
    }
    match (req.plan)(&again) {
        Ok(p) => Some(p),
        Err(problems) => {
            for p in problems {
                ctx.out
                    .warn(format!("after the failure: {}", (req.show_problem)(&p)));
            }
            None
        }
    }
}

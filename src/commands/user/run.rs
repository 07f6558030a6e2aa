//! The path every mutating account command follows (DESIGN.md): run lock and journal
//! reconciliation, gather facts (one SSH round trip per host, Cloudron lists concurrently),
//! plan (pure), render, stop here under `--check`, guard (severe: refused here; moderate: y/N
//! or `--yes`), apply (one script per host, Cloudron calls bounded), journal, and on failure
//! gather again to say what is left. `add`, `lock`, `unlock` and `sync` differ only in their
//! [`Request`].

use std::time::Instant;

use anyhow::Context;

use super::report::{self, Document};
use crate::Ctx;
use crate::cloudron::Client;
use crate::compute::ConnectOptions;
use crate::core::accounts::{Facts, Plan, PlanProblem, Tier};
use crate::core::guard::{self, Consent, Decision};
use crate::core::progress::{NoProgress, Progress};
use crate::error::{Error, Result};
use crate::exec::accounts::{
    Applied, ChangeResult, Estate, JournalPlan, OpRow, Targets, UndoHint, apply_plan,
    previous_locks,
};
use crate::journal::{Journal, NewOp, Status};

/// What a command wants done.
pub struct Request<'a> {
    /// Journal kind: `user.add`, `user.lock`, `user.unlock`, `user.sync`.
    pub kind: &'static str,
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
    /// What needs confirmation, for the refusal without a terminal (`locking bob`).
    pub needs_yes: String,
    /// The planner, from facts.
    pub plan: &'a dyn Fn(&Facts) -> std::result::Result<Plan, Vec<PlanProblem>>,
    /// A problem as the operator should read it (with `file:line` for a roster).
    pub show_problem: &'a dyn Fn(&PlanProblem) -> String,
    /// The undo hint of a journal row, from the system's name and its changes.
    pub undo: Option<&'a UndoHint<'a>>,
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::failed(format!("cannot start the async runtime: {e}")))
}

/// The Cloudron client for a command (retries reported on stderr, requests with `-v`).
pub fn cloudron_client(ctx: &Ctx, targets: &Targets) -> Result<Option<Client>> {
    let Some(cc) = &targets.cloudron else {
        return Ok(None);
    };
    let out = ctx.out.clone();
    Ok(Some(Client::new(cc)?.with_trace(move |t| {
        if t.retry_in.is_some() {
            out.info(format!("cloudron: {t}"));
        } else {
            out.debug(format!("cloudron: {t}"));
        }
    })))
}

/// Connect to the targets and gather their facts (previous locks from `journal`).
pub fn connect_and_gather(
    ctx: &Ctx,
    rt: &tokio::runtime::Runtime,
    targets: &Targets,
    journal: Option<&Journal>,
) -> Result<(Estate, Facts)> {
    let cfg = ctx.config()?;
    let client = cloudron_client(ctx, targets)?;
    let opts = ConnectOptions {
        may_prompt: ctx.out.can_prompt(),
        ..ConnectOptions::default()
    };
    let t0 = Instant::now();
    let estate = rt.block_on(Estate::connect(cfg, targets, client, &opts))?;
    let t1 = Instant::now();
    let mut facts = rt.block_on(estate.gather())?;
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

/// The journal if it exists (check mode and `list` never create it).
pub fn existing_journal(ctx: &Ctx) -> Result<Option<Journal>> {
    let path = ctx.config()?.journal_path();
    if !path.exists() {
        return Ok(None);
    }
    Ok(Some(Journal::open(&path)?))
}

/// Run a mutating account command.
pub fn execute(ctx: &Ctx, req: Request<'_>) -> Result<()> {
    let cfg = ctx.config()?;
    let targets = Targets::select(cfg, req.on).map_err(Error::Usage)?;
    let systems = targets.names();
    let check = ctx.global.check;
    let _lock = if check { None } else { Some(ctx.run_lock()?) };
    let journal = if check {
        existing_journal(ctx)?
    } else {
        let j = ctx.journal()?;
        let fixed = j.reconcile_interrupted()?;
        if !fixed.is_empty() {
            let ids: Vec<String> = fixed.iter().map(ToString::to_string).collect();
            ctx.out.warn(format!(
                "journal: operation(s) {} were left unfinished by a process that is gone; \
                 marked interrupted (`matelot journal show {}`)",
                ids.join(", "),
                ids[0]
            ));
        }
        Some(j)
    };
    let rt = runtime()?;
    let (estate, facts) = connect_and_gather(ctx, &rt, &targets, journal.as_ref())?;
    let plan = (req.plan)(&facts).map_err(|problems| plan_refused(&problems, req.show_problem))?;
    let summary = report::summarise(&systems, &req.people, &plan, None);
    let shown = Shown {
        check,
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
    if check || plan.is_empty() {
        rt.block_on(estate.close());
        if ctx.out.json {
            shown.json(ctx, None, &[], None)?;
        } else if !plan.is_empty() {
            ctx.out
                .table(&report::SUMMARY_HEADERS, &report::summary_rows(&summary))?;
            ctx.out.info("check mode: nothing was changed");
        }
        return Ok(());
    }
    let journal = journal.ok_or_else(|| Error::failed("the journal is not open"))?;
    if let Err(e) = guard(ctx, &req, &plan) {
        rt.block_on(estate.close());
        let op = journal.begin(
            NewOp::new(req.kind, format!("{}@{}", req.subject, systems.join(",")))
                .planned(serde_json::to_value(&plan.changes).unwrap_or_default()),
        )?;
        journal.finish(op, Status::Refused, Some(&e.to_string()))?;
        return Err(e);
    }
    let progress: Box<dyn Progress> = if ctx.out.stderr_tty {
        ctx.out.progress(req.kind)
    } else {
        Box::new(NoProgress)
    };
    let jp = JournalPlan {
        journal: &journal,
        kind: req.kind,
        subject: &req.subject,
        undo: req.undo,
    };
    let t0 = Instant::now();
    let applied = rt.block_on(apply_plan(
        &estate,
        &plan,
        &facts,
        Some(&jp),
        progress.as_ref(),
    ))?;
    ctx.out
        .debug(format!("applied in {} ms", t0.elapsed().as_millis()));
    for e in &applied.journal_errors {
        ctx.out.warn(e);
    }
    let remaining = if applied.all_done() {
        None
    } else {
        regather(ctx, &rt, &estate, &facts, &applied, &req)
    };
    rt.block_on(estate.close());
    if ctx.out.json {
        shown.json(
            ctx,
            Some(&applied.results),
            &applied.ops,
            remaining.as_ref(),
        )?;
    } else {
        for l in report::failure_lines(&applied.results) {
            ctx.out.line(l)?;
        }
        let summary = report::summarise(&systems, &req.people, &plan, Some(&applied.results));
        ctx.out
            .table(&report::SUMMARY_HEADERS, &report::summary_rows(&summary))?;
        if let Some(l) = report::journal_line(&applied.ops) {
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
    finish(&applied)
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
fn plan_refused(problems: &[PlanProblem], show: &dyn Fn(&PlanProblem) -> String) -> Error {
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

/// Severe plans are refused; moderate ones (and lock/unlock) need a yes.
fn guard(ctx: &Ctx, req: &Request<'_>, plan: &Plan) -> Result<()> {
    let tier = plan.tier().unwrap_or(Tier::Mild);
    if tier == Tier::Severe {
        let removed: Vec<String> = plan
            .changes
            .iter()
            .filter(|c| c.tier() == Tier::Severe)
            .map(|c| format!("{}@{}", c.subject(), c.target()))
            .collect();
        return Err(Error::refused(format!(
            "this plan removes accounts ({}); removing an account is a guarded command of its \
             own that archives the home first (`matelot user remove NAME`), never part of \
             {}; set their state to locked or drop --prune remove. Nothing was changed",
            removed.join(", "),
            req.kind
        )));
    }
    if tier < Tier::Moderate && !req.always_confirm {
        return Ok(());
    }
    let consent = Consent {
        yes: req.yes,
        confirm: None,
        can_prompt: ctx.out.can_prompt(),
    };
    match guard::decide(guard::Tier::Moderate, &req.subject, false, &consent) {
        Decision::Proceed => Ok(()),
        Decision::AskYesNo => {
            if ctx.out.json {
                for l in report::plan_lines(plan) {
                    ctx.out.info(l);
                }
            }
            let ok = dialoguer::Confirm::new()
                .with_prompt(&req.question)
                .default(false)
                .interact_on(&console::Term::stderr())
                .context("asking for confirmation")?;
            if ok {
                Ok(())
            } else {
                Err(Error::refused("declined; nothing was changed"))
            }
        }
        Decision::Refuse(_) | Decision::AskExactName(_) => Err(Error::refused(format!(
            "{} needs confirmation and there is no terminal to ask on (or --no-input is set): \
             pass --yes. Nothing was changed",
            req.needs_yes
        ))),
    }
}

/// After a failure: facts again from every system that was changed (the ones that worked
/// too, or their changes would show as still to do), and what is left to do.
fn regather(
    ctx: &Ctx,
    rt: &tokio::runtime::Runtime,
    estate: &Estate,
    facts: &Facts,
    applied: &Applied,
    req: &Request<'_>,
) -> Option<Plan> {
    let mut again = facts.clone();
    let result: Result<()> = rt.block_on(async {
        let mut systems: Vec<&str> = Vec::new();
        for r in &applied.results {
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
    });
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

/// The exit code: 0 all done, 4 partly applied, 1 nothing applied.
fn finish(applied: &Applied) -> Result<()> {
    if applied.all_done() {
        return Ok(());
    }
    let failed = applied
        .results
        .iter()
        .filter(|r| !r.outcome.is_done())
        .count();
    let systems = applied.failed_systems().join(", ");
    let ops: Vec<String> = applied.ops.iter().map(|o| o.op.to_string()).collect();
    let see = match ops.first() {
        Some(first) => format!("; the journal says what (`matelot journal show {first}`)"),
        None => String::new(),
    };
    if applied.any_applied() {
        Err(Error::Partial(format!(
            "partly applied: {failed} of {} changes did not go through on {systems}{see}; \
             fix the cause and run the same command again",
            applied.results.len()
        )))
    } else {
        Err(Error::failed(format!(
            "nothing was applied: {failed} change(s) failed on {systems}{see}"
        )))
    }
}

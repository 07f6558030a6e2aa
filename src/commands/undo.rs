//! `matelot undo OP... | --run ID`: take back what journalled operations changed, newest
//! first, each from its restore point, through the one path (journalled as `undo`, linked to
//! the operation it undoes). How each kind is undone, or why it cannot be, is
//! `exec::undo`'s; this handler picks the operations, shows what each undo will do, and
//! reports. It never guesses: what it re-creates comes from the journal.

use crate::Ctx;
use crate::cli::undo::UndoArgs;
use crate::core::guard::Tier;
use crate::error::{Error, Result};
use crate::exec::undo::{check_undoable, plan_undo};
use crate::exec::{Batch, Consent, outcome};
use crate::journal::{Filter, OpId, OpPlan, Operation, RunId};
use crate::output::impact::Impact;

/// `12` or `#12`.
pub fn parse_op(s: &str) -> Result<OpId> {
    s.parse::<OpId>().map_err(Error::usage)
}

pub async fn run(ctx: &Ctx, args: UndoArgs) -> Result<()> {
    let run = ctx.begin_run().await?;
    let journal = run
        .journal()
        .ok_or_else(|| Error::usage("the journal is empty: there is nothing to undo"))?;
    let mut ops: Vec<Operation> = Vec::new();
    match &args.run {
        Some(id) => {
            let id: RunId = id.parse().map_err(Error::usage)?;
            let all = journal.list(&Filter {
                run: Some(id.clone()),
                ..Filter::default()
            })?;
            if all.is_empty() {
                return Err(Error::usage(format!(
                    "no operation of run {id} in the journal; `matelot journal list` shows runs"
                )));
            }
            for op in all {
                if op.status.changed_something() && !matches!(op.plan, OpPlan::Undo(_)) {
                    ops.push(op);
                } else {
                    ctx.out.info(format!(
                        "operation {} ({} {}) is {}: nothing to undo there",
                        op.id, op.kind, op.target, op.status
                    ));
                }
            }
        }
        None => {
            let mut ids = Vec::new();
            for s in &args.ops {
                let id = parse_op(s)?;
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            for id in ids {
                ops.push(journal.get(id)?.ok_or_else(|| {
                    Error::usage(format!(
                        "no operation {id} in the journal; `matelot journal list` shows the \
                         operations"
                    ))
                })?);
            }
        }
    }
    // Newest first: what was done last is taken back first.
    ops.sort_by_key(|o| std::cmp::Reverse(o.id));
    let world = ctx.world()?;
    let mut undos = Vec::new();
    for op in &ops {
        check_undoable(journal, op)?;
        undos.push(plan_undo(op, journal, world).await?);
    }
    let shown: Vec<Impact> = undos
        .iter()
        .map(|u| Impact {
            kind: "undo".into(),
            target: u.action.target(),
            tier: u.action.tier(),
            confirm: u.action.confirm_name(),
            lines: u.impact.clone(),
            steps: u.steps.clone(),
            protected: u.action.protected(),
        })
        .collect();
    if run.is_check() {
        if ctx.out.json {
            ctx.out
                .json(&serde_json::json!({ "check": true, "undos": shown }))?;
        } else {
            for s in &shown {
                for line in s.render() {
                    ctx.out.line(line)?;
                }
            }
            ctx.out.line("(--check: nothing was changed)")?;
        }
        return Ok(());
    }
    for s in &shown {
        s.announce(&ctx.out);
    }
    // A moderate undo (it overwrites nothing) is confirmed by --yes, or by its name given
    // to --confirm.
    let yes = args.yes
        || shown
            .iter()
            .filter(|s| s.tier == Tier::Moderate)
            .all(|s| args.confirm.contains(&s.confirm))
            && shown.iter().any(|s| s.tier == Tier::Moderate);
    let question = match ops.as_slice() {
        [one] => format!("Undo operation {} ({} {})?", one.id, one.kind, one.target),
        many => format!("Undo these {} operations?", many.len()),
    };
    let batch = Batch {
        actions: undos.into_iter().map(|u| u.action).collect(),
        consent: Consent {
            yes,
            confirm: args.confirm.clone(),
        },
        question,
        concurrency: 1,
        no_prompt_refusal: None,
    };
    let done = run.execute(batch).await?.unwrap_or_default();
    if ctx.out.json {
        ctx.out.json(&serde_json::json!({
            "operation": done.first(),
            "operations": done,
        }))?;
    } else {
        for e in done.iter().filter(|e| e.status.changed_something()) {
            ctx.out.line(format!("operation {}: {}", e.op, e.summary))?;
        }
    }
    outcome(&done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn op_numbers_are_read_tolerantly_and_checked() {
        assert_eq!(parse_op("12").ok(), Some(OpId(12)));
        assert_eq!(parse_op(" #7 ").ok(), Some(OpId(7)));
        for bad in ["", "x", "0", "-3", "#"] {
            assert!(parse_op(bad).is_err(), "{bad}");
        }
    }
}

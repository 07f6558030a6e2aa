//! The one guard every destructive command goes through (the Matomo rule): show the impact,
//! let `core::guard::decide` rule on the confirmation, journal the operation, take and verify
//! a restore point, and only then make the destructive call, completing the journal row after
//! it. `--check` stops after showing the plan.
//!
//! Commands describe what they are about to do ([`Guarded`]) and supply the two steps that
//! touch the world ([`Destructive`]); this module owns the order of things and never lets a
//! destructive call run without a verified restore point written to the journal first. It
//! does not know about apps or people, and it never retries anything.

use anyhow::Context;
use serde::Serialize;
use serde_json::Value;

use crate::Ctx;
use crate::core::guard::{Consent, Decision, Tier, decide};
use crate::error::{Error, Result};
use crate::journal::{Journal, NewOp, OpId, RestorePoint, Status};

/// What a guarded command is about to do, gathered before anything is touched.
#[derive(Debug, Clone, Serialize)]
pub struct Guarded {
    /// Journal kind: `app.uninstall`, `app.restore`, `user.remove`, `undo`.
    pub kind: String,
    /// Journal target: an FQDN, `user:NAME`, ...
    pub target: String,
    /// The exact name the operator types (or passes to `--confirm`).
    pub confirm_name: String,
    pub tier: Tier,
    /// `What: value` lines: what would be lost.
    pub impact: Vec<(String, String)>,
    /// The steps, in order, as people read them (restore point first).
    pub steps: Vec<String>,
    /// What the journal stores as planned changes (and what undo reads back).
    pub planned: Value,
    /// Why the target is protected, if it is.
    pub protected: Option<String>,
}

/// The two steps that touch the world.
pub trait Destructive {
    /// Take the restore point and verify it. Nothing is destroyed yet; an error stops
    /// everything. `None` when the change overwrites nothing (an undo that re-creates).
    fn restore_point(&mut self, op: OpId) -> Result<Option<RestorePoint>>;
    /// The destructive call itself; returns a one-line summary.
    fn apply(
        &mut self,
        op: OpId,
        rp: Option<&RestorePoint>,
    ) -> std::result::Result<String, Applied>;
}

/// How a destructive call can fail.
#[derive(Debug)]
pub enum Applied {
    /// It did not happen (the request was refused or failed): the target is as it was.
    NotApplied(Error),
    /// The request was sent but its end could not be seen: the row stays open, so the next run
    /// finds it interrupted and reconciles it with what the server shows.
    Unknown(Error),
}

/// What a guarded run did.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub op: i64,
    pub kind: String,
    pub target: String,
    pub restore_point: Option<RestorePoint>,
    pub summary: String,
    pub undo: String,
}

/// Carry out a guarded change. `Ok(None)` under `--check` (the plan was printed).
pub fn run(
    ctx: &Ctx,
    journal: &Journal,
    g: &Guarded,
    yes: bool,
    confirm: Option<&str>,
    action: &mut dyn Destructive,
) -> Result<Option<Outcome>> {
    if ctx.global.check {
        print_plan(ctx, g)?;
        return Ok(None);
    }
    for line in render_impact(g) {
        ctx.out.info(line);
    }
    let consent = Consent {
        yes,
        confirm,
        can_prompt: ctx.out.can_prompt(),
    };
    let refuse = |why: String| -> Result<Option<Outcome>> {
        let op = journal.begin(NewOp::new(&g.kind, &g.target).planned(g.planned.clone()))?;
        journal.finish(op, Status::Refused, Some(&why))?;
        Err(Error::refused(why))
    };
    match decide(g.tier, &g.confirm_name, g.protected.is_some(), &consent) {
        Decision::Proceed => {}
        Decision::Refuse(why) => {
            let why = match &g.protected {
                Some(p) => format!("{p}; nothing was changed"),
                None => why,
            };
            return refuse(why);
        }
        Decision::AskYesNo => {
            if !ask_yes_no(&format!("{}: go ahead?", g.kind))? {
                return refuse("declined; nothing was changed".into());
            }
        }
        Decision::AskExactName(name) => {
            if !ask_exact_name(&name)? {
                return refuse("declined; nothing was changed".into());
            }
        }
    }

    let op = journal.begin(NewOp::new(&g.kind, &g.target).planned(g.planned.clone()))?;
    let rp = match action.restore_point(op) {
        Ok(rp) => rp,
        Err(e) => {
            let msg = format!("restore point failed: {e}; nothing was changed");
            journal.finish(op, Status::Failed, Some(&msg))?;
            return Err(Error::failed(format!("operation {op}: {msg}")));
        }
    };
    if let Some(rp) = &rp {
        journal.set_restore_point(op, rp)?;
        ctx.out
            .info(format!("restore point {} {} verified", rp.kind, rp.id));
    } else if g.tier == Tier::Severe {
        let msg = "restore point failed: none was taken for a severe change; nothing was changed";
        journal.finish(op, Status::Failed, Some(msg))?;
        return Err(Error::failed(format!("operation {op}: {msg}")));
    }
    journal.set_status(op, Status::Running)?;
    match action.apply(op, rp.as_ref()) {
        Ok(summary) => {
            journal.finish(op, Status::Done, None)?;
            let undo = format!("matelot undo {op}");
            if g.kind != "undo" {
                journal.set_undo_hint(op, &undo)?;
            }
            Ok(Some(Outcome {
                op: op.0,
                kind: g.kind.clone(),
                target: g.target.clone(),
                restore_point: rp,
                summary,
                undo: if g.kind == "undo" {
                    String::new()
                } else {
                    undo
                },
            }))
        }
        Err(Applied::NotApplied(e)) => {
            journal.finish(op, Status::Failed, Some(&format!("not applied: {e}")))?;
            Err(Error::failed(format!(
                "operation {op} failed, nothing was changed: {e}{}",
                rp.map(|r| format!(" (the restore point {} is kept)", r.id))
                    .unwrap_or_default()
            )))
        }
        Err(Applied::Unknown(e)) => {
            journal.note(
                op,
                &format!("the change was sent but its end could not be followed: {e}"),
            )?;
            Err(Error::failed(format!(
                "operation {op}: the change was sent but its end could not be followed: {e}; \
                 the next matelot run on {} checks the server and settles the journal row \
                 (`matelot journal show {op}`)",
                g.target
            )))
        }
    }
}

/// Impact and steps, as lines (what `--check` prints and what precedes the prompt).
pub fn render_impact(g: &Guarded) -> Vec<String> {
    let width = g.impact.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 1;
    let mut lines = vec![format!("{} {}", g.kind, g.target)];
    lines.extend(
        g.impact
            .iter()
            .map(|(k, v)| format!("  {:<width$} {v}", format!("{k}:"))),
    );
    lines.push("Plan:".to_string());
    lines.extend(
        g.steps
            .iter()
            .enumerate()
            .map(|(i, s)| format!("  {}. {s}", i + 1)),
    );
    if let Some(p) = &g.protected {
        lines.push(format!("Refused: {p}"));
    }
    lines
}

fn print_plan(ctx: &Ctx, g: &Guarded) -> Result<()> {
    if ctx.out.json {
        ctx.out.json(&serde_json::json!({
            "check": true,
            "kind": g.kind,
            "target": g.target,
            "tier": g.tier,
            "confirm": g.confirm_name,
            "impact": g.impact.iter().map(|(k, v)| serde_json::json!({"what": k, "value": v})).collect::<Vec<_>>(),
            "steps": g.steps,
            "protected": g.protected,
        }))?;
        return Ok(());
    }
    for line in render_impact(g) {
        ctx.out.line(line)?;
    }
    ctx.out.line("(--check: nothing was changed)")?;
    Ok(())
}

fn ask_yes_no(question: &str) -> Result<bool> {
    Ok(dialoguer::Confirm::new()
        .with_prompt(question)
        .default(false)
        .interact_on(&console::Term::stderr())
        .context("asking for confirmation")?)
}

/// The severe prompt: type the exact name; an empty answer declines.
fn ask_exact_name(name: &str) -> Result<bool> {
    let want = name.to_string();
    let typed: String = dialoguer::Input::new()
        .with_prompt(format!(
            "This cannot be taken back without `matelot undo`. Type {name} to go ahead (empty to cancel)"
        ))
        .allow_empty(true)
        .validate_with(move |s: &String| -> std::result::Result<(), String> {
            if s.is_empty() || *s == want {
                Ok(())
            } else {
                Err(format!("that is not {want}; type it exactly, or nothing to cancel"))
            }
        })
        .interact_text_on(&console::Term::stderr())
        .context("asking for the confirmation name")?;
    Ok(typed == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impact_lines_are_aligned_and_numbered() {
        let g = Guarded {
            kind: "app.uninstall".into(),
            target: "analytics.example.org".into(),
            confirm_name: "analytics.example.org".into(),
            tier: Tier::Severe,
            impact: vec![
                ("App".into(), "Matomo 1.52.0".into()),
                ("Last backup".into(), "none".into()),
            ],
            steps: vec!["back up".into(), "uninstall".into()],
            planned: Value::Null,
            protected: None,
        };
        assert_eq!(
            render_impact(&g),
            vec![
                "app.uninstall analytics.example.org",
                "  App:         Matomo 1.52.0",
                "  Last backup: none",
                "Plan:",
                "  1. back up",
                "  2. uninstall",
            ]
        );
    }
}

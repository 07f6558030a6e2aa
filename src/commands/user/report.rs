//! What account commands print: the plan as lines, a per-system summary (accounts created,
//! changed, unchanged, failed; groups created), failures with their messages, and the JSON
//! document of `--json`. Pure functions of the plan and the results, so every count and line is
//! unit-tested; printing is the caller's.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::core::accounts::{Change, CloudronChange, ComputeChange, Plan, Tier};
use crate::journal::{ChangeResult, OpId, Outcome, Status};

/// One journal row written for a system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpRow {
    /// A host name or `cloudron`.
    pub system: String,
    pub op: OpId,
    pub status: Status,
}

/// Accounts on one system, by what happened to them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SystemSummary {
    /// A host name or `cloudron`.
    pub system: String,
    pub created: usize,
    pub changed: usize,
    pub unchanged: usize,
    pub failed: usize,
    pub groups_created: usize,
}

fn is_group(c: &Change) -> bool {
    matches!(
        c,
        Change::Compute {
            change: ComputeChange::CreateGroup { .. },
            ..
        } | Change::Cloudron {
            change: CloudronChange::CreateGroup { .. }
        }
    )
}

fn is_creation(c: &Change) -> bool {
    matches!(
        c,
        Change::Compute {
            change: ComputeChange::CreateUser { .. },
            ..
        } | Change::Cloudron {
            change: CloudronChange::CreateUser { .. }
        }
    )
}

/// Count accounts per system. `people` are the accounts asked for (the roster, or the one
/// person named); accounts changed without being asked for (pruned) count too. Without
/// results (check mode) every planned change counts as if it will happen.
pub fn summarise(
    systems: &[String],
    people: &[String],
    plan: &Plan,
    results: Option<&[ChangeResult]>,
) -> Vec<SystemSummary> {
    let outcome = |i: usize| results.and_then(|r| r.get(i)).map(|r| &r.outcome);
    systems
        .iter()
        .map(|system| {
            let mine: Vec<(usize, &Change)> = plan
                .changes
                .iter()
                .enumerate()
                .filter(|(_, c)| c.target() == system)
                .collect();
            let mut s = SystemSummary {
                system: system.clone(),
                ..SystemSummary::default()
            };
            s.groups_created = mine
                .iter()
                .filter(|(i, c)| is_group(c) && outcome(*i).is_none_or(|o| *o == Outcome::Changed))
                .count();
            let mut subjects: BTreeSet<&str> = people.iter().map(String::as_str).collect();
            subjects.extend(
                mine.iter()
                    .filter(|(_, c)| !is_group(c))
                    .map(|(_, c)| c.subject()),
            );
            for subject in subjects {
                let theirs: Vec<&(usize, &Change)> = mine
                    .iter()
                    .filter(|(_, c)| !is_group(c) && c.subject() == subject)
                    .collect();
                let failed = theirs
                    .iter()
                    .any(|(i, _)| outcome(*i).is_some_and(|o| !o.is_done()));
                let did =
                    |(i, _): &&(usize, &Change)| outcome(*i).is_none_or(|o| *o == Outcome::Changed);
                if failed {
                    s.failed += 1;
                } else if theirs.iter().any(|t| is_creation(t.1) && did(t)) {
                    s.created += 1;
                } else if theirs.iter().any(did) {
                    s.changed += 1;
                } else {
                    s.unchanged += 1;
                }
            }
            s
        })
        .collect()
}

/// The plan for people: one line per change, indented, then the notes.
pub fn plan_lines(plan: &Plan) -> Vec<String> {
    let mut out: Vec<String> = plan.changes.iter().map(|c| format!("  {c}")).collect();
    out.extend(plan.notes.iter().map(|n| format!("note: {n}")));
    out
}

/// `3 changes on calcul, cloudron (moderate: asks first)`.
pub fn plan_heading(plan: &Plan) -> String {
    if plan.is_empty() {
        return "nothing to change".into();
    }
    let n = plan.changes.len();
    let mut systems: Vec<&str> = Vec::new();
    for c in &plan.changes {
        if !systems.contains(&c.target()) {
            systems.push(c.target());
        }
    }
    let tier = match plan.tier() {
        Some(Tier::Severe) => " (includes removals)",
        Some(Tier::Moderate) => " (some lock or take something away)",
        _ => "",
    };
    format!(
        "{n} change{} on {}{tier}:",
        if n == 1 { "" } else { "s" },
        systems.join(", ")
    )
}

/// One line per change that did not work: `FAILED  <change>: <why>`.
pub fn failure_lines(results: &[ChangeResult]) -> Vec<String> {
    results
        .iter()
        .filter(|r| !r.outcome.is_done())
        .map(|r| {
            let label = r.outcome.label().to_uppercase();
            match r.outcome.detail() {
                Some(d) => format!("{label}  {}: {d}", r.change),
                None => format!("{label}  {}", r.change),
            }
        })
        .collect()
}

/// The summary as table rows. The header says FAILURES, not FAILED: `FAILED` starts the line
/// of a change that failed, and scripts (the lab tour) look for it.
pub const SUMMARY_HEADERS: [&str; 6] = [
    "SYSTEM",
    "CREATED",
    "CHANGED",
    "UNCHANGED",
    "FAILURES",
    "NEW GROUPS",
];

pub fn summary_rows(summary: &[SystemSummary]) -> Vec<Vec<String>> {
    summary
        .iter()
        .map(|s| {
            vec![
                s.system.clone(),
                s.created.to_string(),
                s.changed.to_string(),
                s.unchanged.to_string(),
                s.failed.to_string(),
                s.groups_created.to_string(),
            ]
        })
        .collect()
}

/// `journal: operation 12 (calcul, done), 13 (cloudron, partial)`.
pub fn journal_line(ops: &[OpRow]) -> Option<String> {
    if ops.is_empty() {
        return None;
    }
    let parts: Vec<String> = ops
        .iter()
        .map(|o| format!("{} ({}, {})", o.op, o.system, o.status))
        .collect();
    Some(format!(
        "journal: operation{} {}",
        if ops.len() == 1 { "" } else { "s" },
        parts.join(", ")
    ))
}

/// The `--json` document of a mutating account command.
#[derive(Debug, Serialize)]
pub struct Document<'a> {
    pub check: bool,
    pub targets: &'a [String],
    pub plan: &'a Plan,
    pub tier: Option<Tier>,
    pub summary: Vec<SystemSummary>,
    /// One per change, in plan order (absent in check mode).
    pub results: Option<&'a [ChangeResult]>,
    pub journal: &'a [OpRow],
    /// What is still to do after a failure, from facts gathered again.
    pub remaining: Option<&'a Plan>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::accounts::ComputeChange as C;

    fn plan() -> Plan {
        let c = |change| Change::compute("calcul", change);
        Plan {
            changes: vec![
                c(C::CreateGroup {
                    group: "physics".into(),
                }),
                c(C::CreateUser {
                    user: "alice".into(),
                    uid: Some(1000),
                    gecos: "Alice".into(),
                    groups: vec!["physics".into()],
                    shell: "/bin/bash".into(),
                    keys: vec![],
                }),
                c(C::Lock {
                    user: "bob".into(),
                    previous_expiry: None,
                }),
                Change::cloudron(CloudronChange::SetActive {
                    id: Some("uid-b".into()),
                    username: "bob".into(),
                    active: false,
                }),
                c(C::Lock {
                    user: "zed".into(),
                    previous_expiry: None,
                }),
            ],
            notes: vec!["carol has no account on gpu; nothing to change there".into()],
        }
    }

    fn people() -> Vec<String> {
        ["alice", "bob", "carol"].map(String::from).to_vec()
    }

    #[test]
    fn a_check_summary_counts_what_would_happen() {
        let systems = vec!["calcul".to_string(), "cloudron".to_string()];
        let s = summarise(&systems, &people(), &plan(), None);
        assert_eq!(
            s,
            vec![
                SystemSummary {
                    system: "calcul".into(),
                    created: 1,
                    changed: 2,
                    unchanged: 1,
                    failed: 0,
                    groups_created: 1
                },
                SystemSummary {
                    system: "cloudron".into(),
                    created: 0,
                    changed: 1,
                    unchanged: 2,
                    failed: 0,
                    groups_created: 0
                },
            ]
        );
    }

    #[test]
    fn results_decide_the_counts_after_applying() {
        let p = plan();
        let outcomes = [
            Outcome::Unchanged,
            Outcome::Changed,
            Outcome::Failed {
                message: "calcul: exit 1".into(),
            },
            Outcome::Changed,
            Outcome::Unchanged,
        ];
        let results: Vec<ChangeResult> = p
            .changes
            .iter()
            .zip(outcomes)
            .map(|(c, o)| ChangeResult {
                change: c.clone(),
                outcome: o,
            })
            .collect();
        let s = summarise(&["calcul".to_string()], &people(), &p, Some(&results));
        assert_eq!(
            s[0],
            SystemSummary {
                system: "calcul".into(),
                created: 1,
                changed: 0,
                unchanged: 2,
                failed: 1,
                groups_created: 0
            }
        );
        assert_eq!(
            failure_lines(&results),
            [
                "FAILED  ! lock bob on calcul (password locked, account expired; expiry was \
              never): calcul: exit 1"
            ]
        );
        assert_eq!(
            summary_rows(&s)[0],
            ["calcul", "1", "0", "2", "1", "0"].map(String::from)
        );
    }

    #[test]
    fn headings_and_journal_lines() {
        assert_eq!(plan_heading(&Plan::default()), "nothing to change");
        assert_eq!(
            plan_heading(&plan()),
            "5 changes on calcul, cloudron (some lock or take something away):"
        );
        let lines = plan_lines(&plan());
        assert_eq!(lines[0], "  + group physics on calcul");
        assert_eq!(
            lines.last().map(String::as_str),
            Some("note: carol has no account on gpu; nothing to change there")
        );
        assert_eq!(journal_line(&[]), None);
        let ops = [
            OpRow {
                system: "calcul".into(),
                op: crate::journal::OpId(12),
                status: crate::journal::Status::Done,
            },
            OpRow {
                system: "cloudron".into(),
                op: crate::journal::OpId(13),
                status: crate::journal::Status::Partial,
            },
        ];
        assert_eq!(
            journal_line(&ops).unwrap(),
            "journal: operations 12 (calcul, done), 13 (cloudron, partial)"
        );
    }
}

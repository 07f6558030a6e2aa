//! The planner's entry points and its result: desired people + facts -> a [`Plan`] (changes
//! for every targeted compute host and for Cloudron) or the list of every problem that makes
//! the plan impossible. Pure and deterministic: the same input gives the same plan, and a plan
//! applied to the facts gives facts that re-plan to nothing (the simulator tests this).
//!
//! Semantics (documented for users of `user add` and `user sync`):
//! - Groups: a person's groups are exact *within the managed groups*, the groups named by the
//!   people being planned (for a roster: every group it mentions). Other memberships (added by
//!   hand, system groups) are left alone.
//! - Keys and full name: an empty value means "leave alone" (so a roster without a keys column
//!   never wipes keys); otherwise `authorized_keys` holds exactly the given keys.
//! - States: active (unlock if locked by expiry), locked (password locked and account expired:
//!   SSH keys refused too; Cloudron inactive), absent (removed: severe).
//! - Pruning (roster sync only): managed accounts not in the roster are left alone (noted),
//!   locked or removed. Cloudron owners, admins and directory users are never pruned.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::change::{Change, CloudronChange, ComputeChange, Tier};
use super::facts::{Facts, UidRange};
mod cloudron;
mod compute;

use crate::core::person::{FullName, Person, PersonState, Username};

/// How to treat managed accounts that are not in a roster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Prune {
    /// Leave them alone (they are listed in the plan's notes).
    #[default]
    Keep,
    Lock,
    Remove,
}

/// Settings that shape a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanOptions {
    /// Login shell of new accounts.
    pub shell: String,
    /// Only used by [`plan_people`] for a whole roster.
    pub prune: Prune,
    /// Send new Cloudron users their invitation.
    pub invite: bool,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            shell: "/bin/bash".into(),
            prune: Prune::Keep,
            invite: true,
        }
    }
}

/// The changes to make, in order, and what is worth telling about what is left alone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub changes: Vec<Change>,
    pub notes: Vec<String>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// One human line per change.
    pub fn lines(&self) -> Vec<String> {
        self.changes.iter().map(ToString::to_string).collect()
    }

    /// The hosts with changes, in plan order.
    pub fn hosts(&self) -> Vec<&str> {
        let mut hosts: Vec<&str> = Vec::new();
        for c in &self.changes {
            if let Change::Compute { host, .. } = c
                && !hosts.contains(&host.as_str())
            {
                hosts.push(host);
            }
        }
        hosts
    }

    /// The changes for one host, in order (one step each in the host's script).
    pub fn compute_changes(&self, host: &str) -> Vec<ComputeChange> {
        self.changes
            .iter()
            .filter_map(|c| match c {
                Change::Compute { host: h, change } if h == host => Some(change.clone()),
                _ => None,
            })
            .collect()
    }

    /// The Cloudron changes, in order.
    pub fn cloudron_changes(&self) -> Vec<CloudronChange> {
        self.changes
            .iter()
            .filter_map(|c| match c {
                Change::Cloudron { change } => Some(change.clone()),
                Change::Compute { .. } => None,
            })
            .collect()
    }

    /// The most dangerous tier in the plan (`None` when empty).
    pub fn tier(&self) -> Option<Tier> {
        self.changes.iter().map(Change::tier).max()
    }
}

/// Why a plan cannot be made. Displayed as `target: message`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{target}: {message}")]
pub struct PlanProblem {
    /// A host name or `cloudron`.
    pub target: String,
    pub user: Option<String>,
    pub message: String,
}

/// What is wanted for one person; `None` fields are left alone.
#[derive(Debug, Clone)]
pub(crate) struct Want {
    pub username: String,
    pub email: Option<String>,
    pub full_name: Option<FullName>,
    pub groups: Option<BTreeSet<String>>,
    pub keys: Option<Vec<String>>,
    pub state: PersonState,
    /// May an account be created (false for lock/unlock/remove by name)?
    pub create: bool,
}

impl Want {
    fn from_person(p: &Person) -> Want {
        Want {
            username: p.username.to_string(),
            email: Some(p.email.to_string()),
            full_name: p.full_name.clone(),
            groups: Some(p.groups.iter().map(ToString::to_string).collect()),
            keys: (!p.keys.is_empty()).then(|| p.keys.iter().map(|k| k.line()).collect()),
            state: p.state,
            create: true,
        }
    }

    /// Keys for a new account.
    pub fn new_keys(&self) -> Vec<String> {
        self.keys.clone().unwrap_or_default()
    }

    pub fn new_groups(&self) -> Vec<String> {
        self.groups
            .as_ref()
            .map(|g| g.iter().cloned().collect())
            .unwrap_or_default()
    }
}

/// Shared state while planning.
pub(crate) struct Planning<'a> {
    pub facts: &'a Facts,
    pub opts: &'a PlanOptions,
    pub wants: Vec<Want>,
    /// Groups whose membership the plan manages.
    pub managed_groups: BTreeSet<String>,
    /// Prune accounts not in `wants`?
    pub whole_roster: bool,
    pub changes: Vec<Change>,
    pub notes: Vec<String>,
    pub problems: Vec<PlanProblem>,
    /// uids chosen for new accounts, so a person gets the same uid on every host.
    pub uids: BTreeMap<String, u32>,
    next_uid: u32,
}

impl<'a> Planning<'a> {
    fn new(facts: &'a Facts, opts: &'a PlanOptions, wants: Vec<Want>, whole_roster: bool) -> Self {
        let managed_groups = wants
            .iter()
            .filter_map(|w| w.groups.as_ref())
            .flatten()
            .cloned()
            .collect();
        // A new person gets one uid for every host: above every person's uid on any host
        // (never a freed uid, whose old files may remain) and within every host's range.
        let people = || {
            facts
                .compute
                .iter()
                .flat_map(|h| h.users.values().filter(|u| h.managed.contains(u.uid)))
        };
        let highest = people().map(|u| u.uid).max();
        let lowest = facts.compute.iter().map(|h| h.managed.min).max();
        let mut uids = BTreeMap::new();
        for u in people() {
            uids.entry(u.name.clone()).or_insert(u.uid);
        }
        Planning {
            facts,
            opts,
            wants,
            managed_groups,
            whole_roster,
            changes: Vec::new(),
            notes: Vec::new(),
            problems: Vec::new(),
            uids,
            next_uid: highest
                .map_or(0, |h| h + 1)
                .max(lowest.unwrap_or(UidRange::default().min)),
        }
    }

    /// The uid `user` has (or will have) across hosts.
    pub fn uid_for(&mut self, user: &str) -> u32 {
        if let Some(uid) = self.uids.get(user) {
            return *uid;
        }
        let uid = self.next_uid;
        self.next_uid += 1;
        self.uids.insert(user.to_string(), uid);
        uid
    }

    pub fn problem(&mut self, target: &str, user: Option<&str>, message: String) {
        self.problems.push(PlanProblem {
            target: target.to_string(),
            user: user.map(str::to_string),
            message,
        });
    }

    fn finish(self) -> Result<Plan, Vec<PlanProblem>> {
        if self.problems.is_empty() {
            Ok(Plan {
                changes: self.changes,
                notes: self.notes,
            })
        } else {
            Err(self.problems)
        }
    }
}

/// Plan for people (a roster, or one person for `user add`). With `whole_roster`, accounts
/// not among `people` are pruned as `opts.prune` says.
pub fn plan_people(
    people: &[Person],
    facts: &Facts,
    opts: &PlanOptions,
    whole_roster: bool,
) -> Result<Plan, Vec<PlanProblem>> {
    let mut wants: Vec<Want> = people.iter().map(Want::from_person).collect();
    wants.sort_by(|a, b| a.username.cmp(&b.username));
    let mut p = Planning::new(facts, opts, wants, whole_roster);
    let mut seen = BTreeSet::new();
    let dups: Vec<String> = p
        .wants
        .iter()
        .filter(|w| !seen.insert(w.username.clone()))
        .map(|w| w.username.clone())
        .collect();
    for d in dups {
        p.problem("plan", Some(&d), format!("'{d}' is listed twice"));
    }
    if whole_roster && people.is_empty() && opts.prune != Prune::Keep {
        p.problem(
            "plan",
            None,
            "the roster is empty: pruning would lock or remove everyone; refusing".into(),
        );
    }
    run(p)
}

/// Plan a state change for one existing person by name (`user lock`, `unlock`, `remove`):
/// nothing else about them is changed, and no account is created.
pub fn plan_state(
    username: &Username,
    state: PersonState,
    facts: &Facts,
    opts: &PlanOptions,
) -> Result<Plan, Vec<PlanProblem>> {
    let want = Want {
        username: username.to_string(),
        email: None,
        full_name: None,
        groups: None,
        keys: None,
        state,
        create: false,
    };
    run(Planning::new(facts, opts, vec![want], false))
}

fn run(mut p: Planning<'_>) -> Result<Plan, Vec<PlanProblem>> {
    let facts = p.facts;
    for host in &facts.compute {
        compute::plan_host(&mut p, host);
    }
    if let Some(cloudron) = facts.cloudron.as_ref() {
        cloudron::plan_cloudron(&mut p, cloudron);
    }
    p.finish()
}

//! Planning for Cloudron: groups to create, then each person's user (create and invite,
//! profile, groups, active flag, removal), then pruning. A user is found by username, or by
//! email when they have no username yet (which is then noted, never set: the API cannot).
//! Refuses (as problems) an email that belongs to another user, a new username Cloudron would
//! refuse (`_`), deactivating or removing an owner or admin, and changing a user that comes
//! from an external directory. Pure.

use std::collections::BTreeSet;

use super::{Planning, Prune, Want};
use crate::core::accounts::change::{Change, CloudronChange as C, FromTo};
use crate::core::accounts::facts::{CloudronFacts, CloudronUser};
use crate::core::person::PersonState;

const TARGET: &str = "cloudron";

pub(crate) fn plan_cloudron(p: &mut Planning<'_>, facts: &CloudronFacts) {
    let needed: BTreeSet<String> = p
        .wants
        .iter()
        .filter(|w| w.state != PersonState::Absent)
        .filter(|w| w.create || find(facts, w).is_some())
        .filter_map(|w| w.groups.as_ref())
        .flatten()
        .cloned()
        .collect();
    for g in needed {
        if facts.group_by_name(&g).is_none() {
            push(p, C::CreateGroup { group: g });
        }
    }
    let wants = p.wants.clone();
    for w in &wants {
        plan_person(p, facts, w);
    }
    if p.whole_roster {
        prune(p, facts);
    }
}

fn push(p: &mut Planning<'_>, change: C) {
    p.changes.push(Change::cloudron(change));
}

/// The user for `w`: by username, else by email.
fn find<'f>(facts: &'f CloudronFacts, w: &Want) -> Option<&'f CloudronUser> {
    facts
        .user_by_username(&w.username)
        .or_else(|| w.email.as_deref().and_then(|e| facts.user_by_email(e)))
}

fn plan_person(p: &mut Planning<'_>, facts: &CloudronFacts, w: &Want) {
    let name = w.username.as_str();
    let Some(user) = find(facts, w) else {
        if w.state == PersonState::Absent {
            return;
        }
        let Some(email) = w.email.clone().filter(|_| w.create) else {
            p.notes.push(format!(
                "{name} has no Cloudron user; nothing to change there"
            ));
            return;
        };
        if name.contains('_') {
            p.problem(
                TARGET,
                Some(name),
                format!(
                    "'{name}' cannot be a Cloudron username: Cloudron allows letters, digits, \
                     '.' and '-' only (no '_'); choose another username or leave Cloudron out \
                     (--on compute)"
                ),
            );
            return;
        }
        push(
            p,
            C::CreateUser {
                username: name.into(),
                email: email.clone(),
                display_name: w
                    .full_name
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                groups: w.new_groups(),
            },
        );
        if w.state == PersonState::Locked {
            push(
                p,
                C::SetActive {
                    id: None,
                    username: name.into(),
                    active: false,
                },
            );
        } else if p.opts.invite {
            push(
                p,
                C::Invite {
                    username: name.into(),
                    email,
                },
            );
        }
        return;
    };
    let set_username = match user.username.as_deref() {
        Some(n) if n == name => false,
        Some(n) if !n.is_empty() => {
            p.problem(
                TARGET,
                Some(name),
                format!(
                    "the email {} already belongs to the Cloudron user '{n}'",
                    user.email
                ),
            );
            return;
        }
        // Invited without a username: the API (>= 8) cannot set one; they pick it when they
        // accept the invitation. Their other fields are still managed.
        _ => {
            p.notes.push(format!(
                "{name}: the Cloudron user {} has no username yet; they choose it when they \
                 accept their invitation",
                user.email
            ));
            false
        }
    };
    if w.state == PersonState::Absent {
        if user.is_admin() {
            p.problem(
                TARGET,
                Some(name),
                format!(
                    "'{name}' is a Cloudron {}; matelot never removes one",
                    user.role
                ),
            );
        } else {
            push(
                p,
                C::RemoveUser {
                    id: Some(user.id.clone()),
                    username: name.into(),
                    email: user.email.clone(),
                },
            );
        }
        return;
    }
    let mut changes = Vec::new();
    let email = match &w.email {
        Some(e) if !e.eq_ignore_ascii_case(&user.email) => {
            if let Some(other) = facts.user_by_email(e) {
                p.problem(
                    TARGET,
                    Some(name),
                    format!(
                        "cannot change the email of '{name}' to {e}: it belongs to the Cloudron \
                         user '{}'",
                        other.username.as_deref().unwrap_or(&other.id)
                    ),
                );
                return;
            }
            Some(FromTo {
                from: user.email.clone(),
                to: e.clone(),
            })
        }
        _ => None,
    };
    let display_name = w
        .full_name
        .as_ref()
        .filter(|n| n.as_str() != user.display_name)
        .map(|n| FromTo {
            from: user.display_name.clone(),
            to: n.to_string(),
        });
    if set_username || email.is_some() || display_name.is_some() {
        changes.push(C::SetProfile {
            id: Some(user.id.clone()),
            username: name.into(),
            email,
            display_name,
            set_username,
        });
    }
    if let Some(desired) = &w.groups {
        let current = facts.group_names_of(user);
        let to: BTreeSet<String> = current
            .iter()
            .filter(|g| !p.managed_groups.contains(*g))
            .chain(desired)
            .cloned()
            .collect();
        if to != current {
            changes.push(C::SetUserGroups {
                id: Some(user.id.clone()),
                username: name.into(),
                from: current.into_iter().collect(),
                to: to.into_iter().collect(),
            });
        }
    }
    match w.state {
        PersonState::Active if !user.active => changes.push(C::SetActive {
            id: Some(user.id.clone()),
            username: name.into(),
            active: true,
        }),
        PersonState::Locked if user.active => {
            if user.is_admin() {
                p.problem(
                    TARGET,
                    Some(name),
                    format!(
                        "'{name}' is a Cloudron {}; matelot never deactivates one",
                        user.role
                    ),
                );
                return;
            }
            changes.push(C::SetActive {
                id: Some(user.id.clone()),
                username: name.into(),
                active: false,
            });
        }
        _ => {}
    }
    if !changes.is_empty() && !user.source.is_empty() {
        p.problem(
            TARGET,
            Some(name),
            format!(
                "'{name}' comes from an external directory ({}); change them there",
                user.source
            ),
        );
        return;
    }
    for c in changes {
        push(p, c);
    }
}

/// Plain local users that are not in the roster.
fn prune(p: &mut Planning<'_>, facts: &CloudronFacts) {
    let listed: Vec<&CloudronUser> = p.wants.iter().filter_map(|w| find(facts, w)).collect();
    let extra: Vec<&CloudronUser> = facts
        .users
        .iter()
        .filter(|u| !listed.iter().any(|l| l.id == u.id))
        .collect();
    let label = |u: &CloudronUser| u.username.clone().unwrap_or_else(|| u.email.clone());
    let kept: Vec<String> = extra
        .iter()
        .filter(|u| !u.is_plain_local())
        .map(|u| format!("{} ({})", label(u), u.role))
        .collect();
    if !kept.is_empty() {
        p.notes.push(format!(
            "not in the roster, never pruned on cloudron: {}",
            kept.join(", ")
        ));
    }
    let plain: Vec<&CloudronUser> = extra.into_iter().filter(|u| u.is_plain_local()).collect();
    if plain.is_empty() {
        return;
    }
    match p.opts.prune {
        Prune::Keep => {
            let names: Vec<String> = plain.iter().map(|u| label(u)).collect();
            p.notes.push(format!(
                "not in the roster, left alone on cloudron: {} (use --prune lock or --prune remove)",
                names.join(", ")
            ));
        }
        Prune::Lock => {
            for u in plain.iter().filter(|u| u.active) {
                push(
                    p,
                    C::SetActive {
                        id: Some(u.id.clone()),
                        username: label(u),
                        active: false,
                    },
                );
            }
        }
        Prune::Remove => {
            for u in plain {
                push(
                    p,
                    C::RemoveUser {
                        id: Some(u.id.clone()),
                        username: label(u),
                        email: u.email.clone(),
                    },
                );
            }
        }
    }
}

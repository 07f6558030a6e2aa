//! Whether a change is in effect on a system, judged from freshly gathered facts: how an
//! interrupted account operation is settled (every change in effect: done; none: not
//! applied; some: partial). Pure: facts in, an answer out.

use super::change::{Change, CloudronChange, ComputeChange};
use super::facts::{Facts, PasswordState};

/// `Some(true)`: the change's result is what the system shows now; `Some(false)`: it is
/// not; `None`: the facts cannot tell (the system was not gathered, or the change is not
/// observable, such as an invitation email).
pub fn in_effect(facts: &Facts, change: &Change) -> Option<bool> {
    match change {
        Change::Compute { host, change } => {
            let h = facts.compute.iter().find(|f| &f.host == host)?;
            let user = |name: &str| h.users.get(name);
            Some(match change {
                ComputeChange::CreateGroup { group } => h.groups.contains_key(group),
                ComputeChange::CreateUser { user: name, .. } => user(name).is_some(),
                ComputeChange::SetFullName { user: name, to, .. } => {
                    user(name).is_some_and(|u| u.full_name() == to)
                }
                ComputeChange::SetGroups { user: name, to, .. } => {
                    let mut want: Vec<&String> = to.iter().collect();
                    want.sort();
                    want.dedup();
                    let have = h.groups_of(name);
                    user(name).is_some() && have.iter().eq(want)
                }
                ComputeChange::SetAuthorizedKeys { user: name, to, .. } => {
                    user(name).is_some_and(|u| u.keys.as_ref().is_some_and(|k| k.lines() == to))
                }
                ComputeChange::Lock { user: name, .. } => user(name)
                    .is_some_and(|u| u.is_locked(h.today) && u.password == PasswordState::Locked),
                ComputeChange::Unlock { user: name, .. } => {
                    user(name).is_some_and(|u| !u.is_locked(h.today))
                }
                ComputeChange::RemoveUser { user: name, .. } => user(name).is_none(),
            })
        }
        Change::Cloudron { change } => {
            let c = facts.cloudron.as_ref()?;
            match change {
                CloudronChange::CreateGroup { group } => Some(c.group_by_name(group).is_some()),
                CloudronChange::CreateUser { username, .. } => {
                    Some(c.user_by_username(username).is_some())
                }
                CloudronChange::SetProfile {
                    username,
                    email,
                    display_name,
                    ..
                } => Some(c.user_by_username(username).is_some_and(|u| {
                    email
                        .as_ref()
                        .is_none_or(|e| u.email.eq_ignore_ascii_case(&e.to))
                        && display_name.as_ref().is_none_or(|d| u.display_name == d.to)
                })),
                CloudronChange::SetActive {
                    username, active, ..
                } => Some(
                    c.user_by_username(username)
                        .is_some_and(|u| u.active == *active),
                ),
                CloudronChange::SetUserGroups { username, to, .. } => {
                    Some(c.user_by_username(username).is_some_and(|u| {
                        let mut have: Vec<&str> = c
                            .groups
                            .iter()
                            .filter(|g| u.group_ids.contains(&g.id))
                            .map(|g| g.name.as_str())
                            .collect();
                        let mut want: Vec<&str> = to.iter().map(String::as_str).collect();
                        have.sort_unstable();
                        want.sort_unstable();
                        want.dedup();
                        have == want
                    }))
                }
                // An email leaves no trace in the facts.
                CloudronChange::Invite { .. } => None,
                CloudronChange::RemoveUser { username, .. } => {
                    Some(c.user_by_username(username).is_none())
                }
            }
        }
    }
}

/// How many of `changes` are in effect, are not, and cannot be told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EffectCount {
    pub in_effect: usize,
    pub not_in_effect: usize,
    pub cannot_tell: usize,
}

pub fn count(facts: &Facts, changes: &[Change]) -> EffectCount {
    let mut c = EffectCount::default();
    for ch in changes {
        match in_effect(facts, ch) {
            Some(true) => c.in_effect += 1,
            Some(false) => c.not_in_effect += 1,
            None => c.cannot_tell += 1,
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::accounts::facts::{ComputeFacts, HostGroup, HostUser};

    fn host_with_alice(locked: bool) -> Facts {
        let mut h = ComputeFacts::new("calcul", 20_000);
        h.users.insert(
            "alice".into(),
            HostUser {
                name: "alice".into(),
                uid: 1001,
                gid: 1001,
                gecos: "Alice Martin".into(),
                home: "/home/alice".into(),
                shell: "/bin/bash".into(),
                password: if locked {
                    PasswordState::Locked
                } else {
                    PasswordState::NoPassword
                },
                expiry: locked.then_some(1),
                keys: None,
            },
        );
        h.groups.insert(
            "physics".into(),
            HostGroup {
                name: "physics".into(),
                gid: 2000,
                members: ["alice".to_string()].into_iter().collect(),
            },
        );
        Facts {
            compute: vec![h],
            ..Facts::default()
        }
    }

    #[test]
    fn compute_changes_are_judged_from_the_facts() {
        let plain = host_with_alice(false);
        let locked = host_with_alice(true);
        let c = |change| Change::compute("calcul", change);
        let lock = c(ComputeChange::Lock {
            user: "alice".into(),
            previous_expiry: None,
        });
        let rows: Vec<(&Facts, Change, Option<bool>)> = vec![
            (
                &plain,
                c(ComputeChange::CreateUser {
                    user: "alice".into(),
                    uid: None,
                    gecos: "x".into(),
                    groups: vec![],
                    shell: "/bin/bash".into(),
                    keys: vec![],
                }),
                Some(true),
            ),
            (
                &plain,
                c(ComputeChange::CreateGroup {
                    group: "chemistry".into(),
                }),
                Some(false),
            ),
            (
                &plain,
                c(ComputeChange::SetGroups {
                    user: "alice".into(),
                    from: vec![],
                    to: vec!["physics".into()],
                }),
                Some(true),
            ),
            (&plain, lock.clone(), Some(false)),
            (&locked, lock, Some(true)),
            (
                &locked,
                c(ComputeChange::RemoveUser {
                    user: "alice".into(),
                    uid: 1001,
                    home: "/home/alice".into(),
                }),
                Some(false),
            ),
            (
                &plain,
                Change::compute(
                    "elsewhere",
                    ComputeChange::CreateGroup { group: "x".into() },
                ),
                None,
            ),
        ];
        for (facts, change, want) in rows {
            assert_eq!(in_effect(facts, &change), want, "{change}");
        }
        let counted = count(
            &plain,
            &[
                c(ComputeChange::CreateGroup {
                    group: "physics".into(),
                }),
                c(ComputeChange::CreateGroup {
                    group: "chemistry".into(),
                }),
            ],
        );
        assert_eq!(
            counted,
            EffectCount {
                in_effect: 1,
                not_in_effect: 1,
                cannot_tell: 0
            }
        );
    }
}

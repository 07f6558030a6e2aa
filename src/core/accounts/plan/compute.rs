//! Planning for one compute host: groups to create, then each person's account (create, name,
//! groups, keys, lock state, removal), then pruning. Refuses (as problems) anything that
//! touches a system account or group (uid/gid outside the managed range), a username whose
//! name is already taken by a group, and facts gathered without root. Pure.

use std::collections::BTreeSet;

use super::{Planning, Prune, Want};
use crate::core::accounts::change::{Change, ComputeChange as C};
use crate::core::accounts::facts::{
    AuthorizedKeys, ComputeFacts, HostUser, PasswordState, is_nologin_shell,
};
use crate::core::accounts::render::day;
use crate::core::person::PersonState;

pub(crate) fn plan_host(p: &mut Planning<'_>, host: &ComputeFacts) {
    let h = host.host.as_str();
    if !host.root {
        p.problem(
            h,
            None,
            "the facts were gathered without root, so locks and keys are unknown: connect as \
             root or set `sudo = true` for this host"
                .into(),
        );
        return;
    }
    plan_groups(p, host);
    let wants = p.wants.clone();
    for w in &wants {
        plan_person(p, host, w);
    }
    if p.whole_roster {
        prune(p, host);
    }
}

fn push(p: &mut Planning<'_>, host: &ComputeFacts, change: C) {
    p.changes.push(Change::compute(&host.host, change));
}

/// Create the groups people need; refuse system groups and personal groups.
fn plan_groups(p: &mut Planning<'_>, host: &ComputeFacts) {
    let h = host.host.as_str();
    let range = host.managed;
    let needed: BTreeSet<String> = p
        .wants
        .iter()
        .filter(|w| w.state != PersonState::Absent)
        .filter(|w| w.create || host.users.contains_key(&w.username))
        .filter_map(|w| w.groups.as_ref())
        .flatten()
        .cloned()
        .collect();
    for g in needed {
        match host.groups.get(&g) {
            None => push(p, host, C::CreateGroup { group: g }),
            Some(hg) if !range.contains(hg.gid) => p.problem(
                h,
                None,
                format!(
                    "group '{g}' is a system group here (gid {}); matelot only grants groups \
                     with gids {}..{}",
                    hg.gid,
                    range.min,
                    range.max - 1
                ),
            ),
            Some(hg) if host.users.get(&g).is_some_and(|u| u.gid == hg.gid) => p.problem(
                h,
                None,
                format!(
                    "group '{g}' is the personal group of the user '{g}'; choose another group name"
                ),
            ),
            Some(_) => {}
        }
    }
}

fn plan_person(p: &mut Planning<'_>, host: &ComputeFacts, w: &Want) {
    let h = host.host.as_str();
    let name = w.username.as_str();
    let Some(user) = host.users.get(name) else {
        if w.state == PersonState::Absent {
            return;
        }
        if !w.create {
            p.notes.push(format!(
                "{name} has no account on {h}; nothing to change there"
            ));
            return;
        }
        if let Some(g) = host.groups.get(name) {
            p.problem(
                h,
                Some(name),
                format!(
                    "a group named '{name}' already exists (gid {}), so the account's own group \
                     cannot be created; rename that group or choose another username",
                    g.gid
                ),
            );
            return;
        }
        create(p, host, w);
        return;
    };
    if !host.managed.contains(user.uid) {
        p.problem(
            h,
            Some(name),
            format!(
                "'{name}' is a system account here (uid {}), outside the people's uids {}..{}; \
                 matelot leaves it alone",
                user.uid,
                host.managed.min,
                host.managed.max - 1
            ),
        );
        return;
    }
    if w.state == PersonState::Absent {
        push(
            p,
            host,
            C::RemoveUser {
                user: name.into(),
                uid: user.uid,
                home: user.home.clone(),
            },
        );
        return;
    }
    update(p, host, w, user);
}

fn create(p: &mut Planning<'_>, host: &ComputeFacts, w: &Want) {
    let name = w.username.as_str();
    let u = p.uid_for(name);
    let uid = if host.user_by_uid(u).is_some() {
        p.notes.push(format!(
            "{name} cannot have uid {u} on {} (taken there); useradd picks one",
            host.host
        ));
        None
    } else if !host.managed.contains(u) {
        p.notes.push(format!(
            "{name} cannot have uid {u} on {} (outside its people's uids); useradd picks one",
            host.host
        ));
        None
    } else {
        Some(u)
    };
    push(
        p,
        host,
        C::CreateUser {
            user: name.into(),
            uid,
            gecos: w.full_name.as_ref().map(|n| n.gecos()).unwrap_or_default(),
            groups: w.new_groups(),
            shell: p.opts.shell.clone(),
            keys: w.new_keys(),
        },
    );
    if w.state == PersonState::Locked {
        push(
            p,
            host,
            C::Lock {
                user: name.into(),
                previous_expiry: None,
            },
        );
    }
}

fn update(p: &mut Planning<'_>, host: &ComputeFacts, w: &Want, user: &HostUser) {
    let h = host.host.as_str();
    let name = w.username.as_str();
    if let Some(full) = &w.full_name {
        let gecos = full.gecos();
        if user.full_name() != gecos {
            push(
                p,
                host,
                C::SetFullName {
                    user: name.into(),
                    from: user.gecos.clone(),
                    to: gecos,
                },
            );
        }
    }
    if let Some(desired) = &w.groups {
        let current = host.groups_of(name);
        let to: BTreeSet<String> = current
            .iter()
            .filter(|g| !p.managed_groups.contains(*g))
            .chain(desired)
            .cloned()
            .collect();
        if to != current {
            push(
                p,
                host,
                C::SetGroups {
                    user: name.into(),
                    from: current.into_iter().collect(),
                    to: to.into_iter().collect(),
                },
            );
        }
    }
    if let Some(keys) = &w.keys {
        match &user.keys {
            Some(found @ (AuthorizedKeys::Missing | AuthorizedKeys::Present(_))) => {
                if found.lines() != keys.as_slice() {
                    push(
                        p,
                        host,
                        C::SetAuthorizedKeys {
                            user: name.into(),
                            from: found.lines().to_vec(),
                            to: keys.clone(),
                        },
                    );
                }
            }
            _ => p.problem(
                h,
                Some(name),
                format!(
                    "the authorized_keys of '{name}' could not be read (check {}/.ssh)",
                    user.home
                ),
            ),
        }
    }
    plan_state(p, host, w.state, user);
}

fn plan_state(p: &mut Planning<'_>, host: &ComputeFacts, state: PersonState, user: &HostUser) {
    let h = host.host.as_str();
    let name = user.name.as_str();
    let expired = user.expiry.is_some_and(|e| e <= host.today);
    match state {
        PersonState::Active => {
            if expired {
                let record = p.facts.previous_expiry(h, name);
                let restore = record.flatten().filter(|e| *e > host.today);
                if let Some(Some(old)) = record
                    && restore.is_none()
                {
                    p.notes.push(format!(
                        "{name} on {h}: the expiry before the lock ({}) has passed; it is cleared",
                        day(Some(old))
                    ));
                }
                push(
                    p,
                    host,
                    C::Unlock {
                        user: name.into(),
                        restore_expiry: restore,
                        known_previous: record.is_some(),
                    },
                );
            }
            if is_nologin_shell(&user.shell) {
                p.notes.push(format!(
                    "{name} on {h} has the no-login shell {}; matelot does not change shells",
                    user.shell
                ));
            }
            if user.password == PasswordState::Empty {
                p.notes.push(format!(
                    "{name} on {h} has an EMPTY password field: anyone may log in as them \
                     without a password; lock the password with `passwd -l {name}`"
                ));
            }
        }
        PersonState::Locked => {
            if !user.is_locked(host.today) {
                push(
                    p,
                    host,
                    C::Lock {
                        user: name.into(),
                        previous_expiry: user.expiry,
                    },
                );
            }
        }
        PersonState::Absent => {}
    }
}

/// Managed accounts that are not in the roster.
fn prune(p: &mut Planning<'_>, host: &ComputeFacts) {
    let listed: BTreeSet<&str> = p.wants.iter().map(|w| w.username.as_str()).collect();
    let extra: Vec<&HostUser> = host
        .users
        .values()
        .filter(|u| host.managed.contains(u.uid) && !listed.contains(u.name.as_str()))
        .collect();
    if extra.is_empty() {
        return;
    }
    let mut changes = Vec::new();
    match p.opts.prune {
        Prune::Keep => {
            let names: Vec<&str> = extra.iter().map(|u| u.name.as_str()).collect();
            p.notes.push(format!(
                "not in the roster, left alone on {}: {} (use --prune lock or --prune remove)",
                host.host,
                names.join(", ")
            ));
        }
        Prune::Lock => {
            for u in extra.iter().filter(|u| !u.is_locked(host.today)) {
                changes.push(C::Lock {
                    user: u.name.clone(),
                    previous_expiry: u.expiry,
                });
            }
        }
        Prune::Remove => {
            for u in &extra {
                changes.push(C::RemoveUser {
                    user: u.name.clone(),
                    uid: u.uid,
                    home: u.home.clone(),
                });
            }
        }
    }
    for c in changes {
        push(p, host, c);
    }
}

//! Apply changes to facts in memory, as the real systems would: used by tests (re-planning
//! after applying a plan must give an empty plan) and by check mode, where a later step must
//! see the planned effects of earlier ones. Strict: a change whose precondition does not hold
//! (creating what exists, changing what does not) is an error, which exposes planner bugs.

use super::change::{Change, CloudronChange, ComputeChange};
use super::facts::{
    AuthorizedKeys, CloudronFacts, CloudronGroup, CloudronUser, ComputeFacts, Facts, HostGroup,
    HostUser, PasswordState, PreviousLock, UidRange,
};

/// A change that could not be simulated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot apply `{change}`: {reason}")]
pub struct SimError {
    pub change: String,
    pub reason: String,
}

/// Apply every change in order.
pub fn apply_all(facts: &mut Facts, changes: &[Change]) -> Result<(), SimError> {
    changes.iter().try_for_each(|c| apply(facts, c))
}

/// Apply one change.
pub fn apply(facts: &mut Facts, change: &Change) -> Result<(), SimError> {
    let fail = |reason: &str| SimError {
        change: change.to_string(),
        reason: reason.to_string(),
    };
    match change {
        Change::Compute { host, change } => {
            let previous_locks = &mut facts.previous_locks;
            let h = facts
                .compute
                .iter_mut()
                .find(|f| &f.host == host)
                .ok_or_else(|| fail("no facts for this host"))?;
            compute(h, change).map_err(|r| fail(&r))?;
            // The journal records what a lock replaced; unlock reads it back.
            if let ComputeChange::Lock {
                user,
                previous_expiry,
            } = change
            {
                previous_locks.push(PreviousLock {
                    host: host.clone(),
                    user: user.clone(),
                    expiry: *previous_expiry,
                });
            }
            Ok(())
        }
        Change::Cloudron { change } => {
            let c = facts
                .cloudron
                .as_mut()
                .ok_or_else(|| fail("no Cloudron facts"))?;
            cloudron(c, change).map_err(|r| fail(&r))
        }
    }
}

fn next_id(used: impl Iterator<Item = u32>, range: UidRange) -> u32 {
    used.filter(|id| range.contains(*id))
        .max()
        .map_or(range.min, |m| m + 1)
}

fn user_mut<'a>(h: &'a mut ComputeFacts, user: &str) -> Result<&'a mut HostUser, String> {
    h.users
        .get_mut(user)
        .ok_or_else(|| format!("no account '{user}'"))
}

fn set_groups(h: &mut ComputeFacts, user: &str, groups: &[String]) -> Result<(), String> {
    if let Some(missing) = groups.iter().find(|g| !h.groups.contains_key(*g)) {
        return Err(format!("no group '{missing}'"));
    }
    for g in h.groups.values_mut() {
        if groups.contains(&g.name) {
            g.members.insert(user.to_string());
        } else {
            g.members.remove(user);
        }
    }
    Ok(())
}

fn compute(h: &mut ComputeFacts, change: &ComputeChange) -> Result<(), String> {
    use ComputeChange as C;
    let range = h.managed;
    match change {
        C::CreateGroup { group } => {
            if h.groups.contains_key(group) {
                return Err("the group exists".into());
            }
            let gid = next_id(h.groups.values().map(|g| g.gid), range);
            h.groups.insert(
                group.clone(),
                HostGroup {
                    name: group.clone(),
                    gid,
                    members: Default::default(),
                },
            );
        }
        C::CreateUser {
            user,
            uid,
            gecos,
            groups,
            shell,
            keys,
        } => {
            if h.users.contains_key(user) || h.groups.contains_key(user) {
                return Err("the account or its group exists".into());
            }
            let uid = uid.unwrap_or_else(|| next_id(h.users.values().map(|u| u.uid), range));
            if h.user_by_uid(uid).is_some() {
                return Err(format!("uid {uid} is taken"));
            }
            let gid = if h.group_by_gid(uid).is_none() {
                uid
            } else {
                next_id(h.groups.values().map(|g| g.gid), range)
            };
            h.groups.insert(
                user.clone(),
                HostGroup {
                    name: user.clone(),
                    gid,
                    members: Default::default(),
                },
            );
            h.users.insert(
                user.clone(),
                HostUser {
                    name: user.clone(),
                    uid,
                    gid,
                    gecos: gecos.clone(),
                    home: format!("/home/{user}"),
                    shell: shell.clone(),
                    password: PasswordState::NoPassword,
                    expiry: None,
                    keys: Some(if keys.is_empty() {
                        AuthorizedKeys::Missing
                    } else {
                        AuthorizedKeys::Present(keys.clone())
                    }),
                },
            );
            set_groups(h, user, groups)?;
        }
        C::SetFullName { user, to, .. } => user_mut(h, user)?.gecos = to.clone(),
        C::SetGroups { user, to, .. } => {
            user_mut(h, user)?;
            set_groups(h, user, to)?;
        }
        C::SetAuthorizedKeys { user, to, .. } => {
            user_mut(h, user)?.keys = Some(AuthorizedKeys::Present(to.clone()));
        }
        C::Lock { user, .. } => {
            let u = user_mut(h, user)?;
            if u.password == PasswordState::Usable {
                u.password = PasswordState::Locked;
            }
            u.expiry = Some(1);
        }
        C::Unlock {
            user,
            restore_expiry,
            ..
        } => {
            let u = user_mut(h, user)?;
            if u.password == PasswordState::Locked {
                u.password = PasswordState::Usable;
            }
            u.expiry = *restore_expiry;
        }
        C::RemoveUser { user, .. } => {
            let u = h
                .users
                .remove(user)
                .ok_or_else(|| format!("no account '{user}'"))?;
            if h.groups.get(user).is_some_and(|g| g.gid == u.gid) {
                h.groups.remove(user);
            }
            for g in h.groups.values_mut() {
                g.members.remove(user);
            }
        }
    }
    Ok(())
}

fn find_user<'a>(
    c: &'a mut CloudronFacts,
    id: &Option<String>,
    username: &str,
) -> Result<&'a mut CloudronUser, String> {
    c.users
        .iter_mut()
        .find(|u| match id {
            Some(id) => &u.id == id,
            None => u.username.as_deref() == Some(username),
        })
        .ok_or_else(|| format!("no Cloudron user '{username}'"))
}

fn group_ids(c: &CloudronFacts, names: &[String]) -> Result<Vec<String>, String> {
    names
        .iter()
        .map(|n| {
            c.group_by_name(n)
                .map(|g| g.id.clone())
                .ok_or_else(|| format!("no Cloudron group '{n}'"))
        })
        .collect()
}

fn set_user_groups(c: &mut CloudronFacts, user_id: &str, ids: Vec<String>) {
    for g in &mut c.groups {
        g.user_ids.retain(|u| u != user_id);
        if ids.contains(&g.id) {
            g.user_ids.push(user_id.to_string());
        }
    }
    if let Some(u) = c.users.iter_mut().find(|u| u.id == user_id) {
        u.group_ids = ids;
    }
}

fn cloudron(c: &mut CloudronFacts, change: &CloudronChange) -> Result<(), String> {
    use CloudronChange as C;
    match change {
        C::CreateGroup { group } => {
            if c.group_by_name(group).is_some() {
                return Err("the group exists".into());
            }
            let id = format!("gid-sim-{}", c.groups.len() + 1);
            c.groups.push(CloudronGroup {
                id,
                name: group.clone(),
                user_ids: Vec::new(),
                source: String::new(),
            });
        }
        C::CreateUser {
            username,
            email,
            display_name,
            groups,
        } => {
            if c.user_by_username(username).is_some() || c.user_by_email(email).is_some() {
                return Err("the username or email is taken".into());
            }
            let ids = group_ids(c, groups)?;
            let id = format!("uid-sim-{}", c.users.len() + 1);
            c.users.push(CloudronUser {
                id: id.clone(),
                username: Some(username.clone()),
                email: email.clone(),
                display_name: display_name.clone(),
                active: true,
                group_ids: Vec::new(),
                role: "user".into(),
                source: String::new(),
            });
            set_user_groups(c, &id, ids);
        }
        C::SetProfile {
            id,
            username,
            email,
            display_name,
            set_username,
        } => {
            let u = find_user(c, id, username)?;
            if *set_username {
                u.username = Some(username.clone());
            }
            if let Some(e) = email {
                u.email = e.to.clone();
            }
            if let Some(d) = display_name {
                u.display_name = d.to.clone();
            }
        }
        C::SetActive {
            id,
            username,
            active,
        } => find_user(c, id, username)?.active = *active,
        C::SetUserGroups {
            id, username, to, ..
        } => {
            let ids = group_ids(c, to)?;
            let user_id = find_user(c, id, username)?.id.clone();
            set_user_groups(c, &user_id, ids);
        }
        C::Invite { username, .. } => {
            find_user(c, &None, username)?;
        }
        C::RemoveUser { id, username, .. } => {
            let user_id = find_user(c, id, username)?.id.clone();
            set_user_groups(c, &user_id, Vec::new());
            c.users.retain(|u| u.id != user_id);
        }
    }
    Ok(())
}

//! Cloudron changes of a plan, applied concurrently with a bound: first the groups to create
//! (all at once), then each person's changes as a chain in plan order (create, groups,
//! active flag, invitation), chains side by side. Within a chain a failure stops the rest of
//! that person's changes (they depend on it); other people go on. Every call is sent once
//! (the client never retries a write); group and user ids created here are resolved by name
//! for the changes that follow.

use std::collections::HashMap;
use std::sync::Mutex;

use futures::StreamExt;

use super::{CLOUDRON_CONCURRENCY, Outcome};
use crate::cloudron::models::NewUser;
use crate::cloudron::{Client, ProfileUpdate};
use crate::core::accounts::{Change, CloudronChange, CloudronFacts};

/// Ids known so far: from the facts, plus what this run created.
struct Ids {
    groups: Mutex<HashMap<String, String>>,
    users: Mutex<HashMap<String, String>>,
}

impl Ids {
    fn group(&self, name: &str) -> Option<String> {
        lock(&self.groups).get(name).cloned()
    }

    fn user(&self, id: &Option<String>, username: &str) -> Result<String, String> {
        if let Some(id) = id {
            return Ok(id.clone());
        }
        lock(&self.users).get(username).cloned().ok_or_else(|| {
            format!("cloudron: the user {username} was not created, so it cannot be changed")
        })
    }

    fn group_ids(&self, names: &[String]) -> Result<Vec<String>, String> {
        names
            .iter()
            .map(|n| {
                self.group(n).ok_or_else(|| {
                    format!("cloudron: the group {n} does not exist (its creation failed?)")
                })
            })
            .collect()
    }
}

/// A poisoned map is still a map: a panic elsewhere cannot leave it half-written.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Apply `changes` (the plan's Cloudron changes, in order) and return one outcome per change,
/// in the same order. `tick` is called after each change.
///
/// Boxed (and `Send`) here, where its types are concrete: checking that the stream
/// combinators inside are `Send` from a generic caller trips a known limit of the compiler's
/// higher-ranked lifetime inference.
pub fn apply_cloudron<'a>(
    client: &'a Client,
    changes: &'a [CloudronChange],
    facts: &'a CloudronFacts,
    tick: &'a (dyn Fn() + Sync),
) -> futures::future::BoxFuture<'a, Vec<Outcome>> {
    Box::pin(apply_cloudron_inner(client, changes, facts, tick))
}

async fn apply_cloudron_inner(
    client: &Client,
    changes: &[CloudronChange],
    facts: &CloudronFacts,
    tick: &(dyn Fn() + Sync),
) -> Vec<Outcome> {
    let ids = Ids {
        groups: Mutex::new(
            facts
                .groups
                .iter()
                .map(|g| (g.name.clone(), g.id.clone()))
                .collect(),
        ),
        users: Mutex::new(
            facts
                .users
                .iter()
                .filter_map(|u| u.username.clone().map(|n| (n, u.id.clone())))
                .collect(),
        ),
    };
    let mut outcomes: Vec<Option<Outcome>> = vec![None; changes.len()];
    // 1. Groups, all at once.
    // The futures are built in loops rather than by closures over the items: a closure
    // borrowing an item makes the future's `Send` check fail (rust-lang/rust#102211).
    let ids = &ids;
    let mut group_work = Vec::new();
    for (i, c) in changes.iter().enumerate() {
        if matches!(c, CloudronChange::CreateGroup { .. }) {
            group_work.push(async move {
                let o = run_one(client, c, ids).await;
                tick();
                (i, o)
            });
        }
    }
    let groups: Vec<(usize, Outcome)> = futures::stream::iter(group_work)
        .buffer_unordered(CLOUDRON_CONCURRENCY)
        .collect()
        .await;
    for (i, o) in groups {
        outcomes[i] = Some(o);
    }
    // 2. People: one chain per person, in plan order.
    let mut chains: Vec<(&str, Vec<usize>)> = Vec::new();
    for (i, c) in changes.iter().enumerate() {
        if matches!(c, CloudronChange::CreateGroup { .. }) {
            continue;
        }
        match chains.iter_mut().find(|(s, _)| *s == c.subject()) {
            Some((_, v)) => v.push(i),
            None => chains.push((c.subject(), vec![i])),
        }
    }
    let mut people_work = Vec::new();
    for (_, chain) in chains {
        people_work.push(async move {
            let mut done = Vec::new();
            let mut failed: Option<String> = None;
            for i in chain {
                let o = match &failed {
                    Some(what) => Outcome::NotRun {
                        reason: format!("cloudron: {what} failed first"),
                    },
                    None => run_one(client, &changes[i], ids).await,
                };
                if !o.is_done() && failed.is_none() {
                    failed = Some(format!("`{}`", Change::cloudron(changes[i].clone())));
                }
                tick();
                done.push((i, o));
            }
            done
        });
    }
    let people: Vec<Vec<(usize, Outcome)>> = futures::stream::iter(people_work)
        .buffer_unordered(CLOUDRON_CONCURRENCY)
        .collect()
        .await;
    for (i, o) in people.into_iter().flatten() {
        outcomes[i] = Some(o);
    }
    outcomes
        .into_iter()
        .map(|o| {
            o.unwrap_or(Outcome::NotRun {
                reason: "cloudron: not reached".into(),
            })
        })
        .collect()
}

/// One change: its calls, in order.
async fn run_one(client: &Client, change: &CloudronChange, ids: &Ids) -> Outcome {
    match try_one(client, change, ids).await {
        Ok(()) => Outcome::Changed,
        Err(message) => Outcome::Failed { message },
    }
}

async fn try_one(client: &Client, change: &CloudronChange, ids: &Ids) -> Result<(), String> {
    use CloudronChange as C;
    let err = |e: crate::cloudron::CloudronError| format!("cloudron: {e}");
    match change {
        C::CreateGroup { group } => {
            let id = client.create_group(group).await.map_err(err)?;
            lock(&ids.groups).insert(group.clone(), id);
        }
        C::CreateUser {
            username,
            email,
            display_name,
            groups,
        } => {
            let new = NewUser {
                email: email.clone(),
                username: Some(username.clone()),
                display_name: (!display_name.is_empty()).then(|| display_name.clone()),
                ..NewUser::default()
            };
            let id = client.create_user(&new).await.map_err(err)?;
            lock(&ids.users).insert(username.clone(), id.clone());
            if !groups.is_empty() {
                let group_ids = ids
                    .group_ids(groups)
                    .map_err(|e| format!("created the user ({id}), but {e}"))?;
                client.set_user_groups(&id, &group_ids).await.map_err(|e| {
                    format!(
                        "created the user ({id}), but setting its groups failed: {}",
                        err(e)
                    )
                })?;
            }
        }
        C::SetProfile {
            id,
            username,
            email,
            display_name,
            set_username,
        } => {
            if *set_username {
                return Err(format!(
                    "cloudron: the API cannot set the username of {username}; they choose it \
                     when they accept their invitation"
                ));
            }
            let id = ids.user(id, username)?;
            let update = ProfileUpdate {
                email: email.as_ref().map(|e| e.to.clone()),
                display_name: display_name.as_ref().map(|d| d.to.clone()),
                ..ProfileUpdate::default()
            };
            client.set_profile(&id, &update).await.map_err(err)?;
        }
        C::SetActive {
            id,
            username,
            active,
        } => {
            let id = ids.user(id, username)?;
            client.set_active(&id, *active).await.map_err(err)?;
        }
        C::SetUserGroups {
            id, username, to, ..
        } => {
            let id = ids.user(id, username)?;
            let group_ids = ids.group_ids(to)?;
            client.set_user_groups(&id, &group_ids).await.map_err(err)?;
        }
        C::Invite { username, email } => {
            let id = ids.user(&None, username)?;
            client.send_invite(&id, email).await.map_err(err)?;
        }
        C::RemoveUser { id, username, .. } => {
            let id = ids.user(id, username)?;
            client.delete_user(&id).await.map_err(err)?;
        }
    }
    Ok(())
}

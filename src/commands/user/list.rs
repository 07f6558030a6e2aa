//! `matelot user list`: one row per person per system, from the same facts the planner reads.
//! Compute hosts show accounts whose uid is a person's (from the host's `min_uid`), never
//! system accounts; Cloudron shows every user with their role. Values observed on a system are
//! untrusted: control characters are escaped before they reach a terminal. Pure rows here.

use serde::Serialize;

use crate::Ctx;
use crate::cli::user::ListArgs;
use crate::core::accounts::{AuthorizedKeys, Facts};
use crate::error::{Error, Result};
use crate::exec::accounts::Targets;

/// `matelot user list [--on SYSTEMS]`: reads only (no lock, no journal).
pub async fn list(ctx: &Ctx, a: ListArgs) -> Result<()> {
    let cfg = ctx.config()?;
    let targets = Targets::select(cfg, &a.on.on).map_err(Error::Usage)?;
    let (_estate, facts) =
        super::apply::connect_and_gather(ctx, ctx.world()?, &targets, None).await?;
    let accounts = accounts(&facts);
    if ctx.out.json {
        ctx.out.json(&serde_json::json!({ "accounts": accounts }))?;
        return Ok(());
    }
    if accounts.is_empty() {
        ctx.out.info(format!(
            "no accounts of people on {}",
            targets.names().join(", ")
        ));
    }
    ctx.out.table(&HEADERS, &rows(&accounts))?;
    Ok(())
}

/// One account on one system (the `--json` shape).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    /// `None` for a Cloudron user invited without a username.
    pub username: Option<String>,
    pub name: String,
    /// Cloudron only (a compute host has no email for an account).
    pub email: Option<String>,
    pub groups: Vec<String>,
    /// Number of `authorized_keys` lines; `None` on Cloudron or when unreadable.
    pub keys: Option<usize>,
    /// `active` or `locked`.
    pub state: &'static str,
    /// Compute only.
    pub uid: Option<u32>,
    /// Cloudron only: `owner`, `admin`, `user`...
    pub role: Option<String>,
    /// Cloudron only: the user id.
    pub id: Option<String>,
    /// A host name or `cloudron`.
    pub on: String,
}

/// Every account in the facts, by username then system (hosts first, in order).
pub fn accounts(facts: &Facts) -> Vec<Account> {
    let mut out = Vec::new();
    for h in &facts.compute {
        for u in h.users.values().filter(|u| h.managed.contains(u.uid)) {
            out.push(Account {
                username: Some(u.name.clone()),
                name: u.full_name().to_string(),
                email: None,
                groups: h.groups_of(&u.name).into_iter().collect(),
                keys: match &u.keys {
                    Some(k @ (AuthorizedKeys::Present(_) | AuthorizedKeys::Missing)) => {
                        Some(k.lines().len())
                    }
                    _ => None,
                },
                state: if u.is_locked(h.today) {
                    "locked"
                } else {
                    "active"
                },
                uid: Some(u.uid),
                role: None,
                id: None,
                on: h.host.clone(),
            });
        }
    }
    if let Some(c) = &facts.cloudron {
        for u in &c.users {
            out.push(Account {
                username: u.username.clone(),
                name: u.display_name.clone(),
                email: Some(u.email.clone()),
                groups: c.group_names_of(u).into_iter().collect(),
                keys: None,
                state: if u.active { "active" } else { "locked" },
                uid: None,
                role: Some(u.role.clone()),
                id: Some(u.id.clone()),
                on: "cloudron".into(),
            });
        }
    }
    let order = |on: &str| {
        facts
            .compute
            .iter()
            .position(|h| h.host == on)
            .unwrap_or(facts.compute.len())
    };
    out.sort_by(|a, b| {
        let key = |x: &Account| x.username.clone().or(x.email.clone()).unwrap_or_default();
        key(a).cmp(&key(b)).then(order(&a.on).cmp(&order(&b.on)))
    });
    out
}

pub const HEADERS: [&str; 8] = [
    "USER", "NAME", "EMAIL", "GROUPS", "KEYS", "STATE", "UID", "ON",
];

/// Untrusted text for a table cell: control characters escaped, `-` when empty.
fn cell(s: &str) -> String {
    if s.is_empty() {
        return "-".into();
    }
    s.chars()
        .map(|c| {
            if c.is_control() || crate::core::person::unicode::is_forbidden_anywhere(c) {
                format!("\\u{{{:04X}}}", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect()
}

pub fn rows(accounts: &[Account]) -> Vec<Vec<String>> {
    accounts
        .iter()
        .map(|a| {
            vec![
                a.username
                    .as_deref()
                    .map_or_else(|| "(invited)".to_string(), cell),
                cell(&a.name),
                cell(a.email.as_deref().unwrap_or_default()),
                cell(&a.groups.join(",")),
                a.keys.map_or_else(|| "-".to_string(), |k| k.to_string()),
                a.state.to_string(),
                a.uid.map_or_else(|| "-".to_string(), |u| u.to_string()),
                a.on.clone(),
            ]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::accounts::{
        CloudronFacts, CloudronGroup, CloudronUser, ComputeFacts, HostGroup, HostUser,
        PasswordState,
    };

    fn user(name: &str, uid: u32, gecos: &str, expiry: Option<i64>) -> HostUser {
        HostUser {
            name: name.into(),
            uid,
            gid: uid,
            gecos: gecos.into(),
            home: format!("/home/{name}"),
            shell: "/bin/bash".into(),
            password: PasswordState::NoPassword,
            expiry,
            keys: Some(AuthorizedKeys::Present(vec!["ssh-ed25519 AAAA x".into()])),
        }
    }

    #[test]
    fn one_row_per_person_per_system_people_only() {
        let mut h = ComputeFacts::new("calcul", 20_000);
        h.users.insert("root".into(), user("root", 0, "root", None));
        h.users
            .insert("bob".into(), user("bob", 1001, "Bob \x1b[2JB,,,", Some(1)));
        h.users
            .insert("alice".into(), user("alice", 1000, "Alice", None));
        h.groups.insert(
            "physics".into(),
            HostGroup {
                name: "physics".into(),
                gid: 1005,
                members: ["alice".to_string()].into(),
            },
        );
        let cl = CloudronFacts {
            users: vec![
                CloudronUser {
                    id: "uid-a".into(),
                    username: Some("alice".into()),
                    email: "alice@example.org".into(),
                    display_name: "Alice".into(),
                    active: false,
                    group_ids: vec!["gid-p".into()],
                    role: "user".into(),
                    source: String::new(),
                },
                CloudronUser {
                    id: "uid-i".into(),
                    username: None,
                    email: "ines@example.org".into(),
                    display_name: String::new(),
                    active: true,
                    group_ids: vec![],
                    role: "user".into(),
                    source: String::new(),
                },
            ],
            groups: vec![CloudronGroup {
                id: "gid-p".into(),
                name: "physics".into(),
                user_ids: vec!["uid-a".into()],
                source: String::new(),
            }],
        };
        let facts = Facts {
            compute: vec![h],
            cloudron: Some(cl),
            previous_locks: vec![],
        };
        let a = accounts(&facts);
        let got: Vec<Vec<String>> = rows(&a);
        let want: Vec<Vec<&str>> = vec![
            vec![
                "alice", "Alice", "-", "physics", "1", "active", "1000", "calcul",
            ],
            vec![
                "alice",
                "Alice",
                "alice@example.org",
                "physics",
                "-",
                "locked",
                "-",
                "cloudron",
            ],
            vec![
                "bob",
                "Bob \\u{001B}[2JB",
                "-",
                "-",
                "1",
                "locked",
                "1001",
                "calcul",
            ],
            vec![
                "(invited)",
                "-",
                "ines@example.org",
                "-",
                "-",
                "active",
                "-",
                "cloudron",
            ],
        ];
        assert_eq!(got, want);
        assert_eq!(a[1].role.as_deref(), Some("user"));
    }
}

//! Changes to people's accounts: what a plan is made of. Each change is data (serialised for
//! `--json` and the journal, with the previous values needed to undo it) and renders to one
//! human line (`+ user alice on calcul (groups: physics, teaching; 2 keys)`). Rendering escapes
//! control characters, since values observed on a host (a GECOS field) are untrusted.
//! Applying changes is not done here: see the compute scripts and the executor.

use std::collections::BTreeSet;
use std::fmt;

use serde::Serialize;

/// One change on one system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "on", rename_all = "snake_case")]
pub enum Change {
    Compute {
        host: String,
        #[serde(flatten)]
        change: ComputeChange,
    },
    Cloudron {
        #[serde(flatten)]
        change: CloudronChange,
    },
}

/// A change to accounts on a compute host. One change is one step of the host's script.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ComputeChange {
    CreateGroup {
        group: String,
    },
    /// `useradd -m -U` with the shell, GECOS and groups; home made 0700; keys written.
    CreateUser {
        user: String,
        /// A uid chosen so the person has the same uid on every host; `None` lets useradd pick.
        uid: Option<u32>,
        gecos: String,
        groups: Vec<String>,
        shell: String,
        keys: Vec<String>,
    },
    SetFullName {
        user: String,
        from: String,
        to: String,
    },
    /// Set the supplementary groups to exactly `to`.
    SetGroups {
        user: String,
        from: Vec<String>,
        to: Vec<String>,
    },
    /// Replace `authorized_keys` with exactly `to`.
    SetAuthorizedKeys {
        user: String,
        from: Vec<String>,
        to: Vec<String>,
    },
    /// Lock the password and expire the account (`usermod -L -e 1`): SSH keys are refused too.
    Lock {
        user: String,
        /// The expiry before locking (days since 1970-01-01; `None` = never), for unlock.
        previous_expiry: Option<i64>,
    },
    /// Unlock the password and restore the expiry (`usermod -U -e ...`).
    Unlock {
        user: String,
        restore_expiry: Option<i64>,
        /// False when no record of the previous expiry was found (then "never" is restored).
        known_previous: bool,
    },
    /// Remove the account and its home (guarded: the home is archived first).
    RemoveUser {
        user: String,
        uid: u32,
        home: String,
    },
}

/// A change to users and groups on Cloudron. Existing users carry their `id`; `id: None` means
/// the user is created earlier in the same plan (the executor resolves it by username). Groups
/// are named; the executor resolves their ids, including groups created by the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum CloudronChange {
    CreateGroup {
        group: String,
    },
    /// Create the user, then set their groups.
    CreateUser {
        username: String,
        email: String,
        display_name: String,
        groups: Vec<String>,
    },
    /// Change profile fields; `None` leaves a field alone.
    SetProfile {
        id: Option<String>,
        username: String,
        email: Option<FromTo>,
        display_name: Option<FromTo>,
        /// Set the username of a user who has none (allowed only when empty).
        set_username: bool,
    },
    SetActive {
        id: Option<String>,
        username: String,
        active: bool,
    },
    SetUserGroups {
        id: Option<String>,
        username: String,
        from: Vec<String>,
        to: Vec<String>,
    },
    /// Send the invitation email (new users set their own password).
    Invite {
        username: String,
        email: String,
    },
    RemoveUser {
        id: Option<String>,
        username: String,
        email: String,
    },
}

/// A field's old and new values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FromTo {
    pub from: String,
    pub to: String,
}

/// How dangerous a change is, which decides the guard (DESIGN.md "Danger tiers").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    Mild,
    Moderate,
    Severe,
}

impl Change {
    pub fn compute(host: &str, change: ComputeChange) -> Change {
        Change::Compute {
            host: host.to_string(),
            change,
        }
    }

    pub fn cloudron(change: CloudronChange) -> Change {
        Change::Cloudron { change }
    }

    /// The person (or group) the change is about.
    pub fn subject(&self) -> &str {
        match self {
            Change::Compute { change, .. } => change.subject(),
            Change::Cloudron { change } => change.subject(),
        }
    }

    /// Where the change happens: the host name, or `cloudron`.
    pub fn target(&self) -> &str {
        match self {
            Change::Compute { host, .. } => host,
            Change::Cloudron { .. } => "cloudron",
        }
    }

    pub fn tier(&self) -> Tier {
        use ComputeChange as C;
        match self {
            Change::Compute { change, .. } => match change {
                C::RemoveUser { .. } => Tier::Severe,
                C::Lock { .. } => Tier::Moderate,
                C::SetGroups { from, to, .. } | C::SetAuthorizedKeys { from, to, .. }
                    if from.iter().any(|f| !to.contains(f)) =>
                {
                    Tier::Moderate
                }
                _ => Tier::Mild,
            },
            Change::Cloudron { change } => match change {
                CloudronChange::RemoveUser { .. } => Tier::Severe,
                CloudronChange::SetActive { active: false, .. } => Tier::Moderate,
                CloudronChange::SetUserGroups { from, to, .. }
                    if from.iter().any(|f| !to.contains(f)) =>
                {
                    Tier::Moderate
                }
                _ => Tier::Mild,
            },
        }
    }
}

impl ComputeChange {
    pub fn subject(&self) -> &str {
        use ComputeChange as C;
        match self {
            C::CreateGroup { group } => group,
            C::CreateUser { user, .. }
            | C::SetFullName { user, .. }
            | C::SetGroups { user, .. }
            | C::SetAuthorizedKeys { user, .. }
            | C::Lock { user, .. }
            | C::Unlock { user, .. }
            | C::RemoveUser { user, .. } => user,
        }
    }
}

impl CloudronChange {
    pub fn subject(&self) -> &str {
        use CloudronChange as C;
        match self {
            C::CreateGroup { group } => group,
            C::CreateUser { username, .. }
            | C::SetProfile { username, .. }
            | C::SetActive { username, .. }
            | C::SetUserGroups { username, .. }
            | C::Invite { username, .. }
            | C::RemoveUser { username, .. } => username,
        }
    }
}

/// Untrusted text for a terminal: control characters escaped, quoted.
fn q(s: &str) -> String {
    let mut out = String::from("'");
    for c in s.chars() {
        if c.is_control() || crate::core::person::unicode::is_forbidden_anywhere(c) {
            out.push_str(&format!("\\u{{{:04X}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// `a, b` or `none`.
fn list(items: &[String]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}

fn count(n: usize, one: &str, many: &str) -> String {
    match n {
        0 => format!("no {many}"),
        1 => format!("1 {one}"),
        _ => format!("{n} {many}"),
    }
}

/// `+a -b` between two lists.
fn diff(from: &[String], to: &[String]) -> String {
    let from_set: BTreeSet<&String> = from.iter().collect();
    let to_set: BTreeSet<&String> = to.iter().collect();
    let mut parts: Vec<String> = to_set
        .difference(&from_set)
        .map(|s| format!("+{s}"))
        .collect();
    parts.extend(from_set.difference(&to_set).map(|s| format!("-{s}")));
    parts.join(" ")
}

/// A day number as a date (`2026-09-30`), or `never`.
pub fn day(days: Option<i64>) -> String {
    match days {
        None => "never".into(),
        Some(d) => chrono::DateTime::from_timestamp(d.saturating_mul(86_400), 0)
            .map_or_else(|| format!("day {d}"), |t| t.format("%Y-%m-%d").to_string()),
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ComputeChange as C;
        match self {
            Change::Compute { host, change } => match change {
                C::CreateGroup { group } => write!(f, "+ group {group} on {host}"),
                C::CreateUser {
                    user,
                    uid,
                    groups,
                    keys,
                    ..
                } => {
                    let uid = uid.map(|u| format!("uid {u}; ")).unwrap_or_default();
                    write!(
                        f,
                        "+ user {user} on {host} ({uid}groups: {}; {})",
                        list(groups),
                        count(keys.len(), "key", "keys")
                    )
                }
                C::SetFullName { user, from, to } => {
                    write!(f, "~ name of {user} on {host}: {} -> {}", q(from), q(to))
                }
                C::SetGroups { user, from, to } => {
                    write!(f, "~ groups of {user} on {host}: {}", diff(from, to))
                }
                C::SetAuthorizedKeys { user, from, to } => {
                    let added = to.iter().filter(|k| !from.contains(k)).count();
                    let removed = from.iter().filter(|k| !to.contains(k)).count();
                    write!(
                        f,
                        "~ keys of {user} on {host}: +{added} -{removed} (now {})",
                        count(to.len(), "key", "keys")
                    )
                }
                C::Lock {
                    user,
                    previous_expiry,
                } => write!(
                    f,
                    "! lock {user} on {host} (password locked, account expired; expiry was {})",
                    day(*previous_expiry)
                ),
                C::Unlock {
                    user,
                    restore_expiry,
                    known_previous,
                } => write!(
                    f,
                    "~ unlock {user} on {host} (expiry restored to {}{})",
                    day(*restore_expiry),
                    if *known_previous {
                        ""
                    } else {
                        ", no record of an earlier one"
                    }
                ),
                C::RemoveUser { user, uid, home } => write!(
                    f,
                    "- user {user} on {host} (uid {uid}; home {} archived first)",
                    q(home)
                ),
            },
            Change::Cloudron { change } => match change {
                CloudronChange::CreateGroup { group } => write!(f, "+ group {group} on cloudron"),
                CloudronChange::CreateUser {
                    username,
                    email,
                    display_name,
                    groups,
                } => write!(
                    f,
                    "+ user {username} on cloudron ({email}, {}; groups: {})",
                    q(display_name),
                    list(groups)
                ),
                CloudronChange::SetProfile {
                    username,
                    email,
                    display_name,
                    set_username,
                    ..
                } => {
                    let mut parts = Vec::new();
                    if *set_username {
                        parts.push(format!("username -> {username}"));
                    }
                    if let Some(e) = email {
                        parts.push(format!("email {} -> {}", q(&e.from), q(&e.to)));
                    }
                    if let Some(d) = display_name {
                        parts.push(format!("display name {} -> {}", q(&d.from), q(&d.to)));
                    }
                    write!(
                        f,
                        "~ profile of {username} on cloudron: {}",
                        parts.join(", ")
                    )
                }
                CloudronChange::SetActive {
                    username, active, ..
                } => {
                    if *active {
                        write!(f, "~ activate {username} on cloudron")
                    } else {
                        write!(f, "! deactivate {username} on cloudron")
                    }
                }
                CloudronChange::SetUserGroups {
                    username, from, to, ..
                } => {
                    write!(f, "~ groups of {username} on cloudron: {}", diff(from, to))
                }
                CloudronChange::Invite { username, email } => {
                    write!(f, "+ invite {username} on cloudron (mail to {email})")
                }
                CloudronChange::RemoveUser {
                    username, email, ..
                } => {
                    write!(f, "- user {username} on cloudron ({email})")
                }
            },
        }
    }
}

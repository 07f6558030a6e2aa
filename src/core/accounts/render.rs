//! Human lines for changes: one line per change, a sigil first (`+` create, `~` change, `!`
//! lock or deactivate, `-` remove), e.g. `+ user alice on calcul (groups: physics; 2 keys)`.
//! Values observed on a host or on Cloudron (a GECOS field, a display name) are untrusted:
//! they are quoted and their control characters escaped, so a plan cannot rewrite the terminal.

use std::collections::BTreeSet;
use std::fmt;

use super::change::{Change, CloudronChange, ComputeChange};

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

//! A person as matelot manages them on both systems: username, email, full name, groups, SSH
//! keys and a state (`active`, `locked`, `absent`). Every field is a checked type, so a
//! `Person` value is always valid: a roster line, a `user add` command and a playbook step all
//! go through the same parsers and produce the same messages. No I/O, no host facts here (a
//! name that is a system account *on a given host* is the planner's business).

use std::collections::BTreeSet;
use std::fmt;

use serde::{Serialize, Serializer};

mod names;
mod ssh_key;
pub mod unicode;

pub use names::{
    CLOUDRON_RESERVED, GroupName, MAX_NAME_LEN, NameError, NameKind, SYSTEM_NAMES, Username,
};
pub use ssh_key::{ACCEPTED_ALGORITHMS, KeyError, MIN_RSA_BITS, SshKey, looks_like_key};

#[cfg(test)]
pub(crate) use ssh_key::tests as test_keys;

/// Everything matelot keeps about one person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Person {
    pub username: Username,
    pub email: Email,
    /// Shown as the GECOS field on compute hosts and the display name on Cloudron.
    pub full_name: Option<FullName>,
    /// Supplementary groups, in name order.
    pub groups: BTreeSet<GroupName>,
    /// Public keys in the order given, without duplicates.
    pub keys: Vec<SshKey>,
    pub state: PersonState,
}

impl Person {
    /// A new active person with no name, groups or keys.
    pub fn new(username: Username, email: Email) -> Self {
        Person {
            username,
            email,
            full_name: None,
            groups: BTreeSet::new(),
            keys: Vec::new(),
            state: PersonState::Active,
        }
    }

    /// Add a key unless the same key (whatever its comment) is already there.
    pub fn add_key(&mut self, key: SshKey) {
        if !self.keys.iter().any(|k| k.same_key(&key)) {
            self.keys.push(key);
        }
    }

    /// The display name: the full name, or the username when there is none.
    pub fn display_name(&self) -> &str {
        self.full_name
            .as_ref()
            .map_or(self.username.as_str(), FullName::as_str)
    }
}

/// Whether a person should be able to log in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum PersonState {
    /// Exists and can log in.
    #[default]
    Active,
    /// Exists, data kept, cannot log in (password locked and SSH refused; Cloudron inactive).
    Locked,
    /// Must not exist: removed (a guarded, severe change).
    Absent,
}

/// Why a state word was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("state '{0}' is not one of active, locked, absent")]
pub struct StateError(pub String);

impl PersonState {
    /// Parse a state word, tolerant of common synonyms and case; empty means active.
    pub fn parse(raw: &str) -> Result<PersonState, StateError> {
        match raw.trim().to_lowercase().as_str() {
            "" | "active" | "enabled" | "enable" | "yes" | "true" | "1" | "on" | "present"
            | "actif" => Ok(PersonState::Active),
            "locked" | "lock" | "disabled" | "disable" | "inactive" | "suspended" | "no"
            | "false" | "0" | "off" | "verrouillé" | "verrouille" | "bloqué" | "bloque" => {
                Ok(PersonState::Locked)
            }
            "absent" | "removed" | "remove" | "deleted" | "delete" | "gone" | "supprimé"
            | "supprime" => Ok(PersonState::Absent),
            _ => Err(StateError(raw.trim().to_string())),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PersonState::Active => "active",
            PersonState::Locked => "locked",
            PersonState::Absent => "absent",
        }
    }
}

impl fmt::Display for PersonState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A checked, lower-case email address (plain ASCII; internationalised domains must be given
/// in their `xn--` form, which keeps look-alike domains visible).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Email(String);

/// Why an email address was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("email {}: {problem}", names::shown(.email))]
pub struct EmailError {
    pub email: String,
    pub problem: String,
}

/// Longest address accepted (RFC 5321 path limit).
pub const MAX_EMAIL_LEN: usize = 254;

impl Email {
    pub fn parse(raw: &str) -> Result<Email, EmailError> {
        let email = raw.trim().to_lowercase();
        let fail = |problem: String| EmailError {
            email: email.clone(),
            problem,
        };
        if email.is_empty() {
            return Err(fail("is empty".into()));
        }
        if let Some(c) = email
            .chars()
            .find(|c| !c.is_ascii() || c.is_ascii_control())
        {
            return Err(fail(format!(
                "contains {}; addresses must be plain ASCII (write an international domain in its xn-- form)",
                unicode::describe(c)
            )));
        }
        if email.len() > MAX_EMAIL_LEN {
            return Err(fail(format!(
                "is {} characters long; the limit is {MAX_EMAIL_LEN}",
                email.len()
            )));
        }
        let Some((local, domain)) = email.split_once('@') else {
            return Err(fail("has no '@'".into()));
        };
        if domain.contains('@') {
            return Err(fail("has more than one '@'".into()));
        }
        check_local(local).map_err(fail)?;
        check_domain(domain).map_err(fail)?;
        Ok(Email(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn check_local(local: &str) -> Result<(), String> {
    if local.is_empty() {
        return Err("has nothing before '@'".into());
    }
    if local.len() > 64 {
        return Err("has more than 64 characters before '@'".into());
    }
    if let Some(c) = local
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(*c)))
    {
        return Err(format!("contains {} before '@'", unicode::describe(c)));
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err("has a misplaced '.' before '@'".into());
    }
    Ok(())
}

fn check_domain(domain: &str) -> Result<(), String> {
    let labels: Vec<&str> = domain.split('.').collect();
    if domain.is_empty() || labels.len() < 2 {
        return Err("needs a domain with a dot after '@' (like example.org)".into());
    }
    for label in &labels {
        if label.is_empty() || label.len() > 63 {
            return Err("has an empty or over-long part in its domain".into());
        }
        if let Some(c) = label
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
        {
            return Err(format!("contains {} in its domain", unicode::describe(c)));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err("has a domain part that starts or ends with '-'".into());
        }
    }
    let tld = labels.last().copied().unwrap_or_default();
    if !(tld.starts_with("xn--") || tld.chars().all(|c| c.is_ascii_alphabetic())) {
        return Err(format!("has an invalid top-level domain '{tld}'"));
    }
    Ok(())
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Email {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// A person's full name: any script (names are not identifiers), but no control, invisible or
/// bidirectional characters, and no `:` (it would break `/etc/passwd`). Inner runs of spaces
/// are collapsed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FullName(String);

/// Why a full name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("name {}: {problem}", names::shown(.name))]
pub struct FullNameError {
    pub name: String,
    pub problem: String,
}

/// Longest full name accepted, in characters.
pub const MAX_FULL_NAME_LEN: usize = 128;

impl FullName {
    /// Parse a full name; `Ok(None)` when it is blank.
    pub fn parse(raw: &str) -> Result<Option<FullName>, FullNameError> {
        let name = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        let fail = |problem: String| FullNameError {
            name: raw.trim().to_string(),
            problem,
        };
        if let Some(c) = raw
            .trim()
            .chars()
            .find(|c| unicode::is_forbidden_anywhere(*c))
        {
            return Err(fail(format!("contains {}", unicode::describe(c))));
        }
        if name.contains(':') {
            return Err(fail("contains ':', which /etc/passwd cannot hold".into()));
        }
        let len = name.chars().count();
        if len > MAX_FULL_NAME_LEN {
            return Err(fail(format!(
                "is {len} characters long; the limit is {MAX_FULL_NAME_LEN}"
            )));
        }
        Ok((!name.is_empty()).then_some(FullName(name)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The GECOS field for `/etc/passwd`: commas separate GECOS sub-fields, so they become
    /// spaces (`Martin, Alice` -> `Martin Alice`).
    pub fn gecos(&self) -> String {
        self.0
            .replace(',', " ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl fmt::Display for FullName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for FullName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests;

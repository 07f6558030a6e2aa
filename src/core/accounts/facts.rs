//! Observed state, gathered before planning: on each compute host the accounts, groups,
//! password and expiry state (never a hash), login shells and the `authorized_keys` of managed
//! accounts; on Cloudron the users and groups. Plain data, filled by the facts script parser
//! (`compute::scripts`) and by a conversion from the Cloudron client types; the planner only
//! reads it, and the simulator updates it as a change would. No I/O here.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

/// The uids matelot manages as people: `min <= uid < max` (Debian: 1000..60000; `nobody` is
/// 65534, outside). Accounts outside are system accounts: never created, changed or pruned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct UidRange {
    pub min: u32,
    pub max: u32,
}

impl Default for UidRange {
    fn default() -> Self {
        UidRange {
            min: 1000,
            max: 60000,
        }
    }
}

impl UidRange {
    pub fn contains(&self, id: u32) -> bool {
        (self.min..self.max).contains(&id)
    }
}

/// Everything known about people and groups on the systems a plan targets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Facts {
    /// One entry per compute host the plan targets.
    pub compute: Vec<ComputeFacts>,
    /// `None` when the plan does not target Cloudron.
    pub cloudron: Option<CloudronFacts>,
    /// Expiry dates recorded when matelot locked an account (from the journal), so unlocking
    /// restores exactly what was there.
    pub previous_locks: Vec<PreviousLock>,
}

impl Facts {
    /// The recorded expiry before matelot locked `user` on `host`: `Some(None)` means "there
    /// was no expiry", `None` means "no record".
    pub fn previous_expiry(&self, host: &str, user: &str) -> Option<Option<i64>> {
        self.previous_locks
            .iter()
            .rev()
            .find(|p| p.host == host && p.user == user)
            .map(|p| p.expiry)
    }
}

/// What an account's expiry was before matelot locked it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreviousLock {
    pub host: String,
    pub user: String,
    /// Days since 1970-01-01, `None` for "never expires".
    pub expiry: Option<i64>,
}

/// One compute host.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ComputeFacts {
    /// The host's name in the configuration.
    pub host: String,
    /// Days since 1970-01-01 on the host when the facts were gathered.
    pub today: i64,
    /// True when the facts were gathered as root (so shadow and keys are known).
    pub root: bool,
    /// The uids of people on this host (from the host's `min_uid`): accounts outside are
    /// system accounts, never created, changed or pruned.
    pub managed: UidRange,
    pub users: BTreeMap<String, HostUser>,
    pub groups: BTreeMap<String, HostGroup>,
    /// Lines of the facts output that could not be understood (kept for `--verbose`).
    pub skipped: Vec<String>,
}

/// An account in `/etc/passwd` (or NSS), with its shadow state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostUser {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    /// The whole GECOS field (`Full Name,room,phone,...`).
    pub gecos: String,
    pub home: String,
    pub shell: String,
    pub password: PasswordState,
    /// Account expiry, days since 1970-01-01; `None` for "never".
    pub expiry: Option<i64>,
    /// `authorized_keys`, gathered for managed accounts only.
    pub keys: Option<AuthorizedKeys>,
}

/// What the shadow password field allows, without ever carrying the hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PasswordState {
    /// A password hash: password login possible.
    Usable,
    /// A hash behind `!` (usermod -L): password login refused, unlock restores it.
    Locked,
    /// No password at all (`!`, `*`, `!*`...): key-only account.
    NoPassword,
    /// An empty field: login WITHOUT a password may be possible.
    Empty,
    /// Shadow not readable.
    Unknown,
}

/// The `authorized_keys` file of an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "lines", rename_all = "snake_case")]
pub enum AuthorizedKeys {
    /// No file.
    Missing,
    /// The file's non-blank, non-comment lines, trimmed.
    Present(Vec<String>),
    /// The file exists but could not be read as the account's owner.
    Unreadable,
}

impl AuthorizedKeys {
    /// The key lines (none when missing or unreadable).
    pub fn lines(&self) -> &[String] {
        match self {
            AuthorizedKeys::Present(lines) => lines,
            _ => &[],
        }
    }
}

impl HostUser {
    /// The full name: the first GECOS sub-field.
    pub fn full_name(&self) -> &str {
        self.gecos.split(',').next().unwrap_or_default()
    }

    /// True when the account is expired on `today` or has a no-login shell: it cannot log in.
    pub fn is_locked(&self, today: i64) -> bool {
        self.expiry.is_some_and(|e| e <= today) || is_nologin_shell(&self.shell)
    }
}

/// Shells that refuse logins.
pub fn is_nologin_shell(shell: &str) -> bool {
    shell.ends_with("/nologin") || shell.ends_with("/false")
}

/// A group in `/etc/group`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostGroup {
    pub name: String,
    pub gid: u32,
    /// Supplementary members (the fourth field of `/etc/group`).
    pub members: BTreeSet<String>,
}

impl ComputeFacts {
    /// An empty host (for tests and the simulator).
    pub fn new(host: &str, today: i64) -> Self {
        ComputeFacts {
            host: host.to_string(),
            today,
            root: true,
            ..ComputeFacts::default()
        }
    }

    /// The supplementary groups of `user`, in name order (the primary group is not listed
    /// unless the user is also named in it).
    pub fn groups_of(&self, user: &str) -> BTreeSet<String> {
        self.groups
            .values()
            .filter(|g| g.members.contains(user))
            .map(|g| g.name.clone())
            .collect()
    }

    /// The group whose gid is `gid`, if any.
    pub fn group_by_gid(&self, gid: u32) -> Option<&HostGroup> {
        self.groups.values().find(|g| g.gid == gid)
    }

    /// The account whose uid is `uid`, if any.
    pub fn user_by_uid(&self, uid: u32) -> Option<&HostUser> {
        self.users.values().find(|u| u.uid == uid)
    }
}

/// The Cloudron's users and groups.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CloudronFacts {
    pub users: Vec<CloudronUser>,
    pub groups: Vec<CloudronGroup>,
}

/// A Cloudron user, as much as accounts need (the API's User object, trimmed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CloudronUser {
    /// `uid-...`
    pub id: String,
    /// Empty for an invited user who has not chosen one yet.
    pub username: Option<String>,
    pub email: String,
    pub display_name: String,
    pub active: bool,
    pub group_ids: Vec<String>,
    /// `owner`, `admin`, `usermanager`, `mailmanager` or `user`.
    pub role: String,
    /// `""` for local users, `"ldap"` for users from an external directory.
    pub source: String,
}

impl CloudronUser {
    /// Owners and admins are never deactivated or removed by a plan.
    pub fn is_admin(&self) -> bool {
        matches!(self.role.as_str(), "owner" | "admin")
    }

    /// Only plain local users are pruned.
    pub fn is_plain_local(&self) -> bool {
        self.role == "user" && self.source.is_empty()
    }
}

/// A Cloudron group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CloudronGroup {
    /// `gid-...`
    pub id: String,
    pub name: String,
    pub user_ids: Vec<String>,
    pub source: String,
}

impl CloudronFacts {
    pub fn user_by_username(&self, username: &str) -> Option<&CloudronUser> {
        self.users
            .iter()
            .find(|u| u.username.as_deref() == Some(username))
    }

    pub fn user_by_email(&self, email: &str) -> Option<&CloudronUser> {
        self.users
            .iter()
            .find(|u| u.email.eq_ignore_ascii_case(email))
    }

    pub fn group_by_name(&self, name: &str) -> Option<&CloudronGroup> {
        self.groups.iter().find(|g| g.name == name)
    }

    /// Names of the groups of `user`, in name order.
    pub fn group_names_of(&self, user: &CloudronUser) -> BTreeSet<String> {
        self.groups
            .iter()
            .filter(|g| user.group_ids.contains(&g.id))
            .map(|g| g.name.clone())
            .collect()
    }
}

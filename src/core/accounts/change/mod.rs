//! Changes to people's accounts: what a plan is made of. Each change is data, serialised for
//! `--json` and the journal (and read back for `undo`), carrying the previous values needed to
//! undo it; [`Change::inverse`] gives the change that undoes it when that is a plain change.
//! Human lines are in `render`. Applying changes is not done here: see the compute scripts and
//! the executor.

use serde::{Deserialize, Serialize};

/// One change on one system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FromTo {
    pub from: String,
    pub to: String,
}

/// How dangerous a change is, which decides the guard (DESIGN.md "Danger tiers").
pub use crate::core::guard::Tier;

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
                // Password resets go to the email: changing it hands over the account.
                CloudronChange::SetProfile { email: Some(_), .. } => Tier::Moderate,
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

impl Change {
    /// The change that undoes this one, when undoing is itself a plain change. `None` for
    /// creations and removals (undoing a removal restores from the restore point; undoing a
    /// creation is a guarded removal) and for invitations (an email cannot be unsent).
    pub fn inverse(&self) -> Option<Change> {
        use CloudronChange as K;
        use ComputeChange as C;
        let swap = |from: &Vec<String>, to: &Vec<String>| (to.clone(), from.clone());
        match self {
            Change::Compute { host, change } => {
                let inverse = match change {
                    C::SetFullName { user, from, to } => C::SetFullName {
                        user: user.clone(),
                        from: to.clone(),
                        to: from.clone(),
                    },
                    C::SetGroups { user, from, to } => {
                        let (from, to) = swap(from, to);
                        C::SetGroups {
                            user: user.clone(),
                            from,
                            to,
                        }
                    }
                    C::SetAuthorizedKeys { user, from, to } => {
                        let (from, to) = swap(from, to);
                        C::SetAuthorizedKeys {
                            user: user.clone(),
                            from,
                            to,
                        }
                    }
                    C::Lock {
                        user,
                        previous_expiry,
                    } => C::Unlock {
                        user: user.clone(),
                        restore_expiry: *previous_expiry,
                        known_previous: true,
                    },
                    C::Unlock { user, .. } => C::Lock {
                        user: user.clone(),
                        previous_expiry: None,
                    },
                    C::CreateGroup { .. } | C::CreateUser { .. } | C::RemoveUser { .. } => {
                        return None;
                    }
                };
                Some(Change::compute(host, inverse))
            }
            Change::Cloudron { change } => {
                let inverse = match change {
                    K::SetProfile {
                        id,
                        username,
                        email,
                        display_name,
                        set_username: false,
                    } => K::SetProfile {
                        id: id.clone(),
                        username: username.clone(),
                        email: email.as_ref().map(FromTo::reversed),
                        display_name: display_name.as_ref().map(FromTo::reversed),
                        set_username: false,
                    },
                    K::SetActive {
                        id,
                        username,
                        active,
                    } => K::SetActive {
                        id: id.clone(),
                        username: username.clone(),
                        active: !active,
                    },
                    K::SetUserGroups {
                        id,
                        username,
                        from,
                        to,
                    } => {
                        let (from, to) = swap(from, to);
                        K::SetUserGroups {
                            id: id.clone(),
                            username: username.clone(),
                            from,
                            to,
                        }
                    }
                    _ => return None,
                };
                Some(Change::cloudron(inverse))
            }
        }
    }
}

impl FromTo {
    pub fn reversed(&self) -> FromTo {
        FromTo {
            from: self.to.clone(),
            to: self.from.clone(),
        }
    }
}

#[cfg(test)]
mod tests;

//! What an operation is: its kind ([`OpKind`]) and its typed plan ([`OpPlan`]), one variant
//! per kind with the data a later run needs to judge it after an interruption and to undo it.
//!
//! This is the journal's vocabulary, and the reason it is typed: `settle` and `undo` are
//! `match`es over [`OpPlan`] with no catch-all arm, so a new kind does not compile until
//! someone decides how it is judged and how (or whether) it is undone. Plans hold no secret by
//! construction, so they are stored exactly as they are (never rewritten by a redactor).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::id::OpId;
use crate::cloudron::models::AccessRestriction;
use crate::core::accounts::Change;

/// Every kind of operation the journal records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum OpKind {
    #[serde(rename = "app.start")]
    AppStart,
    #[serde(rename = "app.stop")]
    AppStop,
    #[serde(rename = "app.restart")]
    AppRestart,
    #[serde(rename = "app.backup")]
    AppBackup,
    #[serde(rename = "app.uninstall")]
    AppUninstall,
    #[serde(rename = "app.restore")]
    AppRestore,
    #[serde(rename = "app.protect")]
    AppProtect,
    #[serde(rename = "app.unprotect")]
    AppUnprotect,
    #[serde(rename = "user.add")]
    UserAdd,
    #[serde(rename = "user.lock")]
    UserLock,
    #[serde(rename = "user.unlock")]
    UserUnlock,
    #[serde(rename = "user.sync")]
    UserSync,
    #[serde(rename = "user.remove")]
    UserRemove,
    #[serde(rename = "backup.run")]
    BackupRun,
    #[serde(rename = "backup.init")]
    BackupInit,
    #[serde(rename = "backup.prune")]
    BackupPrune,
    #[serde(rename = "host.trust")]
    HostTrust,
    #[serde(rename = "undo")]
    Undo,
}

impl OpKind {
    pub const ALL: [OpKind; 18] = [
        OpKind::AppStart,
        OpKind::AppStop,
        OpKind::AppRestart,
        OpKind::AppBackup,
        OpKind::AppUninstall,
        OpKind::AppRestore,
        OpKind::AppProtect,
        OpKind::AppUnprotect,
        OpKind::UserAdd,
        OpKind::UserLock,
        OpKind::UserUnlock,
        OpKind::UserSync,
        OpKind::UserRemove,
        OpKind::BackupRun,
        OpKind::BackupInit,
        OpKind::BackupPrune,
        OpKind::HostTrust,
        OpKind::Undo,
    ];

    /// The dotted name stored and printed (`app.uninstall`).
    pub fn as_str(self) -> &'static str {
        match self {
            OpKind::AppStart => "app.start",
            OpKind::AppStop => "app.stop",
            OpKind::AppRestart => "app.restart",
            OpKind::AppBackup => "app.backup",
            OpKind::AppUninstall => "app.uninstall",
            OpKind::AppRestore => "app.restore",
            OpKind::AppProtect => "app.protect",
            OpKind::AppUnprotect => "app.unprotect",
            OpKind::UserAdd => "user.add",
            OpKind::UserLock => "user.lock",
            OpKind::UserUnlock => "user.unlock",
            OpKind::UserSync => "user.sync",
            OpKind::UserRemove => "user.remove",
            OpKind::BackupRun => "backup.run",
            OpKind::BackupInit => "backup.init",
            OpKind::BackupPrune => "backup.prune",
            OpKind::HostTrust => "host.trust",
            OpKind::Undo => "undo",
        }
    }

    /// Whether `filter` (`app`, `app.uninstall`, `user`) selects this kind.
    pub fn matches(self, filter: &str) -> bool {
        let name = self.as_str();
        let filter = filter.trim();
        name == filter
            || name
                .strip_prefix(filter)
                .is_some_and(|r| r.starts_with('.'))
    }
}

impl fmt::Display for OpKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OpKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OpKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim())
            .ok_or_else(|| format!("unknown kind of operation {s:?}"))
    }
}

/// An app as an operation names it: its id (stable) and its FQDN (what people read).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppRef {
    pub app_id: String,
    pub fqdn: String,
}

/// `app backup`: one app's backup, optionally labelled and preserved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppBackupPlan {
    pub app_id: String,
    pub fqdn: String,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub keep_days: Option<u32>,
}

/// `app uninstall`: everything needed to put the app back where it was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppUninstallPlan {
    pub app_id: String,
    pub fqdn: String,
    pub subdomain: String,
    pub domain: String,
    /// The store id pinned to the version that ran (`org.matomo.cloudronapp@1.58.2`).
    pub app_store_id: String,
    pub manifest_id: String,
    pub version: String,
    #[serde(default)]
    pub label: Option<String>,
    /// `None`: every user of the Cloudron.
    #[serde(default)]
    pub access_restriction: Option<AccessRestriction>,
}

/// `app restore`: which backup overwrites the app's data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppRestorePlan {
    pub app_id: String,
    pub fqdn: String,
    pub backup_id: String,
}

/// `user add|lock|unlock|sync`: the changes on ONE system (a host name or `cloudron`); a
/// command that changes several systems writes one operation per system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountsPlan {
    /// A compute host's name, or `cloudron`.
    pub system: String,
    /// What the command was about: `user:alice`, `roster:people.csv`.
    pub subject: String,
    pub changes: Vec<Change>,
}

/// `user remove` on one side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "side", rename_all = "snake_case")]
pub enum UserRemovePlan {
    Compute { host: String, username: String },
    Cloudron { username: String, user_id: String },
}

impl UserRemovePlan {
    pub fn username(&self) -> &str {
        match self {
            UserRemovePlan::Compute { username, .. }
            | UserRemovePlan::Cloudron { username, .. } => username,
        }
    }

    /// The host name, or `cloudron`.
    pub fn system(&self) -> &str {
        match self {
            UserRemovePlan::Compute { host, .. } => host,
            UserRemovePlan::Cloudron { .. } => "cloudron",
        }
    }
}

/// `backup run`: the targets of one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupRunPlan {
    pub cloudron: bool,
    /// Compute hosts backed up with restic.
    #[serde(default)]
    pub hosts: Vec<String>,
}

/// `backup init`: create the restic repository where it is missing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupInitPlan {
    pub hosts: Vec<String>,
}

/// `backup prune`: forget snapshots beyond `keep`, then prune.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct KeepPolicy {
    #[serde(default)]
    pub daily: Option<u32>,
    #[serde(default)]
    pub weekly: Option<u32>,
    #[serde(default)]
    pub monthly: Option<u32>,
    #[serde(default)]
    pub yearly: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupPrunePlan {
    pub hosts: Vec<String>,
    pub keep: KeepPolicy,
}

/// `host trust`: a host key added to matelot's known_hosts file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostTrustPlan {
    /// The host's name in the configuration.
    pub host: String,
    /// The address the known_hosts line names (`calcul.example.org`, `[10.0.0.5]:2222`).
    #[serde(default)]
    pub address: String,
    /// `SHA256:...`
    pub fingerprint: String,
    /// The known_hosts file written.
    pub known_hosts: String,
}

/// `undo OP`: which operation, and what is done to take it back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UndoPlan {
    pub undoes: OpId,
    pub of_kind: OpKind,
    pub action: UndoAction,
}

/// What an undo does, one variant per way back. Each is judged after an interruption by
/// `exec::settle` like any other operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum UndoAction {
    /// Install the uninstalled app again at the same place, from its restore point.
    ReinstallApp {
        app: AppUninstallPlan,
        backup_id: String,
    },
    /// Restore the app from the restore point taken before the operation.
    RestoreApp(AppRestorePlan),
    /// Re-create a removed compute account from its restore point.
    RecreateAccount { host: String, username: String },
    /// Re-create a removed Cloudron user from its restore point.
    RecreateCloudronUser { username: String },
    /// Start or stop the app again.
    SetRunState { app: AppRef, running: bool },
    /// Protect or unprotect the app again.
    SetProtection { app: AppRef, protected: bool },
}

/// A plan stored by an older matelot in a shape this one cannot read. Kept verbatim; settle
/// marks such a row unknown (check by hand) and undo refuses it, saying so.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnreadablePlan {
    pub kind: OpKind,
    pub planned: Value,
    pub why: String,
}

/// The typed plan of an operation, tagged by its kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "plan")]
pub enum OpPlan {
    #[serde(rename = "app.start")]
    AppStart(AppRef),
    #[serde(rename = "app.stop")]
    AppStop(AppRef),
    #[serde(rename = "app.restart")]
    AppRestart(AppRef),
    #[serde(rename = "app.backup")]
    AppBackup(AppBackupPlan),
    #[serde(rename = "app.uninstall")]
    AppUninstall(AppUninstallPlan),
    #[serde(rename = "app.restore")]
    AppRestore(AppRestorePlan),
    #[serde(rename = "app.protect")]
    AppProtect(AppRef),
    #[serde(rename = "app.unprotect")]
    AppUnprotect(AppRef),
    #[serde(rename = "user.add")]
    UserAdd(AccountsPlan),
    #[serde(rename = "user.lock")]
    UserLock(AccountsPlan),
    #[serde(rename = "user.unlock")]
    UserUnlock(AccountsPlan),
    #[serde(rename = "user.sync")]
    UserSync(AccountsPlan),
    #[serde(rename = "user.remove")]
    UserRemove(UserRemovePlan),
    #[serde(rename = "backup.run")]
    BackupRun(BackupRunPlan),
    #[serde(rename = "backup.init")]
    BackupInit(BackupInitPlan),
    #[serde(rename = "backup.prune")]
    BackupPrune(BackupPrunePlan),
    #[serde(rename = "host.trust")]
    HostTrust(HostTrustPlan),
    #[serde(rename = "undo")]
    Undo(UndoPlan),
    /// Not a kind: a stored plan that could not be read (see [`UnreadablePlan`]).
    #[serde(rename = "unreadable")]
    Unreadable(UnreadablePlan),
}

impl OpPlan {
    /// The kind of operation this plan belongs to.
    pub fn kind(&self) -> OpKind {
        match self {
            OpPlan::AppStart(_) => OpKind::AppStart,
            OpPlan::AppStop(_) => OpKind::AppStop,
            OpPlan::AppRestart(_) => OpKind::AppRestart,
            OpPlan::AppBackup(_) => OpKind::AppBackup,
            OpPlan::AppUninstall(_) => OpKind::AppUninstall,
            OpPlan::AppRestore(_) => OpKind::AppRestore,
            OpPlan::AppProtect(_) => OpKind::AppProtect,
            OpPlan::AppUnprotect(_) => OpKind::AppUnprotect,
            OpPlan::UserAdd(_) => OpKind::UserAdd,
            OpPlan::UserLock(_) => OpKind::UserLock,
            OpPlan::UserUnlock(_) => OpKind::UserUnlock,
            OpPlan::UserSync(_) => OpKind::UserSync,
            OpPlan::UserRemove(_) => OpKind::UserRemove,
            OpPlan::BackupRun(_) => OpKind::BackupRun,
            OpPlan::BackupInit(_) => OpKind::BackupInit,
            OpPlan::BackupPrune(_) => OpKind::BackupPrune,
            OpPlan::HostTrust(_) => OpKind::HostTrust,
            OpPlan::Undo(_) => OpKind::Undo,
            OpPlan::Unreadable(u) => u.kind,
        }
    }

    /// The plan's own JSON (without the kind tag), as stored in the `plan` column.
    pub fn body(&self) -> Value {
        match serde_json::to_value(self) {
            Ok(Value::Object(mut m)) => m.remove("plan").unwrap_or(Value::Null),
            _ => Value::Null,
        }
    }

    /// Read a stored plan back from its kind and body. A body this matelot cannot read
    /// becomes [`OpPlan::Unreadable`] (never an error: the row stays visible).
    pub fn from_stored(kind: OpKind, body: Value) -> OpPlan {
        let tagged = serde_json::json!({ "kind": kind.as_str(), "plan": body });
        match serde_json::from_value::<OpPlan>(tagged) {
            Ok(p) => p,
            Err(e) => OpPlan::Unreadable(UnreadablePlan {
                kind,
                planned: body,
                why: e.to_string(),
            }),
        }
    }

    /// The operation this plan undoes, for an undo.
    pub fn undoes(&self) -> Option<OpId> {
        match self {
            OpPlan::Undo(u) => Some(u.undoes),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_names() {
        for k in OpKind::ALL {
            assert_eq!(k.as_str().parse::<OpKind>(), Ok(k));
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        assert!("app.explode".parse::<OpKind>().is_err());
    }

    #[test]
    fn kind_filters_match_a_noun_or_one_kind() {
        assert!(OpKind::AppUninstall.matches("app"));
        assert!(OpKind::AppUninstall.matches("app.uninstall"));
        assert!(!OpKind::AppUninstall.matches("app.un"));
        assert!(!OpKind::UserAdd.matches("app"));
        assert!(OpKind::Undo.matches("undo"));
    }

    #[test]
    fn a_plan_is_stored_as_its_body_and_read_back_by_its_kind() {
        let plan = OpPlan::AppRestore(AppRestorePlan {
            app_id: "a1".into(),
            fqdn: "wiki.example.org".into(),
            backup_id: "b1".into(),
        });
        let body = plan.body();
        assert_eq!(
            body,
            serde_json::json!({"app_id": "a1", "fqdn": "wiki.example.org", "backup_id": "b1"})
        );
        assert_eq!(OpPlan::from_stored(OpKind::AppRestore, body), plan);
    }

    #[test]
    fn an_unreadable_body_keeps_its_kind_and_text() {
        let body = serde_json::json!({"something": "else"});
        match OpPlan::from_stored(OpKind::AppUninstall, body.clone()) {
            OpPlan::Unreadable(u) => {
                assert_eq!(u.kind, OpKind::AppUninstall);
                assert_eq!(u.planned, body);
                assert!(u.why.contains("missing field"), "{}", u.why);
            }
            other => panic!("expected unreadable, got {other:?}"),
        }
    }
}

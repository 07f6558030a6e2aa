//! The data of a per-person restore point: parsed passwd, group and shadow lines, and the
//! restore point itself as it is stored in the journal. Pure: no I/O.
//!
//! [`ShadowLine`] serialises in full (undo needs the hash) but its `Debug` and `Display` hide
//! the hash, so logs, errors and tables never show it.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::script::Captured;
use super::{AccountError, decode_keys};
use crate::compute::restic::{Repo, SnapshotId};

fn invalid(what: String) -> AccountError {
    AccountError::Invalid { what }
}

/// A username matelot can put in a command: `[a-z_][a-z0-9_.-]*`, at most 32 characters,
/// optionally ending in `$`.
pub fn check_username(name: &str) -> Result<(), AccountError> {
    let body = name.strip_suffix('$').unwrap_or(name);
    let mut chars = body.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.-".contains(c));
    if first_ok && rest_ok && name.len() <= 32 {
        Ok(())
    } else {
        Err(invalid(format!(
            "{name:?} is not a valid username (lower-case letters, digits, _ . -; at most 32 characters; not starting with a digit or -)"
        )))
    }
}

/// A parsed `/etc/passwd` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswdEntry {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub gecos: String,
    pub home: String,
    pub shell: String,
}

impl PasswdEntry {
    pub fn parse(line: &str) -> Result<PasswdEntry, AccountError> {
        let f: Vec<&str> = line.split(':').collect();
        let [name, _, uid, gid, gecos, home, shell] = f.as_slice() else {
            return Err(invalid(format!(
                "passwd line {line:?} does not have 7 fields"
            )));
        };
        let num = |v: &str, what: &str| {
            v.parse::<u32>().map_err(|_| {
                invalid(format!(
                    "passwd line {line:?}: {what} {v:?} is not a number"
                ))
            })
        };
        Ok(PasswdEntry {
            name: name.to_string(),
            uid: num(uid, "uid")?,
            gid: num(gid, "gid")?,
            gecos: gecos.to_string(),
            home: home.to_string(),
            shell: shell.to_string(),
        })
    }
}

/// A parsed `/etc/group` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupEntry {
    pub name: String,
    pub gid: u32,
    pub members: Vec<String>,
}

impl GroupEntry {
    pub fn parse(line: &str) -> Result<GroupEntry, AccountError> {
        let f: Vec<&str> = line.split(':').collect();
        let [name, _, gid, members] = f.as_slice() else {
            return Err(invalid(format!(
                "group line {line:?} does not have 4 fields"
            )));
        };
        let gid = gid
            .parse::<u32>()
            .map_err(|_| invalid(format!("group line {line:?}: gid {gid:?} is not a number")))?;
        if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid(format!(
                "group line {line:?}: the name is not valid"
            )));
        }
        Ok(GroupEntry {
            name: name.to_string(),
            gid,
            members: members
                .split(',')
                .filter(|m| !m.is_empty())
                .map(str::to_string)
                .collect(),
        })
    }
}

/// An `/etc/shadow` line. Serialised in full; shown with the hash redacted.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ShadowLine(String);

impl ShadowLine {
    /// Accept a 9-field shadow line.
    pub fn parse(line: &str) -> Result<ShadowLine, AccountError> {
        if line.split(':').count() != 9 || line.contains('\n') {
            return Err(invalid("a shadow line does not have 9 fields".into()));
        }
        Ok(ShadowLine(line.to_string()))
    }

    /// The nine fields (name, hash, lastchg, min, max, warn, inactive, expire, reserved).
    pub fn fields(&self) -> Vec<&str> {
        self.0.split(':').collect()
    }

    /// The whole line, hash included: only for `chpasswd -e` on stdin.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The line with the hash replaced by `<hash>`, keeping what is not secret: a leading `!`
    /// (locked) and hash-less markers (`*`, `!`, `!*`, empty).
    pub fn redacted(&self) -> String {
        let mut f = self.fields();
        let hash = f.get(1).copied().unwrap_or_default();
        let shown;
        if !hash.trim_start_matches('!').is_empty() && hash.trim_start_matches('!') != "*" {
            shown = if hash.starts_with('!') {
                "!<hash>"
            } else {
                "<hash>"
            };
            f[1] = shown;
        }
        f.join(":")
    }
}

impl TryFrom<String> for ShadowLine {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        ShadowLine::parse(&s).map_err(|e| e.to_string())
    }
}

impl From<ShadowLine> for String {
    fn from(s: ShadowLine) -> String {
        s.0
    }
}

impl fmt::Debug for ShadowLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ShadowLine({:?})", self.redacted())
    }
}

impl fmt::Display for ShadowLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Everything needed to put a removed compute account back (journal restore-point details).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRestorePoint {
    /// The compute host's name in the configuration.
    pub host: String,
    pub username: String,
    pub uid: u32,
    pub gid: u32,
    pub passwd_line: String,
    /// The primary group's line and every group line that lists the account.
    pub group_lines: Vec<String>,
    /// With the password hash: never print it (`Display` redacts).
    pub shadow_line: Option<ShadowLine>,
    /// The content of `~/.ssh/authorized_keys`, if there was one.
    pub authorized_keys: Option<String>,
    pub home: String,
    /// `du -sb` of the home; `None` when the home did not exist.
    pub home_bytes: Option<u64>,
    /// The restic snapshot of the home (full id); `None` when there was no home.
    pub snapshot_id: Option<SnapshotId>,
    /// The repository, redacted as shown to humans.
    pub repository: String,
    /// When the snapshot was taken (RFC 3339, restic's clock); empty without a snapshot.
    pub taken_at: String,
}

impl AccountRestorePoint {
    /// Build from a capture (no snapshot yet).
    pub fn from_capture(
        host: &str,
        username: &str,
        c: &Captured,
        repo: &Repo,
    ) -> Result<AccountRestorePoint, AccountError> {
        let passwd_line = c
            .passwd
            .clone()
            .ok_or_else(|| invalid(format!("the capture of {username} has no passwd line")))?;
        let pw = PasswdEntry::parse(&passwd_line)?;
        if pw.name != username {
            return Err(invalid(format!(
                "the capture of {username} returned the passwd line of {}",
                pw.name
            )));
        }
        for g in &c.groups {
            GroupEntry::parse(g)?;
        }
        let shadow_line = c.shadow.as_deref().map(ShadowLine::parse).transpose()?;
        if let Some(s) = &shadow_line
            && s.fields()[0] != username
        {
            return Err(invalid(format!(
                "the capture of {username} returned another account's shadow line"
            )));
        }
        Ok(AccountRestorePoint {
            host: host.to_string(),
            username: username.to_string(),
            uid: pw.uid,
            gid: pw.gid,
            passwd_line,
            group_lines: c.groups.clone(),
            shadow_line,
            authorized_keys: c.keys_b64.as_deref().map(decode_keys).transpose()?,
            home: pw.home,
            home_bytes: c.home_bytes,
            snapshot_id: None,
            repository: repo.display(),
            taken_at: String::new(),
        })
    }

    /// Group names, the primary group first.
    pub fn group_names(&self) -> Vec<String> {
        let mut groups: Vec<GroupEntry> = self
            .group_lines
            .iter()
            .filter_map(|l| GroupEntry::parse(l).ok())
            .collect();
        groups.sort_by_key(|g| (g.gid != self.gid, g.name.clone()));
        groups.into_iter().map(|g| g.name).collect()
    }

    /// `(name, gid)` of the groups the account belongs to.
    fn memberships(&self) -> Vec<(String, u32)> {
        let mut v: Vec<(String, u32)> = self
            .group_lines
            .iter()
            .filter_map(|l| GroupEntry::parse(l).ok())
            .filter(|g| g.gid == self.gid || g.members.contains(&self.username))
            .map(|g| (g.name, g.gid))
            .collect();
        v.sort();
        v
    }

    /// What differs between this restore point and `now` (a capture after recreating), in
    /// words that never show a password hash. The home's size is not compared.
    pub fn differences(&self, now: &AccountRestorePoint) -> Vec<String> {
        let mut d = Vec::new();
        if self.passwd_line != now.passwd_line {
            d.push(format!(
                "passwd line is {:?}, expected {:?}",
                now.passwd_line, self.passwd_line
            ));
        }
        if self.memberships() != now.memberships() {
            d.push(format!(
                "groups are {:?}, expected {:?}",
                now.memberships(),
                self.memberships()
            ));
        }
        if self.shadow_line != now.shadow_line {
            d.push(format!(
                "shadow line is {}, expected {} (hashes not shown{})",
                show(&now.shadow_line),
                show(&self.shadow_line),
                if self.shadow_line.as_ref().map(|s| s.fields()[1])
                    != now.shadow_line.as_ref().map(|s| s.fields()[1])
                {
                    "; the hashes differ"
                } else {
                    ""
                }
            ));
        }
        if self.authorized_keys != now.authorized_keys {
            d.push("authorized_keys differ".to_string());
        }
        if self.home_bytes.is_some() && now.home_bytes.is_none() {
            d.push(format!("home {} is missing", self.home));
        }
        d
    }

    /// A human summary, one `(field, value)` per row, the hash redacted.
    pub fn summary(&self) -> Vec<(String, String)> {
        let keys = self.authorized_keys.as_deref().map(|k| {
            k.lines()
                .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
                .count()
        });
        vec![
            (
                "account".into(),
                format!("{} on {}", self.username, self.host),
            ),
            ("uid/gid".into(), format!("{}/{}", self.uid, self.gid)),
            ("groups".into(), self.group_names().join(", ")),
            ("shadow".into(), show(&self.shadow_line)),
            (
                "keys".into(),
                keys.map_or("none".into(), |n| format!("{n} key(s)")),
            ),
            (
                "home".into(),
                match self.home_bytes {
                    Some(b) => format!("{} ({b} bytes)", self.home),
                    None => format!("{} (absent)", self.home),
                },
            ),
            (
                "snapshot".into(),
                self.snapshot_id.as_ref().map_or("none".into(), |id| {
                    format!("{} in {}", id.short(), self.repository)
                }),
            ),
        ]
    }
}

fn show(s: &Option<ShadowLine>) -> String {
    s.as_ref().map_or("none".to_string(), ShadowLine::redacted)
}

#[cfg(test)]
#[path = "types_tests.rs"]
mod tests;

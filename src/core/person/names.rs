//! Usernames and group names: one portable rule for both systems, checked before anything is
//! changed. A name is `^[a-z_][a-z0-9_-]*$`, at most 32 characters (the Linux limit), not a
//! well-known system account and not a name Cloudron reserves. Upper case is folded to lower
//! case (Cloudron does the same), so `Alice` in a roster is `alice`; anything else is refused
//! with a message that names the offending character. "uid below min_uid on this host" is a
//! fact about a host, checked by the planner, not here. This module must not do I/O.

use std::fmt;

use serde::{Serialize, Serializer};

use super::unicode;

/// Longest username or group name accepted (useradd's limit on Linux).
pub const MAX_NAME_LEN: usize = 32;

/// Names Cloudron refuses for users (its API reference, "Reserved usernames").
pub const CLOUDRON_RESERVED: &[&str] = &[
    "admin",
    "no-reply",
    "postmaster",
    "mailer-daemon",
    "root",
    "admins",
    "users",
];

/// Accounts and groups that exist on common Linux systems (Debian, Ubuntu, RHEL) and must never
/// be created, changed or granted by a roster.
pub const SYSTEM_NAMES: &[&str] = &[
    "_apt",
    "adm",
    "audio",
    "avahi",
    "backup",
    "bin",
    "cdrom",
    "chrony",
    "colord",
    "crontab",
    "daemon",
    "dbus",
    "dialout",
    "dip",
    "disk",
    "dnsmasq",
    "docker",
    "fax",
    "floppy",
    "ftp",
    "games",
    "gdm",
    "gnats",
    "halt",
    "input",
    "irc",
    "kmem",
    "kvm",
    "libvirt",
    "list",
    "lp",
    "lpadmin",
    "lxd",
    "mail",
    "man",
    "messagebus",
    "mysql",
    "netdev",
    "news",
    "nobody",
    "nogroup",
    "ntp",
    "operator",
    "plugdev",
    "polkitd",
    "postfix",
    "postgres",
    "proxy",
    "render",
    "root",
    "sasl",
    "shadow",
    "shutdown",
    "src",
    "ssh",
    "sshd",
    "staff",
    "sudo",
    "sync",
    "sys",
    "syslog",
    "systemd-coredump",
    "systemd-journal",
    "systemd-network",
    "systemd-resolve",
    "systemd-timesync",
    "tape",
    "tcpdump",
    "tss",
    "tty",
    "users",
    "utmp",
    "uucp",
    "uuidd",
    "video",
    "voice",
    "wheel",
    "www-data",
];

/// What kind of name is being checked (it only changes the words of the messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    User,
    Group,
}

impl NameKind {
    fn noun(self) -> &'static str {
        match self {
            NameKind::User => "username",
            NameKind::Group => "group name",
        }
    }
}

/// Why a username or group name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("{} is empty", .kind.noun())]
    Empty { kind: NameKind },
    #[error("{} '{name}' is {len} characters long; the limit is {MAX_NAME_LEN}", .kind.noun())]
    TooLong {
        kind: NameKind,
        name: String,
        len: usize,
    },
    #[error("{} {} contains {}; {}", .kind.noun(), shown(.name), unicode::describe(*.found), rule(*.kind))]
    BadChar {
        kind: NameKind,
        name: String,
        found: char,
    },
    #[error("{} '{name}' starts with '{first}'; it must start with a letter or '_'", .kind.noun())]
    BadStart {
        kind: NameKind,
        name: String,
        first: char,
    },
    #[error("{} '{name}' is a system account name; choose another name", .kind.noun())]
    System { kind: NameKind, name: String },
    #[error("{} '{name}' is reserved by Cloudron; choose another name", .kind.noun())]
    CloudronReserved { kind: NameKind, name: String },
}

fn rule(kind: NameKind) -> String {
    format!(
        "a {} may only use a-z, 0-9, '_' and '-'",
        match kind {
            NameKind::User => "username",
            NameKind::Group => "group name",
        }
    )
}

/// A name quoted for a message, with control and invisible characters escaped.
pub(crate) fn shown(s: &str) -> String {
    let mut out = String::from("'");
    for c in s.chars() {
        if unicode::is_forbidden_anywhere(c) || unicode::is_invisible(c) {
            out.push_str(&format!("\\u{{{:04X}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// Check and normalise a name: trim, fold ASCII upper case, apply the portable rule.
fn check(raw: &str, kind: NameKind) -> Result<String, NameError> {
    let name: String = raw.trim().to_ascii_lowercase();
    if name.is_empty() {
        return Err(NameError::Empty { kind });
    }
    if let Some(found) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-'))
    {
        return Err(NameError::BadChar { kind, name, found });
    }
    let len = name.chars().count();
    if len > MAX_NAME_LEN {
        return Err(NameError::TooLong { kind, name, len });
    }
    if let Some(first) = name
        .chars()
        .next()
        .filter(|c| !c.is_ascii_lowercase() && *c != '_')
    {
        return Err(NameError::BadStart { kind, name, first });
    }
    if CLOUDRON_RESERVED.contains(&name.as_str()) {
        return Err(NameError::CloudronReserved { kind, name });
    }
    if SYSTEM_NAMES.contains(&name.as_str()) || name.starts_with("systemd-") {
        return Err(NameError::System { kind, name });
    }
    Ok(name)
}

macro_rules! name_type {
    ($(#[$doc:meta])* $ty:ident, $kind:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $ty(String);

        impl $ty {
            /// Check and normalise (trim, lower-case) a name given by a person.
            pub fn parse(raw: &str) -> Result<Self, NameError> {
                check(raw, $kind).map($ty)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

name_type!(
    /// A checked username: portable, lower case, not a system or reserved name.
    Username,
    NameKind::User
);
name_type!(
    /// A checked group name: the same rule as usernames.
    GroupName,
    NameKind::Group
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_table() {
        let cases: &[(&str, Result<&str, &str>)] = &[
            ("alice", Ok("alice")),
            ("  Alice ", Ok("alice")),
            ("_svc-backup2", Ok("_svc-backup2")),
            ("a", Ok("a")),
            (
                "abcdefghijklmnopqrstuvwxyz012345",
                Ok("abcdefghijklmnopqrstuvwxyz012345"),
            ),
            ("", Err("username is empty")),
            ("   ", Err("username is empty")),
            (
                "abcdefghijklmnopqrstuvwxyz0123456",
                Err(
                    "username 'abcdefghijklmnopqrstuvwxyz0123456' is 33 characters long; the limit is 32",
                ),
            ),
            (
                "1alice",
                Err("username '1alice' starts with '1'; it must start with a letter or '_'"),
            ),
            (
                "-alice",
                Err("username '-alice' starts with '-'; it must start with a letter or '_'"),
            ),
            (
                "\u{0430}lice",
                Err(
                    "username 'аlice' contains 'а' (U+0430 CYRILLIC SMALL LETTER A, looks like 'a'); a username may only use a-z, 0-9, '_' and '-'",
                ),
            ),
            (
                "zoé",
                Err(
                    "username 'zoé' contains 'é' (U+00E9, an accented letter; write 'e'); a username may only use a-z, 0-9, '_' and '-'",
                ),
            ),
            (
                "al ice",
                Err(
                    "username 'al ice' contains ' ' (U+0020); a username may only use a-z, 0-9, '_' and '-'",
                ),
            ),
            (
                "a.b",
                Err(
                    "username 'a.b' contains '.' (U+002E); a username may only use a-z, 0-9, '_' and '-'",
                ),
            ),
            ("bob\n", Ok("bob")),
            (
                "bo\nb",
                Err(
                    "username 'bo\\u{000A}b' contains a control character (U+000A); a username may only use a-z, 0-9, '_' and '-'",
                ),
            ),
            (
                "$(touch /tmp/canary)",
                Err(
                    "username '$(touch /tmp/canary)' contains '$' (U+0024); a username may only use a-z, 0-9, '_' and '-'",
                ),
            ),
            (
                "ali\u{200B}ce",
                Err(
                    "username 'ali\\u{200B}ce' contains (U+200B ZERO WIDTH SPACE, invisible); a username may only use a-z, 0-9, '_' and '-'",
                ),
            ),
            (
                "root",
                Err("username 'root' is reserved by Cloudron; choose another name"),
            ),
            (
                "Admin",
                Err("username 'admin' is reserved by Cloudron; choose another name"),
            ),
            (
                "no-reply",
                Err("username 'no-reply' is reserved by Cloudron; choose another name"),
            ),
            (
                "www-data",
                Err("username 'www-data' is a system account name; choose another name"),
            ),
            (
                "sshd",
                Err("username 'sshd' is a system account name; choose another name"),
            ),
            (
                "systemd-foo",
                Err("username 'systemd-foo' is a system account name; choose another name"),
            ),
        ];
        for (input, want) in cases {
            let got = Username::parse(input)
                .map(|u| u.to_string())
                .map_err(|e| e.to_string());
            let want = want.map(str::to_string).map_err(str::to_string);
            assert_eq!(got, want, "input {input:?}");
        }
    }

    #[test]
    fn group_names_use_the_same_rule_with_their_own_words() {
        assert_eq!(
            GroupName::parse("Physics").map(|g| g.to_string()),
            Ok("physics".into())
        );
        assert_eq!(
            GroupName::parse("sudo").map_err(|e| e.to_string()),
            Err("group name 'sudo' is a system account name; choose another name".to_string())
        );
        assert_eq!(
            GroupName::parse("phys;ics").map_err(|e| e.to_string()),
            Err("group name 'phys;ics' contains ';' (U+003B); a group name may only use a-z, 0-9, '_' and '-'".to_string())
        );
    }

    #[test]
    fn names_serialize_as_plain_strings() {
        let u = Username::parse("alice").unwrap();
        assert_eq!(serde_json::to_string(&u).unwrap(), "\"alice\"");
    }
}

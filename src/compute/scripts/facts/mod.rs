//! The facts script and its parser. One round trip prints, one record per line, tab-separated:
//!
//! ```text
//! #matelot-facts<TAB>1          header (anything before it, e.g. a login banner, is ignored)
//! T<TAB>epoch-seconds           the host's clock
//! U<TAB>uid                     who ran the script (0: shadow and keys were readable)
//! P<TAB>passwd line             `getent passwd`
//! G<TAB>group line              `getent group`
//! S<TAB>user<TAB>state<TAB>expiry   shadow: P usable, L locked hash, N no password, E empty;
//!                               never the hash itself
//! K<TAB>user<TAB>ok|missing|unreadable   authorized_keys of managed accounts (uid in range),
//! k<TAB>user<TAB>line           read AS THE ACCOUNT (setpriv), so a symlink planted in a home
//!                               cannot make root print another file; the account's own shell
//!                               prints the K and k lines (one process per account: a re-run
//!                               over 100 people stays well under a second)
//! #end                          the output is complete
//! ```
//!
//! The parser is tolerant of odd lines (unknown records, malformed entries, CRLF) and keeps
//! them in `skipped`; it refuses output without the header or the end marker (truncated).

use std::collections::BTreeMap;

use crate::core::accounts::{
    AuthorizedKeys, ComputeFacts, HostGroup, HostUser, PasswordState, UidRange,
};

const TEMPLATE: &str = r#"matelot_facts() {
set -eu
export LC_ALL=C
printf '#matelot-facts\t1\n'
printf 'T\t%s\n' "$(date +%s)"
me=$(id -u)
printf 'U\t%s\n' "$me"
getent passwd | while IFS= read -r l; do printf 'P\t%s\n' "$l"; done
getent group | while IFS= read -r l; do printf 'G\t%s\n' "$l"; done
if [ "$me" = 0 ]; then
  getent shadow | awk -F: '{
    p = $2; s = "N"
    if (p == "") s = "E"
    else if (substr(p, 1, 1) == "$") s = "P"
    else if (length(p) == 13 && p !~ /[^.\/0-9A-Za-z]/) s = "P"
    else if (substr(p, 1, 1) == "!") { q = p; sub(/^!+/, "", q); if (substr(q, 1, 1) == "$") s = "L" }
    printf "S\t%s\t%s\t%s\n", $1, s, $8
  }'
  getent passwd | while IFS=: read -r n _ uid gid _ home _; do
    case $uid$gid in ''|*[!0-9]*) continue ;; esac
    [ "$uid" -ge MIN_UID ] && [ "$uid" -lt MAX_UID ] || continue
    r=0
    setpriv --reuid="$uid" --regid="$gid" --init-groups -- sh -c 'f=$1/.ssh/authorized_keys
[ -e "$f" ] || exit 3
[ -f "$f" ] && [ -r "$f" ] || exit 4
printf "K\t%s\tok\n" "$2"
while IFS= read -r l || [ -n "$l" ]; do printf "k\t%s\t%s\n" "$2" "$l"; done < "$f"' matelot-facts "$home" "$n" </dev/null 2>/dev/null || r=$?
    case $r in
      0) ;;
      3) printf 'K\t%s\tmissing\n' "$n" ;;
      *) printf 'K\t%s\tunreadable\n' "$n" ;;
    esac
  done
fi
printf '#end\n'
}
matelot_facts </dev/null
"#;

/// The facts script for hosts whose people have uids in `range`.
pub fn facts_script(range: UidRange) -> String {
    TEMPLATE
        .replace("MIN_UID", &range.min.to_string())
        .replace("MAX_UID", &range.max.to_string())
}

/// Why facts output could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FactsError {
    #[error(
        "{host}: the facts script printed no header (output starts with {start:?}); is bash \
         available there, and does the login print nothing on stdout?"
    )]
    NoHeader { host: String, start: String },
    #[error("{host}: facts format version {version} is not understood by this matelot")]
    Version { host: String, version: String },
    #[error("{host}: the facts output is incomplete ({lines} lines, no end marker); retry")]
    Truncated { host: String, lines: usize },
    #[error("{host}: the facts output has no valid clock line")]
    NoClock { host: String },
}

#[derive(Default)]
struct Shadow {
    state: Option<PasswordState>,
    expiry: Option<i64>,
}

/// Parse the facts script's output for `host` (a configuration name).
pub fn parse_facts(host: &str, output: &str, range: UidRange) -> Result<ComputeFacts, FactsError> {
    let lines: Vec<&str> = output.lines().map(|l| l.trim_end_matches('\r')).collect();
    let Some(start) = lines.iter().position(|l| l.starts_with("#matelot-facts")) else {
        return Err(FactsError::NoHeader {
            host: host.into(),
            start: output.chars().take(60).collect(),
        });
    };
    let version = lines[start].split('\t').nth(1).unwrap_or_default();
    if version != "1" {
        return Err(FactsError::Version {
            host: host.into(),
            version: version.into(),
        });
    }
    let Some(end) = lines[start..].iter().position(|l| *l == "#end") else {
        return Err(FactsError::Truncated {
            host: host.into(),
            lines: lines.len(),
        });
    };
    let mut facts = ComputeFacts {
        host: host.into(),
        managed: range,
        ..ComputeFacts::default()
    };
    let mut clock = None;
    let mut shadow: BTreeMap<String, Shadow> = BTreeMap::new();
    let mut keys: BTreeMap<String, (String, Vec<String>)> = BTreeMap::new();
    for line in &lines[start + 1..start + end] {
        let (tag, rest) = line.split_once('\t').unwrap_or((line, ""));
        let understood = match tag {
            "T" => rest.parse::<i64>().ok().map(|s| clock = Some(s)).is_some(),
            "U" => rest
                .parse::<u32>()
                .ok()
                .map(|u| facts.root = u == 0)
                .is_some(),
            // A name seen twice (files, then another NSS source): the first wins, as for
            // getent lookups; the second is kept in `skipped`.
            "P" => passwd(rest).is_some_and(|u| {
                !facts.users.contains_key(&u.name)
                    && facts.users.insert(u.name.clone(), u).is_none()
            }),
            "G" => group(rest).is_some_and(|g| {
                !facts.groups.contains_key(&g.name)
                    && facts.groups.insert(g.name.clone(), g).is_none()
            }),
            "S" => shadow_line(rest)
                .map(|(n, s)| {
                    shadow.entry(n).or_insert(s);
                })
                .is_some(),
            "K" => match rest.split_once('\t') {
                Some((n, status @ ("ok" | "missing" | "unreadable"))) => {
                    keys.insert(n.into(), (status.into(), Vec::new()));
                    true
                }
                _ => false,
            },
            "k" => match rest
                .split_once('\t')
                .and_then(|(n, l)| keys.get_mut(n).map(|k| (k, l)))
            {
                Some(((_, lines), l)) => {
                    let l = l.trim();
                    if !l.is_empty() && !l.starts_with('#') {
                        lines.push(l.to_string());
                    }
                    true
                }
                None => false,
            },
            "" => true,
            _ => false,
        };
        if !understood {
            facts.skipped.push(line.to_string());
        }
    }
    let Some(seconds) = clock else {
        return Err(FactsError::NoClock { host: host.into() });
    };
    facts.today = seconds.div_euclid(86_400);
    for user in facts.users.values_mut() {
        let s = shadow.remove(&user.name).unwrap_or_default();
        user.password = s.state.unwrap_or(PasswordState::Unknown);
        user.expiry = s.expiry;
        if range.contains(user.uid) {
            user.keys = keys
                .remove(&user.name)
                .map(|(status, lines)| match status.as_str() {
                    "ok" => AuthorizedKeys::Present(lines),
                    "missing" => AuthorizedKeys::Missing,
                    _ => AuthorizedKeys::Unreadable,
                });
        }
    }
    Ok(facts)
}

/// `name:x:uid:gid:gecos:home:shell`
fn passwd(line: &str) -> Option<HostUser> {
    let f: Vec<&str> = line.split(':').collect();
    let [name, _, uid, gid, gecos, home, shell] = f.as_slice() else {
        return None;
    };
    (!name.is_empty()).then_some(())?;
    Some(HostUser {
        name: (*name).into(),
        uid: uid.parse().ok()?,
        gid: gid.parse().ok()?,
        gecos: (*gecos).into(),
        home: (*home).into(),
        shell: (*shell).into(),
        password: PasswordState::Unknown,
        expiry: None,
        keys: None,
    })
}

/// `name:x:gid:member,member`
fn group(line: &str) -> Option<HostGroup> {
    let f: Vec<&str> = line.split(':').collect();
    let [name, _, gid, members] = f.as_slice() else {
        return None;
    };
    (!name.is_empty()).then_some(())?;
    Some(HostGroup {
        name: (*name).into(),
        gid: gid.parse().ok()?,
        members: members
            .split(',')
            .filter(|m| !m.is_empty())
            .map(str::to_string)
            .collect(),
    })
}

/// `name<TAB>state<TAB>expiry`
fn shadow_line(rest: &str) -> Option<(String, Shadow)> {
    let mut f = rest.split('\t');
    let (name, state, expiry) = (f.next()?, f.next()?, f.next().unwrap_or_default());
    let state = match state {
        "P" => PasswordState::Usable,
        "L" => PasswordState::Locked,
        "N" => PasswordState::NoPassword,
        "E" => PasswordState::Empty,
        _ => return None,
    };
    let expiry = match expiry.trim() {
        "" => None,
        e => Some(e.parse::<i64>().ok()?),
    };
    Some((
        name.into(),
        Shadow {
            state: Some(state),
            expiry,
        },
    ))
}

#[cfg(test)]
mod tests;

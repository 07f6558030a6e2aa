//! The remote scripts of a per-person restore point, as pure functions with exact-string
//! tests: capture an account in one round trip, re-create it, put its keys back.
//!
//! Scripts are fixed text; the values they need (username, uid, paths, GECOS, ...) reach them
//! either as positional arguments (`sh -c SCRIPT sh ARG...`) or as words quoted by `shlex`.
//! The password hash is never on a command line (other users can read process lists): it goes
//! to `chpasswd -e` on stdin. Reading and writing inside a home is done as its owner
//! (`setpriv`), so a symlink planted there cannot make root read or write elsewhere.

use crate::compute::command::{CommandError, RemoteCommand};

use super::{AccountError, AccountRestorePoint, GroupEntry, PasswdEntry};

/// Capture one account: its passwd line, the group lines that name it (and its primary
/// group's), its shadow line, its home's size and its authorized_keys (base64), as
/// `KEY<TAB>VALUE` lines. Exit 4 when there is no such local account. `$1` is the username.
pub const CAPTURE_SCRIPT: &str = r#"u=$1
pw=$(awk -F: -v u="$u" '$1 == u { print; exit }' /etc/passwd)
if [ -z "$pw" ]; then echo "no local account $u in /etc/passwd" >&2; exit 4; fi
printf 'passwd\t%s\n' "$pw"
uid=$(printf '%s\n' "$pw" | cut -d: -f3)
gid=$(printf '%s\n' "$pw" | cut -d: -f4)
home=$(printf '%s\n' "$pw" | cut -d: -f6)
awk -F: -v u="$u" -v g="$gid" '{ hit = ($3 == g); n = split($4, m, ","); for (i = 1; i <= n; i++) if (m[i] == u) hit = 1; if (hit) print "group\t" $0 }' /etc/group
awk -F: -v u="$u" '$1 == u { print "shadow\t" $0; exit }' /etc/shadow
if [ -d "$home" ]; then printf 'home_bytes\t%s\n' "$(du -sb -- "$home" | cut -f1)"; fi
k="$home/.ssh/authorized_keys"
if setpriv --reuid="$uid" --regid="$gid" --clear-groups test -e "$k"; then
  b=$(setpriv --reuid="$uid" --regid="$gid" --clear-groups base64 -w0 -- "$k") || exit 5
  printf 'keys\t%s\n' "$b"
fi"#;

/// `sh -c CAPTURE_SCRIPT sh USERNAME`
pub fn capture(username: &str) -> Result<RemoteCommand, CommandError> {
    RemoteCommand::argv(["sh", "-c", CAPTURE_SCRIPT, "sh", username])
}

/// Exit status of [`capture`] when the account does not exist.
pub const NO_SUCH_ACCOUNT: u32 = 4;

/// Exit status of [`recreate`] when the host no longer has room for the account (the name or
/// uid is taken, a group now has another gid): nothing was changed.
pub const CONFLICT: u32 = 17;

fn q(s: &str) -> Result<String, AccountError> {
    shlex::try_quote(s)
        .map(|c| c.into_owned())
        .map_err(|_| AccountError::Invalid {
            what: format!("{s:?} contains a NUL byte"),
        })
}

fn conflict(msg: &str) -> Result<String, AccountError> {
    Ok(format!("echo {} >&2; exit {CONFLICT}", q(msg)?))
}

/// A shadow field for `chage`: empty means "not set", which chage spells `-1`.
fn chage_value(field: &str) -> &str {
    if field.is_empty() { "-1" } else { field }
}

/// Re-create the account of `rp`: check first that nothing is in the way (exit 17, nothing
/// changed), then create the missing groups with their gids, the user with its uid, gid,
/// groups, GECOS, home and shell (the home itself comes back from the snapshot), the password
/// hash from stdin (see [`shadow_stdin`]) and the shadow ageing fields.
pub fn recreate(rp: &AccountRestorePoint) -> Result<RemoteCommand, AccountError> {
    let pw = PasswdEntry::parse(&rp.passwd_line)?;
    let groups: Vec<GroupEntry> = rp
        .group_lines
        .iter()
        .map(|l| GroupEntry::parse(l))
        .collect::<Result<_, _>>()?;
    let user = q(&pw.name)?;
    let mut lines = vec!["set -e".to_string()];
    lines.push(format!(
        "if getent passwd {user} >/dev/null; then {}; fi",
        conflict(&format!(
            "account {} already exists: nothing recreated",
            pw.name
        ))?
    ));
    lines.push(format!(
        "if getent passwd {} >/dev/null; then {}; fi",
        pw.uid,
        conflict(&format!(
            "uid {} now belongs to another account: nothing recreated",
            pw.uid
        ))?
    ));
    for g in &groups {
        lines.push(format!(
            "g=$(getent group {} | cut -d: -f3); if [ -n \"$g\" ] && [ \"$g\" != {} ]; then {}; fi",
            q(&g.name)?,
            g.gid,
            conflict(&format!(
                "group {} now has another gid (not {}): nothing recreated",
                g.name, g.gid
            ))?
        ));
    }
    for g in &groups {
        lines.push(format!(
            "if ! getent group {name} >/dev/null; then groupadd -g {} {name}; fi",
            g.gid,
            name = q(&g.name)?
        ));
    }
    let supplementary: Vec<&str> = groups
        .iter()
        .filter(|g| g.members.contains(&pw.name))
        .map(|g| g.name.as_str())
        .collect();
    let mut useradd: Vec<String> = vec![
        "useradd".into(),
        "-M".into(),
        "-u".into(),
        pw.uid.to_string(),
        "-g".into(),
        pw.gid.to_string(),
    ];
    if !supplementary.is_empty() {
        useradd.extend(["-G".into(), supplementary.join(",")]);
    }
    useradd.extend([
        "-c".into(),
        pw.gecos.clone(),
        "-d".into(),
        pw.home.clone(),
        "-s".into(),
        pw.shell.clone(),
        pw.name.clone(),
    ]);
    lines.push(join(&useradd)?);
    if let Some(shadow) = &rp.shadow_line {
        let f = shadow.fields();
        lines.push("chpasswd -e".to_string());
        let chage = [
            "chage",
            "-d",
            chage_value(f[2]),
            "-m",
            chage_value(f[3]),
            "-M",
            chage_value(f[4]),
            "-W",
            chage_value(f[5]),
            "-I",
            chage_value(f[6]),
            "-E",
            chage_value(f[7]),
            &pw.name,
        ];
        lines.push(join(&chage)?);
    }
    Ok(RemoteCommand::script(lines.join("\n")))
}

fn join<S: AsRef<str>>(words: &[S]) -> Result<String, AccountError> {
    RemoteCommand::argv(words.iter().map(AsRef::as_ref))
        .map(|c| c.as_str().to_string())
        .map_err(|e| AccountError::Invalid {
            what: e.to_string(),
        })
}

/// What [`recreate`] feeds `chpasswd -e`: `user:HASH\n` (nothing without a shadow line).
pub fn shadow_stdin(rp: &AccountRestorePoint) -> Option<String> {
    rp.shadow_line.as_ref().map(|s| {
        let f = s.fields();
        format!("{}:{}\n", f[0], f[1])
    })
}

/// Write the saved authorized_keys (given on stdin) into the home, as the account itself:
/// `setpriv --reuid UID --regid GID --clear-groups sh -c SCRIPT sh HOME`.
pub const WRITE_KEYS_SCRIPT: &str = r#"umask 077 && mkdir -p "$1/.ssh" && cat > "$1/.ssh/authorized_keys.matelot-new" && mv -f "$1/.ssh/authorized_keys.matelot-new" "$1/.ssh/authorized_keys""#;

/// See [`WRITE_KEYS_SCRIPT`].
pub fn write_keys(uid: u32, gid: u32, home: &str) -> Result<RemoteCommand, CommandError> {
    RemoteCommand::argv([
        "setpriv",
        &format!("--reuid={uid}"),
        &format!("--regid={gid}"),
        "--clear-groups",
        "sh",
        "-c",
        WRITE_KEYS_SCRIPT,
        "sh",
        home,
    ])
}

/// Parse the `KEY<TAB>VALUE` lines of [`CAPTURE_SCRIPT`].
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Captured {
    pub passwd: Option<String>,
    pub groups: Vec<String>,
    pub shadow: Option<String>,
    pub home_bytes: Option<u64>,
    /// authorized_keys, base64.
    pub keys_b64: Option<String>,
}

/// Read the capture's stdout; unknown keys and empty lines are skipped.
pub fn parse_capture(stdout: &str) -> Result<Captured, String> {
    let mut c = Captured::default();
    for line in stdout.lines().filter(|l| !l.is_empty()) {
        let Some((key, value)) = line.split_once('\t') else {
            return Err(format!("unexpected line {line:?}"));
        };
        match key {
            "passwd" => c.passwd = Some(value.to_string()),
            "group" => c.groups.push(value.to_string()),
            "shadow" => c.shadow = Some(value.to_string()),
            "home_bytes" => {
                c.home_bytes = Some(
                    value
                        .trim()
                        .parse()
                        .map_err(|_| format!("home size {value:?} is not a number"))?,
                )
            }
            "keys" => c.keys_b64 = Some(value.trim().to_string()),
            _ => {}
        }
    }
    Ok(c)
}

#[cfg(test)]
#[path = "script_tests.rs"]
mod tests;

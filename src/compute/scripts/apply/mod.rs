//! The apply script: all of a host's account changes as ONE batched bash script (one SSH round
//! trip), one guarded, idempotent step per change, and the parser of its results.
//!
//! Each step runs in a subshell with `set -e`; it exits 100 when its guard finds the work
//! already done. Creating an account is all or nothing: when anything in the step fails after
//! `useradd` wrote the account (useradd's own exit 12, "cannot create the home", a file in the
//! way, keys that could not be written), an exit trap deletes the half-made account again
//! (never its home: `userdel` without `-r`, as what is in the way may not be ours), so a re-run
//! creates it whole instead of finding an account without a home. A `useradd` that refused
//! (name or uid in use: someone created it meanwhile) deletes nothing. After each step the script prints `matelot-step<TAB>N<TAB>changed`,
//! `unchanged` or `failed<TAB>CODE`; at the first failure it prints
//! `matelot-end<TAB>failed<TAB>N` and exits 4 (later steps are not run: they may depend on it);
//! otherwise `matelot-end<TAB>ok`. After a partial failure, re-gather facts and re-plan.
//!
//! `authorized_keys` is written by the account itself (`setpriv` to its uid and gid), so a
//! symlink planted in a home cannot redirect a root write: `.ssh` 0700, the file 0600, written
//! to a temporary file and renamed into place.
//!
//! Processes are what a step costs on a busy host (each fork and exec is a millisecond or
//! more), so the helpers read an account with ONE `getent` and bash's own `read`, and keys
//! travel as arguments: creating an account with keys runs about ten processes, `useradd`
//! (which itself tries half a dozen cache invalidators) included.

use serde::Serialize;

use super::{ScriptError, quote_name, quote_text};
use crate::core::accounts::ComputeChange;

const PRELUDE: &str = r#"matelot_apply() {
set -eu
export LC_ALL=C
umask 022
matelot_run() {
  matelot_n=$1
  shift
  set +e
  ( set -e; "$@" )
  matelot_rc=$?
  set -e
  case $matelot_rc in
    0) printf 'matelot-step\t%s\tchanged\n' "$matelot_n" ;;
    100) printf 'matelot-step\t%s\tunchanged\n' "$matelot_n" ;;
    *) printf 'matelot-step\t%s\tfailed\t%s\n' "$matelot_n" "$matelot_rc"
       printf 'matelot-end\tfailed\t%s\n' "$matelot_n"
       exit 4 ;;
  esac
}
matelot_account() {
  matelot_l=$(getent passwd -- "$1") || { echo "matelot: no account $1" >&2; return 3; }
  IFS=: read -r _ _ matelot_uid matelot_gid _ matelot_h _ <<< "$matelot_l"
  case $matelot_h in
    /?*) ;;
    *) echo "matelot: $1 has no usable home directory" >&2; return 3 ;;
  esac
}
matelot_expiry() {
  getent shadow -- "$1" | cut -d: -f8
}
matelot_groups() {
  id -nG -- "$1" | tr ' ' '\n' | grep -vxF -- "$(id -gn -- "$1")" | sort | paste -sd, -
}
matelot_keys() {
  matelot_account "$1"
  shift
  matelot_keys_as "$@"
}
matelot_keys_as() {
  setpriv --reuid="$matelot_uid" --regid="$matelot_gid" --init-groups -- sh -c 'set -eu
umask 077
d="$1/.ssh"
f="$d/authorized_keys"
shift
if [ -d "$d" ]; then chmod 0700 -- "$d"; else mkdir -m 0700 -- "$d"; fi
t="$d/.authorized_keys.matelot"
set -C
{ : > "$t"; } 2>/dev/null || t=$(mktemp -- "$d/.authorized_keys.XXXXXX")
set +C
if [ "$#" -gt 0 ]; then printf "%s\n" "$@" > "$t" || { rm -f -- "$t"; exit 1; }; fi
if [ -f "$f" ] && cmp -s -- "$t" "$f"; then rm -f -- "$t"; chmod 0600 -- "$f"; exit 100; fi
mv -f -- "$t" "$f"' matelot-keys "$matelot_h" "$@"
}
"#;

const EPILOGUE: &str = "printf 'matelot-end\\tok\\n'\n}\nmatelot_apply </dev/null\n";

/// The script that applies `changes` (one host's, in plan order). Step N is `changes[N-1]`.
pub fn apply_script(changes: &[ComputeChange]) -> Result<String, ScriptError> {
    let mut script = String::from(PRELUDE);
    for (i, change) in changes.iter().enumerate() {
        let n = i + 1;
        script.push_str(&format!("matelot_step_{n}() {{\n"));
        script.push_str(&step_body(change)?);
        script.push_str("}\n");
        script.push_str(&format!("matelot_run {n} matelot_step_{n}\n"));
    }
    script.push_str(EPILOGUE);
    Ok(script)
}

/// `matelot_keys USER KEY...` (or `matelot_keys_as KEY...` right after `matelot_account`): the
/// keys travel as arguments, one each (none writes an empty file), so no pipeline and no stdin
/// are involved.
fn write_keys(call: &str, keys: &[String]) -> Result<String, ScriptError> {
    let mut line = format!("  {call}");
    for k in keys {
        line.push(' ');
        line.push_str(&quote_text("SSH key", k)?);
    }
    line.push('\n');
    Ok(line)
}

fn group_list(groups: &[String]) -> Result<String, ScriptError> {
    for g in groups {
        quote_name("group", g)?;
    }
    quote_text("group list", &groups.join(","))
}

fn expiry_arg(days: Option<i64>) -> String {
    days.map_or_else(|| "''".to_string(), |d| d.to_string())
}

fn step_body(change: &ComputeChange) -> Result<String, ScriptError> {
    use ComputeChange as C;
    let body = match change {
        C::CreateGroup { group } => {
            let g = quote_name("group", group)?;
            format!("  getent group -- {g} >/dev/null && return 100\n  groupadd -- {g}\n")
        }
        C::CreateUser {
            user,
            uid,
            gecos,
            groups,
            shell,
            keys,
        } => {
            let u = quote_name("user", user)?;
            // HOME_MODE: the home is made 0700 at once (shadow >= 4.8); checked below anyway.
            let mut add = format!(
                "useradd -m -U -K HOME_MODE=0700 -s {}",
                quote_text("shell", shell)?
            );
            if !gecos.is_empty() {
                add.push_str(&format!(" -c {}", quote_text("full name", gecos)?));
            }
            if !groups.is_empty() {
                add.push_str(&format!(" -G {}", group_list(groups)?));
            }
            if let Some(uid) = uid {
                add.push_str(&format!(" -u {uid}"));
            }
            let mut body = format!(
                "  getent passwd -- {u} >/dev/null && return 100\n  \
                 matelot_made=\n  \
                 trap 'r=$?; [ \"$r\" = 0 ] || [ -z \"$matelot_made\" ] || userdel -- {u} >/dev/null 2>&1 || true' EXIT\n  \
                 {add} -- {u} || {{ r=$?; [ \"$r\" = 12 ] && matelot_made=1; exit \"$r\"; }}\n  \
                 matelot_made=1\n  \
                 matelot_account {u}\n  \
                 case $(stat -c %u:%a -- \"$matelot_h\") in\n    \
                 \"$matelot_uid\":700) ;;\n    \
                 \"$matelot_uid\":*) chmod 0700 -- \"$matelot_h\" ;;\n    \
                 *) echo \"matelot: $matelot_h is not owned by {u}\" >&2; exit 3 ;;\n  \
                 esac\n"
            );
            if !keys.is_empty() {
                // The account was just read: write as it without reading it again.
                body.push_str(&write_keys("matelot_keys_as", keys)?);
            }
            body
        }
        C::SetFullName { user, to, .. } => {
            let u = quote_name("user", user)?;
            let to = quote_text("full name", to)?;
            format!(
                "  [ \"$(getent passwd -- {u} | cut -d: -f5 | cut -d, -f1)\" = {to} ] && return 100\n  \
                 usermod -c {to} -- {u}\n"
            )
        }
        C::SetGroups { user, to, .. } => {
            let u = quote_name("user", user)?;
            let list = group_list(to)?;
            format!(
                "  [ \"$(matelot_groups {u})\" = {list} ] && return 100\n  usermod -G {list} -- {u}\n"
            )
        }
        C::SetAuthorizedKeys { user, to, .. } => {
            write_keys(&format!("matelot_keys {}", quote_name("user", user)?), to)?
        }
        C::Lock { user, .. } => {
            let u = quote_name("user", user)?;
            format!("  [ \"$(matelot_expiry {u})\" = 1 ] && return 100\n  usermod -L -e 1 -- {u}\n")
        }
        C::Unlock {
            user,
            restore_expiry,
            ..
        } => {
            let u = quote_name("user", user)?;
            let e = expiry_arg(*restore_expiry);
            format!(
                "  [ \"$(matelot_expiry {u})\" = {e} ] && return 100\n  usermod -U -e {e} -- {u}\n"
            )
        }
        C::RemoveUser { user, .. } => {
            let u = quote_name("user", user)?;
            format!("  getent passwd -- {u} >/dev/null || return 100\n  userdel -r -- {u}\n")
        }
    };
    Ok(body)
}

/// What happened to one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum StepStatus {
    /// The step changed the system.
    Changed,
    /// Its guard found the work already done.
    Unchanged,
    /// It failed with this exit code; later steps were not run.
    Failed { code: i32 },
    /// Not run because an earlier step failed.
    NotRun,
    /// No report (the connection or the script died): it may or may not have run.
    Unknown,
}

/// The outcome of an apply script, step by step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApplyReport {
    /// `steps[N-1]` is step N.
    pub steps: Vec<StepStatus>,
    /// The script reached its end (successfully or at a failure it reported).
    pub finished: bool,
}

impl ApplyReport {
    /// Every step changed or was already done.
    pub fn all_done(&self) -> bool {
        self.finished
            && self
                .steps
                .iter()
                .all(|s| matches!(s, StepStatus::Changed | StepStatus::Unchanged))
    }

    /// The first step (1-based) that failed, if any.
    pub fn failed_step(&self) -> Option<usize> {
        self.steps
            .iter()
            .position(|s| matches!(s, StepStatus::Failed { .. }))
            .map(|i| i + 1)
    }
}

/// Read the result lines of an apply script that had `steps` steps. Other lines are ignored.
pub fn parse_apply_output(stdout: &str, steps: usize) -> ApplyReport {
    let mut report = ApplyReport {
        steps: vec![StepStatus::Unknown; steps],
        finished: false,
    };
    let mut failed_at = None;
    for line in stdout.lines().map(|l| l.trim_end_matches('\r')) {
        let f: Vec<&str> = line.split('\t').collect();
        match f.as_slice() {
            ["matelot-step", n, status, rest @ ..] => {
                let Some(slot) = n
                    .parse::<usize>()
                    .ok()
                    .and_then(|n| n.checked_sub(1))
                    .and_then(|i| report.steps.get_mut(i))
                else {
                    continue;
                };
                *slot = match (*status, rest) {
                    ("changed", _) => StepStatus::Changed,
                    ("unchanged", _) => StepStatus::Unchanged,
                    ("failed", [code, ..]) => StepStatus::Failed {
                        code: code.parse().unwrap_or(-1),
                    },
                    _ => continue,
                };
            }
            ["matelot-end", "ok"] => report.finished = true,
            ["matelot-end", "failed", n] => {
                report.finished = true;
                failed_at = n.parse::<usize>().ok();
            }
            _ => {}
        }
    }
    if let Some(n) = failed_at {
        for s in report.steps.iter_mut().skip(n) {
            if *s == StepStatus::Unknown {
                *s = StepStatus::NotRun;
            }
        }
    }
    report
}

#[cfg(test)]
pub(crate) mod tests;

//! The scripts run by the real `bash`, with every account tool replaced by a recording shim:
//! `PATH` holds ONLY a temporary directory of shims (plus, for the facts script, links to the
//! read-only `awk`, `sh` and `cat`), so no real `useradd`, `usermod` or `groupadd` can be
//! reached, and nothing outside the temporary directory is touched. This checks what exact-
//! string tests cannot: the step protocol, the guards, stop-at-first-failure, and that hostile
//! values reach the tools as single, intact arguments without ever being executed. Running the
//! scripts against real accounts belongs to the sandboxed-host integration tests.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::apply::tests::HOSTILE;
use super::*;
use crate::core::accounts::{AuthorizedKeys, ComputeChange as C, PasswordState, UidRange};

/// One shim for every tool; its behaviour depends on the name it is called by.
const SHIM: &str = r#"#!/bin/bash
cmd=${0##*/}
{ printf '%s' "$cmd"; for a in "$@"; do printf '\037%s' "$a"; done; printf '\n'; } >> "$SHIM_DIR/calls"
if [ "${SHIM_FAIL:-}" = "$cmd" ]; then echo "$cmd: simulated failure" >&2; exit "${SHIM_FAIL_CODE:-9}"; fi
last=
for a in "$@"; do last=$a; done
case $cmd in
  getent)
    db=$1
    [ -f "$SHIM_DIR/$db.db" ] || exit 2
    if [ $# -eq 1 ]; then while IFS= read -r l; do printf '%s\n' "$l"; done < "$SHIM_DIR/$db.db"; exit 0; fi
    while IFS= read -r l; do
      if [ "${l%%:*}" = "$last" ]; then printf '%s\n' "$l"; exit 0; fi
    done < "$SHIM_DIR/$db.db"
    exit 2 ;;
  useradd)
    printf '%s:x:1001:1001::%s/home/%s:/bin/bash\n' "$last" "$SHIM_DIR" "$last" >> "$SHIM_DIR/passwd.db" ;;
  groupadd)
    printf '%s:x:2000:\n' "$last" >> "$SHIM_DIR/group.db" ;;
  cut)
    d=${1#-d}; f=${2#-f}
    while IFS= read -r l; do IFS="$d" read -r -a parts <<< "$l"; printf '%s\n' "${parts[$((f-1))]:-}"; done ;;
  id)
    case " $* " in *" -u "*) echo "${SHIM_UID:-1001}" ;; *" -g "*) echo 1001 ;; *) printf '%s\n' "$last" ;; esac ;;
  stat) echo "${SHIM_STAT_UID:-1001}:755" ;;
  date) echo 1728000000 ;;
  touch) : > "$last" ;;
  setpriv)
    if [ -n "${SHIM_SETPRIV_EXEC:-}" ]; then
      while [ "$1" != -- ]; do shift; done
      shift
      exec "$@"
    fi
    # The keys are the arguments after `matelot-keys HOME`.
    while [ $# -gt 0 ] && [ "$1" != matelot-keys ]; do shift; done
    [ $# -ge 2 ] && shift 2
    for k in "$@"; do printf '%s\n' "$k"; done >> "$SHIM_DIR/keys" ;;
  *) : ;;
esac
exit 0
"#;

const TOOLS: &[&str] = &[
    "getent", "useradd", "groupadd", "usermod", "userdel", "chmod", "cut", "id", "stat", "tr",
    "grep", "sort", "paste", "setpriv", "date", "touch",
];

struct Sandbox {
    dir: tempfile::TempDir,
}

struct Run {
    stdout: String,
    status: i32,
}

impl Sandbox {
    fn new() -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        let shim = dir.path().join("shim");
        std::fs::write(&shim, SHIM).unwrap();
        let mut perms = std::fs::metadata(&shim).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
        std::fs::set_permissions(&shim, perms).unwrap();
        for t in TOOLS {
            std::os::unix::fs::symlink(&shim, bin.join(t)).unwrap();
        }
        Sandbox { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Link a real, read-only tool into the shim directory.
    fn link_real(&self, tool: &str) {
        let real = ["/usr/bin", "/bin"]
            .iter()
            .map(|d| PathBuf::from(d).join(tool))
            .find(|p| p.exists())
            .unwrap_or_else(|| panic!("{tool} not found"));
        std::os::unix::fs::symlink(real, self.path().join("bin").join(tool)).unwrap();
    }

    fn db(&self, name: &str, lines: &[&str]) {
        let mut text = lines.join("\n");
        text.push('\n');
        std::fs::write(self.path().join(format!("{name}.db")), text).unwrap();
    }

    fn run(&self, script: &str, env: &[(&str, &str)]) -> Run {
        let mut cmd = Command::new("/bin/bash");
        cmd.arg("-s")
            .env_clear()
            .env("PATH", self.path().join("bin"))
            .env("SHIM_DIR", self.path())
            .current_dir(self.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(script.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        Run {
            stdout: String::from_utf8(out.stdout).unwrap(),
            status: out.status.code().unwrap_or(-1),
        }
    }

    /// Calls to `tool`, each as its argument list.
    fn calls(&self, tool: &str) -> Vec<Vec<String>> {
        let log = std::fs::read_to_string(self.path().join("calls")).unwrap_or_default();
        log.lines()
            .map(|l| l.split('\u{1f}').map(str::to_string).collect::<Vec<_>>())
            .filter(|parts| parts[0] == tool)
            .map(|parts| parts[1..].to_vec())
            .collect()
    }

    fn keys_written(&self) -> String {
        std::fs::read_to_string(self.path().join("keys")).unwrap_or_default()
    }
}

const KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIByg7BrvaKkC+VDadI4IhoMXUHfkC4uf/V+GaPQBPnV+ alice@laptop";

fn plan() -> Vec<C> {
    vec![
        C::CreateGroup {
            group: "physics".into(),
        },
        C::CreateUser {
            user: "alice".into(),
            uid: Some(1001),
            gecos: "Alice Martin".into(),
            groups: vec!["physics".into(), "teaching".into()],
            shell: "/bin/bash".into(),
            keys: vec![KEY.into()],
        },
        C::SetFullName {
            user: "bob".into(),
            from: String::new(),
            to: "Bob O'Brien".into(),
        },
        C::SetGroups {
            user: "bob".into(),
            from: vec!["lab".into()],
            to: vec![],
        },
        C::SetAuthorizedKeys {
            user: "bob".into(),
            from: vec![],
            to: vec![KEY.into()],
        },
        C::Lock {
            user: "carol".into(),
            previous_expiry: None,
        },
        C::Unlock {
            user: "dave".into(),
            restore_expiry: None,
            known_previous: true,
        },
        C::Unlock {
            user: "erin".into(),
            restore_expiry: Some(20500),
            known_previous: true,
        },
        C::RemoveUser {
            user: "frank".into(),
            uid: 1006,
            home: "/home/frank".into(),
        },
    ]
}

fn seeded() -> Sandbox {
    let s = Sandbox::new();
    s.db(
        "passwd",
        &["bob:x:1002:1002:Bob O'Brien,,,:/home/bob:/bin/bash"],
    );
    s.db("group", &["lab:x:2001:bob"]);
    s.db(
        "shadow",
        &[
            "dave:!:19000:0:99999:7::1:",
            "erin:$y$hash:19000:0:99999:7::20500:",
        ],
    );
    s
}

use StepStatus::{Changed, Failed, NotRun, Unchanged};

#[test]
fn steps_report_changed_or_unchanged_from_their_guards() {
    let s = seeded();
    let run = s.run(&apply_script(&plan()).unwrap(), &[]);
    assert_eq!(run.status, 0, "{}", run.stdout);
    let report = parse_apply_output(&run.stdout, 9);
    assert_eq!(
        report.steps,
        [
            Changed, Changed, Unchanged, Unchanged, Changed, Changed, Changed, Unchanged, Unchanged
        ]
    );
    assert!(report.all_done());
    assert_eq!(
        s.calls("useradd"),
        [[
            "-m",
            "-U",
            "-K",
            "HOME_MODE=0700",
            "-s",
            "/bin/bash",
            "-c",
            "Alice Martin",
            "-G",
            "physics,teaching",
            "-u",
            "1001",
            "--",
            "alice"
        ]]
    );
    assert_eq!(s.calls("groupadd"), [["--", "physics"]]);
    assert_eq!(
        s.calls("usermod"),
        [
            vec!["-L", "-e", "1", "--", "carol"],
            vec!["-U", "-e", "", "--", "dave"]
        ]
    );
    assert!(s.calls("userdel").is_empty());
    let home = format!("{}/home/alice", s.path().display());
    assert!(
        s.calls("chmod")
            .contains(&vec!["0700".to_string(), "--".into(), home])
    );
    assert_eq!(s.keys_written(), format!("{KEY}\n{KEY}\n"));
    let setpriv = s.calls("setpriv");
    assert_eq!(
        setpriv[0][..4],
        ["--reuid=1001", "--regid=1001", "--init-groups", "--"]
    );

    // The same script again: everything it created is now found by the guards.
    let again = s.run(&apply_script(&plan()[..2]).unwrap(), &[]);
    assert_eq!(
        parse_apply_output(&again.stdout, 2).steps,
        [Unchanged, Unchanged]
    );
    assert_eq!(s.calls("useradd").len(), 1);
}

#[test]
fn the_first_failure_stops_the_script_with_exit_4() {
    let s = seeded();
    let run = s.run(&apply_script(&plan()).unwrap(), &[("SHIM_FAIL", "usermod")]);
    assert_eq!(run.status, 4);
    let report = parse_apply_output(&run.stdout, 9);
    assert_eq!(
        report.steps,
        [
            Changed,
            Changed,
            Unchanged,
            Unchanged,
            Changed,
            Failed { code: 9 },
            NotRun,
            NotRun,
            NotRun
        ]
    );
    assert!(report.finished);
    assert_eq!(report.failed_step(), Some(6));
    assert_eq!(
        s.calls("usermod").len(),
        1,
        "nothing runs after the failure"
    );
}

#[test]
fn a_useradd_that_could_not_make_the_home_is_undone_one_that_refused_is_not() {
    // Exit 12: the account was written but its home could not be made: delete it again.
    let s = seeded();
    let run = s.run(
        &apply_script(&plan()[1..2]).unwrap(),
        &[("SHIM_FAIL", "useradd"), ("SHIM_FAIL_CODE", "12")],
    );
    assert_eq!(run.status, 4);
    assert_eq!(
        parse_apply_output(&run.stdout, 1).steps,
        [Failed { code: 12 }]
    );
    let user = match &plan()[1] {
        C::CreateUser { user, .. } => user.clone(),
        other => panic!("plan()[1] is {other:?}"),
    };
    assert_eq!(s.calls("userdel"), [vec!["--".to_string(), user]]);
    assert!(
        s.calls("chmod").is_empty(),
        "nothing after the failed useradd"
    );
    // Exit 9: the name is in use (created by someone else meanwhile): never delete it.
    let s = seeded();
    let run = s.run(
        &apply_script(&plan()[1..2]).unwrap(),
        &[("SHIM_FAIL", "useradd"), ("SHIM_FAIL_CODE", "9")],
    );
    assert_eq!(
        parse_apply_output(&run.stdout, 1).steps,
        [Failed { code: 9 }]
    );
    assert!(
        s.calls("userdel").is_empty(),
        "an account that is not ours was deleted"
    );
}

#[test]
fn a_home_not_owned_by_the_new_account_is_refused() {
    let s = seeded();
    let run = s.run(
        &apply_script(&plan()[1..2]).unwrap(),
        &[("SHIM_STAT_UID", "4242")],
    );
    assert_eq!(run.status, 4);
    assert_eq!(
        parse_apply_output(&run.stdout, 1).steps,
        [Failed { code: 3 }]
    );
    assert!(s.calls("chmod").is_empty());
    assert_eq!(
        s.calls("userdel").len(),
        1,
        "the half-made account is deleted"
    );
}

#[test]
fn hostile_values_arrive_intact_and_are_never_run() {
    for bad in HOSTILE {
        let s = Sandbox::new();
        let canary = s.path().join("canary");
        let bad = bad.replace("CANARY", &canary.display().to_string());
        let key = format!("ssh-ed25519 AAAA {bad}");
        let changes = vec![
            C::SetFullName {
                user: "alice".into(),
                from: String::new(),
                to: bad.clone(),
            },
            C::SetAuthorizedKeys {
                user: "alice".into(),
                from: vec![],
                to: vec![key.clone()],
            },
            C::CreateUser {
                user: "bob".into(),
                uid: None,
                gecos: bad.clone(),
                groups: vec![],
                shell: bad.clone(),
                keys: vec![key.clone()],
            },
        ];
        s.db("passwd", &["alice:x:1001:1001::/home/alice:/bin/bash"]);
        let run = s.run(&apply_script(&changes).unwrap(), &[]);
        assert_eq!(run.status, 0, "{bad:?}: {}", run.stdout);
        assert!(!canary.exists(), "{bad:?} was executed");
        assert!(s.calls("touch").is_empty(), "{bad:?} was executed");
        assert_eq!(
            s.calls("usermod"),
            [vec![
                "-c".to_string(),
                bad.clone(),
                "--".into(),
                "alice".into()
            ]]
        );
        assert_eq!(
            s.calls("useradd"),
            [vec![
                "-m".to_string(),
                "-U".into(),
                "-K".into(),
                "HOME_MODE=0700".into(),
                "-s".into(),
                bad.clone(),
                "-c".into(),
                bad.clone(),
                "--".into(),
                "bob".into()
            ]]
        );
        assert_eq!(s.keys_written(), format!("{key}\n{key}\n"), "{bad:?}");
    }
}

#[test]
fn the_facts_script_runs_and_parses() {
    let s = Sandbox::new();
    for tool in ["awk", "sh", "cat"] {
        s.link_real(tool);
    }
    let home = |u: &str| s.path().join("home").join(u);
    for u in ["alice", "bob", "carol"] {
        std::fs::create_dir_all(home(u).join(".ssh")).unwrap();
    }
    std::fs::write(
        home("alice").join(".ssh/authorized_keys"),
        format!("# mine\n{KEY}\n\n"),
    )
    .unwrap();
    std::fs::create_dir(home("carol").join(".ssh/authorized_keys")).unwrap();
    let passwd =
        |u: &str, id: u32| format!("{u}:x:{id}:{id}:{u} Doe,,,:{}:/bin/bash", home(u).display());
    let (alice, bob, carol) = (
        passwd("alice", 1001),
        passwd("bob", 1002),
        passwd("carol", 1003),
    );
    s.db(
        "passwd",
        &["root:x:0:0:root:/root:/bin/bash", &alice, &bob, &carol],
    );
    s.db("group", &["root:x:0:", "physics:x:2000:alice,bob"]);
    s.db(
        "shadow",
        &[
            "root:*:19000:0:99999:7:::",
            "alice:$y$j9T$abc:19000:0:99999:7:::",
            "bob:!$y$j9T$def:19000:0:99999:7::1:",
            "carol:!:19000:0:99999:7:::",
        ],
    );
    let run = s.run(
        &facts_script(UidRange::default()),
        &[("SHIM_UID", "0"), ("SHIM_SETPRIV_EXEC", "1")],
    );
    assert_eq!(run.status, 0, "{}", run.stdout);
    assert!(!run.stdout.contains("$y$"), "a password hash was printed");
    let f = parse_facts("calcul", &run.stdout, UidRange::default()).unwrap();
    assert!(f.root && f.skipped.is_empty(), "{:?}", f.skipped);
    assert_eq!(f.today, 20000);
    assert_eq!(f.users["alice"].password, PasswordState::Usable);
    assert_eq!(
        f.users["alice"].keys,
        Some(AuthorizedKeys::Present(vec![KEY.into()]))
    );
    assert_eq!(f.users["bob"].password, PasswordState::Locked);
    assert_eq!(f.users["bob"].expiry, Some(1));
    assert_eq!(f.users["bob"].keys, Some(AuthorizedKeys::Missing));
    assert_eq!(f.users["carol"].password, PasswordState::NoPassword);
    assert_eq!(f.users["carol"].keys, Some(AuthorizedKeys::Unreadable));
    assert_eq!(f.users["root"].password, PasswordState::NoPassword);
    assert_eq!(f.groups["physics"].members.len(), 2);
    let setpriv = s.calls("setpriv");
    assert_eq!(
        setpriv.len(),
        3,
        "keys are read for managed accounts only, as the account"
    );
    assert_eq!(
        setpriv[0][..3],
        ["--reuid=1001", "--regid=1001", "--init-groups"]
    );
}

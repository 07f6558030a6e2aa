//! `user remove` and its undo through the real binary: on a private sandboxed compute host
//! (real useradd/userdel, real restic) and on the Cloudron emulator. The account must come back
//! with the same uid, gid, groups, keys and home content; a restic failure removes nothing.

use matelot::compute::{ConnectOptions, RemoteCommand, Session};
use matelot::lab::sandbox::SandboxHost;

use super::G;
use crate::common_sandbox::private;
use crate::lab_client::Lab;

pub(crate) fn sh(h: &SandboxHost, script: &str, args: &[&str]) -> String {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let opts = ConnectOptions {
            user_known_hosts: None,
            ..ConnectOptions::default()
        };
        let s = Session::connect(&h.compute_host(), &h.known_hosts, &opts)
            .await
            .expect("connect");
        let mut argv = vec!["sh", "-c", script, "sh"];
        argv.extend_from_slice(args);
        let out = s
            .run(&RemoteCommand::argv(argv).expect("argv"), None, None)
            .await
            .expect("run");
        assert!(out.success(), "{script}: {}", out.stderr_text());
        out.stdout_text()
    })
}

pub(crate) const ACCOUNT: &str = r#"id "$1"; getent passwd "$1"; grep "^$1:" /etc/shadow; grep -E "(^$1:|[:,]$1(,|$))" /etc/group | sort"#;
pub(crate) const SUMS: &str = r#"cd "$1" && find . -printf '%p %U %G %m %s\n' | sort && find . -type f -exec sha256sum {} + | sort"#;
pub(crate) const GONE: &str =
    r#"if id "$1" >/dev/null 2>&1 || test -e "/home/$1"; then echo present; else echo gone; fi"#;

pub(crate) fn config(h: &SandboxHost, password_file: &str) -> String {
    format!(
        "[compute.box]\nhost = \"{}\"\nport = {}\nuser = \"root\"\nidentity = \"{}\"\nknown_hosts = \"{}\"\n\n\
         [backup.compute]\nrepository = \"/srv/guard/repo\"\npassword_file = \"{password_file}\"\n",
        h.addr,
        h.port,
        h.client_key.display(),
        h.known_hosts.display()
    )
}

#[test]
fn a_person_removed_on_a_compute_host_comes_back_whole_with_undo() {
    let p = private("guardusr", "127.0.0.9", 0);
    let h = &p.host;
    sh(
        h,
        r#"set -e
mkdir -p /srv/guard && umask 077 && echo 'pw for guard' > /srv/guard/pw
RESTIC_CACHE_DIR=/srv/guard/cache restic -r /srv/guard/repo --password-file /srv/guard/pw init >/dev/null
groupadd -g 3600 physics
useradd -m -u 3101 -s /bin/bash -G physics zoe
echo 'zoe:$6$salt$notarealhash' | chpasswd -e
mkdir -p /home/zoe/.ssh "/home/zoe/notes & more"
echo 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIF3 zoe@laptop' > /home/zoe/.ssh/authorized_keys
head -c 200000 /dev/urandom > "/home/zoe/notes & more/data.bin"
chmod 700 /home/zoe/.ssh && chown -R zoe:zoe /home/zoe"#,
        &[],
    );
    let account = sh(h, ACCOUNT, &["zoe"]);
    let home = sh(h, SUMS, &["/home/zoe"]);
    let g = G::plain(&config(h, "/srv/guard/pw"));

    // --check: the impact and plan, nothing removed.
    g.run(&["--check", "user", "remove", "zoe"])
        .success()
        .stdout_has("user.remove user:zoe@box")
        .stdout_has("Last login: never")
        .stdout_has("physics")
        .stdout_has("userdel -r zoe");
    // No terminal, no --confirm: refused.
    g.run(&["user", "remove", "zoe"])
        .status(3)
        .stderr_has("--confirm zoe");
    // restic cannot open the repository (wrong password file): nothing removed.
    let bad = G::plain_in(&config(h, "/srv/guard/nope"), &g);
    bad.run(&["user", "remove", "zoe", "--confirm", "zoe"])
        .status(1)
        .stderr_has("restore point failed");
    assert_eq!(sh(h, GONE, &["zoe"]).trim(), "present");
    assert_eq!(sh(h, ACCOUNT, &["zoe"]), account);

    let run = g
        .run(&["user", "remove", "zoe", "--confirm", "zoe"])
        .success()
        .stdout_has("zoe removed on box");
    assert_eq!(sh(h, GONE, &["zoe"]).trim(), "gone", "{}", run.stdout);
    let ops = g.ops();
    let op = ops
        .iter()
        .find(|o| o["status"] == "done")
        .expect("a done operation");
    assert_eq!(op["kind"], "user.remove");
    assert_eq!(op["restore_point"]["kind"], "compute.account");
    let failed = ops
        .iter()
        .find(|o| o["status"] == "failed")
        .expect("failed");
    assert!(
        failed["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("restore point failed"),
        "{failed}"
    );
    let id = op["id"].as_i64().expect("id").to_string();
    // The journal keeps the hash for undo, but never shows it.
    assert!(!op.to_string().contains("notarealhash"), "{op}");
    g.run(&["journal", "show", &id])
        .success()
        .stdout_has("zoe:<redacted>:")
        .stdout_lacks("notarealhash");
    g.run(&["--json", "journal", "show", &id])
        .success()
        .stdout_lacks("notarealhash");
    g.run(&["undo", &id, "--yes"])
        .success()
        .stdout_has("zoe re-created on box");
    assert_eq!(sh(h, ACCOUNT, &["zoe"]), account);
    assert_eq!(sh(h, SUMS, &["/home/zoe"]), home);
}

#[test]
fn a_cloudron_user_removed_comes_back_with_groups_role_and_app_access() {
    let g = G::with_lab(Lab::start());
    let before = g.lab.state();
    let user = |st: &serde_json::Value| {
        st["users"]
            .as_array()
            .expect("users")
            .iter()
            .find(|u| u["username"] == "camille")
            .cloned()
    };
    let old = user(&before).expect("camille");
    g.run(&[
        "user",
        "remove",
        "camille",
        "--on",
        "cloudron",
        "--confirm",
        "camille",
    ])
    .success()
    .stdout_has("camille removed from the Cloudron");
    assert!(user(&g.lab.state()).is_none());
    g.run(&["undo", "1", "--yes"])
        .success()
        .stdout_has("camille re-created");
    let after = g.lab.state();
    let new = user(&after).expect("camille is back");
    for k in ["email", "role", "displayName", "groupIds"] {
        assert_eq!(new[k], old[k], "{k}");
    }
    let www = after["apps"]
        .as_array()
        .expect("apps")
        .iter()
        .find(|a| a["fqdn"] == "www.example.org")
        .expect("www")
        .clone();
    let users = www["accessRestriction"]["users"].as_array().expect("users");
    assert!(users.contains(&new["id"]), "{www}");
}

//! `user lock` and `user unlock`: a lock really locks (password locked AND a real OpenSSH login
//! with the person's own key refused; Cloudron user inactive), asks first (exit 3 without a
//! terminal or --yes), and unlock restores exactly what was there (the password hash and the
//! expiry the account had, read back from the journal).

use super::estate::Estate;
use crate::journal::run_in;

const HASH: &str = "$6$saltsalt$0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ./0123456789abcdefghijkl";

#[test]
fn lock_refuses_ssh_with_the_persons_key_and_unlock_restores_everything() {
    let e = Estate::start("lock-ssh");
    let (key, public) = e.keypair("bob");
    e.test()
        .args([
            "user",
            "add",
            "bob",
            "--email",
            "bob@example.org",
            "--key",
            &public,
        ])
        .run()
        .success();
    // A password and an expiry set by hand, which unlock must give back.
    e.exec(&["usermod", "-p", HASH, "bob"]);
    e.exec(&["chage", "-E", "2099-12-31", "bob"]);
    let expiry = e.shadow("bob")[7].clone();
    assert_eq!(expiry, "47481", "2099-12-31 in days since 1970");
    let (ok, err) = e.ssh_login("bob", &key);
    assert!(ok, "bob must log in before the lock: {err}");

    // No terminal, no --yes: refused, nothing changed.
    let t = e.test();
    let refused = run_in(&t, &["user", "lock", "bob"]).status(3);
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
    assert!(
        refused.stdout.contains("! lock bob on lock-ssh"),
        "the plan is shown before the refusal: {}",
        refused.stdout
    );
    assert_eq!(e.shadow("bob")[7], expiry);
    assert_eq!(e.cloudron_user("bob").unwrap()["active"], true);
    assert!(e.ssh_login("bob", &key).0);

    let run = run_in(&t, &["user", "lock", "bob", "--yes"]).success();
    assert!(
        run.stdout.contains(
            "! lock bob on lock-ssh (password locked, account expired; expiry was 2099-12-31)"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("! deactivate bob on cloudron"),
        "{}",
        run.stdout
    );
    let shadow = e.shadow("bob");
    assert_eq!(shadow[1], format!("!{HASH}"), "password locked");
    assert_eq!(shadow[7], "1", "account expired");
    let (ok, err) = e.ssh_login("bob", &key);
    assert!(!ok, "a locked account must not log in with its key");
    // sshd accepted the key, then PAM refused the expired account.
    assert!(err.contains("Your account has expired"), "{err}");
    assert_eq!(e.cloudron_user("bob").unwrap()["active"], false);
    // Files and keys are kept.
    assert!(
        e.exec(&["cat", "/home/bob/.ssh/authorized_keys"])
            .contains(&public)
    );

    let ops = run_in(&t, &["journal", "list", "--kind", "user.lock", "--json"])
        .success()
        .json();
    let hints: Vec<&str> = ops
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["status"] == "done")
        .map(|o| o["undo_hint"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        hints,
        [
            "matelot user unlock bob --on cloudron",
            "matelot user unlock bob --on lock-ssh"
        ]
    );

    // Locking again changes nothing.
    let again = run_in(&t, &["user", "lock", "bob", "--yes"]).success();
    assert_eq!(again.stdout.trim(), "nothing to change", "{}", again.stdout);

    let unlock = run_in(&t, &["user", "unlock", "bob", "--yes"]).success();
    assert!(
        unlock
            .stdout
            .contains("~ unlock bob on lock-ssh (expiry restored to 2099-12-31)"),
        "{}",
        unlock.stdout
    );
    let shadow = e.shadow("bob");
    assert_eq!(shadow[1], HASH, "password hash restored");
    assert_eq!(shadow[7], expiry, "expiry restored exactly");
    let (ok, err) = e.ssh_login("bob", &key);
    assert!(ok, "bob must log in again after unlock: {err}");
    assert_eq!(e.cloudron_user("bob").unwrap()["active"], true);
}

#[test]
fn locking_someone_unknown_changes_nothing_and_says_so() {
    let e = Estate::start("lock-none");
    let before = e.host_state();
    let run = e
        .test()
        .args(["user", "lock", "nobody-here", "--yes"])
        .run()
        .success();
    assert!(
        run.stdout.starts_with("nothing to change"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("note: nobody-here has no account on lock-none; nothing to change there"),
        "{}",
        run.stdout
    );
    assert_eq!(e.host_state(), before);
    assert_eq!(e.lab.writes(), vec![]);
    // A name that is not a name: a usage error before anything.
    e.test()
        .args(["user", "lock", "Bob;rm", "--yes"])
        .run()
        .status(2)
        .stderr_has("nothing was changed");
}

//! `user sync`: a spreadsheet roster (`;`, BOM, CRLF) onto a fresh host and an empty Cloudron,
//! then a re-run that changes nothing; pruning by locking; a bad roster refused whole with
//! every problem and its line; partial failures (a host step, a Cloudron call) reported with
//! exit 4, what applied, and what is left, and finished by a re-run.

use super::estate::Estate;
use crate::journal::run_in;

fn roster(key: &str) -> String {
    format!(
        "\u{FEFF}username;email;name;groups;keys;state\r\n\
         ann;ann@example.org;Ann Lee;physics gpu;{key};\r\n\
         ben;BEN@example.org;\"Ben O'Neil\";physics;;active\r\n\
         cid;cid@example.org;Cid;gpu;;locked\r\n"
    )
}

#[test]
fn a_roster_lands_on_both_systems_and_a_rerun_changes_nothing() {
    let e = Estate::start("sync-both");
    let (key, public) = e.keypair("ann");
    let t = e.test().write("people.csv", &roster(&public));

    let before = e.host_state();
    let check = run_in(&t, &["--check", "user", "sync", "people.csv"]).success();
    assert!(
        check.stdout.contains("+ user ann on sync-both"),
        "{}",
        check.stdout
    );
    assert!(
        check.stdout.contains("! lock cid on sync-both"),
        "{}",
        check.stdout
    );
    assert_eq!(e.host_state(), before, "--check changed the host");
    assert_eq!(e.lab.writes(), vec![], "--check wrote to the Cloudron");

    // A new person who is locked from the start is a moderate change: --yes.
    run_in(&t, &["user", "sync", "people.csv"]).status(3);
    assert_eq!(e.host_state(), before, "a refused sync changed the host");
    let run = run_in(&t, &["--json", "user", "sync", "people.csv", "--yes"])
        .success()
        .json();
    let host = run["summary"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["system"] == "sync-both")
        .cloned()
        .unwrap();
    assert_eq!(host["created"], 3, "{run:#}");
    assert_eq!(host["failed"], 0);
    assert_eq!(host["groups_created"], 2);
    assert!(
        run["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["outcome"]["status"] == "changed"),
        "{run:#}"
    );

    let ben = e.exec(&["getent", "passwd", "ben"]);
    assert!(ben.contains(":Ben O'Neil:/home/ben:"), "{ben}");
    assert!(e.exec(&["id", "-nG", "ann"]).contains("gpu"));
    assert_eq!(e.shadow("cid")[7], "1", "cid is locked from the start");
    assert!(e.ssh_login("ann", &key).0, "ann logs in with her key");
    assert_eq!(e.cloudron_user("ben").unwrap()["email"], "ben@example.org");
    assert_eq!(e.cloudron_user("cid").unwrap()["active"], false);
    let ann = e.cloudron_user("ann").unwrap();
    assert_eq!(e.cloudron_groups_of(&ann), ["gpu", "physics"]);

    // Again: nothing to change, nothing written, no journal row.
    let after = e.host_state();
    let writes = e.lab.writes().len();
    let ops = run_in(&t, &["journal", "list", "--json"]).json();
    let again = run_in(&t, &["user", "sync", "people.csv"]).success();
    assert!(
        again.stdout.starts_with("nothing to change"),
        "{}",
        again.stdout
    );
    assert_eq!(e.host_state(), after);
    assert_eq!(e.lab.writes().len(), writes);
    assert_eq!(run_in(&t, &["journal", "list", "--json"]).json(), ops);
}

#[test]
fn prune_lock_locks_those_not_in_the_roster_and_remove_is_refused() {
    let e = Estate::start("sync-prune");
    let (_, public) = e.keypair("ann");
    let t = e.test().write("people.csv", &roster(&public));
    run_in(&t, &["user", "sync", "people.csv", "--yes"]).success();
    run_in(&t, &["user", "add", "dan", "--email", "dan@example.org"]).success();

    let keep = run_in(&t, &["user", "sync", "people.csv"]).success();
    assert!(
        keep.stdout
            .contains("not in the roster, left alone on sync-prune: "),
        "{}",
        keep.stdout
    );
    assert!(keep.stdout.contains("dan"), "{}", keep.stdout);
    assert!(
        keep.stdout
            .contains("not in the roster, left alone on cloudron: dan (use --prune lock"),
        "{}",
        keep.stdout
    );

    let before = e.host_state();
    let refused = run_in(
        &t,
        &["user", "sync", "people.csv", "--prune", "remove", "--yes"],
    )
    .status(3);
    assert!(refused.stderr.contains("user remove"), "{}", refused.stderr);
    assert_eq!(e.host_state(), before);

    run_in(
        &t,
        &["user", "sync", "people.csv", "--prune", "lock", "--yes"],
    )
    .success()
    .stdout_has("! lock dan on sync-prune")
    .stdout_has("! deactivate dan on cloudron");
    assert_eq!(e.shadow("dan")[7], "1");
    assert_eq!(e.cloudron_user("dan").unwrap()["active"], false);
    assert_eq!(e.shadow("ann")[7], "", "people in the roster are untouched");
}

#[test]
fn a_bad_roster_is_refused_whole_with_every_problem_and_its_line() {
    let e = Estate::start("sync-bad");
    let before = e.host_state();
    let text = "username,email,keys\n\
                good,good@example.org,\n\
                Bad;name,bad@example.org,\n\
                eve,not-an-email,\n\
                mal,mal@example.org,command=\"touch /tmp/canary\" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl x\n\
                good,good2@example.org,\n";
    let run = e
        .test()
        .write("people.csv", text)
        .args(["user", "sync", "people.csv", "--yes"])
        .run()
        .status(2);
    for want in [
        "people.csv:3:",
        "people.csv:4:",
        "people.csv:5:",
        "people.csv:6:",
        "nothing was changed",
    ] {
        assert!(run.stderr.contains(want), "{want} missing:\n{}", run.stderr);
    }
    assert!(run.stderr.contains("options prefix"), "{}", run.stderr);
    assert_eq!(e.host_state(), before);
    assert_eq!(
        e.lab.requests(),
        vec![],
        "not even a read before the roster is valid"
    );
}

#[test]
fn a_failed_host_step_and_a_failed_cloudron_call_give_exit_4_and_a_rerun_finishes() {
    let e = Estate::start("sync-partial");
    let (_, public) = e.keypair("ann");
    let t = e.test().write("people.csv", &roster(&public));
    // ben's home cannot be made (a file is in the way), and the Cloudron fails one creation.
    e.exec(&["sh", "-c", "echo in-the-way > /home/ben"]);
    e.lab.fault("POST /api/v1/users", "http_500", 1);
    let run = run_in(&t, &["user", "sync", "people.csv", "--yes"]).status(4);
    assert!(
        run.stdout.contains("FAILED  + user ben on sync-partial"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("NOT RUN"), "{}", run.stdout);
    // Cloudron creations run side by side: whichever came first met the fault.
    let failed: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("FAILED  + user ") && l.contains(" on cloudron"))
        .map(|l| l.split_whitespace().nth(3).unwrap_or_default())
        .collect();
    assert_eq!(failed.len(), 1, "{}", run.stdout);
    // Still to do: only what failed (facts gathered again, the changes that worked are gone).
    let (_, rest) = run.stdout.split_once("still to do:").expect("still to do");
    let todo: Vec<&str> = rest.lines().filter(|l| l.starts_with("  ")).collect();
    assert!(
        todo.iter()
            .any(|l| l.starts_with("  + user ben on sync-partial")),
        "{todo:?}"
    );
    for l in todo.iter().filter(|l| l.contains(" on cloudron")) {
        assert!(
            l.contains(&format!(" {} on cloudron", failed[0])),
            "{todo:?}"
        );
    }
    assert!(!todo.iter().any(|l| l.contains("+ group")), "{todo:?}");
    assert!(run.stderr.contains("partly applied"), "{}", run.stderr);
    // What applied did apply: ann exists on the host, the two others on the Cloudron.
    assert!(e.try_exec(&["id", "ann"]).0);
    assert!(
        !e.try_exec(&["id", "ben"]).0,
        "the half-made account was deleted"
    );
    for who in ["ann", "ben", "cid"] {
        assert_eq!(e.cloudron_user(who).is_none(), who == failed[0], "{who}");
    }
    let ops = run_in(&t, &["journal", "list", "--json"]).success().json();
    let statuses: Vec<&str> = ops
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["partial", "partial"]);

    e.exec(&["rm", "-f", "/home/ben"]);
    run_in(&t, &["user", "sync", "people.csv", "--yes"]).success();
    assert!(e.try_exec(&["test", "-d", "/home/ben"]).0);
    assert!(e.cloudron_user(failed[0]).is_some());
    run_in(&t, &["user", "sync", "people.csv"])
        .success()
        .stdout_has("nothing to change");
}

#[test]
fn a_changed_roster_changes_only_what_differs_and_asks_first() {
    let e = Estate::start("sync-change");
    let (key1, pub1) = e.keypair("ann1");
    let (key2, pub2) = e.keypair("ann2");
    let t = e.test().write("people.csv", &roster(&pub1));
    run_in(&t, &["user", "sync", "people.csv", "--yes"]).success();
    assert!(e.ssh_login("ann", &key1).0);
    let ben_before = e.exec(&["sh", "-c", "getent passwd ben; id ben; ls -la /home/ben"]);
    let ben_cloudron = e.cloudron_user("ben");

    let v2 = format!(
        "username;email;name;groups;keys;state\n\
         ann;ann.lee@example.org;Ann Lee-Smith;physics;{pub2};\n\
         ben;BEN@example.org;\"Ben O'Neil\";physics;;active\n\
         cid;cid@example.org;Cid;gpu;;locked\n"
    );
    std::fs::write(t.path().join("people.csv"), v2).unwrap();
    // Taking a group and a key away, and changing an email, are moderate: asked first.
    run_in(&t, &["user", "sync", "people.csv"]).status(3);
    assert!(
        e.ssh_login("ann", &key1).0,
        "nothing changed after the refusal"
    );

    let run = run_in(&t, &["user", "sync", "people.csv", "--yes"]).success();
    for want in [
        "~ name of ann on sync-change: 'Ann Lee' -> 'Ann Lee-Smith'",
        "~ groups of ann on sync-change: -gpu",
        "~ keys of ann on sync-change: +1 -1 (now 1 key)",
        "~ profile of ann on cloudron: email 'ann@example.org' -> 'ann.lee@example.org', \
         display name 'Ann Lee' -> 'Ann Lee-Smith'",
        "~ groups of ann on cloudron: -gpu",
    ] {
        assert!(run.stdout.contains(want), "{want}\n{}", run.stdout);
    }
    assert_eq!(
        run.stdout.matches("ben").count(),
        0,
        "ben is untouched: {}",
        run.stdout
    );

    let passwd = e.exec(&["getent", "passwd", "ann"]);
    assert!(passwd.contains(":Ann Lee-Smith:"), "{passwd}");
    let groups = e.exec(&["id", "-nG", "ann"]);
    assert!(
        groups.contains("physics") && !groups.contains("gpu"),
        "{groups}"
    );
    assert_eq!(
        e.exec(&["cat", "/home/ann/.ssh/authorized_keys"]),
        format!("{pub2}\n")
    );
    assert!(e.ssh_login("ann", &key2).0, "the new key logs in");
    assert!(!e.ssh_login("ann", &key1).0, "the old key is refused");
    let ann = e.cloudron_user("ann").unwrap();
    assert_eq!(ann["email"], "ann.lee@example.org");
    assert_eq!(ann["displayName"], "Ann Lee-Smith");
    assert_eq!(e.cloudron_groups_of(&ann), ["physics"]);
    assert_eq!(
        e.exec(&["sh", "-c", "getent passwd ben; id ben; ls -la /home/ben"]),
        ben_before
    );
    assert_eq!(e.cloudron_user("ben"), ben_cloudron);
}

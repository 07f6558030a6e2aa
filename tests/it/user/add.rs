//! `user add` and `user list`: a person on both systems, checked on the host (id, home mode,
//! authorized_keys content, owner and modes) and on the Cloudron through its API; the same uid
//! on every host; `--check` changes nothing; a second add changes nothing.

use cloudron_emulator::Seed;

use super::estate::Estate;
use crate::common_sandbox::private;
use crate::journal::run_in;

#[test]
fn add_creates_the_person_on_both_systems_and_a_second_add_changes_nothing() {
    let e = Estate::start("add-both");
    let (_, key1) = e.keypair("alice1");
    let (_, key2) = e.keypair("alice2");
    let uid = e.next_uid();
    let t = e.test().write("alice.pub", &format!("{key1}\n"));
    let run = run_in(
        &t,
        &[
            "user",
            "add",
            "Alice",
            "--email",
            "Alice@Example.org",
            "--name",
            "Alice  Martin",
            "--key",
            "alice.pub",
            "--key",
            &key2,
            "--group",
            "physics",
            "--group",
            "GPU",
        ],
    )
    .success();
    assert!(
        run.stdout.contains("+ group gpu on add-both"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&format!(
            "+ user alice on add-both (uid {uid}; groups: gpu, physics; 2 keys)"
        )),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("+ user alice on cloudron"),
        "{}",
        run.stdout
    );

    // The host, as it is.
    let id = e.exec(&["id", "alice"]);
    assert!(id.starts_with(&format!("uid={uid}(alice) gid=")), "{id}");
    assert!(id.contains("(alice) groups="), "a group of her own: {id}");
    assert!(id.contains("(gpu)") && id.contains("(physics)"), "{id}");
    let gid = e.exec(&["id", "-g", "alice"]).trim().to_string();
    let passwd = e.exec(&["getent", "passwd", "alice"]);
    assert_eq!(
        passwd.trim(),
        format!("alice:x:{uid}:{gid}:Alice Martin:/home/alice:/bin/bash")
    );
    assert_eq!(
        e.exec(&["stat", "-c", "%a %U %G", "/home/alice", "/home/alice/.ssh"])
            .lines()
            .collect::<Vec<_>>(),
        ["700 alice alice", "700 alice alice"]
    );
    assert_eq!(
        e.exec(&["stat", "-c", "%a %U", "/home/alice/.ssh/authorized_keys"])
            .trim(),
        "600 alice"
    );
    assert_eq!(
        e.exec(&["cat", "/home/alice/.ssh/authorized_keys"]),
        format!("{key1}\n{key2}\n")
    );

    // The Cloudron, through its API.
    let u = e.cloudron_user("alice").expect("alice on the Cloudron");
    assert_eq!(u["email"], "alice@example.org");
    assert_eq!(u["displayName"], "Alice Martin");
    assert_eq!(u["active"], true);
    assert_eq!(e.cloudron_groups_of(&u), ["gpu", "physics"]);
    assert!(
        e.lab
            .writes()
            .iter()
            .all(|w| !w.path.ends_with("/send_invite_email")),
        "no invitation without --invite"
    );

    // The journal: one row per system, done, with how to undo.
    let ops = run_in(&t, &["journal", "list", "--json"]).success().json();
    let ops = ops.as_array().expect("ops");
    let targets: Vec<&str> = ops.iter().map(|o| o["target"].as_str().unwrap()).collect();
    assert_eq!(targets, ["user:alice@cloudron", "user:alice@add-both"]);
    for o in ops {
        assert_eq!(o["kind"], "user.add");
        assert_eq!(o["status"], "done");
    }
    assert_eq!(
        ops[1]["undo_hint"],
        "matelot user remove alice --on add-both"
    );

    // Again: nothing to change, nothing written anywhere.
    let before = e.host_state();
    let writes = e.lab.writes().len();
    let again = e
        .test()
        .write("alice.pub", &format!("{key1}\n"))
        .args(["user", "add", "alice", "--email", "alice@example.org"])
        .args([
            "--name",
            "Alice Martin",
            "--key",
            "alice.pub",
            "--key",
            &key2,
        ])
        .args(["--group", "physics", "--group", "gpu"])
        .run()
        .success();
    assert_eq!(again.stdout.trim(), "nothing to change", "{}", again.stdout);
    assert_eq!(e.host_state(), before);
    assert_eq!(e.lab.writes().len(), writes);

    // And list shows her on both systems.
    let list = e
        .test()
        .args(["user", "list", "--json"])
        .run()
        .success()
        .json();
    let rows: Vec<(String, String, String)> = list["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .map(|a| {
            (
                a["username"].as_str().unwrap_or_default().to_string(),
                a["on"].as_str().unwrap_or_default().to_string(),
                a["state"].as_str().unwrap_or_default().to_string(),
            )
        })
        .filter(|(u, _, _)| u == "alice")
        .collect();
    assert_eq!(
        rows,
        [
            ("alice".into(), "add-both".into(), "active".into()),
            ("alice".into(), "cloudron".into(), "active".into())
        ]
    );
    let human = e
        .test()
        .args(["user", "list", "--on", "add-both"])
        .run()
        .success();
    let line = human
        .stdout
        .lines()
        .find(|l| l.starts_with("alice"))
        .unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert_eq!(
        line,
        format!("alice Alice Martin - gpu,physics 2 active {uid} add-both")
    );
}

#[test]
fn check_mode_prints_the_plan_and_changes_nothing() {
    let e = Estate::with_seed("add-check", Seed::Demo);
    let before = e.host_state();
    let users_before = e.api("users");
    let t = e.test();
    let run = run_in(
        &t,
        &[
            "--check",
            "user",
            "add",
            "bob",
            "--email",
            "bob@example.org",
            "--group",
            "physics",
        ],
    )
    .success();
    assert!(
        run.stdout.contains("+ user bob on add-check"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("+ user bob on cloudron"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("check mode: nothing was changed"),
        "{}",
        run.stderr
    );
    assert_eq!(e.host_state(), before);
    assert_eq!(e.api("users"), users_before);
    assert_eq!(e.lab.writes(), vec![], "no write reached the Cloudron");
    assert!(
        !t.state_dir().join("journal.sqlite").exists(),
        "check mode must not create the journal"
    );
    let json = e
        .test()
        .args([
            "--check",
            "--json",
            "user",
            "add",
            "bob",
            "--email",
            "bob@example.org",
        ])
        .run()
        .success()
        .json();
    assert_eq!(json["check"], true);
    assert_eq!(json["results"], serde_json::Value::Null);
    assert_eq!(json["plan"]["changes"][0]["action"], "create_user");
    assert_eq!(e.host_state(), before);
}

#[test]
fn invite_on_cloudron_only_touches_nothing_on_the_host() {
    let e = Estate::start("add-invite");
    let before = e.host_state();
    e.test()
        .args(["user", "add", "carol", "--email", "carol@example.org"])
        .args(["--on", "cloudron", "--invite"])
        .run()
        .success()
        .stdout_has("+ invite carol on cloudron (mail to carol@example.org)");
    assert_eq!(e.host_state(), before);
    let u = e.cloudron_user("carol").expect("carol");
    let id = u["id"].as_str().unwrap();
    let invites = e
        .lab
        .seen("POST", &format!("/api/v1/users/{id}/send_invite_email"));
    assert_eq!(invites.len(), 1, "{invites:?}");
    assert_eq!(invites[0].status, Some(202));
}

#[test]
fn a_person_gets_the_same_uid_on_every_host() {
    let e = Estate::start("uid-one");
    let two = private("uid-two", "127.0.0.1", 0);
    // The next free uid is taken on the second host by someone matelot does not know.
    let base = e.next_uid();
    let out = two
        .host
        .exec(&["useradd", "-m", "-u", &base.to_string(), "olduser"])
        .expect("useradd");
    assert!(out.status.success());
    let want = (base + 1).to_string();
    let h = &two.host;
    let mut kh = std::fs::read_to_string(e.known_hosts()).unwrap();
    kh.push_str(&format!("{}\n", h.known_hosts_line()));
    std::fs::write(e.known_hosts(), kh).unwrap();
    let toml = format!(
        "{}\n[compute.uid-two]\nhost = \"{}\"\nport = {}\nidentity = \"{}\"\nknown_hosts = \"{}\"\n",
        e.toml(),
        h.addr,
        h.port,
        h.client_key.display(),
        e.known_hosts().display()
    );
    e.test()
        .config(&toml)
        .args([
            "user",
            "add",
            "dora",
            "--email",
            "dora@example.org",
            "--on",
            "compute",
        ])
        .run()
        .success()
        .stdout_has(&format!("+ user dora on uid-one (uid {want};"))
        .stdout_has(&format!("+ user dora on uid-two (uid {want};"));
    assert_eq!(e.exec(&["id", "-u", "dora"]).trim(), want);
    let on_two = two.host.exec(&["id", "-u", "dora"]).expect("id");
    assert_eq!(String::from_utf8_lossy(&on_two.stdout).trim(), want);
    assert!(
        e.cloudron_user("dora").is_none(),
        "--on compute leaves Cloudron alone"
    );
}

#[test]
fn a_held_run_lock_stops_add_with_exit_75_before_anything() {
    let e = Estate::start("add-locked");
    let t = e.test();
    let state = t.state_dir();
    std::fs::create_dir_all(&state).unwrap();
    // Another process holds the run lock (flock, as matelot takes it).
    let mut holder = std::process::Command::new("flock")
        .arg("-x")
        .arg(state.join("matelot.lock"))
        .args(["sleep", "30"])
        .spawn()
        .expect("flock");
    let lock = state.join("matelot.lock");
    while !lock.exists() {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    std::thread::sleep(std::time::Duration::from_millis(200));
    let before = e.host_state();
    run_in(&t, &["user", "add", "eve", "--email", "eve@example.org"])
        .status(75)
        .stderr_has("another matelot run holds the lock");
    let _ = holder.kill();
    let _ = holder.wait();
    assert_eq!(e.host_state(), before);
    assert_eq!(
        e.lab.requests(),
        vec![],
        "not even a read while the lock is held"
    );
}

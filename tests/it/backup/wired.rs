//! `backup run|list|verify|prune|init` over both targets at once: the Cloudron emulator over
//! HTTPS and the shared sshd sandbox running the machine's real restic. Each test has its own
//! repository directory on the host, its own emulator and its own state directory; a tiny
//! HTTP listener on 127.0.0.1 records what `--ping` sends.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::row;
use crate::common_sandbox::{shared, unique_user};
use crate::journal::run_in;
use crate::lab_client::Lab;
use crate::support::Test;

/// A directory of the test's own on the shared host: `data/` to back up, `pw`; the
/// repository `repo` is created only when `init` is true (by `matelot backup init`).
fn host_dir(prefix: &str) -> String {
    let dir = format!("/srv/{}", unique_user(prefix));
    let out = shared()
        .exec(&[
            "sh",
            "-c",
            r#"mkdir -p "$1/data" && echo hello > "$1/data/a" && umask 077 && echo pw-of-the-test > "$1/pw""#,
            "sh",
            &dir,
        ])
        .expect("exec in the sandbox");
    assert!(out.status.success(), "{out:?}");
    dir
}

/// `[compute.calcul]` for the shared sandbox and `[backup.compute]` in `dir`.
fn compute_toml(dir: &str, keep: &str) -> String {
    let h = shared();
    format!(
        "\n[compute.calcul]\nhost = \"{}\"\nport = {}\nuser = \"root\"\nidentity = \"{}\"\n\
         known_hosts = \"{}\"\n\n[backup.compute]\nrepository = \"{dir}/repo\"\n\
         password_file = \"{dir}/pw\"\npaths = [\"{dir}/data\"]\nkeep = {keep}\n",
        h.addr,
        h.port,
        h.client_key.display(),
        h.known_hosts.display()
    )
}

/// A test of the real binary configured for the emulator AND the compute host.
fn both(lab: &Lab, dir: &str, keep: &str) -> Test {
    let t = lab.test();
    let toml = format!("{}{}", lab.toml(), compute_toml(dir, keep));
    t.config(&toml)
}

fn journal(t: &Test) -> Vec<Value> {
    run_in(t, &["--json", "journal", "list"])
        .success()
        .json()
        .as_array()
        .expect("operations")
        .clone()
}

fn op<'a>(ops: &'a [Value], kind: &str) -> &'a Value {
    ops.iter()
        .find(|o| o["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in the journal: {ops:#?}"))
}

#[test]
fn both_targets_run_at_once_into_one_document_listed_journalled_and_pruned() {
    let lab = Lab::start();
    let dir = host_dir("bw");
    // keep one a day: of two snapshots taken today, prune would forget one.
    let t = both(&lab, &dir, "{ daily = 1 }");

    // The repository is not there yet: init creates it (and says so), a second init keeps it.
    let init = run_in(&t, &["--json", "backup", "init", "--compute"])
        .success()
        .json();
    assert_eq!(init["hosts"][0]["status"], "created", "{init}");
    run_in(&t, &["backup", "init", "--compute", "--host", "calcul"])
        .success()
        .stdout_has("existing");

    let run = run_in(&t, &["--json", "backup", "run"]);
    let doc = run.json();
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(doc["status"], "ok");
    let backup_id = doc["cloudron"]["backup"]["id"].as_str().expect("id");
    assert_eq!(doc["cloudron"]["status"], "ok");
    let host = &doc["compute"]["hosts"][0];
    assert_eq!(host["host"], "calcul");
    assert_eq!(host["status"], "ok");
    let snapshot = host["snapshot_id"].as_str().expect("snapshot id");
    assert_eq!(snapshot.len(), 64, "the full id: {snapshot}");
    assert_eq!(lab.seen("POST", "/api/v1/backups/create").len(), 1);

    // The Cloudron lists the new backup; restic lists the new snapshot.
    let listed = lab
        .test()
        .args(["--json", "backup", "list"])
        .run()
        .success()
        .json();
    assert_eq!(listed["backups"][0]["id"], backup_id);
    let snaps = run_in(&t, &["--json", "backup", "list", "--compute"])
        .success()
        .json();
    let ids: Vec<&str> = snaps["compute"][0]["snapshots"]
        .as_array()
        .expect("snapshots")
        .iter()
        .filter_map(|s| s["id"].as_str())
        .collect();
    assert_eq!(ids, [snapshot]);
    run_in(&t, &["backup", "list", "--compute", "--host", "calcul"])
        .success()
        .stdout_has(&snapshot[..8]);

    // verify: both targets, the newest of each.
    let v = run_in(&t, &["--json", "backup", "verify"]).success().json();
    assert_eq!(v["cloudron"]["backup"]["id"], backup_id);
    assert_eq!(v["compute"][0]["snapshot_id"], snapshot);

    let ops = journal(&t);
    let row = op(&ops, "backup.run");
    assert_eq!(row["status"], "done");
    assert_eq!(row["target"], "cloudron compute:calcul");
    assert_eq!(doc["operation"], row["id"]);
    assert_eq!(op(&ops, "backup.init")["status"], "done");

    // A second compute snapshot; prune --check says one would go and removes nothing.
    let table = run_in(&t, &["backup", "run", "--compute"]).success();
    assert_eq!(row_of(&table.stdout, "calcul")[1], "ok");
    let dry = run_in(&t, &["--json", "--check", "backup", "prune", "--compute"])
        .success()
        .json();
    assert_eq!(dry["compute"][0]["dry_run"], true);
    assert_eq!(
        dry["compute"][0]["removed"].as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(count_snapshots(&t), 2, "--check changed nothing");
    assert!(
        journal(&t).iter().all(|o| o["kind"] != "backup.prune"),
        "--check writes no journal row"
    );
    // Without a terminal or --yes, prune is refused (3) and changes nothing.
    run_in(&t, &["backup", "prune", "--compute"])
        .status(3)
        .stderr_has("--yes");
    assert_eq!(count_snapshots(&t), 2);
    run_in(&t, &["backup", "prune", "--compute", "--yes"]).success();
    assert_eq!(count_snapshots(&t), 1);
    assert_eq!(op(&journal(&t), "backup.prune")["status"], "done");
}

fn row_of<'a>(stdout: &'a str, first: &str) -> Vec<&'a str> {
    stdout
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|c| c.first() == Some(&first))
        .unwrap_or_else(|| panic!("no {first} row in:\n{stdout}"))
}

fn count_snapshots(t: &Test) -> usize {
    run_in(t, &["--json", "backup", "list", "--compute"])
        .success()
        .json()["compute"][0]["snapshots"]
        .as_array()
        .map_or(0, Vec::len)
}

#[test]
fn a_failed_host_and_a_verified_cloudron_exit_4_with_both_reported() {
    let lab = Lab::start();
    // No init: the repository is missing, and the message says how to create it.
    let dir = host_dir("bwfail");
    let t = both(&lab, &dir, "{ daily = 7 }");
    let run = run_in(&t, &["backup", "run"]).status(4);
    assert_eq!(row(&run, "cloudron")[1], "ok");
    assert_eq!(row(&run, "calcul")[1], "failed");
    assert!(
        run.stderr
            .contains("backup failed on 1 of 2 targets:\n  calcul: restic repository"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("or, from here: matelot backup init --compute --host calcul"),
        "{}",
        run.stderr
    );

    let doc = run_in(&t, &["--json", "backup", "run"]).status(4).json();
    assert_eq!(doc["status"], "partial");
    assert!(doc["cloudron"]["backup"]["id"].is_string());
    assert_eq!(doc["compute"]["hosts"][0]["status"], "failed");
    assert!(doc["compute"]["hosts"][0]["snapshot_id"].is_null());
    let ops = journal(&t);
    assert!(ops.iter().all(|o| o["kind"] == "backup.run"));
    assert_eq!(ops[0]["status"], "partial");
    assert!(
        ops[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("1 of 2 targets")),
        "{ops:#?}"
    );

    // Both failing: exit 1.
    lab.fault("POST /api/v1/backups/create", "http_500", 1);
    let doc = run_in(&t, &["--json", "backup", "run"]).status(1).json();
    assert_eq!(doc["status"], "failed");
}

/// A listener that answers 200 to everything and records each request line.
fn ping_listener() -> (String, Arc<Mutex<Vec<String>>>) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", l.local_addr().expect("addr"));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let rec = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in l.incoming().flatten() {
            let mut reader = BufReader::new(&stream);
            let mut first = String::new();
            let _ = reader.read_line(&mut first);
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            rec.lock().expect("lock").push(first.trim().to_string());
            let _ = (&stream)
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nOK");
        }
    });
    (base, seen)
}

fn taken(seen: &Arc<Mutex<Vec<String>>>) -> Vec<String> {
    std::mem::take(&mut *seen.lock().expect("lock"))
}

#[test]
fn ping_tells_success_and_failure_and_never_prints_the_token() {
    let lab = Lab::start();
    let (base, seen) = ping_listener();
    let url = format!("{base}/ping/s3cr3t-token");
    let run = lab
        .test()
        .args(["-v", "backup", "run", "--ping", &url, "--ping-start"])
        .run()
        .success();
    assert_eq!(
        taken(&seen),
        [
            "GET /ping/s3cr3t-token/start HTTP/1.1",
            "GET /ping/s3cr3t-token HTTP/1.1"
        ]
    );
    assert!(!run.stderr.contains("s3cr3t") && !run.stdout.contains("s3cr3t"));

    lab.fault("POST /api/v1/backups/create", "task_error", 1);
    let run = lab
        .test()
        .args(["--json", "backup", "run", "--ping", &url])
        .run()
        .status(1);
    assert_eq!(taken(&seen), ["GET /ping/s3cr3t-token/fail HTTP/1.1"]);
    assert_eq!(run.json()["pings"][0]["signal"], "fail");
    assert!(!run.stdout.contains("s3cr3t") && !run.stderr.contains("s3cr3t"));

    // Nobody listening: a warning naming only the host, and the backup still counts.
    let closed = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let run = lab
        .test()
        .args(["backup", "run", "--ping"])
        .arg(format!("http://127.0.0.1:{port}/ping/s3cr3t-token"))
        .run()
        .success()
        .stderr_has(&format!(
            "warning: the success ping to http://127.0.0.1:{port}/… failed"
        ));
    assert!(!run.stderr.contains("s3cr3t"), "{}", run.stderr);

    // A ping URL that is not http(s) is a usage error before anything runs.
    lab.test()
        .args(["backup", "run", "--ping", "hc-ping.com/s3cr3t"])
        .run()
        .status(2)
        .stderr_lacks("s3cr3t");
    assert_eq!(lab.seen("POST", "/api/v1/backups/create").len(), 3);
}

#[test]
fn an_overlapping_run_exits_75_naming_the_first_and_pings_nothing() {
    let lab = Lab::with(|o| o.task_duration = Duration::from_secs(3));
    let (base, seen) = ping_listener();
    let t = lab.test();
    let mut first = t.command();
    first
        .args(["backup", "run"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let first = first.spawn().expect("spawn the first run");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let v = run_in(&t, &["--json", "lock", "status"]).success().json();
        if v["state"] == "held" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the first run never took the lock"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let ping = format!("{base}/p");
    let second = run_in(&t, &["backup", "run", "--ping", &ping])
        .status(75)
        .stderr_has("another matelot run holds the lock: pid ")
        .stderr_has("`matelot backup run`");
    assert!(second.stdout.is_empty(), "{}", second.stdout);
    let out = first.wait_with_output().expect("first run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(taken(&seen), Vec::<String>::new(), "the refused run pinged");
    assert_eq!(lab.seen("POST", "/api/v1/backups/create").len(), 1);
}

#[test]
fn app_stop_and_app_backup_are_journalled_with_undo_and_backup_id() {
    let lab = Lab::start();
    let t = lab.test();
    run_in(&t, &["app", "stop", "chat", "--yes"]).success();
    let backup = run_in(&t, &["--json", "app", "backup", "matomo"])
        .success()
        .json();
    let ops = journal(&t);
    let stop = op(&ops, "app.stop");
    assert_eq!(stop["status"], "done");
    assert_eq!(stop["target"], "chat.example.org");
    assert_eq!(stop["undo_hint"], "matelot undo 1");
    let b = op(&ops, "app.backup");
    assert_eq!(b["status"], "done");
    // The backup it made is its result (it is not a restore point: it saved nothing before a
    // change).
    assert!(b["restore_point"].is_null(), "{b:#}");
    assert_eq!(b["result"]["type"], "task");
    assert_eq!(b["result"]["backup_id"], backup["backup"]["id"]);

    // A failed start that leaves the app in error is recorded as such: failed after changing
    // things, with the app's state and the way back.
    lab.fault("POST /api/v1/apps/{id}/start", "task_error", 1);
    run_in(&t, &["app", "start", "chat"]).status(1);
    let start = op(&journal(&t), "app.start").clone();
    assert_eq!(start["status"], "failed_changed", "{start:#}");
    let message = start["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("chat.example.org is now") && message.contains("the way back"),
        "{start:#}"
    );
    // --check changes nothing and writes nothing.
    let before = journal(&t).len();
    run_in(&t, &["--check", "app", "stop", "matomo"]).success();
    assert_eq!(journal(&t).len(), before);
}

//! `matelot lab up --hosts N`, `lab down` and `lab tour` with the real binary: real sandboxed
//! sshd hosts, a real SSH login through the written `matelot.toml`, real restic inside a host,
//! and proof from `/proc` (processes and every process's mounts) that nothing is left behind,
//! also after a start that fails half-way.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Output;
use std::time::Instant;

use serde_json::Value;

use crate::support::Test;
use matelot::lab::tour;

/// Runs `lab down` on a directory when a test ends, even by a failed assertion.
struct DownOnDrop<'a>(&'a Test, &'static str);

impl Drop for DownOnDrop<'_> {
    fn drop(&mut self) {
        let _ = self
            .0
            .command()
            .args(["lab", "down", "--dir", self.1])
            .output();
    }
}

fn run(t: &Test, args: &[&str]) -> Output {
    t.command().args(args).output().expect("run matelot")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// Every process whose command line names `dir`, and every process with a mount under `dir`
/// (the sandboxes mount tmpfs on `DIR/hosts/NAME/etc-ram` in their own namespaces).
fn leftovers(dir: &Path) -> Vec<String> {
    let needle = dir.display().to_string();
    let me = std::process::id().to_string();
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let pid = e.file_name().to_string_lossy().into_owned();
        if !pid.bytes().all(|b| b.is_ascii_digit()) || pid == me {
            continue;
        }
        let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
        let zombie = stat
            .rsplit_once(')')
            .is_some_and(|(_, r)| r.trim_start().starts_with(['Z', 'X']));
        if zombie {
            continue;
        }
        let cmd = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
        let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
        if cmd.contains(&needle) {
            found.push(format!("process {pid}: {cmd}"));
        }
        let mounts = std::fs::read_to_string(e.path().join("mounts")).unwrap_or_default();
        if let Some(m) = mounts.lines().find(|l| l.contains(&needle)) {
            found.push(format!("process {pid} mounts {m}"));
        }
    }
    let host_mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    found.extend(
        host_mounts
            .lines()
            .filter(|l| l.contains(&needle))
            .map(|l| format!("/proc/mounts: {l}")),
    );
    found
}

fn alive(pid: u64) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .map(|(_, r)| !r.trim_start().starts_with(['Z', 'X']))
        })
        .unwrap_or(false)
}

fn nsenter(pid1: u64, cmd: &[&str]) -> Output {
    std::process::Command::new("nsenter")
        .arg(format!("--target={pid1}"))
        .args(["--mount", "--uts", "--pid", "--"])
        .args(cmd)
        .output()
        .expect("nsenter")
}

#[test]
fn three_hosts_are_reachable_through_the_written_config_and_down_leaves_nothing() {
    let t = Test::new();
    let _down = DownOnDrop(&t, "lab");
    let t0 = Instant::now();
    let up = run(
        &t,
        &[
            "--json",
            "lab",
            "up",
            "--dir",
            "lab",
            "--hosts",
            "3",
            "--task-duration",
            "100ms",
        ],
    );
    let took = t0.elapsed();
    let rep: Value = serde_json::from_str(&ok(&up)).expect("one JSON document");
    eprintln!("lab up --hosts 3 took {} ms", took.as_millis());
    assert_eq!(rep["running"], true);
    let procs = rep["processes"].as_array().expect("processes");
    assert_eq!(procs.len(), 4, "{rep}");
    let hosts: Vec<&Value> = procs.iter().filter(|p| p["kind"] == "compute").collect();
    let names: Vec<&str> = hosts.iter().filter_map(|h| h["name"].as_str()).collect();
    assert_eq!(names, ["calcul1", "calcul2", "calcul3"]);
    let addrs: Vec<&str> = hosts.iter().filter_map(|h| h["address"].as_str()).collect();
    assert_eq!(addrs, ["127.0.0.2", "127.0.0.3", "127.0.0.4"]);
    for h in &hosts {
        assert_eq!(h["running"], true);
        assert!(h["port"].as_u64().is_some_and(|p| p > 0), "{h}");
        assert!(alive(h["pid"].as_u64().expect("pid")));
    }

    let dir = t.path().join("lab");
    ok(&run(
        &t,
        &["--config", "lab/matelot.toml", "config", "check"],
    ));
    let check = ok(&run(
        &t,
        &["--config", "lab/matelot.toml", "host", "check", "calcul2"],
    ));
    assert!(check.contains("Linux calcul2"), "{check}");
    assert!(check.contains("127.0.0.3"), "{check}");
    for n in names {
        let mode = std::fs::metadata(dir.join(format!("{n}.key")))
            .expect("key copied")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{n}.key");
    }

    // known_hosts holds exactly what `host trust` records after checking the fingerprint.
    let list: Value = serde_json::from_str(&ok(&run(
        &t,
        &["--json", "--config", "lab/matelot.toml", "host", "list"],
    )))
    .expect("json");
    let fp = list["hosts"][0]["keys"][0]["fingerprint"]
        .as_str()
        .expect("a pinned key")
        .to_string();
    let toml = std::fs::read_to_string(dir.join("matelot.toml")).expect("config");
    assert!(toml.contains("[backup.compute]\nrepository = \"/srv/restic\"\n"));
    std::fs::write(
        dir.join("by-hand.toml"),
        toml.replace("known_hosts = \"known_hosts\"", "known_hosts = \"by-hand\""),
    )
    .expect("write");
    ok(&run(
        &t,
        &[
            "--config",
            "lab/by-hand.toml",
            "host",
            "trust",
            "calcul1",
            "--fingerprint",
            &fp,
        ],
    ));
    let by_hand = std::fs::read_to_string(dir.join("by-hand")).expect("trusted");
    let pinned = std::fs::read_to_string(dir.join("known_hosts")).expect("known_hosts");
    assert_eq!(pinned.lines().count(), 3);
    assert_eq!(pinned.lines().next(), by_hand.lines().next());
    assert!(by_hand.starts_with(&format!("[127.0.0.2]:{} ssh-ed25519 ", hosts[0]["port"])));

    // The restic password file is private, random, and real restic accepts it.
    let st: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("lab.json")).expect("lab.json"))
            .expect("json");
    let pid1s: Vec<u64> = st["processes"]
        .as_array()
        .expect("processes")
        .iter()
        .filter_map(|p| p["details"]["pid1"].as_u64())
        .collect();
    assert_eq!(pid1s.len(), 3);
    let pw = "/root/.config/restic/password";
    let stat = nsenter(pid1s[0], &["stat", "-c", "%a %s", pw]);
    assert_eq!(text(&stat.stdout).trim(), "600 48");
    let other = nsenter(pid1s[1], &["cat", pw]);
    assert_ne!(nsenter(pid1s[0], &["cat", pw]).stdout, other.stdout);
    let init = nsenter(
        pid1s[0],
        &[
            "env",
            "RESTIC_CACHE_DIR=/root/.cache/restic",
            "restic",
            "-r",
            "/srv/restic",
            "--password-file",
            pw,
            "init",
        ],
    );
    assert!(init.status.success(), "{}", text(&init.stderr));

    let status: Value =
        serde_json::from_str(&ok(&run(&t, &["--json", "lab", "status", "--dir", "lab"])))
            .expect("json");
    assert_eq!(status["processes"], rep["processes"]);

    let down = ok(&run(&t, &["lab", "down", "--dir", "lab"]));
    for n in ["cloudron", "calcul1", "calcul2", "calcul3"] {
        assert!(down.contains(&format!("stopped {n} (pid ")), "{down}");
    }
    for p in procs {
        let pid = p["pid"].as_u64().expect("pid");
        assert!(
            !alive(pid),
            "{p}: {:?} {:?}",
            std::fs::read_to_string(format!("/proc/{pid}/stat")),
            std::fs::read(format!("/proc/{pid}/cmdline")).map(|c| text(&c))
        );
    }
    for pid1 in pid1s {
        assert!(!alive(pid1));
    }
    assert_eq!(leftovers(&dir), Vec::<String>::new());
    let after: Value =
        serde_json::from_str(&ok(&run(&t, &["--json", "lab", "status", "--dir", "lab"])))
            .expect("json");
    assert_eq!(after["running"], false);
}

#[test]
fn a_host_that_cannot_start_stops_the_others_and_the_emulator() {
    let t = Test::new();
    let _down = DownOnDrop(&t, "lab");
    // calcul2's state directory cannot be made: a file is in the way.
    std::fs::create_dir_all(t.path().join("lab/hosts")).expect("mkdir");
    std::fs::write(t.path().join("lab/hosts/calcul2"), "in the way").expect("write");
    let up = run(&t, &["lab", "up", "--dir", "lab", "--hosts", "3"]);
    assert_eq!(up.status.code(), Some(1), "{}", text(&up.stdout));
    let err = text(&up.stderr);
    assert!(err.contains("compute host calcul2 did not start"), "{err}");
    assert_eq!(leftovers(&t.path().join("lab")), Vec::<String>::new());
    assert!(!t.path().join("lab/matelot.toml").exists());
}

#[test]
fn an_emulator_that_cannot_start_stops_the_hosts() {
    // A saved estate the emulator cannot read: it exits after the hosts have started.
    let t = Test::new().write("lab/cloudron-state.json", "{ not json");
    let _down = DownOnDrop(&t, "lab");
    let up = run(&t, &["lab", "up", "--dir", "lab", "--hosts", "2"]);
    assert_eq!(up.status.code(), Some(1));
    let err = text(&up.stderr);
    assert!(err.contains("the Cloudron emulator did not start"), "{err}");
    assert_eq!(leftovers(&t.path().join("lab")), Vec::<String>::new());
}

#[test]
fn without_root_lab_up_names_what_is_missing_and_hosts_0_still_works() {
    let t = Test::new();
    std::fs::set_permissions(t.path(), std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let as_nobody = |args: &[&str]| {
        let mut c = t.command();
        c.args(args).uid(65534).gid(65534);
        c.output().expect("run as nobody")
    };
    let up = as_nobody(&["lab", "up", "--dir", "lab", "--hosts", "1"]);
    assert_eq!(up.status.code(), Some(1));
    let err = text(&up.stderr);
    assert!(
        err.contains("sandbox hosts need root (running as uid 65534)"),
        "{err}"
    );
    assert!(err.contains("matelot lab up --hosts 0"), "{err}");
    assert!(!t.path().join("lab/lab.json").exists(), "nothing started");

    let up = as_nobody(&["--json", "lab", "up", "--dir", "lab", "--hosts", "0"]);
    let rep: Value = serde_json::from_str(&ok(&up)).expect("json");
    let kinds: Vec<&str> = rep["processes"]
        .as_array()
        .expect("processes")
        .iter()
        .filter_map(|p| p["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["cloudron"]);
    let toml = std::fs::read_to_string(t.path().join("lab/matelot.toml")).expect("config");
    assert!(!toml.contains("[compute"), "{toml}");
    assert!(!toml.contains("[backup"), "{toml}");
    ok(&as_nobody(&["lab", "down", "--dir", "lab"]));
    assert_eq!(leftovers(&t.path().join("lab")), Vec::<String>::new());
}

#[test]
fn the_tour_runs_every_step_for_real_and_leaves_nothing_running() {
    let t = Test::new();
    let _down = DownOnDrop(&t, "tour");
    let out = run(&t, &["lab", "tour", "--dir", "tour"]);
    let stdout = ok(&out);
    let dir = Path::new("tour");
    for (i, step) in tour::STEPS.iter().chain([&tour::TEARDOWN]).enumerate() {
        let line = format!("  $ {}", tour::command_line(&tour::argv(step, dir)));
        // `{last:KIND}` is filled in with an operation's number when the step runs.
        let line = match line.find("'{last:") {
            Some(at) => line[..at].to_string(),
            None => line,
        };
        assert!(stdout.contains(&line), "step {} missing: {line}", i + 1);
    }
    let total = tour::STEPS.len() + 1;
    assert!(
        stdout.contains(&format!("Step {total}/{total}. ")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("Tour complete: {total} steps")),
        "{stdout}"
    );
    assert!(!stdout.contains("-> FAILED"), "{stdout}");
    // What the steps printed is there: the SSH login really happened.
    assert!(stdout.contains("    system     Linux calcul"), "{stdout}");
    // The Matomo rule: refused without --confirm, uninstalled with it, undone from the journal.
    assert!(
        stdout.contains("pass --confirm analytics.example.org"),
        "{stdout}"
    );
    let undo = stdout
        .lines()
        .find(|l| l.contains("matelot.toml undo "))
        .unwrap_or_default();
    let op = undo.split_whitespace().nth(5).unwrap_or_default();
    assert!(
        op.parse::<u64>().is_ok(),
        "undo step without an operation number: {undo}"
    );
    assert!(
        stdout.contains("    App:     Matomo (analytics.example.org)"),
        "{stdout}"
    );
    assert_eq!(leftovers(&t.path().join("tour")), Vec::<String>::new());
}

#[test]
fn a_failed_step_stops_the_tour_with_exit_1_and_tears_the_lab_down() {
    let t = Test::new().write("tour/hosts/calcul", "in the way");
    let _down = DownOnDrop(&t, "tour");
    let out = run(&t, &["lab", "tour", "--dir", "tour"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("FAILED (exit 1, expected 0)"), "{stdout}");
    assert!(stdout.contains("The tour stopped at step 1."), "{stdout}");
    assert!(
        stdout.contains("  $ matelot lab down --dir tour"),
        "teardown ran: {stdout}"
    );
    assert!(!stdout.contains("host check"), "later steps skipped");
    assert!(text(&out.stderr).contains("the tour stopped at step 1"));
    assert_eq!(leftovers(&t.path().join("tour")), Vec::<String>::new());
}

#[test]
fn the_tour_keeps_the_lab_when_asked_and_leaves_a_running_lab_alone() {
    let t = Test::new();
    let _down = DownOnDrop(&t, "tour");
    let out = run(&t, &["lab", "tour", "--dir", "tour", "--keep"]);
    let stdout = ok(&out);
    assert!(!stdout.contains("$ matelot lab down"), "{stdout}");
    assert!(stdout.contains("The lab is still running"), "{stdout}");
    let st: Value =
        serde_json::from_str(&ok(&run(&t, &["--json", "lab", "status", "--dir", "tour"])))
            .expect("json");
    assert_eq!(st["running"], true);

    // A second tour must not take over (and then stop) the running lab.
    let again = run(&t, &["lab", "tour", "--dir", "tour"]);
    assert_eq!(again.status.code(), Some(3));
    assert!(text(&again.stderr).contains("already running"));
    let st: Value =
        serde_json::from_str(&ok(&run(&t, &["--json", "lab", "status", "--dir", "tour"])))
            .expect("json");
    assert_eq!(st["running"], true);

    ok(&run(&t, &["lab", "down", "--dir", "tour"]));
    assert_eq!(leftovers(&t.path().join("tour")), Vec::<String>::new());
}

#[test]
fn check_lists_the_tour_and_starts_nothing() {
    let t = Test::new();
    let out = ok(&run(&t, &["--check", "lab", "tour", "--dir", "tour"]));
    for step in tour::STEPS.iter().chain([&tour::TEARDOWN]) {
        let line = tour::command_line(&tour::argv(step, Path::new("tour")));
        assert!(out.contains(&format!("  $ {line}\n")), "{line}\n{out}");
    }
    assert!(!t.path().join("tour").exists(), "nothing was started");
}

#[test]
fn a_fresh_lab_starts_a_fresh_journal() {
    let t = Test::new();
    let _down = DownOnDrop(&t, "lab");
    let lab_cfg = ["--config", "lab/matelot.toml"];
    ok(&run(&t, &["lab", "up", "--dir", "lab", "--hosts", "0"]));
    ok(&run(
        &t,
        &[&lab_cfg[..], &["app", "backup", "matomo"]].concat(),
    ));
    let listed = ok(&run(
        &t,
        &[&lab_cfg[..], &["--json", "journal", "list"]].concat(),
    ));
    assert_ne!(listed.trim(), "[]", "the backup was journaled");
    ok(&run(&t, &["lab", "down", "--dir", "lab"]));
    ok(&run(
        &t,
        &["lab", "up", "--dir", "lab", "--hosts", "0", "--fresh"],
    ));
    let listed = ok(&run(
        &t,
        &[&lab_cfg[..], &["--json", "journal", "list"]].concat(),
    ));
    assert_eq!(listed.trim(), "[]");
    ok(&run(&t, &["lab", "down", "--dir", "lab"]));
}

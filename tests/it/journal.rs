//! `matelot journal list|show` over journals written by the library, including journals
//! written by real processes that were killed mid-operation or wrote at the same time.
//!
//! Child processes use the re-exec trick: the test binary runs itself with `--exact TEST`
//! and `MATELOT_IT_ROLE` set, and that test then plays the child's part.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use matelot::journal::{
    AppBackupPlan, AppBackupPoint, AppRef, AppUninstallPlan, Journal, NewOp, OpId, OpPlan,
    RestorePoint, RunId, Status,
};
use serde_json::Value;

use crate::support::{Run, Test};

const ROLE: &str = "MATELOT_IT_ROLE";
const JOURNAL: &str = "MATELOT_IT_JOURNAL";

/// The test binary running only `test`, in the child role `role`.
pub fn reexec(test: &str, role: &str) -> Command {
    let exe = std::env::current_exe().expect("current test binary");
    let mut cmd = Command::new(exe);
    cmd.args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(ROLE, role)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    cmd
}

/// Run the binary with `args` in `t`'s environment (several runs can share one state dir).
pub fn run_in(t: &Test, args: &[&str]) -> Run {
    let out = t
        .command()
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run matelot");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        args: args.iter().map(|s| s.to_string()).collect(),
    }
}

/// A child process and its stdout, read line by line. The test harness prints the child's
/// output after its own `test NAME ... ` prefix, so markers are searched anywhere in a line.
pub struct ChildLines {
    pub child: Child,
    lines: std::io::Lines<BufReader<std::process::ChildStdout>>,
}

impl ChildLines {
    pub fn spawn(mut cmd: Command) -> ChildLines {
        let mut child = cmd.spawn().expect("spawn the test binary");
        let out = child.stdout.take().expect("piped stdout");
        ChildLines {
            child,
            lines: BufReader::new(out).lines(),
        }
    }

    /// Read until a line containing `marker`; return what follows it on that line.
    pub fn wait_for(&mut self, marker: &str) -> String {
        for line in self.lines.by_ref() {
            let line = line.expect("read child stdout");
            if let Some(at) = line.find(marker) {
                return line[at + marker.len()..].trim().to_string();
            }
        }
        panic!("child ended before printing {marker:?}");
    }
}

/// In a child: sleep until `done()` is true, or exit if the parent test has died.
pub fn wait_in_child(done: impl Fn() -> bool) {
    let parent = std::os::unix::process::parent_id();
    while !done() {
        if std::os::unix::process::parent_id() != parent {
            std::process::exit(1);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn journal_path(t: &Test) -> PathBuf {
    t.state_dir().join("journal.sqlite")
}

/// A journal with three operations: a finished uninstall with a restore point, a failed
/// user add, and a planned backup.
fn run_id() -> RunId {
    RunId("seeded01".into())
}

fn uninstall_plan() -> OpPlan {
    OpPlan::AppUninstall(AppUninstallPlan {
        app_id: "a1b2".into(),
        fqdn: "matomo.example.org".into(),
        subdomain: "matomo".into(),
        domain: "example.org".into(),
        app_store_id: "org.matomo.cloudronapp@1.58.2".into(),
        manifest_id: "org.matomo.cloudronapp".into(),
        version: "1.58.2".into(),
        label: None,
        access_restriction: None,
    })
}

fn backup_plan(fqdn: &str) -> OpPlan {
    OpPlan::AppBackup(AppBackupPlan {
        app_id: "w1".into(),
        fqdn: fqdn.into(),
        label: None,
        keep_days: None,
    })
}

fn seeded() -> (Test, [OpId; 3]) {
    let t = Test::new();
    let j = Journal::open(&journal_path(&t)).unwrap();
    let a = j
        .begin(
            NewOp::new(uninstall_plan(), "matomo.example.org", &run_id()).command(
                ["matelot", "--token", "s3cr3t", "app", "uninstall", "matomo"]
                    .map(String::from)
                    .to_vec(),
            ),
        )
        .unwrap();
    j.set_restore_point(
        a,
        &RestorePoint::AppBackup(AppBackupPoint {
            backup_id: "backup-20250601".into(),
            app_id: "a1b2".into(),
            fqdn: "matomo.example.org".into(),
            task_id: None,
            label: None,
            preserve_secs: None,
            creation_time: None,
        }),
    )
    .unwrap();
    j.set_running(a).unwrap();
    j.finish(a, Status::Done, None).unwrap();
    j.set_undo_hint(a, &format!("matelot undo {a}")).unwrap();
    let add = OpPlan::UserAdd(matelot::journal::AccountsPlan {
        system: "calcul".into(),
        subject: "user:alice".into(),
        changes: Vec::new(),
    });
    let b = j
        .begin(NewOp::new(add, "user:alice@calcul", &run_id()))
        .unwrap();
    j.finish(
        b,
        Status::Failed,
        Some("useradd: group 'gpu' does not exist"),
    )
    .unwrap();
    let c = j
        .begin(NewOp::new(
            backup_plan("wiki.example.org"),
            "wiki.example.org",
            &run_id(),
        ))
        .unwrap();
    (t, [a, b, c])
}

fn ids(v: &Value) -> Vec<i64> {
    v.as_array()
        .expect("a JSON array")
        .iter()
        .map(|o| o["id"].as_i64().expect("numeric id"))
        .collect()
}

#[test]
fn a_fresh_state_dir_lists_exactly_an_empty_array_and_creates_nothing() {
    let t = Test::new();
    let run = run_in(&t, &["journal", "list", "--json"]).success();
    assert_eq!(run.stdout, "[]\n");
    assert!(!journal_path(&t).exists(), "reading created the journal");
    run_in(&t, &["journal", "list"])
        .success()
        .stderr_has("no operations recorded");
}

#[test]
fn list_shows_newest_first_with_how_to_undo() {
    let (t, [a, b, c]) = seeded();
    let run = run_in(&t, &["journal", "list"]).success();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{}", run.stdout);
    for h in ["ID", "WHEN", "STATUS", "KIND", "TARGET", "ACTOR", "UNDO"] {
        assert!(lines[0].contains(h), "{}", lines[0]);
    }
    assert!(lines[1].starts_with(&format!("{c} ")) && lines[1].contains("planned"));
    assert!(lines[2].starts_with(&format!("{b} ")) && lines[2].contains("failed"));
    assert!(lines[3].starts_with(&format!("{a} ")));
    assert!(lines[3].contains("done") && lines[3].ends_with(&format!("matelot undo {a}")));

    let v = run_in(&t, &["journal", "list", "--json"]).success().json();
    assert_eq!(ids(&v), [c.0, b.0, a.0]);
    let first = &v[2];
    assert_eq!(first["kind"], "app.uninstall");
    assert_eq!(first["status"], "done");
    assert_eq!(first["restore_point"]["id"], "backup-20250601");
    assert_eq!(first["undo_hint"], format!("matelot undo {a}"));
    assert_eq!(first["command"][2], "<redacted>");
    assert!(
        !run_in(&t, &["journal", "list", "--json"])
            .stdout
            .contains("s3cr3t")
    );
}

#[test]
fn list_filters_by_kind_target_status_time_and_count() {
    let (t, [a, b, c]) = seeded();
    let cases: Vec<(Vec<&str>, Vec<i64>)> = vec![
        (vec!["--kind", "app"], vec![c.0, a.0]),
        (vec!["--kind", "user.add"], vec![b.0]),
        (vec!["--target", "MATOMO"], vec![a.0]),
        (vec!["--target", "example.org"], vec![c.0, a.0]),
        (vec!["--status", "failed"], vec![b.0]),
        (vec!["--status", "Planned"], vec![c.0]),
        (vec!["--status", "interrupted"], vec![]),
        (vec!["--limit", "2"], vec![c.0, b.0]),
        (vec!["--since", "1h"], vec![c.0, b.0, a.0]),
        (vec!["--since", "2w"], vec![c.0, b.0, a.0]),
        (vec!["--since", "2999-01-01"], vec![]),
        (vec!["--since", "2999-01-01T00:00:00Z"], vec![]),
        (
            vec!["--since", "1h", "--kind", "app", "--limit", "1"],
            vec![c.0],
        ),
    ];
    for (filters, want) in cases {
        let args: Vec<&str> = ["journal", "list", "--json"]
            .into_iter()
            .chain(filters.iter().copied())
            .collect();
        let run = run_in(&t, &args).success();
        assert_eq!(ids(&run.json()), want, "{filters:?}");
    }
    run_in(&t, &["journal", "list", "--since", "last tuesday"])
        .status(2)
        .stderr_has("neither a duration");
    run_in(&t, &["journal", "list", "--status", "finished"]).status(2);
}

#[test]
fn show_prints_every_field_planned_changes_and_history() {
    let (t, [a, ..]) = seeded();
    run_in(&t, &["journal", "show", &a.to_string()])
        .success()
        .stdout_has(&format!("Operation:      {a}\n"))
        .stdout_has("Status:         done\n")
        .stdout_has("Restore point:  cloudron.app_backup backup-20250601\n")
        .stdout_has(&format!("Undo:           matelot undo {a}\n"))
        .stdout_has("Command:        matelot --token '<redacted>' app uninstall matomo\n")
        .stdout_has("Plan:\n  {\n    \"access_restriction\": null,\n    \"app_id\": \"a1b2\",")
        .stdout_has("planned -> running")
        .stdout_lacks("s3cr3t");
    let v = run_in(&t, &["journal", "show", &format!("#{a}"), "--json"])
        .success()
        .json();
    assert_eq!(v["id"], a.0);
    assert_eq!(v["kind"], "app.uninstall");
    assert_eq!(v["plan"]["fqdn"], "matomo.example.org");
    assert_eq!(v["restore_point"]["id"], "backup-20250601");
    let story: Vec<&str> = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(story[0], "begun as planned");
    assert_eq!(
        story.last().copied(),
        Some(format!("undo: matelot undo {a}").as_str())
    );
}

#[test]
fn show_of_an_unknown_or_malformed_operation_is_a_usage_error() {
    let (t, _) = seeded();
    run_in(&t, &["journal", "show", "999"])
        .status(2)
        .stderr_has("no operation 999 in the journal")
        .stderr_has("matelot journal list");
    run_in(&t, &["journal", "show", "twelve"])
        .status(2)
        .stderr_has("not an operation number");
    // No journal at all: the same answer, and still nothing is created.
    let fresh = Test::new();
    run_in(&fresh, &["journal", "show", "1"])
        .status(2)
        .stderr_has("no operation 1");
    assert!(!journal_path(&fresh).exists());
}

#[test]
fn journal_help_has_examples() {
    for sub in ["list", "show"] {
        Test::new()
            .args(["journal", sub, "--help"])
            .run()
            .success()
            .stdout_has("Examples:");
    }
}

/// A real process begins an operation and is SIGKILLed: the operation reads as interrupted.
#[test]
fn a_killed_writer_leaves_an_interrupted_operation() {
    if std::env::var(ROLE).as_deref() == Ok("begin-and-hang") {
        let path = std::env::var(JOURNAL).unwrap();
        let j = Journal::open(Path::new(&path)).unwrap();
        let id = j
            .begin(NewOp::new(
                uninstall_plan(),
                "matomo.example.org",
                &run_id(),
            ))
            .unwrap();
        j.set_running(id).unwrap();
        println!("@@ready {id}");
        wait_in_child(|| false);
    }
    let (t, _) = seeded();
    let mut cmd = reexec(
        "journal::a_killed_writer_leaves_an_interrupted_operation",
        "begin-and-hang",
    );
    cmd.env(JOURNAL, journal_path(&t));
    let mut child = ChildLines::spawn(cmd);
    let id: i64 = child.wait_for("@@ready ").parse().unwrap();
    let pid = child.child.id();

    // While the writer lives, its operation is running.
    let v = run_in(&t, &["journal", "show", &id.to_string(), "--json"])
        .success()
        .json();
    assert_eq!(v["status"], "running");
    assert_eq!(v["process"]["pid"], pid);

    child.child.kill().unwrap(); // SIGKILL: no chance to clean up
    child.child.wait().unwrap();
    let v = run_in(
        &t,
        &["journal", "list", "--json", "--status", "interrupted"],
    )
    .success()
    .json();
    assert_eq!(ids(&v), [id]);
    assert_eq!(v[0]["process"]["pid"], pid);
    run_in(&t, &["journal", "list"])
        .success()
        .stdout_has("interrupted");

    // Marking persists it, with a message that says what happened.
    let j = Journal::open(&journal_path(&t)).unwrap();
    assert_eq!(j.mark_interrupted().unwrap(), [OpId(id)]);
    run_in(&t, &["journal", "show", &id.to_string()])
        .success()
        .stdout_has("Status:         interrupted")
        .stdout_has(&format!("(pid {pid} on "));
}

const WRITES_PER_CHILD: usize = 200;

/// Two real processes write 200 operations each into one journal at the same time; all
/// 400 are there afterwards, with distinct ids, and each is complete.
#[test]
fn two_concurrent_writers_lose_nothing() {
    if let Ok(role) = std::env::var(ROLE) {
        let Some(name) = role.strip_prefix("writer-") else {
            return;
        };
        let j = Journal::open(Path::new(&std::env::var(JOURNAL).unwrap())).unwrap();
        let go = Path::new(&std::env::var(JOURNAL).unwrap()).with_file_name("go");
        println!("@@ready");
        wait_in_child(|| go.exists());
        let start = Instant::now();
        for i in 0..WRITES_PER_CHILD {
            let plan = OpPlan::AppStart(AppRef {
                app_id: format!("{name}-{i}"),
                fqdn: format!("{name}-{i}"),
            });
            let id = j
                .begin(NewOp::new(plan, format!("{name}-{i}"), &run_id()))
                .unwrap();
            j.finish(id, Status::Done, None).unwrap();
        }
        println!("@@done {}", start.elapsed().as_millis());
        return;
    }
    let t = Test::new();
    let path = journal_path(&t);
    Journal::open(&path).unwrap();
    let test = "journal::two_concurrent_writers_lose_nothing";
    let mut children: Vec<ChildLines> = ["A", "B"]
        .iter()
        .map(|name| {
            let mut cmd = reexec(test, &format!("writer-{name}"));
            cmd.env(JOURNAL, &path);
            ChildLines::spawn(cmd)
        })
        .collect();
    for c in &mut children {
        c.wait_for("@@ready");
    }
    let started = Instant::now();
    std::fs::write(path.with_file_name("go"), "").unwrap();
    let mut each_ms = Vec::new();
    for c in &mut children {
        each_ms.push(c.wait_for("@@done ").parse::<u128>().unwrap());
        assert!(c.child.wait().unwrap().success());
    }
    let total = started.elapsed();
    eprintln!(
        "two writers x {WRITES_PER_CHILD} ops (begin + finish): each took {each_ms:?} ms, together {total:?}"
    );
    // They really overlapped: together took less than one after the other.
    assert!(
        total.as_millis() < each_ms.iter().sum::<u128>(),
        "{each_ms:?} vs {total:?}"
    );

    let v = run_in(&t, &["journal", "list", "--json"]).success().json();
    let ops = v.as_array().unwrap();
    assert_eq!(ops.len(), 2 * WRITES_PER_CHILD);
    let mut seen_ids = std::collections::BTreeSet::new();
    let mut targets = std::collections::BTreeSet::new();
    for op in ops {
        assert!(
            seen_ids.insert(op["id"].as_i64().unwrap()),
            "duplicate id {op}"
        );
        assert_eq!(op["status"], "done", "{op}");
        targets.insert(op["target"].as_str().unwrap().to_string());
    }
    for name in ["A", "B"] {
        for i in 0..WRITES_PER_CHILD {
            assert!(
                targets.contains(&format!("{name}-{i}")),
                "{name}-{i} missing"
            );
        }
    }
}

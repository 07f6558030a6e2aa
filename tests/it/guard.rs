//! The Matomo rule through the real binary against the Cloudron emulator: `app uninstall`,
//! `app restore`, `app protect|unprotect` and `undo`. Every failure of the restore point must
//! leave the app installed, no destructive request sent (proved with `/__lab/requests`) and the
//! journal truthful; the full cycles prove undo brings the same data back.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::lab_client::Lab;
use crate::support::Run;

pub(crate) mod user;

pub(crate) const MATOMO: &str = "analytics.example.org";

/// A lab and one state directory shared by every run of a test (journal, lock).
pub(crate) struct G {
    pub(crate) lab: Lab,
    _state: tempfile::TempDir,
    pub(crate) state: PathBuf,
    /// A configuration used instead of the lab's (compute-only tests).
    config: Option<String>,
}

impl G {
    /// No Cloudron: this configuration (the lab runs but is not named in it).
    pub(crate) fn plain(config: &str) -> G {
        let mut g = G::new();
        g.config = Some(config.to_string());
        g
    }

    /// Another configuration sharing `other`'s state directory (journal and lock).
    pub(crate) fn plain_in(config: &str, other: &G) -> G {
        let mut g = G::plain(config);
        g.state = other.state.clone();
        g
    }

    pub(crate) fn new() -> G {
        G::with_lab(Lab::start())
    }

    pub(crate) fn with_lab(mut lab: Lab) -> G {
        lab.cloudron_extra.push_str("\ntask_timeout = \"3s\"\n");
        let state = tempfile::Builder::new()
            .prefix("matelot-guard-")
            .tempdir()
            .expect("state dir");
        let path = state.path().to_path_buf();
        G {
            lab,
            _state: state,
            state: path,
            config: None,
        }
    }

    pub(crate) fn test(&self, args: &[&str]) -> crate::support::Test {
        let t = match &self.config {
            Some(c) => crate::support::Test::new().config(c),
            None => self.lab.test(),
        };
        t.arg("--state-dir")
            .arg(self.state.display().to_string())
            .args(args.iter().copied())
    }

    pub(crate) fn run(&self, args: &[&str]) -> Run {
        self.test(args).run()
    }

    pub(crate) fn ops(&self) -> Vec<Value> {
        let j = self.run(&["journal", "list", "--json"]).success().json();
        j.as_array().expect("array").clone()
    }

    pub(crate) fn op(&self, id: i64) -> Value {
        self.ops()
            .into_iter()
            .find(|o| o["id"] == id)
            .unwrap_or_else(|| panic!("no op {id}"))
    }

    pub(crate) fn id(&self) -> String {
        self.lab.app_id(MATOMO)
    }

    pub(crate) fn matomo_there(&self) -> bool {
        self.lab.state()["apps"]
            .as_array()
            .expect("apps")
            .iter()
            .any(|a| a["fqdn"] == MATOMO)
    }

    pub(crate) fn destructive_posts(&self) -> Vec<String> {
        self.lab
            .writes()
            .into_iter()
            .filter(|r| r.path.ends_with("/uninstall") || r.path.ends_with("/restore"))
            .map(|r| format!("{} {} {:?}", r.method, r.path, r.status))
            .collect()
    }
}

pub(crate) fn checksum(lab: &Lab, fqdn: &str) -> String {
    lab.app(fqdn)["labData"]["checksum"]
        .as_str()
        .expect("checksum")
        .to_string()
}

#[test]
fn check_shows_the_plan_and_sends_no_post() {
    let g = G::new();
    let id = g.id();
    let run = g
        .run(&["--check", "app", "uninstall", "matomo"])
        .success()
        .stdout_has("app.uninstall analytics.example.org")
        .stdout_has(&format!("POST /api/v1/apps/{id}/backup"))
        .stdout_has("matelot op N: before uninstall")
        .stdout_has(&format!("POST /api/v1/apps/{id}/uninstall"))
        .stdout_has("Users with access")
        .stdout_has("Last backup")
        .stdout_has("nothing was changed")
        .stdout_has("title or label only");
    assert!(run.stdout.contains("90 days"), "{}", run.stdout);
    assert!(g.lab.writes().is_empty(), "{:?}", g.lab.writes());
    assert!(g.ops().is_empty());
}

#[test]
fn no_terminal_and_no_confirm_is_refused_naming_the_flag() {
    let g = G::new();
    g.run(&["app", "uninstall", "analytics"])
        .status(3)
        .stderr_has("--confirm analytics.example.org");
    g.run(&["app", "uninstall", "analytics", "--confirm", "analytics"])
        .status(3)
        .stderr_has("does not match");
    // A title alone never designates the target of a severe command.
    g.run(&["app", "uninstall", "matomo", "--confirm", MATOMO])
        .status(2)
        .stderr_has("title");
    assert!(g.lab.writes().is_empty(), "{:?}", g.lab.writes());
    assert!(g.matomo_there());
    let ops = g.ops();
    assert_eq!(ops.len(), 2, "{ops:?}");
    assert!(ops.iter().all(|o| o["status"] == "refused"), "{ops:?}");
}

#[test]
fn protected_apps_are_refused_until_unprotected() {
    let g = G::new();
    g.run(&["app", "protect", "analytics"])
        .success()
        .stdout_has("now protected");
    g.run(&["app", "uninstall", "analytics", "--confirm", MATOMO])
        .status(3)
        .stderr_has("matelot app unprotect analytics.example.org");
    g.run(&["app", "unprotect", "analytics"])
        .status(3)
        .stderr_has("--yes");
    g.run(&["app", "unprotect", "analytics", "--yes"])
        .success()
        .stdout_has("no longer protected");
    assert!(g.destructive_posts().is_empty());

    // Protected by the configuration: refused, and the message says where to change it.
    let mut lab = Lab::start();
    lab.cloudron_extra = "protect = [\"analytics.example.org\"]".into();
    let g = G::with_lab(lab);
    g.run(&["app", "uninstall", "analytics", "--confirm", MATOMO])
        .status(3)
        .stderr_has("[cloudron] protect");
    g.run(&["app", "restore", "analytics", "--confirm", MATOMO])
        .status(3)
        .stderr_has("remove it from there");
    g.run(&["app", "unprotect", "analytics", "--yes"])
        .status(3)
        .stderr_has("remove it from there");
    assert!(g.matomo_there());
    assert!(g.lab.writes().is_empty(), "{:?}", g.lab.writes());
}

/// Each way the restore point can fail: exit 1, nothing uninstalled, no uninstall request,
/// the journal row `failed` with "restore point failed".
#[test]
fn a_restore_point_that_fails_or_cannot_be_verified_stops_everything() {
    let cases: [(&str, &str); 5] = [
        ("POST /api/v1/apps/{id}/backup", "http_500"),
        ("POST /api/v1/apps/{id}/backup", "task_error"),
        ("POST /api/v1/apps/{id}/backup", "task_stall"),
        ("POST /api/v1/apps/{id}/backup", "backup_unlisted"),
        ("POST /api/v1/apps/{id}/backups/{backupId}", "http_500"),
    ];
    for (pattern, effect) in cases {
        let g = G::new();
        g.lab.fault(pattern, effect, 1);
        let started = Instant::now();
        let run = g
            .run(&["app", "uninstall", "analytics", "--confirm", MATOMO])
            .status(1)
            .stderr_has("restore point failed");
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{effect}: took {:?}",
            started.elapsed()
        );
        assert!(g.matomo_there(), "{effect}: matomo is gone\n{}", run.stderr);
        assert!(
            g.destructive_posts().is_empty(),
            "{effect}: {:?}",
            g.destructive_posts()
        );
        let ops = g.ops();
        assert_eq!(ops.len(), 1, "{effect}: {ops:?}");
        assert_eq!(ops[0]["status"], "failed", "{effect}");
        let msg = ops[0]["message"].as_str().unwrap_or_default();
        assert!(msg.starts_with("restore point failed"), "{effect}: {msg}");
        assert!(ops[0]["undo_hint"].is_null(), "{effect}");
    }
}

#[test]
fn an_uninstall_refused_by_the_server_keeps_the_app_and_the_restore_point() {
    let g = G::new();
    let id = g.id();
    g.lab
        .fault("POST /api/v1/apps/{id}/uninstall", "http_500", 1);
    g.run(&["app", "uninstall", "analytics", "--confirm", MATOMO])
        .status(1)
        .stderr_has("nothing was changed")
        .stderr_has("restore point");
    assert!(g.matomo_there());
    let ops = g.ops();
    assert_eq!(ops[0]["status"], "failed");
    assert!(
        ops[0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("nothing was changed"),
        "{ops:?}"
    );
    let rp = ops[0]["restore_point"]["id"]
        .as_str()
        .expect("restore point");
    // The backup was verified (listed, labelled) before the uninstall was sent.
    let reqs = g.lab.requests();
    let pos = |pred: &dyn Fn(&crate::lab_client::Seen) -> bool| reqs.iter().position(pred);
    let labelled =
        pos(&|r| r.method == "POST" && r.path == format!("/api/v1/apps/{id}/backups/{rp}"))
            .expect("label request");
    let relisted = reqs
        .iter()
        .enumerate()
        .filter(|(_, r)| r.method == "GET" && r.path == format!("/api/v1/apps/{id}/backups"))
        .map(|(i, _)| i)
        .max()
        .expect("relisted");
    let uninstall = pos(&|r| r.path == format!("/api/v1/apps/{id}/uninstall")).expect("sent");
    assert!(labelled < uninstall && relisted < uninstall, "{reqs:?}");
}

#[test]
fn sigint_while_the_backup_runs_uninstalls_nothing() {
    let g = G::with_lab(Lab::with(|o| o.task_duration = Duration::from_secs(5)));
    let id = g.id();
    let t = g.test(&["app", "uninstall", "analytics", "--confirm", MATOMO]);
    let err = std::fs::File::create(t.path().join("stderr")).expect("stderr file");
    let mut child = t
        .command()
        .stdout(std::process::Stdio::null())
        .stderr(err)
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(20);
    while g
        .lab
        .seen("POST", &format!("/api/v1/apps/{id}/backup"))
        .is_empty()
    {
        assert!(
            Instant::now() < deadline,
            "the backup never started: {:?}",
            std::fs::read_to_string(t.path().join("stderr"))
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = i32::try_from(child.id()).expect("pid");
    // SAFETY: signalling the child this test spawned.
    unsafe { libc::kill(pid, libc::SIGINT) };
    let status = child.wait().expect("wait");
    // The first SIGINT stops the run: no change is sent, the journal says why, exit 130.
    assert_eq!(status.code(), Some(130));
    std::thread::sleep(Duration::from_secs(6));
    assert!(g.matomo_there());
    assert!(
        g.destructive_posts().is_empty(),
        "{:?}",
        g.destructive_posts()
    );
    let ops = g.ops();
    assert_eq!(ops[0]["status"], "not_applied", "{ops:?}");
    assert!(
        ops[0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("SIGINT came while the restore point was being taken"),
        "{ops:?}"
    );
}

#[test]
fn a_lost_uninstall_task_is_settled_by_the_next_run_then_undone() {
    let g = G::new();
    let id = g.id();
    g.lab.post(&format!("/__lab/apps/{id}/use"));
    let before = checksum(&g.lab, MATOMO);
    // The backup takes the next task id, the uninstall the one after: lose sight of that one.
    let next = g.lab.state()["nextTaskId"].as_u64().expect("nextTaskId");
    g.lab.fault(
        &format!("GET /api/v1/tasks/{}", next + 1),
        "drop_connection",
        1000,
    );
    g.run(&["app", "uninstall", "analytics", "--confirm", MATOMO])
        .status(1)
        .stderr_has("its end could not be seen")
        .stderr_has("`matelot journal settle`");
    // The row was left open by a process that is gone: interrupted, restore point recorded.
    let op = g.op(1);
    assert_eq!(op["status"], "interrupted", "{op}");
    assert!(op["restore_point"]["id"].is_string(), "{op}");
    // Meanwhile the server finished the uninstall.
    let deadline = Instant::now() + Duration::from_secs(10);
    while g.matomo_there() {
        assert!(Instant::now() < deadline, "the uninstall never finished");
        std::thread::sleep(Duration::from_millis(50));
    }
    // The next run settles the row (the app is gone: done) and can then undo it.
    g.run(&["undo", "1", "--yes"])
        .success()
        .stderr_has("the uninstall happened")
        .stdout_has("installed again");
    let op = g.op(1);
    assert_eq!(op["status"], "done", "{op}");
    assert_eq!(checksum(&g.lab, MATOMO), before);
}

#[test]
fn a_dropped_uninstall_post_is_settled_as_not_applied() {
    let g = G::new();
    g.lab
        .fault("POST /api/v1/apps/{id}/uninstall", "drop_connection", 1);
    g.run(&["app", "uninstall", "analytics", "--confirm", MATOMO])
        .status(1)
        .stderr_has("its end could not be seen");
    assert!(g.matomo_there());
    assert_eq!(g.op(1)["status"], "interrupted");
    g.run(&["app", "uninstall", "analytics"])
        .status(3)
        .stderr_has("still installed")
        .stderr_has("settled as not applied");
    let op = g.op(1);
    assert_eq!(op["status"], "not_applied", "{op}");
    assert!(
        op["message"]
            .as_str()
            .unwrap_or_default()
            .contains("still installed"),
        "{op}"
    );
}

#[test]
fn uninstall_then_undo_brings_the_same_data_back() {
    let g = G::new();
    let id = g.id();
    g.lab.post(&format!("/__lab/apps/{id}/use"));
    g.lab.post(&format!("/__lab/apps/{id}/use"));
    let before = checksum(&g.lab, MATOMO);
    let access = g.lab.app(MATOMO)["accessRestriction"].clone();
    let run = g
        .run(&["app", "uninstall", "analytics", "--confirm", MATOMO])
        .success()
        .stdout_has("uninstalled")
        .stdout_has("undo: matelot undo 1");
    assert!(!g.matomo_there(), "{}", run.stdout);
    let op = g.op(1);
    assert_eq!(op["status"], "done");
    assert_eq!(op["undo_hint"], "matelot undo 1");
    let rp = op["restore_point"]["id"].as_str().expect("rp").to_string();
    let b = g.lab.state()["backups"]
        .as_array()
        .expect("backups")
        .iter()
        .find(|b| b["id"] == rp.as_str())
        .cloned()
        .expect("the restore point is kept");
    assert_eq!(b["label"], "matelot op 1: before uninstall");
    assert_eq!(b["preserveSecs"], 90 * 86_400);

    g.run(&["undo", "1"]).status(3).stderr_has("--yes");
    g.run(&["undo", "1", "--yes"])
        .success()
        .stdout_has("installed again");
    assert!(g.matomo_there());
    assert_eq!(checksum(&g.lab, MATOMO), before);
    assert_eq!(g.lab.app(MATOMO)["accessRestriction"], access);
    // The refused attempt is journaled too (op 2), then the undo itself (op 3).
    assert_eq!(g.op(2)["status"], "refused");
    assert_eq!(g.op(3)["kind"], "undo");
    assert_eq!(g.op(3)["status"], "done");
    // Undone once: a second undo is refused.
    g.run(&["undo", "1", "--yes"])
        .status(3)
        .stderr_has("already undone by operation 3");
}

#[test]
fn restore_then_undo_of_the_restore() {
    let g = G::new();
    let id = g.id();
    let original = checksum(&g.lab, MATOMO);
    // A backup of the original data, then newer data that the restore will overwrite.
    g.run(&["app", "backup", "analytics"]).success();
    let old = g.run(&["-q", "app", "backup", "analytics"]).success();
    let old_backup = old.stdout.trim().to_string();
    g.lab.post(&format!("/__lab/apps/{id}/use"));
    let newer = checksum(&g.lab, MATOMO);
    assert_ne!(newer, original);

    g.run(&[
        "app",
        "restore",
        "analytics",
        "--backup",
        &old_backup,
        "--confirm",
        MATOMO,
    ])
    .success()
    .stdout_has("restored from");
    assert_eq!(checksum(&g.lab, MATOMO), original);
    // (`app backup` journals its own operations: find the restore by its kind.)
    let op = g
        .ops()
        .into_iter()
        .find(|o| o["kind"] == "app.restore")
        .expect("the restore");
    assert_eq!(op["status"], "done");
    let n = op["id"].as_i64().expect("id").to_string();

    // Undoing a restore overwrites: severe, so --yes is not enough.
    g.run(&["undo", &n, "--yes"])
        .status(3)
        .stderr_has("--confirm analytics.example.org");
    g.run(&["undo", &n, "--confirm", MATOMO])
        .success()
        .stdout_has("restored from");
    assert_eq!(checksum(&g.lab, MATOMO), newer);
    let undo = g
        .ops()
        .into_iter()
        .find(|o| o["kind"] == "undo" && o["status"] == "done")
        .expect("undo");
    assert!(undo["restore_point"]["id"].is_string(), "{undo}");
}

#[test]
fn on_a_terminal_only_the_exact_name_typed_uninstalls() {
    let g = G::new();
    let args = |extra: &str| {
        format!(
            "--state-dir {} app uninstall analytics{extra}",
            g.state.display()
        )
    };
    // A wrong name is not accepted; an empty answer then declines: nothing sent, exit 3.
    let (code, screen) = crate::support::on_a_terminal(g.lab.test(), &args(""), "analytics\n\n");
    assert_eq!(code, Some(3), "{screen}");
    assert!(
        screen.contains(MATOMO),
        "the prompt names the FQDN: {screen}"
    );
    assert!(g.matomo_there(), "{screen}");
    assert!(
        g.lab
            .writes()
            .iter()
            .all(|w| !w.path.ends_with("/uninstall") && !w.path.ends_with("/backup")),
        "a declined prompt sent a change: {:?}",
        g.lab.writes()
    );
    // --yes on a terminal changes nothing about it: the name must still be typed.
    let (code, screen) = crate::support::on_a_terminal(g.lab.test(), &args(" --yes"), "\n");
    assert!(code != Some(0), "--yes alone uninstalled: {screen}");
    assert!(g.matomo_there(), "{screen}");
    // The exact FQDN typed: restore point, then uninstall.
    let (code, screen) =
        crate::support::on_a_terminal(g.lab.test(), &args(""), &format!("{MATOMO}\n"));
    assert_eq!(code, Some(0), "{screen}");
    assert!(!g.matomo_there(), "{screen}");
}

#[test]
fn a_restore_whose_restore_point_fails_leaves_the_live_data_alone() {
    let cases: [(&str, &str); 3] = [
        ("POST /api/v1/apps/{id}/backup", "http_500"),
        ("POST /api/v1/apps/{id}/backup", "task_error"),
        ("POST /api/v1/apps/{id}/backup", "backup_unlisted"),
    ];
    for (pattern, effect) in cases {
        let g = G::new();
        let id = g.id();
        let old = g.run(&["-q", "app", "backup", "analytics"]).success();
        let old_backup = old.stdout.trim().to_string();
        // Live data newer than the backup: exactly what a restore would overwrite.
        g.lab.post(&format!("/__lab/apps/{id}/use"));
        let live = checksum(&g.lab, MATOMO);
        g.lab.fault(pattern, effect, 1);
        g.run(&[
            "app",
            "restore",
            "analytics",
            "--backup",
            &old_backup,
            "--confirm",
            MATOMO,
        ])
        .status(1)
        .stderr_has("restore point failed");
        assert_eq!(
            checksum(&g.lab, MATOMO),
            live,
            "{effect}: live data changed"
        );
        assert!(
            g.destructive_posts().is_empty(),
            "{effect}: {:?}",
            g.destructive_posts()
        );
        let op = g
            .ops()
            .into_iter()
            .find(|o| o["kind"] == "app.restore")
            .expect("the restore is journaled");
        assert_eq!(op["status"], "failed", "{effect}: {op}");
    }
}

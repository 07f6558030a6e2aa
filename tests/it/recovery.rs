//! Recovery through the real binary: a run is killed (SIGKILL) or signalled (SIGINT) at a
//! recorded moment (its journal row `running`, a request seen by the emulator, an account gone
//! on the host), then matelot runs again. Every test checks the end state (nothing lost: the
//! app or the account is back with the same data) and the journal (each row says what
//! happened, settled from what the world shows, never left `running`).

use std::fs::File;
use std::io::{Read, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::guard::user::{ACCOUNT, GONE, SUMS, config, sh};
use crate::guard::{G, MATOMO, checksum};
use crate::lab_client::Lab;
use crate::support::{BIN, Test};

/// How long any wait of these tests may take before it is a failure.
const PATIENCE: Duration = Duration::from_secs(20);

/// The real binary running in the background, stdout and stderr in files of its test dir.
struct Bg {
    child: Child,
    t: Test,
}

impl Bg {
    fn start(g: &G, args: &[&str]) -> Bg {
        let t = g.test(args);
        let out = File::create(t.path().join("stdout")).expect("stdout file");
        let err = File::create(t.path().join("stderr")).expect("stderr file");
        let child = t
            .command()
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("spawn matelot");
        Bg { child, t }
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(self.t.path().join("stderr")).unwrap_or_default()
    }

    /// Poll `cond` every 20 ms until it holds; fail if the process ends first or it takes
    /// longer than [`PATIENCE`].
    #[track_caller]
    fn wait_until(&mut self, what: &str, mut cond: impl FnMut() -> bool) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if cond() {
                return;
            }
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                panic!("matelot ended ({status}) before {what}\n{}", self.stderr());
            }
            assert!(
                Instant::now() < deadline,
                "{what}: not within {PATIENCE:?}\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn signal(&self, sig: i32) {
        let pid = i32::try_from(self.child.id()).expect("pid");
        // SAFETY: signalling the child this test spawned (not yet reaped).
        unsafe { libc::kill(pid, sig) };
    }

    /// SIGKILL, and reap it: its writer is gone, as after a crash or `kill -9`.
    fn kill(mut self) -> String {
        self.child.kill().expect("SIGKILL");
        let status = self.child.wait().expect("wait");
        assert_eq!(status.code(), None, "it had ended already: {status}");
        self.stderr()
    }

    /// Wait for the end (bounded by [`PATIENCE`]): exit status and stderr.
    fn wait(mut self) -> (ExitStatus, String) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return (status, self.stderr());
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("matelot did not end within {PATIENCE:?}\n{}", self.stderr());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Poll `cond` until it holds (at most [`PATIENCE`]).
#[track_caller]
fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !cond() {
        assert!(Instant::now() < deadline, "{what}: not within {PATIENCE:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The journal's operation of this kind (the newest one: the list is newest first).
fn of_kind(ops: &[Value], kind: &str) -> Option<Value> {
    ops.iter().find(|o| o["kind"] == kind).cloned()
}

fn msg(op: &Value) -> &str {
    op["message"].as_str().unwrap_or_default()
}

fn id_of(op: &Value) -> String {
    op["id"].as_i64().expect("op id").to_string()
}

/// Matomo is in the lab and no task runs on it.
fn matomo_idle(g: &G) -> bool {
    g.lab.state()["apps"]
        .as_array()
        .expect("apps")
        .iter()
        .find(|a| a["fqdn"] == MATOMO)
        .is_some_and(|a| a["taskId"].is_null() && a["installationState"] == "installed")
}

/// A task of the lab, as its state shows it.
fn task(lab: &Lab, id: &str) -> Value {
    lab.state()["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .find(|t| t["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("no task {id} in the lab"))
}

fn apps_at(lab: &Lab, fqdn: &str) -> usize {
    lab.state()["apps"]
        .as_array()
        .expect("apps")
        .iter()
        .filter(|a| a["fqdn"] == fqdn)
        .count()
}

#[test]
fn a_killed_undo_does_not_block_the_next_undo_while_the_app_is_gone() {
    let g = G::new();
    let id = g.id();
    g.lab.post(&format!("/__lab/apps/{id}/use"));
    let before = checksum(&g.lab, MATOMO);
    g.run(&["app", "uninstall", "analytics", "--confirm", MATOMO])
        .success();
    assert!(!g.matomo_there());

    // The install request is held 4 s by the server; the undo is killed while it waits.
    g.lab.fault("POST /api/v1/apps", "delay_ms:4000", 1);
    let mut undo = Bg::start(&g, &["undo", "1", "--yes"]);
    undo.wait_until("the undo is running", || {
        g.ops()
            .iter()
            .any(|o| o["kind"] == "undo" && o["status"] == "running")
    });
    std::thread::sleep(Duration::from_millis(300));
    let stderr = undo.kill();
    let killed_at = Instant::now();
    let first = g.op(2);
    assert_eq!(first["kind"], "undo", "{first}");
    assert_eq!(first["undoes"], 1, "{first}");
    assert_ne!(first["status"], "done", "{first}\n{stderr}");

    // The next undo settles the killed one (nothing came back) and brings the app back.
    g.run(&["undo", "1", "--yes"])
        .success()
        .stderr_has("operation 2 (undo analytics.example.org) was interrupted")
        .stdout_has("installed again");
    assert!(g.matomo_there());
    assert_eq!(checksum(&g.lab, MATOMO), before);
    let ops = g.ops();
    let first = g.op(2);
    assert_eq!(first["status"], "not_applied", "{ops:#?}");
    assert_eq!(first["undoes"], 1, "{first}");
    assert!(
        msg(&first).contains("nothing is installed at analytics.example.org"),
        "{first}"
    );
    let second = g.op(3);
    assert_eq!(second["kind"], "undo", "{second}");
    assert_eq!(second["status"], "done", "{second}");
    assert_eq!(second["undoes"], 1, "{second}");
    assert_eq!(g.op(1)["undone_by"], 3, "{ops:#?}");
    assert!(
        ops.iter().all(|o| o["status"] != "running"),
        "a row is left running: {ops:#?}"
    );
    // Once the held request's time is up, still one app at the FQDN, installed once.
    std::thread::sleep(Duration::from_millis(4500).saturating_sub(killed_at.elapsed()));
    assert_eq!(apps_at(&g.lab, MATOMO), 1, "{:#?}", g.lab.state()["apps"]);
    assert_eq!(
        g.lab.seen("POST", "/api/v1/apps").len(),
        1,
        "{:?}",
        g.lab.requests()
    );
}

#[test]
fn a_user_remove_killed_after_userdel_is_settled_done_then_undone() {
    // `userdel` as the host has it, then a pause: the account is gone while matelot still
    // waits for the command to end, the moment it is killed.
    let bin = tempfile::tempdir().expect("bin dir");
    let userdel = bin.path().join("userdel");
    std::fs::write(
        &userdel,
        "#!/bin/sh\n/usr/sbin/userdel \"$@\"\nrc=$?\nsleep 5\nexit $rc\n",
    )
    .expect("write userdel");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&userdel, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let p = crate::common_sandbox::private_with("recousr", "127.0.0.10", 0, |o| {
        o.bin_dir = Some(bin.path().to_path_buf())
    });
    let h = &p.host;
    sh(
        h,
        r#"set -e
mkdir -p /srv/guard && umask 077 && echo 'pw for guard' > /srv/guard/pw
RESTIC_CACHE_DIR=/srv/guard/cache restic -r /srv/guard/repo --password-file /srv/guard/pw init >/dev/null
groupadd -g 3600 physics
useradd -m -u 3101 -s /bin/bash -G physics zoe
mkdir -p /home/zoe/.ssh /home/zoe/notes
echo 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIF3 zoe@laptop' > /home/zoe/.ssh/authorized_keys
head -c 100000 /dev/urandom > /home/zoe/notes/data.bin
chmod 700 /home/zoe/.ssh && chown -R zoe:zoe /home/zoe"#,
        &[],
    );
    let account = sh(h, ACCOUNT, &["zoe"]);
    let home = sh(h, SUMS, &["/home/zoe"]);
    let g = G::plain(&config(h, "/srv/guard/pw"));
    let gone = || {
        let out = h.exec(&["sh", "-c", GONE, "sh", "zoe"]).expect("nsenter");
        String::from_utf8_lossy(&out.stdout).trim() == "gone"
    };

    let mut rm = Bg::start(&g, &["user", "remove", "zoe", "--confirm", "zoe"]);
    rm.wait_until("zoe is gone from the host", gone);
    let stderr = rm.kill();
    let op = of_kind(&g.ops(), "user.remove").expect("the removal is journalled");
    let n = id_of(&op);
    assert_ne!(
        op["status"], "done",
        "the kill came too late: {op}\n{stderr}"
    );
    assert_eq!(op["restore_point"]["kind"], "compute.account", "{op}");

    g.run(&["journal", "settle"])
        .success()
        .stderr_has("zoe on box is gone: the removal happened");
    let op = g.op(n.parse().expect("n"));
    assert_eq!(op["status"], "done", "{op}");
    assert_eq!(op["restore_point"]["kind"], "compute.account", "{op}");
    assert_eq!(op["undo_hint"], format!("matelot undo {n}"), "{op}");

    g.run(&["undo", &n, "--yes"])
        .success()
        .stdout_has("zoe re-created on box");
    assert_eq!(sh(h, ACCOUNT, &["zoe"]), account);
    assert_eq!(sh(h, SUMS, &["/home/zoe"]), home);
    let undo = of_kind(&g.ops(), "undo").expect("the undo");
    assert_eq!(undo["status"], "done", "{undo}");
    assert_eq!(undo["undoes"], op["id"], "{undo}");
}

/// The row of a failed task that broke the app: `failed_changed`, naming the state and the way
/// back from its restore point, on stderr and in the journal.
#[track_caller]
fn failed_changed_with_the_way_back(g: &G, kind: &str, stderr: &str) {
    let op = of_kind(&g.ops(), kind).unwrap_or_else(|| panic!("no {kind} row"));
    assert_eq!(op["status"], "failed_changed", "{op}");
    let rp = op["restore_point"]["id"].as_str().expect("restore point");
    let m = msg(&op);
    let back = format!("the way back: `matelot app restore {MATOMO} --backup {rp}`");
    assert!(m.contains(&format!("{MATOMO} is now Error")), "{m}");
    assert!(m.contains(&back), "{m}");
    assert!(!m.contains("nothing was changed"), "{m}");
    assert!(stderr.contains(&back), "{stderr}");
    assert!(!stderr.contains("nothing was changed"), "{stderr}");
    // The restore point it names is there to go back to.
    assert!(
        g.lab.state()["backups"]
            .as_array()
            .expect("backups")
            .iter()
            .any(|b| b["id"] == rp),
        "{rp} is not listed"
    );
}

#[test]
fn a_task_that_fails_half_way_is_failed_changed_with_the_way_back() {
    let g = G::new();
    g.lab
        .fault("POST /api/v1/apps/{id}/uninstall", "task_error", 1);
    let run = g
        .run(&["app", "uninstall", "analytics", "--confirm", MATOMO])
        .status(1);
    failed_changed_with_the_way_back(&g, "app.uninstall", &run.stderr);
    assert_eq!(g.lab.app(MATOMO)["installationState"], "error");

    let g = G::new();
    let old = g.run(&["-q", "app", "backup", "analytics"]).success();
    let old = old.stdout.trim().to_string();
    g.lab
        .fault("POST /api/v1/apps/{id}/restore", "task_error", 1);
    let run = g
        .run(&[
            "app",
            "restore",
            "analytics",
            "--backup",
            &old,
            "--confirm",
            MATOMO,
        ])
        .status(1);
    failed_changed_with_the_way_back(&g, "app.restore", &run.stderr);
}

#[test]
fn an_uninstall_killed_before_its_restore_point_is_not_applied_though_the_app_is_gone() {
    let g = G::with_lab(Lab::with(|o| o.task_duration = Duration::from_millis(1500)));
    let id = g.id();
    let mut rm = Bg::start(&g, &["app", "uninstall", "analytics", "--confirm", MATOMO]);
    rm.wait_until("the backup task started", || {
        !g.lab
            .seen("POST", &format!("/api/v1/apps/{id}/backup"))
            .is_empty()
    });
    let stderr = rm.kill();
    let op = g.op(1);
    assert!(op["restore_point"].is_null(), "{op}\n{stderr}");
    assert!(
        g.destructive_posts().is_empty(),
        "{:?}",
        g.destructive_posts()
    );

    // Someone uninstalls it by hand on the Cloudron (once the backup is over).
    eventually("the backup task ended", || matomo_idle(&g));
    g.lab.post(&format!("/api/v1/apps/{id}/uninstall"));
    eventually("Matomo is uninstalled by hand", || !g.matomo_there());

    g.run(&["journal", "settle"])
        .success()
        .stderr_has("settled as not applied");
    let op = g.op(1);
    assert_eq!(op["status"], "not_applied", "{op}");
    assert!(
        msg(&op).contains("is gone now, but not by this operation"),
        "{op}"
    );
    assert!(op["undo_hint"].is_null(), "{op}");
    g.run(&["journal", "list"])
        .success()
        .stdout_lacks("matelot undo 1");
    g.run(&["undo", "1", "--yes"])
        .status(3)
        .stderr_has("cannot be undone");
    assert!(!g.matomo_there());
    assert_eq!(g.lab.seen("POST", "/api/v1/apps").len(), 0);
}

/// `app restore` killed once its task id is journalled, while the task runs on: settled from
/// that task, `done` when it succeeds; when it hangs (a stalled task), left `interrupted` by a
/// run that looks too early, then `failed_changed` once it is stopped (it failed, the app is in
/// error).
#[test]
fn a_restore_killed_while_its_task_runs_is_settled_from_the_recorded_task() {
    for stall in [false, true] {
        let g = G::with_lab(Lab::with(|o| o.task_duration = Duration::from_millis(1500)));
        let id = g.id();
        let original = checksum(&g.lab, MATOMO);
        let old = g.run(&["-q", "app", "backup", "analytics"]).success();
        let old = old.stdout.trim().to_string();
        g.lab.post(&format!("/__lab/apps/{id}/use"));
        assert_ne!(checksum(&g.lab, MATOMO), original);
        if stall {
            g.lab
                .fault("POST /api/v1/apps/{id}/restore", "task_stall", 1);
        }
        let args = [
            "app",
            "restore",
            "analytics",
            "--backup",
            &old,
            "--confirm",
            MATOMO,
        ];
        let mut restore = Bg::start(&g, &args);
        let mut recorded = None;
        restore.wait_until("the restore task is recorded", || {
            recorded =
                of_kind(&g.ops(), "app.restore").filter(|o| o["result"]["task_id"].is_string());
            recorded.is_some()
        });
        let stderr = restore.kill();
        let op = recorded.expect("recorded");
        let n: i64 = op["id"].as_i64().expect("id");
        let task_id = op["result"]["task_id"]
            .as_str()
            .expect("task id")
            .to_string();
        assert!(
            !g.lab
                .seen("POST", &format!("/api/v1/apps/{id}/restore"))
                .is_empty(),
            "stall {stall}: {stderr}"
        );
        // The task recorded is the restore's, not the restore point's backup.
        assert_ne!(
            op["restore_point"]["task_id"].as_str(),
            Some(task_id.as_str()),
            "{op}"
        );
        assert!(
            task(&g.lab, &task_id)["active"] == true,
            "stall {stall}: {op}"
        );

        if stall {
            // While the task runs, the row cannot be judged: it stays interrupted.
            g.run(&["journal", "settle"])
                .success()
                .stderr_has(&format!("its restore task {task_id} is still running"))
                .stderr_has("left as it is for now");
            assert_eq!(g.op(n)["status"], "interrupted");
            g.lab.post(&format!("/api/v1/tasks/{task_id}/stop"));
        }
        eventually("the restore task ended", || {
            task(&g.lab, &task_id)["active"] == false
        });
        g.run(&["journal", "settle"]).success();
        let op = g.op(n);
        assert_eq!(op["result"]["task_id"], task_id.as_str(), "{op}");
        let rp = op["restore_point"]["id"].as_str().expect("restore point");
        if stall {
            assert_eq!(op["status"], "failed_changed", "{op}");
            let m = msg(&op);
            assert!(
                m.contains(&format!("its restore task {task_id} failed")),
                "{m}"
            );
            assert!(
                m.contains(&format!(
                    "the way back: `matelot app restore {MATOMO} --backup {rp}`"
                )),
                "{m}"
            );
        } else {
            assert_eq!(op["status"], "done", "{op}");
            assert!(
                msg(&op).contains(&format!("its restore task {task_id} succeeded")),
                "{op}"
            );
            assert_eq!(checksum(&g.lab, MATOMO), original, "the old data is back");
            assert_eq!(op["undo_hint"], format!("matelot undo {n}"), "{op}");
        }
    }
}

#[test]
fn sigint_while_the_change_runs_exits_130_and_the_row_names_it() {
    let g = G::new();
    // The uninstall request is held longer than the grace a signal gives the step in flight.
    g.lab
        .fault("POST /api/v1/apps/{id}/uninstall", "delay_ms:8000", 1);
    let mut rm = Bg::start(&g, &["app", "uninstall", "analytics", "--confirm", MATOMO]);
    rm.wait_until("the uninstall is running", || {
        g.ops().first().is_some_and(|o| o["status"] == "running")
    });
    std::thread::sleep(Duration::from_millis(200));
    rm.signal(libc::SIGINT);
    let started = Instant::now();
    let (status, stderr) = rm.wait();
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "it waited for the request instead of the grace: {:?}",
        started.elapsed()
    );
    let op = g.op(1);
    assert_eq!(op["status"], "interrupted", "{op}");
    assert!(
        msg(&op).contains("SIGINT came while it was running"),
        "{op}"
    );
    assert!(op["restore_point"]["id"].is_string(), "{op}");
    assert!(
        stderr.contains("SIGINT came while it was running"),
        "{stderr}"
    );
    assert!(stderr.contains("matelot journal show 1"), "{stderr}");
}

/// Run under a pseudo-terminal (util-linux `script`), wait for `prompt` on the screen, then
/// type `keys` (the terminal stays open until the program ends). Exit code and screen.
fn at_the_prompt(t: Test, args: &str, prompt: &str, keys: &[u8]) -> (Option<i32>, String) {
    let t = t.env("TERM", "xterm");
    let bin = t.command();
    let mut cmd = Command::new("script");
    // `exec`: the shell `script` starts must not take the Ctrl-C (nor its exit status) itself.
    cmd.args(["-qec", &format!("exec {BIN} {args}"), "/dev/null"])
        .env_clear()
        .current_dir(t.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (k, v) in bin.get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    let mut child = cmd.spawn().expect("script (util-linux) runs");
    let mut stdin = child.stdin.take().expect("stdin");
    let mut stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 1024];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + PATIENCE;
    let mut screen = Vec::new();
    let mut typed = false;
    loop {
        if !typed && String::from_utf8_lossy(&screen).contains(prompt) {
            stdin.write_all(keys).expect("type");
            stdin.flush().expect("flush");
            typed = true;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(bytes) => screen.extend(bytes),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "no end within {PATIENCE:?} (typed: {typed})\n{}",
                    String::from_utf8_lossy(&screen)
                );
            }
        }
    }
    let status = child.wait().expect("wait");
    drop(stdin);
    (status.code(), String::from_utf8_lossy(&screen).into_owned())
}

#[test]
fn ctrl_c_or_ctrl_d_at_the_prompt_declines_and_is_journalled() {
    let g = G::new();
    for (keys, says) in [(&b"\x03"[..], "Ctrl-C"), (&b"\x04"[..], "Ctrl-D")] {
        let before = g.ops().len();
        let args = format!("--state-dir {} app uninstall analytics", g.state.display());
        let (code, screen) = at_the_prompt(g.lab.test(), &args, "to go ahead", keys);
        assert_eq!(code, Some(3), "{says}: {screen}");
        assert!(screen.contains(says), "{says}: {screen}");
        let ops = g.ops();
        assert_eq!(ops.len(), before + 1, "{says}: {ops:#?}");
        let op = ops.first().expect("row");
        assert_eq!(op["status"], "refused", "{says}: {op}");
        assert!(msg(op).contains(says), "{says}: {op}");
        assert!(g.matomo_there(), "{says}");
        assert!(g.lab.writes().is_empty(), "{says}: {:?}", g.lab.writes());
    }
}

#[test]
fn a_sync_whose_cloudron_half_fails_is_partial_and_names_the_row_not_done() {
    let e = crate::user::estate::Estate::start("reco-sync");
    let t = e.test().write(
        "people.csv",
        "username;email;name;groups;keys;state\n\
         ann;ann@example.org;Ann Lee;physics;;\n\
         ben;ben@example.org;Ben Oh;physics;;\n",
    );
    e.lab.fault("POST /api/v1/users", "http_500", 10);
    let run = crate::journal::run_in(&t, &["user", "sync", "people.csv", "--yes"]).status(4);
    assert!(e.try_exec(&["id", "ann"]).0, "the host half applied");
    assert!(e.try_exec(&["id", "ben"]).0, "the host half applied");
    assert!(e.cloudron_user("ann").is_none() && e.cloudron_user("ben").is_none());
    let ops = crate::journal::run_in(&t, &["journal", "list", "--json"])
        .success()
        .json();
    let ops = ops.as_array().expect("ops");
    assert_eq!(ops.len(), 2, "{ops:#?}");
    let row = |system: &str| {
        ops.iter()
            .find(|o| o["plan"]["system"] == system)
            .unwrap_or_else(|| panic!("no row for {system}: {ops:#?}"))
    };
    let (host, cloudron) = (row("reco-sync"), row("cloudron"));
    assert_eq!(host["target"], "roster:people.csv@reco-sync", "{host}");
    assert_eq!(host["status"], "done", "{ops:#?}");
    assert_ne!(cloudron["status"], "done", "{ops:#?}");
    assert_eq!(host["run"], cloudron["run"], "one run");
    let show = format!("`matelot journal show {}`", id_of(cloudron));
    assert!(run.stderr.contains(&show), "{show}\n{}", run.stderr);
    assert!(
        !run.stderr
            .contains(&format!("matelot journal show {}`", id_of(host))),
        "{}",
        run.stderr
    );
}

#[test]
fn one_http_500_while_polling_the_task_does_not_fail_an_uninstall() {
    let g = G::new();
    // The backup takes the next task id, the uninstall the one after.
    let next = g.lab.state()["nextTaskId"].as_u64().expect("nextTaskId");
    g.lab
        .fault(&format!("GET /api/v1/tasks/{}", next + 1), "http_500", 1);
    g.run(&["app", "uninstall", "analytics", "--confirm", MATOMO])
        .success()
        .stdout_has("uninstalled");
    assert!(!g.matomo_there());
    assert_eq!(g.op(1)["status"], "done");
    let polls = g.lab.seen("GET", &format!("/api/v1/tasks/{}", next + 1));
    assert!(
        polls.iter().any(|r| r.status == Some(500)),
        "the fault was not hit: {polls:?}"
    );
}

//! The real binary: `lab serve-cloudron` in the foreground, `lab up|status|down` in the
//! background (Cloudron only, `--hosts 0`; the hosts are tested in `lab_up.rs`), leaving
//! nothing running.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use cloudron_emulator::client_for;
use serde_json::Value;

use crate::support::Test;

fn alive(pid: u32) -> bool {
    // A zombie (exited, not yet reaped by its new parent) is not running.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .map(|(_, r)| r.trim_start().starts_with(['Z', 'X']))
        })
        .is_some_and(|zombie| !zombie)
}

/// GET a path with the token; the status code.
fn get_status(url: &str, token: &str, ca_pem: &str, path: &str) -> u16 {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = client_for(Some(ca_pem)).unwrap();
        let r = client
            .get(format!("{url}{path}"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        r.status().as_u16()
    })
}

/// Runs `lab down` when a test ends, even by a failed assertion, so no emulator outlives it.
struct DownOnDrop<'a>(&'a Test);

impl Drop for DownOnDrop<'_> {
    fn drop(&mut self) {
        let _ = self
            .0
            .command()
            .args(["lab", "down", "--dir", "lab"])
            .output();
    }
}

/// Kills the child when a test ends early, so no emulator outlives a failed assertion.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn serve_cloudron_prints_one_json_line_and_stops_on_sigterm() {
    let t = Test::new().args([
        "lab",
        "serve-cloudron",
        "--listen",
        "127.0.0.1:0",
        "--token",
        "s3cret-token",
        "--seed",
        "empty",
        "--dir",
        "lab",
    ]);
    let mut guard = KillOnDrop(
        t.command()
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let child = &mut guard.0;
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let ready: Value =
        serde_json::from_str(line.trim()).unwrap_or_else(|e| panic!("{e}: {line:?}"));
    let url = ready["url"].as_str().unwrap();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    assert_eq!(ready["token"], "s3cret-token");
    let ca_file = ready["ca_file"].as_str().unwrap();
    assert_eq!(
        std::path::Path::new(ca_file),
        t.path().join("lab/cloudron-ca.pem")
    );
    let ca = std::fs::read_to_string(ca_file).unwrap();
    assert_eq!(get_status(url, "s3cret-token", &ca, "/api/v1/apps"), 200);
    assert_eq!(get_status(url, "wrong", &ca, "/api/v1/apps"), 401);

    let t0 = Instant::now();
    // SAFETY: a child we spawned.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(5),
            "still running 5 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(
        err.contains("GET /api/v1/apps 200"),
        "requests are logged: {err}"
    );
    assert!(
        !err.contains("s3cret-token"),
        "the token stays out of the log"
    );
}

#[test]
fn lab_up_status_down_leave_nothing_running() {
    let t = Test::new();
    let _down = DownOnDrop(&t);
    let up = t
        .command()
        .args([
            "--json",
            "lab",
            "up",
            "--dir",
            "lab",
            "--task-duration",
            "100ms",
            "--hosts",
            "0",
        ])
        .output()
        .unwrap();
    assert!(
        up.status.success(),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );
    let rep: Value = serde_json::from_slice(&up.stdout).unwrap();
    assert_eq!(rep["running"], true);
    assert_eq!(rep["already_running"], false);
    let pid = rep["processes"][0]["pid"].as_u64().unwrap() as u32;
    let url = rep["processes"][0]["url"].as_str().unwrap().to_string();
    assert!(alive(pid));

    let dir = t.path().join("lab");
    let toml = std::fs::read_to_string(dir.join("matelot.toml")).unwrap();
    assert!(toml.contains(&format!("url = \"{url}\"")), "{toml}");
    assert!(toml.contains("token_file = \"cloudron.token\""), "{toml}");
    assert!(toml.contains("ca_file = \"cloudron-ca.pem\""), "{toml}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir.join("cloudron.token"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let token = std::fs::read_to_string(dir.join("cloudron.token")).unwrap();
    let ca = std::fs::read_to_string(dir.join("cloudron-ca.pem")).unwrap();
    assert_eq!(get_status(&url, token.trim(), &ca, "/api/v1/apps"), 200);
    let log = std::fs::read_to_string(dir.join("cloudron.log")).unwrap();
    assert!(!log.contains(token.trim()), "the token is not in the log");
    assert_eq!(
        std::fs::read_to_string(dir.join("cloudron.pid"))
            .unwrap()
            .trim(),
        pid.to_string()
    );

    // a second `up` starts nothing
    let again = t
        .command()
        .args(["--json", "lab", "up", "--dir", "lab"])
        .output()
        .unwrap();
    assert!(again.status.success());
    let again: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(again["already_running"], true);
    assert_eq!(again["processes"][0]["pid"].as_u64(), Some(u64::from(pid)));

    Test::new()
        .args(["lab", "status", "--dir", dir.to_str().unwrap()])
        .run()
        .success()
        .stdout_has("running")
        .stdout_has(&url);

    let down = t
        .command()
        .args(["lab", "down", "--dir", "lab"])
        .output()
        .unwrap();
    assert!(
        down.status.success(),
        "{}",
        String::from_utf8_lossy(&down.stderr)
    );
    assert!(
        String::from_utf8_lossy(&down.stdout).contains(&format!("stopped cloudron (pid {pid})"))
    );
    assert!(!alive(pid), "the emulator is gone");

    let st = t
        .command()
        .args(["--json", "lab", "status", "--dir", "lab"])
        .output()
        .unwrap();
    let st: Value = serde_json::from_slice(&st.stdout).unwrap();
    assert_eq!(st["running"], false);
    let again = t
        .command()
        .args(["lab", "down", "--dir", "lab"])
        .output()
        .unwrap();
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stdout).contains("was not running"));
}

#[test]
fn lab_up_resumes_the_saved_estate() {
    let t = Test::new();
    let _down = DownOnDrop(&t);
    let up = |fresh: bool| {
        let mut args = vec![
            "--json",
            "lab",
            "up",
            "--dir",
            "lab",
            "--task-duration",
            "50ms",
            "--hosts",
            "0",
        ];
        if fresh {
            args.push("--fresh");
        }
        let out = t.command().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let rep: Value = serde_json::from_slice(&out.stdout).unwrap();
        rep["processes"][0]["url"].as_str().unwrap().to_string()
    };
    let dir = t.path().join("lab");
    let token = || {
        std::fs::read_to_string(dir.join("cloudron.token"))
            .unwrap()
            .trim()
            .to_string()
    };
    let ca = || std::fs::read_to_string(dir.join("cloudron-ca.pem")).unwrap();
    let url = up(false);
    let first_token = token();
    let first_ca = ca();
    assert_eq!(
        get_status(&url, &first_token, &first_ca, "/api/v1/apps"),
        200
    );
    assert!(
        t.command()
            .args(["lab", "down", "--dir", "lab"])
            .status()
            .unwrap()
            .success()
    );

    let url = up(false);
    assert_eq!(token(), first_token, "the saved estate keeps its token");
    assert_eq!(ca(), first_ca, "and its CA");
    assert_eq!(
        get_status(&url, &first_token, &first_ca, "/api/v1/apps"),
        200
    );
    assert!(
        t.command()
            .args(["lab", "down", "--dir", "lab"])
            .status()
            .unwrap()
            .success()
    );

    let url = up(true);
    assert_ne!(token(), first_token, "--fresh starts over");
    assert_eq!(get_status(&url, &token(), &ca(), "/api/v1/apps"), 200);
    assert!(
        t.command()
            .args(["lab", "down", "--dir", "lab"])
            .status()
            .unwrap()
            .success()
    );
}

//! The run lock across real processes: this test process holds it through the library, a
//! second process is refused with exit 75 naming the holder, and `matelot lock status`
//! reports who holds it; after the release a new run gets it.

use matelot::lock::RunLock;

use crate::journal::{reexec, run_in};
use crate::support::Test;

const LOCK: &str = "MATELOT_IT_LOCK";

#[test]
fn a_fresh_state_dir_has_a_free_lock_and_looking_creates_nothing() {
    let t = Test::new();
    let v = run_in(&t, &["lock", "status", "--json"]).success().json();
    assert_eq!(v["state"], "free");
    assert!(
        v["path"]
            .as_str()
            .unwrap()
            .ends_with("matelot/matelot.lock"),
        "{v}"
    );
    assert!(
        !t.state_dir().exists(),
        "looking created the state directory"
    );
    run_in(&t, &["lock", "status"]).success().stdout_has("free");
}

/// Holding the lock here refuses a second real process with exit 75 and the holder's pid.
#[test]
fn a_second_process_is_refused_with_exit_75_while_the_lock_is_held() {
    if std::env::var("MATELOT_IT_ROLE").as_deref() == Ok("acquire") {
        let path = std::env::var(LOCK).unwrap();
        match RunLock::acquire(std::path::Path::new(&path)) {
            Ok(lock) => {
                println!("acquired by pid {}", lock.holder().process.pid);
                std::process::exit(0);
            }
            Err(e) => {
                eprintln!("error: {e}");
                std::process::exit(i32::from(e.exit_code()));
            }
        }
    }
    let t = Test::new();
    let path = t.state_dir().join("matelot.lock");
    let held = RunLock::acquire(&path).unwrap();
    let me = std::process::id();

    let v = run_in(&t, &["lock", "status", "--json"]).success().json();
    assert_eq!(v["state"], "held");
    assert_eq!(v["holder"]["process"]["pid"], me);
    assert_eq!(
        v["holder"]["acquired_at"],
        held.holder().acquired_at.as_str()
    );
    run_in(&t, &["lock", "status"])
        .success()
        .stdout_has(&format!("held by pid {me} (started "));

    let test = "lock::a_second_process_is_refused_with_exit_75_while_the_lock_is_held";
    let out = reexec(test, "acquire")
        .env(LOCK, &path)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(75), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "another matelot run holds the lock: pid {me} (started "
        )),
        "{stderr}"
    );
    assert!(stderr.contains("; try again later"), "{stderr}");

    drop(held);
    run_in(&t, &["lock", "status"]).success().stdout_has("free");
    let out = reexec(test, "acquire").env(LOCK, &path).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("acquired by pid "), "{stdout}");
    assert!(
        !stdout.contains(&format!("acquired by pid {me}\n")),
        "{stdout}"
    );
}

#[test]
fn lock_help_has_examples() {
    Test::new()
        .args(["lock", "status", "--help"])
        .run()
        .success()
        .stdout_has("Examples:")
        .stdout_has("75");
}

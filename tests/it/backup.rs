//! `matelot backup list|run` against a real Cloudron emulator over HTTPS: platform backups
//! taken, waited for and verified; per-app listings; failures reported with their cause.
//! `wired` adds a real compute host (the shared sshd sandbox, real restic): both targets in one
//! run, partial failures, the run lock, `--ping`, the journal.

use crate::lab_client::Lab;
use crate::support::{Run, Test};

mod wired;

/// The cells of the table row whose first cell is `target`.
pub fn row<'a>(run: &'a Run, target: &str) -> Vec<&'a str> {
    run.stdout
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|cells| cells.first() == Some(&target))
        .unwrap_or_else(|| panic!("no {target} row in:\n{}", run.stdout))
}

#[test]
fn list_shows_platform_backups_by_default_and_an_apps_with_app() {
    let lab = Lab::start();
    let run = lab.test().args(["backup", "list"]).run().success();
    let header: Vec<&str> = run
        .stdout
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(
        header,
        ["ID", "CREATED", "VERSION", "LABEL", "PRESERVED", "SIZE"]
    );
    let json = lab
        .test()
        .args(["backup", "list", "--cloudron", "--json"])
        .run()
        .success()
        .json();
    assert_eq!(json["scope"], "cloudron");
    let box_backups = json["backups"].as_array().expect("backups");
    assert!(
        !box_backups.is_empty(),
        "the demo has nightly platform backups"
    );
    assert!(box_backups.iter().all(|b| b["type"] == "box"), "{json}");
    // Newest first, as the server lists them; every one shown in the table.
    for b in box_backups {
        let id = b["id"].as_str().expect("id");
        assert!(run.stdout.contains(id), "{id} missing:\n{}", run.stdout);
    }

    let wiki = lab.app_id("wiki.example.org");
    let json = lab
        .test()
        .args(["backup", "list", "--app", "wiki", "--json"])
        .run()
        .success()
        .json();
    assert_eq!(json["scope"], "app");
    assert_eq!(json["app"]["id"], wiki.as_str());
    let app_backups = json["backups"].as_array().expect("backups");
    assert!(!app_backups.is_empty());
    assert!(app_backups.iter().all(|b| b["identifier"] == wiki.as_str()));
}

#[test]
fn run_takes_waits_and_verifies_a_platform_backup() {
    let lab = Lab::start();
    let before = lab.seen("GET", "/api/v1/backups").len();
    let run = lab
        .test()
        .args(["backup", "run", "--cloudron"])
        .run()
        .success()
        .stdout_has("platform backup, listed by the Cloudron");
    let cells = row(&run, "cloudron");
    assert_eq!(cells[1], "ok", "{}", run.stdout);
    let id = cells[2].to_string();
    assert_eq!(lab.seen("POST", "/api/v1/backups/create").len(), 1);
    assert!(
        lab.seen("GET", "/api/v1/backups").len() >= before + 2,
        "listed before and after"
    );
    let json = lab
        .test()
        .args(["backup", "list", "--json"])
        .run()
        .success()
        .json();
    assert_eq!(
        json["backups"][0]["id"],
        id.as_str(),
        "the newest is the new one"
    );

    // With --json, one document with the backup and its task.
    let json = lab
        .test()
        .args(["backup", "run", "--json"])
        .run()
        .success()
        .json();
    assert_eq!(json["status"], "ok");
    assert!(json["compute"].is_null(), "no compute host configured");
    assert!(json["cloudron"]["task_id"].is_string());
    assert_eq!(json["cloudron"]["backup"]["type"], "box");
    assert_eq!(json["cloudron"]["backup"]["state"], "normal");
}

#[test]
fn run_in_check_mode_sends_nothing() {
    let lab = Lab::start();
    lab.test()
        .args(["--check", "backup", "run", "--cloudron"])
        .run()
        .success()
        .stdout_has("would_back_up")
        .stdout_has("would POST /api/v1/backups/create at");
    assert_eq!(lab.writes(), vec![]);
}

#[test]
fn a_failing_platform_backup_exits_1_with_the_reason() {
    let lab = Lab::start();
    lab.fault("POST /api/v1/backups/create", "http_503", 1);
    lab.test()
        .args(["backup", "run", "--cloudron"])
        .run()
        .status(1)
        .stderr_has("(503: Injected by the lab (fault http_503))")
        .stderr_has("try again in a few minutes");
    assert_eq!(
        lab.seen("POST", "/api/v1/backups/create").len(),
        1,
        "a POST is never retried"
    );

    lab.fault("POST /api/v1/backups/create", "task_error", 1);
    lab.test()
        .args(["-q", "backup", "run"])
        .run()
        .status(1)
        .stderr_has("failed: ");
}

#[test]
fn every_backup_command_has_examples() {
    for cmd in ["list", "run", "verify", "prune", "init"] {
        Test::new()
            .args(["backup", cmd, "--help"])
            .run()
            .success()
            .stdout_has("Examples:");
    }
}

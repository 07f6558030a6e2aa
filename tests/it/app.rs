//! `matelot app ...` against a real Cloudron emulator over HTTPS: listing, showing, resolving
//! names, lifecycle changes with confirmation and `--check`, backups, and how failures of the
//! server reach the operator (retries on GETs only, messages, exit codes).

use crate::lab_client::Lab;
use crate::support::Test;

const MATOMO: &str = "analytics.example.org";

#[test]
fn list_shows_every_app_with_state_health_and_version() {
    let lab = Lab::start();
    let run = lab.test().args(["app", "list"]).run().success();
    let header = run.stdout.lines().next().unwrap_or_default();
    assert_eq!(
        header.split_whitespace().collect::<Vec<_>>(),
        ["APP", "FQDN", "STATE", "HEALTH", "VERSION"]
    );
    for fqdn in [
        MATOMO,
        "cloud.example.org",
        "chat.example.org",
        "www.example.org",
        "wiki.example.org",
        "git.example.org",
    ] {
        assert!(run.stdout.contains(fqdn), "{fqdn} missing:\n{}", run.stdout);
    }
    let matomo = run
        .stdout
        .lines()
        .find(|l| l.contains(MATOMO))
        .unwrap_or_default();
    assert!(matomo.starts_with("Matomo"), "{matomo}");
    assert!(
        matomo.contains("Running") && matomo.contains("healthy"),
        "{matomo}"
    );
    // The label wins over the package title.
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("Files ") && l.contains("cloud.example.org"))
    );

    let json = lab
        .test()
        .args(["app", "list", "--json"])
        .run()
        .success()
        .json();
    let apps = json["apps"].as_array().expect("apps array");
    assert_eq!(apps.len(), 6);
    let m = apps.iter().find(|a| a["fqdn"] == MATOMO).expect("matomo");
    assert_eq!(m["name"], "Matomo");
    assert_eq!(m["state"], "Running");
    assert_eq!(m["installationState"], "installed");
    assert_eq!(m["manifest"]["id"], "org.matomo.cloudronapp");
    assert_eq!(m["id"], lab.app_id(MATOMO));
}

#[test]
fn show_accepts_id_subdomain_fqdn_url_and_title() {
    let lab = Lab::start();
    let id = lab.app_id(MATOMO);
    for query in [
        id.as_str(),
        "analytics",
        "ANALYTICS.example.org",
        "https://analytics.example.org/",
        "matomo",
    ] {
        let json = lab
            .test()
            .args(["app", "show", query, "--json"])
            .run()
            .success()
            .json();
        assert_eq!(json["id"], id.as_str(), "{query}");
        assert_eq!(json["fqdn"], MATOMO, "{query}");
    }
    lab.test()
        .args(["app", "show", "analytics"])
        .run()
        .success()
        .stdout_has("App:     Matomo (analytics.example.org)")
        .stdout_has(&format!("Id:      {id}"))
        .stdout_has("Access:  restricted to 1 group");
    // Gitea has automatic backups off: show says what that means.
    lab.test()
        .args(["app", "show", "git"])
        .run()
        .success()
        .stdout_has("automatic backups OFF");
}

#[test]
fn an_ambiguous_name_lists_the_candidates_and_changes_nothing() {
    // One generated app on top of the demo: a second Matomo.
    let lab = Lab::with(|o| o.extra_apps = 1);
    let run = lab
        .test()
        .args(["app", "stop", "matomo", "--yes"])
        .run()
        .status(2);
    assert!(
        run.stderr.contains("\"matomo\" matches 2 apps"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains(MATOMO), "{}", run.stderr);
    assert!(
        run.stderr.contains("matomo-001.example.org"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("name one by its FQDN or id"),
        "{}",
        run.stderr
    );
    assert_eq!(lab.writes(), vec![], "nothing may be sent");
}

#[test]
fn an_unknown_name_suggests_close_ones() {
    let lab = Lab::start();
    lab.test()
        .args(["app", "show", "analytcs"])
        .run()
        .status(2)
        .stderr_has("no app matches \"analytcs\"; did you mean: analytics.example.org (Matomo");
}

#[test]
fn stop_without_a_terminal_needs_yes() {
    let lab = Lab::start();
    lab.test()
        .args(["app", "stop", "chat"])
        .run()
        .status(3)
        .stderr_has("pass --yes")
        .stderr_has("Nothing was changed");
    assert_eq!(lab.writes(), vec![]);
    assert_eq!(lab.app("chat.example.org")["runState"], "running");
}

#[test]
fn stop_asks_on_a_terminal_and_no_changes_nothing() {
    let lab = Lab::start();
    let (code, screen) = crate::support::on_a_terminal(lab.test(), "app stop git", "n\n");
    assert_eq!(code, Some(3), "{screen}");
    assert!(
        screen.contains("Stop git.example.org (Gitea)? Its users lose access"),
        "{screen}"
    );
    assert!(screen.contains("declined; nothing was changed"), "{screen}");
    assert_eq!(lab.writes(), vec![]);

    // An answer is a whole line: `yes please` is not yes.
    let (code, screen) = crate::support::on_a_terminal(lab.test(), "app stop git", "yes please\n");
    assert_eq!(code, Some(3), "{screen}");
    assert_eq!(lab.writes(), vec![]);

    let (code, screen) = crate::support::on_a_terminal(lab.test(), "app stop git", "y\n");
    assert_eq!(code, Some(0), "{screen}");
    assert!(
        screen.contains("git.example.org (Gitea): Stopped"),
        "{screen}"
    );
    assert_eq!(lab.app("git.example.org")["runState"], "stopped");
}

#[test]
fn stop_start_and_restart_wait_and_verify() {
    let lab = Lab::start();
    let id = lab.app_id("chat.example.org");
    lab.test()
        .args(["app", "stop", "chat", "--yes"])
        .run()
        .success()
        .stdout_has("chat.example.org (Rocket.Chat): Stopped");
    assert_eq!(lab.app("chat.example.org")["runState"], "stopped");
    assert_eq!(
        lab.seen("POST", &format!("/api/v1/apps/{id}/stop")).len(),
        1
    );

    // Stopping a stopped app is a no-op, and says so.
    lab.test()
        .args(["app", "stop", "chat", "--yes"])
        .run()
        .success()
        .stdout_has("already Stopped");
    assert_eq!(
        lab.seen("POST", &format!("/api/v1/apps/{id}/stop")).len(),
        1
    );

    let json = lab
        .test()
        .args(["app", "start", "chat", "--json"])
        .run()
        .success()
        .json();
    assert_eq!(json["changed"], true);
    assert_eq!(json["app"]["runState"], "running");
    assert_eq!(lab.app("chat.example.org")["runState"], "running");

    lab.test()
        .args(["app", "restart", "chat.example.org"])
        .run()
        .success()
        .stdout_has("chat.example.org (Rocket.Chat): ");
    assert_eq!(
        lab.seen("POST", &format!("/api/v1/apps/{id}/restart"))
            .len(),
        1
    );
    assert_eq!(lab.app("chat.example.org")["runState"], "running");
}

#[test]
fn a_busy_app_is_not_touched() {
    let lab = Lab::start();
    let id = lab.app_id("wiki.example.org");
    lab.fault("POST /api/v1/apps/{id}/backup", "task_stall", 1);
    lab.post(&format!("/api/v1/apps/{id}/backup"));
    lab.test()
        .args(["app", "stop", "wiki", "--yes"])
        .run()
        .status(1)
        .stderr_has("wiki.example.org (Wiki.js) is busy (Backing up, task ")
        .stderr_has("nothing was changed");
    assert_eq!(lab.seen("POST", &format!("/api/v1/apps/{id}/stop")), vec![]);
}

#[test]
fn check_mode_says_what_would_happen_and_sends_nothing() {
    let lab = Lab::start();
    let id = lab.app_id(MATOMO);
    lab.test()
        .args(["--check", "app", "stop", "matomo"])
        .run()
        .success()
        .stdout_has(&format!(
            "would stop {MATOMO} (Matomo): POST /api/v1/apps/{id}/stop"
        ));
    lab.test()
        .args([
            "--check",
            "app",
            "backup",
            "matomo",
            "--label",
            "x",
            "--keep-days",
            "3",
        ])
        .run()
        .success()
        .stdout_has("would back up")
        .stdout_has("labelled \"x\", kept at least 3 days");
    let json = lab
        .test()
        .args(["--check", "--json", "app", "restart", "matomo"])
        .run()
        .success()
        .json();
    assert_eq!(json["check"], true);
    assert_eq!(json["action"], "restart");
    assert_eq!(lab.writes(), vec![]);
}

#[test]
fn backup_waits_verifies_labels_and_prints_the_id() {
    let lab = Lab::start();
    let id = lab.app_id(MATOMO);
    let run = lab
        .test()
        .args([
            "app",
            "backup",
            "matomo",
            "--label",
            "before upgrade",
            "--keep-days",
            "30",
        ])
        .run()
        .success()
        .stderr_has(
            "verified (listed by the Cloudron, labelled \"before upgrade\", kept at least 30 days)",
        );
    let backup_id = run.stdout.trim().to_string();
    assert!(
        !backup_id.is_empty() && !backup_id.contains(char::is_whitespace),
        "{backup_id:?}"
    );

    // The server lists it, with the label and the preservation.
    let listed = lab
        .test()
        .args(["backup", "list", "--app", "analytics", "--json"])
        .run()
        .success()
        .json();
    let b = listed["backups"]
        .as_array()
        .expect("backups")
        .iter()
        .find(|b| b["id"] == backup_id.as_str())
        .expect("the new backup is listed")
        .clone();
    assert_eq!(b["label"], "before upgrade");
    assert_eq!(b["preserveSecs"], 30 * 86_400);
    assert_eq!(b["identifier"], id.as_str());
    assert_eq!(
        lab.seen("POST", &format!("/api/v1/apps/{id}/backups/{backup_id}"))
            .len(),
        1
    );
}

#[test]
fn a_503_on_a_get_is_retried_and_succeeds() {
    let lab = Lab::start();
    lab.fault("GET /api/v1/apps", "http_503", 2);
    lab.test()
        .args(["app", "list"])
        .run()
        .success()
        .stdout_has(MATOMO)
        .stderr_has("retrying in");
    let statuses: Vec<Option<u16>> = lab
        .seen("GET", "/api/v1/apps")
        .into_iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, vec![Some(503), Some(503), Some(200)]);
}

#[test]
fn a_500_on_the_backup_post_is_not_retried() {
    let lab = Lab::start();
    let id = lab.app_id(MATOMO);
    let path = format!("/api/v1/apps/{id}/backup");
    lab.fault("POST /api/v1/apps/{id}/backup", "http_500", 1);
    lab.test()
        .args(["app", "backup", "matomo"])
        .run()
        .status(1)
        .stderr_has(&format!(
            "the Cloudron failed POST {path} (500: Injected by the lab (fault http_500))"
        ));
    assert_eq!(
        lab.seen("POST", &path).len(),
        1,
        "exactly one POST: {:?}",
        lab.requests()
    );
}

#[test]
fn a_failed_task_reports_the_task_message() {
    let lab = Lab::start();
    lab.fault("POST /api/v1/apps/{id}/backup", "task_error", 1);
    let run = lab.test().args(["app", "backup", "matomo"]).run().status(1);
    assert!(run.stderr.contains("Cloudron task "), "{}", run.stderr);
    assert!(run.stderr.contains(" failed: "), "{}", run.stderr);
    let task_id = lab.app(MATOMO)["error"]["taskId"].clone();
    let message = lab.app(MATOMO)["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(!message.is_empty());
    assert!(
        run.stderr.contains(&message),
        "task message {message:?} missing:\n{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(task_id.as_str().unwrap_or("?")),
        "{}",
        run.stderr
    );
}

#[test]
fn a_stalled_task_ends_in_a_timeout() {
    let mut lab = Lab::start();
    lab.cloudron_extra = "task_timeout = \"2s\"".into();
    lab.fault("POST /api/v1/apps/{id}/backup", "task_stall", 1);
    let started = std::time::Instant::now();
    lab.test()
        .args(["app", "backup", "matomo"])
        .run()
        .status(1)
        .stderr_has("did not finish within 2s")
        .stderr_has("may still be running");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

#[test]
fn a_dropped_connection_is_a_clear_transport_error() {
    let lab = Lab::start();
    let id = lab.app_id(MATOMO);
    lab.fault("POST /api/v1/apps/{id}/backup", "drop_connection", 1);
    lab.test()
        .args(["app", "backup", "matomo"])
        .run()
        .status(1)
        .stderr_has(&format!("cannot reach the Cloudron at {}", lab.emu.url))
        .stderr_has("the connection was cut before an answer arrived");
    assert_eq!(
        lab.seen("POST", &format!("/api/v1/apps/{id}/backup")).len(),
        1
    );
}

#[test]
fn a_wrong_token_names_where_it_came_from() {
    let lab = Lab::start();
    let t = lab.test().write("token", "not-the-token\n");
    let token_path = t.path().join("token");
    t.args(["app", "list"])
        .run()
        .status(1)
        .stderr_has("rejected the API token (401: ")
        .stderr_has(&token_path.display().to_string())
        .stderr_has("Profile > API Tokens");

    lab.test()
        .env("MATELOT_CLOUDRON_TOKEN", "also-wrong")
        .args(["app", "list"])
        .run()
        .status(1)
        .stderr_has("the token came from env MATELOT_CLOUDRON_TOKEN")
        .stderr_lacks("also-wrong");
}

#[test]
fn tls_is_verified_without_the_ca_file() {
    let lab = Lab::start();
    let toml = format!(
        "[cloudron]\nurl = \"{}\"\ntoken_file = \"token\"\n",
        lab.emu.url
    );
    Test::new()
        .write("token", &lab.emu.token)
        .config(&toml)
        .args(["app", "list"])
        .run()
        .status(1)
        .stderr_has("certificate is not trusted")
        .stderr_has("ca_file");
    assert_eq!(
        lab.requests(),
        vec![],
        "no request may get through an untrusted TLS session"
    );
}

#[test]
fn without_a_cloudron_the_commands_say_how_to_configure_one() {
    Test::new()
        .args(["app", "list"])
        .run()
        .status(2)
        .stderr_has("no Cloudron is configured")
        .stderr_has("MATELOT_CLOUDRON_URL");
}

#[test]
fn every_app_command_has_examples() {
    for cmd in ["list", "show", "start", "stop", "restart", "backup"] {
        Test::new()
            .args(["app", cmd, "--help"])
            .run()
            .success()
            .stdout_has("Examples:")
            .stdout_has("Exit codes:");
    }
}

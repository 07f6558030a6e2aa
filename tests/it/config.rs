//! `matelot config check|show` over the real binary: every problem reported with its place,
//! the one-file rule and precedence, redaction of the token, warnings, paths, exit codes,
//! broken pipes and colour.

use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;

use crate::support::{Run, Test};

const TOKEN_FILE_VALUE: &str = "cloudron-token-from-file-7f3a9c";
const TOKEN_ENV_VALUE: &str = "cloudron-token-from-env-b81e22";

/// Replace the test's private directory in output, so snapshots do not depend on it.
fn scrub(t: &Test, s: &str) -> String {
    s.replace(&t.path().display().to_string(), "[TMP]")
}

/// Exit code and output of a run, scrubbed, for a snapshot. Table columns are re-joined with
/// ` | `, so the padding (which depends on the temporary path's length) does not matter.
fn outcome(t: &Test, r: &Run) -> String {
    let stdout: String = scrub(t, &r.stdout)
        .lines()
        .map(|l| {
            let cells: Vec<&str> = l
                .split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect();
            format!("{}\n", cells.join(" | "))
        })
        .collect();
    format!(
        "exit: {:?}\n--- stdout ---\n{stdout}--- stderr ---\n{}",
        r.code,
        scrub(t, &r.stderr)
    )
}

/// Run the binary in `t`'s directory and environment, keeping `t` for later runs.
fn run(t: &Test, args: &[&str]) -> Run {
    run_env(t, args, &[])
}

/// Like `run`, with extra environment variables.
fn run_env(t: &Test, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = t.command();
    cmd.args(args).stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run matelot");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        args: args.iter().map(|a| a.to_string()).collect(),
    }
}

fn chmod(t: &Test, rel: &str, mode: u32) {
    let p = t.path().join(rel);
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// A self-signed CA certificate in PEM, as the lab writes beside its matelot.toml.
fn ca_pem() -> String {
    let ca = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("rcgen");
    ca.cert.pem()
}

#[test]
fn each_invalid_file_names_the_place_and_the_fix() {
    let cases: &[(&str, &str)] = &[
        ("syntax", "[cloudron\nurl = \"https://c.example.org\"\n"),
        (
            "unknown_key",
            "[cloudron]\nurl = \"https://c.example.org\"\ntokenfile = \"t\"\n",
        ),
        ("unknown_table", "[helth]\nbackup_max_age = \"26h\"\n"),
        (
            "wrong_type",
            "[compute.calcul]\nhost = \"calcul\"\nport = \"22\"\n",
        ),
        (
            "port_range",
            "[compute.calcul]\nhost = \"calcul\"\nport = 0\n",
        ),
        ("empty_host", "[compute.calcul]\nhost = \"\"\n"),
        ("missing_host", "[compute.calcul]\nuser = \"root\"\n"),
        ("http_url", "[cloudron]\nurl = \"http://my.example.org\"\n"),
        ("not_a_url", "[cloudron]\nurl = \"https://exa mple.org\"\n"),
        (
            "inline_token",
            "[cloudron]\nurl = \"https://c.example.org\"\ntoken = \"abc123secret\"\n",
        ),
        (
            "bad_duration",
            "[cloudron]\nurl = \"https://c.example.org\"\ntask_timeout = \"15 minutes-ish\"\n",
        ),
        (
            "warn_above_crit",
            "[health]\ndisk = { warn = 95, crit = 90 }\n",
        ),
        (
            "missing_token_file",
            "[cloudron]\nurl = \"https://c.example.org\"\ntoken_file = \"secrets/token\"\n",
        ),
    ];
    for (name, toml) in cases {
        let t = Test::new().config(toml);
        let r = run(&t, &["config", "check"]).status(2);
        assert!(!r.stderr.contains("abc123secret"), "{}", r.stderr);
        insta::assert_snapshot!(format!("check_{name}"), outcome(&t, &r));
    }
}

#[test]
fn every_problem_of_a_file_is_reported_at_once() {
    let toml = r#"[cloudron]
url = "http://my.example.org"
tokn_file = "t"
protect = ["matomo", 3]

[compute.calcul]
host = "calcul.example.org"
port = 70000
sudo = "yes"

[compute.gpu]
user = "Ada"

[backup.compute]
repository = "/srv/restic"
password_file = "relative/password"
keep = { daily = 7, hourly = 24 }

[health]
disk = { warn = 95, crit = 90 }
backup_max_age = "a day"
"#;
    let t = Test::new().config(toml);
    let r = run(&t, &["config", "check"]).status(2);
    insta::assert_snapshot!(outcome(&t, &r));
    let problems = r
        .stderr
        .lines()
        .filter(|l| l.starts_with("  matelot.toml:"));
    assert_eq!(problems.count(), 11, "{}", r.stderr);

    let r = run(&t, &["config", "check", "--json"]).status(2);
    let doc = r.json();
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["file"], "matelot.toml");
    assert_eq!(doc["problems"].as_array().map(Vec::len), Some(11));
    let no_token = "no Cloudron API token: set token_file in [cloudron] or MATELOT_CLOUDRON_TOKEN";
    assert_eq!(doc["warnings"], serde_json::json!([no_token]));
}

#[test]
fn a_valid_file_checks_with_a_summary_and_exit_0() {
    let t = Test::new()
        .write("cloudron.token", TOKEN_FILE_VALUE)
        .config(
            "[cloudron]\nurl = \"https://my.example.org\"\ntoken_file = \"cloudron.token\"\n\n\
             [compute.calcul]\nhost = \"calcul.example.org\"\n\n[compute.gpu]\nhost = \"10.0.0.7\"\n",
        );
    chmod(&t, "cloudron.token", 0o600);
    let r = run(&t, &["config", "check"]).success();
    insta::assert_snapshot!(outcome(&t, &r));
    let doc = run(&t, &["config", "check", "--json"]).success().json();
    assert_eq!(
        doc,
        serde_json::json!({"ok": true, "file": "matelot.toml", "problems": [], "warnings": []})
    );
}

#[test]
fn no_configuration_file_is_valid() {
    let t = Test::new();
    run(&t, &["config", "check"])
        .success()
        .stdout_has("ok: no configuration file found");
    let r = run(&t, &["config", "show"]).success();
    insta::assert_snapshot!(outcome(&t, &r));
}

#[test]
fn show_lists_every_value_with_its_origin() {
    let t = Test::new()
        .write("lab/cloudron-ca.pem", &ca_pem())
        .write("lab/cloudron.token", TOKEN_FILE_VALUE)
        .write("home/.ssh/id_ed25519", "not parsed by config")
        .write(
            "lab/matelot.toml",
            "[cloudron]\nurl = \"https://127.0.0.1:4443\"\ntoken_file = \"cloudron.token\"\n\
             ca_file = \"cloudron-ca.pem\"\nprotect = [\"matomo\"]\n\n\
             [compute.calcul]\nhost = \"127.0.0.2\"\nport = 2222\nidentity = \"~/.ssh/id_ed25519\"\n\n\
             [backup.compute]\nrepository = \"/srv/restic\"\npassword_file = \"/root/.restic\"\n\n\
             [health]\ndisk = { warn = 70 }\n",
        );
    chmod(&t, "lab/cloudron.token", 0o600);
    chmod(&t, "home/.ssh/id_ed25519", 0o600);
    let r = run(&t, &["--config", "lab/matelot.toml", "config", "show"]).success();
    insta::assert_snapshot!(outcome(&t, &r));

    let args = ["--config", "lab/matelot.toml", "config", "show", "--json"];
    let doc = run(&t, &args).success().json();
    insta::assert_snapshot!(scrub(
        &t,
        &serde_json::to_string_pretty(&doc).expect("json")
    ));
}

#[test]
fn relative_paths_follow_the_file_and_tilde_is_home() {
    let t = Test::new()
        .write("lab/cloudron-ca.pem", &ca_pem())
        .write("home/keys/id", "key")
        .write(
            "lab/matelot.toml",
            "[cloudron]\nurl = \"https://127.0.0.1:4443\"\nca_file = \"cloudron-ca.pem\"\n\
             [compute.a]\nhost = \"a\"\nidentity = \"~/keys/id\"\nknown_hosts = \"kh\"\n\
             [state]\ndir = \"../state-here\"\n",
        );
    chmod(&t, "home/keys/id", 0o600);
    let args = ["--config", "lab/matelot.toml", "config", "show", "--json"];
    let doc = run(&t, &args).success().json();
    let value = |key: &str| {
        let settings = doc["settings"].as_array().expect("settings");
        let s = settings.iter().find(|s| s["key"] == key).expect(key);
        scrub(&t, s["value"].as_str().expect("string"))
    };
    assert_eq!(value("cloudron.ca_file"), "[TMP]/lab/cloudron-ca.pem");
    assert_eq!(value("compute.a.identity"), "[TMP]/home/keys/id");
    assert_eq!(value("compute.a.known_hosts"), "[TMP]/lab/kh");
    assert_eq!(value("state.dir"), "[TMP]/lab/../state-here");
}

#[test]
fn the_token_never_appears_in_any_output() {
    let t = Test::new()
        .write("cloudron.token", TOKEN_FILE_VALUE)
        .config("[cloudron]\nurl = \"https://my.example.org\"\ntoken_file = \"cloudron.token\"\n");
    chmod(&t, "cloudron.token", 0o600);
    let runs: &[&[&str]] = &[
        &["config", "show"],
        &["config", "show", "--json"],
        &["config", "check", "-v"],
        &["config", "check", "--json", "-v"],
        &["-vv", "config", "show"],
    ];
    for args in runs {
        for env_token in [false, true] {
            let env: &[(&str, &str)] = if env_token {
                &[("MATELOT_CLOUDRON_TOKEN", TOKEN_ENV_VALUE)]
            } else {
                &[]
            };
            let r = run_env(&t, args, env);
            let all = format!("{}{}", r.stdout, r.stderr);
            assert_eq!(r.code, Some(0), "{args:?}: {all}");
            assert!(
                !all.contains(TOKEN_FILE_VALUE),
                "{args:?} leaks the file token:\n{all}"
            );
            assert!(
                !all.contains(TOKEN_ENV_VALUE),
                "{args:?} leaks the env token:\n{all}"
            );
            if args.contains(&"show") {
                assert!(all.contains("<redacted>"), "{args:?}: {all}");
            }
            if env_token && args.contains(&"show") {
                assert!(all.contains("MATELOT_CLOUDRON_TOKEN"), "{args:?}: {all}");
            }
        }
    }
}

#[test]
fn a_token_file_others_can_read_is_a_warning() {
    let t = Test::new()
        .write("cloudron.token", TOKEN_FILE_VALUE)
        .config("[cloudron]\nurl = \"https://my.example.org\"\ntoken_file = \"cloudron.token\"\n");
    chmod(&t, "cloudron.token", 0o644);
    let r = run(&t, &["config", "check"]).success();
    insta::assert_snapshot!(outcome(&t, &r));
    let doc = run(&t, &["config", "check", "--json"]).success().json();
    let warning = doc["warnings"][0].as_str().expect("a warning");
    assert!(
        warning.contains("readable by group or others (mode 0644)"),
        "{doc}"
    );
    // Every command that loads the configuration says it too.
    Test::new()
        .write("cloudron.token", TOKEN_FILE_VALUE)
        .config("[cloudron]\nurl = \"https://my.example.org\"\ntoken_file = \"cloudron.token\"\n")
        .args(["config", "show"])
        .run()
        .success()
        .stderr_has("warning: token file");
}

/// The `cloudron.url` that `config show --json` reports, and where it came from.
fn effective_url(r: &Run) -> (String, String) {
    let doc = r.json();
    let settings = doc["settings"].as_array().expect("settings");
    let url = settings
        .iter()
        .find(|s| s["key"] == "cloudron.url")
        .expect("cloudron.url");
    let origin = &url["origin"];
    let from = match origin["kind"].as_str() {
        Some("file") => origin["path"].as_str().unwrap_or_default().to_string(),
        Some("env") => origin["var"].as_str().unwrap_or_default().to_string(),
        other => format!("{other:?}"),
    };
    (url["value"].as_str().unwrap_or_default().to_string(), from)
}

#[test]
fn precedence_flag_env_config_cwd_xdg_and_only_one_file() {
    let url = |host: &str| format!("[cloudron]\nurl = \"https://{host}.example.org\"\n");
    let t = Test::new().write(
        "config/matelot/config.toml",
        &format!("{}\n[compute.xdg-only]\nhost = \"x\"\n", url("xdg")),
    );
    let show = |t: &Test, extra: &[&str], env: &[(&str, &str)]| {
        let args: Vec<&str> = extra
            .iter()
            .copied()
            .chain(["config", "show", "--json"])
            .collect();
        let r = run_env(t, &args, env).success();
        let hosts = r.stdout.contains("compute.xdg-only");
        let (u, from) = effective_url(&r);
        (u, scrub(t, &from), hosts)
    };
    let xdg = "[TMP]/config/matelot/config.toml".to_string();
    assert_eq!(
        show(&t, &[], &[]),
        ("https://xdg.example.org/".into(), xdg, true)
    );

    let t = t.write("matelot.toml", &url("cwd"));
    assert_eq!(
        show(&t, &[], &[]),
        (
            "https://cwd.example.org/".into(),
            "matelot.toml".into(),
            false
        ),
        "./matelot.toml wins and the XDG file is not read at all"
    );

    let t = t.write("env.toml", &url("envfile"));
    let env_cfg = [("MATELOT_CONFIG", "env.toml")];
    assert_eq!(
        show(&t, &[], &env_cfg),
        (
            "https://envfile.example.org/".into(),
            "env.toml".into(),
            false
        )
    );

    let t = t.write("flag.toml", &url("flag"));
    let flag = ["--config", "flag.toml"];
    assert_eq!(
        show(&t, &flag, &env_cfg),
        (
            "https://flag.example.org/".into(),
            "flag.toml".into(),
            false
        )
    );

    let env_url = [
        ("MATELOT_CONFIG", "env.toml"),
        ("MATELOT_CLOUDRON_URL", "https://env.example.org"),
    ];
    assert_eq!(
        show(&t, &flag, &env_url),
        (
            "https://env.example.org/".into(),
            "MATELOT_CLOUDRON_URL".into(),
            false
        )
    );
}

#[test]
fn state_dir_flag_beats_env_beats_file() {
    let t = Test::new().config("[state]\ndir = \"from-file\"\n");
    let state = |extra: &[&str], env: Option<&str>| {
        let args: Vec<&str> = extra.iter().copied().chain(["config", "show"]).collect();
        let env: Vec<(&str, &str)> = env.map(|v| ("MATELOT_STATE_DIR", v)).into_iter().collect();
        let r = run_env(&t, &args, &env).success();
        let stdout = scrub(&t, &r.stdout);
        let line = stdout
            .lines()
            .find(|l| l.starts_with("state.dir"))
            .unwrap_or_default()
            .to_string();
        line.split_whitespace()
            .skip(1)
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(state(&[], None), "[TMP]/from-file matelot.toml:2");
    assert_eq!(
        state(&[], Some("from-env")),
        "[TMP]/from-env env MATELOT_STATE_DIR"
    );
    assert_eq!(
        state(&["--state-dir", "from-flag"], Some("from-env")),
        "[TMP]/from-flag flag --state-dir"
    );
}

#[test]
fn an_explicit_file_that_does_not_exist_is_exit_2() {
    let t = Test::new().config("");
    let r = run(&t, &["--config", "nowhere.toml", "config", "check"]).status(2);
    insta::assert_snapshot!(outcome(&t, &r));
    Test::new()
        .env("MATELOT_CONFIG", "nowhere.toml")
        .args(["config", "show"])
        .run()
        .status(2)
        .stderr_has("nowhere.toml: configuration file not found (named by MATELOT_CONFIG)");
}

/// Run with stdout a pipe whose reader is already gone: every write fails with EPIPE.
fn run_into_closed_pipe(t: &Test, args: &[&str]) -> (Option<i32>, String) {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let mut cmd = t.command();
    let out = cmd
        .args(args)
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .expect("run matelot");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_closed_stdout_is_not_an_error() {
    let t = Test::new()
        .config("[cloudron]\nurl = \"https://my.example.org\"\n[compute.a]\nhost = \"a\"\n");
    let runs: &[&[&str]] = &[
        &["completions", "bash"],
        &["completions", "zsh"],
        &["man"],
        &["config", "show"],
        &["config", "show", "--json"],
        &["config", "check"],
        &["config", "check", "--json"],
    ];
    for args in runs {
        let (code, stderr) = run_into_closed_pipe(&t, args);
        assert_eq!(code, Some(0), "{args:?} with a closed stdout:\n{stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(!stderr.contains("error:"), "{args:?}: {stderr}");
    }
}

#[test]
fn colour_is_off_with_never_or_no_color() {
    // A configuration that yields a warning (coloured label) and a command that fails
    // (coloured error label), so both streams have something to colour.
    let warn_cfg = "[cloudron]\nurl = \"https://my.example.org\"\n";
    let runs = [
        (vec!["--color", "never", "config", "show"], None),
        (vec!["config", "show"], Some("1")),
        (
            vec![
                "--color",
                "never",
                "--config",
                "missing.toml",
                "config",
                "check",
            ],
            None,
        ),
    ];
    for (args, no_color) in runs {
        let mut t = Test::new().config(warn_cfg).env("TERM", "xterm-256color");
        t = match no_color {
            Some(v) => t.env("NO_COLOR", v),
            None => t.env_remove("NO_COLOR"),
        };
        let r = t.args(args.clone()).run();
        assert!(
            !r.stdout.contains('\u{1b}') && !r.stderr.contains('\u{1b}'),
            "{args:?}: escape codes in\n{}\n{}",
            r.stdout,
            r.stderr
        );
        assert!(r.stderr.contains("warning:") || r.stderr.contains("error:"));
    }
    // The check above would see colour if there were any: `always` has it.
    let r = Test::new()
        .config(warn_cfg)
        .env_remove("NO_COLOR")
        .args(["--color", "always", "config", "show"])
        .run()
        .success();
    assert!(r.stderr.contains('\u{1b}'), "{}", r.stderr);
    assert!(r.stdout.contains('\u{1b}'), "{}", r.stdout);
}

#[test]
fn help_has_examples() {
    for sub in ["check", "show"] {
        let r = Test::new().args(["config", sub, "--help"]).run().success();
        insta::assert_snapshot!(format!("help_{sub}"), r.stdout);
    }
}

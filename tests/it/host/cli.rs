//! `matelot host list|check|trust` through the real binary, configured with a `matelot.toml`
//! whose `[compute.shared]` is the shared sandbox: exit codes, messages, what is (not) written.

use crate::common_sandbox::shared;
use crate::support::{Run, Test};

/// Run the binary in `t`'s directory (same HOME, state and config) with these arguments.
fn run_in(t: &Test, args: &[&str]) -> Run {
    let out = t
        .command()
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run matelot");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        args: args.iter().map(|a| a.to_string()).collect(),
    }
}

/// A test whose `[compute.shared]` is the shared sandbox (root, its client key).
fn test() -> Test {
    let s = shared();
    Test::new().config(&format!(
        "[compute.shared]\nhost = \"{}\"\nport = {}\nuser = \"root\"\nidentity = \"{}\"\n",
        s.addr,
        s.port,
        s.client_key.display()
    ))
}

fn fingerprint() -> String {
    matelot::compute::HostKey::from_openssh(&shared().host_key_pub)
        .expect("key")
        .fingerprint()
}

#[test]
fn an_unknown_host_is_refused_with_exit_3_and_the_trust_command() {
    let fp = fingerprint();
    test()
        .args(["host", "check", "shared"])
        .run()
        .status(3)
        .stderr_has(&format!("ssh-ed25519 {fp}"))
        .stderr_has(&format!("matelot host trust shared --fingerprint {fp}"));
}

#[test]
fn trust_without_a_terminal_or_fingerprint_names_the_flag() {
    let t = test();
    run_in(&t, &["host", "trust", "shared"])
        .status(3)
        .stderr_has("no terminal to confirm")
        .stderr_has("--fingerprint SHA256:");
    assert!(!t.state_dir().join("known_hosts").exists());
}

#[test]
fn a_wrong_fingerprint_is_refused_and_nothing_is_recorded() {
    let t = test();
    run_in(
        &t,
        &[
            "host",
            "trust",
            "shared",
            "--fingerprint",
            "SHA256:LyzZrr9AsLaJHR8PjOJwXD9Do11ZrrpOGyW6KdOVI20",
        ],
    )
    .status(3)
    .stderr_has("fingerprint mismatch");
    assert!(!t.state_dir().join("known_hosts").exists());
    test()
        .args(["host", "trust", "shared", "--fingerprint", "MD5:aa:bb:cc"])
        .run()
        .status(2)
        .stderr_has("MD5");
}

#[test]
fn trust_with_the_fingerprint_records_it_then_check_and_list_see_it() {
    let fp = fingerprint();
    let t = test();
    let kh = t.state_dir().join("known_hosts");
    // --check shows and records nothing.
    run_in(
        &t,
        &["--check", "host", "trust", "shared", "--fingerprint", &fp],
    )
    .success()
    .stdout_has("would_record");
    assert!(!kh.exists());

    run_in(&t, &["host", "trust", "shared", "--fingerprint", &fp])
        .success()
        .stdout_has("recorded");
    let text = std::fs::read_to_string(&kh).expect("known_hosts written");
    assert_eq!(text, format!("{}\n", shared().known_hosts_line()));

    let run = run_in(&t, &["host", "check", "shared", "--json"]).success();
    let j = run.json();
    assert_eq!(j["uid"], 0);
    assert_eq!(j["privileged"], true);
    assert_eq!(j["host_key"]["fingerprint"], fp.as_str());
    assert_eq!(j["host_key"]["line"], 1);
    assert!(
        j["system"]
            .as_str()
            .is_some_and(|s| s.starts_with("Linux shared")),
        "{j}"
    );

    let run = run_in(&t, &["host", "list", "--json"]).success();
    let j = run.json();
    assert_eq!(j["hosts"][0]["name"], "shared");
    assert_eq!(j["hosts"][0]["host_key"], "known");
    assert_eq!(j["hosts"][0]["keys"][0]["fingerprint"], fp.as_str());

    run_in(&t, &["host", "trust", "shared", "--fingerprint", &fp])
        .success()
        .stdout_has("already_trusted");
    assert_eq!(
        std::fs::read_to_string(&kh).expect("read").lines().count(),
        1
    );
}

#[test]
fn a_changed_key_is_a_hard_stop_whatever_the_flags() {
    let fp = fingerprint();
    let s = shared();
    let t = test();
    let kh = t.state_dir().join("known_hosts");
    std::fs::create_dir_all(t.state_dir()).expect("mkdir");
    let other = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHOqgn4aG9dubq6JZsLo+7QA/um5qnngm1udcHsEBemZ";
    let text = format!("# old key\n[{}]:{}\t{other}\n", s.addr, s.port);
    std::fs::write(&kh, &text).expect("write");
    let at = format!("{}:2", kh.display());
    run_in(&t, &["host", "check", "shared"])
        .status(3)
        .stderr_has("HOST KEY CHANGED")
        .stderr_has(&at);
    for flags in [
        vec!["host", "trust", "shared", "--fingerprint", &fp],
        vec!["--no-input", "host", "trust", "shared"],
        vec!["--check", "host", "trust", "shared", "--fingerprint", &fp],
    ] {
        run_in(&t, &flags).status(3).stderr_has(&at);
    }
    assert_eq!(std::fs::read_to_string(&kh).expect("read"), text);
}

#[test]
fn the_users_own_known_hosts_is_read_but_never_written() {
    let t = test();
    let user_kh = t.path().join("home/.ssh/known_hosts");
    std::fs::create_dir_all(user_kh.parent().expect("parent")).expect("mkdir");
    std::fs::write(&user_kh, format!("{}\n", shared().known_hosts_line())).expect("write");
    let j = run_in(&t, &["host", "check", "shared", "--json"])
        .success()
        .json();
    assert_eq!(j["host_key"]["file"], user_kh.display().to_string());
    assert!(!t.state_dir().join("known_hosts").exists());
}

#[test]
fn the_ssh_agent_is_used_without_an_identity() {
    let s = shared();
    let dir = tempfile::tempdir().expect("tmp");
    let sock = dir.path().join("agent.sock");
    let mut agent = std::process::Command::new("ssh-agent")
        .arg("-D")
        .arg("-a")
        .arg(&sock)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("ssh-agent");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !sock.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let added = std::process::Command::new("ssh-add")
        .arg(&s.client_key)
        .env("SSH_AUTH_SOCK", &sock)
        .output()
        .expect("ssh-add");
    assert!(added.status.success(), "{added:?}");
    let t = Test::new().config(&format!(
        "[compute.shared]\nhost = \"{}\"\nport = {}\nknown_hosts = \"{}\"\n",
        s.addr,
        s.port,
        s.known_hosts.display()
    ));
    let run = t
        .args(["host", "check", "shared", "--json"])
        .env("SSH_AUTH_SOCK", sock.display().to_string())
        .run();
    let _ = agent.kill();
    let _ = agent.wait();
    assert_eq!(run.success().json()["uid"], 0);
    // Without an agent, the error says what to configure.
    Test::new()
        .config(&format!(
            "[compute.shared]\nhost = \"{}\"\nport = {}\nknown_hosts = \"{}\"\n",
            s.addr,
            s.port,
            s.known_hosts.display()
        ))
        .args(["host", "check", "shared"])
        .env_remove("SSH_AUTH_SOCK")
        .run()
        .status(2)
        .stderr_has("set identity =");
}

#[test]
fn names_and_listing_without_connecting() {
    test()
        .args(["host", "check", "nosuch"])
        .run()
        .status(2)
        .stderr_has("no compute host named nosuch; configured: shared");
    test()
        .args(["host", "list"])
        .run()
        .success()
        .stdout_has("NAME")
        .stdout_has("unknown: matelot host trust shared");
    Test::new()
        .args(["host", "--help"])
        .run()
        .success()
        .stdout_has("Examples:");
    Test::new()
        .args(["host", "trust", "--help"])
        .run()
        .success()
        .stdout_has("--fingerprint");
}

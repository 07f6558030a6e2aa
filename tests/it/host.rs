//! Compute hosts over SSH, against real sshd sandboxes: host-key decisions (unknown, trusted,
//! changed, revoked, hashed and tab-separated lines), sudo wrapping, timeouts, parallel
//! channels. The `matelot host ...` command line is tested in `host/cli.rs`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use matelot::compute::known_hosts::append_entry;
use matelot::compute::{
    ConnectOptions, Decision, HostKey, RemoteCommand, Session, SshError, fetch_host_key,
};
use matelot::config::ComputeHost;

use crate::common_sandbox::{private, private_with, shared, unique_user};

fn opts() -> ConnectOptions {
    ConnectOptions {
        user_known_hosts: None,
        ..ConnectOptions::default()
    }
}

/// The shared host's settings with a known_hosts file of the test's own, holding `text`.
fn shared_with(dir: &Path, text: &str) -> (ComputeHost, PathBuf) {
    let kh = dir.join("known_hosts");
    std::fs::write(&kh, text).expect("write known_hosts");
    let mut host = shared().compute_host();
    host.known_hosts = Some(kh.clone());
    (host, kh)
}

fn sandbox_key() -> HostKey {
    HostKey::from_openssh(&shared().host_key_pub).expect("host key")
}

async fn connect(host: &ComputeHost, kh: &Path) -> Result<Session, SshError> {
    Session::connect(host, kh, &opts()).await
}

fn refusal(e: SshError) -> (Decision, String) {
    let msg = e.to_string();
    match e {
        SshError::HostKey(r) => (r.decision.clone(), msg),
        other => panic!("expected a host-key refusal, got: {other}"),
    }
}

/// `ssh-keygen -lf FILE` fingerprint, to check ours against OpenSSH's.
fn openssh_fingerprint(pub_line: &str) -> String {
    let f = tempfile::NamedTempFile::new().expect("tmp");
    std::fs::write(f.path(), pub_line).expect("write");
    let out = std::process::Command::new("ssh-keygen")
        .arg("-lf")
        .arg(f.path())
        .output()
        .expect("ssh-keygen");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .nth(1)
        .expect("fingerprint field")
        .to_string()
}

#[tokio::test]
async fn unknown_host_is_refused_with_fingerprint_and_trust_command() {
    let dir = tempfile::tempdir().expect("tmp");
    let (host, kh) = shared_with(dir.path(), "");
    let (decision, msg) = refusal(connect(&host, &kh).await.expect_err("refused"));
    assert_eq!(
        decision,
        Decision::Unknown {
            cert_authority: None
        }
    );
    let fp = openssh_fingerprint(&shared().host_key_pub);
    assert!(msg.contains(&format!("ssh-ed25519 {fp}")), "{msg}");
    assert!(
        msg.contains(&format!("matelot host trust shared --fingerprint {fp}")),
        "{msg}"
    );
}

#[tokio::test]
async fn a_trusted_key_lets_commands_run() {
    let dir = tempfile::tempdir().expect("tmp");
    let (host, kh) = shared_with(dir.path(), "");
    let (key, decision) = fetch_host_key(&host, &kh, &opts()).await.expect("fetch");
    assert!(matches!(decision, Decision::Unknown { .. }));
    assert_eq!(key, sandbox_key());
    let at = append_entry(&kh, &host.host, host.port, &key).expect("append");
    assert_eq!(at.line, 1);
    let s = connect(&host, &kh).await.expect("connect");
    let out = s.run("id -u", None, None).await.expect("run");
    assert_eq!(out.stdout_text(), "0\n");
    assert!(out.success());
    eprintln!("connect + auth: {:?}", s.connect_time);
}

#[tokio::test]
async fn tab_separated_and_hashed_lines_are_read() {
    let dir = tempfile::tempdir().expect("tmp");
    let line = shared().known_hosts_line();
    let tabbed = format!("# comment\n{}\tmatelot-test\n", line.replace(' ', "\t"));
    let (host, kh) = shared_with(dir.path(), &tabbed);
    connect(&host, &kh)
        .await
        .expect("tab-separated line trusted");

    // Hashed by OpenSSH itself.
    std::fs::write(&kh, format!("{line}\n")).expect("write");
    let st = std::process::Command::new("ssh-keygen")
        .arg("-H")
        .arg("-f")
        .arg(&kh)
        .output()
        .expect("ssh-keygen -H");
    assert!(st.status.success());
    let hashed = std::fs::read_to_string(&kh).expect("read");
    assert!(hashed.starts_with("|1|"), "{hashed}");
    connect(&host, &kh).await.expect("hashed line trusted");
}

#[tokio::test]
async fn an_rsa_only_entry_against_an_ed25519_server_is_a_change() {
    let dir = tempfile::tempdir().expect("tmp");
    let rsa = dir.path().join("rsa");
    std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "rsa", "-b", "2048", "-N", "", "-f"])
        .arg(&rsa)
        .status()
        .expect("ssh-keygen");
    let rsa_pub = std::fs::read_to_string(rsa.with_extension("pub")).expect("pub");
    let s = shared();
    let line = format!("[{}]:{} {}", s.addr, s.port, rsa_pub.trim());
    let (host, kh) = shared_with(dir.path(), &format!("{line}\n"));
    let (decision, msg) = refusal(connect(&host, &kh).await.expect_err("refused"));
    assert!(
        matches!(decision, Decision::Changed { ref at, .. } if at.line == 1),
        "{decision:?}"
    );
    assert!(msg.contains("HOST KEY CHANGED"), "{msg}");
    assert!(msg.contains(&format!("{}:1", kh.display())), "{msg}");
    assert!(msg.contains("ssh-rsa"), "{msg}");
}

#[tokio::test]
async fn a_revoked_key_is_refused_even_when_also_listed() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = shared();
    let key = sandbox_key().to_openssh();
    let text = format!("{}\n@revoked * {key}\n", s.known_hosts_line());
    let (host, kh) = shared_with(dir.path(), &text);
    let (decision, msg) = refusal(connect(&host, &kh).await.expect_err("refused"));
    assert!(matches!(decision, Decision::Revoked { ref at } if at.line == 2));
    assert!(msg.contains("REVOKED HOST KEY"), "{msg}");
}

#[tokio::test]
async fn a_cert_authority_line_alone_is_unknown_and_says_so() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = shared();
    let text = format!(
        "@cert-authority [{}]:{} {}\n",
        s.addr,
        s.port,
        sandbox_key().to_openssh()
    );
    let (host, kh) = shared_with(dir.path(), &text);
    let (decision, msg) = refusal(connect(&host, &kh).await.expect_err("refused"));
    assert!(matches!(
        decision,
        Decision::Unknown {
            cert_authority: Some(_)
        }
    ));
    assert!(msg.contains("does not support host certificates"), "{msg}");
}

#[tokio::test]
async fn a_restarted_host_has_a_new_key_and_is_a_hard_stop() {
    let dir = tempfile::tempdir().expect("tmp");
    let first = private("rekey", "127.0.0.4", 0);
    let port = first.host.port;
    let mut host = first.host.compute_host();
    let kh = dir.path().join("known_hosts");
    host.known_hosts = Some(kh.clone());
    std::fs::write(&kh, format!("# ours\n{}\n", first.host.known_hosts_line())).expect("write");
    connect(&host, &kh).await.expect("first key trusted");
    drop(first);

    let second = private("rekey", "127.0.0.4", port);
    assert_eq!(second.host.port, port);
    host.identity = Some(second.host.client_key.clone());
    let (decision, msg) = refusal(connect(&host, &kh).await.expect_err("refused"));
    assert!(matches!(decision, Decision::Changed { ref at, .. } if at.line == 2));
    assert!(msg.contains(&format!("{}:2", kh.display())), "{msg}");
    // fetch (what `host trust` uses) sees the same verdict: trusting cannot paper over it.
    let (_, d) = fetch_host_key(&host, &kh, &opts()).await.expect("fetch");
    assert_eq!(d, decision);
}

#[tokio::test]
async fn a_known_key_type_is_asked_for_first() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = private_with("twokeys", "127.0.0.5", 0, |o| {
        o.host_key_types = vec!["ed25519".into(), "rsa".into()];
    });
    let h = &p.host;
    let line = |i: usize| {
        matelot::lab::sandbox::prepare::known_hosts_line(h.addr, h.port, &h.host_keys_pub[i])
    };
    let mut host = h.compute_host();
    let kh = dir.path().join("known_hosts");
    host.known_hosts = Some(kh.clone());
    for (text, want) in [(line(1), "ssh-rsa"), (line(0), "ssh-ed25519")] {
        std::fs::write(&kh, format!("{text}\n")).expect("write");
        let s = connect(&host, &kh)
            .await
            .expect("known type asked for first");
        assert_eq!(s.host_key().algorithm, want);
    }
    // Nothing known: the server's preferred (ed25519) key is offered.
    std::fs::write(&kh, "").expect("write");
    let (key, d) = fetch_host_key(&host, &kh, &opts()).await.expect("fetch");
    assert_eq!(
        (key.algorithm.as_str(), d),
        (
            "ssh-ed25519",
            Decision::Unknown {
                cert_authority: None
            }
        )
    );
}

/// Create `user` on the shared host with root's client key and the given sudoers rule.
fn sudo_user(user: &str, rule: &str) {
    let h = shared();
    let pubkey = std::fs::read_to_string(h.client_key.with_extension("pub")).expect("pub");
    let script = format!(
        "set -e; useradd -m -s /bin/sh {user}; install -d -m 700 -o {user} /home/{user}/.ssh; \
         printf '%s\\n' '{}' > /home/{user}/.ssh/authorized_keys; \
         chown {user} /home/{user}/.ssh/authorized_keys; \
         printf '%s\\n' '{user} {rule}' > /etc/sudoers.d/{user}; chmod 440 /etc/sudoers.d/{user}",
        pubkey.trim()
    );
    let out = h.exec(&["sh", "-c", &script]).expect("exec");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn sudo_wraps_commands_and_a_password_prompt_is_a_clear_error() {
    let ok = unique_user("sudook");
    let pw = unique_user("sudopw");
    sudo_user(&ok, "ALL=(ALL) NOPASSWD: ALL");
    sudo_user(&pw, "ALL=(ALL) ALL");
    let s = shared();
    let mut host = s.compute_host();
    host.user = ok.clone();
    host.sudo = true;
    let session = connect(&host, &s.known_hosts).await.expect("connect");
    let cmd = RemoteCommand::argv([
        "sh",
        "-c",
        "id -u; whoami; echo \"$1\"",
        "sh",
        "it's a 'test'",
    ])
    .expect("quotable");
    let out = session.run(&cmd, None, None).await.expect("run");
    assert_eq!(
        out.stdout_text(),
        "0\nroot\nit's a 'test'\n",
        "{}",
        out.stderr_text()
    );

    host.user = pw.clone();
    let session = connect(&host, &s.known_hosts).await.expect("connect");
    let e = session
        .run("id -u", None, None)
        .await
        .expect_err("sudo refused");
    assert!(matches!(e, SshError::SudoPasswordRequired { .. }), "{e}");
    assert!(e.to_string().contains("NOPASSWD"), "{e}");
}

#[tokio::test]
async fn a_command_that_outlives_its_timeout_is_stopped() {
    let s = shared();
    let session = connect(&s.compute_host(), &s.known_hosts)
        .await
        .expect("connect");
    let t0 = Instant::now();
    let e = session
        .run("sleep 31.25", None, Some(Duration::from_millis(300)))
        .await
        .expect_err("timed out");
    assert!(matches!(e, SshError::CommandTimeout { .. }), "{e}");
    assert!(t0.elapsed() < Duration::from_secs(5));
    assert!(
        e.to_string().contains("timed out after 300ms: sleep 31.25"),
        "{e}"
    );
    // The session is still usable.
    let out = session.run("echo still", None, None).await.expect("run");
    assert_eq!(out.stdout_text(), "still\n");
    // sshd delivered the KILL signal: the command is gone on the host.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let ps = s.exec(&["pgrep", "-f", "sleep 31.25"]).expect("pgrep");
        if !ps.status.success() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the timed-out command still runs"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn commands_run_in_parallel_on_one_session_within_the_bound() {
    let s = shared();
    let session = connect(&s.compute_host(), &s.known_hosts)
        .await
        .expect("connect");
    let t0 = Instant::now();
    let runs = (0..16).map(|i| {
        let cmd = RemoteCommand::argv(["sh", "-c", "sleep 0.5; echo \"$1\"", "sh", &i.to_string()])
            .expect("quotable");
        let session = &session;
        async move { session.run(&cmd, None, None).await }
    });
    let outs = futures::future::join_all(runs).await;
    let elapsed = t0.elapsed();
    for (i, o) in outs.into_iter().enumerate() {
        assert_eq!(o.expect("run").stdout_text(), format!("{i}\n"));
    }
    // 16 commands of 0.5 s, 8 at a time: two waves, far from 8 s sequentially.
    eprintln!("16 x sleep 0.5 on one session: {elapsed:?}");
    assert!(
        elapsed >= Duration::from_millis(1000),
        "bound not applied: {elapsed:?}"
    );
    assert!(
        elapsed < Duration::from_secs(5),
        "not parallel: {elapsed:?}"
    );
}

#[tokio::test]
async fn stdin_stdout_stderr_and_status_come_back_intact() {
    let s = shared();
    let session = connect(&s.compute_host(), &s.known_hosts)
        .await
        .expect("connect");
    let big: Vec<u8> = (0..(1 << 20)).map(|i| (i % 251) as u8).collect();
    let out = session.run("cat", Some(&big), None).await.expect("cat");
    assert_eq!(out.stdout.len(), big.len());
    assert!(out.stdout == big);

    let out = session
        .run("echo out; echo err >&2; exit 3", None, None)
        .await
        .expect("run");
    assert_eq!(
        (out.stdout_text().as_str(), out.stderr_text().as_str()),
        ("out\n", "err\n")
    );
    assert_eq!(out.status, Some(3));

    let nasty = [
        "a b",
        "it's",
        "$(touch /tmp/pwned)",
        "`id`",
        "x;y|z&",
        "*",
        "",
        "é\t\\n",
    ];
    let mut argv = vec!["printf", "%s\\n"];
    argv.extend(nasty);
    let out = session
        .run(&RemoteCommand::argv(argv).expect("quotable"), None, None)
        .await
        .expect("printf");
    let want: String = nasty.iter().map(|a| format!("{a}\n")).collect();
    assert_eq!(out.stdout_text(), want);
    let pwned = s.exec(&["test", "-e", "/tmp/pwned"]).expect("exec");
    assert!(
        !pwned.status.success(),
        "quoting let a command substitution through"
    );
}

#[tokio::test]
async fn over_ssh_the_real_machine_is_read_only_and_the_sandbox_is_writable() {
    let s = shared();
    let session = connect(&s.compute_host(), &s.known_hosts)
        .await
        .expect("connect");
    let probe = format!("/opt/matelot-probe-{}", std::process::id());
    let out = session
        .run(
            &RemoteCommand::argv(["touch", &probe]).expect("quotable"),
            None,
            None,
        )
        .await
        .expect("run");
    assert!(!out.success());
    assert!(
        out.stderr_text().contains("Read-only file system"),
        "{}",
        out.stderr_text()
    );
    assert!(!Path::new(&probe).exists());
    let out = session
        .run(
            "touch /srv/ok /home/ok /tmp/ok /etc/matelot-ok && echo ok",
            None,
            None,
        )
        .await
        .expect("run");
    assert_eq!(out.stdout_text(), "ok\n", "{}", out.stderr_text());
    assert!(!Path::new("/etc/matelot-ok").exists());
}

#[tokio::test]
async fn identity_problems_are_explained() {
    let s = shared();
    let dir = tempfile::tempdir().expect("tmp");
    let enc = dir.path().join("enc");
    std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "correct horse", "-f"])
        .arg(&enc)
        .status()
        .expect("ssh-keygen");
    let mut host = s.compute_host();
    host.identity = Some(enc.clone());
    let e = connect(&host, &s.known_hosts)
        .await
        .expect_err("no prompt allowed");
    assert!(matches!(e, SshError::PassphraseNeeded { .. }), "{e}");
    assert!(e.to_string().contains("ssh-add"), "{e}");

    let other = dir.path().join("other");
    std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&other)
        .status()
        .expect("ssh-keygen");
    host.identity = Some(other);
    let e = connect(&host, &s.known_hosts).await.expect_err("rejected");
    assert!(matches!(e, SshError::AuthRejected { .. }), "{e}");

    host.identity = Some(dir.path().join("missing"));
    let e = connect(&host, &s.known_hosts).await.expect_err("missing");
    assert!(
        e.to_string().starts_with("cannot read identity file"),
        "{e}"
    );
}

#[tokio::test]
async fn a_silent_server_hits_the_connect_timeout() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let mut host = shared().compute_host();
    host.host = "127.0.0.1".into();
    host.port = port;
    host.connect_timeout = Duration::from_millis(300);
    let t0 = Instant::now();
    let e = connect(&host, &shared().known_hosts)
        .await
        .expect_err("timeout");
    assert!(matches!(e, SshError::ConnectTimeout { .. }), "{e}");
    assert!(t0.elapsed() < Duration::from_secs(3));
    assert!(e.is_transient());
    drop(listener);
}

mod cli;

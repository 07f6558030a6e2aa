//! How fast `matelot user sync` provisions people: a 100-person roster (keys, 5 groups;
//! `core::roster::generate::csv(100, 5)`) synced by the release binary into a fresh sandboxed
//! compute host (real sshd, real useradd) and an empty Cloudron emulator over HTTPS, then
//! re-run with nothing to change. The same roster is then applied to another fresh host by
//! Ansible (ansible-core from PyPI in a throwaway venv: the builtin `group` and `user` modules,
//! `ansible.posix.authorized_key` when ansible-galaxy can install it, else builtin `file` +
//! `copy`), compared with matelot on the compute host alone.
//!
//! Needs root (the sandbox), openssh-server, python3 with venv and access to PyPI for the
//! Ansible part (skip it with MATELOT_BENCH_SKIP_ANSIBLE=1; reuse a venv with
//! MATELOT_BENCH_ANSIBLE_VENV=DIR). Run with `cargo bench --bench accounts` or
//! `scripts/bench-accounts`. Targets: first run under 3 s, re-run under 1 s.
//! Under `cargo test --all-targets` (no `--bench` argument) it runs once with 10 people on one
//! host and the emulator, without Ansible, as a smoke test that keeps it working.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use cloudron_emulator::{EmulatorHandle, EmulatorOptions, Seed, spawn};
use matelot::core::roster::{NoKeyFiles, generate, parse};
use matelot::lab::sandbox::{SandboxHost, SandboxOptions};

const BIN: &str = env!("CARGO_BIN_EXE_matelot");
const GROUPS: usize = 5;

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (people, reruns_n) = if full { (100, 5) } else { (10, 1) };
    let dir = tempfile::Builder::new()
        .prefix("matelot-bench-accounts-")
        .tempdir()
        .expect("temp dir");
    let d = dir.path();
    let roster = generate::csv(people, GROUPS);
    std::fs::write(d.join("people.csv"), &roster).expect("roster");

    println!("matelot accounts benchmark: {people} people, {GROUPS} groups, keys for everyone");
    println!("binary: {BIN}");
    println!("machine: {} CPU(s), load average {}", cpus(), loadavg());
    println!();

    // 1. Both systems.
    let host = sandbox(d, "bench-both");
    let emu = spawn(EmulatorOptions {
        seed: Seed::Empty,
        dir: Some(d.join("emu")),
        ..EmulatorOptions::default()
    })
    .expect("start the emulator");
    let both = d.join("both");
    write_config(&both, &host, Some(&emu));
    let first = sync(&both, &emu, &[]);
    check_host(&host, people);
    let users = emu.control().state()["users"]
        .as_array()
        .map_or(0, Vec::len);
    assert_eq!(
        users,
        people + 1,
        "the emulator should hold the owner and everyone"
    );
    let reruns: Vec<Duration> = (0..reruns_n).map(|_| sync(&both, &emu, &[]).wall).collect();
    println!(
        "host + Cloudron (first run creates {people} accounts on each, {GROUPS} groups on each):"
    );
    report("  first run", first.wall, &first.phases);
    report_many("  re-run, nothing to change", &reruns);
    println!();
    if !full {
        println!("(smoke run; `cargo bench --bench accounts` measures 100 people and Ansible)");
        return;
    }

    // 2. The compute host alone, matelot then Ansible, each on a fresh host.
    let host_m = sandbox(d, "bench-matelot");
    let only = d.join("only");
    write_config(&only, &host_m, None);
    let m_first = sync(&only, &emu, &["--on", "compute"]);
    check_host(&host_m, people);
    let m_reruns: Vec<Duration> = (0..reruns_n)
        .map(|_| sync(&only, &emu, &["--on", "compute"]).wall)
        .collect();
    println!("compute host only:");
    report("  matelot first run", m_first.wall, &m_first.phases);
    report_many("  matelot re-run", &m_reruns);

    if std::env::var_os("MATELOT_BENCH_SKIP_ANSIBLE").is_some() {
        println!("  ansible: skipped (MATELOT_BENCH_SKIP_ANSIBLE is set)");
        return;
    }
    let host_a = sandbox(d, "bench-ansible");
    match ansible(d, &host_a, &roster) {
        Ok(a) => {
            check_host(&host_a, people);
            println!(
                "  ansible-core {} ({}), pipelining on:",
                a.version, a.keys_module
            );
            println!("    first run  {:>8.2} s", a.first.as_secs_f64());
            println!("    re-run     {:>8.2} s", a.rerun.as_secs_f64());
            println!(
                "  ratio ansible / matelot: first run {:.0}x, re-run {:.0}x",
                a.first.as_secs_f64() / m_first.wall.as_secs_f64(),
                a.rerun.as_secs_f64() / median(&m_reruns).as_secs_f64()
            );
        }
        Err(e) => println!("  ansible: not measured: {e}"),
    }
}

fn sandbox(dir: &Path, name: &str) -> SandboxHost {
    let mut opts = SandboxOptions::new(name, dir.join("hosts"));
    opts.addr = "127.0.0.1".parse().expect("ip");
    SandboxHost::start(opts).unwrap_or_else(|e| panic!("sandbox {name}: {e}"))
}

fn write_config(dir: &Path, host: &SandboxHost, emu: Option<&EmulatorHandle>) {
    std::fs::create_dir_all(dir).expect("dir");
    let kh = dir.join("known_hosts");
    std::fs::write(&kh, format!("{}\n", host.known_hosts_line())).expect("known_hosts");
    let mut toml = format!(
        "[state]\ndir = \"{}\"\n\n[compute.{}]\nhost = \"{}\"\nport = {}\nidentity = \"{}\"\nknown_hosts = \"{}\"\n",
        dir.join("state").display(),
        host.name,
        host.addr,
        host.port,
        host.client_key.display(),
        kh.display()
    );
    if let Some(e) = emu {
        toml.push_str(&format!(
            "\n[cloudron]\nurl = \"{}\"\nca_file = \"{}\"\n",
            e.url,
            e.ca_file.as_ref().expect("ca").display()
        ));
    }
    std::fs::write(dir.join("matelot.toml"), toml).expect("config");
}

struct Timed {
    wall: Duration,
    /// `connected in N ms, facts gathered in N ms`, `applied in N ms` from `-v`.
    phases: Vec<String>,
}

/// `matelot -v user sync ../people.csv --yes [extra]` in `dir`; panics unless it succeeds.
fn sync(dir: &Path, emu: &EmulatorHandle, extra: &[&str]) -> Timed {
    let t0 = Instant::now();
    let out = Command::new(BIN)
        .current_dir(dir)
        .args(["-v", "user", "sync", "../people.csv", "--yes"])
        .args(extra)
        .env("MATELOT_CLOUDRON_TOKEN", &emu.token)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run matelot");
    let wall = t0.elapsed();
    ok(&out, "matelot user sync");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let phases = stderr
        .lines()
        .filter(|l| l.contains(" connected in ") || l.contains(" applied in "))
        .filter_map(|l| l.split_once(' ').map(|(_, rest)| rest.to_string()))
        .collect();
    Timed { wall, phases }
}

fn ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// At least `n` people with keys on the host.
fn check_host(host: &SandboxHost, n: usize) {
    let out = host
        .exec(&[
            "sh",
            "-c",
            "ls /home/*/.ssh/authorized_keys | wc -l; getent group group1 group5 | wc -l",
        ])
        .expect("exec");
    let text = String::from_utf8_lossy(&out.stdout);
    let counts: Vec<usize> = text.lines().filter_map(|l| l.trim().parse().ok()).collect();
    assert_eq!(counts, [n, 2], "on {}: {text}", host.name);
}

fn report(what: &str, d: Duration, phases: &[String]) {
    println!(
        "{what:<30} {:>8.2} s   ({})",
        d.as_secs_f64(),
        phases.join("; ")
    );
}

fn report_many(what: &str, runs: &[Duration]) {
    let mut s: Vec<f64> = runs.iter().map(Duration::as_secs_f64).collect();
    s.sort_by(f64::total_cmp);
    println!(
        "{what:<30} {:>8.2} s   (median of {}; min {:.2}, max {:.2})",
        median(runs).as_secs_f64(),
        runs.len(),
        s.first().copied().unwrap_or_default(),
        s.last().copied().unwrap_or_default()
    );
}

fn median(runs: &[Duration]) -> Duration {
    let mut v = runs.to_vec();
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

struct AnsibleRun {
    version: String,
    keys_module: &'static str,
    first: Duration,
    rerun: Duration,
}

/// Install ansible-core in a venv (unless one is given), write the inventory, the people
/// and the playbook, run it twice against `host`.
fn ansible(dir: &Path, host: &SandboxHost, roster: &str) -> Result<AnsibleRun, String> {
    let venv = match std::env::var_os("MATELOT_BENCH_ANSIBLE_VENV") {
        Some(v) => PathBuf::from(v),
        None => {
            let v = dir.join("ansible-venv");
            run_ok(
                Command::new("python3").args(["-m", "venv"]).arg(&v),
                "python3 -m venv",
            )?;
            println!("  (installing ansible-core from PyPI into a throwaway venv...)");
            run_ok(
                Command::new(v.join("bin/pip")).args(["install", "-q", "ansible-core"]),
                "pip install ansible-core",
            )?;
            v
        }
    };
    let a = dir.join("ansible");
    std::fs::create_dir_all(&a).map_err(|e| e.to_string())?;
    let env = |c: &mut Command| {
        c.current_dir(&a)
            .env("ANSIBLE_HOME", a.join("home"))
            .env("ANSIBLE_LOCAL_TEMP", a.join("tmp"))
            .env("ANSIBLE_PIPELINING", "True")
            .env("ANSIBLE_COLLECTIONS_PATH", a.join("collections"))
            .env("ANSIBLE_NOCOLOR", "1")
            .env("ANSIBLE_PYTHON_INTERPRETER", "/usr/bin/python3");
    };
    let mut galaxy = Command::new(venv.join("bin/ansible-galaxy"));
    galaxy.args([
        "collection",
        "install",
        "ansible.posix",
        "--timeout",
        "20",
        "-p",
    ]);
    galaxy.arg(a.join("collections"));
    env(&mut galaxy);
    let posix = run_ok(&mut galaxy, "ansible-galaxy").is_ok();
    let keys_module = if posix {
        "ansible.posix.authorized_key"
    } else {
        "builtin file + copy for authorized_keys (ansible.posix not installable here)"
    };
    let parsed = parse("people.csv", roster, None, &NoKeyFiles).map_err(|e| format!("{e:?}"))?;
    let people: Vec<serde_json::Value> = parsed
        .people()
        .iter()
        .map(|p| {
            serde_json::json!({
                "name": p.username.to_string(),
                "comment": p.full_name.as_ref().map(|n| n.gecos()).unwrap_or_default(),
                "groups": p.groups.iter().map(ToString::to_string).collect::<Vec<_>>(),
                "keys": p.keys.iter().map(|k| k.line()).collect::<Vec<_>>().join("\n"),
            })
        })
        .collect();
    let vars = serde_json::json!({
        "people": people,
        "people_groups": generate::group_names(GROUPS),
    });
    std::fs::write(a.join("people.json"), vars.to_string()).map_err(|e| e.to_string())?;
    std::fs::write(
        a.join("inventory.ini"),
        format!(
            "[bench]\n{} ansible_host={} ansible_port={} ansible_user=root \
             ansible_ssh_private_key_file={} ansible_ssh_common_args='-F /dev/null -o \
             UserKnownHostsFile={} -o StrictHostKeyChecking=yes'\n",
            host.name,
            host.addr,
            host.port,
            host.client_key.display(),
            host.known_hosts.display()
        ),
    )
    .map_err(|e| e.to_string())?;
    let keys_tasks = if posix {
        r#"    - name: keys
      ansible.posix.authorized_key:
        user: "{{ item.name }}"
        key: "{{ item['keys'] }}"
        exclusive: true
      loop: "{{ people }}"
"#
    } else {
        r#"    - name: .ssh
      ansible.builtin.file:
        path: "/home/{{ item.name }}/.ssh"
        state: directory
        mode: "0700"
        owner: "{{ item.name }}"
        group: "{{ item.name }}"
      loop: "{{ people }}"
    - name: keys
      ansible.builtin.copy:
        dest: "/home/{{ item.name }}/.ssh/authorized_keys"
        content: "{{ item['keys'] }}\n"
        mode: "0600"
        owner: "{{ item.name }}"
        group: "{{ item.name }}"
      loop: "{{ people }}"
"#
    };
    let playbook = format!(
        r#"- hosts: bench
  gather_facts: false
  vars_files: [people.json]
  tasks:
    - name: groups
      ansible.builtin.group:
        name: "{{{{ item }}}}"
      loop: "{{{{ people_groups }}}}"
    - name: accounts
      ansible.builtin.user:
        name: "{{{{ item.name }}}}"
        comment: "{{{{ item.comment }}}}"
        groups: "{{{{ item.groups }}}}"
        append: false
        shell: /bin/bash
        create_home: true
      loop: "{{{{ people }}}}"
    - name: home mode
      ansible.builtin.file:
        path: "/home/{{{{ item.name }}}}"
        state: directory
        mode: "0700"
      loop: "{{{{ people }}}}"
{keys_tasks}"#
    );
    std::fs::write(a.join("people.yml"), playbook).map_err(|e| e.to_string())?;
    let play = || -> Result<Duration, String> {
        let mut c = Command::new(venv.join("bin/ansible-playbook"));
        c.args(["-i", "inventory.ini", "people.yml"]);
        env(&mut c);
        let t0 = Instant::now();
        run_ok(&mut c, "ansible-playbook")?;
        Ok(t0.elapsed())
    };
    let first = play()?;
    let rerun = play()?;
    let mut v = Command::new(venv.join("bin/ansible"));
    v.arg("--version").stdout(Stdio::piped());
    env(&mut v);
    let version = v
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .and_then(|l| l.split("core ").nth(1))
                .map(|s| s.trim_end_matches(']').to_string())
        })
        .unwrap_or_else(|| "?".into());
    Ok(AnsibleRun {
        version,
        keys_module,
        first,
        rerun,
    })
}

fn run_ok(c: &mut Command, what: &str) -> Result<(), String> {
    let out = c
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{what}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        let tail: String = String::from_utf8_lossy(&out.stdout)
            .lines()
            .chain(String::from_utf8_lossy(&out.stderr).lines())
            .rfind(|l| !l.trim().is_empty())
            .unwrap_or_default()
            .to_string();
        Err(format!("{what} failed ({}): {tail}", out.status))
    }
}

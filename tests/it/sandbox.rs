//! Sandboxed compute hosts: they start, answer SSH, keep every change inside, and stop without
//! leaving a process or a mount behind.

use std::path::Path;
use std::time::{Duration, Instant};

use matelot::lab::sandbox::{SandboxHost, SandboxOptions, process};

use crate::common_sandbox::{private, private_with, shared, unique_user};

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Every process whose command line or mount table mentions `needle`.
fn traces_of(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let cmdline = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
        if String::from_utf8_lossy(&cmdline).contains(needle) {
            found.push(format!(
                "process {name}: {}",
                String::from_utf8_lossy(&cmdline)
            ));
        }
        let mounts = std::fs::read_to_string(e.path().join("mounts")).unwrap_or_default();
        if mounts.contains(needle) {
            found.push(format!("mounts of process {name} mention {needle}"));
        }
    }
    found
}

#[test]
fn start_and_stop_leave_nothing_behind() {
    let mut p = private("leave", "127.0.0.3", 0);
    let state = p.host.state_dir.display().to_string();
    let (unshare, pid1) = (p.host.unshare_pid, p.host.pid1);
    let t = p.host.timings;
    eprintln!(
        "sandbox start: prepared {:?}, tcp {:?}, first login {:?}",
        t.prepared, t.tcp_ready, t.first_login
    );
    assert!(t.first_login < Duration::from_secs(20), "slow start: {t:?}");

    // Inside: sshd is PID 1, the host name is the sandbox's, /etc is the private tmpfs.
    let comm = p.host.exec(&["cat", "/proc/1/comm"]).expect("exec");
    assert_eq!(String::from_utf8_lossy(&comm.stdout).trim(), "sshd");
    let name = p.host.exec(&["hostname"]).expect("exec");
    assert_eq!(String::from_utf8_lossy(&name.stdout).trim(), "leave");
    let mounts = p.host.exec(&["cat", "/proc/mounts"]).expect("exec");
    let mounts = String::from_utf8_lossy(&mounts.stdout).into_owned();
    for m in ["matelot-sbx-etc", "matelot-sbx-home", "matelot-sbx-tmp"] {
        assert!(mounts.contains(m), "{m} missing:\n{mounts}");
    }
    assert!(
        !traces_of(&state).is_empty(),
        "a running sandbox is visible"
    );

    let t0 = Instant::now();
    p.host.stop().expect("stop");
    eprintln!("sandbox stop: {:?}", t0.elapsed());
    assert!(!process::alive(pid1), "PID 1 survived");
    assert!(!process::alive(unshare), "unshare survived");
    assert_eq!(traces_of(&state), Vec::<String>::new());
    // Stopping twice is fine, and a stopped sandbox runs nothing.
    p.host.stop().expect("second stop");
    assert!(p.host.exec(&["true"]).is_err());
}

#[test]
fn the_real_machine_is_read_only_from_inside() {
    let h = shared();
    let probe = format!("/usr/matelot-probe-{}", std::process::id());
    let out = h.exec(&["touch", &probe]).expect("exec");
    assert!(!out.status.success());
    assert!(
        text(&out).contains("Read-only file system"),
        "{}",
        text(&out)
    );
    assert!(!Path::new(&probe).exists());
    let out = h
        .exec(&["sh", "-c", "echo x > /var/lib/matelot-probe"])
        .expect("exec");
    assert!(!out.status.success(), "{}", text(&out));
    assert!(!Path::new("/var/lib/matelot-probe").exists());
}

#[test]
fn accounts_made_inside_stay_inside() {
    let h = shared();
    let user = unique_user("sbxacct");
    let out = h
        .exec(&["useradd", "-m", "-s", "/bin/bash", &user])
        .expect("exec");
    assert!(out.status.success(), "{}", text(&out));
    let id = h.exec(&["id", "-u", &user]).expect("exec");
    assert!(id.status.success(), "{}", text(&id));
    let shadow = h
        .exec(&["grep", "-c", &format!("^{user}:"), "/etc/shadow"])
        .expect("exec");
    assert_eq!(String::from_utf8_lossy(&shadow.stdout).trim(), "1");
    let home = h
        .exec(&["test", "-d", &format!("/home/{user}")])
        .expect("exec");
    assert!(home.status.success());

    let real = std::fs::read_to_string("/etc/passwd").expect("read /etc/passwd");
    assert!(
        !real.contains(&format!("\n{user}:")),
        "{user} leaked into the real /etc/passwd"
    );
    assert!(!Path::new(&format!("/home/{user}")).exists());
}

#[test]
fn fake_tools_appear_over_usr_local_bin() {
    let bin = tempfile::tempdir().expect("tempdir");
    let tool = bin.path().join("nvidia-smi");
    std::fs::write(&tool, "#!/bin/sh\necho 'fake GPU 0: idle'\n").expect("write");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let p = private_with("tools", "127.0.0.3", 0, |o| {
        o.bin_dir = Some(bin.path().to_path_buf())
    });
    let out = p.host.exec(&["nvidia-smi"]).expect("exec");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "fake GPU 0: idle",
        "{}",
        text(&out)
    );
    // The host's own /usr/local/bin is still visible underneath, and unchanged.
    assert!(!Path::new("/usr/local/bin/nvidia-smi").exists());
}

#[test]
fn a_sandbox_dies_with_the_thread_that_started_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let base = dir.path().to_path_buf();
    let (unshare, pid1) = std::thread::spawn(move || {
        let mut opts = SandboxOptions::new("orphan", base);
        opts.addr = "127.0.0.3".parse().expect("ip");
        let h = SandboxHost::start(opts).expect("start");
        let pids = (h.unshare_pid, h.pid1);
        // Skip Drop: only the parent-death signal may end it now.
        std::mem::forget(h);
        pids
    })
    .join()
    .expect("thread");
    let deadline = Instant::now() + Duration::from_secs(5);
    while process::alive(pid1) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(!process::alive(pid1), "sandbox outlived its thread");
    // Reap the forgotten unshare child so no zombie remains.
    // SAFETY: waitpid on our own child's PID.
    unsafe {
        libc::waitpid(unshare as libc::pid_t, std::ptr::null_mut(), 0);
    }
    assert!(!process::alive(unshare));
}

#[test]
fn several_sandboxes_start_in_parallel() {
    let t0 = Instant::now();
    let hosts: Vec<_> = (0..4)
        .map(|i| {
            std::thread::spawn(move || {
                let p = private(&format!("par{i}"), &format!("127.0.0.{}", 10 + i), 0);
                let login = p.host.timings.first_login;
                drop(p);
                login
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().expect("thread"))
        .collect();
    eprintln!(
        "4 sandboxes in parallel: {:?} total, first logins {hosts:?}",
        t0.elapsed()
    );
    assert_eq!(hosts.len(), 4);
}

#[test]
fn a_detached_sandbox_is_stopped_from_its_state_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut opts = SandboxOptions::new("detached", dir.path());
    opts.addr = "127.0.0.3".parse().expect("ip");
    opts.tie_to_thread = false;
    let h = SandboxHost::start(opts).expect("start");
    let (unshare, pid1) = (h.unshare_pid, h.pid1);
    let state = h.detach();
    assert!(
        process::is_our_pid1(pid1, unshare),
        "detach must not stop it"
    );
    assert!(matelot::lab::sandbox::stop_state_dir(&state).expect("stop"));
    assert!(!process::alive(pid1));
    assert_eq!(
        traces_of(&state.display().to_string()),
        Vec::<String>::new()
    );
    // Gone already: says so, signals nothing.
    assert!(!matelot::lab::sandbox::stop_state_dir(&state).expect("second stop"));
    // SAFETY: waitpid on our own (exited) child, so no zombie is left.
    unsafe {
        libc::waitpid(unshare as libc::pid_t, std::ptr::null_mut(), 0);
    }
}

#[test]
fn prerequisites_are_checked_with_precise_messages() {
    // We run as root with openssh-server installed: the check passes and finds unshare.
    let unshare = matelot::lab::sandbox::check_prerequisites().expect("prerequisites");
    assert!(unshare.ends_with("unshare"));
    let e = matelot::lab::sandbox::SandboxError::NotRoot { uid: 1000 };
    assert_eq!(
        e.to_string(),
        "sandbox hosts need root (running as uid 1000)"
    );
    let bad = SandboxHost::start(SandboxOptions::new("Bad Name", "/nonexistent"));
    assert!(bad.is_err_and(|e| e.to_string().contains("invalid sandbox name")));
}

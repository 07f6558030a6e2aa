//! Shared sandbox fixture for integration tests.
//!
//! A sandbox dies when the *thread* that started it exits (a parent-death signal on `unshare`).
//! Test threads come and go, so the shared host is started from a dedicated thread that parks
//! forever and therefore outlives every test; the process exit takes the sandbox with it.
//! Tests that share the host must use distinct user names (and their own known_hosts files).
//! A test that needs to stop or restart a host starts a private one with [`private`]; it lives
//! as long as the test's own thread holds it.

#![allow(dead_code)]

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use matelot::lab::sandbox::{SandboxHost, SandboxOptions};

/// Where this test process keeps sandbox state: `$TMPDIR/matelot-it-sbx-PID`.
fn base_dir() -> PathBuf {
    std::env::temp_dir().join(format!("matelot-it-sbx-{}", std::process::id()))
}

/// Remove state directories left by earlier test processes that are gone.
fn clean_stale() {
    let Ok(rd) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(pid) = name.strip_prefix("matelot-it-sbx-")
            && let Ok(pid) = pid.parse::<u32>()
            && !Path::new(&format!("/proc/{pid}")).exists()
        {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

static SHARED: OnceLock<Result<SandboxHost, String>> = OnceLock::new();

/// The shared sandbox (started on first use, by a thread that never exits).
pub fn shared() -> &'static SandboxHost {
    let r = SHARED.get_or_init(|| {
        clean_stale();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("sandbox-owner".into())
            .spawn(move || {
                let mut opts = SandboxOptions::new("shared", base_dir());
                opts.addr = "127.0.0.2".parse::<IpAddr>().expect("ip");
                let started = SandboxHost::start(opts).map_err(|e| e.to_string());
                let _ = tx.send(started);
                // Own the sandbox's life: park forever; process exit ends it.
                loop {
                    std::thread::park();
                }
            })
            .expect("spawn sandbox-owner thread");
        rx.recv()
            .unwrap_or_else(|_| Err("sandbox-owner thread died".into()))
    });
    match r {
        Ok(h) => h,
        Err(e) => panic!("shared sandbox did not start: {e}"),
    }
}

/// A private sandbox tied to the calling test's thread. Dropping it stops the sandbox, then
/// removes its state directory.
pub struct Private {
    pub host: SandboxHost,
    pub dir: tempfile::TempDir,
}

pub fn private(name: &str, addr: &str, port: u16) -> Private {
    private_with(name, addr, port, |_| {})
}

/// A private sandbox with options adjusted by `edit` (fake tools, host key types...).
pub fn private_with(
    name: &str,
    addr: &str,
    port: u16,
    edit: impl FnOnce(&mut SandboxOptions),
) -> Private {
    clean_stale();
    let dir = tempfile::Builder::new()
        .prefix("matelot-it-private-")
        .tempdir()
        .expect("tempdir");
    let mut opts = SandboxOptions::new(name, dir.path());
    opts.addr = addr.parse().expect("ip");
    opts.port = port;
    edit(&mut opts);
    let host = SandboxHost::start(opts).unwrap_or_else(|e| panic!("sandbox {name}: {e}"));
    Private { host, dir }
}

/// A fresh user name for a test on the shared host (a prefix plus a per-process counter).
pub fn unique_user(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!("{prefix}{}", N.fetch_add(1, Ordering::SeqCst))
}

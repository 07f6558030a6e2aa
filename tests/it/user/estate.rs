//! A small estate per test: a private sandbox compute host (real sshd, real useradd) and a
//! Cloudron emulator over HTTPS, with a `matelot.toml` pointing the real binary at both (the
//! token in `MATELOT_CLOUDRON_TOKEN`). Helpers read the truth independently of matelot: the
//! host through `nsenter` (`SandboxHost::exec`), the Cloudron through its API with a plain
//! HTTP client, and a real OpenSSH client logs in with a person's own key.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use cloudron_emulator::{Seed, client_for};
use serde_json::Value;

use crate::common_sandbox::{Private, private};
use crate::lab_client::Lab;
use crate::support::Test;

pub struct Estate {
    pub name: String,
    pub sandbox: Private,
    pub lab: Lab,
    /// Files of the estate itself (known_hosts, people's keys).
    pub dir: tempfile::TempDir,
    http: reqwest::Client,
    rt: tokio::runtime::Runtime,
}

impl Estate {
    /// A fresh host called `name` and an emulator with only its owner.
    pub fn start(name: &str) -> Estate {
        Estate::with_seed(name, Seed::Empty)
    }

    pub fn with_seed(name: &str, seed: Seed) -> Estate {
        let sandbox = private(name, "127.0.0.1", 0);
        let lab = Lab::with(|o| o.seed = seed);
        let dir = tempfile::Builder::new()
            .prefix("matelot-users-")
            .tempdir()
            .expect("estate dir");
        std::fs::write(
            dir.path().join("known_hosts"),
            format!("{}\n", sandbox.host.known_hosts_line()),
        )
        .expect("known_hosts");
        let http = client_for(lab.emu.ca_pem.as_deref()).expect("http client");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        Estate {
            name: name.to_string(),
            sandbox,
            lab,
            dir,
            http,
            rt,
        }
    }

    pub fn known_hosts(&self) -> PathBuf {
        self.dir.path().join("known_hosts")
    }

    /// `[compute.NAME]` and `[cloudron]` (token from the environment).
    pub fn toml(&self) -> String {
        let h = &self.sandbox.host;
        format!(
            "[compute.{name}]\nhost = \"{addr}\"\nport = {port}\nuser = \"root\"\n\
             identity = \"{key}\"\nknown_hosts = \"{kh}\"\n\n\
             [cloudron]\nurl = \"{url}\"\nca_file = \"{ca}\"\n",
            name = self.name,
            addr = h.addr,
            port = h.port,
            key = h.client_key.display(),
            kh = self.known_hosts().display(),
            url = self.lab.emu.url,
            ca = self.lab.emu.ca_file.as_ref().expect("ca file").display(),
        )
    }

    /// A run of the real binary configured for this estate.
    pub fn test(&self) -> Test {
        Test::new()
            .config(&self.toml())
            .env("MATELOT_CLOUDRON_TOKEN", &self.lab.emu.token)
    }

    /// Run a command inside the host; its stdout (panics on failure).
    pub fn exec(&self, cmd: &[&str]) -> String {
        let out = self.sandbox.host.exec(cmd).expect("nsenter");
        assert!(
            out.status.success(),
            "{cmd:?} failed in the sandbox: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Run a command inside the host; (success, stdout).
    pub fn try_exec(&self, cmd: &[&str]) -> (bool, String) {
        let out = self.sandbox.host.exec(cmd).expect("nsenter");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    }

    /// Everything an account change could touch on the host, for before/after comparisons.
    pub fn host_state(&self) -> String {
        self.exec(&[
            "sh",
            "-c",
            "getent passwd; getent group; getent shadow; ls -laR /home",
        ])
    }

    /// The uid a new person gets here: one above every person's uid (the sandbox's `/etc` is a
    /// copy of the machine's, which may hold people already).
    pub fn next_uid(&self) -> u32 {
        next_uid(&self.exec(&["getent", "passwd"]))
    }

    /// The shadow line of `user`, split on `:`.
    pub fn shadow(&self, user: &str) -> Vec<String> {
        self.exec(&["getent", "shadow", user])
            .trim()
            .split(':')
            .map(str::to_string)
            .collect()
    }

    /// `GET /api/v1/<path>` on the emulator, as any API client would.
    pub fn api(&self, path: &str) -> Value {
        self.rt.block_on(async {
            let resp = self
                .http
                .get(format!("{}/api/v1/{path}", self.lab.emu.url))
                .bearer_auth(&self.lab.emu.token)
                .send()
                .await
                .expect("api request");
            assert!(resp.status().is_success(), "GET {path}: {}", resp.status());
            resp.json().await.expect("api json")
        })
    }

    /// The Cloudron users, by username.
    pub fn cloudron_user(&self, username: &str) -> Option<Value> {
        self.api("users?per_page=500")["users"]
            .as_array()
            .expect("users")
            .iter()
            .find(|u| u["username"] == username)
            .cloned()
    }

    /// Names of the Cloudron groups `user` is in.
    pub fn cloudron_groups_of(&self, user: &Value) -> Vec<String> {
        let groups = self.api("groups");
        let mut names: Vec<String> = groups["groups"]
            .as_array()
            .expect("groups")
            .iter()
            .filter(|g| {
                user["groupIds"]
                    .as_array()
                    .is_some_and(|ids| ids.contains(&g["id"]))
            })
            .map(|g| g["name"].as_str().unwrap_or_default().to_string())
            .collect();
        names.sort();
        names
    }

    /// What the host's sshd logged (its stderr, `-e`).
    pub fn sshd_log(&self) -> String {
        std::fs::read_to_string(self.sandbox.host.state_dir.join("console.log")).unwrap_or_default()
    }

    /// A new ed25519 key pair for a person: (private key path, public key line).
    pub fn keypair(&self, who: &str) -> (PathBuf, String) {
        let key = self.dir.path().join(format!("{who}_ed25519"));
        let out = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C"])
            .arg(format!("{who}@laptop"))
            .arg("-f")
            .arg(&key)
            .output()
            .expect("ssh-keygen");
        assert!(out.status.success(), "ssh-keygen: {:?}", out);
        let public = std::fs::read_to_string(key.with_extension("pub"))
            .or_else(|_| std::fs::read_to_string(format!("{}.pub", key.display())))
            .expect("public key");
        (key, public.trim().to_string())
    }

    /// A real login with OpenSSH as `user` with `key`, strict host key checking against this
    /// host's key only. Returns (success, stderr).
    pub fn ssh_login(&self, user: &str, key: &Path) -> (bool, String) {
        let h = &self.sandbox.host;
        let out = Command::new("ssh")
            .args(["-F", "/dev/null", "-o", "BatchMode=yes"])
            .args([
                "-o",
                "StrictHostKeyChecking=yes",
                "-o",
                "IdentitiesOnly=yes",
            ])
            .args(["-o", "ConnectTimeout=10"])
            .arg("-o")
            .arg(format!(
                "UserKnownHostsFile={}",
                self.known_hosts().display()
            ))
            .arg("-i")
            .arg(key)
            .arg("-p")
            .arg(h.port.to_string())
            .arg(format!("{user}@{}", h.addr))
            .arg("id -un")
            .stdin(std::process::Stdio::null())
            .output()
            .expect("ssh");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        (
            out.status.success() && stdout.trim() == user,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

/// One above the highest uid in 1000..60000 of a passwd listing, or 1000.
pub fn next_uid(passwd: &str) -> u32 {
    passwd
        .lines()
        .filter_map(|l| l.split(':').nth(2)?.parse::<u32>().ok())
        .filter(|u| (1000..60000).contains(u))
        .max()
        .map_or(1000, |m| m + 1)
}

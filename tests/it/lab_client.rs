//! A Cloudron emulator per test, and a `matelot.toml` pointing the real binary at it.
//!
//! Each [`Lab`] runs the lab's emulator on its own thread over HTTPS with its own CA (written
//! to a private directory and named by `ca_file`), and reaches its control surface over HTTP
//! like any operator would: `POST /__lab/faults`, `GET /__lab/requests`, `GET /__lab/state`.

use std::time::Duration;

use cloudron_emulator::{EmulatorHandle, EmulatorOptions, client_for, spawn};
use serde_json::{Value, json};

use crate::support::Test;

pub struct Lab {
    pub emu: EmulatorHandle,
    _dir: tempfile::TempDir,
    http: reqwest::Client,
    rt: tokio::runtime::Runtime,
    /// Extra lines for the `[cloudron]` table (e.g. `task_timeout = "2s"`).
    pub cloudron_extra: String,
}

/// One request as the emulator logged it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub status: Option<u16>,
}

impl Lab {
    /// The demo estate, with quick tasks.
    pub fn start() -> Lab {
        Lab::with(|_| {})
    }

    /// The demo estate with options adjusted by `f`.
    pub fn with(f: impl FnOnce(&mut EmulatorOptions)) -> Lab {
        let dir = tempfile::Builder::new()
            .prefix("matelot-lab-")
            .tempdir()
            .expect("lab dir");
        let mut opts = EmulatorOptions {
            task_duration: Duration::from_millis(100),
            dir: Some(dir.path().to_path_buf()),
            ..EmulatorOptions::default()
        };
        f(&mut opts);
        let emu = spawn(opts).expect("start the emulator");
        assert!(emu.ca_file.is_some(), "the emulator wrote no CA file");
        let http = client_for(emu.ca_pem.as_deref()).expect("lab HTTP client");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        Lab {
            emu,
            _dir: dir,
            http,
            rt,
            cloudron_extra: String::new(),
        }
    }

    /// `[cloudron]` for this emulator, the token in `token` beside it (chmod 600).
    pub fn toml(&self) -> String {
        let ca = self.emu.ca_file.as_ref().expect("ca file");
        format!(
            "[cloudron]\nurl = \"{}\"\ntoken_file = \"token\"\nca_file = \"{}\"\n{}\n",
            self.emu.url,
            ca.display(),
            self.cloudron_extra
        )
    }

    /// A test of the real binary configured for this emulator.
    pub fn test(&self) -> Test {
        let t = Test::new()
            .write("token", &format!("{}\n", self.emu.token))
            .config(&self.toml());
        chmod_600(&t.path().join("token"));
        t
    }

    fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        self.rt.block_on(async {
            let mut req = self
                .http
                .request(method, format!("{}{path}", self.emu.url))
                .bearer_auth(&self.emu.token);
            if let Some(b) = body {
                req = req.json(&b);
            }
            let resp = req.send().await.expect("lab request");
            let status = resp.status();
            let text = resp.text().await.expect("lab body");
            assert!(status.is_success(), "{path}: {status} {text}");
            serde_json::from_str(&text).unwrap_or(Value::Null)
        })
    }

    /// A POST to the API as any client would send it (to stage a situation).
    pub fn post(&self, path: &str) -> Value {
        self.call(reqwest::Method::POST, path, Some(json!({})))
    }

    /// `POST /__lab/faults`.
    pub fn fault(&self, pattern: &str, effect: &str, times: u64) {
        self.call(
            reqwest::Method::POST,
            "/__lab/faults",
            Some(json!({"match": pattern, "effect": effect, "times": times})),
        );
    }

    /// `GET /__lab/requests`: every API request so far, in order.
    pub fn requests(&self) -> Vec<Seen> {
        let v = self.call(reqwest::Method::GET, "/__lab/requests", None);
        v["requests"]
            .as_array()
            .expect("requests array")
            .iter()
            .map(|r| Seen {
                method: r["method"].as_str().unwrap_or_default().to_string(),
                path: r["path"].as_str().unwrap_or_default().to_string(),
                status: r["status"].as_u64().map(|s| s as u16),
            })
            .collect()
    }

    /// The requests with this method and path.
    pub fn seen(&self, method: &str, path: &str) -> Vec<Seen> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == method && r.path == path)
            .collect()
    }

    /// Every request that is not a GET (what changed something, or tried to).
    pub fn writes(&self) -> Vec<Seen> {
        self.requests()
            .into_iter()
            .filter(|r| r.method != "GET")
            .collect()
    }

    /// `GET /__lab/state`.
    pub fn state(&self) -> Value {
        self.call(reqwest::Method::GET, "/__lab/state", None)
    }

    /// The id of the app at `fqdn`, from the lab's state.
    pub fn app_id(&self, fqdn: &str) -> String {
        self.app(fqdn)["id"].as_str().expect("app id").to_string()
    }

    /// The app at `fqdn` as the lab holds it.
    pub fn app(&self, fqdn: &str) -> Value {
        self.state()["apps"]
            .as_array()
            .expect("apps")
            .iter()
            .find(|a| a["fqdn"] == fqdn)
            .unwrap_or_else(|| panic!("no app {fqdn} in the lab"))
            .clone()
    }
}

fn chmod_600(p: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o600)).expect("chmod");
}

//! The Cloudron emulator, tested over real HTTPS with a client that trusts only its CA:
//! auth, routes, tasks, backups and restores, users and groups, faults, persistence, and the
//! `lab serve-cloudron` / `lab up|status|down` commands of the real binary.

mod apps;
mod backups;
mod binary;
mod faults;
mod handle;
mod people;

use std::time::{Duration, Instant};

use cloudron_emulator::{Emulator, EmulatorOptions, client_for, start};
use serde_json::{Value, json};

/// An in-process emulator and a client for it.
pub struct Lab {
    pub emu: Emulator,
    pub http: reqwest::Client,
}

/// Short tasks so lifecycles finish quickly.
pub fn quick() -> EmulatorOptions {
    with_tasks_of(Duration::from_millis(120))
}

/// Tasks long enough to observe an app while its task runs, even on a loaded machine.
pub fn slow() -> EmulatorOptions {
    with_tasks_of(Duration::from_millis(1500))
}

pub fn with_tasks_of(d: Duration) -> EmulatorOptions {
    EmulatorOptions {
        task_duration: d,
        ..Default::default()
    }
}

impl Lab {
    pub async fn start() -> Lab {
        Lab::with(quick()).await
    }

    /// Options for plain HTTP (for raw socket tests).
    pub fn plain() -> EmulatorOptions {
        EmulatorOptions {
            tls: false,
            ..quick()
        }
    }

    pub async fn with(opts: EmulatorOptions) -> Lab {
        let emu = start(opts).await.expect("emulator starts");
        let http = client_for(emu.ca_pem.as_deref()).expect("client");
        Lab { emu, http }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.emu.url)
    }

    /// A request with the bearer token; the body parsed as JSON (`null` when empty).
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self
            .http
            .request(m, self.url(path))
            .bearer_auth(&self.emu.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("body");
        let v = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: not JSON ({e}): {text}"))
        };
        (status, v)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.call("GET", path, None).await
    }
    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call("POST", path, Some(body)).await
    }
    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.call("PUT", path, Some(body)).await
    }
    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.call("DELETE", path, None).await
    }

    /// GET that must succeed.
    pub async fn ok(&self, path: &str) -> Value {
        let (s, v) = self.get(path).await;
        assert_eq!(s, 200, "GET {path}: {v}");
        v
    }

    /// Poll `GET /tasks/:id` until it has finished; returns the final task and every
    /// percent seen on the way.
    pub async fn wait_task(&self, id: &str) -> (Value, Vec<u64>) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut seen = Vec::new();
        loop {
            let t = self.ok(&format!("/api/v1/tasks/{id}")).await;
            let p = t["percent"].as_u64().expect("percent");
            if seen.last() != Some(&p) {
                seen.push(p);
            }
            if t["active"] == false && t["pending"] == false {
                return (t, seen);
            }
            assert!(Instant::now() < deadline, "task {id} still running: {t}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The demo app at `sub.example.org`.
    pub async fn app(&self, sub: &str) -> Value {
        let apps = self.ok("/api/v1/apps").await;
        apps["apps"]
            .as_array()
            .expect("apps")
            .iter()
            .find(|a| a["subdomain"] == sub)
            .cloned()
            .unwrap_or_else(|| panic!("no app {sub}"))
    }

    /// An app's lab data (`{version, checksum}`) from `/__lab/state`.
    pub async fn data(&self, app_id: &str) -> Value {
        let st = self.ok("/__lab/state").await;
        st["apps"]
            .as_array()
            .expect("apps")
            .iter()
            .find(|a| a["id"] == app_id)
            .map(|a| a["labData"].clone())
            .unwrap_or_else(|| panic!("no app {app_id} in the lab state"))
    }

    /// Start an app operation, check the 202 and the string task id, wait for the end.
    pub async fn op(&self, app_id: &str, op: &str, body: Value) -> Value {
        let (s, v) = self
            .post(&format!("/api/v1/apps/{app_id}/{op}"), body)
            .await;
        assert_eq!(s, 202, "{op}: {v}");
        let tid = v["taskId"]
            .as_str()
            .expect("taskId is a string")
            .to_string();
        self.wait_task(&tid).await.0
    }
}

/// `{status, message}` with the expected message.
#[track_caller]
pub fn assert_error(got: &(u16, Value), status: u16, reason: &str, message: &str) {
    assert_eq!(got.0, status, "{}", got.1);
    assert_eq!(got.1, json!({"status": reason, "message": message}));
}

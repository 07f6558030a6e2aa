//! The systems a run talks to, connected on first use: the Cloudron's client and one SSH
//! session per compute host. Settling an interrupted operation, undoing one and the commands
//! themselves reach the world through it, so a run opens each connection once and a host
//! nobody needs is never contacted.
//!
//! It connects and hands out clients; it never decides anything about what it connects to.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::{Mutex, OnceCell};

use crate::cloudron::Client;
use crate::compute::{ConnectOptions, Session, known_hosts_file};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::output::Output;

const NO_CLOUDRON: &str = "no Cloudron is configured: add a [cloudron] section with url and \
token_file to matelot.toml (or set MATELOT_CLOUDRON_URL and MATELOT_CLOUDRON_TOKEN)";

/// Lazily connected systems of one configuration.
pub struct World {
    cfg: Config,
    out: Output,
    may_prompt: bool,
    cloudron: std::sync::OnceLock<Client>,
    hosts: Mutex<HashMap<String, Arc<OnceCell<Arc<Session>>>>>,
}

impl World {
    pub fn new(cfg: &Config, out: &Output, may_prompt: bool) -> World {
        World {
            cfg: cfg.clone(),
            out: out.clone(),
            may_prompt,
            cloudron: std::sync::OnceLock::new(),
            hosts: Mutex::new(HashMap::new()),
        }
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Whether a Cloudron is configured.
    pub fn has_cloudron(&self) -> bool {
        self.cfg.cloudron.is_some()
    }

    /// The Cloudron client (nothing is sent until a call is made). Retries are reported on
    /// stderr; with `-v`, every request is.
    pub fn cloudron(&self) -> Result<&Client> {
        if let Some(c) = self.cloudron.get() {
            return Ok(c);
        }
        let cc = self
            .cfg
            .cloudron
            .as_ref()
            .ok_or_else(|| Error::Config(vec![NO_CLOUDRON.to_string()]))?;
        let out = self.out.clone();
        let client = Client::new(cc)?.with_trace(move |t| {
            if t.retry_in.is_some() {
                out.info(format!("cloudron: {t}"));
            } else {
                out.debug(format!("cloudron: {t}"));
            }
        });
        Ok(self.cloudron.get_or_init(|| client))
    }

    /// The SSH session to the compute host `name`, connected on first use (host key
    /// verified; an unknown or changed key is refused).
    pub async fn host(&self, name: &str) -> Result<Arc<Session>> {
        let host = self.cfg.compute.get(name).ok_or_else(|| {
            let names: Vec<&str> = self.cfg.compute.keys().map(String::as_str).collect();
            Error::Config(vec![format!(
                "no compute host named {name} is configured (configured: {})",
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            )])
        })?;
        let cell = {
            let mut hosts = self.hosts.lock().await;
            Arc::clone(hosts.entry(name.to_string()).or_default())
        };
        let session = cell
            .get_or_try_init(|| async {
                let opts = ConnectOptions {
                    may_prompt: self.may_prompt,
                    ..ConnectOptions::default()
                };
                let s = Session::connect(host, &known_hosts_file(&self.cfg, host), &opts).await?;
                Ok::<_, Error>(Arc::new(s))
            })
            .await?;
        Ok(Arc::clone(session))
    }

    /// Close every SSH session that was opened (errors are ignored: the run is over).
    pub async fn close(&self) {
        let cells: Vec<Arc<OnceCell<Arc<Session>>>> =
            self.hosts.lock().await.drain().map(|(_, c)| c).collect();
        for cell in cells {
            if let Some(s) = Arc::into_inner(cell).and_then(OnceCell::into_inner)
                && let Some(s) = Arc::into_inner(s)
            {
                let _ = s.close().await;
            }
        }
    }
}

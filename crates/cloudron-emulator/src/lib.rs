//! A Cloudron emulator: a real HTTPS server (its own CA, a leaf for `localhost`/`127.0.0.1`)
//! that speaks the Cloudron REST API as a live 9.0.15 does: the same routes, shapes, ids,
//! status codes and error bodies, tasks that move apps through `pending_*` states, and a
//! seeded estate. A control surface under `/__lab` injects faults and shows what happened.
//!
//! It exists to test matelot (and to rehearse with it) against something that behaves like
//! the real thing; it must not behave like what a client expects when a real Cloudron would
//! not. It never reaches beyond its listen socket and the files it is given.
//!
//! It is a crate of its own so that it cannot import matelot: it must not share matelot's
//! models, client or error types, or it would end up agreeing with the client instead of with
//! a live Cloudron. matelot depends on it (`matelot lab` starts it in-process); never the
//! other way round.
//!
//! ```no_run
//! # async fn demo() -> Result<(), cloudron_emulator::LabError> {
//! use cloudron_emulator::{start, EmulatorOptions};
//! let emu = start(EmulatorOptions::default()).await?;
//! println!("{} {}", emu.url, emu.ca_pem.as_deref().unwrap_or(""));
//! emu.shutdown().await;
//! # Ok(()) }
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

mod app_ops;
mod apps;
mod backups;
mod catalog;
mod control;
mod effects;
mod factory;
pub mod faults;
mod groups;
mod handle;
pub mod http;
mod job;
mod layers;
pub mod model;
mod persist;
mod retention;
mod router;
mod seed;
mod server;
pub mod state;
mod system;
mod tasks;
mod tls;
mod users;

pub use handle::{Control, EmulatorHandle, client_for, spawn};
pub use persist::private_file;
pub use tls::{CA_FILE, CA_KEY_FILE};

/// The estate to start from when there is no saved state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Seed {
    /// A small organisation on `example.org` with six apps, people, groups and backups.
    #[default]
    Demo,
    /// Only the owner.
    Empty,
}

impl Seed {
    pub fn name(self) -> &'static str {
        match self {
            Seed::Demo => "demo",
            Seed::Empty => "empty",
        }
    }
}

impl std::str::FromStr for Seed {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "demo" => Ok(Seed::Demo),
            "empty" => Ok(Seed::Empty),
            other => Err(format!("unknown seed {other:?}: use demo or empty")),
        }
    }
}

/// How to run the emulator.
#[derive(Clone)]
pub struct EmulatorOptions {
    /// Where to listen; port 0 picks a free port.
    pub listen: SocketAddr,
    /// The API token; random when `None` (or the saved one, with `state_file`).
    pub token: Option<String>,
    pub seed: Seed,
    /// How long a task takes from start to finish.
    pub task_duration: Duration,
    /// Persist the estate here (JSON) and resume from it.
    pub state_file: Option<PathBuf>,
    /// HTTPS (default) or plain HTTP.
    pub tls: bool,
    /// Where the CA is written (default: beside `state_file`; nowhere when both are unset).
    pub dir: Option<PathBuf>,
    /// This many generated apps on top of the seed, for benchmarks on a large estate.
    pub extra_apps: usize,
    /// A line per request on stderr.
    pub log_requests: bool,
}

impl std::fmt::Debug for EmulatorOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatorOptions")
            .field("listen", &self.listen)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("seed", &self.seed)
            .field("task_duration", &self.task_duration)
            .field("state_file", &self.state_file)
            .field("tls", &self.tls)
            .field("dir", &self.dir)
            .field("extra_apps", &self.extra_apps)
            .field("log_requests", &self.log_requests)
            .finish()
    }
}

impl Default for EmulatorOptions {
    fn default() -> Self {
        EmulatorOptions {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            token: None,
            seed: Seed::Demo,
            task_duration: Duration::from_millis(200),
            state_file: None,
            tls: true,
            dir: None,
            extra_apps: 0,
            log_requests: false,
        }
    }
}

/// Why the emulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error(
        "the Cloudron emulator cannot listen on {addr}: {source}; pick another address with \
         --listen (port 0 picks a free one)"
    )]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the Cloudron emulator's TLS setup failed: {0}")]
    Tls(String),
    #[error(
        "the emulator state file {} is not valid: {message}; move it away to start again from \
         the seed", path.display()
    )]
    StateFile { path: PathBuf, message: String },
    #[error("{what} ({}): {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the Cloudron emulator could not run: {0}")]
    Runtime(String),
}

/// A running emulator on the current tokio runtime.
pub struct Emulator {
    /// `https://127.0.0.1:PORT` (no `/api/v1`).
    pub url: String,
    pub token: String,
    /// The CA certificate file, when a directory was given.
    pub ca_file: Option<PathBuf>,
    /// The CA certificate (PEM), with TLS.
    pub ca_pem: Option<String>,
    pub addr: SocketAddr,
    shared: Arc<state::Shared>,
    server: Option<JoinHandle<()>>,
    writer: Option<JoinHandle<()>>,
}

fn random_token() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// Bind, build the estate and serve on the current tokio runtime.
pub async fn start(opts: EmulatorOptions) -> Result<Emulator, LabError> {
    let dir = opts.dir.clone().or_else(|| {
        opts.state_file
            .as_ref()
            .and_then(|f| f.parent().map(PathBuf::from))
            .map(|p| {
                if p.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    p
                }
            })
    });
    let dir = match dir {
        Some(d) => {
            let io = |source| LabError::Io {
                what: "creating the lab directory",
                path: d.clone(),
                source,
            };
            std::fs::create_dir_all(&d).map_err(io)?;
            // Absolute, so the ready line's ca_file works from any directory.
            Some(d.canonicalize().map_err(io)?)
        }
        None => None,
    };
    let saved = match &opts.state_file {
        Some(f) => persist::load(f)?,
        None => None,
    };
    let mut estate = match saved {
        Some(e) => e,
        None => seed::build(
            opts.seed.name(),
            opts.extra_apps,
            model::Token(opts.token.clone().unwrap_or_else(random_token)),
        ),
    };
    if let Some(t) = &opts.token {
        estate.token = model::Token(t.clone());
    }
    let token = estate.token.0.clone();

    let listener = TcpListener::bind(opts.listen)
        .await
        .map_err(|source| LabError::Bind {
            addr: opts.listen,
            source,
        })?;
    let mut addr = listener.local_addr().map_err(|source| LabError::Bind {
        addr: opts.listen,
        source,
    })?;
    if addr.ip().is_unspecified() {
        addr.set_ip([127, 0, 0, 1].into());
    }
    let (acceptor, ca_pem, ca_file) = if opts.tls {
        let m = tls::material(addr.ip(), dir.as_deref())?;
        (
            Some(tokio_rustls::TlsAcceptor::from(m.server_config)),
            Some(m.ca_pem),
            m.ca_file,
        )
    } else {
        (None, None, None)
    };

    let shared = Arc::new(state::Shared::new(
        estate,
        opts.task_duration,
        opts.log_requests,
    ));
    let router = router::build(Arc::clone(&shared));
    let server = tokio::spawn(server::serve(
        listener,
        acceptor,
        router,
        shared.shutdown_signal(),
    ));
    let writer = opts.state_file.clone().map(|path| {
        shared.dirty.notify_one();
        tokio::spawn(persist::writer(Arc::clone(&shared), path))
    });
    let scheme = if opts.tls { "https" } else { "http" };
    Ok(Emulator {
        url: format!("{scheme}://{addr}"),
        token,
        ca_file,
        ca_pem,
        addr,
        shared,
        server: Some(server),
        writer,
    })
}

impl Emulator {
    /// Sync access to the lab controls (faults, state, app data) without HTTP.
    pub fn control(&self) -> Control {
        Control::new(Arc::clone(&self.shared))
    }

    /// The line `serve-cloudron` prints when ready: `{"url", "token", "ca_file"}`.
    pub fn ready_line(&self) -> serde_json::Value {
        serde_json::json!({
            "url": self.url,
            "token": self.token,
            "ca_file": self.ca_file,
        })
    }

    /// Stop serving, end running tasks and write the state one last time.
    pub async fn shutdown(mut self) {
        self.shared.shut_down();
        if let Some(s) = self.server.take() {
            let _ = s.await;
        }
        if let Some(w) = self.writer.take() {
            let _ = w.await;
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        // Dropped without `shutdown`: still stop the background tasks.
        self.shared.shut_down();
    }
}

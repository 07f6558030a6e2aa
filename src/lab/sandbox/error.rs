//! Why a sandbox could not be started, used or stopped, each with what to do about it.

use std::path::PathBuf;
use std::time::Duration;

use crate::compute::SshError;

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("sandbox hosts need root (running as uid {uid})")]
    NotRoot { uid: u32 },

    #[error("sandbox hosts need {} ({why}): apt-get install {package}", path.display())]
    Missing {
        path: PathBuf,
        why: &'static str,
        package: &'static str,
    },

    #[error("invalid sandbox name {0:?}: use 1-63 lowercase letters, digits and dashes")]
    InvalidName(String),

    #[error("unsupported sandbox host key type {0:?}: use ed25519, ecdsa or rsa")]
    KeyType(String),

    #[error("sandbox address {0} is not a loopback address (use 127.0.0.x)")]
    NotLoopback(std::net::IpAddr),

    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },

    #[error("{what} failed: {stderr}")]
    Tool { what: String, stderr: String },

    #[error("sandbox {name} exited while starting; its console said:\n{console}")]
    Died { name: String, console: String },

    #[error(
        "sandbox {name} did not {what} within {}; its console said:\n{console}",
        humantime::format_duration(*after)
    )]
    Timeout {
        name: String,
        what: &'static str,
        after: Duration,
        console: String,
    },

    #[error("first SSH login to sandbox {name} failed: {source}")]
    Login {
        name: String,
        #[source]
        source: Box<SshError>,
    },

    #[error(
        "a sandbox is already running from {}: stop it first (matelot lab down)",
        dir.display()
    )]
    AlreadyRunning { dir: PathBuf },

    #[error("sandbox {name} is not running")]
    NotRunning { name: String },
}

impl From<SandboxError> for crate::error::Error {
    fn from(e: SandboxError) -> Self {
        crate::error::Error::Other(anyhow::Error::new(e))
    }
}

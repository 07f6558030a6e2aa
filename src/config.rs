//! Configuration: one TOML file describes the estate (Cloudron, compute hosts, backups, health).
//!
//! Sources, highest precedence first: flags > environment > `--config`/`MATELOT_CONFIG` >
//! `./matelot.toml` > the user's XDG config > `/etc/matelot/config.toml`. Secrets are never
//! inline: they come from files or the environment and are held as [`SecretString`], whose
//! `Debug` redacts. Parsing and validation are separate from use: a `Config` is always valid.
//!
//! (Skeleton: the full loader with origins, multi-problem reports and `config show` is being
//! completed in the Foundation issue.)

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::SecretString;
use serde::Serialize;

use crate::error::{Error, Result};

/// Where a value came from, for `config show`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Origin {
    Default,
    File { path: PathBuf, line: usize },
    Env { var: String },
    Flag { flag: String },
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Default => write!(f, "default"),
            Origin::File { path, line } => write!(f, "{}:{line}", path.display()),
            Origin::Env { var } => write!(f, "env {var}"),
            Origin::Flag { flag } => write!(f, "flag {flag}"),
        }
    }
}

/// A secret together with where it came from (so an auth error can name the source).
#[derive(Clone)]
pub struct Secret {
    pub value: SecretString,
    pub origin: Origin,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret(<redacted> from {})", self.origin)
    }
}

/// The whole validated configuration.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The file that was read, if any.
    pub file: Option<PathBuf>,
    pub cloudron: Option<CloudronConfig>,
    /// Compute hosts by name, in name order.
    pub compute: BTreeMap<String, ComputeHost>,
    pub backup: BackupConfig,
    pub health: HealthConfig,
    pub guard: GuardConfig,
    pub state: StateConfig,
}

/// `[cloudron]`
#[derive(Debug, Clone)]
pub struct CloudronConfig {
    /// Base URL, e.g. `https://my.example.org` (no `/api/v1`).
    pub url: url::Url,
    /// API token from `token_file` or `MATELOT_CLOUDRON_TOKEN`.
    pub token: Option<Secret>,
    /// Extra CA certificate (PEM) to trust, for a private CA.
    pub ca_file: Option<PathBuf>,
    /// Apps (id, subdomain or FQDN) that destructive commands refuse outright.
    pub protect: Vec<String>,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    /// How long to wait for a Cloudron task before giving up.
    pub task_timeout: Duration,
}

/// `[compute.NAME]`
#[derive(Debug, Clone)]
pub struct ComputeHost {
    pub name: String,
    pub host: String,
    pub port: u16,
    pub user: String,
    /// Identity file; `None` means use the ssh-agent.
    pub identity: Option<PathBuf>,
    /// matelot's known_hosts for this host (default: `<state>/known_hosts`).
    pub known_hosts: Option<PathBuf>,
    /// Run privileged commands through `sudo -n`.
    pub sudo: bool,
    pub connect_timeout: Duration,
    pub command_timeout: Duration,
    /// Usernames refused for people (system accounts); the host's accounts below
    /// `min_uid` are refused as well.
    pub min_uid: u32,
}

/// `[backup]`
#[derive(Debug, Clone, Default)]
pub struct BackupConfig {
    pub compute: Option<ComputeBackup>,
}

/// `[backup.compute]`: restic, run on the compute host.
#[derive(Debug, Clone)]
pub struct ComputeBackup {
    /// Any restic repository string, as seen from the host.
    pub repository: String,
    /// Password file on the host.
    pub password_file: String,
    pub paths: Vec<String>,
    pub keep: Keep,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Keep {
    pub daily: Option<u32>,
    pub weekly: Option<u32>,
    pub monthly: Option<u32>,
    pub yearly: Option<u32>,
}

/// `[health]`
#[derive(Debug, Clone)]
pub struct HealthConfig {
    pub disk_warn: u8,
    pub disk_crit: u8,
    pub backup_max_age: Duration,
}

impl Default for HealthConfig {
    fn default() -> Self {
        HealthConfig {
            disk_warn: 80,
            disk_crit: 90,
            backup_max_age: Duration::from_secs(26 * 3600),
        }
    }
}

/// `[guard]`: how restore points are kept.
#[derive(Debug, Clone)]
pub struct GuardConfig {
    /// How long a restore point backup is preserved past retention (default 90 days).
    pub preserve: Duration,
}

impl Default for GuardConfig {
    fn default() -> Self {
        GuardConfig {
            preserve: Duration::from_secs(90 * 24 * 3600),
        }
    }
}

/// `[state]`
#[derive(Debug, Clone)]
pub struct StateConfig {
    /// Journal, lock and known_hosts live here.
    pub dir: PathBuf,
}

impl Default for StateConfig {
    fn default() -> Self {
        StateConfig {
            dir: default_state_dir(),
        }
    }
}

/// `$XDG_STATE_HOME/matelot` (or `~/.local/state/matelot`).
pub fn default_state_dir() -> PathBuf {
    dirs::state_dir()
        .or_else(|| dirs::home_dir().map(|h| h.join(".local/state")))
        .unwrap_or_else(|| PathBuf::from("/var/lib"))
        .join("matelot")
}

/// Values given on the command line, which override everything else.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub config_file: Option<PathBuf>,
    pub state_dir: Option<PathBuf>,
}

impl Config {
    /// Load and validate the configuration from all sources.
    pub fn load(overrides: &Overrides) -> Result<Config> {
        // Interim loader: defaults plus the state directory. The full loader replaces this.
        let mut cfg = Config::default();
        if let Some(dir) = overrides
            .state_dir
            .clone()
            .or_else(|| std::env::var_os("MATELOT_STATE_DIR").map(PathBuf::from))
        {
            cfg.state.dir = expand_tilde(&dir);
        }
        if cfg.state.dir.as_os_str().is_empty() {
            return Err(Error::Config(vec!["state directory is empty".into()]));
        }
        Ok(cfg)
    }

    /// The journal database path.
    pub fn journal_path(&self) -> PathBuf {
        self.state.dir.join("journal.sqlite")
    }

    /// The run lock path.
    pub fn lock_path(&self) -> PathBuf {
        self.state.dir.join("matelot.lock")
    }

    /// matelot's own known_hosts file.
    pub fn known_hosts_path(&self) -> PathBuf {
        self.state.dir.join("known_hosts")
    }
}

/// Expand a leading `~` or `~/` to the home directory.
pub fn expand_tilde(p: &Path) -> PathBuf {
    let Some(s) = p.to_str() else {
        return p.to_path_buf();
    };
    if s == "~" {
        return dirs::home_dir().unwrap_or_else(|| p.to_path_buf());
    }
    if let Some(rest) = s.strip_prefix("~/")
        && let Some(home) = dirs::home_dir()
    {
        return home.join(rest);
    }
    p.to_path_buf()
}

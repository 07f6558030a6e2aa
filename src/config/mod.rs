//! Configuration: one TOML file describes the estate (Cloudron, compute hosts, backups, health).
//!
//! Sources, highest precedence first: flags > environment > the one configuration file >
//! defaults. Exactly one file is read: `--config`/`MATELOT_CONFIG`, else the first that exists
//! of `./matelot.toml`, the user's XDG config, `/etc/matelot/config.toml` (`sources.rs`). The
//! file is checked against the schema with every problem reported at once (`schema.rs` over the
//! span-aware walker in `walk.rs`), then merged with the environment and flags (`resolve.rs`).
//! Secrets are never inline: they come from files or the environment and are held as
//! [`SecretString`], whose `Debug` redacts. A `Config` is always valid; `show.rs` lists its
//! effective values and their origins for `matelot config show`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::SecretString;
use serde::Serialize;

use crate::error::{Error, Result};

pub mod files;
mod resolve;
pub mod schema;
pub mod show;
pub mod sources;
pub mod values;
pub mod walk;

pub use sources::{Candidate, Environment};

/// Defaults of the settings that have one (documented in docs/config.md).
pub mod defaults {
    use std::time::Duration;

    use super::Keep;

    pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
    pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
    pub const TASK_TIMEOUT: Duration = Duration::from_secs(3600);
    pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(3600);
    pub const PORT: u16 = 22;
    pub const USER: &str = "root";
    pub const MIN_UID: u32 = 1000;

    pub fn backup_paths() -> Vec<String> {
        vec!["/home".to_string()]
    }

    pub fn keep() -> Keep {
        Keep {
            daily: Some(7),
            weekly: Some(4),
            monthly: Some(6),
            yearly: None,
        }
    }
}

/// Where a value came from, for `config show`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Origin {
    Default,
    File {
        path: PathBuf,
        line: usize,
    },
    Env {
        var: String,
    },
    Flag {
        flag: String,
    },
    /// Read from a file (a secret) whose path was given at `named_by`.
    ReadFrom {
        path: PathBuf,
        named_by: Box<Origin>,
    },
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Default => write!(f, "default"),
            Origin::File { path, line } => write!(f, "{}:{line}", path.display()),
            Origin::Env { var } => write!(f, "env {var}"),
            Origin::Flag { flag } => write!(f, "flag {flag}"),
            Origin::ReadFrom { path, named_by } => {
                write!(f, "{} (named by {named_by})", path.display())
            }
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
    /// Where each value that is not a default came from, by dotted key (`cloudron.url`).
    pub origins: BTreeMap<String, Origin>,
    /// Things that work but deserve attention (a token file others can read, ...).
    pub warnings: Vec<String>,
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

impl CloudronConfig {
    /// A Cloudron at `url` with every other setting at its default (for tests and the lab).
    pub fn new(url: url::Url) -> Self {
        CloudronConfig {
            url,
            token: None,
            ca_file: None,
            protect: Vec::new(),
            connect_timeout: defaults::CONNECT_TIMEOUT,
            request_timeout: defaults::REQUEST_TIMEOUT,
            task_timeout: defaults::TASK_TIMEOUT,
        }
    }
}

impl ComputeHost {
    /// A host `name` at address `host` with every other setting at its default.
    pub fn new(name: impl Into<String>, host: impl Into<String>) -> Self {
        ComputeHost {
            name: name.into(),
            host: host.into(),
            port: defaults::PORT,
            user: defaults::USER.to_string(),
            identity: None,
            known_hosts: None,
            sudo: false,
            connect_timeout: defaults::CONNECT_TIMEOUT,
            command_timeout: defaults::COMMAND_TIMEOUT,
            min_uid: defaults::MIN_UID,
        }
    }
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
            disk_warn: schema::DISK_WARN,
            disk_crit: schema::DISK_CRIT,
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
    /// Load and validate the configuration from all sources (the process environment).
    pub fn load(overrides: &Overrides) -> Result<Config> {
        let env = Environment::from_process().map_err(|e| Error::Config(vec![e]))?;
        load_from(&env, overrides).into_result()
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

/// The outcome of loading: the file chosen (if any), and either a valid configuration or
/// every problem found. Warnings are kept in both cases.
#[derive(Debug)]
pub struct Loaded {
    pub file: Option<PathBuf>,
    pub config: Option<Config>,
    pub problems: Vec<String>,
    pub warnings: Vec<String>,
}

impl Loaded {
    /// The configuration, or `Error::Config` with every problem.
    pub fn into_result(self) -> Result<Config> {
        match self.config {
            Some(c) if self.problems.is_empty() => Ok(c),
            _ => Err(Error::Config(self.problems)),
        }
    }
}

/// Load from a captured environment: choose the file, check it, merge the environment and the
/// flags, read the token. Never stops at the first problem.
pub fn load_from(env: &Environment, overrides: &Overrides) -> Loaded {
    let mut problems = Vec::new();
    let chosen = sources::candidates(env, overrides.config_file.as_deref())
        .and_then(|c| sources::select(&c));
    let chosen = match chosen {
        Ok(c) => c,
        Err(e) => {
            return Loaded {
                file: None,
                config: None,
                problems: vec![e],
                warnings: Vec::new(),
            };
        }
    };
    let mut settings = schema::FileSettings::default();
    if let Some(c) = &chosen {
        match std::fs::read_to_string(&c.abs) {
            Ok(text) => match schema::parse(&text, &c.path, c.dir(), env.home.as_deref()) {
                Ok((s, p)) => {
                    settings = s;
                    problems.extend(p);
                }
                Err(syntax) => {
                    return Loaded {
                        file: Some(c.path.clone()),
                        config: None,
                        problems: syntax,
                        warnings: Vec::new(),
                    };
                }
            },
            Err(e) => problems.push(format!("{}: cannot read: {e}", c.path.display())),
        }
    }
    let file = chosen.map(|c| c.path);
    let mut r = resolve::Resolver::new(env);
    let config = r.resolve(file.as_deref(), settings, overrides);
    problems.append(&mut r.problems);
    Loaded {
        file,
        config: problems.is_empty().then_some(config),
        problems,
        warnings: r.warnings,
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

//! Where configuration comes from: a snapshot of the process environment (the `MATELOT_*`
//! variables, working directory, home and XDG config directory) and the one-file rule that
//! picks which configuration file is read.
//!
//! Exactly one file is read, the first that exists of: `--config FILE` or `MATELOT_CONFIG`
//! (which must exist), `./matelot.toml`, `$XDG_CONFIG_HOME/matelot/config.toml`,
//! `/etc/matelot/config.toml`. Files are never merged, so a lab's `matelot.toml` can never mix
//! with a production `/etc/matelot/config.toml`. This module reads no file contents.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Environment variables the loader reads.
pub mod var {
    pub const CONFIG: &str = "MATELOT_CONFIG";
    pub const CLOUDRON_URL: &str = "MATELOT_CLOUDRON_URL";
    pub const CLOUDRON_TOKEN: &str = "MATELOT_CLOUDRON_TOKEN";
    pub const CLOUDRON_TOKEN_FILE: &str = "MATELOT_CLOUDRON_TOKEN_FILE";
    pub const CLOUDRON_CA_FILE: &str = "MATELOT_CLOUDRON_CA_FILE";
    pub const STATE_DIR: &str = "MATELOT_STATE_DIR";
    pub const ALL: &[&str] = &[
        CONFIG,
        CLOUDRON_URL,
        CLOUDRON_TOKEN,
        CLOUDRON_TOKEN_FILE,
        CLOUDRON_CA_FILE,
        STATE_DIR,
    ];
}

/// The system-wide configuration file.
pub const SYSTEM_CONFIG: &str = "/etc/matelot/config.toml";

/// The parts of the process environment the loader depends on, captured once so that the
/// loader itself can be run against any environment in tests.
#[derive(Clone, Default)]
pub struct Environment {
    vars: BTreeMap<String, OsString>,
    /// The working directory (`./matelot.toml`, relative paths given by flags or variables).
    pub cwd: PathBuf,
    /// The home directory, for `~` expansion.
    pub home: Option<PathBuf>,
    /// `$XDG_CONFIG_HOME/matelot/config.toml`, when a config directory is known.
    pub user_config: Option<PathBuf>,
    /// `/etc/matelot/config.toml`.
    pub system_config: PathBuf,
}

// Variables may hold a token: never print their values.
impl std::fmt::Debug for Environment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Environment")
            .field("vars", &self.vars.keys().collect::<Vec<_>>())
            .field("cwd", &self.cwd)
            .field("home", &self.home)
            .field("user_config", &self.user_config)
            .field("system_config", &self.system_config)
            .finish()
    }
}

impl Environment {
    /// Capture the current process's environment.
    pub fn from_process() -> Result<Self, String> {
        let cwd = std::env::current_dir()
            .map_err(|e| format!("cannot determine the working directory: {e}"))?;
        let vars = var::ALL
            .iter()
            .filter_map(|k| std::env::var_os(k).map(|v| (k.to_string(), v)))
            .collect();
        Ok(Environment {
            vars,
            cwd,
            home: dirs::home_dir(),
            user_config: dirs::config_dir().map(|d| d.join("matelot").join("config.toml")),
            system_config: PathBuf::from(SYSTEM_CONFIG),
        })
    }

    /// An environment with no variables, rooted at `cwd` (tests build on this).
    pub fn empty(cwd: impl Into<PathBuf>) -> Self {
        Environment {
            cwd: cwd.into(),
            system_config: PathBuf::from(SYSTEM_CONFIG),
            ..Environment::default()
        }
    }

    /// Set a variable (tests).
    pub fn with_var(mut self, name: &str, value: impl Into<OsString>) -> Self {
        self.vars.insert(name.to_string(), value.into());
        self
    }

    /// A variable's value; unset and empty are the same. `Err` names a value that is not UTF-8.
    pub fn var(&self, name: &str) -> Result<Option<&str>, String> {
        match self.vars.get(name) {
            None => Ok(None),
            Some(v) => match v.to_str() {
                Some(s) if s.trim().is_empty() => Ok(None),
                Some(s) => Ok(Some(s)),
                None => Err(format!("{name}: the value is not valid UTF-8")),
            },
        }
    }
}

/// A configuration file that may be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The path as the operator would write it (used in messages).
    pub path: PathBuf,
    /// The absolute path (used to read it and to resolve relative paths inside it).
    pub abs: PathBuf,
    /// Why this file is considered: `--config`, `MATELOT_CONFIG`, or a search location.
    pub why: &'static str,
    /// Named explicitly: it must exist.
    pub explicit: bool,
}

impl Candidate {
    /// The directory relative paths in this file are taken from.
    pub fn dir(&self) -> &Path {
        self.abs.parent().unwrap_or(Path::new("/"))
    }
}

/// The files that may be read, in order. An explicit file is the only candidate.
pub fn candidates(env: &Environment, flag: Option<&Path>) -> Result<Vec<Candidate>, String> {
    let explicit = match flag {
        Some(p) => Some((p.to_path_buf(), "--config")),
        None => env
            .var(var::CONFIG)?
            .map(|p| (PathBuf::from(p), var::CONFIG)),
    };
    if let Some((path, why)) = explicit {
        let abs = env.cwd.join(&path);
        return Ok(vec![Candidate {
            path,
            abs,
            why,
            explicit: true,
        }]);
    }
    let mut out = vec![Candidate {
        path: PathBuf::from("matelot.toml"),
        abs: env.cwd.join("matelot.toml"),
        why: "working directory",
        explicit: false,
    }];
    if let Some(user) = &env.user_config {
        out.push(Candidate {
            path: user.clone(),
            abs: env.cwd.join(user),
            why: "user configuration",
            explicit: false,
        });
    }
    out.push(Candidate {
        path: env.system_config.clone(),
        abs: env.cwd.join(&env.system_config),
        why: "system configuration",
        explicit: false,
    });
    Ok(out)
}

/// Whether a candidate exists, as far as the search is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    Missing,
    Present,
}

/// Look a candidate up on disk. A path that exists but cannot be inspected counts as present
/// (reading it will then say why it failed); a directory is a problem.
pub fn presence(c: &Candidate) -> Result<Presence, String> {
    match std::fs::metadata(&c.abs) {
        Ok(m) if m.is_dir() => Err(format!(
            "{}: is a directory, not a configuration file ({})",
            c.path.display(),
            c.why
        )),
        Ok(_) => Ok(Presence::Present),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Presence::Missing),
        Err(_) => Ok(Presence::Present),
    }
}

/// Apply the one-file rule: the first candidate that exists, or none. An explicit file that
/// does not exist is a problem.
pub fn select(cands: &[Candidate]) -> Result<Option<Candidate>, String> {
    for c in cands {
        match presence(c)? {
            Presence::Present => return Ok(Some(c.clone())),
            Presence::Missing if c.explicit => {
                return Err(format!(
                    "{}: configuration file not found (named by {})",
                    c.path.display(),
                    c.why
                ));
            }
            Presence::Missing => {}
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_in(dir: &Path) -> Environment {
        let mut env = Environment::empty(dir);
        env.user_config = Some(dir.join("xdg/matelot/config.toml"));
        env.system_config = dir.join("etc/matelot/config.toml");
        env
    }

    fn touch(p: &Path) {
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(p, "").unwrap();
    }

    #[test]
    fn the_first_existing_file_wins_and_only_one_is_chosen() {
        let dir = tempfile::tempdir().unwrap();
        let env = env_in(dir.path());
        let pick = |env: &Environment, flag: Option<&Path>| {
            select(&candidates(env, flag).unwrap())
                .unwrap()
                .map(|c| c.abs)
        };
        assert_eq!(pick(&env, None), None);
        touch(&env.system_config);
        assert_eq!(pick(&env, None), Some(env.system_config.clone()));
        let user = env.user_config.clone().unwrap();
        touch(&user);
        assert_eq!(pick(&env, None), Some(user.clone()));
        touch(&dir.path().join("matelot.toml"));
        assert_eq!(pick(&env, None), Some(dir.path().join("matelot.toml")));
        touch(&dir.path().join("other.toml"));
        let env_cfg = env.clone().with_var(var::CONFIG, "other.toml");
        assert_eq!(pick(&env_cfg, None), Some(dir.path().join("other.toml")));
        touch(&dir.path().join("flag.toml"));
        assert_eq!(
            pick(&env_cfg, Some(Path::new("flag.toml"))),
            Some(dir.path().join("flag.toml"))
        );
    }

    #[test]
    fn an_explicit_file_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        touch(&dir.path().join("matelot.toml"));
        let env = env_in(dir.path()).with_var(var::CONFIG, "nope.toml");
        let err = select(&candidates(&env, None).unwrap()).unwrap_err();
        assert_eq!(
            err,
            "nope.toml: configuration file not found (named by MATELOT_CONFIG)"
        );
        let err = select(&candidates(&env, Some(Path::new("x/y.toml"))).unwrap()).unwrap_err();
        assert_eq!(
            err,
            "x/y.toml: configuration file not found (named by --config)"
        );
    }

    #[test]
    fn empty_variables_are_unset() {
        let env = Environment::empty("/").with_var(var::CONFIG, "  ");
        assert_eq!(env.var(var::CONFIG), Ok(None));
        assert_eq!(candidates(&env, None).unwrap().len(), 2);
    }
}

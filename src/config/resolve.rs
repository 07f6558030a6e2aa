//! Merge one file's settings with the environment, the flags and the defaults into a
//! [`Config`], recording where every effective value came from; read the Cloudron token; check
//! that the local files named (token, CA, SSH identity) exist and are usable.
//!
//! Every problem is collected, none stops the others. The token is read into a
//! [`SecretString`] at once and never formatted; messages name the file, never its content.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use secrecy::SecretString;

use super::files::{check_ca_file, check_token_text, loose_mode_warning};
use super::schema::{FileCompute, FileSettings};
use super::sources::{Environment, var};
use super::values::parse_cloudron_url;
use super::walk::{Located, resolve_path};
use super::{
    BackupConfig, CloudronConfig, ComputeBackup, ComputeHost, Config, GuardConfig, HealthConfig,
    Origin, Overrides, Secret, StateConfig, defaults,
};

/// A value with its origin and a label to prefix problems about it
/// (`matelot.toml:3:14: cloudron.token_file` or `MATELOT_CLOUDRON_TOKEN_FILE`).
struct Given<T> {
    value: T,
    origin: Origin,
    label: String,
}

impl<T> Given<T> {
    fn file(l: Located<T>, key: &str) -> Self {
        Given {
            label: format!("{}: {key}", l.loc),
            origin: l.loc.origin(),
            value: l.value,
        }
    }

    fn env(value: T, name: &str) -> Self {
        Given {
            value,
            origin: Origin::Env { var: name.into() },
            label: name.to_string(),
        }
    }
}

/// The merge in progress: what has been decided and what went wrong.
pub struct Resolver<'a> {
    env: &'a Environment,
    origins: BTreeMap<String, Origin>,
    pub problems: Vec<String>,
    pub warnings: Vec<String>,
}

impl<'a> Resolver<'a> {
    pub fn new(env: &'a Environment) -> Self {
        Resolver {
            env,
            origins: BTreeMap::new(),
            problems: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// Build the configuration. Problems and warnings are left in `self`.
    pub fn resolve(
        &mut self,
        file: Option<&Path>,
        settings: FileSettings,
        overrides: &Overrides,
    ) -> Config {
        let FileSettings {
            cloudron,
            compute,
            backup_compute,
            health,
            guard_preserve,
            state_dir,
        } = settings;
        let cloudron = self.cloudron(cloudron);
        let compute = compute
            .into_iter()
            .map(|(name, h)| {
                let host = self.compute(&name, h);
                (name, host)
            })
            .collect();
        let backup = BackupConfig {
            compute: backup_compute.map(|b| {
                let d = defaults::keep();
                ComputeBackup {
                    repository: self.pick("backup.compute.repository", Some(b.repository), ""),
                    password_file: self.pick(
                        "backup.compute.password_file",
                        Some(b.password_file),
                        "",
                    ),
                    paths: self.pick("backup.compute.paths", b.paths, defaults::backup_paths()),
                    keep: self.pick("backup.compute.keep", b.keep, d),
                }
            }),
        };
        let hd = HealthConfig::default();
        let health = HealthConfig {
            disk_warn: self.pick("health.disk.warn", health.disk_warn, hd.disk_warn),
            disk_crit: self.pick("health.disk.crit", health.disk_crit, hd.disk_crit),
            backup_max_age: self.pick(
                "health.backup_max_age",
                health.backup_max_age,
                hd.backup_max_age,
            ),
        };
        let guard = GuardConfig {
            preserve: self.pick(
                "guard.preserve",
                guard_preserve,
                GuardConfig::default().preserve,
            ),
        };
        let state = self.state(state_dir, overrides);
        Config {
            file: file.map(Path::to_path_buf),
            cloudron,
            compute,
            backup,
            health,
            guard,
            state,
            origins: std::mem::take(&mut self.origins),
            warnings: self.warnings.clone(),
        }
    }

    /// The file's value if given (recording its origin), else the default.
    fn pick<T>(&mut self, key: &str, v: Option<Located<T>>, default: impl Into<T>) -> T {
        match v {
            Some(l) => {
                self.origins.insert(key.to_string(), l.loc.origin());
                l.value
            }
            None => default.into(),
        }
    }

    /// The first given value, recording its origin.
    fn first<T>(&mut self, key: &str, given: Vec<Option<Given<T>>>) -> Option<Given<T>> {
        let g = given.into_iter().flatten().next()?;
        self.origins.insert(key.to_string(), g.origin.clone());
        Some(g)
    }

    /// A variable's value; a non-UTF-8 value is a problem.
    fn var(&mut self, name: &str) -> Option<String> {
        match self.env.var(name) {
            Ok(v) => v.map(str::to_string),
            Err(e) => {
                self.problems.push(e);
                None
            }
        }
    }

    /// A path given in a variable: relative to the working directory, `~` expanded.
    fn var_path(&mut self, name: &str) -> Option<Given<PathBuf>> {
        let raw = self.var(name)?;
        match resolve_path(raw.trim(), &self.env.cwd, self.env.home.as_deref()) {
            Ok(p) => Some(Given::env(p, name)),
            Err(e) => {
                self.problems.push(format!("{name}: {e}"));
                None
            }
        }
    }

    fn cloudron(&mut self, file: Option<super::schema::FileCloudron>) -> Option<CloudronConfig> {
        let env_url = self.var(var::CLOUDRON_URL).and_then(|raw| {
            parse_cloudron_url(&raw)
                .map_err(|e| self.problems.push(format!("{}: {e}", var::CLOUDRON_URL)))
                .ok()
        });
        let env_url_set = self.env.var(var::CLOUDRON_URL).ok().flatten().is_some();
        let env_token = self.var(var::CLOUDRON_TOKEN);
        let env_token_file = self.var_path(var::CLOUDRON_TOKEN_FILE);
        let env_ca = self.var_path(var::CLOUDRON_CA_FILE);
        if file.is_none() && !env_url_set {
            for (set, name) in [
                (env_token.is_some(), var::CLOUDRON_TOKEN),
                (env_token_file.is_some(), var::CLOUDRON_TOKEN_FILE),
                (env_ca.is_some(), var::CLOUDRON_CA_FILE),
            ] {
                if set {
                    self.warnings.push(format!(
                        "{name} is set but no Cloudron is configured (no [cloudron] url, no \
                         {}); it is ignored",
                        var::CLOUDRON_URL
                    ));
                }
            }
            return None;
        }
        let (mut f_url, mut f_token_file, mut f_ca, mut f_protect) = (None, None, None, None);
        let mut timeouts = [None, None, None];
        let mut missing_url_at = None;
        if let Some(f) = file {
            if !f.has_url_key {
                missing_url_at = Some(f.at.clone());
            }
            f_url = f.url.map(|u| Given::file(u, "cloudron.url"));
            f_token_file = f.token_file.map(|t| Given::file(t, "cloudron.token_file"));
            f_ca = f.ca_file.map(|c| Given::file(c, "cloudron.ca_file"));
            f_protect = f.protect;
            timeouts = [f.connect_timeout, f.request_timeout, f.task_timeout];
        }
        let url = self.first(
            "cloudron.url",
            vec![env_url.map(|u| Given::env(u, var::CLOUDRON_URL)), f_url],
        );
        if url.is_none()
            && !env_url_set
            && let Some(at) = missing_url_at
        {
            self.problems.push(format!(
                "{at}: [cloudron] has no url; add url = \"https://my.example.org\" or set {}",
                var::CLOUDRON_URL
            ));
        }
        let mut token_named = env_token.is_some();
        let token = match env_token {
            Some(t) => match check_token_text(&t) {
                Ok(t) => {
                    let origin = Origin::Env {
                        var: var::CLOUDRON_TOKEN.into(),
                    };
                    self.origins.insert("cloudron.token".into(), origin.clone());
                    Some(Secret {
                        value: SecretString::from(t.to_string()),
                        origin,
                    })
                }
                Err(e) => {
                    self.problems.push(format!("{}: {e}", var::CLOUDRON_TOKEN));
                    None
                }
            },
            None => {
                let tf = self.first("cloudron.token_file", vec![env_token_file, f_token_file]);
                token_named = tf.is_some();
                tf.and_then(|tf| self.read_token(tf))
            }
        };
        // A token that was named but could not be read is already a problem.
        if !token_named {
            self.warnings.push(format!(
                "no Cloudron API token: set token_file in [cloudron] or {}",
                var::CLOUDRON_TOKEN
            ));
        }
        let ca = self.first("cloudron.ca_file", vec![env_ca, f_ca]);
        if let Some(ca) = &ca
            && let Err(e) = check_ca_file(&ca.value)
        {
            self.problems.push(format!("{}: {e}", ca.label));
        }
        let [c, r, t] = timeouts;
        let cfg = CloudronConfig {
            url: url?.value,
            token,
            ca_file: ca.map(|c| c.value),
            protect: self.pick("cloudron.protect", f_protect, Vec::new()),
            connect_timeout: self.pick("cloudron.connect_timeout", c, defaults::CONNECT_TIMEOUT),
            request_timeout: self.pick("cloudron.request_timeout", r, defaults::REQUEST_TIMEOUT),
            task_timeout: self.pick("cloudron.task_timeout", t, defaults::TASK_TIMEOUT),
        };
        Some(cfg)
    }

    /// Read the token file named by `tf`: it must exist and hold one non-blank line.
    fn read_token(&mut self, tf: Given<PathBuf>) -> Option<Secret> {
        let path = tf.value.display();
        let text = match std::fs::read_to_string(&tf.value) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                self.problems.push(format!(
                    "{}: token file {path} not found; write the API token in it (chmod 600) \
                     or set {}",
                    tf.label,
                    var::CLOUDRON_TOKEN
                ));
                return None;
            }
            Err(e) => {
                self.problems
                    .push(format!("{}: cannot read token file {path}: {e}", tf.label));
                return None;
            }
        };
        let text = SecretString::from(text);
        let token = match check_token_text(secrecy::ExposeSecret::expose_secret(&text)) {
            Ok(t) => SecretString::from(t.to_string()),
            Err(e) => {
                self.problems
                    .push(format!("{}: token file {path} {e}", tf.label));
                return None;
            }
        };
        if let Some(w) = loose_mode_warning(&tf.value) {
            self.warnings.push(format!("token file {w}"));
        }
        let origin = Origin::ReadFrom {
            path: tf.value.clone(),
            named_by: Box::new(tf.origin),
        };
        self.origins.insert("cloudron.token".into(), origin.clone());
        Some(Secret {
            value: token,
            origin,
        })
    }

    fn compute(&mut self, name: &str, h: FileCompute) -> ComputeHost {
        let key = |k: &str| format!("compute.{name}.{k}");
        let host = self.pick(&key("host"), Some(h.host), "");
        let user = self.pick(&key("user"), h.user, defaults::USER);
        let sudo = self.pick(&key("sudo"), h.sudo, false);
        if user != "root" && !sudo {
            self.warnings.push(format!(
                "compute.{name}: user {user} is not root and sudo is false; account and backup \
                 changes will fail (set sudo = true)"
            ));
        }
        let identity = h.identity.map(|i| Given::file(i, &key("identity")));
        if let Some(i) = &identity {
            if !i.value.is_file() {
                self.problems.push(format!(
                    "{}: SSH identity {} not found; fix the path, or remove the key to use the \
                     ssh-agent",
                    i.label,
                    i.value.display()
                ));
            } else if let Some(w) = loose_mode_warning(&i.value) {
                self.warnings.push(format!("SSH identity {w}"));
            }
        }
        let identity = identity.map(|i| {
            self.origins.insert(key("identity"), i.origin);
            i.value
        });
        ComputeHost {
            name: name.to_string(),
            host,
            port: self.pick(&key("port"), h.port, defaults::PORT),
            user,
            identity,
            known_hosts: h.known_hosts.map(|k| {
                self.origins.insert(key("known_hosts"), k.loc.origin());
                k.value
            }),
            sudo,
            connect_timeout: self.pick(
                &key("connect_timeout"),
                h.connect_timeout,
                defaults::CONNECT_TIMEOUT,
            ),
            command_timeout: self.pick(
                &key("command_timeout"),
                h.command_timeout,
                defaults::COMMAND_TIMEOUT,
            ),
            min_uid: self.pick(&key("min_uid"), h.min_uid, defaults::MIN_UID),
        }
    }

    /// `--state-dir` > `MATELOT_STATE_DIR` > `[state] dir` > the XDG state directory.
    fn state(&mut self, file: Option<Located<PathBuf>>, overrides: &Overrides) -> StateConfig {
        let flag = overrides.state_dir.as_ref().and_then(|p| {
            let label = "--state-dir".to_string();
            let value = match p.to_str() {
                Some(raw) if raw.trim().is_empty() => Err("must not be empty".to_string()),
                Some(raw) => resolve_path(raw, &self.env.cwd, self.env.home.as_deref()),
                None => Ok(self.env.cwd.join(p)),
            };
            match value {
                Ok(value) => Some(Given {
                    value,
                    origin: Origin::Flag {
                        flag: label.clone(),
                    },
                    label,
                }),
                Err(e) => {
                    self.problems.push(format!("{label}: {e}"));
                    None
                }
            }
        });
        let env = self.var_path(var::STATE_DIR);
        let file = file.map(|f| Given::file(f, "state.dir"));
        match self.first("state.dir", vec![flag, env, file]) {
            Some(g) => StateConfig { dir: g.value },
            None => StateConfig::default(),
        }
    }
}

#[cfg(test)]
#[path = "resolve_tests.rs"]
mod tests;

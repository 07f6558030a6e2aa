//! The schema of `matelot.toml`: which tables and keys exist, their types and the values they
//! accept. Turns the text of one file into [`FileSettings`] (each value with its position) and
//! the list of every problem found, in file order.
//!
//! Pure: no I/O and no environment (the file's directory and the home directory are passed
//! in). Whether a named file exists, and the merge with the environment and flags, belong to
//! `resolve.rs`. A problem message never contains a value that could be a secret.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::de::DeTable;

use super::Keep;
use super::values::{check_host, check_host_name, check_user, parse_cloudron_url};
use super::walk::{Doc, Loc, Located, Section};

/// Everything one configuration file says, each value with where it was written.
#[derive(Debug, Default)]
pub struct FileSettings {
    pub cloudron: Option<FileCloudron>,
    pub compute: BTreeMap<String, FileCompute>,
    pub backup_compute: Option<FileBackup>,
    pub health: FileHealth,
    pub guard_preserve: Option<Located<Duration>>,
    pub state_dir: Option<Located<PathBuf>>,
}

/// `[cloudron]`
#[derive(Debug)]
pub struct FileCloudron {
    /// Where the table starts (a missing `url` is reported here).
    pub at: Loc,
    /// Whether the file has a `url` key at all (a bad one is reported where it is).
    pub has_url_key: bool,
    pub url: Option<Located<url::Url>>,
    pub token_file: Option<Located<PathBuf>>,
    pub ca_file: Option<Located<PathBuf>>,
    pub protect: Option<Located<Vec<String>>>,
    pub connect_timeout: Option<Located<Duration>>,
    pub request_timeout: Option<Located<Duration>>,
    pub task_timeout: Option<Located<Duration>>,
}

/// `[compute.NAME]`
#[derive(Debug)]
pub struct FileCompute {
    pub host: Located<String>,
    pub port: Option<Located<u16>>,
    pub user: Option<Located<String>>,
    pub identity: Option<Located<PathBuf>>,
    pub known_hosts: Option<Located<PathBuf>>,
    pub sudo: Option<Located<bool>>,
    pub connect_timeout: Option<Located<Duration>>,
    pub command_timeout: Option<Located<Duration>>,
    pub min_uid: Option<Located<u32>>,
}

/// `[backup.compute]`
#[derive(Debug)]
pub struct FileBackup {
    pub repository: Located<String>,
    pub password_file: Located<String>,
    pub paths: Option<Located<Vec<String>>>,
    pub keep: Option<Located<Keep>>,
}

/// `[health]`
#[derive(Debug, Default)]
pub struct FileHealth {
    pub disk_warn: Option<Located<u8>>,
    pub disk_crit: Option<Located<u8>>,
    pub backup_max_age: Option<Located<Duration>>,
}

const ROOT: &[&str] = &["cloudron", "compute", "backup", "health", "guard", "state"];
const CLOUDRON: &[&str] = &[
    "url",
    "token_file",
    "ca_file",
    "protect",
    "connect_timeout",
    "request_timeout",
    "task_timeout",
];
const COMPUTE: &[&str] = &[
    "host",
    "port",
    "user",
    "identity",
    "known_hosts",
    "sudo",
    "connect_timeout",
    "command_timeout",
    "min_uid",
];
const BACKUP: &[&str] = &["compute"];
const BACKUP_COMPUTE: &[&str] = &["repository", "password_file", "paths", "keep"];
const KEEP: &[&str] = &["daily", "weekly", "monthly", "yearly"];
const HEALTH: &[&str] = &["disk", "backup_max_age"];
const DISK: &[&str] = &["warn", "crit"];
const GUARD: &[&str] = &["preserve"];
const STATE: &[&str] = &["dir"];

/// Default disk thresholds, in percent (also the defaults of `HealthConfig`).
pub const DISK_WARN: u8 = 80;
pub const DISK_CRIT: u8 = 90;

/// Parse and check one file. `Err` holds the single syntax error (nothing can be walked);
/// `Ok` holds the settings and every schema problem found.
pub fn parse(
    text: &str,
    file: &Path,
    base: &Path,
    home: Option<&Path>,
) -> Result<(FileSettings, Vec<String>), Vec<String>> {
    let mut doc = Doc::new(file, text);
    let root = match DeTable::parse(text) {
        Ok(root) => root,
        Err(e) => {
            let at = e.span().unwrap_or(0..0);
            doc.problem(&at, format!("invalid TOML: {}", e.message()));
            return Err(doc.into_problems());
        }
    };
    let root = Section {
        name: String::new(),
        table: root.get_ref(),
        span: root.span(),
    };
    let mut w = Walker {
        doc,
        base,
        home,
        out: FileSettings::default(),
    };
    w.root(&root);
    Ok((w.out, w.doc.into_problems()))
}

struct Walker<'a> {
    doc: Doc<'a>,
    base: &'a Path,
    home: Option<&'a Path>,
    out: FileSettings,
}

impl Walker<'_> {
    fn root(&mut self, root: &Section<'_, '_>) {
        self.doc.unknown_keys(root, ROOT, &[]);
        if let Some(s) = self.doc.section(root, "cloudron") {
            self.cloudron(&s);
        }
        if let Some(s) = self.doc.section(root, "compute") {
            self.computes(&s);
        }
        if let Some(s) = self.doc.section(root, "backup") {
            self.doc.unknown_keys(&s, BACKUP, &[]);
            if let Some(b) = self.doc.section(&s, "compute") {
                self.backup(&b);
            }
        }
        if let Some(s) = self.doc.section(root, "health") {
            self.health(&s);
        }
        if let Some(s) = self.doc.section(root, "guard") {
            self.doc.unknown_keys(&s, GUARD, &[]);
            self.out.guard_preserve = self.doc.duration(&s, "preserve");
        }
        if let Some(s) = self.doc.section(root, "state") {
            self.doc.unknown_keys(&s, STATE, &[]);
            self.out.state_dir = self.doc.path(&s, "dir", self.base, self.home);
        }
    }

    fn cloudron(&mut self, s: &Section<'_, '_>) {
        self.doc.unknown_keys(s, CLOUDRON, &["token"]);
        if let Some((_, v)) = self.doc.entry(s, "token") {
            self.doc.problem(
                &v.span(),
                "cloudron.token: the API token is never written in the configuration; \
                 put it in a file named by token_file (chmod 600) or set MATELOT_CLOUDRON_TOKEN",
            );
        }
        let url = self
            .doc
            .string(s, "url")
            .and_then(|u| match parse_cloudron_url(&u.value) {
                Ok(url) => Some(Located {
                    value: url,
                    loc: u.loc,
                }),
                Err(e) => {
                    let (_, v) = self.doc.entry(s, "url")?;
                    self.doc.problem(&v.span(), format!("cloudron.url: {e}"));
                    None
                }
            });
        self.out.cloudron = Some(FileCloudron {
            at: self.doc.loc(s.span.start),
            has_url_key: self.doc.entry(s, "url").is_some(),
            url,
            token_file: self.doc.path(s, "token_file", self.base, self.home),
            ca_file: self.doc.path(s, "ca_file", self.base, self.home),
            protect: self.doc.strings(s, "protect"),
            connect_timeout: self.doc.duration(s, "connect_timeout"),
            request_timeout: self.doc.duration(s, "request_timeout"),
            task_timeout: self.doc.duration(s, "task_timeout"),
        });
    }

    fn computes(&mut self, s: &Section<'_, '_>) {
        for (name, v) in s.table.iter() {
            let name_str = name.get_ref().as_ref();
            if !v.get_ref().is_table() {
                let found = super::walk::a_type(v.get_ref());
                self.doc.problem(
                    &v.span(),
                    format!(
                        "compute.{name_str}: each compute host is a table [compute.NAME] \
                         with host = \"...\", found {found}"
                    ),
                );
                continue;
            }
            if let Err(e) = check_host_name(name_str) {
                self.doc
                    .problem(&name.span(), format!("compute.{name_str}: {e}"));
            }
            let Some(h) = self.doc.as_section(format!("compute.{name_str}"), v) else {
                continue;
            };
            if let Some(host) = self.compute(&h) {
                self.out.compute.insert(name_str.to_string(), host);
            }
        }
    }

    fn compute(&mut self, s: &Section<'_, '_>) -> Option<FileCompute> {
        let d = &mut self.doc;
        d.unknown_keys(s, COMPUTE, &[]);
        let host = d.string(s, "host");
        if let Some(h) = &host
            && let Err(e) = check_host(&h.value)
        {
            problem_at(d, s, "host", &format!("{}: {e}", s.key("host")));
        }
        let user = d.string(s, "user");
        if let Some(u) = &user
            && let Err(e) = check_user(&u.value)
        {
            problem_at(d, s, "user", &format!("{}: {e}", s.key("user")));
        }
        let port = d.integer(s, "port", 1, 65535).map(|p| Located {
            value: u16::try_from(p.value).unwrap_or(22), // in 1..=65535, checked just above
            loc: p.loc,
        });
        let min_uid = d
            .integer(s, "min_uid", 0, i64::from(u32::MAX))
            .map(|p| Located {
                value: u32::try_from(p.value).unwrap_or(1000), // in range, checked just above
                loc: p.loc,
            });
        let out = FileCompute {
            host: host.clone().unwrap_or(Located {
                value: String::new(),
                loc: d.loc(s.span.start),
            }),
            port,
            user,
            identity: d.path(s, "identity", self.base, self.home),
            known_hosts: d.path(s, "known_hosts", self.base, self.home),
            sudo: d.boolean(s, "sudo"),
            connect_timeout: d.duration(s, "connect_timeout"),
            command_timeout: d.duration(s, "command_timeout"),
            min_uid,
        };
        if host.is_none() && d.entry(s, "host").is_none() {
            d.problem(
                &s.span,
                format!(
                    "{}: missing key `host` (the server's name or address)",
                    s.name
                ),
            );
        }
        host.map(|_| out)
    }

    fn backup(&mut self, s: &Section<'_, '_>) {
        let d = &mut self.doc;
        d.unknown_keys(s, BACKUP_COMPUTE, &[]);
        let repository = d.string(s, "repository");
        let password_file = d.string(s, "password_file");
        if let Some(p) = &password_file
            && !p.value.starts_with('/')
        {
            let msg = "backup.compute.password_file: a path on the compute host must be absolute";
            problem_at(d, s, "password_file", msg);
        }
        let paths = d.strings(s, "paths");
        if let Some(p) = &paths {
            if p.value.is_empty() {
                problem_at(
                    d,
                    s,
                    "paths",
                    "backup.compute.paths: list at least one path",
                );
            }
            for (i, path) in p.value.iter().enumerate() {
                if !path.starts_with('/') {
                    let msg = format!(
                        "backup.compute.paths[{i}]: a path on the compute host must be absolute"
                    );
                    problem_at(d, s, "paths", &msg);
                }
            }
        }
        let keep = d.section(s, "keep").map(|k| {
            d.unknown_keys(&k, KEEP, &[]);
            let mut get = |key: &str| {
                d.integer(&k, key, 0, i64::from(u32::MAX))
                    .and_then(|n| u32::try_from(n.value).ok())
            };
            let keep = Keep {
                daily: get("daily"),
                weekly: get("weekly"),
                monthly: get("monthly"),
                yearly: get("yearly"),
            };
            if keep == Keep::default() {
                d.problem(
                    &k.span,
                    "backup.compute.keep: give at least one of daily, weekly, monthly, yearly \
                     (without a rule, pruning would keep nothing)",
                );
            }
            Located {
                value: keep,
                loc: d.loc(k.span.start),
            }
        });
        for (key, v) in [
            ("repository", &repository),
            ("password_file", &password_file),
        ] {
            if v.is_none() && d.entry(s, key).is_none() {
                d.problem(&s.span, format!("backup.compute: missing key `{key}`"));
            }
        }
        if let (Some(repository), Some(password_file)) = (repository, password_file) {
            self.out.backup_compute = Some(FileBackup {
                repository,
                password_file,
                paths,
                keep,
            });
        }
    }

    fn health(&mut self, s: &Section<'_, '_>) {
        let d = &mut self.doc;
        d.unknown_keys(s, HEALTH, &[]);
        self.out.health.backup_max_age = d.duration(s, "backup_max_age");
        let Some(disk) = d.section(s, "disk") else {
            return;
        };
        d.unknown_keys(&disk, DISK, &[]);
        let mut pct = |key: &str| {
            d.integer(&disk, key, 1, 100).map(|n| Located {
                value: u8::try_from(n.value).unwrap_or(100), // in 1..=100, checked just above
                loc: n.loc,
            })
        };
        let warn = pct("warn");
        let crit = pct("crit");
        let w = warn.as_ref().map_or(DISK_WARN, |w| w.value);
        let c = crit.as_ref().map_or(DISK_CRIT, |c| c.value);
        if (warn.is_some() || crit.is_some()) && w >= c {
            let key = if warn.is_some() { "warn" } else { "crit" };
            let msg = format!("health.disk: warn ({w}) must be below crit ({c})");
            problem_at(d, &disk, key, &msg);
        }
        self.out.health.disk_warn = warn;
        self.out.health.disk_crit = crit;
    }
}

/// A problem at the value of `key` (which the caller knows is present).
fn problem_at(d: &mut Doc<'_>, s: &Section<'_, '_>, key: &str, msg: &str) {
    let span = d.entry(s, key).map_or(s.span.clone(), |(_, v)| v.span());
    d.problem(&span, msg);
}

#[cfg(test)]
#[path = "schema_tests.rs"]
mod tests;

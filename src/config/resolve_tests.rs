//! The merge of file, environment, flags and defaults, run against a captured environment and
//! real files in a temporary directory.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::ExposeSecret;

use super::*;
use crate::config::{Loaded, load_from};

const TOKEN: &str = "tok-from-file-0123456789";

struct Dir(tempfile::TempDir);

impl Dir {
    fn new() -> Self {
        Dir(tempfile::tempdir().unwrap())
    }
    fn path(&self) -> &Path {
        self.0.path()
    }
    fn write(&self, rel: &str, text: &str, mode: u32) -> PathBuf {
        let p = self.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        p
    }
    fn env(&self) -> Environment {
        let mut env = Environment::empty(self.path());
        env.home = Some(self.path().join("home"));
        env.user_config = Some(self.path().join("xdg/matelot/config.toml"));
        env.system_config = self.path().join("etc/matelot/config.toml");
        env
    }
    fn load(&self, env: &Environment, overrides: &Overrides) -> Loaded {
        load_from(env, overrides)
    }
}

fn ok(l: Loaded) -> Config {
    assert_eq!(l.problems, Vec::<String>::new());
    l.config.unwrap()
}

#[test]
fn no_file_at_all_is_the_defaults() {
    let d = Dir::new();
    let cfg = ok(d.load(&d.env(), &Overrides::default()));
    assert_eq!(cfg.file, None);
    assert!(cfg.cloudron.is_none() && cfg.compute.is_empty());
    assert_eq!(cfg.health.disk_warn, 80);
    assert_eq!(cfg.guard.preserve, Duration::from_secs(90 * 86400));
    assert!(cfg.origins.is_empty());
}

#[test]
fn the_token_is_read_trimmed_and_never_shown_by_debug() {
    let d = Dir::new();
    d.write("cloudron.token", &format!("  {TOKEN}\n"), 0o600);
    d.write(
        "matelot.toml",
        "[cloudron]\nurl = \"https://c.example.org\"\ntoken_file = \"cloudron.token\"\n",
        0o644,
    );
    let cfg = ok(d.load(&d.env(), &Overrides::default()));
    let c = cfg.cloudron.as_ref().unwrap();
    let token = c.token.as_ref().unwrap();
    assert_eq!(token.value.expose_secret(), TOKEN);
    assert_eq!(
        token.origin.to_string(),
        format!(
            "{} (named by matelot.toml:3)",
            d.path().join("cloudron.token").display()
        )
    );
    let debug = format!("{cfg:?} {:?}", d.env().with_var(var::CLOUDRON_TOKEN, TOKEN));
    assert!(!debug.contains(TOKEN), "{debug}");
    assert!(cfg.warnings.is_empty(), "{:?}", cfg.warnings);
}

#[test]
fn the_environment_overrides_the_file_and_the_flag_overrides_both() {
    let d = Dir::new();
    d.write("cloudron.token", TOKEN, 0o600);
    d.write("env.token", "tok-env-file", 0o600);
    d.write(
        "matelot.toml",
        "[cloudron]\nurl = \"https://file.example.org\"\ntoken_file = \"cloudron.token\"\n\
         [state]\ndir = \"file-state\"\n",
        0o644,
    );
    let env = d
        .env()
        .with_var(var::CLOUDRON_URL, "https://env.example.org")
        .with_var(var::CLOUDRON_TOKEN_FILE, "env.token")
        .with_var(var::STATE_DIR, "env-state");
    let cfg = ok(d.load(&env, &Overrides::default()));
    let c = cfg.cloudron.as_ref().unwrap();
    assert_eq!(c.url.as_str(), "https://env.example.org/");
    assert_eq!(
        c.token.as_ref().unwrap().value.expose_secret(),
        "tok-env-file"
    );
    assert_eq!(cfg.state.dir, d.path().join("env-state"));
    assert_eq!(
        cfg.origins["cloudron.url"],
        Origin::Env {
            var: var::CLOUDRON_URL.into()
        }
    );
    let env = env.with_var(var::CLOUDRON_TOKEN, " tok-env ");
    let flags = Overrides {
        state_dir: Some("flag-state".into()),
        ..Overrides::default()
    };
    let cfg = ok(d.load(&env, &flags));
    let token = cfg.cloudron.as_ref().unwrap().token.as_ref().unwrap();
    assert_eq!(token.value.expose_secret(), "tok-env");
    assert_eq!(token.origin.to_string(), "env MATELOT_CLOUDRON_TOKEN");
    assert_eq!(cfg.state.dir, d.path().join("flag-state"));
    assert_eq!(cfg.origins["state.dir"].to_string(), "flag --state-dir");
}

#[test]
fn an_environment_url_alone_configures_the_cloudron() {
    let d = Dir::new();
    let env = d.env().with_var(var::CLOUDRON_URL, "http://127.0.0.1:4443");
    let cfg = ok(d.load(&env, &Overrides::default()));
    let c = cfg.cloudron.unwrap();
    assert_eq!(c.url.as_str(), "http://127.0.0.1:4443/");
    assert_eq!(c.task_timeout, defaults::TASK_TIMEOUT);
    assert_eq!(
        cfg.warnings,
        ["no Cloudron API token: set token_file in [cloudron] or MATELOT_CLOUDRON_TOKEN"]
    );
}

#[test]
fn token_file_problems_and_warnings() {
    let d = Dir::new();
    d.write(
        "matelot.toml",
        "[cloudron]\nurl = \"https://c.example.org\"\ntoken_file = \"t\"\n",
        0o644,
    );
    let l = d.load(&d.env(), &Overrides::default());
    assert_eq!(
        l.problems,
        [format!(
            "matelot.toml:3:14: cloudron.token_file: token file {} not found; write the API \
             token in it (chmod 600) or set MATELOT_CLOUDRON_TOKEN",
            d.path().join("t").display()
        )]
    );
    d.write("t", "\n \n", 0o600);
    let l = d.load(&d.env(), &Overrides::default());
    assert!(
        l.problems[0].ends_with("t is empty; write the API token in it"),
        "{l:?}"
    );
    d.write("t", "two\nlines", 0o600);
    let l = d.load(&d.env(), &Overrides::default());
    assert!(l.problems[0].ends_with("must hold the token alone, on one line"));
    d.write("t", TOKEN, 0o640);
    let cfg = ok(d.load(&d.env(), &Overrides::default()));
    let t = d.path().join("t");
    let t = t.display();
    assert_eq!(
        cfg.warnings,
        [format!(
            "token file {t} is readable by group or others (mode 0640); run: chmod 600 {t}"
        )]
    );
}

#[test]
fn an_environment_token_makes_the_token_file_unused() {
    let d = Dir::new();
    d.write(
        "matelot.toml",
        "[cloudron]\nurl = \"https://c.example.org\"\ntoken_file = \"missing\"\n",
        0o644,
    );
    let env = d.env().with_var(var::CLOUDRON_TOKEN, TOKEN);
    let cfg = ok(d.load(&env, &Overrides::default()));
    assert!(cfg.cloudron.unwrap().token.is_some());
}

#[test]
fn missing_url_ca_and_identity_are_problems() {
    let d = Dir::new();
    d.write("bad-ca.pem", "not a certificate", 0o644);
    d.write(
        "matelot.toml",
        "[cloudron]\nca_file = \"bad-ca.pem\"\n\n[compute.calcul]\nhost = \"c\"\nidentity = \"~/id\"\n",
        0o644,
    );
    let l = d.load(&d.env(), &Overrides::default());
    let p = d.path().display().to_string();
    let problems: Vec<String> = l.problems.iter().map(|s| s.replace(&p, "TMP")).collect();
    assert_eq!(
        problems,
        [
            "matelot.toml:1:1: [cloudron] has no url; add url = \"https://my.example.org\" or \
             set MATELOT_CLOUDRON_URL",
            "matelot.toml:2:11: cloudron.ca_file: CA file TMP/bad-ca.pem holds no PEM \
             certificate (-----BEGIN CERTIFICATE-----)",
            "matelot.toml:6:12: compute.calcul.identity: SSH identity TMP/home/id not found; \
             fix the path, or remove the key to use the ssh-agent",
        ]
    );
    assert!(l.config.is_none());
}

#[test]
fn bad_environment_values_are_problems() {
    let d = Dir::new();
    let env = d
        .env()
        .with_var(var::CLOUDRON_URL, "http://c.example.org")
        .with_var(var::STATE_DIR, "~other/x");
    let l = d.load(&env, &Overrides::default());
    assert_eq!(
        l.problems,
        [
            "MATELOT_CLOUDRON_URL: http:// is only allowed for a loopback host (127.0.0.1, ::1, \
             localhost); use https://",
            "MATELOT_STATE_DIR: only ~ and ~/ are expanded (the current user's home), not \
             \"~other/x\"; write the path in full",
        ]
    );
}

#[test]
fn compute_defaults_and_the_sudo_warning() {
    let d = Dir::new();
    d.write(
        "matelot.toml",
        "[compute.a]\nhost = \"a.example.org\"\n[compute.b]\nhost = \"b\"\nuser = \"admin\"\n",
        0o644,
    );
    let cfg = ok(d.load(&d.env(), &Overrides::default()));
    let a = &cfg.compute["a"];
    assert_eq!(
        (a.port, a.user.as_str(), a.sudo, a.min_uid),
        (22, "root", false, 1000)
    );
    assert_eq!(a.command_timeout, defaults::COMMAND_TIMEOUT);
    assert_eq!(a.name, "a");
    assert_eq!(
        cfg.warnings,
        [
            "compute.b: user admin is not root and sudo is false; account and backup changes will \
          fail (set sudo = true)"
        ]
    );
}

#[test]
fn a_pem_ca_file_is_accepted() {
    let d = Dir::new();
    let ca = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    d.write("lab/cloudron-ca.pem", &ca.cert.pem(), 0o644);
    d.write(
        "lab/matelot.toml",
        "[cloudron]\nurl = \"https://127.0.0.1:4443\"\nca_file = \"cloudron-ca.pem\"\n",
        0o644,
    );
    let env = d.env().with_var(var::CONFIG, "lab/matelot.toml");
    let cfg = ok(d.load(&env, &Overrides::default()));
    assert_eq!(cfg.file.as_deref(), Some(Path::new("lab/matelot.toml")));
    let ca_file = cfg.cloudron.unwrap().ca_file.unwrap();
    assert_eq!(ca_file, d.path().join("lab/cloudron-ca.pem"));
}

//! A restic repository as seen from the compute host, and how its string is shown to people:
//! repository strings can carry credentials (`rest:https://u:p@...`), so everything meant for
//! a human goes through [`redact_repository`]. Pure data and text; no I/O.

use std::fmt;

use crate::config::ComputeBackup;

/// Where restic keeps its cache on the host. Set deliberately: under `sudo` the inherited
/// `HOME` may be the admin's, and a root-owned cache there would break their own restic.
pub const DEFAULT_CACHE_DIR: &str = "/root/.cache/restic";

/// A restic repository as seen from the compute host.
#[derive(Clone, PartialEq, Eq)]
pub struct Repo {
    /// Any restic repository string (`/srv/restic`, `sftp:...`, `s3:...`, `rest:...`).
    pub repository: String,
    /// The password file, on the host.
    pub password_file: String,
    /// restic's cache directory, on the host.
    pub cache_dir: String,
}

impl Repo {
    /// The repository of `[backup.compute]`, with the default cache directory.
    pub fn from_config(b: &ComputeBackup) -> Repo {
        Repo {
            repository: b.repository.clone(),
            password_file: b.password_file.clone(),
            cache_dir: DEFAULT_CACHE_DIR.to_string(),
        }
    }

    /// The repository string with any password of a URL replaced by `***`.
    pub fn display(&self) -> String {
        redact_repository(&self.repository)
    }

    /// `restic -r REPO --password-file FILE init`, as an operator would type it on the host.
    pub fn init_hint(&self) -> String {
        shlex::try_join([
            "restic",
            "-r",
            self.display().as_str(),
            "--password-file",
            self.password_file.as_str(),
            "init",
        ])
        .unwrap_or_else(|_| "restic init".to_string())
    }
}

impl fmt::Debug for Repo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Repo")
            .field("repository", &self.display())
            .field("password_file", &self.password_file)
            .field("cache_dir", &self.cache_dir)
            .finish()
    }
}

/// Hide the password of a URL-like repository string: `rest:https://u:secret@h/` becomes
/// `rest:https://u:***@h/`. Strings without `user:password@` are returned as they are.
pub fn redact_repository(repo: &str) -> String {
    let Some(scheme_end) = repo.find("://") else {
        return repo.to_string();
    };
    let auth_start = scheme_end + 3;
    let rest = &repo[auth_start..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return repo.to_string();
    };
    let userinfo = &rest[..at];
    match userinfo.find(':') {
        Some(colon) => format!(
            "{}{}:***{}",
            &repo[..auth_start],
            &userinfo[..colon],
            &rest[at..]
        ),
        None => repo.to_string(),
    }
}

/// Replace every occurrence of the raw repository string in `text` by its redacted form.
pub fn redact_in(text: &str, repo: &Repo) -> String {
    let shown = repo.display();
    if shown == repo.repository || repo.repository.is_empty() {
        text.to_string()
    } else {
        text.replace(&repo.repository, &shown)
    }
}

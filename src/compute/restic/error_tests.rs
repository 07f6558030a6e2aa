//! Failures told apart from restic 0.14's real exit statuses and messages.

use super::*;
use crate::compute::command::CommandOutput;

fn repo() -> Repo {
    Repo {
        repository: "rest:https://backup:s3cret@b.example.org/calcul".into(),
        password_file: "/root/.config/restic/password".into(),
        cache_dir: "/root/.cache/restic".into(),
    }
}

fn out(status: u32, stderr: &str) -> CommandOutput {
    CommandOutput {
        stdout: Vec::new(),
        stderr: stderr.as_bytes().to_vec(),
        status: Some(status),
        signal: None,
    }
}

fn kind(e: &ResticError) -> &'static str {
    match e {
        ResticError::RepoMissing { .. } => "missing",
        ResticError::WrongPassword { .. } => "password",
        ResticError::PasswordFile { .. } => "password_file",
        ResticError::Locked { .. } => "locked",
        ResticError::Incomplete { .. } => "incomplete",
        ResticError::NotInstalled { .. } => "not_installed",
        ResticError::Other { .. } => "other",
        _ => "?",
    }
}

#[test]
fn exit_statuses_and_messages_are_classified() {
    let rows: Vec<(u32, &str, &str)> = vec![
        (
            1,
            "Fatal: unable to open config file: stat /srv/r/config: no such file or directory\nIs there a repository at the following location?\n/srv/r\n",
            "missing",
        ),
        (1, "Fatal: wrong password or no key found\n", "password"),
        (
            1,
            "Resolving password failed: Fatal: /root/.config/restic/password does not exist\n",
            "password_file",
        ),
        (
            1,
            "unable to create lock in backend: repository is already locked by PID 4347 on calcul by root (UID 0, GID 0)\nlock was created at 2026-11-29 21:48:44 (1.509358609s ago)\nstorage ID 9a69e8f7\nthe `unlock` command can be used to remove stale locks\n",
            "locked",
        ),
        (
            3,
            "{\"message_type\":\"error\",\"error\":{\"Op\":\"read\",\"Path\":\"/proc/self/mem\",\"Err\":5},\"during\":\"archival\",\"item\":\"/proc/self/mem\"}\nWarning: at least one source file could not be read\n",
            "incomplete",
        ),
        (
            127,
            "env: ‘restic’: No such file or directory\n",
            "not_installed",
        ),
        (
            1,
            "Fatal: create repository at /usr/x failed: mkdir /usr/x: read-only file system\n",
            "other",
        ),
        (1, "", "other"),
    ];
    for (status, stderr, want) in rows {
        let e = classify(
            "calcul",
            "backup",
            &repo(),
            &out(status, stderr),
            None,
            vec![],
        );
        assert_eq!(kind(&e), want, "{stderr}");
    }
}

#[test]
fn messages_say_what_to_do_and_hide_the_password() {
    let r = repo();
    let missing = classify(
        "calcul",
        "snapshots",
        &r,
        &out(
            1,
            "Fatal: unable to open config file: Stat: 404\nIs there a repository at the following location?\nrest:https://backup:s3cret@b.example.org/calcul\n",
        ),
        None,
        vec![],
    );
    assert_eq!(
        missing.to_string(),
        "restic repository rest:https://backup:***@b.example.org/calcul does not exist on compute host calcul (or cannot be reached); create it once, on the host: restic -r 'rest:https://backup:***@b.example.org/calcul' --password-file /root/.config/restic/password init"
    );
    let locked = classify(
        "calcul",
        "backup",
        &r,
        &out(
            1,
            "unable to create lock in backend: repository is already locked by PID 4347 on calcul by root (UID 0, GID 0)\nlock was created at 2026-11-29 21:48:44 (1.5s ago)\n",
        ),
        None,
        vec![],
    );
    assert_eq!(
        locked.to_string(),
        "restic repository rest:https://backup:***@b.example.org/calcul on calcul is locked by another process: unable to create lock in backend: repository is already locked by PID 4347 on calcul by root (UID 0, GID 0); try again when it has finished (if that process is gone, run `restic unlock` on the host)"
    );
    assert!(locked.is_transient());
    let wrong = classify(
        "calcul",
        "backup",
        &r,
        &out(1, "Fatal: wrong password or no key found\n"),
        None,
        vec![],
    );
    assert_eq!(
        wrong.to_string(),
        "restic on calcul: wrong password for repository rest:https://backup:***@b.example.org/calcul (password file /root/.config/restic/password); check that file on the host holds the repository's password"
    );
    assert!(!wrong.is_transient());
    let other = classify(
        "calcul",
        "init",
        &r,
        &out(
            1,
            "Fatal: create repository at rest:https://backup:s3cret@b.example.org/calcul failed: 403\n",
        ),
        None,
        vec![],
    );
    assert_eq!(
        other.to_string(),
        "restic init on calcul failed (exit status 1): Fatal: create repository at rest:https://backup:***@b.example.org/calcul failed: 403"
    );
    for e in [&missing, &locked, &wrong, &other] {
        assert!(!e.to_string().contains("s3cret"), "{e}");
    }
}

#[test]
fn an_incomplete_snapshot_names_its_id_and_files() {
    let items: Vec<ItemError> = (0..5)
        .map(|i| ItemError {
            item: format!("/home/a/f{i}"),
            during: "archival".into(),
            detail: "open: permission denied".into(),
        })
        .collect();
    let e = classify(
        "calcul",
        "backup",
        &repo(),
        &out(3, "Warning: at least one source file could not be read\n"),
        Some("96b84823".into()),
        items,
    );
    assert_eq!(
        e.to_string(),
        "restic on calcul made an incomplete snapshot 96b84823: 5 files could not be read (/home/a/f0: open: permission denied; /home/a/f1: open: permission denied; /home/a/f2: open: permission denied and 2 more); fix their permissions or exclude them, then back up again"
    );
    assert!(!e.is_transient());
}

#[test]
fn errors_map_to_exit_codes() {
    let usage: crate::error::Error = ResticError::InvalidInput { what: "x".into() }.into();
    assert_eq!(usage.exit_code(), 2);
    let failed: crate::error::Error = ResticError::NotInstalled { host: "h".into() }.into();
    assert_eq!(failed.exit_code(), 1);
}

//! restic on a compute host, for real: a sandboxed sshd, the machine's restic 0.14, real
//! `useradd`/`userdel`. Backups are listed, verified and restored byte for byte; every failure
//! restic can report (missing repository, wrong password, lock, incomplete snapshot, a broken
//! restic) comes back as its typed error; a removed account comes back with its ids, groups,
//! password hash, keys and home.

use std::time::{Duration, Instant};

use matelot::compute::command::CommandOutput;
use matelot::compute::restic::{
    DEFAULT_CACHE_DIR, Expect, InitOutcome, Repo, Restic, ResticError, SnapshotFilter,
};
use matelot::compute::{ConnectOptions, RemoteCommand, Session};
use matelot::lab::sandbox::SandboxHost;

use crate::common_sandbox::{private_with, shared, unique_user};

mod account;
mod commands;

const PASSWORD: &str = "correct horse battery staple";

async fn connect(h: &SandboxHost) -> Session {
    let opts = ConnectOptions {
        user_known_hosts: None,
        ..ConnectOptions::default()
    };
    Session::connect(&h.compute_host(), &h.known_hosts, &opts)
        .await
        .expect("connect to sandbox")
}

/// `sh -c SCRIPT sh ARGS...` on the host; panics if it fails.
async fn sh(s: &Session, script: &str, args: &[&str]) -> String {
    let out = try_sh(s, script, args, None).await;
    assert!(
        out.success(),
        "{script} {args:?}: {}\n{}",
        out.describe_end(),
        out.stderr_text()
    );
    out.stdout_text()
}

async fn try_sh(s: &Session, script: &str, args: &[&str], stdin: Option<&str>) -> CommandOutput {
    let mut argv = vec!["sh", "-c", script, "sh"];
    argv.extend_from_slice(args);
    let cmd = RemoteCommand::argv(argv).expect("quotable");
    s.run(&cmd, stdin.map(str::as_bytes), None)
        .await
        .expect("run")
}

/// A directory of the test's own under /srv (a tmpfs in the sandbox), with a password file.
async fn workdir(s: &Session, prefix: &str) -> (String, Repo) {
    let dir = format!("/srv/{}", unique_user(prefix));
    sh(
        s,
        r#"mkdir -p "$1" && umask 077 && printf '%s\n' "$2" > "$1/pw""#,
        &[&dir, PASSWORD],
    )
    .await;
    let repo = Repo {
        repository: format!("{dir}/repo"),
        password_file: format!("{dir}/pw"),
        cache_dir: DEFAULT_CACHE_DIR.to_string(),
    };
    (dir, repo)
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

const SUMS: &str = r#"cd "$1" && find . -printf '%p %U %G %m %s\n' | sort && find . -type f -exec sha256sum {} + | sort"#;

#[tokio::test]
async fn init_backup_list_verify_restore_bring_back_the_content() {
    let h = shared();
    let s = connect(h).await;
    let (dir, repo) = workdir(&s, "rst").await;
    // A path a shell would love to misread.
    let data = format!("{dir}/it's $(touch pwned) data");
    sh(
        &s,
        r#"mkdir -p "$1/sub dir" && echo "first version" > "$1/sub dir/f.txt" && head -c 100000 /dev/urandom > "$1/blob""#,
        &[&data],
    )
    .await;
    let before = sh(&s, SUMS, &[&data]).await;
    let restic = Restic::new(&s, repo.clone());

    assert_eq!(
        restic.init_if_missing().await.expect("init"),
        InitOutcome::Created
    );
    assert_eq!(
        restic.init_if_missing().await.expect("again"),
        InitOutcome::Existing
    );
    restic.require().await.expect("exists now");

    let t0 = Instant::now();
    let done = restic
        .backup(
            std::slice::from_ref(&data),
            &strs(&["matelot", "nightly"]),
            "shared",
        )
        .await
        .expect("backup");
    eprintln!("backup + verify of 100 kB: {:?}", t0.elapsed());
    assert_eq!(done.id().as_str().len(), 64);
    assert!(done.id().as_str().starts_with(&done.summary.snapshot_id));
    assert_eq!(done.summary.total_files_processed, 2);
    assert!(done.summary.total_bytes_processed > 100_000);
    assert_eq!(done.snapshot.paths, vec![data.clone()]);
    assert_eq!(done.snapshot.hostname, "shared");
    assert!(
        sh(&s, "ls /srv /root", &[])
            .await
            .lines()
            .all(|l| l != "pwned"),
        "a path reached the shell unquoted"
    );

    let listed = restic
        .snapshots(&SnapshotFilter {
            host: Some("shared".into()),
            tags: strs(&["matelot", "nightly"]),
            ..Default::default()
        })
        .await
        .expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(&listed[0].id, done.id());
    let none = restic
        .snapshots(&SnapshotFilter {
            tags: strs(&["user-nobody"]),
            ..Default::default()
        })
        .await
        .expect("list");
    assert!(none.is_empty());

    let expect = Expect {
        paths: vec![format!("{data}/")],
        tags: strs(&["nightly"]),
        read_data_subset: Some("1/1".into()),
    };
    let v = restic
        .verify_snapshot(done.id().short(), &expect)
        .await
        .expect("verify");
    assert_eq!(&v.id, done.id());
    let wrong = Expect {
        paths: vec!["/home".into()],
        ..Default::default()
    };
    let e = restic
        .verify_snapshot(done.id().as_str(), &wrong)
        .await
        .expect_err("paths differ");
    assert!(e.to_string().contains("not [/home]"), "{e}");
    let e = restic
        .verify_snapshot("deadbeef", &Expect::default())
        .await
        .expect_err("unknown id");
    assert!(e.to_string().contains("not listed"), "{e}");

    // Lose the data, restore it in place, compare every byte, owner and mode.
    sh(&s, r#"rm -rf "$1""#, &[&data]).await;
    restic
        .restore(done.id().as_str(), &data, "/")
        .await
        .expect("restore in place");
    assert_eq!(sh(&s, SUMS, &[&data]).await, before);
    // Elsewhere too, and an include that matches nothing is an error, not a silent no-op.
    let target = format!("{dir}/restored");
    restic
        .restore(done.id().as_str(), &data, &target)
        .await
        .expect("restore elsewhere");
    assert_eq!(sh(&s, SUMS, &[&format!("{target}{data}")]).await, before);
    let e = restic
        .restore(done.id().as_str(), "/nowhere", &target)
        .await
        .expect_err("nothing restored");
    assert!(matches!(e, ResticError::Unverified { .. }), "{e}");
}

#[tokio::test]
async fn retention_forgets_nightly_snapshots_and_keeps_restore_points() {
    let h = shared();
    let s = connect(h).await;
    let (dir, repo) = workdir(&s, "fgt").await;
    let data = format!("{dir}/data");
    sh(&s, r#"mkdir -p "$1" && echo a > "$1/a""#, &[&data]).await;
    let restic = Restic::new(&s, repo);
    restic.init_if_missing().await.expect("init");
    for i in 0..3 {
        sh(&s, r#"echo "$2" >> "$1/a""#, &[&data, &i.to_string()]).await;
        restic
            .backup(
                std::slice::from_ref(&data),
                &strs(&["matelot", "nightly"]),
                "shared",
            )
            .await
            .expect("nightly");
    }
    let point = restic
        .backup(
            std::slice::from_ref(&data),
            &strs(&["matelot", "op-7", "user-x"]),
            "shared",
        )
        .await
        .expect("restore point");
    let keep = matelot::config::Keep {
        daily: Some(1),
        ..Default::default()
    };
    let nightly = SnapshotFilter {
        host: Some("shared".into()),
        tags: strs(&["matelot", "nightly"]),
        ..Default::default()
    };
    let dry = restic
        .forget_prune(&keep, &nightly, true)
        .await
        .expect("dry run");
    assert_eq!((dry.kept.len(), dry.removed.len()), (1, 2));
    assert_eq!(restic.snapshots(&nightly).await.expect("list").len(), 3);
    let done = restic
        .forget_prune(&keep, &nightly, false)
        .await
        .expect("forget");
    assert_eq!((done.kept.len(), done.removed.len()), (1, 2));
    let all = restic
        .snapshots(&SnapshotFilter::default())
        .await
        .expect("list");
    assert_eq!(all.len(), 2, "one nightly and the restore point remain");
    assert!(all.iter().any(|x| x.id == point.snapshot.id));
}

#[tokio::test]
async fn a_wrong_password_is_wrong_password_and_never_shown() {
    let h = shared();
    let s = connect(h).await;
    let (dir, repo) = workdir(&s, "pw").await;
    Restic::new(&s, repo.clone())
        .init_if_missing()
        .await
        .expect("init");
    sh(&s, r#"printf 'hunter2\n' > "$1/bad""#, &[&dir]).await;
    let bad = Repo {
        password_file: format!("{dir}/bad"),
        ..repo.clone()
    };
    let e = Restic::new(&s, bad)
        .snapshots(&SnapshotFilter::default())
        .await
        .expect_err("wrong password");
    assert!(matches!(e, ResticError::WrongPassword { .. }), "{e}");
    let msg = e.to_string();
    assert!(msg.contains(&format!("{dir}/bad")), "{msg}");
    assert!(!msg.contains("hunter2") && !msg.contains(PASSWORD), "{msg}");
    assert!(!e.is_transient());

    let absent = Repo {
        password_file: format!("{dir}/absent"),
        ..repo
    };
    let e = Restic::new(&s, absent)
        .require()
        .await
        .expect_err("no file");
    assert!(matches!(e, ResticError::PasswordFile { .. }), "{e}");
}

#[tokio::test]
async fn a_missing_repository_says_how_to_create_it() {
    let h = shared();
    let s = connect(h).await;
    let (dir, repo) = workdir(&s, "miss").await;
    let restic = Restic::new(&s, repo);
    assert!(!restic.exists().await.expect("probe"));
    let e = restic.require().await.expect_err("missing");
    assert!(matches!(e, ResticError::RepoMissing { .. }), "{e}");
    assert_eq!(
        e.to_string(),
        format!(
            "restic repository {dir}/repo does not exist on compute host shared (or cannot be reached); create it once, on the host: restic -r {dir}/repo --password-file {dir}/pw init"
        )
    );
    // A backup into it is refused the same way, and creates nothing.
    let e = restic
        .backup(std::slice::from_ref(&dir), &strs(&["matelot"]), "shared")
        .await
        .expect_err("missing");
    assert!(matches!(e, ResticError::RepoMissing { .. }), "{e}");
    let ls = sh(&s, r#"ls "$1""#, &[&dir]).await;
    assert_eq!(ls.trim(), "pw");
}

#[tokio::test]
async fn an_unreadable_file_makes_an_incomplete_snapshot() {
    let h = shared();
    let s = connect(h).await;
    let (dir, repo) = workdir(&s, "inc").await;
    sh(&s, r#"echo ok > "$1/ok""#, &[&dir]).await;
    let restic = Restic::new(&s, repo);
    restic.init_if_missing().await.expect("init");
    // /proc/self/mem cannot be read from start to end: restic writes the snapshot, exits 3.
    let e = restic
        .backup(
            &[format!("{dir}/ok"), "/proc/self/mem".into()],
            &strs(&["matelot"]),
            "shared",
        )
        .await
        .expect_err("incomplete");
    let ResticError::Incomplete {
        snapshot_id,
        errors,
        ..
    } = &e
    else {
        panic!("expected Incomplete, got {e}");
    };
    assert_eq!(snapshot_id.as_deref().map(str::len), Some(8));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].item, "/proc/self/mem");
    assert!(
        e.to_string().contains("/proc/self/mem: read: errno 5"),
        "{e}"
    );
}

#[tokio::test]
async fn a_path_that_does_not_exist_fails_verification() {
    let h = shared();
    let s = connect(h).await;
    let (dir, repo) = workdir(&s, "skip").await;
    let restic = Restic::new(&s, repo);
    restic.init_if_missing().await.expect("init");
    // restic skips the missing path, exits 0, and writes a snapshot without it.
    let e = restic
        .backup(
            &[format!("{dir}/pw"), format!("{dir}/not here")],
            &strs(&["matelot"]),
            "shared",
        )
        .await
        .expect_err("unverified");
    assert!(matches!(e, ResticError::Unverified { .. }), "{e}");
    assert!(
        e.to_string()
            .contains(&format!("skipped paths that do not exist: {dir}/not here")),
        "{e}"
    );
}

#[tokio::test]
async fn a_held_lock_is_locked_and_transient() {
    let h = shared();
    let s = connect(h).await;
    let (dir, repo) = workdir(&s, "lck").await;
    let restic = Restic::new(&s, repo.clone());
    restic.init_if_missing().await.expect("init");
    // A backup from a slow stdin holds a lock for a few seconds.
    let holder_line = format!(
        "{{ sleep 4; echo slow; }} | {}",
        matelot::compute::restic::command::restic(
            &repo,
            &["backup", "--stdin", "--stdin-filename", "slow"]
        )
        .expect("builds")
    );
    let holder = s.run(
        RemoteCommand::script(holder_line),
        None,
        Some(Duration::from_secs(30)),
    );
    let probe = async {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let out = try_sh(&s, r#"ls "$1/repo/locks" | grep -q ."#, &[&dir], None).await;
            if out.success() || Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let keep = matelot::config::Keep {
            daily: Some(1),
            ..Default::default()
        };
        restic
            .forget_prune(&keep, &SnapshotFilter::default(), false)
            .await
    };
    let (held, contended) = tokio::join!(holder, probe);
    let held = held.expect("holder ran");
    assert!(held.success(), "{}", held.stderr_text());
    let e = contended.expect_err("locked");
    assert!(matches!(e, ResticError::Locked { .. }), "{e}");
    assert!(e.is_transient());
    assert!(e.to_string().contains("already locked"), "{e}");
}

#[tokio::test]
async fn a_broken_restic_and_an_unwritable_repository_are_typed_errors() {
    let bin = tempfile::tempdir().expect("tempdir");
    let fake = bin.path().join("restic");
    std::fs::write(
        &fake,
        "#!/bin/sh\necho 'Fatal: the fake restic of this test refuses' >&2\nexit 1\n",
    )
    .expect("write");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let p = private_with("resticfake", "127.0.0.5", 0, |o| {
        o.bin_dir = Some(bin.path().to_path_buf())
    });
    let s = connect(&p.host).await;
    let (_, repo) = workdir(&s, "fake").await;
    let e = Restic::new(&s, repo)
        .init_if_missing()
        .await
        .expect_err("fake fails");
    let ResticError::Other { stderr, end, .. } = &e else {
        panic!("expected Other, got {e}");
    };
    assert_eq!(end, "exit status 1");
    assert!(
        stderr.contains("the fake restic of this test refuses"),
        "{e}"
    );

    // The real restic on the shared host, asked to create a repository on a read-only path.
    let s = connect(shared()).await;
    let (dir, _) = workdir(&s, "ro").await;
    let ro = Repo {
        repository: format!("/usr/matelot-it-{}", unique_user("ro")),
        password_file: format!("{dir}/pw"),
        cache_dir: DEFAULT_CACHE_DIR.into(),
    };
    let e = Restic::new(&s, ro)
        .init_if_missing()
        .await
        .expect_err("read-only");
    assert!(matches!(e, ResticError::Other { .. }), "{e}");
    assert!(e.to_string().contains("read-only file system"), "{e}");
}

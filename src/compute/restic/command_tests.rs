//! Exact strings of every restic command line matelot sends.

use super::*;

fn repo() -> Repo {
    Repo {
        repository: "/srv/restic".into(),
        password_file: "/root/.config/restic/password".into(),
        cache_dir: DEFAULT_CACHE_DIR.into(),
    }
}

const ENV: &str = "env 'RESTIC_REPOSITORY=/srv/restic' 'RESTIC_PASSWORD_FILE=/root/.config/restic/password' 'RESTIC_CACHE_DIR=/root/.cache/restic' restic";

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

#[test]
fn simple_commands_are_exact() {
    let r = repo();
    let cases = vec![
        (probe(&r), format!("{ENV} cat config")),
        (init(&r), format!("{ENV} init")),
        (check(&r, None), format!("{ENV} check")),
        (
            check(&r, Some("1/20")),
            format!("{ENV} check --read-data-subset 1/20"),
        ),
    ];
    for (got, want) in cases {
        assert_eq!(got.expect("builds").as_str(), want);
    }
}

#[test]
fn hostile_repository_and_password_paths_stay_single_words() {
    let r = Repo {
        repository: "/srv/it's $(reboot) repo".into(),
        password_file: "/etc/pass word;rm -rf /".into(),
        cache_dir: "/var/cache/matelot restic".into(),
    };
    assert_eq!(
        probe(&r).expect("builds").as_str(),
        "env \"RESTIC_REPOSITORY=/srv/it's \"'$(reboot) repo' 'RESTIC_PASSWORD_FILE=/etc/pass word;rm -rf /' 'RESTIC_CACHE_DIR=/var/cache/matelot restic' restic cat config"
    );
}

#[test]
fn backup_lines_are_exact() {
    let r = repo();
    let got = backup(&r, &s(&["/home"]), &s(&["matelot", "nightly"]), "calcul").expect("builds");
    assert_eq!(
        got.as_str(),
        format!("{ENV} backup --json --host calcul --tag matelot --tag nightly -- /home")
    );
    let got = backup(
        &r,
        &s(&["/home/zoé", "/srv/a b/it's"]),
        &s(&["matelot", "op-12", "user-zoe"]),
        "calcul",
    )
    .expect("builds");
    assert_eq!(
        got.as_str(),
        format!(
            "{ENV} backup --json --host calcul --tag matelot --tag op-12 --tag user-zoe -- '/home/zoé' \"/srv/a b/it's\""
        )
    );
}

#[test]
fn backup_refuses_bad_input() {
    let r = repo();
    let bad: Vec<(Vec<String>, Vec<String>, &str)> = vec![
        (vec![], s(&["matelot"]), "no paths to back up"),
        (s(&["home"]), s(&["matelot"]), "must be absolute"),
        (s(&["/home"]), s(&["a,b"]), "without commas"),
        (s(&["/home"]), s(&[""]), "non-empty"),
        (s(&["/home"]), s(&["a b"]), "without commas or spaces"),
    ];
    for (paths, tags, msg) in bad {
        let e = backup(&r, &paths, &tags, "h").expect_err("refused");
        assert!(e.to_string().contains(msg), "{e}");
    }
    let e = backup(&r, &s(&["/a\0b"]), &[], "h").expect_err("NUL");
    assert!(e.to_string().contains("NUL"), "{e}");
}

#[test]
fn snapshots_lines_are_exact() {
    let r = repo();
    assert_eq!(
        snapshots(&r, &SnapshotFilter::default())
            .expect("builds")
            .as_str(),
        format!("{ENV} snapshots --json")
    );
    let f = SnapshotFilter {
        host: Some("calcul".into()),
        tags: s(&["matelot", "user-zoe"]),
        paths: s(&["/home/zoe/", "/srv/a b"]),
        ids: s(&["f41a5977"]),
    };
    assert_eq!(
        snapshots(&r, &f).expect("builds").as_str(),
        format!(
            "{ENV} snapshots --json --host calcul --tag 'matelot,user-zoe' --path /home/zoe --path '/srv/a b' f41a5977"
        )
    );
    let bad = SnapshotFilter {
        ids: s(&["latest; reboot"]),
        ..Default::default()
    };
    assert!(snapshots(&r, &bad).is_err());
}

#[test]
fn restore_lines_are_exact() {
    let r = repo();
    let id = "f41a59775ba81e4ba7c18868e076df584ff09d5c23fd92c3066a7706500ed79c";
    assert_eq!(
        restore(&r, id, "/home/zoe/", "/").expect("builds").as_str(),
        format!("{ENV} restore {id} --target / --include /home/zoe")
    );
    assert_eq!(
        restore(&r, "f41a5977", "/srv/it's", "/tmp/r x")
            .expect("builds")
            .as_str(),
        format!("{ENV} restore f41a5977 --target '/tmp/r x' --include \"/srv/it's\"")
    );
    assert!(restore(&r, "latest", "/home", "/").is_err());
    assert!(restore(&r, id, "home", "/").is_err());
    assert_eq!(
        exists("/tmp/r x/home").expect("builds").as_str(),
        "test -e '/tmp/r x/home'"
    );
}

#[test]
fn restored_paths() {
    assert_eq!(restored_path("/home/zoe", "/"), "/home/zoe");
    assert_eq!(restored_path("/home/zoe/", "/tmp/r/"), "/tmp/r/home/zoe");
    assert_eq!(normalize_path("/"), "/");
    assert_eq!(normalize_path("///"), "/");
}

#[test]
fn forget_lines_are_exact() {
    let r = repo();
    let keep = Keep {
        daily: Some(7),
        weekly: Some(4),
        monthly: Some(6),
        yearly: None,
    };
    let f = SnapshotFilter {
        host: Some("calcul".into()),
        tags: s(&["matelot", "nightly"]),
        ..Default::default()
    };
    assert_eq!(
        forget_prune(&r, &keep, &f, false).expect("builds").as_str(),
        format!(
            "{ENV} forget --json --prune --keep-daily 7 --keep-weekly 4 --keep-monthly 6 --host calcul --tag 'matelot,nightly'"
        )
    );
    let keep = Keep {
        yearly: Some(2),
        daily: Some(0),
        ..Default::default()
    };
    assert_eq!(
        forget_prune(&r, &keep, &SnapshotFilter::default(), true)
            .expect("builds")
            .as_str(),
        format!("{ENV} forget --json --prune --dry-run --keep-yearly 2")
    );
    let e = forget_prune(&r, &Keep::default(), &f, false).expect_err("keeps nothing");
    assert!(e.to_string().contains("keeps nothing"), "{e}");
}

#[test]
fn repository_passwords_are_redacted() {
    let cases = [
        ("/srv/restic", "/srv/restic"),
        (
            "sftp:backup@host:/srv/restic",
            "sftp:backup@host:/srv/restic",
        ),
        (
            "rest:https://user:s3cret@backup.example.org:8000/calcul/",
            "rest:https://user:***@backup.example.org:8000/calcul/",
        ),
        (
            "rest:https://user@backup.example.org/",
            "rest:https://user@backup.example.org/",
        ),
        (
            "s3:https://s3.example.org/bucket/a@b",
            "s3:https://s3.example.org/bucket/a@b",
        ),
        ("rest:http://u:p:q@h", "rest:http://u:***@h"),
    ];
    for (raw, shown) in cases {
        assert_eq!(redact_repository(raw), shown, "{raw}");
    }
    let r = Repo {
        repository: "rest:https://user:s3cret@h/x".into(),
        ..repo()
    };
    let dbg = format!("{r:?}");
    assert!(!dbg.contains("s3cret"), "{dbg}");
    assert_eq!(
        redact_in("Fatal: cannot open rest:https://user:s3cret@h/x", &r),
        "Fatal: cannot open rest:https://user:***@h/x"
    );
    assert_eq!(
        r.init_hint(),
        "restic -r 'rest:https://user:***@h/x' --password-file /root/.config/restic/password init"
    );
}

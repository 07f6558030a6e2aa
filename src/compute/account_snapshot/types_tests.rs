//! Parsing, redaction and comparison of restore point data.

use super::*;
use crate::compute::restic::DEFAULT_CACHE_DIR;

fn repo() -> Repo {
    Repo {
        repository: "rest:https://u:s3cret@b.example.org/x".into(),
        password_file: "/root/pw".into(),
        cache_dir: DEFAULT_CACHE_DIR.into(),
    }
}

fn captured() -> Captured {
    Captured {
        passwd: Some("zoe:x:2001:2001:Zoé D:/home/zoe:/bin/bash".into()),
        groups: vec!["team:x:2500:bob,zoe".into(), "zoe:x:2001:".into()],
        shadow: Some("zoe:$6$salt$hashhashhash:20786:0:99999:7:::".into()),
        home_bytes: Some(4096),
        keys_b64: Some("c3NoLWVkMjU1MTkgQUFBQSB6b2VAeAo=".into()),
    }
}

#[test]
fn usernames() {
    for ok in ["zoe", "_svc", "a.b-c_d", "machine$", "z0"] {
        assert!(check_username(ok).is_ok(), "{ok}");
    }
    for bad in [
        "",
        "0zoe",
        "-x",
        "Zoe",
        "zo e",
        "zoe;reboot",
        "a/b",
        &"a".repeat(33),
        "$",
    ] {
        assert!(check_username(bad).is_err(), "{bad}");
    }
}

#[test]
fn the_hash_is_never_shown() {
    let s = ShadowLine::parse("zoe:$6$salt$hashhashhash:20786:0:99999:7:::").expect("9 fields");
    assert_eq!(s.redacted(), "zoe:<hash>:20786:0:99999:7:::");
    assert_eq!(s.to_string(), "zoe:<hash>:20786:0:99999:7:::");
    assert_eq!(
        format!("{s:?}"),
        "ShadowLine(\"zoe:<hash>:20786:0:99999:7:::\")"
    );
    let locked = ShadowLine::parse("zoe:!$6$salt$hash:20786:0:99999:7::1:").expect("9 fields");
    assert_eq!(locked.redacted(), "zoe:!<hash>:20786:0:99999:7::1:");
    for marker in ["!", "*", "!*", ""] {
        let line = format!("zoe:{marker}:20786:0:99999:7:::");
        assert_eq!(ShadowLine::parse(&line).expect("9 fields").redacted(), line);
    }
    assert!(ShadowLine::parse("zoe:x:1").is_err());
    // Serialised in full: the journal needs it to undo.
    let json = serde_json::to_string(&s).expect("serialises");
    assert_eq!(json, "\"zoe:$6$salt$hashhashhash:20786:0:99999:7:::\"");
}

#[test]
fn a_restore_point_is_built_from_a_capture_and_round_trips() {
    let rp = AccountRestorePoint::from_capture("calcul", "zoe", &captured(), &repo()).expect("ok");
    assert_eq!((rp.uid, rp.gid), (2001, 2001));
    assert_eq!(rp.home, "/home/zoe");
    assert_eq!(
        rp.authorized_keys.as_deref(),
        Some("ssh-ed25519 AAAA zoe@x\n")
    );
    assert_eq!(rp.repository, "rest:https://u:***@b.example.org/x");
    assert_eq!(rp.group_names(), vec!["zoe", "team"]);
    let json = serde_json::to_string(&rp).expect("serialises");
    let back: AccountRestorePoint = serde_json::from_str(&json).expect("reads back");
    assert_eq!(back, rp);
    let dbg = format!("{rp:?}");
    assert!(!dbg.contains("hashhash"), "{dbg}");
    let summary = format!("{:?}", rp.summary());
    assert!(!summary.contains("hashhash"), "{summary}");
    assert!(summary.contains("1 key(s)"), "{summary}");
}

#[test]
fn a_capture_of_someone_else_is_refused() {
    let mut c = captured();
    c.passwd = Some("bob:x:2002:2002::/home/bob:/bin/sh".into());
    assert!(AccountRestorePoint::from_capture("calcul", "zoe", &c, &repo()).is_err());
    let mut c = captured();
    c.shadow = Some("bob:!:1:::::::".into());
    assert!(AccountRestorePoint::from_capture("calcul", "zoe", &c, &repo()).is_err());
    let mut c = captured();
    c.passwd = None;
    assert!(AccountRestorePoint::from_capture("calcul", "zoe", &c, &repo()).is_err());
}

#[test]
fn differences_name_what_changed_without_hashes() {
    let rp = AccountRestorePoint::from_capture("calcul", "zoe", &captured(), &repo()).expect("ok");
    assert!(rp.differences(&rp).is_empty());
    let mut c = captured();
    c.groups = vec!["team:x:2500:bob".into(), "zoe:x:2001:".into()];
    c.shadow = Some("zoe:$6$other$otherhash:20786:0:99999:7:::".into());
    c.keys_b64 = None;
    c.home_bytes = Some(1);
    let now = AccountRestorePoint::from_capture("calcul", "zoe", &c, &repo()).expect("ok");
    let d = rp.differences(&now);
    assert_eq!(
        d,
        vec![
            "groups are [(\"zoe\", 2001)], expected [(\"team\", 2500), (\"zoe\", 2001)]".to_string(),
            "shadow line is zoe:<hash>:20786:0:99999:7:::, expected zoe:<hash>:20786:0:99999:7::: (hashes not shown; the hashes differ)".to_string(),
            "authorized_keys differ".to_string(),
        ]
    );
}

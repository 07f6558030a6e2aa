//! Unit tests of `backup run`: target selection and the exit-code policy.

use super::*;
use crate::config::{ComputeBackup, ComputeHost};

fn cfg(cloudron: bool, hosts: &[&str], backup: bool) -> Config {
    let mut c = Config::default();
    if cloudron {
        let url = url::Url::parse("https://my.example.org").expect("url");
        c.cloudron = Some(crate::config::CloudronConfig::new(url));
    }
    for h in hosts {
        c.compute.insert(
            (*h).into(),
            ComputeHost::new(*h, format!("{h}.example.org")),
        );
    }
    if backup {
        c.backup.compute = Some(ComputeBackup {
            repository: "/srv/restic".into(),
            password_file: "/root/.restic".into(),
            paths: vec!["/home".into()],
            keep: Default::default(),
        });
    }
    c
}

#[test]
fn no_flag_selects_every_configured_target() {
    let both = cfg(true, &["calcul"], true);
    let s = Selection::decide(&both, false, false, None).expect("both");
    assert!(s.cloudron && s.compute && s.host.is_none());
    assert_eq!(s.target(&both).expect("target"), "cloudron compute:calcul");
    // Hosts without [backup.compute] are not a backup target.
    let s = Selection::decide(&cfg(true, &["calcul"], false), false, false, None).expect("c");
    assert!(s.cloudron && !s.compute);
    let s = Selection::decide(&cfg(false, &["a", "b"], true), false, false, None).expect("h");
    assert!(!s.cloudron && s.compute);
}

#[test]
fn flags_narrow_and_unconfigured_targets_are_config_errors() {
    let both = cfg(true, &["a", "b"], true);
    let s = Selection::decide(&both, false, false, Some("b")).expect("host");
    assert!(!s.cloudron && s.compute);
    assert_eq!(s.target(&both).expect("target"), "compute:b");
    let s = Selection::decide(&both, true, false, None).expect("cloudron");
    assert!(s.cloudron && !s.compute);
    let none = Config::default();
    assert_eq!(
        Selection::decide(&none, false, false, None)
            .expect_err("nothing")
            .exit_code(),
        2
    );
    let e = Selection::decide(&cfg(false, &["a"], true), true, false, None).expect_err("c");
    assert!(
        e.to_string()
            .starts_with("--cloudron: no Cloudron is configured"),
        "{e}"
    );
    let e = Selection::decide(&both, false, false, Some("z")).expect_err("z");
    assert_eq!(e.to_string(), "no compute host named z; configured: a, b");
}

#[test]
fn one_failed_target_keeps_its_error_several_combine() {
    let f = |t: &str| {
        (
            t.to_string(),
            Some(Error::failed(format!("{t} broke"))),
            format!("{t} broke"),
        )
    };
    assert!(combine(2, vec![]).is_ok());
    let one = combine(1, vec![f("cloudron")]).expect_err("one");
    assert_eq!(one.to_string(), "cloudron broke");
    let partial = combine(3, vec![f("calcul")]).expect_err("partial");
    assert_eq!(partial.exit_code(), 4);
    assert_eq!(
        partial.to_string(),
        "backup failed on 1 of 3 targets:\n  calcul: calcul broke"
    );
    assert_eq!(
        combine(2, vec![f("a"), f("b")])
            .expect_err("all")
            .exit_code(),
        1
    );
}

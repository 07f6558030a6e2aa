//! The apply script, exactly, for a small plan; hostile values only ever appear quoted; and
//! the result parser on complete, failed and cut-short output.

use super::*;

const KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIByg7BrvaKkC+VDadI4IhoMXUHfkC4uf/V+GaPQBPnV+ alice@laptop";

fn small_plan() -> Vec<ComputeChange> {
    use ComputeChange as C;
    vec![
        C::CreateGroup {
            group: "physics".into(),
        },
        C::CreateUser {
            user: "alice".into(),
            uid: Some(1001),
            gecos: "Alice Martin".into(),
            groups: vec!["physics".into(), "teaching".into()],
            shell: "/bin/bash".into(),
            keys: vec![KEY.into()],
        },
        C::SetFullName {
            user: "bob".into(),
            from: "B".into(),
            to: "Bob O'Brien".into(),
        },
        C::SetGroups {
            user: "bob".into(),
            from: vec!["lab".into()],
            to: vec![],
        },
        C::SetAuthorizedKeys {
            user: "bob".into(),
            from: vec![],
            to: vec![KEY.into()],
        },
        C::Lock {
            user: "carol".into(),
            previous_expiry: Some(20100),
        },
        C::Unlock {
            user: "dave".into(),
            restore_expiry: None,
            known_previous: true,
        },
        C::Unlock {
            user: "erin".into(),
            restore_expiry: Some(20500),
            known_previous: true,
        },
        C::RemoveUser {
            user: "frank".into(),
            uid: 1006,
            home: "/home/frank".into(),
        },
    ]
}

#[test]
fn the_script_for_a_small_plan_is_exactly_this() {
    insta::assert_snapshot!(apply_script(&small_plan()).unwrap());
}

#[test]
fn an_empty_plan_still_reports_its_end() {
    let s = apply_script(&[]).unwrap();
    assert!(s.ends_with("printf 'matelot-end\\tok\\n'\n}\nmatelot_apply </dev/null\n"));
}

/// Strings a hostile roster or host could smuggle into a field.
pub(crate) const HOSTILE: &[&str] = &[
    "$(touch CANARY)",
    "`touch CANARY`",
    "x; touch CANARY",
    "x' ; touch CANARY; echo '",
    "x\" ; touch CANARY; echo \"",
    "$HOME ${IFS} * ? [a] ~root",
    "a|b&c>d<e",
];

#[test]
fn hostile_text_only_ever_appears_quoted() {
    use ComputeChange as C;
    for bad in HOSTILE {
        let changes = vec![
            C::SetFullName {
                user: "alice".into(),
                from: String::new(),
                to: bad.to_string(),
            },
            C::SetAuthorizedKeys {
                user: "alice".into(),
                from: vec![],
                to: vec![format!("ssh-ed25519 AAAA {bad}")],
            },
            C::CreateUser {
                user: "bob".into(),
                uid: None,
                gecos: bad.to_string(),
                groups: vec![],
                shell: bad.to_string(),
                keys: vec![format!("ssh-ed25519 AAAA {bad}")],
            },
        ];
        let script = apply_script(&changes).unwrap();
        let mut stripped = script.clone();
        for quoted in [
            shlex::try_quote(bad).unwrap().into_owned(),
            shlex::try_quote(&format!("ssh-ed25519 AAAA {bad}"))
                .unwrap()
                .into_owned(),
        ] {
            assert!(
                script.contains(&quoted),
                "{bad:?} not quoted as {quoted} in\n{script}"
            );
            stripped = stripped.replace(&quoted, "Q");
        }
        assert!(
            !stripped.contains("CANARY"),
            "{bad:?} appears unquoted:\n{stripped}"
        );
    }
}

#[test]
fn hostile_names_and_line_breaks_are_refused() {
    use ComputeChange as C;
    let cases = vec![
        C::CreateGroup {
            group: "$(touch CANARY)".into(),
        },
        C::Lock {
            user: "alice;reboot".into(),
            previous_expiry: None,
        },
        C::RemoveUser {
            user: "-rf".into(),
            uid: 1,
            home: "/".into(),
        },
        C::SetGroups {
            user: "alice".into(),
            from: vec![],
            to: vec!["ok".into(), "b`id`".into()],
        },
        C::SetFullName {
            user: "alice".into(),
            from: String::new(),
            to: "Alice\nreboot".into(),
        },
        C::SetAuthorizedKeys {
            user: "alice".into(),
            from: vec![],
            to: vec!["ssh-ed25519 AAAA\rx".into()],
        },
        C::CreateUser {
            user: "Alice".into(),
            uid: None,
            gecos: String::new(),
            groups: vec![],
            shell: "/bin/bash".into(),
            keys: vec![],
        },
    ];
    for c in cases {
        assert!(
            apply_script(std::slice::from_ref(&c)).is_err(),
            "{c:?} was accepted"
        );
    }
}

#[test]
fn results_are_read_step_by_step() {
    let done = "noise\nmatelot-step\t1\tchanged\nmatelot-step\t2\tunchanged\r\nmatelot-end\tok\n";
    let r = parse_apply_output(done, 2);
    assert_eq!(r.steps, [StepStatus::Changed, StepStatus::Unchanged]);
    assert!(r.finished && r.all_done());
    assert_eq!(r.failed_step(), None);

    let failed = "matelot-step\t1\tchanged\nmatelot-step\t2\tfailed\t9\nmatelot-end\tfailed\t2\n";
    let r = parse_apply_output(failed, 4);
    assert_eq!(
        r.steps,
        [
            StepStatus::Changed,
            StepStatus::Failed { code: 9 },
            StepStatus::NotRun,
            StepStatus::NotRun
        ]
    );
    assert!(r.finished && !r.all_done());
    assert_eq!(r.failed_step(), Some(2));

    let cut = "matelot-step\t1\tchanged\nmatelot-st";
    let r = parse_apply_output(cut, 3);
    assert_eq!(
        r.steps,
        [
            StepStatus::Changed,
            StepStatus::Unknown,
            StepStatus::Unknown
        ]
    );
    assert!(!r.finished);

    let odd = "matelot-step\t0\tchanged\nmatelot-step\t7\tchanged\nmatelot-step\tx\tchanged\nmatelot-step\t1\tweird\nmatelot-end\tok\n";
    let r = parse_apply_output(odd, 1);
    assert_eq!(r.steps, [StepStatus::Unknown]);
    assert!(r.finished && !r.all_done());
    let json = serde_json::to_string(&parse_apply_output(failed, 3)).unwrap();
    assert_eq!(
        json,
        r#"{"steps":[{"status":"changed"},{"status":"failed","code":9},{"status":"not_run"}],"finished":true}"#
    );
}

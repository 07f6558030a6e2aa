//! Changes as data: every variant survives a JSON round trip (the journal reads them back),
//! renders to one line, has the right danger tier, and inverses undo exactly.

use super::*;
use crate::core::accounts::{ComputeFacts, Facts, HostGroup, HostUser, PasswordState, apply_all};

fn all_changes() -> Vec<Change> {
    use CloudronChange as K;
    use ComputeChange as C;
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    vec![
        Change::compute(
            "calcul",
            C::CreateGroup {
                group: "physics".into(),
            },
        ),
        Change::compute(
            "calcul",
            C::CreateUser {
                user: "alice".into(),
                uid: Some(1001),
                gecos: "Alice Martin".into(),
                groups: s(&["physics", "teaching"]),
                shell: "/bin/bash".into(),
                keys: s(&["ssh-ed25519 AAAA a@l", "ssh-ed25519 BBBB a@d"]),
            },
        ),
        Change::compute(
            "calcul",
            C::SetFullName {
                user: "bob".into(),
                from: "B\u{1b}[2J,,,".into(),
                to: "Bob".into(),
            },
        ),
        Change::compute(
            "calcul",
            C::SetGroups {
                user: "bob".into(),
                from: s(&["lab", "x"]),
                to: s(&["lab", "physics"]),
            },
        ),
        Change::compute(
            "calcul",
            C::SetAuthorizedKeys {
                user: "bob".into(),
                from: s(&["k1", "k2"]),
                to: s(&["k2", "k3", "k4"]),
            },
        ),
        Change::compute(
            "calcul",
            C::Lock {
                user: "carol".into(),
                previous_expiry: Some(20500),
            },
        ),
        Change::compute(
            "calcul",
            C::Unlock {
                user: "carol".into(),
                restore_expiry: None,
                known_previous: false,
            },
        ),
        Change::compute(
            "calcul",
            C::RemoveUser {
                user: "dave".into(),
                uid: 1004,
                home: "/home/dave".into(),
            },
        ),
        Change::cloudron(K::CreateGroup {
            group: "physics".into(),
        }),
        Change::cloudron(K::CreateUser {
            username: "alice".into(),
            email: "alice@example.org".into(),
            display_name: "Alice Martin".into(),
            groups: s(&["physics"]),
        }),
        Change::cloudron(K::SetProfile {
            id: Some("uid-b".into()),
            username: "bob".into(),
            email: Some(FromTo {
                from: "b@x.org".into(),
                to: "bob@x.org".into(),
            }),
            display_name: None,
            set_username: false,
        }),
        Change::cloudron(K::SetActive {
            id: Some("uid-c".into()),
            username: "carol".into(),
            active: false,
        }),
        Change::cloudron(K::SetUserGroups {
            id: None,
            username: "alice".into(),
            from: vec![],
            to: s(&["lab"]),
        }),
        Change::cloudron(K::Invite {
            username: "alice".into(),
            email: "alice@example.org".into(),
        }),
        Change::cloudron(K::RemoveUser {
            id: Some("uid-d".into()),
            username: "dave".into(),
            email: "dave@example.org".into(),
        }),
    ]
}

#[test]
fn every_change_renders_to_one_line_with_its_tier() {
    let lines: Vec<String> = all_changes()
        .iter()
        .map(|c| format!("{:<8} {c}", format!("{:?}", c.tier())))
        .collect();
    insta::assert_snapshot!(lines.join("\n"));
}

#[test]
fn every_change_survives_a_json_round_trip() {
    let json = serde_json::to_string_pretty(&all_changes()).unwrap();
    let back: Vec<Change> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, all_changes());
    insta::assert_snapshot!(json);
}

fn facts() -> Facts {
    let mut h = ComputeFacts::new("calcul", 20_000);
    h.users.insert(
        "bob".into(),
        HostUser {
            name: "bob".into(),
            uid: 1002,
            gid: 1002,
            gecos: "B".into(),
            home: "/home/bob".into(),
            shell: "/bin/bash".into(),
            password: PasswordState::Usable,
            expiry: Some(20_500),
            keys: None,
        },
    );
    for (g, gid, members) in [
        ("bob", 1002, vec![]),
        ("lab", 2000, vec!["bob"]),
        ("physics", 2001, vec![]),
    ] {
        h.groups.insert(
            g.into(),
            HostGroup {
                name: g.into(),
                gid,
                members: members.into_iter().map(String::from).collect(),
            },
        );
    }
    Facts {
        compute: vec![h],
        cloudron: None,
        previous_locks: vec![],
    }
}

#[test]
fn inverses_undo_exactly() {
    use ComputeChange as C;
    let changes = vec![
        Change::compute(
            "calcul",
            C::SetFullName {
                user: "bob".into(),
                from: "B".into(),
                to: "Bob".into(),
            },
        ),
        Change::compute(
            "calcul",
            C::SetGroups {
                user: "bob".into(),
                from: vec!["lab".into()],
                to: vec!["physics".into()],
            },
        ),
        Change::compute(
            "calcul",
            C::SetAuthorizedKeys {
                user: "bob".into(),
                from: vec![],
                to: vec!["k".into()],
            },
        ),
        Change::compute(
            "calcul",
            C::Lock {
                user: "bob".into(),
                previous_expiry: Some(20_500),
            },
        ),
    ];
    let before = facts();
    let mut f = before.clone();
    apply_all(&mut f, &changes).unwrap();
    assert_ne!(f, before);
    let undo: Vec<Change> = changes.iter().rev().map(|c| c.inverse().unwrap()).collect();
    apply_all(&mut f, &undo).unwrap();
    f.previous_locks.clear();
    // The keys file now exists (empty) where there was none: the same keys, a visible file.
    f.compute[0].users.get_mut("bob").unwrap().keys = None;
    assert_eq!(f, before);
}

#[test]
fn creations_removals_and_invitations_have_no_plain_inverse() {
    let none: Vec<String> = all_changes()
        .iter()
        .filter(|c| c.inverse().is_none())
        .map(ToString::to_string)
        .collect();
    assert_eq!(none.len(), 7, "{none:#?}");
}

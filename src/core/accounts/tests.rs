//! Planner tests: scenarios rendered and snapshot-tested, every plan applied with the simulator
//! and re-planned (which must give nothing), and one test per refusal.

use std::collections::BTreeSet;

use super::*;
use crate::core::person::test_keys::{BOB, CAROL, ED25519, RSA};
use crate::core::person::{Email, FullName, GroupName, Person, PersonState, SshKey, Username};

const TODAY: i64 = 20_000; // 2024-10-04

fn person(name: &str, groups: &[&str], keys: &[&str], state: PersonState) -> Person {
    let mut p = Person::new(
        Username::parse(name).unwrap(),
        Email::parse(&format!("{name}@example.org")).unwrap(),
    );
    p.full_name = FullName::parse(&format!("{} Doe", name.to_uppercase())).unwrap();
    p.groups = groups
        .iter()
        .map(|g| GroupName::parse(g).unwrap())
        .collect();
    for k in keys {
        p.add_key(SshKey::parse(k).unwrap());
    }
    p.state = state;
    p
}

fn active(name: &str, groups: &[&str], keys: &[&str]) -> Person {
    person(name, groups, keys, PersonState::Active)
}

fn user(name: &str, uid: u32, gecos: &str) -> HostUser {
    HostUser {
        name: name.into(),
        uid,
        gid: uid,
        gecos: gecos.into(),
        home: if uid == 0 {
            "/root".into()
        } else {
            format!("/home/{name}")
        },
        shell: "/bin/bash".into(),
        password: PasswordState::NoPassword,
        expiry: None,
        keys: (1000..60000)
            .contains(&uid)
            .then_some(AuthorizedKeys::Missing),
    }
}

fn group(name: &str, gid: u32, members: &[&str]) -> HostGroup {
    HostGroup {
        name: name.into(),
        gid,
        members: members.iter().map(|m| m.to_string()).collect(),
    }
}

/// A Debian-like host with system accounts and groups, and `people` already there.
fn host(name: &str, people: &[(&str, u32)]) -> ComputeFacts {
    let mut h = ComputeFacts::new(name, TODAY);
    for (n, uid) in [("root", 0), ("daemon", 1), ("sshd", 105), ("nobody", 65534)] {
        h.users.insert(n.into(), user(n, uid, n));
    }
    for (n, gid) in [
        ("root", 0),
        ("sudo", 27),
        ("staff", 50),
        ("users", 100),
        ("nogroup", 65534),
    ] {
        h.groups.insert(n.into(), group(n, gid, &[]));
    }
    for (n, uid) in people {
        h.users.insert(
            n.to_string(),
            user(n, *uid, &format!("{} Doe,,,", n.to_uppercase())),
        );
        h.groups.insert(n.to_string(), group(n, *uid, &[]));
    }
    h
}

fn cloudron_user(id: &str, name: &str, groups: &[&str], role: &str) -> CloudronUser {
    CloudronUser {
        id: id.into(),
        username: Some(name.into()),
        email: format!("{name}@example.org"),
        display_name: format!("{} Doe", name.to_uppercase()),
        active: true,
        group_ids: groups.iter().map(|g| g.to_string()).collect(),
        role: role.into(),
        source: String::new(),
    }
}

fn cloudron(users: Vec<CloudronUser>, groups: &[(&str, &str)]) -> CloudronFacts {
    let groups = groups
        .iter()
        .map(|(id, name)| CloudronGroup {
            id: id.to_string(),
            name: name.to_string(),
            user_ids: users
                .iter()
                .filter(|u| u.group_ids.iter().any(|g| g == id))
                .map(|u| u.id.clone())
                .collect(),
            source: String::new(),
        })
        .collect();
    CloudronFacts { users, groups }
}

/// Plan, check that applying the plan and re-planning gives nothing, and render.
fn plan_and_converge(people: &[Person], facts: &Facts, opts: &PlanOptions, whole: bool) -> String {
    let plan = plan_people(people, facts, opts, whole).unwrap_or_else(|e| panic!("{e:#?}"));
    let mut after = facts.clone();
    apply_all(&mut after, &plan.changes).unwrap_or_else(|e| panic!("{e}"));
    let again = plan_people(people, &after, opts, whole).unwrap();
    assert!(
        again.is_empty(),
        "not idempotent; second plan:\n{}",
        again.lines().join("\n")
    );
    render(&plan)
}

fn render(plan: &Plan) -> String {
    let mut out = plan.lines().join("\n");
    for n in &plan.notes {
        out.push_str(&format!("\nnote: {n}"));
    }
    out
}

fn problems(result: Result<Plan, Vec<PlanProblem>>) -> Vec<String> {
    match result {
        Ok(p) => panic!("expected problems, got plan:\n{}", p.lines().join("\n")),
        Err(e) => e.iter().map(ToString::to_string).collect(),
    }
}

fn facts(compute: Vec<ComputeFacts>, cloudron: Option<CloudronFacts>) -> Facts {
    Facts {
        compute,
        cloudron,
        previous_locks: Vec::new(),
    }
}

#[test]
fn onboarding_a_roster_on_two_fresh_hosts_and_cloudron() {
    let people = [
        active("alice", &["physics", "teaching"], &[ED25519, CAROL]),
        active("bob", &["physics"], &[BOB]),
        person("carol", &["lab"], &[], PersonState::Locked),
        person("dave", &[], &[], PersonState::Absent),
    ];
    let f = facts(
        vec![host("calcul", &[("zed", 1000)]), host("gpu", &[])],
        Some(cloudron(
            vec![cloudron_user("uid-1", "owner1", &[], "owner")],
            &[],
        )),
    );
    insta::assert_snapshot!(plan_and_converge(
        &people,
        &f,
        &PlanOptions::default(),
        true
    ));
}

#[test]
fn converging_an_estate_that_drifted() {
    let people = [
        active("alice", &["physics"], &[ED25519, RSA]),
        active("bob", &["physics", "lab"], &[]),
        person("carol", &["lab"], &[CAROL], PersonState::Locked),
    ];
    let mut calcul = host(
        "calcul",
        &[
            ("alice", 1001),
            ("bob", 1002),
            ("carol", 1003),
            ("eve", 1004),
        ],
    );
    calcul
        .groups
        .insert("physics".into(), group("physics", 2000, &["alice", "eve"]));
    calcul
        .groups
        .insert("chemistry".into(), group("chemistry", 2001, &["bob"]));
    calcul
        .groups
        .insert("lab".into(), group("lab", 2002, &["alice"]));
    let alice = calcul.users.get_mut("alice").unwrap();
    alice.gecos = "A. Doe,Room 12,,".into();
    alice.keys = Some(AuthorizedKeys::Present(vec![ED25519.into(), BOB.into()]));
    calcul.users.get_mut("bob").unwrap().keys = Some(AuthorizedKeys::Present(vec![BOB.into()]));
    let mut cl = cloudron(
        vec![
            cloudron_user("uid-a", "alice", &["gid-l"], "user"),
            cloudron_user("uid-c", "carol", &[], "user"),
            cloudron_user("uid-e", "eve", &[], "user"),
            cloudron_user("uid-m", "mia", &[], "admin"),
        ],
        &[("gid-l", "lab"), ("gid-x", "external")],
    );
    cl.users[0].display_name = "alice".into();
    cl.users[0].email = "old-alice@example.org".into();
    let f = facts(vec![calcul], Some(cl));
    let opts = PlanOptions {
        prune: Prune::Lock,
        ..PlanOptions::default()
    };
    insta::assert_snapshot!(plan_and_converge(&people, &f, &opts, true));
}

#[test]
fn groups_outside_the_managed_set_are_left_alone() {
    // bob was added to `docker-ish` by hand; the roster does not mention it.
    let mut calcul = host("calcul", &[("bob", 1002)]);
    calcul
        .groups
        .insert("handmade".into(), group("handmade", 3000, &["bob"]));
    calcul
        .groups
        .insert("physics".into(), group("physics", 3001, &["bob"]));
    let f = facts(vec![calcul], None);
    let people = [
        active("bob", &["lab"], &[]),
        active("alice", &["physics"], &[]),
    ];
    let out = plan_and_converge(&people, &f, &PlanOptions::default(), false);
    assert!(
        out.contains("~ groups of bob on calcul: +lab -physics"),
        "{out}"
    );
    assert!(!out.contains("handmade"), "{out}");
}

#[test]
fn empty_keys_leave_keys_alone_and_given_keys_are_exact() {
    let mut calcul = host("calcul", &[("bob", 1002)]);
    calcul.users.get_mut("bob").unwrap().keys = Some(AuthorizedKeys::Present(vec![BOB.into()]));
    let f = facts(vec![calcul], None);
    let plan = plan_people(
        &[active("bob", &[], &[])],
        &f,
        &PlanOptions::default(),
        false,
    )
    .unwrap();
    assert!(plan.is_empty(), "{:?}", plan.lines());
    let plan = plan_people(
        &[active("bob", &[], &[CAROL])],
        &f,
        &PlanOptions::default(),
        false,
    )
    .unwrap();
    assert_eq!(plan.lines(), ["~ keys of bob on calcul: +1 -1 (now 1 key)"]);
    assert_eq!(plan.tier(), Some(Tier::Moderate));
}

#[test]
fn a_person_gets_the_same_uid_on_every_host() {
    let f = facts(
        vec![
            host("a", &[("alice", 1007)]),
            host("b", &[("zoe", 1500)]),
            host("c", &[]),
        ],
        None,
    );
    let plan = plan_people(
        &[active("alice", &[], &[]), active("bob", &[], &[])],
        &f,
        &PlanOptions::default(),
        false,
    )
    .unwrap();
    assert_eq!(
        plan.lines(),
        [
            "+ user bob on a (uid 1501; groups: none; no keys)",
            "+ user alice on b (uid 1007; groups: none; no keys)",
            "+ user bob on b (uid 1501; groups: none; no keys)",
            "+ user alice on c (uid 1007; groups: none; no keys)",
            "+ user bob on c (uid 1501; groups: none; no keys)",
        ]
    );
    // A uid taken by someone else on one host: useradd picks there, and the plan says so.
    let f = facts(
        vec![host("a", &[("alice", 1007)]), host("b", &[("zoe", 1007)])],
        None,
    );
    let plan = plan_people(
        &[active("alice", &[], &[])],
        &f,
        &PlanOptions::default(),
        false,
    )
    .unwrap();
    assert_eq!(plan.lines(), ["+ user alice on b (groups: none; no keys)"]);
    assert_eq!(
        plan.notes,
        ["alice cannot have uid 1007 on b (taken there); useradd picks one"]
    );
}

#[test]
fn lock_then_unlock_restores_exactly_the_previous_expiry() {
    let mut calcul = host("calcul", &[("alice", 1001)]);
    let contract_end = TODAY + 100;
    calcul.users.get_mut("alice").unwrap().expiry = Some(contract_end);
    calcul.users.get_mut("alice").unwrap().password = PasswordState::Usable;
    let mut f = facts(
        vec![calcul],
        Some(cloudron(
            vec![cloudron_user("uid-a", "alice", &[], "user")],
            &[],
        )),
    );
    let alice = Username::parse("alice").unwrap();
    let opts = PlanOptions::default();

    let lock = plan_state(&alice, PersonState::Locked, &f, &opts).unwrap();
    assert_eq!(
        lock.lines(),
        [
            "! lock alice on calcul (password locked, account expired; expiry was 2025-01-12)",
            "! deactivate alice on cloudron"
        ]
    );
    let json = serde_json::to_value(&lock.changes[0]).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"on": "compute", "host": "calcul", "action": "lock", "user": "alice", "previous_expiry": contract_end})
    );
    let before = f.clone();
    apply_all(&mut f, &lock.changes).unwrap();
    assert!(f.compute[0].users["alice"].is_locked(TODAY));
    assert!(
        plan_state(&alice, PersonState::Locked, &f, &opts)
            .unwrap()
            .is_empty()
    );

    let unlock = plan_state(&alice, PersonState::Active, &f, &opts).unwrap();
    assert_eq!(
        unlock.lines(),
        [
            "~ unlock alice on calcul (expiry restored to 2025-01-12)",
            "~ activate alice on cloudron"
        ]
    );
    apply_all(&mut f, &unlock.changes).unwrap();
    f.previous_locks.clear();
    assert_eq!(f, before, "unlock did not restore what lock replaced");
}

#[test]
fn unlock_without_a_record_or_with_a_passed_expiry_clears_it_and_says_so() {
    let mut calcul = host("calcul", &[("alice", 1001)]);
    calcul.users.get_mut("alice").unwrap().expiry = Some(1);
    let mut f = facts(vec![calcul], None);
    let alice = Username::parse("alice").unwrap();
    let plan = plan_state(&alice, PersonState::Active, &f, &PlanOptions::default()).unwrap();
    assert_eq!(
        plan.lines(),
        ["~ unlock alice on calcul (expiry restored to never, no record of an earlier one)"]
    );
    f.previous_locks.push(PreviousLock {
        host: "calcul".into(),
        user: "alice".into(),
        expiry: Some(TODAY - 10),
    });
    let plan = plan_state(&alice, PersonState::Active, &f, &PlanOptions::default()).unwrap();
    assert_eq!(
        plan.lines(),
        ["~ unlock alice on calcul (expiry restored to never)"]
    );
    assert_eq!(
        plan.notes,
        ["alice on calcul: the expiry before the lock (2024-09-24) has passed; it is cleared"]
    );
}

#[test]
fn a_state_change_by_name_never_creates_anyone() {
    let f = facts(vec![host("calcul", &[])], Some(cloudron(vec![], &[])));
    let ghost = Username::parse("ghost").unwrap();
    let plan = plan_state(&ghost, PersonState::Locked, &f, &PlanOptions::default()).unwrap();
    assert!(plan.is_empty());
    assert_eq!(
        plan.notes,
        [
            "ghost has no account on calcul; nothing to change there",
            "ghost has no Cloudron user; nothing to change there"
        ]
    );
}

#[test]
fn removal_is_severe_and_prune_keep_only_notes() {
    let f = facts(
        vec![host("calcul", &[("alice", 1001), ("eve", 1004)])],
        Some(cloudron(
            vec![
                cloudron_user("uid-a", "alice", &[], "user"),
                cloudron_user("uid-e", "eve", &[], "user"),
            ],
            &[],
        )),
    );
    let people = [person("alice", &[], &[], PersonState::Absent)];
    let plan = plan_people(&people, &f, &PlanOptions::default(), true).unwrap();
    assert_eq!(plan.tier(), Some(Tier::Severe));
    insta::assert_snapshot!(render(&plan));
    let json = serde_json::to_string_pretty(&plan).unwrap();
    insta::assert_snapshot!("removal_plan_json", json);
}

#[test]
fn refusals_are_all_reported() {
    let mut calcul = host("calcul", &[("alice", 1001)]);
    calcul
        .groups
        .insert("mallory".into(), group("mallory", 2005, &[]));
    calcul
        .groups
        .insert("physics".into(), group("physics", 27_000, &[]));
    calcul
        .groups
        .insert("wheelish".into(), group("wheelish", 10, &[]));
    calcul.users.get_mut("alice").unwrap().keys = Some(AuthorizedKeys::Unreadable);
    let mut sshd_like = user("backup_svc", 998, "");
    sshd_like.keys = None;
    calcul.users.insert("backup_svc".into(), sshd_like);
    let mut cl = cloudron(
        vec![
            cloudron_user("uid-m", "mia", &[], "admin"),
            cloudron_user("uid-o", "other", &[], "user"),
            cloudron_user("uid-l", "lou", &[], "user"),
        ],
        &[],
    );
    cl.users[1].email = "zed@example.org".into();
    cl.users[2].source = "ldap".into();
    let f = facts(
        vec![
            calcul,
            ComputeFacts {
                root: false,
                ..host("gpu", &[])
            },
        ],
        Some(cl),
    );
    let people = [
        active("alice", &["physics", "wheelish"], &[ED25519]),
        active("mallory", &[], &[]),
        active("backup_svc", &[], &[]),
        person("mia", &[], &[], PersonState::Locked),
        active("zed", &[], &[]),
        person("lou", &[], &[], PersonState::Locked),
    ];
    let got = problems(plan_people(&people, &f, &PlanOptions::default(), false));
    insta::assert_snapshot!(got.join("\n"));
}

#[test]
fn a_cloudron_user_without_username_is_found_by_email() {
    let mut u = cloudron_user("uid-i", "ines", &[], "user");
    u.username = None;
    let f = facts(vec![], Some(cloudron(vec![u], &[])));
    let out = plan_and_converge(
        &[active("ines", &[], &[])],
        &f,
        &PlanOptions::default(),
        true,
    );
    assert_eq!(
        out.trim_start(),
        "note: ines: the Cloudron user ines@example.org has no username yet; they choose it \
         when they accept their invitation"
    );
    // Other fields are still managed for them.
    let mut renamed = active("ines", &[], &[]);
    renamed.full_name = FullName::parse("Inès Dupont").unwrap();
    let plan = plan_people(&[renamed], &f, &PlanOptions::default(), false).unwrap();
    assert_eq!(
        plan.lines(),
        ["~ profile of ines on cloudron: display name 'INES Doe' -> 'Inès Dupont'"]
    );
}

#[test]
fn a_cloudron_username_with_an_underscore_is_refused_before_anything() {
    let f = facts(vec![host("calcul", &[])], Some(cloudron(vec![], &[])));
    let got = problems(plan_people(
        &[active("data_bot", &[], &[])],
        &f,
        &PlanOptions::default(),
        false,
    ));
    assert_eq!(
        got,
        [
            "cloudron: 'data_bot' cannot be a Cloudron username: Cloudron allows letters, digits, \
          '.' and '-' only (no '_'); choose another username or leave Cloudron out (--on \
          compute)"
        ]
    );
    // Without Cloudron the same person is fine.
    let f = facts(vec![host("calcul", &[])], None);
    assert!(
        plan_people(
            &[active("data_bot", &[], &[])],
            &f,
            &PlanOptions::default(),
            false
        )
        .is_ok()
    );
}

#[test]
fn a_hundred_people_converge_on_three_hosts_and_cloudron() {
    let text = crate::core::roster::generate::csv(100, 5);
    let roster =
        crate::core::roster::parse("bench.csv", &text, None, &crate::core::roster::NoKeyFiles)
            .unwrap();
    let people = roster.people();
    let f = facts(
        vec![
            host("h1", &[]),
            host("h2", &[("user050", 1000)]),
            host("h3", &[]),
        ],
        Some(cloudron(vec![], &[])),
    );
    let opts = PlanOptions::default();
    let plan = plan_people(&people, &f, &opts, true).unwrap();
    // 5 groups + 100 users per host (on h2, user050 exists: name, groups and keys are set
    // instead), 5 groups + 100 users + 100 invitations on Cloudron.
    assert_eq!(plan.changes.len(), 3 * 105 + 2 + 205);
    let uids: BTreeSet<Option<u32>> = plan
        .compute_changes("h1")
        .iter()
        .filter_map(|c| match c {
            ComputeChange::CreateUser { user, uid, .. } if user == "user050" => Some(*uid),
            _ => None,
        })
        .collect();
    assert_eq!(uids, BTreeSet::from([Some(1000)]));
    plan_and_converge(&people, &f, &opts, true);

    // Then the roster changes: someone leaves, someone is locked, groups move.
    let mut after = f.clone();
    apply_all(&mut after, &plan.changes).unwrap();
    let mut next = people.clone();
    next.retain(|p| p.username.as_str() != "user007");
    next[0].state = PersonState::Locked;
    next[1].groups = BTreeSet::from([GroupName::parse("group5").unwrap()]);
    let opts = PlanOptions {
        prune: Prune::Lock,
        ..opts
    };
    let second = plan_and_converge(&next, &after, &opts, true);
    insta::assert_snapshot!(second);
}

#[test]
fn each_host_has_its_own_range_of_people_uids() {
    // On `old`, people start at 500: eve (uid 600) is a person there and pruned; on `new`,
    // people start at 2000, so the new uid is chosen at or above 2000 for everyone.
    let mut old = host("old", &[("eve", 600)]);
    old.managed = UidRange {
        min: 500,
        max: 60000,
    };
    let mut new = host("new", &[("zoe", 1500)]);
    new.managed = UidRange {
        min: 2000,
        max: 60000,
    };
    let f = facts(vec![old, new], None);
    let opts = PlanOptions {
        prune: Prune::Lock,
        ..PlanOptions::default()
    };
    let out = plan_and_converge(&[active("alice", &[], &[])], &f, &opts, true);
    assert_eq!(
        out,
        "+ user alice on old (uid 2000; groups: none; no keys)\n\
         ! lock eve on old (password locked, account expired; expiry was never)\n\
         + user alice on new (uid 2000; groups: none; no keys)"
    );
    let err = problems(plan_people(&[active("zoe", &[], &[])], &f, &opts, false));
    assert_eq!(
        err,
        [
            "new: 'zoe' is a system account here (uid 1500), outside the people's uids 2000..59999; matelot leaves it alone"
        ]
    );
}

#[test]
fn an_empty_roster_never_prunes_everyone() {
    let f = facts(vec![host("calcul", &[("alice", 1001)])], None);
    let opts = PlanOptions {
        prune: Prune::Remove,
        ..PlanOptions::default()
    };
    assert_eq!(
        problems(plan_people(&[], &f, &opts, true)),
        ["plan: the roster is empty: pruning would lock or remove everyone; refusing"]
    );
}

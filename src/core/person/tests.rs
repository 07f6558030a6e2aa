//! Table-driven tests of the person field parsers (emails, full names, states).

use super::*;

#[test]
fn emails_table() {
    let cases: &[(&str, Result<&str, &str>)] = &[
        ("alice@example.org", Ok("alice@example.org")),
        (
            "  Alice.Martin@Example.ORG ",
            Ok("alice.martin@example.org"),
        ),
        ("a+tag@sub.example.co.uk", Ok("a+tag@sub.example.co.uk")),
        ("o'brien@example.ie", Ok("o'brien@example.ie")),
        ("x@xn--caf-dma.fr", Ok("x@xn--caf-dma.fr")),
        ("", Err("email '': is empty")),
        ("alice", Err("email 'alice': has no '@'")),
        (
            "a@b@example.org",
            Err("email 'a@b@example.org': has more than one '@'"),
        ),
        (
            "@example.org",
            Err("email '@example.org': has nothing before '@'"),
        ),
        (
            "alice@",
            Err("email 'alice@': needs a domain with a dot after '@' (like example.org)"),
        ),
        (
            "alice@localhost",
            Err("email 'alice@localhost': needs a domain with a dot after '@' (like example.org)"),
        ),
        (
            "alice@example..org",
            Err("email 'alice@example..org': has an empty or over-long part in its domain"),
        ),
        (
            "alice@-example.org",
            Err("email 'alice@-example.org': has a domain part that starts or ends with '-'"),
        ),
        (
            "alice@example.123",
            Err("email 'alice@example.123': has an invalid top-level domain '123'"),
        ),
        (
            ".alice@example.org",
            Err("email '.alice@example.org': has a misplaced '.' before '@'"),
        ),
        (
            "al..ice@example.org",
            Err("email 'al..ice@example.org': has a misplaced '.' before '@'"),
        ),
        (
            "al ice@example.org",
            Err("email 'al ice@example.org': contains ' ' (U+0020) before '@'"),
        ),
        (
            "alice@exa_mple.org",
            Err("email 'alice@exa_mple.org': contains '_' (U+005F) in its domain"),
        ),
        (
            "alice@ex\u{0430}mple.org",
            Err(
                "email 'alice@exаmple.org': contains 'а' (U+0430 CYRILLIC SMALL LETTER A, looks like 'a'); addresses must be plain ASCII (write an international domain in its xn-- form)",
            ),
        ),
        (
            "alice@example.org\n$(id)",
            Err(
                "email 'alice@example.org\\u{000A}$(id)': contains a control character (U+000A); addresses must be plain ASCII (write an international domain in its xn-- form)",
            ),
        ),
        ("`id`@example.org", Ok("`id`@example.org")),
    ];
    for (input, want) in cases {
        let got = Email::parse(input)
            .map(|e| e.to_string())
            .map_err(|e| e.to_string());
        let want = want.map(str::to_string).map_err(str::to_string);
        assert_eq!(got, want, "input {input:?}");
    }
    let long = format!("{}@example.org", "a".repeat(250));
    assert!(
        Email::parse(&long)
            .unwrap_err()
            .to_string()
            .contains("is 262 characters long; the limit is 254")
    );
}

#[test]
fn full_names_table() {
    let cases: &[(&str, Result<Option<&str>, &str>)] = &[
        ("Alice Martin", Ok(Some("Alice Martin"))),
        ("  Zoé   Lefèvre ", Ok(Some("Zoé Lefèvre"))),
        ("Сергей Иванов", Ok(Some("Сергей Иванов"))),
        ("", Ok(None)),
        ("   ", Ok(None)),
        ("Martin, Alice", Ok(Some("Martin, Alice"))),
        (
            "Alice:Martin",
            Err("name 'Alice:Martin': contains ':', which /etc/passwd cannot hold"),
        ),
        (
            "Alice\nroot::0:0",
            Err("name 'Alice\\u{000A}root::0:0': contains a control character (U+000A)"),
        ),
        (
            "Alice \u{202E}nitraM",
            Err(
                "name 'Alice \\u{202E}nitraM': contains (U+202E RIGHT-TO-LEFT OVERRIDE, reorders displayed text)",
            ),
        ),
    ];
    for (input, want) in cases {
        let got = FullName::parse(input)
            .map(|n| n.map(|n| n.to_string()))
            .map_err(|e| e.to_string());
        let want = want.map(|o| o.map(str::to_string)).map_err(str::to_string);
        assert_eq!(got, want, "input {input:?}");
    }
    let long = "a".repeat(129);
    assert!(
        FullName::parse(&long)
            .unwrap_err()
            .to_string()
            .ends_with("is 129 characters long; the limit is 128")
    );
}

#[test]
fn gecos_has_no_commas() {
    let n = FullName::parse("Martin, Alice").unwrap().unwrap();
    assert_eq!(n.gecos(), "Martin Alice");
    let n = FullName::parse("Zoé Lefèvre").unwrap().unwrap();
    assert_eq!(n.gecos(), "Zoé Lefèvre");
}

#[test]
fn states_table() {
    let cases: &[(&str, Result<PersonState, &str>)] = &[
        ("", Ok(PersonState::Active)),
        ("active", Ok(PersonState::Active)),
        (" Enabled ", Ok(PersonState::Active)),
        ("yes", Ok(PersonState::Active)),
        ("LOCKED", Ok(PersonState::Locked)),
        ("disabled", Ok(PersonState::Locked)),
        ("suspended", Ok(PersonState::Locked)),
        ("verrouillé", Ok(PersonState::Locked)),
        ("absent", Ok(PersonState::Absent)),
        ("removed", Ok(PersonState::Absent)),
        (
            "maybe",
            Err("state 'maybe' is not one of active, locked, absent"),
        ),
    ];
    for (input, want) in cases {
        let got = PersonState::parse(input).map_err(|e| e.to_string());
        let want = want.map_err(str::to_string);
        assert_eq!(got, want, "input {input:?}");
    }
}

#[test]
fn a_person_keeps_keys_once_and_serializes_plainly() {
    let mut p = Person::new(
        Username::parse("alice").unwrap(),
        Email::parse("Alice@Example.org").unwrap(),
    );
    p.add_key(SshKey::parse(test_keys::ED25519).unwrap());
    // The same key with another comment is the same key.
    let mut again = test_keys::ED25519.rsplit_once(' ').unwrap().0.to_string();
    again.push_str(" other-comment");
    p.add_key(SshKey::parse(&again).unwrap());
    p.groups.insert(GroupName::parse("physics").unwrap());
    assert_eq!(p.keys.len(), 1);
    assert_eq!(p.display_name(), "alice");
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(json["email"], "alice@example.org");
    assert_eq!(json["state"], "active");
    assert_eq!(json["groups"][0], "physics");
    assert_eq!(json["keys"][0], test_keys::ED25519);
}

//! Roster rules, one table row per rule, and the fixture rosters under
//! `tests/fixtures/rosters/` snapshot-tested (parsed result or full error list).

use std::path::Path;

use super::*;
use crate::core::person::test_keys::{BOB, CAROL, ED25519};

const HEADER: &str = "username;email;name;groups;keys;state\n";

fn parse_csv(text: &str) -> Result<Roster, Vec<RosterError>> {
    parse("r.csv", text, Some(Format::Csv), &NoKeyFiles)
}

fn errors(body: &str) -> Vec<String> {
    match parse_csv(&format!("{HEADER}{body}")) {
        Ok(r) => panic!("expected errors, parsed {} people", r.entries.len()),
        Err(e) => e.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn every_rule_reports_its_line() {
    let cases: Vec<(String, Vec<&str>)> = vec![
        ("alice;;;;;\n".into(), vec!["r.csv:2: email is missing"]),
        (";a@x.org;;;;\n".into(), vec!["r.csv:2: username is missing"]),
        (
            "\u{0430}lice;a@x.org;;;;\n".into(),
            vec!["r.csv:2: username 'аlice' contains 'а' (U+0430 CYRILLIC SMALL LETTER A, looks like 'a'); a username may only use a-z, 0-9, '_' and '-'"],
        ),
        (
            "admin;a@x.org;;;;\n".into(),
            vec!["r.csv:2: username 'admin' is reserved by Cloudron; choose another name"],
        ),
        (
            "daemon;a@x.org;;;;\n".into(),
            vec!["r.csv:2: username 'daemon' is a system account name; choose another name"],
        ),
        (
            format!("{};a@x.org;;;;\n", "b".repeat(33)),
            vec!["r.csv:2: username 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb' is 33 characters long; the limit is 32"],
        ),
        (
            "alice;alice@x;;;;\n".into(),
            vec!["r.csv:2: email 'alice@x': needs a domain with a dot after '@' (like example.org)"],
        ),
        (
            "alice;a@x.org;Al:ice;;;\n".into(),
            vec!["r.csv:2: name 'Al:ice': contains ':', which /etc/passwd cannot hold"],
        ),
        (
            "alice;a@x.org;;physics, Sudo;;\n".into(),
            vec!["r.csv:2: group name 'sudo' is a system account name; choose another name"],
        ),
        (
            "alice;a@x.org;;;;sleeping\n".into(),
            vec!["r.csv:2: state 'sleeping' is not one of active, locked, absent"],
        ),
        (
            format!("alice;a@x.org;;;{ED25519}|nonsense;\n"),
            vec!["r.csv:2: 'nonsense' is neither an SSH public key nor a readable key file (key files cannot be read here; paste the key itself)"],
        ),
        (
            format!("alice;a@x.org;;;\"{ED25519}\nssh-ed25519 AAAA\";\n"),
            vec!["r.csv:3: the ssh-ed25519 key is damaged (length invalid): copy the whole line from the .pub file again"],
        ),
        (
            "alice;a@x.org;;;\"-----BEGIN OPENSSH PRIVATE KEY-----\nc2VjcmV0\n-----END OPENSSH PRIVATE KEY-----\";\n".into(),
            vec!["r.csv:2: this is a PRIVATE key (-----BEGIN OPENSSH PRIVATE KEY-----), not a public key: give the public key (the .pub file) instead, and treat this private key as compromised (it was shared)"],
        ),
        (
            format!("alice;a@x.org;;;\"command=\"\"a|b\"\" {ED25519}\";\n"),
            vec!["r.csv:2: the key has an options prefix ('command=\"a|b\"'); matelot writes plain keys only: remove everything before 'ssh-ed25519'"],
        ),
        (
            "alice;a@x.org;;;;\nAlice;b@x.org;;;;\n".into(),
            vec!["r.csv:3: username 'alice' is already on line 2"],
        ),
        (
            "alice;a@x.org;;;;\nbob;A@X.org;;;;\n".into(),
            vec!["r.csv:3: email 'a@x.org' is already used on line 2; each person needs their own"],
        ),
        (
            format!("alice;a@x.org;;;{BOB};\nbob;b@x.org;;;{BOB};\n"),
            vec!["r.csv:3: key SHA256:qZ/XDvMkTFIH/HtLYshN4lGT0O5Tyw90L8OoOe2iKEI of 'bob' is also the key of 'alice' (line 2); a key identifies one person"],
        ),
        (
            "alice;a@x.org;;physics;;\nphysics;p@x.org;;;;\n".into(),
            vec!["r.csv:3: username 'physics' is also a group in this roster (line 2); each user has a group of their own name, so they would clash"],
        ),
        (
            "alice;a@x.org;;a,b;;;;x\n".into(),
            vec!["r.csv:2: this line has 8 cells but the header has 6; quote cells that contain ';' (groups may also be separated by spaces or '|')"],
        ),
        (
            "alice;a@x.org;\"Alice\n".into(),
            vec!["r.csv:2: this quote is never closed; add the closing '\"'"],
        ),
    ];
    let mut wrong = Vec::new();
    for (body, want) in cases {
        let got = errors(&body);
        if got != want {
            wrong.push(format!("{body:?}\n  got  {got:?}\n  want {want:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn every_problem_is_reported_not_only_the_first() {
    let got = errors("Alice;bad;Al:ice;sudo;nonsense;maybe\n");
    assert_eq!(got.len(), 5, "{got:#?}");
    let columns: Vec<Option<usize>> =
        parse_csv(&format!("{HEADER}Alice;bad;Al:ice;sudo;nonsense;maybe\n"))
            .unwrap_err()
            .iter()
            .map(|e| e.column)
            .collect();
    assert_eq!(columns, [Some(7), Some(11), Some(18), Some(23), Some(32)]);
}

#[test]
fn tolerant_input_is_normalised() {
    let text = format!(
        "\u{FEFF}# roster\r\n\r\n USER NAME \t, Mail , Groups ,Key\r\n  Alice , Alice@Example.ORG , \"physics|lab  teaching\" , \"{ED25519}\r\n{CAROL}\"\r\n\r\n"
    );
    let roster = parse("r.csv", &text, None, &NoKeyFiles).unwrap();
    assert_eq!(roster.format, Format::Csv);
    let p = &roster.entries[0].person;
    assert_eq!(roster.entries[0].line, 4);
    assert_eq!(p.username.as_str(), "alice");
    assert_eq!(p.email.as_str(), "alice@example.org");
    let groups: Vec<&str> = p.groups.iter().map(|g| g.as_str()).collect();
    assert_eq!(groups, ["lab", "physics", "teaching"]);
    assert_eq!(p.keys.len(), 2);
    assert_eq!(p.state, crate::core::person::PersonState::Active);
}

#[test]
fn key_files_are_read_through_the_resolver() {
    let files = |path: &str| -> Result<String, String> {
        match path {
            "keys/alice.pub" => Ok(format!("# two keys\n{ED25519}\n\n{CAROL}\n")),
            "keys/empty.pub" => Ok("# nothing\n".into()),
            "keys/secret" => Ok("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n".into()),
            "keys/shadow" => Ok("root:$y$j9T$secret-hash:19000:0:99999:7:::\n".into()),
            _ => Err("no such file".into()),
        }
    };
    let ok = parse(
        "r.csv",
        &format!("{HEADER}alice;a@x.org;;;keys/alice.pub;\n"),
        None,
        &files,
    )
    .unwrap();
    assert_eq!(ok.entries[0].person.keys.len(), 2);
    let err = parse(
        "r.csv",
        &format!("{HEADER}alice;a@x.org;;;keys/empty.pub|keys/secret|keys/shadow|keys/nope.pub;\n"),
        None,
        &files,
    )
    .unwrap_err();
    let got: Vec<String> = err.iter().map(ToString::to_string).collect();
    assert_eq!(
        got,
        [
            "r.csv:2: key file 'keys/empty.pub' holds no key",
            "r.csv:2: key file 'keys/secret': this is a PRIVATE key (-----BEGIN OPENSSH PRIVATE KEY-----), not a public key: give the public key (the .pub file) instead, and treat this private key as compromised (it was shared)",
            "r.csv:2: key file 'keys/shadow' line 1 is not an OpenSSH public key",
            "r.csv:2: 'keys/nope.pub' is neither an SSH public key nor a readable key file (no such file)",
        ]
    );
    assert!(
        !got.iter().any(|e| e.contains("secret-hash")),
        "file content leaked"
    );
}

#[test]
fn headers_must_name_username_and_email() {
    let err = parse_csv("login;groups\nalice;physics\n").unwrap_err();
    assert_eq!(
        err[0].to_string(),
        "r.csv:1: the header has no email column; the first line must name the columns, e.g. username;email;name;groups;keys (delimiter ';')"
    );
    let err = parse_csv("user;login;email\nalice;al;a@x.org\n").unwrap_err();
    assert_eq!(
        err[0].to_string(),
        "r.csv:1: columns 'user' and 'login' both give the username; keep one"
    );
    let ok = parse_csv("username,email,department\nalice,a@x.org,Physics\n").unwrap();
    assert_eq!(
        ok.warnings[0].to_string(),
        "r.csv:1: column 'department' is not used (matelot reads username, email, name, groups, keys, state)"
    );
}

#[test]
fn an_empty_roster_is_an_error() {
    for text in ["", "# nothing\n\n", "username;email\n"] {
        let err = parse_csv(text).unwrap_err();
        assert!(
            err.iter()
                .any(|e| e.to_string() == "r.csv:1: the roster has no people"),
            "{text:?}: {err:?}"
        );
    }
}

#[test]
fn formats_are_chosen_by_extension_then_content() {
    assert_eq!(Format::from_path(Path::new("a.CSV")), Some(Format::Csv));
    assert_eq!(Format::from_path(Path::new("a.tsv")), Some(Format::Csv));
    assert_eq!(Format::from_path(Path::new("a.toml")), Some(Format::Toml));
    assert_eq!(Format::from_path(Path::new("a.txt")), None);
    assert_eq!(Format::sniff("# c\n[[person]]\n"), Format::Toml);
    assert_eq!(Format::sniff("\u{FEFF}username = \"a\"\n"), Format::Toml);
    assert_eq!(Format::sniff("username;email\n"), Format::Csv);
    assert_eq!(Format::sniff("name,note\nx,a=b\n"), Format::Csv);
}

/// A fixture roster read the way the loader reads it (the loader itself is I/O and lives in
/// `commands/user/files.rs`): key files relative to the fixtures directory.
fn fixture(name: &str) -> Result<Roster, LoadError> {
    let dir = Path::new("tests/fixtures/rosters");
    let path = dir.join(name);
    let text = std::fs::read_to_string(&path).expect("fixture");
    // Like the loader: only regular files (a hostile roster names /dev/zero).
    let files = |p: &str| -> Result<String, String> {
        let full = dir.join(p);
        match std::fs::metadata(&full) {
            Ok(m) if m.is_file() => {
                std::fs::read_to_string(&full).map_err(|_| "not UTF-8 text".to_string())
            }
            Ok(_) => Err("not a regular file".to_string()),
            Err(_) => Err("no such file".to_string()),
        }
    };
    parse(
        &path.display().to_string(),
        &text,
        Format::from_path(&path),
        &files,
    )
    .map_err(LoadError::Invalid)
}

fn problems_text(e: LoadError) -> String {
    e.to_string()
}

#[test]
fn fixture_good_semicolon_csv() {
    let roster = fixture("good-semicolon.csv").unwrap();
    insta::assert_json_snapshot!(roster);
}

#[test]
fn fixture_people_toml() {
    let roster = fixture("people.toml").unwrap();
    insta::assert_json_snapshot!(roster);
}

#[test]
fn fixture_hostile_csv() {
    let err = fixture("hostile.csv").unwrap_err();
    insta::assert_snapshot!(problems_text(err));
}

#[test]
fn fixture_broken_toml() {
    let err = fixture("broken.toml").unwrap_err();
    insta::assert_snapshot!(problems_text(err));
}

#[test]
fn a_person_from_the_command_line_follows_the_same_rules() {
    let files = |path: &str| -> Result<String, String> {
        match path {
            "alice.pub" => Ok(format!("{ED25519}\n")),
            "id_ed25519" => Ok("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n".into()),
            _ => Err("no such file".into()),
        }
    };
    let args = PersonArgs {
        username: "Alice".into(),
        email: "Alice@Example.org".into(),
        name: Some("Alice Martin".into()),
        groups: vec!["physics".into(), "lab,teaching".into()],
        keys: vec!["alice.pub".into(), CAROL.into()],
    };
    let p = person_from_args(&args, &files).unwrap();
    assert_eq!(p.username.as_str(), "alice");
    assert_eq!(p.groups.len(), 3);
    assert_eq!(p.keys.len(), 2);
    let bad = PersonArgs {
        username: "r\u{043E}ot".into(),
        email: "alice".into(),
        name: None,
        groups: vec!["sudo".into()],
        keys: vec!["id_ed25519".into()],
    };
    assert_eq!(
        person_from_args(&bad, &files).unwrap_err(),
        [
            "username 'rоot' contains 'о' (U+043E CYRILLIC SMALL LETTER O, looks like 'o'); a username may only use a-z, 0-9, '_' and '-'",
            "email 'alice': has no '@'",
            "group name 'sudo' is a system account name; choose another name",
            "key file 'id_ed25519': this is a PRIVATE key (-----BEGIN OPENSSH PRIVATE KEY-----), not a public key: give the public key (the .pub file) instead, and treat this private key as compromised (it was shared)",
        ]
    );
}

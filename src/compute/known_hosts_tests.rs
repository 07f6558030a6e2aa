//! Table-driven tests of the known_hosts reader and the host-key decision, with real keys
//! made by `ssh-keygen` (and one line hashed by `ssh-keygen -H`).

use super::*;

const A: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIICvH5tm0dk06b2A2/rpe5K8Q8WKbtRf+yKb3ytoHH2J";
const B: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHOqgn4aG9dubq6JZsLo+7QA/um5qnngm1udcHsEBemZ";
const C: &str = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBAYN+zKM9Zk7GpfWR+5XsE6UJ328DbXjem4zyH8maFKDm92NoT4qDWENsOEgp+UfOetFtXdE7e4Pp+Hl+bAHrsE=";
const R: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDKq/ApuuU/KQ7W0M2VhuQ4IOuNaZnl1cBeUidF1pRuHcGqrfMorww/Ftd/a38Bl80hpMZQE/a9ddyHNU03x2oFezmv836GhRTLRAu2jDEuzEJ2V9LFm/0ac7jptLbMkv0n0KlI1/iVhlP8AuiNkSYMpG712AmNAh6IfYPg2epChw==";
/// `ssh-keygen -H` of `[127.0.0.2]:2222 A`.
const HASHED_A: &str = "|1|htjpJKmzcLcXB6FUFsfPgpfwpN4=|aM9grMm/TEbEXQqzQAh9ICjpNaA= ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIICvH5tm0dk06b2A2/rpe5K8Q8WKbtRf+yKb3ytoHH2J";

fn key(line: &str) -> HostKey {
    HostKey::from_openssh(line).expect("test key parses")
}

fn kh(text: &str) -> KnownHosts {
    let mut k = KnownHosts::default();
    k.parse(Path::new("kh"), text);
    k
}

fn at(line: usize) -> Location {
    Location {
        file: PathBuf::from("kh"),
        line,
    }
}

#[test]
fn fingerprint_matches_ssh_keygen() {
    // `ssh-keygen -lf a.pub` printed this.
    assert_eq!(
        key(A).fingerprint(),
        "SHA256:LyzZrr9AsLaJHR8PjOJwXD9Do11ZrrpOGyW6KdOVI20"
    );
}

#[test]
fn decisions() {
    let h = "127.0.0.2";
    let p = 2222;
    let cases: Vec<(String, &str, Decision)> = vec![
        // plain, space separated
        (
            format!("[{h}]:{p} {A}\n"),
            A,
            Decision::Trusted { at: at(1) },
        ),
        // tab separated, with a comment line and a key comment
        (
            format!(
                "# matelot\n[{h}]:{p}\t{}\tcomment here\n",
                A.replace(' ', "\t")
            ),
            A,
            Decision::Trusted { at: at(2) },
        ),
        // hashed
        (format!("{HASHED_A}\n"), A, Decision::Trusted { at: at(1) }),
        // nothing for this host (other port)
        (
            format!("[{h}]:2223 {A}\n"),
            A,
            Decision::Unknown {
                cert_authority: None,
            },
        ),
        // same type, other key
        (
            format!("\n[{h}]:{p} {B}\n"),
            A,
            Decision::Changed {
                at: at(2),
                known: key(B),
            },
        ),
        // RSA-only entry, ed25519 server: changed, not unknown
        (
            format!("[{h}]:{p} {R}\n"),
            A,
            Decision::Changed {
                at: at(1),
                known: key(R),
            },
        ),
        // several keys for the host, one matches: trusted
        (
            format!("[{h}]:{p} {C}\n[{h}]:{p} {A}\n"),
            A,
            Decision::Trusted { at: at(2) },
        ),
        // revoked beats a trusting line
        (
            format!("[{h}]:{p} {A}\n@revoked * {A}\n"),
            A,
            Decision::Revoked { at: at(2) },
        ),
        // a revoked line for another key is no verdict on ours
        (
            format!("@revoked * {B}\n"),
            A,
            Decision::Unknown {
                cert_authority: None,
            },
        ),
        // only a cert-authority line: unknown, and say so
        (
            format!("@cert-authority *.lab,[{h}]:{p} {B}\n"),
            A,
            Decision::Unknown {
                cert_authority: Some(at(1)),
            },
        ),
        // negation vetoes the line
        (
            format!("[127.0.0.*]:{p},![{h}]:{p} {B}\n"),
            A,
            Decision::Unknown {
                cert_authority: None,
            },
        ),
    ];
    for (text, offered, want) in cases {
        let got = kh(&text).check(h, p, &key(offered));
        assert_eq!(got, want, "known_hosts:\n{text}");
    }
}

#[test]
fn malformed_lines_are_skipped_and_reported() {
    let k = kh(&format!(
        "garbage\n@weird * {A}\nh ssh-ed25519 !!!notbase64\n127.0.0.2 {A}\n"
    ));
    assert_eq!(k.entries.len(), 1);
    assert_eq!(
        k.skipped,
        vec![
            "kh:1: no key type".to_string(),
            "kh:2: unknown marker @weird".to_string(),
            "kh:3: ssh-ed25519 key is not valid base64".to_string(),
        ]
    );
    assert_eq!(
        k.check("127.0.0.2", 22, &key(A)),
        Decision::Trusted { at: at(4) }
    );
}

#[test]
fn known_types_in_file_order() {
    let k = kh(&format!("h {R}\nh {C}\nh {R}\n@revoked h {A}\nother {A}\n"));
    assert_eq!(
        k.known_types("h", 22),
        vec!["ssh-rsa", "ecdsa-sha2-nistp256"]
    );
    assert!(k.known_types("nobody", 22).is_empty());
}

#[test]
fn entry_line_is_what_openssh_writes() {
    assert_eq!(
        entry_line("127.0.0.2", 2222, &key(A)),
        format!("[127.0.0.2]:2222 {A}")
    );
    assert_eq!(
        entry_line("Calcul.example.org", 22, &key(A)),
        format!("calcul.example.org {A}")
    );
}

#[test]
fn append_creates_and_appends_without_touching_lines() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = dir.path().join("sub/known_hosts");
    let loc = append_entry(&f, "h", 2222, &key(A)).expect("append");
    assert_eq!(loc.line, 1);
    // a file without a final newline keeps its last line intact
    std::fs::write(&f, format!("# note\n[h]:2222 {A}")).expect("write");
    let loc = append_entry(&f, "g", 22, &key(B)).expect("append");
    assert_eq!(loc.line, 3);
    assert_eq!(
        std::fs::read_to_string(&f).expect("read"),
        format!("# note\n[h]:2222 {A}\ng {B}\n")
    );
    let k = KnownHosts::load(std::slice::from_ref(&f)).expect("load");
    assert!(matches!(
        k.check("g", 22, &key(B)),
        Decision::Trusted { .. }
    ));
}

#[test]
fn missing_files_are_empty() {
    let k = KnownHosts::load(&[PathBuf::from("/nonexistent/matelot/known_hosts")]).expect("ok");
    assert!(k.entries.is_empty());
}

#[test]
fn operator_fingerprints_are_normalised() {
    let fp = "SHA256:LyzZrr9AsLaJHR8PjOJwXD9Do11ZrrpOGyW6KdOVI20";
    for given in [
        fp,
        "LyzZrr9AsLaJHR8PjOJwXD9Do11ZrrpOGyW6KdOVI20",
        "LyzZrr9AsLaJHR8PjOJwXD9Do11ZrrpOGyW6KdOVI20=",
        " SHA256:LyzZrr9AsLaJHR8PjOJwXD9Do11ZrrpOGyW6KdOVI20\n",
    ] {
        assert_eq!(parse_fingerprint(given).as_deref(), Ok(fp), "{given:?}");
    }
    assert!(
        parse_fingerprint("MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48")
            .is_err_and(|e| e.contains("MD5"))
    );
    assert!(parse_fingerprint("SHA256:short").is_err_and(|e| e.contains("not a SHA256")));
}

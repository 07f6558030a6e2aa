//! The facts script, exactly, and its parser on normal and odd output.

use super::*;

#[test]
fn the_script_is_exactly_this() {
    let script = facts_script(UidRange {
        min: 1000,
        max: 60000,
    });
    insta::assert_snapshot!(script);
    assert!(script.contains(r#"[ "$uid" -ge 1000 ] && [ "$uid" -lt 60000 ] || continue"#));
    assert!(script.ends_with("}\nmatelot_facts </dev/null\n"));
}

const NORMAL: &str = "Linux calcul 6.1 banner line\n\
#matelot-facts\t1\n\
T\t1728000000\n\
U\t0\n\
P\troot:x:0:0:root:/root:/bin/bash\n\
P\talice:x:1001:1001:Alice Martin,Room 12,,:/home/alice:/bin/bash\n\
P\tbob:x:1002:1002::/home/bob:/usr/sbin/nologin\n\
P\tnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n\
G\troot:x:0:\n\
G\tsudo:x:27:alice\n\
G\tphysics:x:2000:alice,bob\n\
G\talice:x:1001:\n\
S\troot\tL\t\n\
S\talice\tP\t20100\n\
S\tbob\tN\t1\n\
S\tnobody\tN\t\n\
K\talice\tok\n\
k\talice\tssh-ed25519 AAAA alice@laptop\n\
k\talice\t\n\
k\talice\t# a comment\n\
k\talice\t  ssh-rsa BBBB alice@desk  \n\
K\tbob\tmissing\n\
#end\n";

#[test]
fn normal_output() {
    let f = parse_facts("calcul", NORMAL, UidRange::default()).unwrap();
    assert_eq!(f.host, "calcul");
    assert_eq!(f.today, 20000);
    assert!(f.root);
    assert!(f.skipped.is_empty(), "{:?}", f.skipped);
    let alice = &f.users["alice"];
    assert_eq!((alice.uid, alice.gid), (1001, 1001));
    assert_eq!(alice.full_name(), "Alice Martin");
    assert_eq!(alice.password, PasswordState::Usable);
    assert_eq!(alice.expiry, Some(20100));
    assert_eq!(
        alice.keys,
        Some(AuthorizedKeys::Present(vec![
            "ssh-ed25519 AAAA alice@laptop".into(),
            "ssh-rsa BBBB alice@desk".into()
        ]))
    );
    let bob = &f.users["bob"];
    assert_eq!(bob.keys, Some(AuthorizedKeys::Missing));
    assert!(bob.is_locked(f.today));
    assert_eq!(f.users["root"].password, PasswordState::Locked);
    assert_eq!(
        f.users["root"].keys, None,
        "keys are only gathered for managed accounts"
    );
    assert_eq!(f.users["nobody"].keys, None);
    assert_eq!(
        f.groups_of("alice").into_iter().collect::<Vec<_>>(),
        ["physics", "sudo"]
    );
    assert_eq!(f.groups["physics"].gid, 2000);
}

#[test]
fn odd_lines_are_skipped_and_kept() {
    let out = "#matelot-facts\t1\r\n\
T\t86400\r\n\
U\t1000\r\n\
P\tbroken line without fields\r\n\
P\tcarol:x:notanumber:1:::/bin/sh\r\n\
P\tdave:x:1004:1004:Dave:/home/dave:/bin/bash\r\n\
P\tdave:x:2004:2004:Second Dave from NSS:/home/dave2:/bin/bash\r\n\
G\tlab:x:2001:dave,,\r\n\
G\tbad:x:gid:\r\n\
S\tdave\tQ\t\r\n\
k\tnobody-announced\tssh-ed25519 AAAA\r\n\
X\tfuture record\r\n\
\r\n\
#end\r\n";
    let f = parse_facts("h", out, UidRange::default()).unwrap();
    assert_eq!(f.today, 1);
    assert!(!f.root);
    assert_eq!(f.users.len(), 1);
    assert_eq!(
        f.users["dave"].uid, 1004,
        "the first entry wins, as getent does"
    );
    assert_eq!(f.users["dave"].password, PasswordState::Unknown);
    assert_eq!(f.users["dave"].keys, None);
    assert_eq!(f.groups["lab"].members.iter().collect::<Vec<_>>(), ["dave"]);
    assert_eq!(
        f.skipped,
        [
            "P\tbroken line without fields",
            "P\tcarol:x:notanumber:1:::/bin/sh",
            "P\tdave:x:2004:2004:Second Dave from NSS:/home/dave2:/bin/bash",
            "G\tbad:x:gid:",
            "S\tdave\tQ\t",
            "k\tnobody-announced\tssh-ed25519 AAAA",
            "X\tfuture record",
        ]
    );
}

#[test]
fn unusable_output_is_refused_with_a_reason() {
    let cases: &[(&str, &str)] = &[
        (
            "bash: command not found\n",
            "h: the facts script printed no header (output starts with \"bash: command not found\\n\"); is bash available there, and does the login print nothing on stdout?",
        ),
        (
            "#matelot-facts\t2\n#end\n",
            "h: facts format version 2 is not understood by this matelot",
        ),
        (
            "#matelot-facts\t1\nT\t1\nP\troot:x:0:0:root:/root:/bin/bash\n",
            "h: the facts output is incomplete (3 lines, no end marker); retry",
        ),
        (
            "#matelot-facts\t1\nT\tnoon\n#end\n",
            "h: the facts output has no valid clock line",
        ),
    ];
    for (out, want) in cases {
        let got = parse_facts("h", out, UidRange::default())
            .unwrap_err()
            .to_string();
        assert_eq!(&got, want);
    }
}

//! Exact strings of the account scripts, and the capture reader.

use super::*;
use crate::compute::account_snapshot::ShadowLine;
use crate::compute::restic::SnapshotId;

fn rp() -> AccountRestorePoint {
    AccountRestorePoint {
        host: "calcul".into(),
        username: "zoe".into(),
        uid: 2001,
        gid: 2001,
        passwd_line: "zoe:x:2001:2001:Zoé D, room 4:/home/zoe:/bin/bash".into(),
        group_lines: vec![
            "team:x:2500:bob,zoe".into(),
            "other:x:2501:zoe".into(),
            "zoe:x:2001:".into(),
        ],
        shadow_line: Some(
            ShadowLine::parse("zoe:!$6$abc$defhash:20786:2:90:5::1:").expect("9 fields"),
        ),
        authorized_keys: Some("ssh-ed25519 AAAA zoe@x\n".into()),
        home: "/home/zoe".into(),
        home_bytes: Some(4841),
        snapshot_id: Some(SnapshotId::parse(&"ab".repeat(32)).expect("hex")),
        repository: "/srv/restic".into(),
        taken_at: "2026-11-29T21:50:16Z".into(),
    }
}

#[test]
fn capture_passes_the_username_as_an_argument() {
    let cmd = capture("zoe").expect("builds");
    let want = format!(
        "sh -c {} sh zoe",
        shlex::try_quote(CAPTURE_SCRIPT).expect("quotable")
    );
    assert_eq!(cmd.as_str(), want);
    assert!(cmd.as_str().starts_with(
        "sh -c 'u=$1\npw=$(awk -F: -v u=\"$u\" '\"'\"'$1 == u { print; exit }'\"' /etc/passwd)\n"
    ));
    assert!(cmd.as_str().ends_with("\nfi' sh zoe"));
    // What the remote shell reads back is exactly the script and the name.
    assert_eq!(
        shlex::split(cmd.as_str()),
        Some(vec![
            "sh".to_string(),
            "-c".into(),
            CAPTURE_SCRIPT.into(),
            "sh".into(),
            "zoe".into()
        ])
    );
}

#[test]
fn recreate_is_exact() {
    let cmd = recreate(&rp()).expect("builds");
    let want = r#"set -e
if getent passwd zoe >/dev/null; then echo 'account zoe already exists: nothing recreated' >&2; exit 17; fi
if getent passwd 2001 >/dev/null; then echo 'uid 2001 now belongs to another account: nothing recreated' >&2; exit 17; fi
g=$(getent group team | cut -d: -f3); if [ -n "$g" ] && [ "$g" != 2500 ]; then echo 'group team now has another gid (not 2500): nothing recreated' >&2; exit 17; fi
g=$(getent group other | cut -d: -f3); if [ -n "$g" ] && [ "$g" != 2501 ]; then echo 'group other now has another gid (not 2501): nothing recreated' >&2; exit 17; fi
g=$(getent group zoe | cut -d: -f3); if [ -n "$g" ] && [ "$g" != 2001 ]; then echo 'group zoe now has another gid (not 2001): nothing recreated' >&2; exit 17; fi
if ! getent group team >/dev/null; then groupadd -g 2500 team; fi
if ! getent group other >/dev/null; then groupadd -g 2501 other; fi
if ! getent group zoe >/dev/null; then groupadd -g 2001 zoe; fi
useradd -M -u 2001 -g 2001 -G 'team,other' -c 'Zoé D, room 4' -d /home/zoe -s /bin/bash zoe
chpasswd -e
chage -d 20786 -m 2 -M 90 -W 5 -I -1 -E 1 zoe"#;
    assert_eq!(cmd.as_str(), want);
    assert!(
        !cmd.as_str().contains("defhash"),
        "the hash never goes on a command line"
    );
    assert_eq!(
        shadow_stdin(&rp()).as_deref(),
        Some("zoe:!$6$abc$defhash\n")
    );
}

#[test]
fn recreate_quotes_hostile_fields_and_skips_what_is_absent() {
    let mut r = rp();
    r.passwd_line = "zoe:x:2001:2001:$(reboot) 'x':/home/it's zoe:/bin/sh".into();
    r.group_lines = vec!["zoe:x:2001:".into()];
    r.shadow_line = None;
    let cmd = recreate(&r).expect("builds");
    let want = r#"set -e
if getent passwd zoe >/dev/null; then echo 'account zoe already exists: nothing recreated' >&2; exit 17; fi
if getent passwd 2001 >/dev/null; then echo 'uid 2001 now belongs to another account: nothing recreated' >&2; exit 17; fi
g=$(getent group zoe | cut -d: -f3); if [ -n "$g" ] && [ "$g" != 2001 ]; then echo 'group zoe now has another gid (not 2001): nothing recreated' >&2; exit 17; fi
if ! getent group zoe >/dev/null; then groupadd -g 2001 zoe; fi
useradd -M -u 2001 -g 2001 -c '$(reboot) '"'x'" -d "/home/it's zoe" -s /bin/sh zoe"#;
    assert_eq!(cmd.as_str(), want);
    assert_eq!(shadow_stdin(&r), None);
    r.passwd_line = "zoe:x:2001".into();
    assert!(recreate(&r).is_err());
}

#[test]
fn keys_are_written_as_the_account() {
    let cmd = write_keys(2001, 2001, "/home/it's zoe").expect("builds");
    assert_eq!(
        cmd.as_str(),
        format!(
            "setpriv '--reuid=2001' '--regid=2001' --clear-groups sh -c {} sh \"/home/it's zoe\"",
            shlex::try_quote(WRITE_KEYS_SCRIPT).expect("quotable")
        )
    );
    assert_eq!(
        WRITE_KEYS_SCRIPT,
        r#"umask 077 && mkdir -p "$1/.ssh" && cat > "$1/.ssh/authorized_keys.matelot-new" && mv -f "$1/.ssh/authorized_keys.matelot-new" "$1/.ssh/authorized_keys""#
    );
}

#[test]
fn capture_output_is_read() {
    let out = "passwd\tzoe:x:2001:2001:Zoé D, room 4:/home/zoe:/bin/bash\ngroup\tteam:x:2500:zoe\ngroup\tzoe:x:2001:\nshadow\tzoe:!:20786:0:99999:7:::\nhome_bytes\t4841\nkeys\tc3NoLWVkMjU1MTkgQUFBQSB6b2VAeAo=\n";
    let c = parse_capture(out).expect("parses");
    assert_eq!(
        c,
        Captured {
            passwd: Some("zoe:x:2001:2001:Zoé D, room 4:/home/zoe:/bin/bash".into()),
            groups: vec!["team:x:2500:zoe".into(), "zoe:x:2001:".into()],
            shadow: Some("zoe:!:20786:0:99999:7:::".into()),
            home_bytes: Some(4841),
            keys_b64: Some("c3NoLWVkMjU1MTkgQUFBQSB6b2VAeAo=".into()),
        }
    );
    assert!(parse_capture("garbage\n").is_err());
    assert!(parse_capture("home_bytes\tlots\n").is_err());
    assert_eq!(parse_capture("").expect("empty"), Captured::default());
}

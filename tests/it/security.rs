//! Hostile rosters (part E): shell metacharacters, `$(...)`, backticks, newlines, key options
//! such as `command="..."`, look-alike Unicode and over-long names are refused before anything
//! is touched, and strange-but-valid values (quotes, `$`, `;`, backticks in a full name, an
//! email or a key comment) land verbatim where they belong and are never executed. Proved on
//! the sandboxed host itself: the canary files that any executed payload would create never
//! appear, and the accounts are exactly the planned ones.

use crate::journal::run_in;
use crate::user::estate::Estate;

/// Where an executed payload would leave a mark, inside the sandbox.
const CANARIES: &[&str] = &["/tmp/canary", "/root/canary", "/home/canary", "/canary"];

const KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";

fn assert_no_canary(e: &Estate) {
    for c in CANARIES {
        let (exists, _) = e.try_exec(&["test", "-e", c]);
        assert!(!exists, "{c} exists in the sandbox: something ran");
    }
    let (_, found) = e.try_exec(&[
        "sh",
        "-c",
        "find /home /tmp /root /srv -name '*canary*' 2>/dev/null",
    ]);
    assert_eq!(found.trim(), "", "canary files found: {found}");
}

#[test]
fn hostile_entries_are_refused_before_anything_is_touched() {
    let e = Estate::start("sec-reject");
    let long = "a".repeat(33);
    let roster = format!(
        "username;email;name;groups;keys\n\
         ok;ok@example.org;Fine;;\n\
         $(touch /tmp/canary);a@example.org;;;\n\
         `touch /root/canary`;b@example.org;;;\n\
         c;touch /tmp/canary;c@example.org;;;\n\
         \"d\ntouch /tmp/canary\";d@example.org;;;\n\
         evil;evil@example.org;;;command=\"touch /tmp/canary\" {KEY} x\n\
         \u{0430}lice;alice@example.org;;;\n\
         {long};long@example.org;;;\n\
         g;g@example.org;;staff$(touch /tmp/canary);\n\
         h;$(touch /tmp/canary)@example.org;;;\n\
         i;i@example.org;Bob \u{202E}gnp.exe;;\n\
         j;j@example.org;;;{KEY} $(touch /tmp/canary)\u{0007}\n"
    );
    let before = e.host_state();
    let t = e.test().write("hostile.csv", &roster);
    let run = run_in(&t, &["user", "sync", "hostile.csv", "--yes"]).status(2);
    // Every hostile line is reported, with its line (line 6 is two physical lines, 6-7).
    for line in [3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14] {
        let at = format!("hostile.csv:{line}:");
        assert!(run.stderr.contains(&at), "{at} missing:\n{}", run.stderr);
    }
    assert!(!run.stderr.contains("hostile.csv:2:"), "{}", run.stderr);
    assert!(run.stderr.contains("options prefix"), "{}", run.stderr);
    assert!(run.stderr.contains("nothing was changed"), "{}", run.stderr);
    assert_eq!(e.host_state(), before, "a refused roster changed the host");
    assert_eq!(
        e.lab.requests(),
        vec![],
        "a refused roster reached the Cloudron"
    );
    assert_no_canary(&e);

    // The same values one at a time through `user add`: refused the same way.
    for (name, email, full, key) in [
        ("$(touch /tmp/canary)", "x@example.org", "X", ""),
        (
            "x",
            "x@example.org",
            "X",
            "command=\"touch /tmp/canary\" ssh-ed25519 AAAA",
        ),
        ("x", "x@example.org", "X\u{202E}", ""),
        ("x", "$(touch /tmp/canary)@example.org", "X", ""),
    ] {
        let mut args = vec!["user", "add", name, "--email", email, "--name", full];
        if !key.is_empty() {
            args.extend(["--key", key]);
        }
        run_in(&t, &args)
            .status(2)
            .stderr_has("nothing was changed");
    }
    assert_eq!(e.host_state(), before);
    assert_eq!(e.lab.requests(), vec![]);
    assert_no_canary(&e);
}

#[test]
fn strange_but_valid_values_land_verbatim_and_are_never_run() {
    let e = Estate::start("sec-verbatim");
    let full = "Zoë O'Brien \"Z\" $(touch /tmp/canary); `touch /root/canary` $HOME & | > < \\ *";
    let email = "`touch${IFS}/tmp/canary`@example.org";
    let key = format!("{KEY} zoe $(touch /tmp/canary);`touch /root/canary`'\"");
    let quoted = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let roster = format!(
        "username;email;name;groups;keys\r\nzoe;{};{};lab-1;{}\r\n",
        quoted(email),
        quoted(full),
        quoted(&key)
    );
    let passwd_before = e.exec(&["getent", "passwd"]);
    let groups_before = e.exec(&["getent", "group"]);
    let t = e.test().write("odd.csv", &roster);
    let run = run_in(&t, &["user", "sync", "odd.csv", "--yes"]).success();
    assert!(
        run.stdout.contains("+ user zoe on sec-verbatim"),
        "{}",
        run.stdout
    );

    // GECOS holds the name exactly (no comma to turn into a space here).
    let gecos = e.exec(&["getent", "passwd", "zoe"]);
    let fields: Vec<&str> = gecos.trim_end().split(':').collect();
    assert_eq!(fields[4], full);
    assert_eq!(
        e.exec(&["cat", "/home/zoe/.ssh/authorized_keys"]),
        format!("{key}\n")
    );
    let u = e.cloudron_user("zoe").expect("zoe on the Cloudron");
    assert_eq!(u["displayName"], full);
    assert_eq!(
        u["email"],
        email.to_lowercase(),
        "emails are stored lower case"
    );
    assert_no_canary(&e);

    // Exactly the planned accounts and groups appeared: zoe, her group, lab-1.
    let added = |before: &str, after: &str| -> Vec<String> {
        let names = |t: &str| -> Vec<String> {
            t.lines()
                .filter_map(|l| l.split(':').next())
                .map(str::to_string)
                .collect()
        };
        let old = names(before);
        names(after)
            .into_iter()
            .filter(|n| !old.contains(n))
            .collect()
    };
    assert_eq!(
        added(&passwd_before, &e.exec(&["getent", "passwd"])),
        ["zoe"]
    );
    let mut new_groups = added(&groups_before, &e.exec(&["getent", "group"]));
    new_groups.sort();
    assert_eq!(new_groups, ["lab-1", "zoe"]);

    // A re-run finds everything in place (the values read back equal the values written).
    run_in(&t, &["user", "sync", "odd.csv"])
        .success()
        .stdout_has("nothing to change");
    assert_no_canary(&e);
}

//! Table-driven tests of the schema: each case is a file and the exact problems it yields.

use std::path::Path;

use super::*;

fn check(text: &str) -> Result<(FileSettings, Vec<String>), Vec<String>> {
    parse(
        text,
        Path::new("m.toml"),
        Path::new("/etc/matelot"),
        Some(Path::new("/home/ada")),
    )
}

fn problems(text: &str) -> Vec<String> {
    match check(text) {
        Ok((_, p)) => p,
        Err(p) => p,
    }
}

#[test]
fn each_invalid_value_is_reported_where_it_is() {
    let cases: &[(&str, &str)] = &[
        (
            "cloudron = { url = 5 }",
            "m.toml:1:20: cloudron.url: expected a string, found an integer",
        ),
        (
            "cloudron.url = 5",
            "m.toml:1:16: cloudron.url: expected a string, found an integer",
        ),
        (
            "[[compute]]\nhost = \"x\"",
            "m.toml:1:1: compute: expected a table, found an array",
        ),
        (
            "[cloudron]\nurl = \"http://my.example.org\"",
            "m.toml:2:7: cloudron.url: http:// is only allowed for a loopback host \
             (127.0.0.1, ::1, localhost); use https://",
        ),
        (
            "[cloudron]\nurl = \"https://u:p@my.example.org\"",
            "m.toml:2:7: cloudron.url: must not contain a user name or password; the token \
             goes in token_file or MATELOT_CLOUDRON_TOKEN",
        ),
        (
            "[cloudron]\nurl = \"https://my.example.org/apps\"",
            "m.toml:2:7: cloudron.url: must be the Cloudron's address without a path \
             (found /apps), e.g. https://my.example.org",
        ),
        (
            "[cloudron]\nurl = \"ftp://my.example.org\"",
            "m.toml:2:7: cloudron.url: unsupported scheme ftp://; use https://",
        ),
        (
            "[cloudron]\nurl = \"https://\"",
            "m.toml:2:7: cloudron.url: not a valid URL (empty host)",
        ),
        (
            "[cloudron]\nurl = \"\"",
            "m.toml:2:7: cloudron.url: must not be empty",
        ),
        (
            "[cloudron]\ntoken = \"s3cr3t\"",
            "m.toml:2:9: cloudron.token: the API token is never written in the configuration; \
             put it in a file named by token_file (chmod 600) or set MATELOT_CLOUDRON_TOKEN",
        ),
        (
            "[cloudron]\nurl = \"https://c.example.org\"\nprotect = [\"matomo\", 3]",
            "m.toml:3:22: cloudron.protect[1]: expected a string, found an integer",
        ),
        (
            "[cloudron]\nurl = \"https://c.example.org\"\ntask_timeout = 600",
            "m.toml:3:16: cloudron.task_timeout: expected a duration string such as \"30s\", \
             \"15m\" or \"26h\", found an integer",
        ),
        (
            "[cloudron]\nurl = \"https://c.example.org\"\ntask_timeout = \"0s\"",
            "m.toml:3:16: cloudron.task_timeout: must be longer than zero",
        ),
        (
            "[cloudron]\nurl = \"https://c.example.org\"\nca_file = \"~bob/ca.pem\"",
            "m.toml:3:11: cloudron.ca_file: only ~ and ~/ are expanded (the current user's \
             home), not \"~bob/ca.pem\"; write the path in full",
        ),
        (
            "[compute.a]\nhost = \"-oProxyCommand=x\"",
            "m.toml:2:8: compute.a.host: not a host name or IP address",
        ),
        (
            "[compute.a]\nhost = \"\"",
            "m.toml:2:8: compute.a.host: must not be empty",
        ),
        (
            "[compute.a]\nport = 22",
            "m.toml:1:1: compute.a: missing key `host` (the server's name or address)",
        ),
        (
            "[compute.a]\nhost = \"h\"\nport = 0",
            "m.toml:3:8: compute.a.port: must be between 1 and 65535, found 0",
        ),
        (
            "[compute.a]\nhost = \"h\"\nport = 65536",
            "m.toml:3:8: compute.a.port: must be between 1 and 65535, found 65536",
        ),
        (
            "[compute.a]\nhost = \"h\"\nport = 22.0",
            "m.toml:3:8: compute.a.port: expected an integer, found a float",
        ),
        (
            "[compute.a]\nhost = \"h\"\nmin_uid = -1",
            "m.toml:3:11: compute.a.min_uid: must be between 0 and 4294967295, found -1",
        ),
        (
            "[compute.a]\nhost = \"h\"\nsudo = \"yes\"",
            "m.toml:3:8: compute.a.sudo: expected a boolean (true or false), found a string",
        ),
        (
            "[compute.a]\nhost = \"h\"\nuser = \"Ada Lovelace\"",
            "m.toml:3:8: compute.a.user: not a valid Unix user name (lowercase letters, \
             digits, '_', '-', '.')",
        ),
        (
            "[compute.\"b c\"]\nhost = \"x\"",
            "m.toml:1:10: compute.b c: a host name in [compute.NAME] uses letters, digits, \
             '-', '_' and '.', starting with a letter or digit",
        ),
        (
            "[compute]\nhost = \"x\"",
            "m.toml:2:8: compute.host: each compute host is a table [compute.NAME] with \
             host = \"...\", found a string",
        ),
        (
            "[backup.compute]\nrepository = \"/r\"\npassword_file = \"pw\"",
            "m.toml:3:17: backup.compute.password_file: a path on the compute host must be \
             absolute",
        ),
        (
            "[backup.compute]\nrepository = \"/r\"\npassword_file = \"/pw\"\npaths = []",
            "m.toml:4:9: backup.compute.paths: list at least one path",
        ),
        (
            "[backup.compute]\nrepository = \"/r\"\npassword_file = \"/pw\"\nkeep = {}",
            "m.toml:4:8: backup.compute.keep: give at least one of daily, weekly, monthly, \
             yearly (without a rule, pruning would keep nothing)",
        ),
        (
            "[backup.compute]\nrepository = \"/r\"\npassword_file = \"/pw\"\nkeep = { hourly = 3, daily = 1 }",
            "m.toml:4:10: unknown key `hourly` in [backup.compute.keep]; expected one of: \
             daily, weekly, monthly, yearly",
        ),
        (
            "[health]\ndisk = { crit = 70 }",
            "m.toml:2:17: health.disk: warn (80) must be below crit (70)",
        ),
        (
            "[health]\ndisk = { warn = 90, crit = 90 }",
            "m.toml:2:17: health.disk: warn (90) must be below crit (90)",
        ),
        (
            "[health]\ndisk = { warn = 0 }",
            "m.toml:2:17: health.disk.warn: must be between 1 and 100, found 0",
        ),
        (
            "[health]\nbackup_max_age = \"a day\"",
            "m.toml:2:18: health.backup_max_age: \"a day\" is not a duration (expected number \
             at 0); write for example \"30s\", \"15m\", \"26h\" or \"90d\"",
        ),
        (
            "[guard]\npreserve = true",
            "m.toml:2:12: guard.preserve: expected a duration string such as \"30s\", \"15m\" \
             or \"26h\", found a boolean",
        ),
        (
            "[state]\ndri = \"/x\"",
            "m.toml:2:1: unknown key `dri` in [state]; did you mean `dir`?",
        ),
        (
            "[clodron]\nurl = \"https://c.example.org\"",
            "m.toml:1:2: unknown key `clodron` at the top level; did you mean `cloudron`?",
        ),
        (
            "state = 3",
            "m.toml:1:9: state: expected a table, found an integer",
        ),
        (
            "a = ",
            "m.toml:1:5: invalid TOML: string values must be quoted, expected literal string",
        ),
        (
            "[compute.a]\nhost = \"h\"\nport = 2\nport = 3",
            "m.toml:4:1: invalid TOML: duplicate key",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(problems(text), vec![want.to_string()], "for:\n{text}");
    }
}

#[test]
fn every_problem_of_a_file_is_reported_in_file_order() {
    let text = "\
[cloudron]
url = \"http://my.example.org\"
tokn_file = \"t\"

[compute.calcul]
host = \"calcul.example.org\"
port = 70000
usr = \"root\"

[health]
disk = { warn = 95, crit = 90 }
";
    let got = problems(text);
    assert_eq!(
        got,
        [
            "m.toml:2:7: cloudron.url: http:// is only allowed for a loopback host (127.0.0.1, \
             ::1, localhost); use https://",
            "m.toml:3:1: unknown key `tokn_file` in [cloudron]; did you mean `token_file`?",
            "m.toml:7:8: compute.calcul.port: must be between 1 and 65535, found 70000",
            "m.toml:8:1: unknown key `usr` in [compute.calcul]; did you mean `user`?",
            "m.toml:11:17: health.disk: warn (95) must be below crit (90)",
        ]
    );
}

#[test]
fn a_full_file_is_read_with_positions() {
    let text = "\
[cloudron]
url = \"my.example.org/api/v1/\"
token_file = \"cloudron.token\"
ca_file = \"~/ca.pem\"
protect = \"matomo.example.org\"
task_timeout = \"2h\"

[compute.calcul]
host = \"calcul.example.org\"
port = 2222
user = \"admin\"
sudo = true
identity = \"/keys/id_ed25519\"
min_uid = 2000

[compute.gpu]
host = \"10.0.0.7\"

[backup.compute]
repository = \"s3:https://s3.example.org/bucket\"
password_file = \"/root/.config/restic/password\"
paths = [\"/home\", \"/srv\"]
keep = { daily = 7, yearly = 2 }

[health]
disk = { warn = 70 }
backup_max_age = \"30h\"

[guard]
preserve = \"30d\"

[state]
dir = \"state\"
";
    let (f, problems) = check(text).unwrap();
    assert_eq!(problems, Vec::<String>::new());
    let c = f.cloudron.unwrap();
    let url = c.url.unwrap();
    assert_eq!(url.value.as_str(), "https://my.example.org/");
    assert_eq!(url.loc.to_string(), "m.toml:2:7");
    let tf = c.token_file.unwrap().value;
    assert_eq!(tf, Path::new("/etc/matelot/cloudron.token"));
    assert_eq!(c.ca_file.unwrap().value, Path::new("/home/ada/ca.pem"));
    assert_eq!(c.protect.unwrap().value, ["matomo.example.org"]);
    let task = c.task_timeout.unwrap().value;
    assert_eq!(task, std::time::Duration::from_secs(7200));
    assert!(c.connect_timeout.is_none());
    let calcul = &f.compute["calcul"];
    assert_eq!(calcul.host.value, "calcul.example.org");
    assert_eq!(calcul.port.as_ref().map(|p| p.value), Some(2222));
    assert_eq!(calcul.sudo.as_ref().map(|s| s.value), Some(true));
    assert_eq!(calcul.min_uid.as_ref().map(|s| s.value), Some(2000));
    assert_eq!(f.compute["gpu"].host.value, "10.0.0.7");
    assert!(f.compute["gpu"].port.is_none());
    let b = f.backup_compute.unwrap();
    assert_eq!(b.paths.unwrap().value, ["/home", "/srv"]);
    let keep = b.keep.unwrap().value;
    assert_eq!(
        (keep.daily, keep.weekly, keep.yearly),
        (Some(7), None, Some(2))
    );
    assert_eq!(f.health.disk_warn.map(|w| w.value), Some(70));
    assert!(f.health.disk_crit.is_none());
    assert_eq!(f.state_dir.unwrap().value, Path::new("/etc/matelot/state"));
}

#[test]
fn an_empty_file_is_valid() {
    let (f, p) = check("# nothing yet\n").unwrap();
    assert!(p.is_empty());
    assert!(f.cloudron.is_none() && f.compute.is_empty() && f.backup_compute.is_none());
}

#[test]
fn the_documented_example_is_valid_and_every_key_is_documented() {
    let doc = include_str!("../../docs/config.md");
    let start = doc.find("```toml\n").map(|i| i + 8).unwrap();
    let end = start + doc[start..].find("```").unwrap();
    let (settings, problems) = check(&doc[start..end]).unwrap();
    assert_eq!(problems, Vec::<String>::new());
    assert_eq!(settings.compute.len(), 2);
    assert!(settings.cloudron.is_some() && settings.backup_compute.is_some());
    for keys in [CLOUDRON, COMPUTE, BACKUP_COMPUTE, HEALTH, GUARD, STATE] {
        for key in keys {
            assert!(
                doc.contains(&format!("| `{key}`")),
                "docs/config.md lacks `{key}`"
            );
        }
    }
    for var in crate::config::sources::var::ALL {
        assert!(
            doc.contains(&format!("| `{var}`")),
            "docs/config.md lacks {var}"
        );
    }
    for section in ROOT {
        assert!(
            doc.contains(&format!("### `[{section}")),
            "docs lack [{section}]"
        );
    }
}

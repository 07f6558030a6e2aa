//! The parsers against output captured from restic 0.14.0 (Debian bookworm) runs.

use super::*;

const SNAPSHOTS: &str = r#"[{"time":"2026-11-29T21:48:30.086249704Z","tree":"8cc056902c6ad4338e35a733421d01e352a76212607d3b736509164c76d71f44","paths":["/srv/data"],"hostname":"calcul","username":"root","tags":["matelot","nightly"],"id":"f41a59775ba81e4ba7c18868e076df584ff09d5c23fd92c3066a7706500ed79c","short_id":"f41a5977"},{"time":"2026-11-29T21:48:34.208530645Z","tree":"e4d0e602d7cc907e9fccc6d045e69b8bfc252865e71a4f85a4af70b84b26198b","paths":["/srv/data"],"hostname":"beta","username":"root","id":"a69cb453d555eecd0bc403f8207c80caca8bb1c23d31535b19775ba47350aa3b","short_id":"a69cb453"}]
"#;

const BACKUP_STDOUT: &str = r#"{"message_type":"status","percent_done":0,"total_files":1,"total_bytes":6}
{"message_type":"summary","files_new":2,"files_changed":0,"files_unmodified":0,"dirs_new":4,"dirs_changed":0,"dirs_unmodified":0,"data_blobs":2,"tree_blobs":5,"data_added":2118,"total_files_processed":2,"total_bytes_processed":12,"total_duration":0.227562536,"snapshot_id":"f41a5977"}
"#;

const INCOMPLETE_STDERR: &str = r#"{"message_type":"error","error":{"Op":"read","Path":"/proc/self/mem","Err":5},"during":"archival","item":"/proc/self/mem"}
Warning: at least one source file could not be read
"#;

const SKIPPED_STDERR: &str = "/srv/nothere does not exist, skipping\n";

const FORGET_STDOUT: &str = r#"[{"tags":null,"host":"calcul","paths":["/srv/data"],"keep":[{"time":"2026-11-29T21:48:53.695446061Z","parent":"c7e4b218ffc40d45050242535146674365abe4fae2d11ad26c4546fb6959b2b9","tree":"91a2924977b6a0f3405c0f6713af6c2f27bfcafff2670f1849ecb81b73536ee8","paths":["/srv/data"],"hostname":"calcul","username":"root","tags":["nightly"],"id":"7077241044f8d315812b5921a30c8e633003115ab8970bb983caed4e7872759b","short_id":"70772410"}],"remove":[{"time":"2026-11-29T21:48:53.285561585Z","parent":"f41a59775ba81e4ba7c18868e076df584ff09d5c23fd92c3066a7706500ed79c","tree":"70b6a4358e2a6ca41bf064602f74cf6779c2d8c1b8a1d8d0b1b2a8a9d4b1e2c3","paths":["/srv/data"],"hostname":"calcul","username":"root","tags":["nightly"],"id":"c7e4b218ffc40d45050242535146674365abe4fae2d11ad26c4546fb6959b2b9","short_id":"c7e4b218"}],"reasons":[{"snapshot":{"time":"2026-11-29T21:48:53.695446061Z","tree":"91a2924977b6a0f3405c0f6713af6c2f27bfcafff2670f1849ecb81b73536ee8","paths":["/srv/data"],"hostname":"calcul","username":"root","tags":["nightly"]},"matches":["last snapshot"],"counters":{}}]}]
loading indexes...
loading all snapshots...
finding data that is still in use for 3 snapshots
[0:00] 100.00%  3 / 3 snapshots

to repack:             5 blobs / 1.537 KiB
removing 3 old packs
done
"#;

#[test]
fn snapshots_are_read_with_null_tags_as_empty() {
    let snaps = parse_snapshots(SNAPSHOTS).expect("parses");
    assert_eq!(snaps.len(), 2);
    let a = &snaps[0];
    assert_eq!(
        a.id.as_str(),
        "f41a59775ba81e4ba7c18868e076df584ff09d5c23fd92c3066a7706500ed79c"
    );
    assert_eq!(a.id.short(), "f41a5977");
    assert_eq!(a.short_id, "f41a5977");
    assert_eq!(a.paths, vec!["/srv/data"]);
    assert_eq!(a.hostname, "calcul");
    assert_eq!(a.tags, vec!["matelot", "nightly"]);
    assert_eq!(a.taken_at().map(|t| t.timestamp()), Some(1_795_988_910));
    assert!(snaps[1].tags.is_empty());
    assert_eq!(parse_snapshots("[]\n"), Ok(vec![]));
    assert!(parse_snapshots("").is_err());
    assert!(parse_snapshots("Fatal: wrong password").is_err());
}

#[test]
fn a_snapshot_id_is_64_hex_digits() {
    assert!(SnapshotId::parse("f41a5977").is_err());
    assert!(SnapshotId::parse(&"g".repeat(64)).is_err());
    let id = SnapshotId::parse(&"AB".repeat(32)).expect("hex");
    assert_eq!(id.as_str(), "ab".repeat(32));
    let json = serde_json::to_string(&id).expect("serialises");
    assert_eq!(json, format!("\"{}\"", "ab".repeat(32)));
    let back: SnapshotId = serde_json::from_str(&json).expect("reads back");
    assert_eq!(back, id);
    assert!(serde_json::from_str::<SnapshotId>("\"latest\"").is_err());
}

#[test]
fn the_backup_summary_is_the_summary_line() {
    let s = parse_backup_summary(BACKUP_STDOUT).expect("summary");
    assert_eq!(s.snapshot_id, "f41a5977");
    assert_eq!(s.files_new, 2);
    assert_eq!(s.total_files_processed, 2);
    assert_eq!(s.total_bytes_processed, 12);
    assert_eq!(s.data_added, 2118);
    assert!((s.total_duration - 0.227562536).abs() < 1e-9);
    let status_only = BACKUP_STDOUT.lines().next().unwrap_or_default();
    assert_eq!(parse_backup_summary(status_only), None);
    assert_eq!(parse_backup_summary("Fatal: nope\n"), None);
}

#[test]
fn backup_error_lines_name_the_files() {
    let errs = parse_backup_errors(INCOMPLETE_STDERR);
    assert_eq!(
        errs,
        vec![ItemError {
            item: "/proc/self/mem".into(),
            during: "archival".into(),
            detail: "read: errno 5".into(),
        }]
    );
    assert_eq!(errs[0].to_string(), "/proc/self/mem: read: errno 5");
    let text = r#"{"message_type":"error","error":"permission denied","during":"scan","item":"/home/x/y"}"#;
    assert_eq!(parse_backup_errors(text)[0].detail, "permission denied");
    assert!(parse_backup_errors("Fatal: all target directories/files do not exist\n").is_empty());
    assert_eq!(parse_skipped_paths(SKIPPED_STDERR), vec!["/srv/nothere"]);
}

#[test]
fn forget_reads_the_first_line_only() {
    let groups = parse_forget(FORGET_STDOUT).expect("parses");
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].host, "calcul");
    assert!(groups[0].tags.is_empty());
    assert_eq!(groups[0].keep.len(), 1);
    assert_eq!(groups[0].remove.len(), 1);
    assert_eq!(groups[0].remove[0].short_id, "c7e4b218");
    // `remove: null` when nothing goes; nothing printed when nothing matched the filter.
    let none = r#"[{"tags":null,"host":"h1","paths":["/x"],"keep":[],"remove":null,"reasons":[]}]"#;
    assert!(parse_forget(none).expect("parses")[0].remove.is_empty());
    assert_eq!(parse_forget(""), Ok(vec![]));
    assert!(parse_forget("loading indexes...\n").is_err());
}

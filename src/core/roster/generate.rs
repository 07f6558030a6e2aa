//! Synthetic rosters for benchmarks and scale tests: `n` people spread over `groups` groups,
//! each with one or two ed25519 public keys derived deterministically from their username (the
//! same input always gives the same roster, so benchmark runs compare like with like). The keys
//! are well-formed public keys with no private half anywhere: nobody can log in with them.

use std::fmt::Write as _;

use russh::keys::ssh_key::PublicKey;
use russh::keys::ssh_key::public::{Ed25519PublicKey, KeyData};
use sha2::{Digest, Sha256};

/// A deterministic public key line for `seed` (e.g. `"user042#1"`).
pub fn key_line(seed: &str, comment: &str) -> String {
    let digest: [u8; 32] = Sha256::digest(seed.as_bytes()).into();
    let key = PublicKey::new(KeyData::Ed25519(Ed25519PublicKey(digest)), comment);
    // Encoding an in-memory ed25519 key cannot fail; fall back to an empty line just in case,
    // which the roster parser would then report rather than hide.
    key.to_openssh().unwrap_or_default()
}

/// The group names used: `group1`..`groupN`.
pub fn group_names(groups: usize) -> Vec<String> {
    (1..=groups.max(1)).map(|g| format!("group{g}")).collect()
}

/// A semicolon-separated roster of `n` people (`user001`...), `groups` groups (each person in
/// one or two of them), one key each and a second key for every third person.
pub fn csv(n: usize, groups: usize) -> String {
    let names = group_names(groups);
    let mut out = String::from("username;email;name;groups;keys\n");
    for i in 1..=n {
        let user = format!("user{i:03}");
        let mut person_groups = vec![names[i % names.len()].clone()];
        if i % 4 == 0 && names.len() > 1 {
            person_groups.push(names[(i + 1) % names.len()].clone());
        }
        let mut keys = vec![key_line(&format!("{user}#1"), &format!("{user}@laptop"))];
        if i % 3 == 0 {
            keys.push(key_line(&format!("{user}#2"), &format!("{user}@desktop")));
        }
        let _ = writeln!(
            out,
            "{user};{user}@example.org;User {i:03};{};{}",
            person_groups.join(" "),
            keys.join("|")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::roster::{Format, NoKeyFiles, parse};

    #[test]
    fn a_hundred_people_parse_cleanly() {
        let text = csv(100, 5);
        let roster = parse("bench.csv", &text, Some(Format::Csv), &NoKeyFiles).unwrap();
        assert_eq!(roster.entries.len(), 100);
        let keys: usize = roster.entries.iter().map(|e| e.person.keys.len()).sum();
        assert_eq!(keys, 133);
        let groups: std::collections::BTreeSet<_> = roster
            .entries
            .iter()
            .flat_map(|e| e.person.groups.iter().map(|g| g.to_string()))
            .collect();
        assert_eq!(groups.len(), 5);
        assert_eq!(roster.entries[41].line, 43);
        assert!(roster.warnings.is_empty());
    }

    #[test]
    fn it_is_deterministic() {
        assert_eq!(csv(3, 2), csv(3, 2));
        assert_ne!(key_line("a", "c"), key_line("b", "c"));
    }
}

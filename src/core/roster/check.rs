//! Checks across people: the same username, email or key on two lines, and a username that is
//! also a group name. Each problem is reported on the later line and names the earlier one.
//! Usernames are compared after normalisation (`Alice` and `alice` are the same person).

use std::collections::BTreeMap;

use super::text::split_cell;
use super::{Problems, RawPerson};
use crate::core::person::SshKey;

/// `keys[i]` are the keys that parsed on record `raw[i]`.
pub(crate) fn duplicates(raw: &[RawPerson], keys: &[Vec<SshKey>], problems: &mut Problems) {
    // Usernames and emails: compare the raw text too, so a record that failed other checks
    // still reveals a duplicate.
    let mut usernames: BTreeMap<String, usize> = BTreeMap::new();
    let mut emails: BTreeMap<String, usize> = BTreeMap::new();
    for r in raw {
        if let Some(c) = &r.username {
            let key = c.text.trim().to_ascii_lowercase();
            if key.is_empty() {
                continue;
            }
            if let Some(first) = usernames.get(&key) {
                problems.at(c, format!("username '{key}' is already on line {first}"));
            } else {
                usernames.insert(key, r.line);
            }
        }
        if let Some(c) = &r.email {
            let key = c.text.trim().to_lowercase();
            if key.is_empty() {
                continue;
            }
            if let Some(first) = emails.get(&key) {
                problems.at(
                    c,
                    format!(
                        "email '{key}' is already used on line {first}; each person needs their own"
                    ),
                );
            } else {
                emails.insert(key, r.line);
            }
        }
    }
    let name = |r: &RawPerson| {
        r.username
            .as_ref()
            .map(|c| c.text.trim().to_ascii_lowercase())
            .unwrap_or_default()
    };
    for (n, (record, record_keys)) in raw.iter().zip(keys).enumerate() {
        for key in record_keys {
            let earlier = raw[..n]
                .iter()
                .zip(keys)
                .find(|(_, ks)| ks.iter().any(|k| k.same_key(key)));
            if let Some((first, _)) = earlier {
                problems.error(
                    record.line,
                    None,
                    format!(
                        "key {} of '{}' is also the key of '{}' (line {}); a key identifies one \
                         person",
                        key.fingerprint(),
                        name(record),
                        name(first),
                        first.line
                    ),
                );
            }
        }
    }
    // Groups as written, so a record that failed other checks still counts.
    let mut groups: BTreeMap<String, usize> = BTreeMap::new();
    for r in raw {
        for cell in &r.groups {
            for piece in split_cell(cell, |c| c.is_whitespace() || ",;|".contains(c)) {
                groups
                    .entry(piece.text.to_ascii_lowercase())
                    .or_insert(r.line);
            }
        }
    }
    for r in raw {
        let Some(cell) = &r.username else { continue };
        let name = cell.text.trim().to_ascii_lowercase();
        if let Some(line) = groups.get(&name) {
            problems.at(
                cell,
                format!(
                    "username '{name}' is also a group in this roster (line {line}); each user \
                     has a group of their own name, so they would clash"
                ),
            );
        }
    }
}

//! From raw cells to a checked [`Person`]: every field of a record is checked and every
//! problem recorded at its line and column, so one run reports them all. Key entries that are
//! not key text are key file paths, read through the caller's [`KeyFiles`]; the content of a
//! private key is never repeated in a message.

use crate::core::person::{
    Email, FullName, GroupName, KeyError, Person, PersonState, SshKey, Username, looks_like_key,
};

use super::text::split_cell;
use super::{Cell, KeyFiles, Problems, RawPerson};

/// Check a raw record: the person (`None` when it has any problem, all of them recorded) and
/// the keys that did parse (so duplicate keys are found even on a line with other problems).
pub(crate) fn build(
    raw: &RawPerson,
    files: &dyn KeyFiles,
    problems: &mut Problems,
) -> (Option<Person>, Vec<SshKey>) {
    let before = problems.errors.len();
    let username = required(raw, raw.username.as_ref(), "username", problems).and_then(|c| {
        Username::parse(&c.text)
            .map_err(|e| problems.at(c, e.to_string()))
            .ok()
    });
    let email = required(raw, raw.email.as_ref(), "email", problems).and_then(|c| {
        Email::parse(&c.text)
            .map_err(|e| problems.at(c, e.to_string()))
            .ok()
    });
    let full_name = raw
        .name
        .as_ref()
        .and_then(|c| match FullName::parse(&c.text) {
            Ok(name) => name,
            Err(e) => {
                problems.at(c, e.to_string());
                None
            }
        });
    let mut groups = std::collections::BTreeSet::new();
    for cell in &raw.groups {
        for piece in split_cell(cell, |c| c.is_whitespace() || ",;|".contains(c)) {
            match GroupName::parse(&piece.text) {
                Ok(g) => {
                    groups.insert(g);
                }
                Err(e) => problems.at(&piece, e.to_string()),
            }
        }
    }
    let mut keys: Vec<SshKey> = Vec::new();
    for cell in &raw.keys {
        for key in cell_keys(cell, files, problems) {
            if !keys.iter().any(|k| k.same_key(&key)) {
                keys.push(key);
            }
        }
    }
    let state = match &raw.state {
        Some(c) => PersonState::parse(&c.text)
            .map_err(|e| problems.at(c, e.to_string()))
            .ok(),
        None => Some(PersonState::Active),
    };
    let (Some(username), Some(email), Some(state)) = (username, email, state) else {
        return (None, keys);
    };
    if problems.errors.len() > before {
        return (None, keys);
    }
    let person = Person {
        username,
        email,
        full_name,
        groups,
        keys: keys.clone(),
        state,
    };
    (Some(person), keys)
}

fn required<'a>(
    raw: &RawPerson,
    cell: Option<&'a Cell>,
    what: &str,
    problems: &mut Problems,
) -> Option<&'a Cell> {
    match cell {
        Some(c) if !c.text.trim().is_empty() => Some(c),
        Some(c) => {
            problems.at(c, format!("{what} is missing"));
            None
        }
        None => {
            problems.error(raw.line, None, format!("{what} is missing"));
            None
        }
    }
}

/// A problem that concerns a whole cell (a pasted private key or RFC 4716 block): reported
/// once, without splitting the block into lines (which would echo its content).
fn whole_block_problem(text: &str) -> Option<KeyError> {
    let first = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    match SshKey::parse(first) {
        Err(e @ (KeyError::PrivateKey { .. } | KeyError::Rfc4716)) => Some(e),
        _ if text.contains("PRIVATE KEY-----") => SshKey::parse(
            text.lines()
                .find(|l| l.contains("PRIVATE KEY-----"))
                .unwrap_or_default(),
        )
        .err(),
        _ => None,
    }
}

/// The keys of one cell: key lines and key files, separated by new lines or `|`.
fn cell_keys(cell: &Cell, files: &dyn KeyFiles, problems: &mut Problems) -> Vec<SshKey> {
    if let Some(e) = whole_block_problem(&cell.text) {
        problems.at(cell, e.to_string());
        return Vec::new();
    }
    let mut keys = Vec::new();
    // `|` inside double quotes belongs to an options prefix (`command="a|b"`), which is then
    // refused as a whole rather than split into two confusing pieces.
    let mut quoted = false;
    let pieces = split_cell(cell, |c| {
        match c {
            '"' => quoted = !quoted,
            '\n' => quoted = false,
            _ => {}
        }
        c == '\n' || (c == '|' && !quoted)
    });
    for piece in pieces {
        if piece.text.starts_with('#') {
            continue;
        }
        if looks_like_key(&piece.text) {
            match SshKey::parse(&piece.text) {
                Ok(k) => keys.push(k),
                Err(e) => problems.at(&piece, e.to_string()),
            }
        } else {
            keys.extend(file_keys(&piece, files, problems));
        }
    }
    keys
}

/// The keys in a key file named by `piece`.
fn file_keys(piece: &Cell, files: &dyn KeyFiles, problems: &mut Problems) -> Vec<SshKey> {
    let path = piece.text.as_str();
    let content = match files.read(path) {
        Ok(c) => c,
        Err(reason) => {
            problems.at(
                piece,
                format!(
                    "'{}' is neither an SSH public key nor a readable key file ({reason})",
                    shown_path(path)
                ),
            );
            return Vec::new();
        }
    };
    if let Some(e) = whole_block_problem(&content) {
        problems.at(piece, format!("key file '{}': {e}", shown_path(path)));
        return Vec::new();
    }
    let mut keys = Vec::new();
    let mut found_any = false;
    for (n, line) in content.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        found_any = true;
        match SshKey::parse(line) {
            Ok(k) => keys.push(k),
            // The file may be anything (a path typed by mistake): never echo its content.
            Err(KeyError::NotAKey { .. }) => problems.at(
                piece,
                format!(
                    "key file '{}' line {} is not an OpenSSH public key",
                    shown_path(path),
                    n + 1
                ),
            ),
            Err(e) => problems.at(
                piece,
                format!("key file '{}' line {}: {e}", shown_path(path), n + 1),
            ),
        }
    }
    if !found_any {
        problems.at(
            piece,
            format!("key file '{}' holds no key", shown_path(path)),
        );
    }
    keys
}

/// A path for a message: at most 80 characters, control characters replaced.
fn shown_path(path: &str) -> String {
    let mut s: String = path
        .chars()
        .take(80)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if path.chars().count() > 80 {
        s.push('…');
    }
    s
}

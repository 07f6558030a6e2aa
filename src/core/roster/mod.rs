//! Rosters: the list of people an organisation wants on its systems, as a CSV or TOML file
//! written by a human or exported from a spreadsheet. Postel's law: the readers accept the
//! usual variations (delimiters, BOM, CRLF, stray spaces, comments, header aliases in English
//! and French, upper-case emails, several separators), then everything is validated before
//! anything is planned, and EVERY problem is reported with `file:line` (physical lines, also
//! inside multi-line quoted cells).
//!
//! The parser is pure: key file paths are resolved through a [`KeyFiles`] given by the caller
//! (the loader in `commands/user/files.rs` reads them from disk, relative to the roster's
//! directory: nothing here does I/O).
//!
//! Rules chosen here (the roster format's documentation):
//! - Columns (any case, spaces, `_` or `-` ignored): username (login, user, uid, account,
//!   identifiant), email (mail, e-mail, courriel), name (full name, display name, cn, gecos,
//!   nom), groups (group, groupes), keys (key, ssh keys, public keys, clés), state (status,
//!   état, statut). username and email are required. Unknown CSV columns are ignored with a
//!   warning (spreadsheets carry extra columns); unknown TOML keys are errors (typos).
//! - Usernames, group names and emails are stored lower case.
//! - Groups are separated by spaces, `,`, `;` or `|` (none can appear in a group name).
//! - Keys are separated by new lines (inside a quoted cell) or `|`. An entry that is not key
//!   text is a key file path, relative to the roster's directory; a file may hold several keys.
//! - Duplicates are errors: a username or an email on two lines, the same key on two people
//!   (a key identifies one person), a username that is also a group name (per-user groups
//!   would clash). The same key twice for one person is kept once.
//! - States: active (default when empty), locked, absent, and common synonyms.

use std::fmt;
use std::path::Path;

use serde::Serialize;

use crate::core::person::Person;

mod check;
mod csv;
mod fields;
pub mod generate;
mod text;
mod toml;

/// Why a roster could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read roster {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("{}", ProblemList(.0))]
    Invalid(Vec<RosterError>),
}

struct ProblemList<'a>(&'a [RosterError]);

impl fmt::Display for ProblemList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            [one] => write!(f, "{one}"),
            many => {
                let file = many.first().map(|e| e.file.as_str()).unwrap_or_default();
                write!(
                    f,
                    "{} problems in roster {file}; nothing was changed:",
                    many.len()
                )?;
                for e in many {
                    write!(f, "\n  {e}")?;
                }
                Ok(())
            }
        }
    }
}

impl From<LoadError> for crate::error::Error {
    fn from(e: LoadError) -> Self {
        crate::error::Error::Usage(e.to_string())
    }
}

#[cfg(test)]
mod tests;

/// A parsed and validated roster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Roster {
    /// The file name as given (used in every message).
    pub file: String,
    pub format: Format,
    /// People in file order, each with the line where it starts.
    pub entries: Vec<RosterEntry>,
    /// Things worth knowing that did not stop the parse (e.g. an ignored column).
    pub warnings: Vec<RosterError>,
}

impl Roster {
    /// The people, in file order.
    pub fn people(&self) -> Vec<Person> {
        self.entries.iter().map(|e| e.person.clone()).collect()
    }

    /// The line where `username` is described, for messages about a planned change.
    pub fn line_of(&self, username: &str) -> Option<usize> {
        self.entries
            .iter()
            .find(|e| e.person.username.as_str() == username)
            .map(|e| e.line)
    }
}

/// One person and where they are described.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RosterEntry {
    pub line: usize,
    pub person: Person,
}

/// A problem at a place in a roster. Displayed as `file:line: message`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub struct RosterError {
    pub file: String,
    /// 1-based physical line.
    pub line: usize,
    /// 1-based character column, when known.
    pub column: Option<usize>,
    pub message: String,
}

impl fmt::Display for RosterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

/// The two roster formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Csv,
    Toml,
}

impl Format {
    /// The format named by a file extension (`.csv`, `.tsv`, `.toml`), if any.
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" | "tsv" => Some(Format::Csv),
            "toml" => Some(Format::Toml),
            _ => None,
        }
    }

    /// Guess from the content: TOML when the first meaningful line is a `[table]` header or a
    /// `key = value` line, CSV otherwise.
    pub fn sniff(text: &str) -> Format {
        let first = text
            .trim_start_matches('\u{FEFF}')
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'));
        let Some(line) = first else {
            return Format::Csv;
        };
        if line.starts_with('[') {
            return Format::Toml;
        }
        let looks_like_assignment = line.split_once('=').is_some_and(|(k, _)| {
            let k = k.trim();
            !k.is_empty()
                && k.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        });
        if looks_like_assignment {
            Format::Toml
        } else {
            Format::Csv
        }
    }
}

/// Where key file paths found in a roster are read from. The error is a short reason
/// ("no such file") that the parser places in a full message.
pub trait KeyFiles {
    fn read(&self, path: &str) -> Result<String, String>;
}

impl<F: Fn(&str) -> Result<String, String>> KeyFiles for F {
    fn read(&self, path: &str) -> Result<String, String> {
        self(path)
    }
}

/// For rosters given as text only: a key file path is an error.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoKeyFiles;

impl KeyFiles for NoKeyFiles {
    fn read(&self, _path: &str) -> Result<String, String> {
        Err("key files cannot be read here; paste the key itself".into())
    }
}

/// Parse and validate a roster. `file` is the name used in messages; `format` `None` means
/// sniff the content. Every problem found is returned, in line order.
pub fn parse(
    file: &str,
    text: &str,
    format: Option<Format>,
    keys: &dyn KeyFiles,
) -> Result<Roster, Vec<RosterError>> {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let format = format.unwrap_or_else(|| Format::sniff(text));
    let mut problems = Problems::new(file);
    let raw = match format {
        Format::Csv => csv::read(text, &mut problems),
        Format::Toml => toml::read(text, &mut problems),
    };
    let mut entries = Vec::new();
    let mut parsed_keys = Vec::new();
    for record in &raw {
        let (person, record_keys) = fields::build(record, keys, &mut problems);
        if let Some(person) = person {
            entries.push(RosterEntry {
                line: record.line,
                person,
            });
        }
        parsed_keys.push(record_keys);
    }
    if raw.is_empty() && problems.errors.is_empty() {
        problems.error(1, None, "the roster has no people".into());
    }
    check::duplicates(&raw, &parsed_keys, &mut problems);
    let Problems {
        mut errors,
        mut warnings,
        ..
    } = problems;
    if !errors.is_empty() {
        errors.sort_by_key(|e| (e.line, e.column));
        return Err(errors);
    }
    warnings.sort_by_key(|e| (e.line, e.column));
    Ok(Roster {
        file: file.to_string(),
        format,
        entries,
        warnings,
    })
}

/// What `user add NAME --email E [--name N] [--group G]... [--key FILE|KEY]...` gives.
#[derive(Debug, Clone, Default)]
pub struct PersonArgs {
    pub username: String,
    pub email: String,
    pub name: Option<String>,
    pub groups: Vec<String>,
    /// Key text or key file paths (resolved through the [`KeyFiles`] given).
    pub keys: Vec<String>,
}

/// Check one person given on the command line with exactly the roster's rules (so `user add`
/// and `user sync` accept and refuse the same things). Every problem is returned, as messages.
pub fn person_from_args(args: &PersonArgs, files: &dyn KeyFiles) -> Result<Person, Vec<String>> {
    let cell = |text: &str| Cell {
        text: text.to_string(),
        line: 1,
        column: 1,
    };
    let raw = RawPerson {
        line: 1,
        username: Some(cell(&args.username)),
        email: Some(cell(&args.email)),
        name: args.name.as_deref().map(cell),
        groups: args.groups.iter().map(|g| cell(g)).collect(),
        keys: args.keys.iter().map(|k| cell(k)).collect(),
        state: None,
    };
    let mut problems = Problems::new("command line");
    let (person, _) = fields::build(&raw, files, &mut problems);
    match person {
        Some(p) if problems.errors.is_empty() => Ok(p),
        _ => Err(problems.errors.into_iter().map(|e| e.message).collect()),
    }
}

/// One field of a person as found in the file, before validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Field {
    Username,
    Email,
    Name,
    Groups,
    Keys,
    State,
}

/// A piece of text and where it starts in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cell {
    pub text: String,
    pub line: usize,
    pub column: usize,
}

/// A person as read from the file: cells by field, not yet checked.
#[derive(Debug, Clone, Default)]
pub(crate) struct RawPerson {
    pub line: usize,
    pub username: Option<Cell>,
    pub email: Option<Cell>,
    pub name: Option<Cell>,
    pub groups: Vec<Cell>,
    pub keys: Vec<Cell>,
    pub state: Option<Cell>,
}

/// The problems collected while reading one file.
pub(crate) struct Problems {
    file: String,
    pub errors: Vec<RosterError>,
    pub warnings: Vec<RosterError>,
}

impl Problems {
    fn new(file: &str) -> Self {
        Problems {
            file: file.to_string(),
            errors: Vec::new(),
            warnings: Vec::new(),
        }
    }

    fn make(&self, line: usize, column: Option<usize>, message: String) -> RosterError {
        RosterError {
            file: self.file.clone(),
            line,
            column,
            message,
        }
    }

    pub fn error(&mut self, line: usize, column: Option<usize>, message: String) {
        let e = self.make(line, column, message);
        self.errors.push(e);
    }

    pub fn warn(&mut self, line: usize, column: Option<usize>, message: String) {
        let e = self.make(line, column, message);
        self.warnings.push(e);
    }

    pub fn at(&mut self, cell: &Cell, message: String) {
        self.error(cell.line, Some(cell.column), message);
    }
}

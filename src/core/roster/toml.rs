//! The TOML reader: `[[person]]` tables with the same fields as the CSV columns (same aliases),
//! `groups` and `keys` as an array of strings or one string. Reads with the span-keeping TOML
//! parser so every message has a line and column. Unknown keys are errors here (a TOML roster
//! is written by hand, so an unknown key is a typo). Checking values is elsewhere.

use ::toml::Spanned;
use ::toml::de::{DeTable, DeValue};

use super::text::{field_for, field_name, line_col};
use super::{Cell, Field, Problems, RawPerson};

/// Read a TOML roster into raw records.
pub(crate) fn read(text: &str, problems: &mut Problems) -> Vec<RawPerson> {
    let doc = match DeTable::parse(text) {
        Ok(doc) => doc,
        Err(e) => {
            let (line, column) = e.span().map_or((1, 1), |s| line_col(text, s.start));
            problems.error(
                line,
                Some(column),
                format!("TOML syntax: {}", e.message().trim_end()),
            );
            return Vec::new();
        }
    };
    let mut people = Vec::new();
    for (key, value) in doc.get_ref() {
        let (line, column) = line_col(text, key.span().start);
        let name = key.get_ref().as_ref();
        if !matches!(name, "person" | "people" | "persons") {
            problems.error(
                line,
                Some(column),
                format!("unknown table '{name}'; a TOML roster has [[person]] tables only"),
            );
            continue;
        }
        let DeValue::Array(items) = value.get_ref() else {
            problems.error(
                line,
                Some(column),
                format!("'{name}' must be written as [[person]] tables"),
            );
            continue;
        };
        for item in items.iter() {
            let (line, column) = line_col(text, item.span().start);
            match item.get_ref() {
                DeValue::Table(table) => people.push(person(text, line, table, problems)),
                _ => problems.error(line, Some(column), "a person must be a table".into()),
            }
        }
    }
    people
}

fn person(text: &str, line: usize, table: &DeTable<'_>, problems: &mut Problems) -> RawPerson {
    let mut raw = RawPerson {
        line,
        ..RawPerson::default()
    };
    let mut seen: Vec<(Field, String)> = Vec::new();
    // In file order, so "both give" names the first one written first.
    let mut entries: Vec<_> = table.iter().collect();
    entries.sort_by_key(|(k, _)| k.span().start);
    for (key, value) in entries {
        let (kline, kcol) = line_col(text, key.span().start);
        let name = key.get_ref().as_ref();
        let Some(field) = field_for(name) else {
            problems.error(
                kline,
                Some(kcol),
                format!(
                    "unknown key '{name}' (a person has username, email, name, groups, keys, \
                     state)"
                ),
            );
            continue;
        };
        if let Some((_, first)) = seen.iter().find(|(f, _)| *f == field) {
            problems.error(
                kline,
                Some(kcol),
                format!(
                    "keys '{first}' and '{name}' both give the {}; keep one",
                    field_name(field)
                ),
            );
            continue;
        }
        seen.push((field, name.to_string()));
        match field {
            Field::Groups | Field::Keys => {
                let cells = strings(text, value, field, problems);
                if field == Field::Groups {
                    raw.groups = cells;
                } else {
                    raw.keys = cells;
                }
            }
            _ => {
                let cell = string(text, value, field, problems);
                match field {
                    Field::Username => raw.username = cell,
                    Field::Email => raw.email = cell,
                    Field::Name => raw.name = cell,
                    _ => raw.state = cell,
                }
            }
        }
    }
    raw
}

/// Where a string value's text starts (after its opening quote or quotes).
fn cell_at(text: &str, value: &Spanned<DeValue<'_>>, s: &str) -> Cell {
    let span = value.span();
    let raw = text.get(span.clone()).unwrap_or_default();
    let skip = if raw.starts_with("\"\"\"") || raw.starts_with("'''") {
        3
    } else {
        usize::from(raw.starts_with('"') || raw.starts_with('\''))
    };
    let (line, column) = line_col(text, span.start + skip);
    Cell {
        text: s.to_string(),
        line,
        column,
    }
}

fn string(
    text: &str,
    value: &Spanned<DeValue<'_>>,
    field: Field,
    problems: &mut Problems,
) -> Option<Cell> {
    match value.get_ref() {
        DeValue::String(s) => Some(cell_at(text, value, s)),
        other => {
            let (line, column) = line_col(text, value.span().start);
            problems.error(
                line,
                Some(column),
                format!(
                    "{} must be a string, not {}",
                    field_name(field),
                    other.type_str()
                ),
            );
            None
        }
    }
}

fn strings(
    text: &str,
    value: &Spanned<DeValue<'_>>,
    field: Field,
    problems: &mut Problems,
) -> Vec<Cell> {
    match value.get_ref() {
        DeValue::String(s) => vec![cell_at(text, value, s)],
        DeValue::Array(items) => items
            .iter()
            .filter_map(|item| string(text, item, field, problems))
            .collect(),
        other => {
            let (line, column) = line_col(text, value.span().start);
            problems.error(
                line,
                Some(column),
                format!(
                    "{} must be an array of strings or one string, not {}",
                    field_name(field),
                    other.type_str()
                ),
            );
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(text: &str) -> (Vec<RawPerson>, Vec<String>) {
        let mut p = Problems::new("r.toml");
        let people = read(text, &mut p);
        (people, p.errors.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn people_and_positions() {
        let text = "# staff\n\n[[person]]\nusername = \"alice\"\nemail = 'a@x.org'\ngroups = [\"physics\", \"lab\"]\nkeys = \"\"\"\nk1\nk2\"\"\"\n\n[[person]]\nlogin = \"bob\"\nmail = \"b@x.org\"\n";
        let (people, errors) = read_all(text);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(people.len(), 2);
        let alice = &people[0];
        assert_eq!(alice.line, 3);
        let u = alice.username.as_ref().unwrap();
        assert_eq!((u.text.as_str(), u.line, u.column), ("alice", 4, 13));
        let e = alice.email.as_ref().unwrap();
        assert_eq!((e.text.as_str(), e.line, e.column), ("a@x.org", 5, 10));
        let g: Vec<(&str, usize, usize)> = alice
            .groups
            .iter()
            .map(|c| (c.text.as_str(), c.line, c.column))
            .collect();
        assert_eq!(g, [("physics", 6, 12), ("lab", 6, 23)]);
        assert_eq!(alice.keys[0].text, "k1\nk2");
        assert_eq!(people[1].line, 11);
        assert_eq!(people[1].username.as_ref().unwrap().text, "bob");
    }

    #[test]
    fn problems_table() {
        let cases: &[(&str, &str)] = &[
            (
                "[[person]]\nusername = \"a\"\nemial = \"x\"\n",
                "r.toml:3: unknown key 'emial' (a person has username, email, name, groups, keys, state)",
            ),
            (
                "[[person]]\nusername = 3\n",
                "r.toml:2: username must be a string, not integer",
            ),
            (
                "[[person]]\ngroups = 3\n",
                "r.toml:2: groups must be an array of strings or one string, not integer",
            ),
            (
                "[[person]]\ngroups = [\"a\", 2]\n",
                "r.toml:2: groups must be a string, not integer",
            ),
            (
                "[[person]]\nusername = \"a\"\nlogin = \"b\"\n",
                "r.toml:3: keys 'username' and 'login' both give the username; keep one",
            ),
            (
                "[[staff]]\nusername = \"a\"\n",
                "r.toml:1: unknown table 'staff'; a TOML roster has [[person]] tables only",
            ),
            (
                "[person]\nusername = \"a\"\n",
                "r.toml:1: 'person' must be written as [[person]] tables",
            ),
            (
                "[[person]]\nusername = \"a\n",
                "r.toml:2: TOML syntax: invalid basic string, expected `\"`",
            ),
        ];
        for (text, want) in cases {
            let (_, errors) = read_all(text);
            assert_eq!(errors, [want.to_string()], "{text:?}");
        }
    }
}

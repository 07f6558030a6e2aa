//! Small text helpers shared by the CSV and TOML readers: which field a column or key name
//! means (aliases), splitting a cell into pieces that keep their own line and column, and
//! turning byte offsets into line and column. Pure functions only.

use super::{Cell, Field};
use crate::core::person::unicode::latin_base;

/// The field a column header or TOML key names, tolerant of case, spaces, `_`, `-`, `.` and
/// French accents. `None` for a name matelot does not use.
pub(crate) fn field_for(name: &str) -> Option<Field> {
    let key: String = name
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-' | '.' | '\t'))
        .map(|c| latin_base(c).unwrap_or(c))
        .collect();
    let field = match key.as_str() {
        "username" | "user" | "login" | "loginname" | "uid" | "account" | "identifiant"
        | "utilisateur" => Field::Username,
        "email" | "mail" | "emailaddress" | "courriel" | "mel" | "adressemail" => Field::Email,
        "name" | "fullname" | "displayname" | "cn" | "gecos" | "realname" | "nom"
        | "nomcomplet" => Field::Name,
        "groups" | "group" | "groupes" | "groupe" => Field::Groups,
        "keys" | "key" | "sshkeys" | "sshkey" | "publickeys" | "publickey" | "authorizedkeys"
        | "cles" | "cle" | "clesssh" | "clessh" => Field::Keys,
        "state" | "status" | "etat" | "statut" => Field::State,
        _ => return None,
    };
    Some(field)
}

/// The field's name in messages.
pub(crate) fn field_name(field: Field) -> &'static str {
    match field {
        Field::Username => "username",
        Field::Email => "email",
        Field::Name => "name",
        Field::Groups => "groups",
        Field::Keys => "keys",
        Field::State => "state",
    }
}

/// Split a cell at separator characters into trimmed, non-empty pieces, each with the line
/// and column where it starts (new lines inside the cell advance the line).
pub(crate) fn split_cell(cell: &Cell, mut is_sep: impl FnMut(char) -> bool) -> Vec<Cell> {
    let mut pieces = Vec::new();
    let (mut line, mut column) = (cell.line, cell.column);
    let mut current = String::new();
    let mut start: Option<(usize, usize)> = None;
    let mut flush = |current: &mut String, start: &mut Option<(usize, usize)>| {
        let text = current.trim_end().to_string();
        if let Some((l, c)) = start.take()
            && !text.is_empty()
        {
            pieces.push(Cell {
                text,
                line: l,
                column: c,
            });
        }
        current.clear();
    };
    for c in cell.text.chars() {
        if is_sep(c) {
            flush(&mut current, &mut start);
        } else if start.is_some() || !c.is_whitespace() {
            start.get_or_insert((line, column));
            current.push(c);
        }
        if c == '\n' {
            line += 1;
            column = 1;
        } else {
            column += 1;
        }
    }
    flush(&mut current, &mut start);
    pieces
}

/// Byte offset to 1-based (line, character column).
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_aliases() {
        let cases = [
            ("username", Some(Field::Username)),
            ("Login", Some(Field::Username)),
            (" UID ", Some(Field::Username)),
            ("E-Mail", Some(Field::Email)),
            ("mail", Some(Field::Email)),
            ("Courriel", Some(Field::Email)),
            ("Full Name", Some(Field::Name)),
            ("display_name", Some(Field::Name)),
            ("displayName", Some(Field::Name)),
            ("Nom complet", Some(Field::Name)),
            ("group", Some(Field::Groups)),
            ("Groupes", Some(Field::Groups)),
            ("ssh_keys", Some(Field::Keys)),
            ("SSH Keys", Some(Field::Keys)),
            ("Clés", Some(Field::Keys)),
            ("key", Some(Field::Keys)),
            ("Status", Some(Field::State)),
            ("État", Some(Field::State)),
            ("department", None),
            ("", None),
        ];
        for (name, want) in cases {
            assert_eq!(field_for(name), want, "{name:?}");
        }
    }

    #[test]
    fn pieces_keep_their_position() {
        let cell = Cell {
            text: " physics, teaching |lab\n  extra ".into(),
            line: 4,
            column: 10,
        };
        let pieces = split_cell(&cell, |c| c.is_whitespace() || ",;|".contains(c));
        let got: Vec<(&str, usize, usize)> = pieces
            .iter()
            .map(|p| (p.text.as_str(), p.line, p.column))
            .collect();
        assert_eq!(
            got,
            [
                ("physics", 4, 11),
                ("teaching", 4, 20),
                ("lab", 4, 30),
                ("extra", 5, 3)
            ]
        );
        let keys = split_cell(&cell, |c| c == '\n' || c == '|');
        let got: Vec<(&str, usize, usize)> = keys
            .iter()
            .map(|p| (p.text.as_str(), p.line, p.column))
            .collect();
        assert_eq!(
            got,
            [
                ("physics, teaching", 4, 11),
                ("lab", 4, 30),
                ("extra", 5, 3)
            ]
        );
    }

    #[test]
    fn offsets_to_lines_and_columns() {
        let t = "ab\ncdé\nf";
        assert_eq!(line_col(t, 0), (1, 1));
        assert_eq!(line_col(t, 3), (2, 1));
        assert_eq!(line_col(t, 7), (2, 4));
        assert_eq!(line_col(t, 8), (3, 1));
        assert_eq!(line_col(t, 100), (3, 2));
    }
}

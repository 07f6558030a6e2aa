//! The CSV reader, written for rosters rather than for data: it sniffs the delimiter (`,`
//! `;` or tab) from the header line, skips blank lines and `#` comment lines, tolerates spaces
//! around cells (also before an opening quote), CRLF and CR line ends, and keeps the physical
//! line and column of every cell, including cells that span lines inside quotes, so each
//! message can point at the exact place. It produces raw records; checking is elsewhere.

use super::text::{field_for, field_name};
use super::{Cell, Field, Problems, RawPerson};

/// One row of cells, with the line where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Row {
    pub line: usize,
    pub cells: Vec<Cell>,
}

/// Read a CSV roster into raw records, reporting syntax and header problems.
pub(crate) fn read(text: &str, problems: &mut Problems) -> Vec<RawPerson> {
    let delimiter = sniff_delimiter(text);
    let rows = tokenize(text, delimiter, problems);
    let Some((header, data)) = rows.split_first() else {
        return Vec::new();
    };
    let Some(columns) = map_header(header, delimiter, problems) else {
        return Vec::new();
    };
    data.iter()
        .filter_map(|row| record(row, &columns, header.cells.len(), delimiter, problems))
        .collect()
}

/// The delimiter that occurs most on the header line (outside quotes): `;`, tab or `,`.
pub(crate) fn sniff_delimiter(text: &str) -> char {
    let header = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap_or_default();
    let mut counts = [(';', 0usize), ('\t', 0), (',', 0)];
    let mut quoted = false;
    for c in header.chars() {
        if c == '"' {
            quoted = !quoted;
        } else if !quoted && let Some(slot) = counts.iter_mut().find(|(d, _)| *d == c) {
            slot.1 += 1;
        }
    }
    // Highest count wins; on a tie the earlier entry (`;`, then tab) wins, `,` by default.
    let mut best = (',', 0);
    for (d, n) in counts {
        if n > best.1 {
            best = (d, n);
        }
    }
    best.0
}

fn is_blank(c: char, delimiter: char) -> bool {
    (c == ' ' || c == '\t' || c == '\u{00A0}') && c != delimiter
}

/// Split the text into rows of cells. Blank and comment lines produce no row.
pub(crate) fn tokenize(text: &str, delimiter: char, problems: &mut Problems) -> Vec<Row> {
    let chars: Vec<char> = text.chars().collect();
    let mut rows = Vec::new();
    let (mut i, mut line, mut column) = (0usize, 1usize, 1usize);
    // Advance over one character, keeping line and column (CRLF counts as one line end).
    let step = |i: &mut usize, line: &mut usize, column: &mut usize| {
        let c = chars[*i];
        *i += 1;
        if c == '\n' || (c == '\r' && chars.get(*i) != Some(&'\n')) {
            *line += 1;
            *column = 1;
        } else if c != '\r' {
            *column += 1;
        }
    };
    let at_line_end = |i: usize| i >= chars.len() || chars[i] == '\n' || chars[i] == '\r';
    while i < chars.len() {
        // Start of a physical line: blank or comment?
        let mut j = i;
        while j < chars.len() && is_blank(chars[j], delimiter) {
            j += 1;
        }
        if at_line_end(j) || chars[j] == '#' {
            while !at_line_end(i) {
                step(&mut i, &mut line, &mut column);
            }
            if i < chars.len() {
                step(&mut i, &mut line, &mut column);
            }
            continue;
        }
        let mut row = Row {
            line,
            cells: Vec::new(),
        };
        loop {
            while i < chars.len() && is_blank(chars[i], delimiter) {
                step(&mut i, &mut line, &mut column);
            }
            let mut cell = Cell {
                text: String::new(),
                line,
                column,
            };
            if chars.get(i) == Some(&'"') {
                let (open_line, open_column) = (line, column);
                step(&mut i, &mut line, &mut column);
                cell.line = line;
                cell.column = column;
                let mut closed = false;
                while i < chars.len() {
                    let c = chars[i];
                    if c == '"' {
                        if chars.get(i + 1) == Some(&'"') {
                            cell.text.push('"');
                            step(&mut i, &mut line, &mut column);
                            step(&mut i, &mut line, &mut column);
                            continue;
                        }
                        step(&mut i, &mut line, &mut column);
                        closed = true;
                        break;
                    }
                    if c == '\r' && chars.get(i + 1) == Some(&'\n') {
                        step(&mut i, &mut line, &mut column);
                        continue;
                    }
                    cell.text.push(if c == '\r' { '\n' } else { c });
                    step(&mut i, &mut line, &mut column);
                }
                if !closed {
                    problems.error(
                        open_line,
                        Some(open_column),
                        "this quote is never closed; add the closing '\"'".into(),
                    );
                    row.cells.push(cell);
                    rows.push(row);
                    return rows;
                }
                while i < chars.len() && is_blank(chars[i], delimiter) {
                    step(&mut i, &mut line, &mut column);
                }
                if !at_line_end(i) && chars[i] != delimiter {
                    problems.error(
                        line,
                        Some(column),
                        format!(
                            "unexpected text after a closing quote; put the whole cell in \
                             quotes and double any '\"' inside it (delimiter is {})",
                            delimiter_name(delimiter)
                        ),
                    );
                    while !at_line_end(i) && chars[i] != delimiter {
                        step(&mut i, &mut line, &mut column);
                    }
                }
            } else {
                while !at_line_end(i) && chars[i] != delimiter {
                    cell.text.push(chars[i]);
                    step(&mut i, &mut line, &mut column);
                }
                let trimmed = cell.text.trim_end_matches(|c| is_blank(c, delimiter));
                cell.text.truncate(trimmed.len());
            }
            row.cells.push(cell);
            if i < chars.len() && chars[i] == delimiter {
                step(&mut i, &mut line, &mut column);
                continue;
            }
            if i < chars.len() {
                step(&mut i, &mut line, &mut column);
            }
            break;
        }
        rows.push(row);
    }
    rows
}

fn delimiter_name(d: char) -> &'static str {
    match d {
        ';' => "';'",
        '\t' => "tab",
        _ => "','",
    }
}

/// Map header cells to fields; `None` (with errors) when the header cannot be used.
fn map_header(
    header: &Row,
    delimiter: char,
    problems: &mut Problems,
) -> Option<Vec<Option<Field>>> {
    let mut columns = Vec::new();
    let mut ok = true;
    for (n, cell) in header.cells.iter().enumerate() {
        let field = field_for(&cell.text);
        match field {
            Some(f) => {
                if let Some(prev) = header.cells[..n]
                    .iter()
                    .find(|c| field_for(&c.text) == Some(f))
                {
                    problems.at(
                        cell,
                        format!(
                            "columns '{}' and '{}' both give the {}; keep one",
                            prev.text.trim(),
                            cell.text.trim(),
                            field_name(f)
                        ),
                    );
                    ok = false;
                }
            }
            None if cell.text.trim().is_empty() => {}
            None => problems.warn(
                cell.line,
                Some(cell.column),
                format!(
                    "column '{}' is not used (matelot reads username, email, name, groups, \
                     keys, state)",
                    cell.text.trim()
                ),
            ),
        }
        columns.push(field);
    }
    for required in [Field::Username, Field::Email] {
        if !columns.contains(&Some(required)) {
            problems.error(
                header.line,
                None,
                format!(
                    "the header has no {} column; the first line must name the columns, \
                     e.g. username{d}email{d}name{d}groups{d}keys (delimiter {})",
                    field_name(required),
                    delimiter_name(delimiter),
                    d = if delimiter == '\t' { ' ' } else { delimiter },
                ),
            );
            ok = false;
        }
    }
    ok.then_some(columns)
}

/// Turn a data row into a raw record.
fn record(
    row: &Row,
    columns: &[Option<Field>],
    width: usize,
    delimiter: char,
    problems: &mut Problems,
) -> Option<RawPerson> {
    let extra = row.cells.get(width..).unwrap_or_default();
    if extra.iter().any(|c| !c.text.trim().is_empty()) {
        problems.error(
            row.line,
            None,
            format!(
                "this line has {} cells but the header has {width}; quote cells that contain \
                 {} (groups may also be separated by spaces or '|')",
                row.cells.len(),
                delimiter_name(delimiter)
            ),
        );
        return None;
    }
    let mut raw = RawPerson {
        line: row.line,
        ..RawPerson::default()
    };
    for (cell, field) in row.cells.iter().zip(columns) {
        let cell = cell.clone();
        match field {
            Some(Field::Username) => raw.username = Some(cell),
            Some(Field::Email) => raw.email = Some(cell),
            Some(Field::Name) => raw.name = Some(cell),
            Some(Field::Groups) => raw.groups.push(cell),
            Some(Field::Keys) => raw.keys.push(cell),
            Some(Field::State) => raw.state = Some(cell),
            None => {}
        }
    }
    Some(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str) -> (Vec<Row>, Vec<String>) {
        let mut p = Problems::new("r.csv");
        let d = sniff_delimiter(text);
        let rows = tokenize(text, d, &mut p);
        (rows, p.errors.iter().map(ToString::to_string).collect())
    }

    fn cells(rows: &[Row]) -> Vec<Vec<(String, usize, usize)>> {
        rows.iter()
            .map(|r| {
                r.cells
                    .iter()
                    .map(|c| (c.text.clone(), c.line, c.column))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn delimiters_are_sniffed_from_the_header() {
        let cases = [
            ("username;email;name\n", ';'),
            ("username,email,name\n", ','),
            ("username\temail\tname\n", '\t'),
            ("# comment, with; delimiters\n\nusername;email\n", ';'),
            ("\"user;name\",email,groups\n", ','),
            ("username\n", ','),
            ("", ','),
        ];
        for (text, want) in cases {
            assert_eq!(sniff_delimiter(text), want, "{text:?}");
        }
    }

    #[test]
    fn cells_keep_physical_lines_and_columns() {
        let text = "u;e;k\r\n\r\n# comment \"with an odd quote\r\n  alice ; \"a@x.org\" ;\"k1\r\nk2\"\r\nbob;b@x.org;\r\n";
        let (rows, errors) = rows(text);
        assert_eq!(errors, Vec::<String>::new());
        assert_eq!(
            cells(&rows),
            vec![
                vec![("u".into(), 1, 1), ("e".into(), 1, 3), ("k".into(), 1, 5)],
                vec![
                    ("alice".into(), 4, 3),
                    ("a@x.org".into(), 4, 12),
                    ("k1\nk2".into(), 4, 23)
                ],
                vec![
                    ("bob".into(), 6, 1),
                    ("b@x.org".into(), 6, 5),
                    ("".into(), 6, 13)
                ],
            ]
        );
    }

    #[test]
    fn quotes_escape_and_delimiters_inside_quotes() {
        let (rows, errors) = rows("a,b\n\"x, \"\"y\"\"\",  \"z\"\n");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(rows[1].cells[0].text, "x, \"y\"");
        assert_eq!(rows[1].cells[1].text, "z");
    }

    #[test]
    fn tab_delimited_cells_keep_spaces_inside() {
        let (rows, _) = rows("username\temail\tname\nalice\ta@x.org\t Alice  Martin \n");
        assert_eq!(rows[1].cells[2].text, "Alice  Martin");
    }

    #[test]
    fn syntax_problems_are_reported_where_they_are() {
        let (_, errors) = rows("a;b\n\"x\"y;z\n");
        assert_eq!(
            errors,
            [
                "r.csv:2: unexpected text after a closing quote; put the whole cell in quotes and double any '\"' inside it (delimiter is ';')"
            ]
        );
        let (rows, errors) = rows("a;b\nx;\"never\nclosed\n");
        assert_eq!(
            errors,
            ["r.csv:2: this quote is never closed; add the closing '\"'"]
        );
        assert_eq!(rows.len(), 2);
    }

    #[test]
    fn old_mac_line_ends() {
        let (rows, errors) = rows("a;b\rx;y\r\rz;w");
        assert!(errors.is_empty());
        assert_eq!(
            cells(&rows)[1..],
            [
                vec![("x".to_string(), 2, 1), ("y".to_string(), 2, 3)],
                vec![("z".to_string(), 4, 1), ("w".to_string(), 4, 3)]
            ]
        );
    }
}

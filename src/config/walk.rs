//! A span-aware walk over a parsed TOML document: typed getters that record a
//! `FILE:LINE:COLUMN: message` problem for every wrong type, bad value or unknown key, and keep
//! going, so `matelot config check` can list every problem at once.
//!
//! Pure: no I/O, no environment. It knows TOML and positions, not the matelot schema (that is
//! `schema.rs`), and it never echoes a value it was given unless the caller asks it to.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::Origin;

/// A position in the configuration file, 1-based, column counted in characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loc {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
}

impl std::fmt::Display for Loc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

impl Loc {
    /// The origin of a value found here (`config show` names the line, not the column).
    pub fn origin(&self) -> Origin {
        Origin::File {
            path: self.file.clone(),
            line: self.line,
        }
    }
}

/// A value read from the file, with where it was written.
#[derive(Debug, Clone)]
pub struct Located<T> {
    pub value: T,
    pub loc: Loc,
}

/// A table of the document and its dotted name (`compute.calcul`), for messages.
pub struct Section<'t, 'i> {
    pub name: String,
    pub table: &'t DeTable<'i>,
    pub span: Range<usize>,
}

impl Section<'_, '_> {
    /// The dotted name of `key` in this section.
    pub fn key(&self, key: &str) -> String {
        if self.name.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.name)
        }
    }
}

/// The document being walked and the problems found so far.
pub struct Doc<'a> {
    file: &'a Path,
    text: &'a str,
    problems: Vec<(usize, String)>,
}

impl<'a> Doc<'a> {
    pub fn new(file: &'a Path, text: &'a str) -> Self {
        Doc {
            file,
            text,
            problems: Vec::new(),
        }
    }

    /// Line and column (1-based, in characters) of a byte offset.
    pub fn loc(&self, offset: usize) -> Loc {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        Loc {
            file: self.file.to_path_buf(),
            line,
            column,
        }
    }

    /// Record a problem at a span.
    pub fn problem(&mut self, span: &Range<usize>, msg: impl std::fmt::Display) {
        let loc = self.loc(span.start);
        self.problems.push((span.start, format!("{loc}: {msg}")));
    }

    /// The problems, in the order they appear in the file.
    pub fn into_problems(mut self) -> Vec<String> {
        self.problems.sort_by_key(|(offset, _)| *offset);
        self.problems.into_iter().map(|(_, p)| p).collect()
    }

    /// Report every key of `s` that is not in `allowed` (nor in `skip`, handled elsewhere).
    pub fn unknown_keys(&mut self, s: &Section<'_, '_>, allowed: &[&str], skip: &[&str]) {
        for (key, _) in s.table.iter() {
            let k = key.get_ref().as_ref();
            if allowed.contains(&k) || skip.contains(&k) {
                continue;
            }
            let place = if s.name.is_empty() {
                "at the top level".to_string()
            } else {
                format!("in [{}]", s.name)
            };
            let hint = match suggest(k, allowed) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("expected one of: {}", allowed.join(", ")),
            };
            self.problem(&key.span(), format!("unknown key `{k}` {place}; {hint}"));
        }
    }

    /// The raw entry for `key`, with the span of the key and of the value.
    pub fn entry<'t, 'i>(
        &self,
        s: &Section<'t, 'i>,
        key: &str,
    ) -> Option<(Range<usize>, &'t Spanned<DeValue<'i>>)> {
        s.table.get_key_value(key).map(|(k, v)| (k.span(), v))
    }

    /// A sub-table; a value of another type is a problem.
    pub fn section<'t, 'i>(&mut self, s: &Section<'t, 'i>, key: &str) -> Option<Section<'t, 'i>> {
        let (_, v) = self.entry(s, key)?;
        self.as_section(s.key(key), v)
    }

    /// `v` as a section named `name`; a value of another type is a problem.
    pub fn as_section<'t, 'i>(
        &mut self,
        name: String,
        v: &'t Spanned<DeValue<'i>>,
    ) -> Option<Section<'t, 'i>> {
        match v.get_ref() {
            DeValue::Table(table) => Some(Section {
                name,
                table,
                span: v.span(),
            }),
            other => {
                self.problem(
                    &v.span(),
                    format!("{name}: expected a table, found {}", a_type(other)),
                );
                None
            }
        }
    }

    fn typed<'t, 'i, T>(
        &mut self,
        s: &Section<'t, 'i>,
        key: &str,
        expected: &str,
        get: impl FnOnce(&'t DeValue<'i>) -> Option<T>,
    ) -> Option<(T, Range<usize>)> {
        let (_, v) = self.entry(s, key)?;
        match get(v.get_ref()) {
            Some(x) => Some((x, v.span())),
            None => {
                let found = a_type(v.get_ref());
                self.problem(
                    &v.span(),
                    format!("{}: expected {expected}, found {found}", s.key(key)),
                );
                None
            }
        }
    }

    fn located<T>(&self, value: T, span: &Range<usize>) -> Located<T> {
        Located {
            value,
            loc: self.loc(span.start),
        }
    }

    /// A non-empty string (surrounding whitespace removed).
    pub fn string(&mut self, s: &Section<'_, '_>, key: &str) -> Option<Located<String>> {
        let (v, span) = self.string_at(s, key)?;
        Some(self.located(v, &span))
    }

    fn string_at(&mut self, s: &Section<'_, '_>, key: &str) -> Option<(String, Range<usize>)> {
        let (v, span) = self.typed(s, key, "a string", |v| v.as_str())?;
        let v = v.trim();
        if v.is_empty() {
            self.problem(&span, format!("{}: must not be empty", s.key(key)));
            return None;
        }
        Some((v.to_string(), span))
    }

    /// An integer within `min..=max`.
    pub fn integer(
        &mut self,
        s: &Section<'_, '_>,
        key: &str,
        min: i64,
        max: i64,
    ) -> Option<Located<i64>> {
        let (int, span) = self.typed(s, key, "an integer", |v| v.as_integer())?;
        let n = i64::from_str_radix(int.as_str(), int.radix()).ok();
        match n {
            Some(n) if (min..=max).contains(&n) => Some(self.located(n, &span)),
            _ => {
                self.problem(
                    &span,
                    format!(
                        "{}: must be between {min} and {max}, found {int}",
                        s.key(key)
                    ),
                );
                None
            }
        }
    }

    pub fn boolean(&mut self, s: &Section<'_, '_>, key: &str) -> Option<Located<bool>> {
        let (b, span) = self.typed(s, key, "a boolean (true or false)", |v| v.as_bool())?;
        Some(self.located(b, &span))
    }

    /// A duration written as a humantime string (`"30s"`, `"15m"`, `"26h"`, `"90d"`), above zero.
    pub fn duration(&mut self, s: &Section<'_, '_>, key: &str) -> Option<Located<Duration>> {
        let expected = "a duration string such as \"30s\", \"15m\" or \"26h\"";
        let (text, span) = self.typed(s, key, expected, |v| v.as_str())?;
        match parse_duration(text) {
            Ok(d) => Some(self.located(d, &span)),
            Err(e) => {
                self.problem(&span, format!("{}: {e}", s.key(key)));
                None
            }
        }
    }

    /// A list of non-empty strings; a single string is taken as a list of one.
    pub fn strings(&mut self, s: &Section<'_, '_>, key: &str) -> Option<Located<Vec<String>>> {
        let (_, v) = self.entry(s, key)?;
        let span = v.span();
        let items: Vec<&Spanned<DeValue<'_>>> = match v.get_ref() {
            DeValue::String(_) => vec![v],
            DeValue::Array(a) => a.iter().collect(),
            other => {
                let msg = format!(
                    "{}: expected an array of strings, found {}",
                    s.key(key),
                    a_type(other)
                );
                self.problem(&span, msg);
                return None;
            }
        };
        let mut out = Vec::new();
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            match item.get_ref().as_str().map(str::trim) {
                Some(x) if !x.is_empty() => out.push(x.to_string()),
                Some(_) => {
                    ok = false;
                    self.problem(
                        &item.span(),
                        format!("{}[{i}]: must not be empty", s.key(key)),
                    );
                }
                None => {
                    ok = false;
                    let found = a_type(item.get_ref());
                    self.problem(
                        &item.span(),
                        format!("{}[{i}]: expected a string, found {found}", s.key(key)),
                    );
                }
            }
        }
        ok.then(|| self.located(out, &span))
    }

    /// A local path: `~` and `~/` expand to `home`, a relative path is taken from `base`
    /// (the directory of the configuration file).
    pub fn path(
        &mut self,
        s: &Section<'_, '_>,
        key: &str,
        base: &Path,
        home: Option<&Path>,
    ) -> Option<Located<PathBuf>> {
        let (raw, span) = self.string_at(s, key)?;
        match resolve_path(&raw, base, home) {
            Ok(p) => Some(self.located(p, &span)),
            Err(e) => {
                self.problem(&span, format!("{}: {e}", s.key(key)));
                None
            }
        }
    }
}

/// "a string", "an integer", ... for messages.
pub fn a_type(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// Parse a positive humantime duration; the message says what to write instead.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    match humantime::parse_duration(text.trim()) {
        Ok(d) if d.is_zero() => Err("must be longer than zero".to_string()),
        Ok(d) => Ok(d),
        Err(e) => {
            // humantime lists every unit it knows after the cause: keep the cause only.
            let e = e.to_string();
            let cause = e.split(", supported units").next().unwrap_or(&e);
            Err(format!(
                "{text:?} is not a duration ({cause}); write for example \"30s\", \"15m\", \"26h\" or \"90d\""
            ))
        }
    }
}

/// Expand `~`/`~/` and make a relative path absolute against `base`.
pub fn resolve_path(raw: &str, base: &Path, home: Option<&Path>) -> Result<PathBuf, String> {
    if raw == "~" || raw.starts_with("~/") {
        let Some(home) = home else {
            return Err("cannot expand ~: the home directory is unknown".to_string());
        };
        return Ok(match raw.strip_prefix("~/") {
            Some(rest) => home.join(rest),
            None => home.to_path_buf(),
        });
    }
    if raw.starts_with('~') {
        return Err(format!(
            "only ~ and ~/ are expanded (the current user's home), not {raw:?}; write the path in full"
        ));
    }
    Ok(base.join(raw))
}

/// The closest known key to a misspelt one, if close enough to be a plausible typo.
pub fn suggest<'a>(key: &str, known: &[&'a str]) -> Option<&'a str> {
    let norm = |s: &str| s.to_lowercase().replace('-', "_");
    let key_n = norm(key);
    let mut best: Option<(usize, &'a str)> = None;
    for k in known {
        let d = edit_distance(&key_n, &norm(k));
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, k));
        }
    }
    let (d, k) = best?;
    let len = key_n.chars().count().max(k.len());
    (d <= 2.min(len / 2) || d * 3 <= len).then_some(k)
}

/// Edit distance counting a swap of two neighbours as one edit (optimal string alignment).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_catch_typos_not_strangers() {
        let known = ["url", "token_file", "ca_file", "protect", "task_timeout"];
        let cases = [
            ("tokenfile", Some("token_file")),
            ("token-file", Some("token_file")),
            ("Token_File", Some("token_file")),
            ("uri", Some("url")),
            ("protcet", Some("protect")),
            ("task_timout", Some("task_timeout")),
            ("utl", Some("url")),
            ("prtoect", Some("protect")),
            ("colour", None),
            ("x", None),
        ];
        for (key, want) in cases {
            assert_eq!(suggest(key, &known), want, "{key}");
        }
    }

    #[test]
    fn positions_are_one_based_in_characters() {
        let text = "a = 1\nb = \"é\" c\n";
        let doc = Doc::new(Path::new("f.toml"), text);
        assert_eq!(doc.loc(0).to_string(), "f.toml:1:1");
        assert_eq!(doc.loc(6).to_string(), "f.toml:2:1");
        let c = text.find(" c").map(|i| i + 1).unwrap_or_default();
        assert_eq!(doc.loc(c).to_string(), "f.toml:2:9");
        assert_eq!(doc.loc(10_000).line, 3);
    }

    #[test]
    fn durations_are_positive_humantime_strings() {
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration(" 90d "), Ok(Duration::from_secs(90 * 86400)));
        assert_eq!(parse_duration("0s"), Err("must be longer than zero".into()));
        let e = parse_duration("10 parsecs").unwrap_err();
        assert!(e.starts_with("\"10 parsecs\" is not a duration ("), "{e}");
    }

    #[test]
    fn paths_expand_home_and_follow_the_file() {
        let base = Path::new("/etc/matelot");
        let home = Some(Path::new("/home/ada"));
        let cases = [
            ("~", Ok("/home/ada")),
            ("~/.ssh/id", Ok("/home/ada/.ssh/id")),
            ("ca.pem", Ok("/etc/matelot/ca.pem")),
            ("../x", Ok("/etc/matelot/../x")),
            ("/abs/x", Ok("/abs/x")),
        ];
        for (raw, want) in cases {
            let got = resolve_path(raw, base, home).map(|p| p.display().to_string());
            assert_eq!(got, want.map(String::from), "{raw}");
        }
        assert!(resolve_path("~bob/x", base, home).is_err());
        assert!(resolve_path("~/x", base, None).is_err());
    }
}

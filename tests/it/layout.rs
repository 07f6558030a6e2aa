//! The house rule on layout, checked: files are cut by concept, so no two files import each
//! other (directly or round a longer cycle), and no "suffix file" sits beside a folder of the
//! same concept (`user_remove.rs` or `user.rs` next to `user/`, `backup_compute/` next to
//! `backup/`). This module reads the source tree itself with a small hand parser: it maps each
//! `.rs` file under `src/` (and each `crates/*/src/`) to its module path, reads every `use`
//! declaration (in function bodies and inline `mod tests` blocks too) and every qualified path
//! in code (`super::app_guarded::run(..)` imports as surely as a `use` line does), resolves
//! each to the deepest module file it names, and reports the strongly connected components of
//! the file graph with more than one file. A file naming its own ancestor module does not count:
//! that is how the parts of one concept share its vocabulary.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fs;
use std::path::{Path, PathBuf};

// ---------------------------------------------------------------------------------------------
// Lexing: just enough of Rust to skip comments, strings and character literals.

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    /// An identifier or keyword; a raw identifier `r#type` is `type`.
    Ident(String),
    /// The raw text of a string literal (never code).
    Str(String),
    /// `::`
    PathSep,
    Punct(char),
    /// A number, character literal or lifetime.
    Other,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    line: usize,
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_ident_continue(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The body of a quoted string starting after its opening quote: its text and the index after
/// the closing quote.
fn quoted(c: &[char], mut j: usize, line: &mut usize) -> (String, usize) {
    let start = j;
    while j < c.len() {
        match c[j] {
            '\\' => {
                if c.get(j + 1) == Some(&'\n') {
                    *line += 1;
                }
                j += 2;
            }
            '"' => return (c[start..j].iter().collect(), j + 1),
            ch => {
                if ch == '\n' {
                    *line += 1;
                }
                j += 1;
            }
        }
    }
    (c[start.min(c.len())..].iter().collect(), c.len())
}

fn lex(src: &str) -> Vec<Token> {
    let c: Vec<char> = src.chars().collect();
    let at = |k: usize| c.get(k).copied().unwrap_or('\0');
    let mut out = Vec::new();
    let mut i = 0;
    let mut line = 1;
    while i < c.len() {
        let ch = c[i];
        let start_line = line;
        let mut push = |tok: Tok| {
            out.push(Token {
                tok,
                line: start_line,
            })
        };
        if ch == '\n' {
            line += 1;
            i += 1;
        } else if ch.is_whitespace() {
            i += 1;
        } else if ch == '/' && at(i + 1) == '/' {
            // Line comments, `///` and `//!` doc comments.
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && at(i + 1) == '*' {
            // Block comments nest in Rust.
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if c[i] == '\n' {
                        line += 1;
                    }
                    i += 1;
                }
            }
        } else if ch == '"' {
            let (text, next) = quoted(&c, i + 1, &mut line);
            push(Tok::Str(text));
            i = next;
        } else if ch == '\'' {
            if at(i + 1) == '\\' {
                // '\n', '\'', '\u{..}'
                i += 3;
                while i < c.len() && c[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if at(i + 2) == '\'' {
                i += 3;
            } else {
                // A lifetime or a loop label.
                i += 1;
                while is_ident_continue(at(i)) {
                    i += 1;
                }
            }
            push(Tok::Other);
        } else if is_ident_start(ch) {
            let start = i;
            while is_ident_continue(at(i)) {
                i += 1;
            }
            let word: String = c[start..i].iter().collect();
            let mut j = i;
            while at(j) == '#' {
                j += 1;
            }
            let hashes = j - i;
            if matches!(word.as_str(), "r" | "br" | "cr") && at(j) == '"' {
                // A raw string: ends at a quote followed by as many hashes.
                j += 1;
                let body = j;
                while j < c.len() && !(c[j] == '"' && (1..=hashes).all(|k| at(j + k) == '#')) {
                    if c[j] == '\n' {
                        line += 1;
                    }
                    j += 1;
                }
                push(Tok::Str(c[body..j.min(c.len())].iter().collect()));
                i = j + 1 + hashes;
            } else if word == "r" && hashes == 1 && is_ident_start(at(j)) {
                let name = j;
                while is_ident_continue(at(j)) {
                    j += 1;
                }
                push(Tok::Ident(c[name..j].iter().collect()));
                i = j;
            } else if matches!(word.as_str(), "b" | "c") && at(i) == '"' {
                let (text, next) = quoted(&c, i + 1, &mut line);
                push(Tok::Str(text));
                i = next;
            } else if word == "b" && at(i) == '\'' {
                i += if at(i + 1) == '\\' { 3 } else { 2 };
                while i < c.len() && c[i] != '\'' {
                    i += 1;
                }
                i += 1;
                push(Tok::Other);
            } else {
                push(Tok::Ident(word));
            }
        } else if ch.is_ascii_digit() {
            while is_ident_continue(at(i)) {
                i += 1;
            }
            push(Tok::Other);
        } else if ch == ':' && at(i + 1) == ':' {
            push(Tok::PathSep);
            i += 2;
        } else {
            push(Tok::Punct(ch));
            i += 1;
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Parsing: the `use` declarations, qualified paths and `mod` declarations of one file.

/// One imported path, `crate::journal::OpId` or `super::*`; `a::{self}` is `a`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct UsePath {
    segments: Vec<String>,
    alias: Option<String>,
}

impl UsePath {
    fn new(mut segments: Vec<String>, alias: Option<String>) -> Self {
        if segments.len() > 1 && segments.last().is_some_and(|s| s == "self") {
            segments.pop();
        }
        UsePath { segments, alias }
    }

    fn text(&self) -> String {
        let path = self.segments.join("::");
        match &self.alias {
            Some(a) => format!("{path} as {a}"),
            None => path,
        }
    }
}

/// One `use` declaration, or one qualified path in code (`super::up::CONFIG_FILE`): where it
/// is (line, and the inline modules it sits in) and its paths.
#[derive(Debug, Clone)]
struct Import {
    line: usize,
    scope: Vec<String>,
    paths: Vec<UsePath>,
}

/// One `mod name;` declaration (a module in another file), with its `#[path]` if any.
#[derive(Debug, Clone)]
struct ModDecl {
    name: String,
    scope: Vec<String>,
    path: Option<String>,
}

#[derive(Debug, Clone, Default)]
struct Parsed {
    uses: Vec<Import>,
    /// Paths of two segments or more outside `use` declarations, each with one path.
    refs: Vec<Import>,
    mods: Vec<ModDecl>,
}

fn parse(src: &str) -> Parsed {
    let toks = lex(src);
    let tok = |k: usize| toks.get(k).map(|t| &t.tok);
    let ident = |k: usize| match tok(k) {
        Some(Tok::Ident(w)) => Some(w.as_str()),
        _ => None,
    };
    let mut parsed = Parsed::default();
    // One entry per open brace: the inline module it opens, if it opens one.
    let mut frames: Vec<Option<String>> = Vec::new();
    let scope = |frames: &[Option<String>]| frames.iter().flatten().cloned().collect::<Vec<_>>();
    let mut pending_path: Option<String> = None;
    let mut i = 0;
    while i < toks.len() {
        match &toks[i].tok {
            Tok::Ident(w) if w == "mod" => {
                if let Some(name) = ident(i + 1) {
                    match tok(i + 2) {
                        Some(Tok::Punct('{')) => {
                            frames.push(Some(name.to_string()));
                            pending_path = None;
                            i += 3;
                            continue;
                        }
                        Some(Tok::Punct(';')) => {
                            parsed.mods.push(ModDecl {
                                name: name.to_string(),
                                scope: scope(&frames),
                                path: pending_path.take(),
                            });
                            i += 3;
                            continue;
                        }
                        _ => {}
                    }
                }
                i += 1;
            }
            // `use<'a>` is precise capturing in `impl Trait + use<'a>`, not an import.
            Tok::Ident(w) if w == "use" && tok(i + 1) != Some(&Tok::Punct('<')) => {
                let mut paths = Vec::new();
                match use_tree(&toks, i + 1, &[], &mut paths) {
                    Some(next) if tok(next) == Some(&Tok::Punct(';')) => {
                        parsed.uses.push(Import {
                            line: toks[i].line,
                            scope: scope(&frames),
                            paths,
                        });
                        i = next + 1;
                    }
                    // Not a use declaration we understand (a macro's `use $path;`): skip it.
                    _ => i += 1,
                }
            }
            Tok::Punct('#') => {
                if let (
                    Some(Tok::Punct('[')),
                    Some("path"),
                    Some(Tok::Punct('=')),
                    Some(Tok::Str(p)),
                    Some(Tok::Punct(']')),
                ) = (tok(i + 1), ident(i + 2), tok(i + 3), tok(i + 4), tok(i + 5))
                {
                    pending_path = Some(p.clone());
                    i += 6;
                } else {
                    i += 1;
                }
            }
            Tok::Punct('{') => {
                frames.push(None);
                pending_path = None;
                i += 1;
            }
            Tok::Punct('}') => {
                frames.pop();
                pending_path = None;
                i += 1;
            }
            Tok::Punct(';') => {
                pending_path = None;
                i += 1;
            }
            Tok::Ident(_) | Tok::Punct('$') => {
                let (segments, next) = qualified_path(&toks, i);
                if segments.len() > 1 {
                    parsed.refs.push(Import {
                        line: toks[i].line,
                        scope: scope(&frames),
                        paths: vec![UsePath::new(segments, None)],
                    });
                }
                i = next.max(i + 1);
            }
            _ => i += 1,
        }
    }
    parsed
}

/// The path in code starting at `i` (`crate::x::f`, `super::up::CONFIG_FILE`, `Vec::new`,
/// `$crate::m::g`) and the index after it; no segments where no path starts: after `.` (a
/// method's turbofish), after `::` (the middle of a path), after `$` (a macro variable) and
/// in `pub(in path)`.
fn qualified_path(toks: &[Token], i: usize) -> (Vec<String>, usize) {
    let tok = |k: usize| toks.get(k).map(|t| &t.tok);
    let prev = i.checked_sub(1).and_then(tok);
    let in_visibility = matches!(prev, Some(Tok::Ident(w)) if w == "in")
        && i.checked_sub(2).and_then(tok) == Some(&Tok::Punct('('));
    if in_visibility || matches!(prev, Some(Tok::Punct('.' | '$') | Tok::PathSep)) {
        return (Vec::new(), i + 1);
    }
    let (mut segments, mut j) = match (tok(i), tok(i + 1)) {
        (Some(Tok::Punct('$')), Some(Tok::Ident(w))) if w == "crate" => {
            (vec!["crate".to_string()], i + 2)
        }
        (Some(Tok::Ident(w)), _) => (vec![w.clone()], i + 1),
        _ => return (Vec::new(), i + 1),
    };
    while let (Some(Tok::PathSep), Some(Tok::Ident(w))) = (tok(j), tok(j + 1)) {
        segments.push(w.clone());
        j += 2;
    }
    (segments, j)
}

/// Parse one use tree at `i` under `prefix`, pushing its paths; the index after it, or `None`
/// when this is not a use tree.
fn use_tree(
    toks: &[Token],
    mut i: usize,
    prefix: &[String],
    out: &mut Vec<UsePath>,
) -> Option<usize> {
    let tok = |k: usize| toks.get(k).map(|t| &t.tok);
    let mut segs = prefix.to_vec();
    if tok(i) == Some(&Tok::PathSep) {
        // `use ::name` names an external crate.
        segs.push(String::new());
        i += 1;
    }
    loop {
        match tok(i)? {
            Tok::Punct('$') => match tok(i + 1) {
                // `$crate` in a macro of this crate is this crate.
                Some(Tok::Ident(w)) if w == "crate" => {
                    segs.push("crate".to_string());
                    i += 2;
                    if tok(i) == Some(&Tok::PathSep) {
                        i += 1;
                    } else {
                        out.push(UsePath::new(segs, None));
                        return Some(i);
                    }
                }
                _ => return None,
            },
            Tok::Ident(w) => {
                segs.push(w.clone());
                i += 1;
                match tok(i) {
                    Some(Tok::PathSep) => i += 1,
                    Some(Tok::Ident(a)) if a == "as" => match tok(i + 1) {
                        Some(Tok::Ident(alias)) => {
                            out.push(UsePath::new(segs, Some(alias.clone())));
                            return Some(i + 2);
                        }
                        _ => return None,
                    },
                    _ => {
                        out.push(UsePath::new(segs, None));
                        return Some(i);
                    }
                }
            }
            Tok::Punct('*') => {
                segs.push("*".to_string());
                out.push(UsePath::new(segs, None));
                return Some(i + 1);
            }
            Tok::Punct('{') => {
                i += 1;
                loop {
                    if tok(i)? == &Tok::Punct('}') {
                        return Some(i + 1);
                    }
                    i = use_tree(toks, i, &segs, out)?;
                    match tok(i)? {
                        Tok::Punct(',') => i += 1,
                        Tok::Punct('}') => return Some(i + 1),
                        _ => return None,
                    }
                }
            }
            _ => return None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Modules: which module each file is, and which file an imported path lands in.

/// The module a file is: a module of the library, or (part of) a binary.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Module {
    Lib(Vec<String>),
    Bin,
}

/// The module of a file given by its path relative to `src/`, '/'-separated:
/// `lib.rs` is the crate root, `a/mod.rs` and `a.rs` are `a`, `a/b.rs` is `a::b`.
fn module_of(rel: &str) -> Module {
    let parts: Vec<&str> = rel.split('/').collect();
    let (file, dirs) = parts.split_last().expect("a path");
    let stem = file.strip_suffix(".rs").unwrap_or(file);
    if (dirs.is_empty() && stem == "main") || dirs.first() == Some(&"bin") {
        return Module::Bin;
    }
    let mut m: Vec<String> = dirs.iter().map(|d| d.to_string()).collect();
    if !((dirs.is_empty() && stem == "lib") || stem == "mod") {
        m.push(stem.to_string());
    }
    Module::Lib(m)
}

/// The directory part of a '/'-separated relative path ("" at the top).
fn dir_of(rel: &str) -> &str {
    rel.rsplit_once('/').map_or("", |(d, _)| d)
}

/// `a/b/../c.rs` → `a/c.rs`; `None` when it leaves the tree.
fn normalize(rel: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for p in rel.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

/// The file a `#[path = "…"] mod …;` declaration in `file` names, relative to `src/`.
fn path_target(file: &str, decl: &ModDecl, path: &str) -> Option<String> {
    let dir = dir_of(file);
    let stem = file
        .rsplit('/')
        .next()
        .unwrap_or(file)
        .trim_end_matches(".rs");
    let mut base: Vec<&str> = Vec::new();
    if !dir.is_empty() {
        base.push(dir);
    }
    if !decl.scope.is_empty() {
        // Inside inline modules the path is relative to their directories, which for a
        // non-`mod.rs` file live under the file's own name.
        if !matches!(stem, "mod" | "lib" | "main") {
            base.push(stem);
        }
        base.extend(decl.scope.iter().map(String::as_str));
    }
    base.push(path);
    normalize(&base.join("/"))
}

/// Resolve one imported path, seen from module `here` (the file's module and the inline
/// modules the `use` sits in; `None` in a binary), to the absolute module path it names.
/// `index` maps each module that has a file to that file; `aliases` are the modules the file
/// imported under a name. `None` for std, external crates and names of items in scope.
fn absolute(
    index: &BTreeMap<Vec<String>, String>,
    crate_name: &str,
    here: Option<&[String]>,
    aliases: &BTreeMap<String, Vec<String>>,
    path: &[String],
) -> Option<Vec<String>> {
    let (first, rest) = path.split_first()?;
    let mut abs: Vec<String> = match first.as_str() {
        "crate" if here.is_some() => Vec::new(),
        "crate" => return None,
        name if name == crate_name => Vec::new(),
        "self" => here?.to_vec(),
        "super" => {
            let mut h = here?.to_vec();
            h.pop()?;
            h
        }
        "" => return None,
        name => {
            let here = here?;
            let mut child = here.to_vec();
            child.push(name.to_string());
            if index.contains_key(&child) {
                // 2018 paths: a child module declared by this file.
                child
            } else {
                // A module imported by name earlier, or else an external crate or an item.
                aliases.get(name)?.clone()
            }
        }
    };
    for s in rest {
        match s.as_str() {
            "super" => {
                abs.pop()?;
            }
            "self" => {}
            s => abs.push(s.to_string()),
        }
    }
    Some(abs)
}

/// The file of the deepest module with a file along `abs`; its other segments are items.
fn deepest_file(index: &BTreeMap<Vec<String>, String>, abs: &[String]) -> Option<String> {
    (0..=abs.len())
        .rev()
        .find_map(|n| index.get(&abs[..n]).cloned())
}

/// One crate's source files: path relative to `src/`, module, parsed source.
struct SourceFile {
    rel: String,
    module: Module,
    parsed: Parsed,
}

/// Map files to modules: by their place in the tree, then by the `#[path]` declarations.
fn map_modules(sources: Vec<(String, String)>) -> Vec<SourceFile> {
    let mut files: Vec<SourceFile> = sources
        .into_iter()
        .map(|(rel, src)| SourceFile {
            module: module_of(&rel),
            parsed: parse(&src),
            rel,
        })
        .collect();
    let mut remap: Vec<(String, Module)> = Vec::new();
    for f in &files {
        for decl in &f.parsed.mods {
            let Some(path) = &decl.path else { continue };
            let Some(target) = path_target(&f.rel, decl, path) else {
                continue;
            };
            let module = match &f.module {
                Module::Lib(m) => {
                    let mut m = m.clone();
                    m.extend(decl.scope.iter().cloned());
                    m.push(decl.name.clone());
                    Module::Lib(m)
                }
                Module::Bin => Module::Bin,
            };
            remap.push((target, module));
        }
    }
    for (target, module) in remap {
        if let Some(f) = files.iter_mut().find(|f| f.rel == target) {
            f.module = module;
        }
    }
    files
}

fn module_index(files: &[SourceFile]) -> BTreeMap<Vec<String>, String> {
    files
        .iter()
        .filter_map(|f| match &f.module {
            Module::Lib(m) => Some((m.clone(), f.rel.clone())),
            Module::Bin => None,
        })
        .collect()
}

/// Why one file imports another: the line, and `use path` or the qualified path in code.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Evidence {
    line: usize,
    path: String,
}

/// Import edges between two different files, each with the `use` lines and paths behind it.
type Edges = BTreeMap<(String, String), Vec<Evidence>>;

/// Every import edge between two different files of one crate.
fn import_edges(files: &[SourceFile], crate_name: &str) -> Edges {
    let index = module_index(files);
    let no_aliases = BTreeMap::new();
    let mut edges = Edges::new();
    for f in files {
        let here_of = |scope: &[String]| match &f.module {
            Module::Lib(m) => Some([m.as_slice(), scope].concat()),
            Module::Bin => None,
        };
        // The modules this file imports by name, for 2018 paths such as `use journal::Op`
        // after `use crate::journal;`.
        let mut aliases: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for u in &f.parsed.uses {
            let here = here_of(&u.scope);
            for p in &u.paths {
                let Some(abs) = absolute(
                    &index,
                    crate_name,
                    here.as_deref(),
                    &no_aliases,
                    &p.segments,
                ) else {
                    continue;
                };
                let name = p.alias.clone().or_else(|| p.segments.last().cloned());
                if let Some(name) = name
                    && index.contains_key(&abs)
                    && name != "_"
                    && name != "*"
                {
                    aliases.insert(name, abs);
                }
            }
        }
        let uses = f.parsed.uses.iter().map(|u| (u, "use "));
        for (u, kind) in uses.chain(f.parsed.refs.iter().map(|r| (r, ""))) {
            let here = here_of(&u.scope);
            for p in &u.paths {
                let Some(abs) =
                    absolute(&index, crate_name, here.as_deref(), &aliases, &p.segments)
                else {
                    continue;
                };
                // A path in code ends in an item, never a module: in `backup::run(ctx)` the
                // function `run` of `backup.rs`, even if `backup/run.rs` exists too.
                let named = match kind {
                    "" => &abs[..abs.len().saturating_sub(1)],
                    _ => &abs[..],
                };
                let Some(to) = deepest_file(&index, named) else {
                    continue;
                };
                if to != f.rel {
                    edges
                        .entry((f.rel.clone(), to))
                        .or_default()
                        .push(Evidence {
                            line: u.line,
                            path: format!("{kind}{}", p.text()),
                        });
                }
            }
        }
    }
    edges
}

// ---------------------------------------------------------------------------------------------
// Cycles: Tarjan's strongly connected components, and a readable walk round each.

/// The strongly connected components with more than one node, each sorted, in sorted order.
fn cycles(edges: &BTreeSet<(String, String)>) -> Vec<Vec<String>> {
    let nodes: Vec<&String> = edges
        .iter()
        .flat_map(|(a, b)| [a, b])
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let id: BTreeMap<&String, usize> = nodes.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let mut adj = vec![Vec::new(); nodes.len()];
    for (a, b) in edges {
        adj[id[a]].push(id[b]);
    }

    struct Tarjan<'a> {
        adj: &'a [Vec<usize>],
        next: usize,
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        stack: Vec<usize>,
        on_stack: Vec<bool>,
        sccs: Vec<Vec<usize>>,
    }

    impl Tarjan<'_> {
        fn visit(&mut self, v: usize) {
            self.index[v] = Some(self.next);
            self.low[v] = self.next;
            self.next += 1;
            self.stack.push(v);
            self.on_stack[v] = true;
            for &w in &self.adj[v] {
                match self.index[w] {
                    None => {
                        self.visit(w);
                        self.low[v] = self.low[v].min(self.low[w]);
                    }
                    Some(iw) if self.on_stack[w] => self.low[v] = self.low[v].min(iw),
                    Some(_) => {}
                }
            }
            if Some(self.low[v]) == self.index[v] {
                let mut scc = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack[w] = false;
                    scc.push(w);
                    if w == v {
                        break;
                    }
                }
                self.sccs.push(scc);
            }
        }
    }

    let mut t = Tarjan {
        adj: &adj,
        next: 0,
        index: vec![None; nodes.len()],
        low: vec![0; nodes.len()],
        stack: Vec::new(),
        on_stack: vec![false; nodes.len()],
        sccs: Vec::new(),
    };
    for v in 0..nodes.len() {
        if t.index[v].is_none() {
            t.visit(v);
        }
    }
    let mut out: Vec<Vec<String>> = t
        .sccs
        .into_iter()
        .filter(|scc| scc.len() > 1)
        .map(|scc| {
            let mut names: Vec<String> = scc.into_iter().map(|v| nodes[v].clone()).collect();
            names.sort();
            names
        })
        .collect();
    out.sort();
    out
}

/// A closed walk along real edges through every file of a cycle, from its first file and
/// back: `a.rs -> b.rs -> a.rs`.
fn closed_walk(scc: &[String], edges: &BTreeSet<(String, String)>) -> Vec<String> {
    let members: BTreeSet<&String> = scc.iter().collect();
    let successors = |v: &String| -> Vec<&String> {
        edges
            .range((v.clone(), String::new())..)
            .take_while(|(a, _)| a == v)
            .map(|(_, b)| b)
            .filter(|b| members.contains(b))
            .collect()
    };
    // The shortest path inside the component from `from` to the nearest file `goal` accepts,
    // without `from` itself.
    let shortest = |from: &String, goal: &dyn Fn(&String) -> bool| -> Vec<String> {
        let mut seen: BTreeSet<&String> = BTreeSet::from([from]);
        let mut queue: VecDeque<Vec<&String>> = VecDeque::from([vec![from]]);
        while let Some(path) = queue.pop_front() {
            let v = path[path.len() - 1];
            for b in successors(v) {
                let mut longer = path.clone();
                longer.push(b);
                if goal(b) {
                    return longer[1..].iter().map(|f| f.to_string()).collect();
                }
                if seen.insert(b) {
                    queue.push_back(longer);
                }
            }
        }
        Vec::new()
    };
    let start = &scc[0];
    let mut walk = vec![start.clone()];
    let mut seen: BTreeSet<String> = BTreeSet::from([start.clone()]);
    while seen.len() < scc.len() {
        let here = walk.last().cloned().unwrap_or_default();
        let step = shortest(&here, &|n: &String| !seen.contains(n));
        if step.is_empty() {
            break;
        }
        seen.extend(step.iter().cloned());
        walk.extend(step);
    }
    let here = walk.last().cloned().unwrap_or_default();
    walk.extend(shortest(&here, &|n: &String| n == start));
    walk
}

// ---------------------------------------------------------------------------------------------
// Suffix files: `user_remove.rs` or `user.rs` beside `user/`, `backup_compute/` beside `backup/`.

/// Given every `.rs` file (relative to `src/`), each `(suffix file or folder, folder)` pair in
/// one directory where the first is the folder's name, or its name plus `_suffix`.
fn suffix_pairs(files: &[String]) -> Vec<(String, String)> {
    // Folders that hold Rust code (a folder of snapshots alone is no module).
    let mut dirs: BTreeSet<String> = BTreeSet::new();
    for f in files {
        let mut d = dir_of(f);
        while !d.is_empty() {
            dirs.insert(d.to_string());
            d = dir_of(d);
        }
    }
    let name_of = |p: &str| p.rsplit('/').next().unwrap_or(p).to_string();
    let mut pairs = Vec::new();
    for dir in &dirs {
        let parent = dir_of(dir);
        let name = name_of(dir);
        let related = |other: &str| other == name || other.starts_with(&format!("{name}_"));
        for f in files.iter().filter(|f| dir_of(f) == parent) {
            if related(name_of(f).trim_end_matches(".rs")) {
                pairs.push((f.clone(), format!("{dir}/")));
            }
        }
        for d in dirs.iter().filter(|d| *d != dir && dir_of(d) == parent) {
            if related(&name_of(d)) {
                pairs.push((format!("{d}/"), format!("{dir}/")));
            }
        }
    }
    pairs.sort();
    pairs
}

// ---------------------------------------------------------------------------------------------
// The tree: each crate of the workspace on its own.

struct CrateSources {
    name: String,
    /// `src`, or `crates/x/src`: where its paths start, for messages.
    root: String,
    files: Vec<SourceFile>,
}

fn rust_files(dir: &Path, rel: &str, out: &mut Vec<(String, PathBuf)>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path
            .file_name()
            .expect("a name")
            .to_string_lossy()
            .to_string();
        let child = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        if path.is_dir() {
            rust_files(&path, &child, out);
        } else if name.ends_with(".rs") {
            out.push((child, path));
        }
    }
}

fn read_crate(name: String, crate_dir: &Path, root: String) -> CrateSources {
    let mut found = Vec::new();
    rust_files(&crate_dir.join("src"), "", &mut found);
    let sources = found
        .into_iter()
        .map(|(rel, path)| {
            let src = fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
            (rel, src)
        })
        .collect();
    CrateSources {
        name,
        root,
        files: map_modules(sources),
    }
}

/// The package's own crate, and each `crates/*/` with a `src/`.
fn crates(manifest_dir: &Path) -> Vec<CrateSources> {
    let mut out = vec![read_crate(
        env!("CARGO_PKG_NAME").replace('-', "_"),
        manifest_dir,
        "src".to_string(),
    )];
    let Ok(entries) = fs::read_dir(manifest_dir.join("crates")) else {
        return out;
    };
    let mut dirs: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    dirs.sort();
    for dir in dirs.into_iter().filter(|d| d.join("src").is_dir()) {
        let dir_name = dir
            .file_name()
            .expect("a name")
            .to_string_lossy()
            .to_string();
        let name = fs::read_to_string(dir.join("Cargo.toml"))
            .ok()
            .and_then(|toml| {
                toml.lines()
                    .filter_map(|l| l.trim().strip_prefix("name"))
                    .filter_map(|l| l.trim().strip_prefix('='))
                    .map(|v| v.trim().trim_matches('"').to_string())
                    .next()
            })
            .unwrap_or_else(|| dir_name.clone());
        out.push(read_crate(
            name.replace('-', "_"),
            &dir,
            format!("crates/{dir_name}/src"),
        ));
    }
    out
}

/// A cycle (a strongly connected component), as a walk round it and the lines that make its
/// edges.
struct Cycle {
    files: usize,
    walk: Vec<String>,
    edges: Vec<(String, String, Vec<Evidence>)>,
}

struct Report {
    cycles: Vec<Cycle>,
    suffix_pairs: Vec<(String, String)>,
}

fn check(crates: &[CrateSources]) -> Report {
    let mut report = Report {
        cycles: Vec::new(),
        suffix_pairs: Vec::new(),
    };
    for krate in crates {
        let shown = |rel: &str| format!("{}/{rel}", krate.root);
        let mut edges = import_edges(&krate.files, &krate.name);
        // A file naming its own ancestor module (`use super::Journal` from `journal/ops.rs`)
        // is how a concept's parts share its vocabulary; the rule is about files that import
        // each other as peers, so those edges do not count.
        edges.retain(|(a, b), _| !is_ancestor(b, a));
        let graph: BTreeSet<(String, String)> = edges.keys().cloned().collect();
        for scc in cycles(&graph) {
            let members: BTreeSet<&String> = scc.iter().collect();
            report.cycles.push(Cycle {
                files: scc.len(),
                walk: closed_walk(&scc, &graph).iter().map(|f| shown(f)).collect(),
                edges: edges
                    .iter()
                    .filter(|((a, b), _)| members.contains(a) && members.contains(b))
                    .map(|((a, b), ev)| (shown(a), shown(b), ev.clone()))
                    .collect(),
            });
        }
        let rels: Vec<String> = krate.files.iter().map(|f| f.rel.clone()).collect();
        report.suffix_pairs.extend(
            suffix_pairs(&rels)
                .into_iter()
                .map(|(a, b)| (shown(&a), shown(&b))),
        );
    }
    report
}

/// Whether the module of file `parent` is a proper ancestor of the module of file `child`.
fn is_ancestor(parent: &str, child: &str) -> bool {
    match (module_of(parent), module_of(child)) {
        (Module::Lib(p), Module::Lib(c)) => p.len() < c.len() && c.starts_with(&p),
        _ => false,
    }
}

impl Report {
    fn render(&self) -> String {
        let mut s = String::from(
            "Files are cut by concept: no two files import each other, and no suffix file sits \
             beside a folder of the same concept.\n",
        );
        s += &format!("\n{} import cycle(s) between files:\n", self.cycles.len());
        for c in &self.cycles {
            s += &format!("  {} files: ", c.files);
            for (i, f) in c.walk.iter().enumerate() {
                s += match i {
                    0 => "",
                    i if i % 4 == 0 => "\n        -> ",
                    _ => " -> ",
                };
                s += f;
            }
            s += "\n    because\n";
            for (a, b, ev) in &c.edges {
                // One entry per line of source, written as the source writes it.
                let mut lines: Vec<(usize, bool, Vec<&str>)> = Vec::new();
                for e in ev {
                    let is_use = e.path.starts_with("use ");
                    match lines.last_mut() {
                        Some((l, u, paths)) if *l == e.line && *u == is_use => {
                            if !paths.contains(&e.path.as_str()) {
                                paths.push(&e.path);
                            }
                        }
                        _ => lines.push((e.line, is_use, vec![&e.path])),
                    }
                }
                let shown: Vec<String> = lines
                    .iter()
                    .map(|(l, _, paths)| format!("line {l} `{}`", merged(paths)))
                    .collect();
                s += &format!("      {a} -> {b}: {}\n", shown.join("; "));
            }
        }
        s += &format!(
            "\n{} suffix file(s) beside a folder of the same concept:\n",
            self.suffix_pairs.len()
        );
        for (f, d) in &self.suffix_pairs {
            s += &format!("  {f} beside {d}\n");
        }
        s
    }
}

/// Paths from one line, written back as the source writes them: `use super::{a, b::c}`.
fn merged(paths: &[&str]) -> String {
    let split: Vec<Vec<&str>> = paths.iter().map(|p| p.split("::").collect()).collect();
    let mut common = 0;
    while split
        .iter()
        .all(|p| p.len() > common && split[0].get(common) == Some(&p[common]))
    {
        common += 1;
    }
    if paths.len() < 2 || common == 0 {
        return paths.join(", ");
    }
    let rest: Vec<String> = split
        .iter()
        .map(|p| match p[common..].join("::") {
            r if r.is_empty() => "self".to_string(),
            r => r,
        })
        .collect();
    format!("{}::{{{}}}", split[0][..common].join("::"), rest.join(", "))
}

fn this_tree() -> Report {
    check(&crates(Path::new(env!("CARGO_MANIFEST_DIR"))))
}

#[test]
fn the_source_tree_has_no_import_cycles_between_files() {
    let report = this_tree();
    assert!(report.cycles.is_empty(), "{}", report.render());
}

#[test]
fn no_suffix_files_beside_folders() {
    let report = this_tree();
    assert!(report.suffix_pairs.is_empty(), "{}", report.render());
}

/// The checker's own premise, on the real tree: every file it maps to a module is declared by
/// a `mod` in its parent's file, and every `mod name;` names a file it found.
#[test]
fn the_walk_maps_every_file_to_the_module_the_compiler_sees() {
    for krate in crates(Path::new(env!("CARGO_MANIFEST_DIR"))) {
        let index = module_index(&krate.files);
        assert!(
            index.contains_key(&Vec::new()),
            "no lib.rs in {}",
            krate.root
        );
        let mut declared: BTreeSet<Vec<String>> = BTreeSet::new();
        for f in &krate.files {
            let Module::Lib(m) = &f.module else { continue };
            for d in &f.parsed.mods {
                declared.insert(
                    [
                        m.as_slice(),
                        d.scope.as_slice(),
                        std::slice::from_ref(&d.name),
                    ]
                    .concat(),
                );
            }
        }
        for (m, file) in &index {
            assert!(
                m.is_empty() || declared.contains(m),
                "{}/{file} is no module",
                krate.root
            );
        }
        for m in &declared {
            assert!(index.contains_key(m), "`mod {}` has no file", m.join("::"));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The checker's own tests.

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

/// Each imported path of a source, as `path` or `in tests: path` inside inline modules.
fn imported(src: &str) -> Vec<String> {
    parse(src)
        .uses
        .iter()
        .flat_map(|u| {
            u.paths.iter().map(|p| {
                if u.scope.is_empty() {
                    p.text()
                } else {
                    format!("in {}: {}", u.scope.join("::"), p.text())
                }
            })
        })
        .collect()
}

#[test]
fn the_parser_reads_every_imported_path() {
    let cases: &[(&str, &[&str])] = &[
        ("use crate::journal::OpId;", &["crate::journal::OpId"]),
        (
            "pub use super::app_facts::{judge, prepare};",
            &["super::app_facts::judge", "super::app_facts::prepare"],
        ),
        (
            "pub(crate) use a::{b, c::{d, e}};",
            &["a::b", "a::c::d", "a::c::e"],
        ),
        ("pub(in crate::x) use self::y::Z;", &["self::y::Z"]),
        (
            "use super::{\n    self,\n    plan::{Plan as P, Step},\n    *,\n};",
            &[
                "super",
                "super::plan::Plan as P",
                "super::plan::Step",
                "super::*",
            ],
        ),
        ("use super::super::x as _;", &["super::super::x as _"]),
        ("use ::std::fmt; use std::io;", &["::std::fmt", "std::io"]),
        ("use matelot::lab::{self};", &["matelot::lab"]),
        ("use crate::r#type::Kind;", &["crate::type::Kind"]),
        (
            "fn f() {\n    use crate::inner::X;\n    x();\n}",
            &["crate::inner::X"],
        ),
        (
            "#[cfg(test)]\nmod tests {\n    use super::*;\n    mod deeper { use super::super::Y; }\n}\nuse crate::after;",
            &[
                "in tests: super::*",
                "in tests::deeper: super::super::Y",
                "crate::after",
            ],
        ),
        ("fn f() { mod m { use crate::a; } }", &["in m: crate::a"]),
        (
            "macro_rules! m { () => { use $crate::x::Y; use $p; } }",
            &["crate::x::Y"],
        ),
        (
            "fn f() -> impl Sized + use<> {}\nfn g<'a>() -> impl Sized + use<'a> {}",
            &[],
        ),
    ];
    for (src, want) in cases {
        assert_eq!(imported(src), s(want), "{src}");
    }
}

#[test]
fn comments_strings_and_characters_are_never_imports() {
    let cases: &[(&str, &[&str])] = &[
        ("// use crate::a;\nuse crate::b;", &["crate::b"]),
        (
            "/// use crate::a;\n//! use crate::b;\nuse crate::c;",
            &["crate::c"],
        ),
        (
            "/* use crate::a; /* nested */ use crate::b; */ use crate::c;",
            &["crate::c"],
        ),
        ("/** use crate::a; */ /*! use crate::b; */", &[]),
        (
            "let s = \"use crate::a; \\\" use crate::b;\"; use crate::c;",
            &["crate::c"],
        ),
        (
            "let s = r#\"use crate::a; \"still a string\" \"#; use crate::b;",
            &["crate::b"],
        ),
        (
            "let s = b\"use crate::a;\"; let t = br\"use crate::b;\";",
            &[],
        ),
        (
            "let q = '\"'; use crate::a; let r = '\\''; use crate::b;",
            &["crate::a", "crate::b"],
        ),
        (
            "fn f<'a>(x: &'a str) -> char { 'x' } use crate::a; let c = b'\"';",
            &["crate::a"],
        ),
        (
            "#[doc = \"use crate::a;\"] struct S; format!(\"use {}\", 1);",
            &[],
        ),
        ("let user = 1; let used = user; mod usage;", &[]),
    ];
    for (src, want) in cases {
        assert_eq!(imported(src), s(want), "{src}");
    }
}

/// Each qualified path in code, as `path` or `in tests: path` inside inline modules.
fn referenced(src: &str) -> Vec<String> {
    parse(src)
        .refs
        .iter()
        .flat_map(|u| {
            u.paths.iter().map(|p| {
                if u.scope.is_empty() {
                    p.text()
                } else {
                    format!("in {}: {}", u.scope.join("::"), p.text())
                }
            })
        })
        .collect()
}

#[test]
fn the_parser_reads_qualified_paths_in_code() {
    let cases: &[(&str, &[&str])] = &[
        (
            "fn f() { super::app_guarded::run(ctx); }",
            &["super::app_guarded::run"],
        ),
        (
            "#[command(after_help = crate::cli::app_guarded::HELP)]\nstruct S;",
            &["crate::cli::app_guarded::HELP"],
        ),
        (
            "impl From<E> for crate::error::Error {}",
            &["crate::error::Error"],
        ),
        (
            "Self::new(); std::fmt::Display",
            &["Self::new", "std::fmt::Display"],
        ),
        ("use crate::a::b; b::c();", &["b::c"]),
        (
            "mod tests { fn t() { super::super::x::y(); } }",
            &["in tests: super::super::x::y"],
        ),
        ("$name::Unknown; $crate::m::g()", &["crate::m::g"]),
        // Turbofish, qualified self types, global paths, methods and visibility: no path.
        (
            "let v = Vec::<u8>::new(); x.collect::<Vec<_>>(); <T as Tr>::m(); ::std::mem::take(x);",
            &[],
        ),
        ("pub(in crate::commands) fn f() {}", &[]),
        (
            "// super::a::b\nlet s = \"crate::x::y\"; /* self::a::b */",
            &[],
        ),
    ];
    for (src, want) in cases {
        assert_eq!(referenced(src), s(want), "{src}");
    }
}

#[test]
fn the_parser_reads_mod_declarations_and_their_paths() {
    let parsed = parse(
        "mod a;\n#[cfg(test)]\n#[path = \"b_tests.rs\"]\nmod tests;\nmod inline { pub mod c; }\n#[path = \"x.rs\"] fn f() {}\nmod d;",
    );
    let got: Vec<(String, String, Option<String>)> = parsed
        .mods
        .iter()
        .map(|m| (m.scope.join("::"), m.name.clone(), m.path.clone()))
        .collect();
    let want = vec![
        (String::new(), "a".to_string(), None),
        (
            String::new(),
            "tests".to_string(),
            Some("b_tests.rs".to_string()),
        ),
        ("inline".to_string(), "c".to_string(), None),
        (String::new(), "d".to_string(), None),
    ];
    assert_eq!(got, want);
}

#[test]
fn files_map_to_their_modules() {
    let cases: &[(&str, Option<&[&str]>)] = &[
        ("lib.rs", Some(&[])),
        ("a/mod.rs", Some(&["a"])),
        ("a.rs", Some(&["a"])),
        ("a/b.rs", Some(&["a", "b"])),
        ("a/lib.rs", Some(&["a", "lib"])),
        ("a/b/mod.rs", Some(&["a", "b"])),
        ("main.rs", None),
        ("bin/tool.rs", None),
    ];
    for (rel, want) in cases {
        let want = match want {
            Some(m) => Module::Lib(s(m)),
            None => Module::Bin,
        };
        assert_eq!(module_of(rel), want, "{rel}");
    }
}

/// A small crate for the resolution tests: path relative to `src/` and source.
fn small_crate(extra: &[(&str, &str)]) -> Vec<SourceFile> {
    let mut sources: Vec<(String, String)> = [
        ("lib.rs", "pub mod commands; pub mod journal;"),
        ("main.rs", ""),
        ("commands/mod.rs", "mod app; mod app_facts;"),
        ("commands/app.rs", "mod inner { pub struct X; }"),
        ("commands/app_facts.rs", ""),
        ("journal/mod.rs", "mod ops;"),
        ("journal/ops.rs", "#[path = \"ops_tests.rs\"] mod tests;"),
        ("journal/ops_tests.rs", ""),
    ]
    .iter()
    .map(|(r, src)| (r.to_string(), src.to_string()))
    .collect();
    for (r, src) in extra {
        sources.retain(|(have, _)| have != r);
        sources.push((r.to_string(), src.to_string()));
    }
    map_modules(sources)
}

#[test]
fn imported_paths_resolve_to_the_deepest_module_file() {
    let files = small_crate(&[]);
    let index = module_index(&files);
    let module = |rel: &str| {
        files
            .iter()
            .find(|f| f.rel == rel)
            .expect(rel)
            .module
            .clone()
    };
    assert_eq!(
        module("journal/ops_tests.rs"),
        Module::Lib(s(&["journal", "ops", "tests"]))
    );
    let cases: &[(&str, &[&str], &str, Option<&str>)] = &[
        (
            "commands/app.rs",
            &[],
            "super::app_facts::judge",
            Some("commands/app_facts.rs"),
        ),
        (
            "commands/app.rs",
            &[],
            "crate::journal::OpId",
            Some("journal/mod.rs"),
        ),
        (
            "commands/app.rs",
            &[],
            "crate::journal",
            Some("journal/mod.rs"),
        ),
        ("commands/app.rs", &[], "crate::Ctx", Some("lib.rs")),
        (
            "commands/app.rs",
            &[],
            "self::inner::X",
            Some("commands/app.rs"),
        ),
        (
            "commands/app.rs",
            &[],
            "super::super::journal::ops::*",
            Some("journal/ops.rs"),
        ),
        (
            "journal/ops.rs",
            &[],
            "super::Journal",
            Some("journal/mod.rs"),
        ),
        (
            "journal/ops.rs",
            &["tests"],
            "super::*",
            Some("journal/ops.rs"),
        ),
        (
            "journal/ops.rs",
            &["tests"],
            "super::super::Journal",
            Some("journal/mod.rs"),
        ),
        (
            "journal/ops_tests.rs",
            &[],
            "super::*",
            Some("journal/ops.rs"),
        ),
        ("commands/mod.rs", &[], "app::run", Some("commands/app.rs")),
        ("commands/mod.rs", &[], "serde::Serialize", None),
        ("commands/mod.rs", &[], "std::fmt", None),
        ("commands/mod.rs", &[], "::std::fmt", None),
        ("commands/mod.rs", &[], "Change::*", None),
        ("lib.rs", &[], "super::x", None),
        (
            "main.rs",
            &[],
            "matelot::journal::Journal",
            Some("journal/mod.rs"),
        ),
        ("main.rs", &[], "crate::journal::Journal", None),
    ];
    for (from, scope, path, want) in cases {
        let here = match module(from) {
            Module::Lib(m) => Some([m.as_slice(), s(scope).as_slice()].concat()),
            Module::Bin => None,
        };
        let segs: Vec<String> = path.split("::").map(String::from).collect();
        let got = absolute(&index, "matelot", here.as_deref(), &BTreeMap::new(), &segs)
            .and_then(|abs| deepest_file(&index, &abs));
        assert_eq!(got.as_deref(), *want, "{from} (in {scope:?}): {path}");
    }
}

#[test]
fn a_path_in_code_names_an_item_and_a_use_may_name_a_module() {
    let files = small_crate(&[
        ("commands/app/run.rs", ""),
        (
            "commands/mod.rs",
            "mod app;\nfn dispatch() { app::run(); }\nuse app::run;",
        ),
    ]);
    let edges = import_edges(&files, "matelot");
    let got: Vec<(&str, &str, Vec<usize>)> = edges
        .iter()
        .map(|((a, b), ev)| (a.as_str(), b.as_str(), ev.iter().map(|e| e.line).collect()))
        .collect();
    let want = vec![
        ("commands/mod.rs", "commands/app.rs", vec![2]),
        ("commands/mod.rs", "commands/app/run.rs", vec![3]),
    ];
    assert_eq!(got, want);
}

#[test]
fn a_file_imports_modules_it_named_earlier_and_ignores_itself() {
    let files = small_crate(&[(
        "commands/app_facts.rs",
        "use crate::journal;\nfn f() { use journal::ops::Op; use self::g; }\n\
         use crate::commands::app_facts::X;\n// use super::app::Y;\nuse serde::Serialize;\n\
         fn g() { super::app::run(); journal::ops::Op::new(); serde::x::y(); self::f(); }",
    )]);
    let edges = import_edges(&files, "matelot");
    let got: Vec<(String, String, Vec<usize>)> = edges
        .iter()
        .map(|((a, b), ev)| (a.clone(), b.clone(), ev.iter().map(|e| e.line).collect()))
        .collect();
    let want = vec![
        (
            "commands/app_facts.rs".to_string(),
            "commands/app.rs".to_string(),
            vec![6],
        ),
        (
            "commands/app_facts.rs".to_string(),
            "journal/mod.rs".to_string(),
            vec![1],
        ),
        (
            "commands/app_facts.rs".to_string(),
            "journal/ops.rs".to_string(),
            vec![2, 6],
        ),
    ];
    assert_eq!(got, want);
}

#[test]
fn paths_of_one_line_are_shown_as_the_source_writes_them() {
    let cases: &[(&[&str], &str)] = &[
        (&["use super::up::io"], "use super::up::io"),
        (
            &["use super::a", "use super::b::c", "use super::b::d as e"],
            "use super::{a, b::c, b::d as e}",
        ),
        (&["ops::a", "reconcile::b"], "ops::a, reconcile::b"),
        (
            &["use super::plan", "use super::plan::Want"],
            "use super::plan::{self, Want}",
        ),
    ];
    for (paths, want) in cases {
        assert_eq!(merged(paths), *want, "{paths:?}");
    }
}

/// Pairs in the tables below: edges `(from, to)`, or `(suffix file, folder)`.
type Pairs = &'static [(&'static str, &'static str)];

fn graph(edges: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    edges
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn cycles_are_the_components_of_more_than_one_file() {
    let cases: &[(Pairs, &[&[&str]])] = &[
        (&[], &[]),
        (&[("a", "b"), ("b", "a")], &[&["a", "b"]]),
        (&[("a", "b"), ("b", "c")], &[]),
        (&[("a", "a"), ("a", "b")], &[]),
        (
            &[("a", "b"), ("b", "c"), ("c", "a"), ("d", "a"), ("c", "e")],
            &[&["a", "b", "c"]],
        ),
        (
            &[("a", "b"), ("b", "a"), ("b", "c"), ("c", "d"), ("d", "c")],
            &[&["a", "b"], &["c", "d"]],
        ),
        (
            &[("x", "y"), ("y", "z"), ("z", "x"), ("z", "y"), ("w", "w")],
            &[&["x", "y", "z"]],
        ),
    ];
    for (edges, want) in cases {
        let want: Vec<Vec<String>> = want.iter().map(|c| s(c)).collect();
        assert_eq!(cycles(&graph(edges)), want, "{edges:?}");
    }
}

#[test]
fn a_cycle_reads_as_a_walk_through_every_file_and_back() {
    let cases: &[(Pairs, &[&str])] = &[
        (&[("a", "b"), ("b", "a")], &["a", "b", "a"]),
        (&[("a", "b"), ("b", "c"), ("c", "a")], &["a", "b", "c", "a"]),
        // A star: every visit goes back through the hub.
        (
            &[("a", "b"), ("b", "a"), ("a", "c"), ("c", "a")],
            &["a", "b", "a", "c", "a"],
        ),
    ];
    for (edges, want) in cases {
        let g = graph(edges);
        let scc = cycles(&g).remove(0);
        assert_eq!(closed_walk(&scc, &g), s(want), "{edges:?}");
    }
}

#[test]
fn suffix_files_and_folders_beside_a_folder_are_found() {
    let cases: &[(&[&str], Pairs)] = &[
        (&["lib.rs", "a/mod.rs", "a/b.rs", "c.rs"], &[]),
        (
            &[
                "commands/mod.rs",
                "commands/user.rs",
                "commands/user/list.rs",
                "commands/user_remove.rs",
            ],
            &[
                ("commands/user.rs", "commands/user/"),
                ("commands/user_remove.rs", "commands/user/"),
            ],
        ),
        (
            &["backup.rs", "backup/run.rs", "backup_compute/mod.rs"],
            &[("backup.rs", "backup/"), ("backup_compute/", "backup/")],
        ),
        // No underscore, no suffix; a file of another concept; no folder without Rust in it.
        (&["usermod.rs", "user/mod.rs", "users.rs", "snap.rs"], &[]),
        // Only within one directory.
        (
            &[
                "lab/mod.rs",
                "lab/cloudron/mod.rs",
                "cloudron/mod.rs",
                "lab_x/y.rs",
            ],
            &[("lab_x/", "lab/")],
        ),
    ];
    for (files, want) in cases {
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        assert_eq!(suffix_pairs(&s(files)), want, "{files:?}");
    }
}

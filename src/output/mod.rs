//! How results reach the operator: human tables or exactly one JSON document on stdout;
//! logs, prompts and progress on stderr. Progress bars only when stderr is a terminal,
//! plain timestamped lines otherwise. Colour follows `--color`, `NO_COLOR` and `TERM=dumb`.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Duration;

use anyhow::Context;
use serde::Serialize;

use crate::core::progress::{NoProgress, Progress};

pub mod impact;
pub mod prompt;

/// `--color auto|always|never`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

/// How much the operator wants to hear on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

/// The output settings of one invocation.
#[derive(Debug, Clone)]
pub struct Output {
    pub json: bool,
    pub verbosity: Verbosity,
    pub color: bool,
    pub no_input: bool,
    pub stderr_tty: bool,
    pub stdin_tty: bool,
}

impl Output {
    /// Decide colour and terminal facts from the flags and the environment.
    pub fn new(json: bool, quiet: bool, verbose: u8, color: ColorChoice, no_input: bool) -> Self {
        let stderr_tty = std::io::stderr().is_terminal();
        let stdout_tty = std::io::stdout().is_terminal();
        let env_no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let dumb = std::env::var("TERM").is_ok_and(|t| t == "dumb");
        let color = match color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => stdout_tty && !env_no_color && !dumb,
        };
        console::set_colors_enabled(color);
        console::set_colors_enabled_stderr(color);
        let verbosity = if quiet {
            Verbosity::Quiet
        } else if verbose > 0 {
            Verbosity::Verbose
        } else {
            Verbosity::Normal
        };
        Output {
            json,
            verbosity,
            color,
            no_input,
            stderr_tty: stderr_tty && !dumb,
            stdin_tty: std::io::stdin().is_terminal(),
        }
    }

    /// Output for tests and library use: no colour, no terminal, normal verbosity.
    pub fn plain(json: bool) -> Self {
        Output {
            json,
            verbosity: Verbosity::Normal,
            color: false,
            no_input: true,
            stderr_tty: false,
            stdin_tty: false,
        }
    }

    /// True when prompting is allowed: stdin and stderr are terminals and `--no-input` is off.
    pub fn can_prompt(&self) -> bool {
        !self.no_input && self.stdin_tty && self.stderr_tty
    }

    /// Print one JSON document on stdout.
    pub fn json<T: Serialize + ?Sized>(&self, value: &T) -> anyhow::Result<()> {
        // Serialise first, so a closed pipe surfaces as an io::Error (exit 0), not a serde one.
        let mut doc = serde_json::to_vec_pretty(value).context("serialising the JSON output")?;
        doc.push(b'\n');
        let mut out = std::io::stdout().lock();
        out.write_all(&doc).context("writing JSON to stdout")?;
        out.flush().context("writing JSON to stdout")?;
        Ok(())
    }

    /// Print a line of human output on stdout.
    pub fn line(&self, text: impl AsRef<str>) -> anyhow::Result<()> {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", text.as_ref()).context("writing to stdout")?;
        out.flush().context("writing to stdout")?;
        Ok(())
    }

    /// Print a table on stdout: a header row and aligned columns.
    pub fn table(&self, headers: &[&str], rows: &[Vec<String>]) -> anyhow::Result<()> {
        let text = render_table(headers, rows, self.color);
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())
            .context("writing table to stdout")?;
        out.flush().context("writing table to stdout")?;
        Ok(())
    }

    /// Informational message on stderr (hidden by `-q`).
    pub fn info(&self, msg: impl AsRef<str>) {
        if self.verbosity >= Verbosity::Normal {
            stderr_line(format_args!("{}", msg.as_ref()));
        }
    }

    /// Detail on stderr (only with `-v`).
    pub fn debug(&self, msg: impl AsRef<str>) {
        if self.verbosity >= Verbosity::Verbose {
            stderr_line(format_args!("{} {}", timestamp(), msg.as_ref()));
        }
    }

    /// Warning on stderr (shown even with `-q`).
    pub fn warn(&self, msg: impl AsRef<str>) {
        let label = console::style("warning:").yellow().bold().for_stderr();
        stderr_line(format_args!("{label} {}", msg.as_ref()));
    }

    /// A progress reporter for long work: an indicatif bar on a TTY, timestamped lines
    /// otherwise, nothing with `-q`.
    pub fn progress(&self, what: &str) -> Box<dyn Progress> {
        if self.verbosity == Verbosity::Quiet {
            return Box::new(NoProgress);
        }
        if self.stderr_tty {
            Box::new(BarProgress::new(what))
        } else {
            Box::new(LineProgress::new(what))
        }
    }
}

/// Render rows under headers with columns padded to the widest cell (by characters).
pub fn render_table(headers: &[&str], rows: &[Vec<String>], color: bool) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let mut out = String::new();
    let fmt_row = |cells: Vec<String>, out: &mut String| {
        let last = cells.len().saturating_sub(1);
        for (i, cell) in cells.iter().enumerate() {
            if i == last {
                out.push_str(cell);
            } else {
                let pad = widths[i].saturating_sub(cell.chars().count());
                out.push_str(cell);
                out.push_str(&" ".repeat(pad + 2));
            }
        }
        out.push('\n');
    };
    let head: Vec<String> = headers
        .iter()
        .map(|h| {
            if color {
                console::style(h).bold().force_styling(true).to_string()
            } else {
                (*h).to_string()
            }
        })
        .collect();
    // Bold escape codes have no width: pad using the plain header widths.
    if color {
        let last = head.len().saturating_sub(1);
        for (i, (h, plain)) in head.iter().zip(headers).enumerate() {
            out.push_str(h);
            if i != last {
                out.push_str(&" ".repeat(widths[i] - plain.chars().count() + 2));
            }
        }
        out.push('\n');
    } else {
        fmt_row(head, &mut out);
    }
    for row in rows {
        fmt_row(row.clone(), &mut out);
    }
    out
}

/// Write one line on stderr. Unlike `eprintln!`, a closed stderr (`2>&- `, a pipe whose
/// reader has gone) is ignored instead of panicking: diagnostics must never crash a run.
pub fn stderr_line(args: std::fmt::Arguments<'_>) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_fmt(args);
    let _ = err.write_all(b"\n");
}

fn timestamp() -> String {
    chrono::Local::now()
        .format("%Y-%m-%dT%H:%M:%S%.3f")
        .to_string()
}

/// A progress bar on stderr.
struct BarProgress {
    bar: indicatif::ProgressBar,
}

impl BarProgress {
    fn new(what: &str) -> Self {
        let bar = indicatif::ProgressBar::new(100);
        let style = indicatif::ProgressStyle::with_template(
            "{spinner} {prefix} [{bar:30}] {pos:>3}/{len} {wide_msg} ({elapsed})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(what.to_string());
        bar.enable_steady_tick(Duration::from_millis(120));
        BarProgress { bar }
    }
}

impl Progress for BarProgress {
    fn set_length(&self, len: u64) {
        self.bar.set_length(len);
    }
    fn set_position(&self, pos: u64) {
        self.bar.set_position(pos);
    }
    fn set_message(&self, msg: &str) {
        self.bar.set_message(msg.to_string());
    }
    fn update(&self, pos: u64, msg: Option<&str>) {
        if let Some(m) = msg {
            self.bar.set_message(m.to_string());
        }
        self.bar.set_position(pos);
    }
    fn finish(&self, msg: &str) {
        self.bar.finish_and_clear();
        stderr_line(format_args!("{}: {msg}", self.bar.prefix()));
    }
}

/// Plain timestamped lines on stderr, printed only when something changes: one line per
/// change, even when the position and the message change together ([`Progress::update`]).
struct LineProgress {
    what: String,
    last: Mutex<(u64, u64, String)>,
    sink: fn(std::fmt::Arguments<'_>),
}

impl LineProgress {
    fn new(what: &str) -> Self {
        Self::with_sink(what, stderr_line)
    }

    fn with_sink(what: &str, sink: fn(std::fmt::Arguments<'_>)) -> Self {
        LineProgress {
            what: what.to_string(),
            last: Mutex::new((0, 100, String::new())),
            sink,
        }
    }

    /// Record the new state; print one line if the position or the message changed.
    fn change(&self, pos: Option<u64>, msg: Option<&str>) {
        let Ok(mut l) = self.last.lock() else { return };
        let mut changed = false;
        if let Some(p) = pos
            && l.0 != p
        {
            l.0 = p;
            changed = true;
        }
        if let Some(m) = msg
            && l.2 != m
        {
            l.2 = m.to_string();
            changed = true;
        }
        if changed {
            (self.sink)(format_args!(
                "{} {}: {}/{} {}",
                timestamp(),
                self.what,
                l.0,
                l.1,
                l.2
            ));
        }
    }
}

impl Progress for LineProgress {
    fn set_length(&self, len: u64) {
        if let Ok(mut l) = self.last.lock() {
            l.1 = len;
        }
    }
    fn set_position(&self, pos: u64) {
        self.change(Some(pos), None);
    }
    fn set_message(&self, msg: &str) {
        self.change(None, Some(msg));
    }
    fn update(&self, pos: u64, msg: Option<&str>) {
        self.change(Some(pos), msg);
    }
    fn finish(&self, msg: &str) {
        (self.sink)(format_args!("{} {}: {msg}", timestamp(), self.what));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_columns_are_aligned() {
        let rows = vec![
            vec!["matomo".to_string(), "running".to_string()],
            vec!["nextcloud-long".to_string(), "stopped".to_string()],
        ];
        let t = render_table(&["APP", "STATE"], &rows, false);
        assert_eq!(
            t,
            "APP             STATE\nmatomo          running\nnextcloud-long  stopped\n"
        );
    }

    thread_local! {
        static LINES: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
    }

    fn record(args: std::fmt::Arguments<'_>) {
        // Drop the timestamp (first word): the rest is what the test compares.
        let line = args.to_string();
        let rest = line.split_once(' ').map_or(line.as_str(), |(_, r)| r);
        LINES.with(|l| l.borrow_mut().push(rest.to_string()));
    }

    #[test]
    fn line_progress_prints_one_line_per_change() {
        LINES.with(|l| l.borrow_mut().clear());
        let p = LineProgress::with_sink("backup matomo", record);
        p.set_length(100);
        p.update(10, Some("Backing up"));
        p.update(10, Some("Backing up"));
        p.update(40, Some("Uploading"));
        p.update(60, None);
        p.set_message("Uploading");
        p.set_position(60);
        p.finish("done");
        let lines = LINES.with(|l| l.borrow().clone());
        assert_eq!(
            lines,
            vec![
                "backup matomo: 10/100 Backing up",
                "backup matomo: 40/100 Uploading",
                "backup matomo: 60/100 Uploading",
                "backup matomo: done",
            ]
        );
    }
}

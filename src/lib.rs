//! matelot: run a small organisation's shared compute server and Cloudron safely.
//!
//! Every mutating command follows one path: gather facts, plan (pure, in [`core`]), render the
//! plan, guard (confirm; snapshot and verify for destructive changes), apply, journal.
//! The binary is a thin shell around [`main_entry`].

use std::process::ExitCode;
use std::sync::OnceLock;

use clap::Parser;

pub mod cli;
pub mod cloudron;
pub mod commands;
pub mod compute;
pub mod config;
pub mod core;
pub mod error;
pub mod exec;
pub mod journal;
pub mod lab;
pub mod output;

use crate::cli::{Cli, GlobalArgs};
use crate::config::{Config, Overrides};
use crate::error::{Error, Result};
use crate::output::Output;

/// What every command handler gets: the global flags, the output settings and the
/// configuration, loaded on first use (so `completions`, `man` and the lab need none).
pub struct Ctx {
    pub global: GlobalArgs,
    pub out: Output,
    config: OnceLock<Config>,
}

impl Ctx {
    pub fn new(global: GlobalArgs) -> Self {
        let out = Output::new(
            global.json,
            global.quiet,
            global.verbose,
            global.color,
            global.no_input,
        );
        Ctx {
            global,
            out,
            config: OnceLock::new(),
        }
    }

    /// The validated configuration (loaded once; its warnings are printed on stderr then).
    pub fn config(&self) -> Result<&Config> {
        if let Some(c) = self.config.get() {
            return Ok(c);
        }
        let cfg = Config::load(&self.overrides())?;
        for w in &cfg.warnings {
            self.out.warn(w);
        }
        Ok(self.config.get_or_init(|| cfg))
    }

    /// Command-line values that override the configuration.
    pub fn overrides(&self) -> Overrides {
        Overrides {
            config_file: self.global.config.clone(),
            state_dir: self.global.state_dir.clone(),
        }
    }
}

/// Run a parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    let ctx = Ctx::new(cli.global);
    commands::dispatch(&ctx, cli.command)
}

/// Parse the process arguments, run, print any error and return the exit code.
pub fn main_entry() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            let label = console::style("error:").red().bold().for_stderr();
            output::stderr_line(format_args!("{label} {}", error_text(&e)));
            ExitCode::from(e.exit_code())
        }
    }
}

/// The error and its causes, one per line, without repeating a cause already in the message.
fn error_text(e: &Error) -> String {
    let Error::Other(inner) = e else {
        return e.to_string();
    };
    let mut text = inner.to_string();
    for cause in inner.chain().skip(1) {
        let c = cause.to_string();
        if !text.contains(&c) {
            text.push_str("\n  caused by: ");
            text.push_str(&c);
        }
    }
    text
}

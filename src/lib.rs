//! matelot: run a small organisation's shared compute server and Cloudron safely.
//!
//! Every mutating command follows one path: gather facts, plan (pure, in [`core`]), render the
//! plan, then [`exec::Run::execute`]: decide the tier, confirm, take and verify the restore
//! point, journal, apply, verify, journal the outcome. One tokio runtime, built once in
//! [`main_entry`]; the binary is a thin shell around it.

use std::process::ExitCode;

use clap::Parser;

pub mod cli;
pub mod cloudron;
pub mod commands;
pub mod compute;
pub mod config;
pub mod core;
pub mod ctx;
pub mod error;
pub mod exec;
pub mod interrupt;
pub mod journal;
pub mod lab;
pub mod lock;
pub mod output;

pub use ctx::{Ctx, Settings};

use crate::cli::Cli;
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;

/// Run a parsed command line on the one runtime of the process.
/// Run a parsed command line on the one runtime of the process.
pub async fn run(cli: Cli, interrupt: Interrupt) -> Result<()> {
    let ctx = Ctx::new(cli.global.settings(), interrupt);
    let result = commands::dispatch(&ctx, cli.command).await;
    ctx.close().await;
    result
}

/// Parse the process arguments, run, print any error and return the exit code.
pub fn main_entry() -> ExitCode {
    let cli = Cli::parse();
    let interrupt = match Interrupt::install() {
        Ok(i) => i,
        Err(e) => return fail(&Error::failed(format!("cannot handle signals: {e}"))),
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            return fail(&Error::failed(format!(
                "cannot start the async runtime: {e}"
            )));
        }
    };
    // A signal that comes before a journalled run has begun (reading, gathering facts,
    // `--check`, the lab) ends the command at once: nothing was being changed. A task of its
    // own, so a handler blocked on a child process cannot delay it.
    let watch = interrupt.clone();
    rt.spawn(async move {
        watch.unhandled().await;
        output::stderr_line(format_args!(
            "{}: stopped before anything was changed",
            watch.signal_name()
        ));
        std::process::exit(i32::from(error::exit::INTERRUPTED));
    });
    match rt.block_on(run(cli, interrupt)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

fn fail(e: &Error) -> ExitCode {
    let label = console::style("error:").red().bold().for_stderr();
    output::stderr_line(format_args!("{label} {}", error_text(e)));
    ExitCode::from(e.exit_code())
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

//! Command handlers: turn parsed arguments into library calls and render the results. One
//! folder per noun with a file per subcommand or concern (one file for the small nouns); each
//! handler takes the invocation context and its own arguments, reads through the clients,
//! changes things only through `exec`, and never prompts by itself.

use std::io::Write;

use anyhow::Context;
use clap::CommandFactory;

use crate::Ctx;
use crate::cli::{Cli, Command};
use crate::error::Result;

pub mod app;
pub mod backup;
pub mod config;
pub mod host;
pub mod journal;
pub mod lab;
pub mod lock;
pub mod undo;
pub mod user;

/// Dispatch a parsed command.
pub async fn dispatch(ctx: &Ctx, command: Command) -> Result<()> {
    match command {
        Command::Config(cmd) => config::run(ctx, cmd),
        Command::Host(cmd) => host::run(ctx, cmd).await,
        Command::App(cmd) => app::run(ctx, cmd).await,
        Command::Backup(cmd) => backup::run(ctx, cmd).await,
        Command::Lab(cmd) => lab::run(ctx, cmd).await,
        Command::Journal(cmd) => journal::run(ctx, cmd).await,
        Command::Lock(cmd) => lock::run(ctx, cmd),
        Command::Undo(args) => undo::run(ctx, args).await,
        Command::User(cmd) => user::run(ctx, cmd).await,
        Command::Completions { shell } => completions(shell),
        Command::Man => man(),
    }
}

fn completions(shell: clap_complete::Shell) -> Result<()> {
    let mut cmd = Cli::command();
    // clap_complete panics when its writer fails: generate into memory, then write with error
    // handling, so `matelot completions bash | head` ends quietly (broken pipe = exit 0).
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "matelot", &mut buf);
    let mut out = std::io::stdout().lock();
    out.write_all(&buf).context("writing completions")?;
    out.flush().context("writing completions")?;
    Ok(())
}

fn man() -> Result<()> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut buf)
        .context("rendering the man page")?;
    // Every subcommand gets a section of its own, so `man matelot` documents the whole tool.
    let mut root = Cli::command();
    root.build();
    append_subcommand_sections(&mut buf, &root, "matelot")?;
    let mut out = std::io::stdout().lock();
    out.write_all(&buf).context("writing the man page")?;
    out.flush().context("writing the man page")?;
    Ok(())
}

fn append_subcommand_sections(buf: &mut Vec<u8>, cmd: &clap::Command, prefix: &str) -> Result<()> {
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let full = format!("{prefix} {}", sub.get_name());
        writeln!(buf, ".SH \"{}\"", full.to_uppercase()).context("rendering the man page")?;
        let usage = sub
            .clone()
            .bin_name(full.clone())
            .render_usage()
            .to_string();
        writeln!(buf, ".B {}", usage.trim_start_matches("Usage: "))
            .context("rendering the man page")?;
        writeln!(buf, ".PP").context("rendering the man page")?;
        let man = clap_mangen::Man::new(sub.clone());
        man.render_description_section(buf)
            .context("rendering the man page")?;
        if sub
            .get_arguments()
            .any(|a| !a.is_hide_set() && !a.is_global_set())
        {
            man.render_options_section(buf)
                .context("rendering the man page")?;
        }
        if let Some(after) = sub.get_after_help() {
            writeln!(buf, ".PP\n{}", roff_escape(&after.to_string()))
                .context("rendering the man page")?;
        }
        append_subcommand_sections(buf, sub, &full)?;
    }
    Ok(())
}

fn roff_escape(s: &str) -> String {
    s.lines()
        .map(|l| {
            let l = l.replace('\\', "\\e");
            if l.starts_with('.') || l.starts_with('\'') {
                format!("\\&{l}")
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n.br\n")
}

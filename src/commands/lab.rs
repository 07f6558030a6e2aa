//! `matelot lab up|down|status|tour|serve-cloudron`: turn the arguments into lab library calls
//! and render what happened (a few lines, or one JSON document with `--json`).

use std::path::Path;

use anyhow::Context;
use cloudron_emulator::{EmulatorOptions, Seed, start};

use crate::Ctx;
use crate::cli::lab::{LabCmd, SeedArg, ServeArgs, TourArgs, UpArgs};
use crate::error::{Error, Result};
use crate::lab::tour::{self, TourOptions};
use crate::lab::up::{self, LabReport, UpOptions};

pub async fn run(ctx: &Ctx, cmd: LabCmd) -> Result<()> {
    // Starting sandboxes and walking the tour block on child processes: off the runtime's
    // worker, so its other work (none, here) is never starved.
    match cmd {
        LabCmd::Up(args) => tokio::task::block_in_place(|| lab_up(ctx, args)),
        LabCmd::Down(args) => tokio::task::block_in_place(|| lab_down(ctx, &args.dir)),
        LabCmd::Status(args) => lab_status(ctx, &args.dir),
        LabCmd::Tour(args) => tokio::task::block_in_place(|| lab_tour(ctx, args)),
        LabCmd::ServeCloudron(args) => serve(ctx, args).await,
    }
}

fn seed(s: SeedArg) -> Seed {
    match s {
        SeedArg::Demo => Seed::Demo,
        SeedArg::Empty => Seed::Empty,
    }
}

fn lab_up(ctx: &Ctx, args: UpArgs) -> Result<()> {
    let exe = std::env::current_exe().context("finding the matelot binary to run the lab with")?;
    let opts = UpOptions {
        dir: args.dir.dir,
        exe,
        fresh: args.fresh,
        seed: seed(args.seed).name().to_string(),
        task_duration: args.task_duration,
        hosts: usize::from(args.hosts),
    };
    let rep = up::up(&opts).map_err(anyhow::Error::from)?;
    if ctx.out.json {
        ctx.out.json(&rep)?;
        return Ok(());
    }
    if rep.already_running {
        ctx.out
            .line(format!("lab already running in {}", rep.dir.display()))?;
    } else {
        ctx.out
            .line(format!("lab started in {}", rep.dir.display()))?;
    }
    render(ctx, &rep)?;
    if let Some(cfg) = &rep.config {
        ctx.out
            .line(format!("try: matelot --config {} app list", cfg.display()))?;
        if let Some(h) = rep.processes.iter().find(|p| p.kind == "compute") {
            ctx.out.line(format!(
                "     matelot --config {} host check {}",
                cfg.display(),
                h.name
            ))?;
        }
    }
    Ok(())
}

fn render(ctx: &Ctx, rep: &LabReport) -> Result<()> {
    let rows: Vec<Vec<String>> = rep
        .processes
        .iter()
        .map(|p| {
            vec![
                p.name.clone(),
                p.kind.clone(),
                if p.running { "running" } else { "stopped" }.to_string(),
                p.pid.map(|x| x.to_string()).unwrap_or_else(|| "-".into()),
                p.url.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    if !rows.is_empty() {
        ctx.out
            .table(&["NAME", "KIND", "STATE", "PID", "URL"], &rows)?;
    }
    if let Some(cfg) = &rep.config {
        ctx.out.line(format!("config: {}", cfg.display()))?;
    }
    Ok(())
}

fn lab_down(ctx: &Ctx, dir: &Path) -> Result<()> {
    let rep = up::down(dir).map_err(anyhow::Error::from)?;
    if ctx.out.json {
        ctx.out.json(&rep)?;
        return Ok(());
    }
    if rep.stopped.is_empty() {
        ctx.out
            .line(format!("lab in {} was not running", rep.dir.display()))?;
    }
    for p in &rep.stopped {
        let pid = p.pid.map(|x| x.to_string()).unwrap_or_default();
        ctx.out.line(format!("stopped {} (pid {pid})", p.name))?;
    }
    if rep.stopped.iter().any(|p| p.running) {
        return Err(Error::failed(
            "a lab process survived SIGKILL; check `matelot lab status` and the process table",
        ));
    }
    Ok(())
}

fn lab_status(ctx: &Ctx, dir: &Path) -> Result<()> {
    let rep = up::status(dir).map_err(anyhow::Error::from)?;
    if ctx.out.json {
        ctx.out.json(&rep)?;
        return Ok(());
    }
    let state = if rep.running { "running" } else { "stopped" };
    ctx.out
        .line(format!("lab in {}: {state}", rep.dir.display()))?;
    render(ctx, &rep)
}

/// Walk the tour; a failed step is exit 1, a lab already running in DIR is refused (exit 3).
fn lab_tour(ctx: &Ctx, args: TourArgs) -> Result<()> {
    if ctx.out.json {
        return Err(Error::usage(
            "lab tour has no --json output: it is a walk-through to read",
        ));
    }
    let dir = args.dir.dir;
    if ctx.check() {
        // The plan: what the tour would run, nothing started.
        for l in tour::plan(&dir, args.keep) {
            ctx.out.line(l)?;
        }
        return Ok(());
    }
    let st = up::status(&dir).map_err(anyhow::Error::from)?;
    if st.processes.iter().any(|p| p.running) {
        return Err(Error::refused(format!(
            "a lab is already running in {}: the tour starts a fresh lab and stops it at the \
             end, so it leaves this one alone. Stop it with `matelot lab down --dir {}`, or give \
             the tour another --dir",
            st.dir.display(),
            dir.display()
        )));
    }
    let exe = std::env::current_exe().context("finding the matelot binary to run the tour with")?;
    let opts = TourOptions {
        dir,
        exe,
        keep: args.keep,
    };
    // Keep the io::ErrorKind, so a closed pipe (`matelot lab tour | head`) still exits 0.
    let mut out = |l: &str| {
        ctx.out.line(l).map_err(|e| {
            let kind = e
                .chain()
                .find_map(|c| c.downcast_ref::<std::io::Error>())
                .map_or(std::io::ErrorKind::Other, std::io::Error::kind);
            std::io::Error::new(kind, format!("{e:#}"))
        })
    };
    let rep = tour::walk(&opts, &mut out).map_err(anyhow::Error::from)?;
    for l in tour::summary(&rep, &opts) {
        ctx.out.line(l)?;
    }
    match rep.failed_at {
        None => Ok(()),
        Some(n) => Err(Error::failed(format!(
            "the tour stopped at step {n} (`{}`); its output is above",
            rep.runs
                .get(n - 1)
                .map(|r| r.command.as_str())
                .unwrap_or("?")
        ))),
    }
}

/// Run the emulator until SIGINT/SIGTERM.
async fn serve(ctx: &Ctx, args: ServeArgs) -> Result<()> {
    // The emulator stops itself cleanly on SIGINT/SIGTERM (below).
    ctx.interrupt.handled_by_run();
    {
        // Without --dir or --state the CA still needs a file: a temporary directory, removed
        // when the server stops.
        let tmp = if args.dir.is_none() && args.state.is_none() && !args.http {
            Some(
                tempfile::Builder::new()
                    .prefix("matelot-lab-")
                    .tempdir()
                    .context("creating a directory for the emulator's CA")?,
            )
        } else {
            None
        };
        let opts = EmulatorOptions {
            listen: args.listen,
            token: args
                .token
                .map(|t| secrecy::ExposeSecret::expose_secret(&t).to_string()),
            seed: seed(args.seed),
            task_duration: args.task_duration,
            state_file: args.state,
            tls: !args.http,
            dir: args
                .dir
                .or_else(|| tmp.as_ref().map(|t| t.path().to_path_buf())),
            extra_apps: args.extra_apps,
            log_requests: ctx.out.verbosity >= crate::output::Verbosity::Normal,
        };
        let emu = start(opts).await.map_err(anyhow::Error::from)?;
        let line = serde_json::to_string(&emu.ready_line()).context("encoding the ready line")?;
        ctx.out.line(line)?;
        ctx.out
            .info(format!("Cloudron emulator listening on {}", emu.url));
        let reason = wait_for_signal().await?;
        ctx.out.info(format!("{reason}: stopping the emulator"));
        emu.shutdown().await;
        drop(tmp);
        Ok(())
    }
}

async fn wait_for_signal() -> Result<&'static str> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("listening for SIGINT")?;
    Ok(tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    })
}

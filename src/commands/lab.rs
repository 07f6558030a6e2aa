//! `matelot lab up|down|status|serve-cloudron`: turn the arguments into lab library calls and
//! render what happened (a few lines, or one JSON document with `--json`).

use std::path::Path;

use anyhow::Context;

use crate::Ctx;
use crate::cli::lab::{LabCmd, SeedArg, ServeArgs, UpArgs};
use crate::error::{Error, Result};
use crate::lab::cloudron::{EmulatorOptions, Seed, start};
use crate::lab::up::{self, LabReport, UpOptions};

pub fn run(ctx: &Ctx, cmd: LabCmd) -> Result<()> {
    match cmd {
        LabCmd::Up(args) => lab_up(ctx, args),
        LabCmd::Down(args) => lab_down(ctx, &args.dir),
        LabCmd::Status(args) => lab_status(ctx, &args.dir),
        LabCmd::ServeCloudron(args) => serve(ctx, args),
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
                if p.running { "running" } else { "stopped" }.to_string(),
                p.pid.map(|x| x.to_string()).unwrap_or_else(|| "-".into()),
                p.url.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    if !rows.is_empty() {
        ctx.out.table(&["NAME", "STATE", "PID", "URL"], &rows)?;
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

/// Run the emulator until SIGINT/SIGTERM.
fn serve(ctx: &Ctx, args: ServeArgs) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async {
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
    })
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

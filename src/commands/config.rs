//! `matelot config check|show`: validate the configuration and list every problem, or print
//! each effective value with where it came from. Secrets are shown as `<redacted>`, never
//! exposed: these handlers only ever see a `Secret` through `config::show`.

use serde_json::json;

use crate::Ctx;
use crate::cli::config::ConfigCmd;
use crate::config::{self, Environment, Loaded, show, sources};
use crate::error::{Error, Result};
use crate::output::Verbosity;

pub fn run(ctx: &Ctx, cmd: ConfigCmd) -> Result<()> {
    match cmd {
        ConfigCmd::Check => check(ctx),
        ConfigCmd::Show => show(ctx),
    }
}

/// Exit 0 with a summary, or 2 with every problem (also in the JSON document).
fn check(ctx: &Ctx) -> Result<()> {
    let env = Environment::from_process().map_err(|e| Error::Config(vec![e]))?;
    let overrides = ctx.overrides();
    if ctx.out.verbosity >= Verbosity::Verbose {
        explain_search(ctx, &env, &overrides);
    }
    let loaded = config::load_from(&env, &overrides);
    if ctx.out.json {
        ctx.out.json(&json!({
            "ok": loaded.problems.is_empty(),
            "file": loaded.file.as_ref().map(|f| f.display().to_string()),
            "problems": loaded.problems,
            "warnings": loaded.warnings,
        }))?;
    } else {
        for w in &loaded.warnings {
            ctx.out.warn(w);
        }
        if loaded.problems.is_empty() {
            for line in summary(&loaded) {
                ctx.out.line(line)?;
            }
        }
    }
    loaded.into_result().map(|_| ())
}

/// The file search, one line per candidate (`-v`).
fn explain_search(ctx: &Ctx, env: &Environment, overrides: &config::Overrides) {
    let cands = match sources::candidates(env, overrides.config_file.as_deref()) {
        Ok(c) => c,
        Err(_) => return, // the loader reports it as a problem
    };
    let mut chosen = false;
    for c in &cands {
        let state = match sources::presence(c) {
            Ok(sources::Presence::Present) if !chosen => {
                chosen = true;
                "found, used"
            }
            Ok(sources::Presence::Present) => "found, ignored (only one file is read)",
            Ok(sources::Presence::Missing) => "not found",
            Err(_) => "not a file",
        };
        ctx.out
            .debug(format!("{} ({}): {state}", c.path.display(), c.why));
    }
}

/// A few lines saying what was checked.
fn summary(loaded: &Loaded) -> Vec<String> {
    let Some(cfg) = &loaded.config else {
        return Vec::new();
    };
    let mut lines = vec![match &loaded.file {
        Some(f) => format!("ok: {}", f.display()),
        None => "ok: no configuration file found; defaults, environment and flags apply".into(),
    }];
    lines.push(match &cfg.cloudron {
        Some(c) => format!(
            "cloudron: {}{}",
            c.url,
            if c.token.is_some() { "" } else { " (no token)" }
        ),
        None => "cloudron: not configured".into(),
    });
    let names: Vec<&str> = cfg.compute.keys().map(String::as_str).collect();
    lines.push(if names.is_empty() {
        "compute hosts: none".into()
    } else {
        format!("compute hosts: {} ({})", names.len(), names.join(", "))
    });
    lines.push(format!("state: {}", cfg.state.dir.display()));
    if !loaded.warnings.is_empty() {
        lines.push(format!("warnings: {}", loaded.warnings.len()));
    }
    lines
}

/// Every effective value, its origin, secrets redacted.
fn show(ctx: &Ctx) -> Result<()> {
    let cfg = ctx.config()?;
    let rows = show::settings(cfg);
    if ctx.out.json {
        ctx.out.json(&json!({
            "file": cfg.file.as_ref().map(|f| f.display().to_string()),
            "settings": rows,
            "warnings": cfg.warnings,
        }))?;
        return Ok(());
    }
    ctx.out.info(match &cfg.file {
        Some(f) => format!("configuration file: {}", f.display()),
        None => "no configuration file found; defaults, environment and flags apply".into(),
    });
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.key.clone(),
                show::render_value(&r.value),
                r.origin.to_string(),
            ]
        })
        .collect();
    ctx.out.table(&["KEY", "VALUE", "ORIGIN"], &table)?;
    Ok(())
}

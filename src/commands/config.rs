//! `matelot config check|show`.

use crate::Ctx;
use crate::cli::config::ConfigCmd;
use crate::error::Result;

pub fn run(ctx: &Ctx, cmd: ConfigCmd) -> Result<()> {
    match cmd {
        ConfigCmd::Check => {
            let cfg = ctx.config()?;
            ctx.out.info(match &cfg.file {
                Some(f) => format!("{}: ok", f.display()),
                None => "no configuration file found; defaults are valid".to_string(),
            });
            Ok(())
        }
        ConfigCmd::Show => {
            let _cfg = ctx.config()?;
            Ok(())
        }
    }
}

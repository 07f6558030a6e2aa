//! `matelot config ...`

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum ConfigCmd {
    /// Validate the configuration; exit 2 listing every problem
    #[command(
        after_help = "Examples:\n  matelot config check\n  matelot --config /etc/matelot/config.toml config check"
    )]
    Check,
    /// Print the effective configuration and where each value came from (secrets redacted)
    #[command(after_help = "Examples:\n  matelot config show\n  matelot config show --json")]
    Show,
}

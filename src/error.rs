//! One error type for the whole tool, so the exit-code policy of the command contract
//! (0 done, 1 failed, 2 usage/config, 3 refused, 4 partial, 75 locked, 130 interrupted)
//! lives in one place.
//!
//! Library modules return their own typed errors; they are converted here at the edge.
//! Messages say what failed, where, and what to do next. They must never contain secrets.

use std::fmt;

/// Exit codes of the command contract (DESIGN.md). `health` uses its own (monitoring plugin) codes.
pub mod exit {
    pub const OK: u8 = 0;
    pub const FAILED: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const REFUSED: u8 = 3;
    pub const PARTIAL: u8 = 4;
    pub const LOCKED: u8 = 75;
    pub const INTERRUPTED: u8 = 130;
}

/// Everything a command can fail with, classified by what the operator should do next.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad command-line usage or bad input data (exit 2).
    #[error("{0}")]
    Usage(String),
    /// The configuration is invalid; each problem names file:line:column (exit 2).
    #[error("{}", ConfigProblems(.0))]
    Config(Vec<String>),
    /// Refused or declined; nothing was changed (exit 3).
    #[error("{0}")]
    Refused(String),
    /// Some changes were applied and some were not; the journal says which (exit 4).
    #[error("{0}")]
    Partial(String),
    /// Another matelot run holds the lock (exit 75).
    #[error("{0}")]
    Locked(String),
    /// An operation failed (exit 1).
    #[error("{0}")]
    Failed(String),
    /// A signal (SIGINT, SIGTERM) stopped the run; the journal says what is known (exit 130).
    #[error("{0}")]
    Interrupted(String),
    /// Any other failure, with context (exit 1).
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

struct ConfigProblems<'a>(&'a [String]);

impl fmt::Display for ConfigProblems<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            [one] => write!(f, "{one}"),
            many => {
                write!(f, "{} configuration problems:", many.len())?;
                for p in many {
                    write!(f, "\n  {p}")?;
                }
                Ok(())
            }
        }
    }
}

impl Error {
    /// The process exit code for this error (command contract, DESIGN.md).
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) | Error::Config(_) => exit::USAGE,
            Error::Refused(_) => exit::REFUSED,
            Error::Partial(_) => exit::PARTIAL,
            Error::Locked(_) => exit::LOCKED,
            Error::Failed(_) => exit::FAILED,
            Error::Interrupted(_) => exit::INTERRUPTED,
            Error::Other(e) => {
                // An error wrapped with context keeps the code of a typed error inside it.
                for cause in e.chain() {
                    if let Some(inner) = cause.downcast_ref::<Error>() {
                        return inner.exit_code();
                    }
                }
                exit::FAILED
            }
        }
    }

    /// True when the error chain comes from writing to a closed pipe (`matelot ... | head`).
    pub fn is_broken_pipe(&self) -> bool {
        let Error::Other(e) = self else { return false };
        e.chain().any(|c| {
            c.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
        })
    }

    pub fn usage(msg: impl Into<String>) -> Self {
        Error::Usage(msg.into())
    }
    pub fn refused(msg: impl Into<String>) -> Self {
        Error::Refused(msg.into())
    }
    pub fn failed(msg: impl Into<String>) -> Self {
        Error::Failed(msg.into())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_contract() {
        let cases: Vec<(Error, u8)> = vec![
            (Error::usage("x"), 2),
            (Error::Config(vec!["a".into()]), 2),
            (Error::refused("x"), 3),
            (Error::Partial("x".into()), 4),
            (Error::Locked("x".into()), 75),
            (Error::failed("x"), 1),
            (Error::Interrupted("x".into()), 130),
            (Error::Other(anyhow::anyhow!("x")), 1),
            (
                Error::Other(anyhow::Error::new(Error::refused("inner")).context("outer")),
                3,
            ),
        ];
        for (err, code) in cases {
            assert_eq!(err.exit_code(), code, "{err}");
        }
    }

    #[test]
    fn several_config_problems_are_listed() {
        let e = Error::Config(vec!["a.toml:1:1: x".into(), "a.toml:2:3: y".into()]);
        assert_eq!(
            e.to_string(),
            "2 configuration problems:\n  a.toml:1:1: x\n  a.toml:2:3: y"
        );
    }

    #[test]
    fn broken_pipe_is_recognised_through_context() {
        let io = std::io::Error::new(std::io::ErrorKind::BrokenPipe, "pipe");
        let e = Error::Other(anyhow::Error::new(io).context("writing table"));
        assert!(e.is_broken_pipe());
        assert!(!Error::failed("x").is_broken_pipe());
    }
}

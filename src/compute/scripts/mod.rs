//! Remote bash scripts for people's accounts, built by pure functions with exact-string tests:
//! the facts script (one round trip gathers passwd, group, shadow state, shells and the
//! `authorized_keys` of managed accounts) and its output parser, and the apply script (one
//! batched, idempotent script per host for a whole plan) and its result parser.
//!
//! Every value that comes from a person or a host is quoted with `shlex::try_quote`; names must
//! also pass the portable name rule again here (defence in depth: the roster already refused
//! them), and text with NUL, CR or LF is refused. Each script is one function called at the
//! end, with stdin from `/dev/null`: a script cut short in transit is a syntax error and runs
//! nothing, and no command can eat the rest of the script from stdin. Running scripts is the
//! SSH session's job: send the text as the standard input of [`SHELL`] (or `sudo -n bash -s`).

use std::borrow::Cow;

pub mod apply;
pub mod facts;

#[cfg(test)]
mod shim_tests;

pub use apply::{ApplyReport, StepStatus, apply_script, parse_apply_output};
pub use facts::{FactsError, facts_script, parse_facts};

/// The remote command that runs a script given on its standard input.
pub const SHELL: &str = "bash -s";

/// Why a script could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScriptError {
    #[error("refusing to put {what} {value:?} in a remote script: {reason}")]
    Refused {
        what: &'static str,
        value: String,
        reason: &'static str,
    },
}

/// Quote any text (GECOS, key lines, shells) for bash; NUL, CR and LF are refused.
pub(crate) fn quote_text(what: &'static str, value: &str) -> Result<String, ScriptError> {
    if value.contains(['\n', '\r']) {
        return Err(ScriptError::Refused {
            what,
            value: value.to_string(),
            reason: "it contains a line break",
        });
    }
    shlex::try_quote(value)
        .map(Cow::into_owned)
        .map_err(|_| ScriptError::Refused {
            what,
            value: value.to_string(),
            reason: "it contains a NUL byte",
        })
}

/// Quote a username or group name after checking the portable rule once more.
pub(crate) fn quote_name(what: &'static str, name: &str) -> Result<String, ScriptError> {
    let portable = !name.is_empty()
        && name.len() <= crate::core::person::MAX_NAME_LEN
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if !portable {
        return Err(ScriptError::Refused {
            what,
            value: name.to_string(),
            reason: "it is not a portable name (a-z, 0-9, '_', '-', starting with a letter or '_')",
        });
    }
    quote_text(what, name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_again_and_text_is_quoted() {
        assert_eq!(quote_name("user", "alice").unwrap(), "alice");
        assert_eq!(quote_name("user", "_svc-1").unwrap(), "_svc-1");
        for bad in [
            "",
            "Alice",
            "-rf",
            "a b",
            "$(id)",
            "a;b",
            "a\nb",
            "аlice",
            &"a".repeat(33),
        ] {
            assert!(quote_name("user", bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            quote_text("gecos", "Zoé O'Brien").unwrap(),
            "\"Zoé O'Brien\""
        );
        assert_eq!(quote_text("gecos", "$(touch x)").unwrap(), "'$(touch x)'");
        assert_eq!(quote_text("gecos", "").unwrap(), "''");
        assert_eq!(
            quote_text("gecos", "a\nb").unwrap_err().to_string(),
            "refusing to put gecos \"a\\nb\" in a remote script: it contains a line break"
        );
        assert!(quote_text("gecos", "a\0b").is_err());
    }
}

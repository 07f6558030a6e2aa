//! The ids people type: an operation's number (`matelot undo 12`) and the run id every
//! operation of one invocation shares (`matelot undo --run k3v9x2qa`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The number of an operation, shown to people as e.g. `12` (`matelot undo 12`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OpId(pub i64);

impl fmt::Display for OpId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for OpId {
    type Err = String;

    /// Accepts `12` and `#12`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let digits = s.trim().trim_start_matches('#');
        match digits.parse::<i64>() {
            Ok(n) if n > 0 => Ok(OpId(n)),
            _ => Err(format!(
                "{s:?} is not an operation number; use the ID shown by `matelot journal list`, e.g. 12"
            )),
        }
    }
}

/// The id shared by every operation of one invocation (`journal list --run ID`,
/// `undo --run ID`): 8 lowercase letters and digits, random.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RunId(pub String);

impl RunId {
    /// A new random run id.
    pub fn new() -> RunId {
        use rand::Rng;
        const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
        let mut rng = rand::rng();
        let id: String = (0..8)
            .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
            .collect();
        RunId(id)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for RunId {
    fn default() -> Self {
        RunId::new()
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for RunId {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if !s.is_empty()
            && s.len() <= 64
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            Ok(RunId(s.to_ascii_lowercase()))
        } else {
            Err(format!(
                "{s:?} is not a run id; `matelot journal list` shows them (e.g. k3v9x2qa)"
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn op_ids_parse_tolerantly() {
        assert_eq!("12".parse::<OpId>(), Ok(OpId(12)));
        assert_eq!(" #7 ".parse::<OpId>(), Ok(OpId(7)));
        for bad in ["", "0", "-3", "abc", "12a"] {
            let err = bad.parse::<OpId>().unwrap_err();
            assert!(err.contains("not an operation number"), "{bad}: {err}");
        }
    }

    #[test]
    fn run_ids_are_short_typable_and_checked() {
        let r = RunId::new();
        assert_eq!(r.as_str().len(), 8);
        assert_eq!(r.as_str().parse::<RunId>(), Ok(r.clone()));
        assert_ne!(RunId::new(), r);
        assert!("a b".parse::<RunId>().is_err());
        assert!("".parse::<RunId>().is_err());
    }
}

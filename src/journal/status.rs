//! Where an operation stands, as the journal stores and prints it.
//!
//! Two statuses are *open* (the writing process still holds the row: planned, running), one
//! is *unsettled* (interrupted: its end was not seen, and the next run judges it against the
//! world), and the rest are final. "failed" means nothing was changed; "failed (changed)" means a
//! failure left things changed, and the message says how and what the way back is.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where an operation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Recorded, nothing changed yet (e.g. taking the restore point).
    Planned,
    /// Changing things now.
    Running,
    /// Completed.
    Done,
    /// Failed before changing anything; the message says why.
    Failed,
    /// Failed after it had started changing things; the message says what state it left and
    /// the way back.
    FailedChanged,
    /// Some changes were applied and some were not; the message says which.
    Partial,
    /// Refused or declined before any change (protected target, no confirmation, Ctrl-C).
    Refused,
    /// Judged after an interruption: the change never happened.
    NotApplied,
    /// Its end was not seen (the process was killed or signalled, or the connection was lost
    /// while waiting); the next run judges it against the world.
    Interrupted,
    /// Judged after an interruption, and the world could not tell what happened; the message
    /// says what to check.
    Unknown,
}

impl Status {
    pub const ALL: [Status; 10] = [
        Status::Planned,
        Status::Running,
        Status::Done,
        Status::Failed,
        Status::FailedChanged,
        Status::Partial,
        Status::Refused,
        Status::NotApplied,
        Status::Interrupted,
        Status::Unknown,
    ];

    /// The name stored in the database and used in `--json` and `--status`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Planned => "planned",
            Status::Running => "running",
            Status::Done => "done",
            Status::Failed => "failed",
            Status::FailedChanged => "failed_changed",
            Status::Partial => "partial",
            Status::Refused => "refused",
            Status::NotApplied => "not_applied",
            Status::Interrupted => "interrupted",
            Status::Unknown => "unknown",
        }
    }

    /// How people read it in tables and messages.
    pub fn label(self) -> &'static str {
        match self {
            Status::FailedChanged => "failed (changed)",
            Status::NotApplied => "not applied",
            other => other.as_str(),
        }
    }

    /// Planned or running: the operation is still in the hands of its process.
    pub fn is_open(self) -> bool {
        matches!(self, Status::Planned | Status::Running)
    }

    /// Interrupted: a later run judges it against the world.
    pub fn is_unsettled(self) -> bool {
        self == Status::Interrupted
    }

    /// A final status: the row is not changed again (except a settle of an unsettled row).
    pub fn is_final(self) -> bool {
        !self.is_open() && !self.is_unsettled()
    }

    /// The operation changed something (fully, partly, or by failing half way).
    pub fn changed_something(self) -> bool {
        matches!(self, Status::Done | Status::Partial | Status::FailedChanged)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl FromStr for Status {
    type Err = String;

    /// Accepts the stored name and the label (`failed_changed`, `failed (changed)`,
    /// `not-applied`), in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let want = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Status::ALL
            .into_iter()
            .find(|st| st.as_str() == want || st.label().replace(['(', ')'], "") == s.trim())
            .or_else(|| {
                (want == "failed_(changed)" || want == "failed__changed_")
                    .then_some(Status::FailedChanged)
            })
            .ok_or_else(|| {
                let names: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
                format!("unknown status {s:?}; one of {}", names.join(", "))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_through_their_names_and_labels() {
        for st in Status::ALL {
            assert_eq!(st.as_str().parse::<Status>(), Ok(st));
            assert_eq!(st.label().parse::<Status>(), Ok(st), "{}", st.label());
            assert_eq!(serde_json::to_value(st).unwrap(), st.as_str());
        }
        assert_eq!("DONE".parse::<Status>(), Ok(Status::Done));
        assert_eq!("not-applied".parse::<Status>(), Ok(Status::NotApplied));
        assert!("finished".parse::<Status>().is_err());
    }

    #[test]
    fn every_status_is_open_unsettled_or_final() {
        for st in Status::ALL {
            let classes = [st.is_open(), st.is_unsettled(), st.is_final()];
            assert_eq!(classes.iter().filter(|c| **c).count(), 1, "{st:?}");
        }
    }
}

//! A system's journal row from the outcomes of its changes: done, partial or failed, and a
//! closing message with the counts and the first problem.

use crate::journal::{Outcome, Status};

/// The journal status of a system's row from its outcomes.
pub fn row_status(outcomes: &[&Outcome]) -> Status {
    if outcomes.iter().all(|o| o.is_done()) {
        Status::Done
    } else if outcomes
        .iter()
        .any(|o| matches!(o, Outcome::Changed | Outcome::Unknown { .. }))
    {
        Status::Partial
    } else {
        Status::Failed
    }
}

/// A row's closing message: counts, then the first problem.
pub fn row_message(outcomes: &[&Outcome]) -> String {
    let count = |label: &str| outcomes.iter().filter(|o| o.label() == label).count();
    let mut msg = format!(
        "{} changed, {} already done, {} failed, {} not run, {} unknown",
        count("changed"),
        count("unchanged"),
        count("failed"),
        count("not run"),
        count("unknown")
    );
    if let Some(d) = outcomes.iter().find_map(|o| match o {
        Outcome::Failed { message } => Some(message.as_str()),
        Outcome::Unknown { reason } => Some(reason.as_str()),
        _ => None,
    }) {
        msg.push_str("; first problem: ");
        msg.push_str(d);
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_done_partial_or_failed() {
        let changed = Outcome::Changed;
        let same = Outcome::Unchanged;
        let failed = Outcome::Failed {
            message: "calcul: exit 1".into(),
        };
        let not_run = Outcome::NotRun {
            reason: "earlier".into(),
        };
        let unknown = Outcome::Unknown {
            reason: "cut".into(),
        };
        assert_eq!(row_status(&[&changed, &same]), Status::Done);
        assert_eq!(row_status(&[&changed, &failed, &not_run]), Status::Partial);
        assert_eq!(row_status(&[&same, &failed]), Status::Failed);
        assert_eq!(row_status(&[&unknown]), Status::Partial);
        assert_eq!(row_status(&[&failed, &not_run]), Status::Failed);
        assert_eq!(
            row_message(&[&changed, &failed, &not_run]),
            "1 changed, 0 already done, 1 failed, 1 not run, 0 unknown; first problem: \
             calcul: exit 1"
        );
        assert_eq!(
            row_message(&[&same]),
            "0 changed, 1 already done, 0 failed, 0 not run, 0 unknown"
        );
    }
}

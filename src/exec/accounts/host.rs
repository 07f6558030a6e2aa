//! One host's account changes as ONE batched script over the host's open SSH session, and what
//! happened to each step.

use serde::Serialize;

use super::{AccountsError, Outcome, stderr_tail};
use crate::compute::Session;
use crate::compute::scripts::{ApplyReport, SHELL, StepStatus, apply_script, parse_apply_output};
use crate::core::accounts::ComputeChange;

/// What one apply script did on one host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostRun {
    pub host: String,
    /// Step N is `report.steps[N-1]`, for `changes[N-1]`.
    pub report: ApplyReport,
    /// How the script ended (`exit status 4`...).
    pub end: String,
    /// The script's stderr (messages of the commands that failed).
    pub stderr: String,
}

impl HostRun {
    /// The outcome of each step, in order, with messages for people.
    pub fn outcomes(&self) -> Vec<Outcome> {
        let tail = stderr_tail(&self.stderr);
        self.report
            .steps
            .iter()
            .map(|s| match s {
                StepStatus::Changed => Outcome::Changed,
                StepStatus::Unchanged => Outcome::Unchanged,
                StepStatus::Failed { code } => Outcome::Failed {
                    message: format!(
                        "{}: the step ended with exit status {code}{tail}",
                        self.host
                    ),
                },
                StepStatus::NotRun => Outcome::NotRun {
                    reason: format!("an earlier step on {} failed", self.host),
                },
                StepStatus::Unknown => Outcome::Unknown {
                    reason: format!(
                        "{}: no report from the script ({}){tail}; re-run to see what is left",
                        self.host, self.end
                    ),
                },
            })
            .collect()
    }
}

/// Apply `changes` (one host's, in plan order) with one script on `session`.
pub async fn apply_on_host(
    host: &str,
    session: &Session,
    changes: &[ComputeChange],
) -> Result<HostRun, AccountsError> {
    let script = apply_script(changes)?;
    let out = session.run(SHELL, Some(script.as_bytes()), None).await?;
    Ok(HostRun {
        host: host.to_string(),
        report: parse_apply_output(&out.stdout_text(), changes.len()),
        end: out.describe_end(),
        stderr: out.stderr_text(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_statuses_become_outcomes_with_the_host_and_stderr() {
        let run = HostRun {
            host: "calcul".into(),
            report: ApplyReport {
                steps: vec![
                    StepStatus::Changed,
                    StepStatus::Unchanged,
                    StepStatus::Failed { code: 6 },
                    StepStatus::NotRun,
                ],
                finished: true,
            },
            end: "exit status 4".into(),
            stderr: "usermod: group 'x' does not exist\n".into(),
        };
        assert_eq!(
            run.outcomes(),
            vec![
                Outcome::Changed,
                Outcome::Unchanged,
                Outcome::Failed {
                    message: "calcul: the step ended with exit status 6: usermod: group 'x' \
                              does not exist"
                        .into()
                },
                Outcome::NotRun {
                    reason: "an earlier step on calcul failed".into()
                },
            ]
        );
        let cut = HostRun {
            report: ApplyReport {
                steps: vec![StepStatus::Unknown],
                finished: false,
            },
            end: "no exit status (the connection closed)".into(),
            stderr: String::new(),
            ..run
        };
        assert_eq!(
            cut.outcomes(),
            vec![Outcome::Unknown {
                reason: "calcul: no report from the script (no exit status (the connection \
                         closed)); re-run to see what is left"
                    .into()
            }]
        );
    }
}

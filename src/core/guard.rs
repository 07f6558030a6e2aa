//! The guard's policy, as a pure function: given how dangerous a change is, what the operator
//! passed (`--yes`, `--confirm NAME`), whether a prompt is possible and whether the target is
//! protected, decide whether to go ahead, ask, or refuse. The executor (`exec::run`) carries the
//! decision out; keeping the rules here makes every case a table row in a unit test.

use serde::{Deserialize, Serialize};

/// Danger tiers (DESIGN.md, "Danger tiers and the guard").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// list, show, backup, add: no prompt.
    Mild,
    /// lock a user, prune backups, stop an app: y/N on a TTY, `--yes` in scripts.
    Moderate,
    /// uninstall, restore, remove, an undo that overwrites: type the exact name, or
    /// `--confirm NAME` in scripts; `--yes` never suffices; a verified restore point first.
    Severe,
}

/// What the operator said on the command line, and what the terminal allows.
#[derive(Debug, Clone, Default)]
pub struct Consent<'a> {
    pub yes: bool,
    pub confirm: Option<&'a str>,
    pub can_prompt: bool,
}

/// The guard's decision before anything is touched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Go ahead without asking.
    Proceed,
    /// Ask y/N on the terminal.
    AskYesNo,
    /// Ask the operator to type this exact name.
    AskExactName(String),
    /// Do nothing and exit 3, with this reason.
    Refuse(String),
}

/// Decide, for one change on `target` (whose confirmation name is `name`: an FQDN or username).
pub fn decide(tier: Tier, name: &str, protected: bool, consent: &Consent<'_>) -> Decision {
    if protected && tier >= Tier::Moderate {
        return Decision::Refuse(format!(
            "{name} is protected; run `matelot app unprotect {name}` first if you really mean it"
        ));
    }
    match tier {
        Tier::Mild => Decision::Proceed,
        Tier::Moderate => {
            if consent.yes {
                Decision::Proceed
            } else if consent.can_prompt {
                Decision::AskYesNo
            } else {
                Decision::Refuse(
                    "this change needs confirmation: no terminal to ask on; pass --yes".into(),
                )
            }
        }
        Tier::Severe => match consent.confirm {
            Some(given) if given == name => Decision::Proceed,
            Some(given) => Decision::Refuse(format!(
                "--confirm {given:?} does not match {name:?}; nothing was changed"
            )),
            None if consent.can_prompt => Decision::AskExactName(name.to_string()),
            None => Decision::Refuse(format!(
                "this is destructive: no terminal to confirm on; pass --confirm {name} \
                 (--yes alone is never enough)"
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(yes: bool, confirm: Option<&str>, can_prompt: bool) -> Consent<'_> {
        Consent {
            yes,
            confirm,
            can_prompt,
        }
    }

    #[test]
    fn decisions_follow_the_tiers() {
        let name = "analytics.example.org";
        let refuse = |d: &Decision| matches!(d, Decision::Refuse(_));
        let rows: Vec<(Tier, bool, Consent<'_>, &str)> = vec![
            (Tier::Mild, false, c(false, None, false), "proceed"),
            (Tier::Moderate, false, c(true, None, false), "proceed"),
            (Tier::Moderate, false, c(false, None, true), "ask"),
            (Tier::Moderate, false, c(false, None, false), "refuse"),
            (Tier::Severe, false, c(true, None, false), "refuse"),
            (Tier::Severe, false, c(true, None, true), "type"),
            (Tier::Severe, false, c(false, Some(name), false), "proceed"),
            (
                Tier::Severe,
                false,
                c(true, Some("analytics"), false),
                "refuse",
            ),
            (
                Tier::Severe,
                false,
                c(false, Some("ANALYTICS.example.org"), true),
                "refuse",
            ),
            (Tier::Severe, true, c(false, Some(name), false), "refuse"),
            (Tier::Moderate, true, c(true, None, false), "refuse"),
            (Tier::Mild, true, c(false, None, false), "proceed"),
        ];
        for (tier, protected, consent, want) in rows {
            let d = decide(tier, name, protected, &consent);
            let ok = match want {
                "proceed" => d == Decision::Proceed,
                "ask" => d == Decision::AskYesNo,
                "type" => d == Decision::AskExactName(name.into()),
                "refuse" => refuse(&d),
                _ => false,
            };
            assert!(
                ok,
                "{tier:?} protected={protected} {consent:?}: got {d:?}, want {want}"
            );
        }
    }

    #[test]
    fn refusals_name_the_flag() {
        let d = decide(Tier::Severe, "alice", false, &c(true, None, false));
        let Decision::Refuse(msg) = d else {
            panic!("expected a refusal")
        };
        assert!(msg.contains("--confirm alice"), "{msg}");
        let d = decide(Tier::Moderate, "alice", false, &c(false, None, false));
        let Decision::Refuse(msg) = d else {
            panic!("expected a refusal")
        };
        assert!(msg.contains("--yes"), "{msg}");
    }
}

//! How a guarded change is shown before it happens: what it is, what would be lost and who
//! would notice (`What: value` lines), the steps in order (restore point first), and a
//! protection that refuses it. Printed on stderr before a prompt, and as the plan (stdout, or
//! one JSON document) under `--check`.

use serde::Serialize;

use super::Output;
use crate::core::guard::Tier;

/// A guarded change, as people read it.
#[derive(Debug, Clone, Serialize)]
pub struct Impact {
    /// `app.uninstall`, `undo`...
    pub kind: String,
    pub target: String,
    pub tier: Tier,
    /// The exact name to type (or pass to `--confirm`), for severe changes.
    pub confirm: String,
    /// `What: value` lines.
    #[serde(serialize_with = "ser_lines")]
    pub lines: Vec<(String, String)>,
    pub steps: Vec<String>,
    pub protected: Option<String>,
}

fn ser_lines<S: serde::Serializer>(lines: &[(String, String)], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = s.serialize_seq(Some(lines.len()))?;
    for (what, value) in lines {
        seq.serialize_element(&serde_json::json!({ "what": what, "value": value }))?;
    }
    seq.end()
}

impl Impact {
    /// The lines people read: heading, aligned `What: value`, numbered steps, refusal.
    pub fn render(&self) -> Vec<String> {
        let width = self.lines.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 1;
        let mut lines = vec![format!("{} {}", self.kind, self.target)];
        lines.extend(
            self.lines
                .iter()
                .map(|(k, v)| format!("  {:<width$} {v}", format!("{k}:"))),
        );
        lines.push("Plan:".to_string());
        lines.extend(
            self.steps
                .iter()
                .enumerate()
                .map(|(i, s)| format!("  {}. {s}", i + 1)),
        );
        if let Some(p) = &self.protected {
            lines.push(format!("Refused: {p}"));
        }
        lines
    }

    /// Before a real run: the impact on stderr (what the prompt is about).
    pub fn announce(&self, out: &Output) {
        for line in self.render() {
            out.info(line);
        }
    }

    /// `--check`: the plan on stdout (or one JSON document), and that nothing was changed.
    pub fn print_check(&self, out: &Output) -> anyhow::Result<()> {
        if out.json {
            let mut v = serde_json::to_value(self)?;
            if let Some(m) = v.as_object_mut() {
                m.insert("check".into(), serde_json::Value::Bool(true));
                if let Some(lines) = m.remove("lines") {
                    m.insert("impact".into(), lines);
                }
            }
            return out.json(&v);
        }
        for line in self.render() {
            out.line(line)?;
        }
        out.line("(--check: nothing was changed)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impact_lines_are_aligned_and_numbered() {
        let i = Impact {
            kind: "app.uninstall".into(),
            target: "analytics.example.org".into(),
            tier: Tier::Severe,
            confirm: "analytics.example.org".into(),
            lines: vec![
                ("App".into(), "Matomo 1.52.0".into()),
                ("Last backup".into(), "none".into()),
            ],
            steps: vec!["back up".into(), "uninstall".into()],
            protected: None,
        };
        assert_eq!(
            i.render(),
            vec![
                "app.uninstall analytics.example.org",
                "  App:         Matomo 1.52.0",
                "  Last backup: none",
                "Plan:",
                "  1. back up",
                "  2. uninstall",
            ]
        );
    }
}

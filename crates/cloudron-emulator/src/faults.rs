//! Injected failures, so a client's error handling can be tested on purpose: a rule matches
//! `METHOD /path/with/{placeholders}` and has an effect (an HTTP error, a delay, a dropped
//! connection, or a task that fails or stalls), for a number of hits or until removed.
//!
//! Parsing and matching only; the server applies the effects.

use serde::{Deserialize, Serialize};

/// What a matching request suffers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Answer 500 without running the handler.
    Http500,
    /// Answer 503 without running the handler.
    Http503,
    /// Run the handler; the task it starts fails.
    TaskError,
    /// Run the handler; the task it starts hangs at some percent until stopped.
    TaskStall,
    /// Run the handler; a backup task it starts succeeds and names its backup, but the backup
    /// never reaches the backup list (as when the upload's metadata write is lost).
    BackupUnlisted,
    /// Wait this many milliseconds, then run the handler.
    DelayMs(u64),
    /// Close the TCP connection without answering.
    DropConnection,
}

impl Effect {
    pub fn parse(s: &str) -> Option<Effect> {
        Some(match s.trim() {
            "http_500" => Effect::Http500,
            "http_503" => Effect::Http503,
            "task_error" => Effect::TaskError,
            "task_stall" => Effect::TaskStall,
            "backup_unlisted" => Effect::BackupUnlisted,
            "drop_connection" => Effect::DropConnection,
            other => Effect::DelayMs(other.strip_prefix("delay_ms:")?.trim().parse().ok()?),
        })
    }

    pub fn name(&self) -> String {
        match self {
            Effect::Http500 => "http_500".into(),
            Effect::Http503 => "http_503".into(),
            Effect::TaskError => "task_error".into(),
            Effect::TaskStall => "task_stall".into(),
            Effect::BackupUnlisted => "backup_unlisted".into(),
            Effect::DelayMs(n) => format!("delay_ms:{n}"),
            Effect::DropConnection => "drop_connection".into(),
        }
    }
}

/// What a task started by a faulted request must do (carried as a request extension).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskFault {
    Error,
    Stall,
    /// The backup the task creates is not added to the list.
    Unlisted,
}

/// One rule, as shown by `GET /__lab/faults`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FaultView {
    pub id: u64,
    #[serde(rename = "match")]
    pub pattern: String,
    pub effect: String,
    /// Hits left; `null` means every matching request until the rule is deleted.
    pub times: Option<u64>,
    pub hits: u64,
}

/// A parsed rule.
#[derive(Debug, Clone)]
pub struct Fault {
    pub id: u64,
    pub pattern: String,
    method: Option<String>,
    segments: Vec<String>,
    pub effect: Effect,
    pub times: Option<u64>,
    pub hits: u64,
}

impl Fault {
    /// Parse `"POST /api/v1/apps/{id}/backup"` (the method may be omitted or `*`).
    pub fn new(
        id: u64,
        pattern: &str,
        effect: Effect,
        times: Option<u64>,
    ) -> Result<Fault, String> {
        let pattern = pattern.trim();
        let (method, path) = match pattern.split_once(' ') {
            Some((m, p)) => (Some(m.trim().to_ascii_uppercase()), p.trim()),
            None => (None, pattern),
        };
        if !path.starts_with('/') {
            return Err(format!(
                "match must look like \"POST /api/v1/apps/{{id}}/backup\", got {pattern:?}"
            ));
        }
        let method = method.filter(|m| m != "*");
        Ok(Fault {
            id,
            pattern: pattern.to_string(),
            method,
            segments: split(path),
            effect,
            times,
            hits: 0,
        })
    }

    /// True when the request matches this rule (query strings are ignored).
    pub fn matches(&self, method: &str, path: &str) -> bool {
        if self
            .method
            .as_deref()
            .is_some_and(|m| !m.eq_ignore_ascii_case(method))
        {
            return false;
        }
        let got = split(path);
        got.len() == self.segments.len()
            && self.segments.iter().zip(&got).all(|(want, seg)| {
                (want.starts_with('{') && want.ends_with('}') && !seg.is_empty()) || want == seg
            })
    }

    pub fn view(&self) -> FaultView {
        FaultView {
            id: self.id,
            pattern: self.pattern.clone(),
            effect: self.effect.name(),
            times: self.times,
            hits: self.hits,
        }
    }
}

fn split(path: &str) -> Vec<String> {
    let path = path.split('?').next().unwrap_or_default();
    path.trim_end_matches('/')
        .split('/')
        .map(str::to_string)
        .collect()
}

/// The rules in force, first match wins.
#[derive(Debug, Default)]
pub struct Faults {
    rules: Vec<Fault>,
    next_id: u64,
}

impl Faults {
    pub fn add(
        &mut self,
        pattern: &str,
        effect: Effect,
        times: Option<u64>,
    ) -> Result<FaultView, String> {
        self.next_id += 1;
        let f = Fault::new(self.next_id, pattern, effect, times)?;
        let view = f.view();
        self.rules.push(f);
        Ok(view)
    }

    pub fn clear(&mut self) {
        self.rules.clear();
    }

    pub fn remove(&mut self, id: u64) -> bool {
        let before = self.rules.len();
        self.rules.retain(|f| f.id != id);
        self.rules.len() != before
    }

    pub fn list(&self) -> Vec<FaultView> {
        self.rules.iter().map(Fault::view).collect()
    }

    /// The effect for this request, counting the hit (a rule whose `times` runs out is removed).
    pub fn hit(&mut self, method: &str, path: &str) -> Option<Effect> {
        let idx = self.rules.iter().position(|f| f.matches(method, path))?;
        let rule = &mut self.rules[idx];
        rule.hits += 1;
        let effect = rule.effect.clone();
        if let Some(t) = rule.times.as_mut() {
            *t = t.saturating_sub(1);
            if *t == 0 {
                self.rules.remove(idx);
            }
        }
        Some(effect)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn effects_parse() {
        let cases = [
            ("http_500", Some(Effect::Http500)),
            ("http_503", Some(Effect::Http503)),
            ("task_error", Some(Effect::TaskError)),
            ("task_stall", Some(Effect::TaskStall)),
            ("drop_connection", Some(Effect::DropConnection)),
            ("delay_ms:250", Some(Effect::DelayMs(250))),
            ("delay_ms:x", None),
            ("http_418", None),
        ];
        for (s, want) in cases {
            assert_eq!(Effect::parse(s), want, "{s}");
        }
    }

    #[test]
    fn placeholders_match_one_segment() {
        let f = Fault::new(1, "POST /api/v1/apps/{id}/backup", Effect::Http500, None)
            .map_err(|e| e.to_string());
        let f = match f {
            Ok(f) => f,
            Err(e) => panic!("{e}"),
        };
        assert!(f.matches("POST", "/api/v1/apps/abc/backup"));
        assert!(f.matches("post", "/api/v1/apps/abc/backup?x=1"));
        assert!(!f.matches("GET", "/api/v1/apps/abc/backup"));
        assert!(!f.matches("POST", "/api/v1/apps/abc/def/backup"));
        assert!(!f.matches("POST", "/api/v1/apps//backup"));
        assert!(!f.matches("POST", "/api/v1/apps/abc/backups"));
    }

    #[test]
    fn method_may_be_omitted_or_star() {
        for p in ["/api/v1/apps", "* /api/v1/apps"] {
            let f = Fault::new(1, p, Effect::Http503, None).ok();
            assert!(f.as_ref().is_some_and(|f| f.matches("GET", "/api/v1/apps")));
            assert!(f.is_some_and(|f| f.matches("POST", "/api/v1/apps")));
        }
        assert!(Fault::new(1, "GET apps", Effect::Http503, None).is_err());
    }

    #[test]
    fn times_counts_down_and_removes() {
        let mut fs = Faults::default();
        assert!(fs.add("GET /a", Effect::Http500, Some(2)).is_ok());
        assert_eq!(fs.hit("GET", "/a"), Some(Effect::Http500));
        assert_eq!(fs.list()[0].times, Some(1));
        assert_eq!(fs.hit("GET", "/a"), Some(Effect::Http500));
        assert_eq!(fs.hit("GET", "/a"), None);
        assert!(fs.list().is_empty());
    }

    #[test]
    fn unlimited_rule_stays() {
        let mut fs = Faults::default();
        assert!(fs.add("GET /a", Effect::DelayMs(1), None).is_ok());
        for _ in 0..5 {
            assert_eq!(fs.hit("GET", "/a"), Some(Effect::DelayMs(1)));
        }
        assert_eq!(fs.list()[0].hits, 5);
    }
}

//! The effective configuration as rows (dotted key, value, origin), for `matelot config show`
//! and its `--json` form.
//!
//! A secret is only ever shown as `<redacted>`: this module never exposes a `SecretString`.

use std::time::Duration;

use serde::Serialize;
use serde_json::{Value, json};

use super::{Config, Origin};

/// What a secret is shown as.
pub const REDACTED: &str = "<redacted>";

/// One effective setting.
#[derive(Debug, Clone, Serialize)]
pub struct Setting {
    pub key: String,
    pub value: Value,
    pub origin: Origin,
}

/// Every effective setting, in a stable order (sections as in docs/config.md).
pub fn settings(cfg: &Config) -> Vec<Setting> {
    let mut rows = Rows {
        cfg,
        out: Vec::new(),
    };
    match &cfg.cloudron {
        None => rows.push("cloudron", Value::Null),
        Some(c) => {
            rows.push("cloudron.url", json!(c.url.as_str()));
            let token = c.token.as_ref().map_or(Value::Null, |_| json!(REDACTED));
            rows.push("cloudron.token", token);
            rows.push("cloudron.ca_file", path_value(c.ca_file.as_deref()));
            rows.push("cloudron.protect", json!(c.protect));
            rows.push("cloudron.connect_timeout", dur(c.connect_timeout));
            rows.push("cloudron.request_timeout", dur(c.request_timeout));
            rows.push("cloudron.task_timeout", dur(c.task_timeout));
        }
    }
    if cfg.compute.is_empty() {
        rows.push("compute", Value::Null);
    }
    for (name, h) in &cfg.compute {
        let k = |s: &str| format!("compute.{name}.{s}");
        rows.push(&k("host"), json!(h.host));
        rows.push(&k("port"), json!(h.port));
        rows.push(&k("user"), json!(h.user));
        rows.push(&k("sudo"), json!(h.sudo));
        rows.push(&k("identity"), path_value(h.identity.as_deref()));
        let known = h
            .known_hosts
            .clone()
            .unwrap_or_else(|| cfg.known_hosts_path());
        rows.push(&k("known_hosts"), path_value(Some(&known)));
        rows.push(&k("connect_timeout"), dur(h.connect_timeout));
        rows.push(&k("command_timeout"), dur(h.command_timeout));
        rows.push(&k("min_uid"), json!(h.min_uid));
    }
    match &cfg.backup.compute {
        None => rows.push("backup.compute", Value::Null),
        Some(b) => {
            rows.push("backup.compute.repository", json!(b.repository));
            rows.push("backup.compute.password_file", json!(b.password_file));
            rows.push("backup.compute.paths", json!(b.paths));
            // The keep table is given (or defaulted) as a whole: one origin for its four rules.
            let k = &b.keep;
            for (rule, n) in [
                ("daily", k.daily),
                ("weekly", k.weekly),
                ("monthly", k.monthly),
                ("yearly", k.yearly),
            ] {
                let key = format!("backup.compute.keep.{rule}");
                rows.push_as(&key, "backup.compute.keep", json!(n));
            }
        }
    }
    rows.push("health.disk.warn", json!(cfg.health.disk_warn));
    rows.push("health.disk.crit", json!(cfg.health.disk_crit));
    rows.push("health.backup_max_age", dur(cfg.health.backup_max_age));
    rows.push("guard.preserve", dur(cfg.guard.preserve));
    rows.push("state.dir", path_value(Some(&cfg.state.dir)));
    rows.out
}

struct Rows<'a> {
    cfg: &'a Config,
    out: Vec<Setting>,
}

impl Rows<'_> {
    fn push(&mut self, key: &str, value: Value) {
        self.push_as(key, key, value);
    }

    /// A row whose origin is recorded under another key.
    fn push_as(&mut self, key: &str, origin_key: &str, value: Value) {
        let origin = self
            .cfg
            .origins
            .get(origin_key)
            .cloned()
            .unwrap_or(Origin::Default);
        self.out.push(Setting {
            key: key.to_string(),
            value,
            origin,
        });
    }
}

fn path_value(p: Option<&std::path::Path>) -> Value {
    p.map_or(Value::Null, |p| json!(p.display().to_string()))
}

fn dur(d: Duration) -> Value {
    json!(format_duration(d))
}

/// A duration in the largest unit that divides it exactly: `26h`, `90d`, `1500ms`.
pub fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms == 0 {
        return "0s".into();
    }
    for (unit, size) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1000),
    ] {
        if ms.is_multiple_of(size) {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{ms}ms")
}

/// A value as the human table shows it: strings bare, lists comma-separated, unset as `-`.
pub fn render_value(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        Value::Array(items) if items.is_empty() => "[]".into(),
        Value::Array(items) => items
            .iter()
            .map(render_value)
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_use_the_largest_exact_unit() {
        let cases = [
            (0, "0s"),
            (1500, "1500ms"),
            (10_000, "10s"),
            (900_000, "15m"),
            (26 * 3_600_000, "26h"),
            (90 * 86_400_000, "90d"),
        ];
        for (ms, want) in cases {
            assert_eq!(format_duration(Duration::from_millis(ms)), want);
        }
    }

    #[test]
    fn values_render_for_humans() {
        assert_eq!(render_value(&json!(null)), "-");
        assert_eq!(render_value(&json!(["a", "b"])), "a, b");
        assert_eq!(render_value(&json!([])), "[]");
        assert_eq!(render_value(&json!(22)), "22");
        assert_eq!(render_value(&json!(true)), "true");
    }

    #[test]
    fn defaults_are_listed_with_their_origin() {
        let cfg = Config::default();
        let rows = settings(&cfg);
        let keys: Vec<&str> = rows.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "cloudron",
                "compute",
                "backup.compute",
                "health.disk.warn",
                "health.disk.crit",
                "health.backup_max_age",
                "guard.preserve",
                "state.dir"
            ]
        );
        assert!(rows.iter().all(|r| r.origin == Origin::Default));
        assert_eq!(rows[5].value, json!("26h"));
        assert_eq!(rows[6].value, json!("90d"));
    }
}

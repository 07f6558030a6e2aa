//! Which systems an account command works on, from `--on`: `compute` (every configured
//! host), a host's name, `cloudron`, several of them comma-separated or repeated; nothing
//! means everything configured. Pure: a function of the configuration and the words given.

use crate::config::{CloudronConfig, ComputeHost, Config};

/// The systems to gather facts from and apply changes to.
#[derive(Debug, Clone, Default)]
pub struct Targets {
    /// In the configuration's (name) order.
    pub hosts: Vec<ComputeHost>,
    pub cloudron: Option<CloudronConfig>,
}

impl Targets {
    /// Resolve `--on` words against the configuration. The words `compute` and `cloudron`
    /// are keywords (a host cannot be singled out under those names; `compute` selects it).
    pub fn select(cfg: &Config, on: &[String]) -> Result<Targets, String> {
        let words: Vec<String> = on
            .iter()
            .flat_map(|w| w.split(','))
            .map(|w| w.trim().to_string())
            .filter(|w| !w.is_empty())
            .collect();
        let everything = words.is_empty();
        let mut hosts: Vec<&ComputeHost> = Vec::new();
        let mut cloudron = false;
        for w in &words {
            match w.to_ascii_lowercase().as_str() {
                "cloudron" => cloudron = true,
                "compute" => {
                    if cfg.compute.is_empty() {
                        return Err(
                            "--on compute: the configuration has no [compute.NAME] table".into(),
                        );
                    }
                    hosts.extend(cfg.compute.values());
                }
                _ => match cfg.compute.get(w.as_str()) {
                    Some(h) => hosts.push(h),
                    None => return Err(unknown(cfg, w)),
                },
            }
        }
        if everything {
            hosts.extend(cfg.compute.values());
            cloudron = cfg.cloudron.is_some();
        }
        if cloudron && cfg.cloudron.is_none() {
            return Err(
                "--on cloudron: no Cloudron is configured (add a [cloudron] section \
                        with url and token_file, or set MATELOT_CLOUDRON_URL)"
                    .into(),
            );
        }
        // Configuration order, each host once.
        let mut selected: Vec<ComputeHost> = Vec::new();
        for h in cfg.compute.values() {
            if hosts.iter().any(|s| s.name == h.name) {
                selected.push(h.clone());
            }
        }
        let targets = Targets {
            hosts: selected,
            cloudron: if cloudron { cfg.cloudron.clone() } else { None },
        };
        if targets.is_empty() {
            return Err(
                "nothing to work on: the configuration has no [compute.NAME] table and \
                        no [cloudron] section (see docs/config.md)"
                    .into(),
            );
        }
        Ok(targets)
    }

    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty() && self.cloudron.is_none()
    }

    /// The names of the systems: host names, then `cloudron`.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.hosts.iter().map(|h| h.name.clone()).collect();
        if self.cloudron.is_some() {
            names.push("cloudron".into());
        }
        names
    }
}

fn unknown(cfg: &Config, word: &str) -> String {
    let mut choices = vec!["compute".to_string(), "cloudron".to_string()];
    choices.extend(cfg.compute.keys().cloned());
    format!(
        "--on {word:?}: no such system; use one or more of {} (comma-separated)",
        choices.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(hosts: &[&str], cloudron: bool) -> Config {
        let mut c = Config::default();
        for h in hosts {
            c.compute.insert(
                h.to_string(),
                ComputeHost::new(*h, format!("{h}.example.org")),
            );
        }
        if cloudron {
            c.cloudron = Some(CloudronConfig::new(
                "https://my.example.org".parse().expect("url"),
            ));
        }
        c
    }

    fn names(c: &Config, on: &[&str]) -> Result<Vec<String>, String> {
        let on: Vec<String> = on.iter().map(|s| s.to_string()).collect();
        Targets::select(c, &on).map(|t| t.names())
    }

    #[test]
    fn on_selects_hosts_and_cloudron() {
        let c = cfg(&["calcul", "gpu"], true);
        let rows: Vec<(&[&str], &[&str])> = vec![
            (&[], &["calcul", "gpu", "cloudron"]),
            (&["compute"], &["calcul", "gpu"]),
            (&["cloudron"], &["cloudron"]),
            (&["compute,cloudron"], &["calcul", "gpu", "cloudron"]),
            (&["gpu"], &["gpu"]),
            (&["gpu", "calcul"], &["calcul", "gpu"]),
            (&["gpu, Cloudron", "gpu"], &["gpu", "cloudron"]),
            (&["compute", "calcul"], &["calcul", "gpu"]),
        ];
        for (on, want) in rows {
            assert_eq!(names(&c, on).unwrap(), want, "--on {on:?}");
        }
    }

    #[test]
    fn bad_words_and_missing_systems_are_explained() {
        let c = cfg(&["calcul"], false);
        assert_eq!(
            names(&c, &["calc"]).unwrap_err(),
            "--on \"calc\": no such system; use one or more of compute, cloudron, calcul \
             (comma-separated)"
        );
        assert!(
            names(&c, &["cloudron"])
                .unwrap_err()
                .starts_with("--on cloudron: no Cloudron is configured")
        );
        assert_eq!(names(&c, &[]).unwrap(), ["calcul"]);
        let none = cfg(&[], false);
        assert!(
            names(&none, &[])
                .unwrap_err()
                .starts_with("nothing to work on")
        );
        assert!(
            names(&none, &["compute"])
                .unwrap_err()
                .contains("no [compute.NAME]")
        );
        let only_cloudron = cfg(&[], true);
        assert_eq!(names(&only_cloudron, &[]).unwrap(), ["cloudron"]);
    }
}

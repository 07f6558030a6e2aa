//! `matelot app list`: every app with its state, health and version.

use super::{AppView, dash};
use crate::Ctx;
use crate::cloudron::models::App;
use crate::error::Result;

pub async fn list(ctx: &Ctx) -> Result<()> {
    let mut apps = ctx.world()?.cloudron()?.list_apps().await?;
    apps.sort_by(|a, b| a.fqdn.cmp(&b.fqdn).then_with(|| a.id.cmp(&b.id)));
    if ctx.out.json {
        let views: Vec<AppView> = apps.iter().map(AppView::of).collect();
        ctx.out.json(&serde_json::json!({ "apps": views }))?;
        return Ok(());
    }
    if apps.is_empty() {
        ctx.out.info("no apps are installed on this Cloudron");
    }
    ctx.out.table(&LIST_HEADERS, &list_rows(&apps))?;
    Ok(())
}

const LIST_HEADERS: [&str; 5] = ["APP", "FQDN", "STATE", "HEALTH", "VERSION"];

/// One row per app: name, FQDN, state label, health, package version.
pub fn list_rows(apps: &[App]) -> Vec<Vec<String>> {
    apps.iter()
        .map(|a| {
            vec![
                a.name().to_string(),
                a.fqdn.clone(),
                a.state_label(),
                a.health
                    .as_ref()
                    .map_or_else(|| "-".to_string(), |h| h.to_string()),
                dash(&a.manifest.version),
            ]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloudron::models::{Health, InstallationState, RunState};

    fn matomo() -> App {
        let mut a = App {
            id: "9f9f".into(),
            fqdn: "analytics.example.org".into(),
            installation_state: InstallationState::Installed,
            run_state: RunState::Running,
            health: Some(Health::Healthy),
            ..App::default()
        };
        a.manifest.title = "Matomo".into();
        a.manifest.version = "1.52.0".into();
        a
    }

    #[test]
    fn list_rows_show_name_state_health_version() {
        let mut stopped = matomo();
        stopped.run_state = RunState::Stopped;
        stopped.health = None;
        stopped.manifest.version.clear();
        assert_eq!(
            list_rows(&[matomo(), stopped]),
            vec![
                vec![
                    "Matomo",
                    "analytics.example.org",
                    "Running",
                    "healthy",
                    "1.52.0"
                ],
                vec!["Matomo", "analytics.example.org", "Stopped", "-", "-"],
            ]
        );
    }
}

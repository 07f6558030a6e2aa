//! `matelot app show APP`: one app in detail.

use super::{AppView, dash};
use crate::Ctx;
use crate::cloudron::models::App;
use crate::error::Result;

pub async fn show(ctx: &Ctx, query: &str) -> Result<()> {
    let c = ctx.world()?.cloudron()?;
    let summary = super::facts::resolve_app(c, query).await?;
    let app = c.get_app(&summary.id).await?;
    if ctx.out.json {
        ctx.out.json(&AppView::of(&app))?;
        return Ok(());
    }
    for line in show_lines(&app) {
        ctx.out.line(line)?;
    }
    Ok(())
}

/// `app show` for people: aligned `Key: value` lines.
pub fn show_lines(app: &App) -> Vec<String> {
    let health = app
        .health
        .as_ref()
        .map_or_else(|| "not checked yet".to_string(), |h| h.to_string());
    let m = &app.manifest;
    let mut package = format!("{} {}", dash(&m.title), dash(&m.version));
    if !m.upstream_version.is_empty() {
        package.push_str(&format!(" (upstream {})", m.upstream_version));
    }
    if !m.id.is_empty() {
        package.push_str(&format!(", {}", m.id));
    }
    let access = match &app.access_restriction {
        None => "every user of the Cloudron".to_string(),
        Some(r) => {
            let parts: Vec<String> = [(r.users.len(), "user"), (r.groups.len(), "group")]
                .into_iter()
                .filter(|(n, _)| *n > 0)
                .map(|(n, what)| format!("{n} {what}{}", if n == 1 { "" } else { "s" }))
                .collect();
            if parts.is_empty() {
                "nobody (an empty access list)".to_string()
            } else {
                format!("restricted to {}", parts.join(" and "))
            }
        }
    };
    let mut rows: Vec<(&str, String)> = vec![
        ("App", format!("{} ({})", app.name(), app.fqdn)),
        ("Id", app.id.clone()),
        (
            "State",
            format!(
                "{} (installation {}, run {}, health {health})",
                app.state_label(),
                dash(app.installation_state.as_str()),
                dash(app.run_state.as_str()),
            ),
        ),
        ("Package", package),
        ("Access", access),
        (
            "Backups",
            if app.enable_backup {
                "automatic".to_string()
            } else {
                "automatic backups OFF: platform backups skip this app".to_string()
            },
        ),
    ];
    if let Some(t) = &app.task_id {
        rows.push(("Task", t.to_string()));
    }
    if let Some(e) = &app.error {
        rows.push(("Error", e.message.clone()));
    }
    if let Some(t) = app.creation_time {
        rows.push(("Created", t.format("%Y-%m-%d %H:%M UTC").to_string()));
    }
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 1;
    rows.into_iter()
        .map(|(k, v)| format!("{:<width$} {v}", format!("{k}:")))
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
    fn show_lines_are_aligned_and_warn_about_backups_off() {
        let mut a = matomo();
        a.enable_backup = false;
        let lines = show_lines(&a);
        assert_eq!(lines[0], "App:     Matomo (analytics.example.org)");
        assert_eq!(
            lines[2],
            "State:   Running (installation installed, run running, health healthy)"
        );
        assert!(
            lines.iter().any(|l| l.contains("automatic backups OFF")),
            "{lines:?}"
        );
    }
}

//! The facts the guarded app commands gather before anything is touched: APP resolved
//! (strictly for a severe command: an id, FQDN, subdomain or URL, never a title alone), the
//! impact lines (what would be lost, who would notice), and the backup a restore starts from.
//! Reading only.

use chrono::Utc;

use super::human;
use crate::Ctx;
use crate::cloudron::models::{App, Backup};
use crate::cloudron::{Client, MatchedBy, resolve};
use crate::error::{Error, Result};

/// The app an APP argument designates (from the app list: a summary, not the detail).
pub async fn resolve_app(c: &Client, query: &str) -> Result<App> {
    let apps = c.list_apps().await?;
    Ok(resolve(&apps, query)?.app.clone())
}

/// Resolve APP for a severe command: exactly one app, named by id, FQDN, subdomain or URL.
/// Under `--check` a title match is shown (with a note), since nothing will be changed.
pub async fn resolve_severe(ctx: &Ctx, c: &Client, query: &str) -> Result<(App, Option<String>)> {
    let apps = c.list_apps().await?;
    let r = resolve(&apps, query)?;
    let mut note = None;
    if r.by == MatchedBy::Name {
        let why = format!(
            "{query:?} matched {} by its title or label only; a destructive command needs the \
             app's id, FQDN, subdomain or URL (e.g. {})",
            r.app.fqdn, r.app.fqdn
        );
        if !ctx.check() {
            return Err(Error::usage(why));
        }
        note = Some(why);
    }
    Ok((c.get_app(&r.app.id).await?, note))
}

/// The impact lines of an app: what would be lost, and who would notice.
pub async fn impact(c: &Client, app: &App, backups: &[Backup]) -> Vec<(String, String)> {
    let m = &app.manifest;
    let last = backups
        .iter()
        .filter(|b| b.is_complete())
        .max_by_key(|b| b.creation_time);
    let last = match last {
        Some(b) => format!(
            "{} ({} ago)",
            b.id,
            b.age(Utc::now())
                .map_or_else(|| "age unknown".into(), human)
        ),
        None => "none".to_string(),
    };
    vec![
        ("App".into(), format!("{} {}", app.name(), m.version)),
        ("FQDN".into(), app.fqdn.clone()),
        ("Id".into(), app.id.clone()),
        ("State".into(), app.state_label()),
        ("Last backup".into(), last),
        ("Users with access".into(), access_text(c, app).await),
    ]
}

async fn access_text(c: &Client, app: &App) -> String {
    let Some(r) = &app.access_restriction else {
        return "every user of the Cloudron".to_string();
    };
    let (users, groups) = tokio::join!(c.list_users(), c.list_groups());
    let (users, groups) = (users.unwrap_or_default(), groups.unwrap_or_default());
    let mut names: Vec<String> = r
        .users
        .iter()
        .map(|id| {
            users
                .iter()
                .find(|u| &u.id == id)
                .and_then(|u| u.username.clone())
                .unwrap_or_else(|| id.clone())
        })
        .collect();
    names.extend(r.groups.iter().map(|id| {
        let g = groups.iter().find(|g| &g.id == id);
        match g {
            Some(g) => format!("group {} ({} members)", g.name, g.user_ids.len()),
            None => format!("group {id}"),
        }
    }));
    if names.is_empty() {
        "nobody (an empty access list)".to_string()
    } else {
        names.join(", ")
    }
}

/// The app's newest complete backup, or the one named (which must be the app's).
pub fn pick_backup<'a>(
    backups: &'a [Backup],
    wanted: Option<&str>,
    fqdn: &str,
) -> Result<&'a Backup> {
    match wanted {
        Some(id) => backups.iter().find(|b| b.id == id).ok_or_else(|| {
            Error::usage(format!(
                "backup {id:?} is not one of {fqdn}'s backups (`matelot backup list --app {fqdn}`)"
            ))
        }),
        None => backups
            .iter()
            .filter(|b| b.is_complete())
            .max_by_key(|b| b.creation_time)
            .ok_or_else(|| Error::failed(format!("{fqdn} has no backup to restore from"))),
    }
}

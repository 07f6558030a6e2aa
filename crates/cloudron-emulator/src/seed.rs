//! Seeded estates. `demo`: a small organisation on `example.org` (dashboard `my.example.org`)
//! with Matomo, Nextcloud, Rocket.Chat, WordPress, Wiki.js and Gitea, nightly backup history,
//! an owner `admin`, a few people and two groups. `empty`: only the owner. Either can carry
//! `extra_apps` generated apps, for benchmarks on a large estate.
//!
//! Builds data only; timestamps are relative to now so the history always looks recent.

use chrono::{Duration, TimeZone, Utc};
use serde_json::{Value, json};

use super::catalog;
use super::factory::{
    AppSpec, ago, done_task, new_app, new_app_backup, new_box_backup, new_event, new_user,
};
use super::http::iso;
use super::model::{AccessRestriction, AppData, Estate, Group, Policy, Service, Token};

pub const DOMAIN: &str = "example.org";

/// How many nights of backup history the demo has.
const NIGHTS: i64 = 3;

/// Build an estate.
pub fn build(seed: &str, extra_apps: usize, token: Token) -> Estate {
    let mut e = base(seed, extra_apps, token);
    if seed == "demo" {
        demo_people(&mut e);
        demo_apps(&mut e);
    }
    extra(&mut e, extra_apps);
    // A Cloudron without apps has no backup history worth showing: `empty` stays empty.
    if !e.apps.is_empty() {
        history(&mut e);
    }
    e
}

fn base(seed: &str, extra_apps: usize, token: Token) -> Estate {
    let activation = ago(400 * 86400);
    let owner = new_user(
        "admin",
        &format!("admin@{DOMAIN}"),
        "Alex Admin",
        "owner",
        activation.clone(),
    );
    let source = json!({"username": "admin", "userId": owner.id, "ip": "192.0.2.10"});
    let events = vec![
        new_event("cloudron.activate", &source, json!({}), activation.clone()),
        new_event(
            "user.add",
            &source,
            json!({"userId": owner.id, "email": owner.email, "user": {"username": "admin"}}),
            activation.clone(),
        ),
    ];
    Estate {
        format: 1,
        seed: seed.into(),
        extra_apps,
        domain: DOMAIN.into(),
        dashboard_fqdn: format!("my.{DOMAIN}"),
        cloudron_name: "Example Org".into(),
        activation_time: activation,
        token,
        owner_id: owner.id.clone(),
        next_task_id: 2600,
        apps: Vec::new(),
        backups: Vec::new(),
        tasks: Vec::new(),
        users: vec![owner],
        groups: Vec::new(),
        events,
        policy: Policy::default(),
        services: default_services(),
        disk_size: 160 * 1024 * 1024 * 1024,
        disk_base_used: 14 * 1024 * 1024 * 1024,
        disk_capacity_override: None,
    }
}

fn source(e: &Estate) -> Value {
    json!({"username": "admin", "userId": e.owner_id, "ip": "192.0.2.10"})
}

fn demo_people(e: &mut Estate) {
    let staff = Group {
        id: format!("gid-{}", uuid::Uuid::new_v4()),
        name: "staff".into(),
        source: String::new(),
    };
    let developers = Group {
        id: format!("gid-{}", uuid::Uuid::new_v4()),
        name: "developers".into(),
        source: String::new(),
    };
    let people = [
        (
            "camille",
            "Camille Martin",
            "admin",
            true,
            true,
            vec![&staff, &developers],
        ),
        ("jules", "Jules Bernard", "user", true, true, vec![&staff]),
        ("lea", "Léa Dubois", "usermanager", true, true, vec![&staff]),
        ("noah", "Noah Petit", "user", false, true, vec![&developers]),
        ("sofia", "Sofia Moreau", "user", true, false, vec![&staff]),
    ];
    let src = source(e);
    for (i, (name, display, role, active, accepted, groups)) in people.into_iter().enumerate() {
        let at = ago((300 - i64::try_from(i).unwrap_or(0) * 40) * 86400);
        let mut u = new_user(name, &format!("{name}@{DOMAIN}"), display, role, at.clone());
        u.active = active;
        u.invite_accepted = accepted;
        u.group_ids = groups.iter().map(|g| g.id.clone()).collect();
        e.events.push(new_event(
            "user.add",
            &src,
            json!({"userId": u.id, "email": u.email, "user": {"username": name}}),
            at,
        ));
        e.users.push(u);
    }
    e.groups = vec![staff, developers];
}

fn group_id(e: &Estate, name: &str) -> String {
    e.groups
        .iter()
        .find(|g| g.name == name)
        .map(|g| g.id.clone())
        .unwrap_or_default()
}

fn user_id(e: &Estate, name: &str) -> String {
    e.users
        .iter()
        .find(|u| u.username == name)
        .map(|u| u.id.clone())
        .unwrap_or_default()
}

/// Install one store app into the seed, with `uses` uses of history behind it.
fn seed_app(
    e: &mut Estate,
    store_id: &str,
    subdomain: &str,
    access: Option<AccessRestriction>,
    age_days: i64,
) -> Option<usize> {
    let store = catalog::find(store_id)?;
    let id = uuid::Uuid::new_v4().to_string();
    let at = ago(age_days * 86400);
    let app = new_app(AppSpec {
        data: AppData::fresh(&id),
        id,
        app_store_id: store.id.into(),
        manifest: catalog::manifest(store, None),
        subdomain,
        domain: DOMAIN,
        access_restriction: access,
        creation_time: at.clone(),
    });
    let tid = e.take_task_id();
    e.tasks.push(done_task(
        tid,
        "app",
        vec![json!(app.id)],
        at.clone(),
        Value::Null,
    ));
    let src = source(e);
    e.events.push(new_event(
        "app.install",
        &src,
        json!({"appId": app.id, "app": {"fqdn": app.fqdn, "manifest": {"id": store.id}}}),
        at,
    ));
    e.apps.push(app);
    Some(e.apps.len() - 1)
}

fn demo_apps(e: &mut Estate) {
    let staff = group_id(e, "staff");
    let devs = group_id(e, "developers");
    let admin = user_id(e, "admin");
    let camille = user_id(e, "camille");
    let only = |users: Vec<String>, groups: Vec<String>| Some(AccessRestriction { users, groups });
    let apps = [
        (
            "org.matomo.cloudronapp",
            "analytics",
            only(vec![], vec![staff.clone()]),
            380,
        ),
        ("com.nextcloud.cloudronapp", "cloud", None, 370),
        ("chat.rocket.cloudronapp", "chat", None, 360),
        (
            "org.wordpress.cloudronapp",
            "www",
            only(vec![admin, camille], vec![]),
            350,
        ),
        (
            "js.wiki.cloudronapp",
            "wiki",
            only(vec![], vec![staff]),
            200,
        ),
        ("io.gitea.cloudronapp", "git", only(vec![], vec![devs]), 120),
    ];
    for (store_id, sub, access, age) in apps {
        seed_app(e, store_id, sub, access, age);
    }
    if let Some(app) = e.apps.iter_mut().find(|a| a.subdomain == "git") {
        // Automatic backups off: platform backups reuse its last app backup.
        app.enable_backup = false;
    }
    if let Some(app) = e.apps.iter_mut().find(|a| a.subdomain == "cloud") {
        app.label = Some("Files".into());
        app.tags = vec!["office".into()];
    }
}

fn extra(e: &mut Estate, n: usize) {
    for i in 1..=n {
        let store = &catalog::STORE[(i - 1) % catalog::STORE.len()];
        let slug: String = store
            .title
            .to_ascii_lowercase()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        seed_app(e, store.id, &format!("{slug}-{i:03}"), None, 60);
    }
}

/// 23:00 UTC of the `k`-th most recent night (k = 1 is the last one, less than a day ago).
fn night(k: i64) -> chrono::DateTime<Utc> {
    let now = Utc::now();
    let today_23 = now
        .date_naive()
        .and_hms_opt(23, 0, 0)
        .map(|t| Utc.from_utc_datetime(&t))
        .unwrap_or(now);
    let last = if today_23 <= now {
        today_23
    } else {
        today_23 - Duration::days(1)
    };
    last - Duration::days(k - 1)
}

/// Nightly history: each night the apps are used, app backups are taken for apps with
/// automatic backups (the others are reused), and a platform backup depends on them.
fn history(e: &mut Estate) {
    let src = source(e);
    for k in (1..=NIGHTS).rev() {
        let t = night(k);
        let mut depends = Vec::new();
        for idx in 0..e.apps.len() {
            let salt = format!("night-{k}");
            let app = &mut e.apps[idx];
            app.lab_data = app.lab_data.used(&salt);
            // Gitea had automatic backups until three nights ago.
            if app.enable_backup || k == NIGHTS {
                let b = new_app_backup(app, "normal", iso(t + Duration::seconds(5)));
                depends.push(b.id.clone());
                e.backups.push(b);
            } else if let Some(prev) = e
                .backups
                .iter()
                .filter(|b| b.identifier == app.id)
                .max_by(|a, b| a.creation_time.cmp(&b.creation_time))
            {
                depends.push(prev.id.clone());
            }
        }
        let bx = new_box_backup(depends, "normal", iso(t + Duration::seconds(90)));
        let tid = e.take_task_id();
        e.tasks.push(done_task(
            tid.clone(),
            "backup",
            vec![],
            iso(t),
            json!(bx.id),
        ));
        e.events.push(new_event(
            "backup.start",
            &src,
            json!({"taskId": tid}),
            iso(t),
        ));
        e.events.push(new_event(
            "backup.finish",
            &src,
            json!({"taskId": tid, "backupId": bx.id, "errorMessage": null}),
            iso(t + Duration::seconds(90)),
        ));
        e.backups.push(bx);
    }
    // After the last night the apps were used once more: live data differs from every backup.
    for app in &mut e.apps {
        app.lab_data = app.lab_data.used("today");
    }
    if let Some(matomo) = e
        .apps
        .iter()
        .find(|a| a.app_store_id == "org.matomo.cloudronapp")
    {
        let mut b = new_app_backup(matomo, "normal", ago(10 * 86400));
        b.label = "before-5.3-upgrade".into();
        b.preserve_secs = 60 * 86400;
        b.lab_data = Some(AppData::fresh(&matomo.id));
        e.backups.push(b);
    }
    e.events
        .sort_by(|a, b| a.creation_time.cmp(&b.creation_time));
}

/// The platform services a seeded estate runs: name, default memory limit, memory used.
const SERVICES: &[(&str, u64, u64)] = &[
    // name, default memory limit, memory used
    ("turn", 256 << 20, 18 << 20),
    ("mail", 512 << 20, 720 << 20),
    ("mongodb", 768 << 20, 350 << 20),
    ("mysql", 768 << 20, 480 << 20),
    ("postgresql", 768 << 20, 170 << 20),
    ("docker", 0, 0),
    ("unbound", 0, 0),
    ("sftp", 256 << 20, 51 << 20),
    ("graphite", 256 << 20, 185 << 20),
    ("nginx", 0, 0),
];

/// The platform services of a fresh estate, all active.
pub fn default_services() -> Vec<Service> {
    SERVICES
        .iter()
        .map(|(name, limit, used)| Service {
            name: (*name).into(),
            status: "active".into(),
            memory_used: *used,
            memory_percent: if *limit == 0 {
                0
            } else {
                u32::try_from(used * 100 / limit).unwrap_or(100)
            },
            error: None,
            healthcheck: if *limit == 0 {
                Value::Null
            } else {
                json!({"status": true})
            },
            config: if *limit == 0 {
                json!({})
            } else {
                json!({"memoryLimit": limit, "recoveryMode": false})
            },
            default_memory_limit: *limit,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_has_the_promised_apps_and_people() {
        let e = build("demo", 0, Token("t".into()));
        let fqdns: Vec<&str> = e.apps.iter().map(|a| a.fqdn.as_str()).collect();
        for f in [
            "analytics.example.org",
            "cloud.example.org",
            "chat.example.org",
            "www.example.org",
            "wiki.example.org",
            "git.example.org",
        ] {
            assert!(fqdns.contains(&f), "{f} missing from {fqdns:?}");
        }
        assert_eq!(e.users[0].username, "admin");
        assert_eq!(e.users[0].role, "owner");
        assert!(e.users.len() >= 4);
        assert_eq!(e.groups.len(), 2);
        assert!(e.apps.iter().any(|a| a.access_restriction.is_some()));
        let boxes = e.backups.iter().filter(|b| b.kind == "box").count();
        assert_eq!(boxes, 3);
        for b in e.backups.iter().filter(|b| b.kind == "box") {
            assert_eq!(b.depends_on.len(), 6, "every app is in every box backup");
        }
    }

    #[test]
    fn live_data_differs_from_every_backup() {
        let e = build("demo", 0, Token("t".into()));
        for app in &e.apps {
            for b in e.backups.iter().filter(|b| b.identifier == app.id) {
                assert_ne!(b.lab_data.as_ref(), Some(&app.lab_data));
            }
        }
    }

    #[test]
    fn empty_has_only_the_owner_and_extra_apps_scale() {
        let e = build("empty", 0, Token("t".into()));
        assert_eq!(e.users.len(), 1);
        assert!(e.apps.is_empty());
        assert!(e.backups.is_empty() && e.tasks.is_empty());
        let big = build("empty", 200, Token("t".into()));
        assert_eq!(big.apps.len(), 200);
        let mut fqdns: Vec<&str> = big.apps.iter().map(|a| a.fqdn.as_str()).collect();
        fqdns.sort_unstable();
        fqdns.dedup();
        assert_eq!(fqdns.len(), 200, "fqdns are unique");
    }

    #[test]
    fn nights_are_a_day_apart_and_the_last_is_recent() {
        let age = Utc::now() - night(1);
        assert!(age >= Duration::zero() && age < Duration::days(1));
        assert_eq!(night(1) - night(2), Duration::days(1));
    }
}

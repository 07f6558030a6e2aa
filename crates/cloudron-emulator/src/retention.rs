//! Which backups `POST /backups/cleanup` removes, after Cloudron's backup cleaner: a backup is
//! kept when it is still being created, referenced by a kept platform backup, preserved
//! (`preserveSecs`), within `keepWithinSecs`, picked by a `keepDaily/Weekly/Monthly/Yearly`
//! rule, or the latest one (platform backups, and backups of apps still installed).
//! Failed backups always go.
//!
//! Pure: backups and a clock in, ids out.

use std::collections::HashSet;

use chrono::{DateTime, Datelike, Utc};
use serde_json::{Map, Value};

use super::http::parse_iso;
use super::model::Backup;

/// What a cleanup removes.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Removal {
    pub box_ids: Vec<String>,
    pub app_ids: Vec<String>,
}

/// Decide which backups a cleanup removes.
pub fn plan_cleanup(
    backups: &[Backup],
    retention: &Map<String, Value>,
    installed_app_ids: &HashSet<String>,
    now: DateTime<Utc>,
) -> Removal {
    let mut boxes: Vec<&Backup> = backups.iter().filter(|b| b.kind == "box").collect();
    sort_newest_first(&mut boxes);
    let kept_boxes = keep(&boxes, retention, &HashSet::new(), true, now);
    let referenced: HashSet<String> = boxes
        .iter()
        .filter(|b| kept_boxes.contains(&b.id))
        .flat_map(|b| b.depends_on.iter().cloned())
        .collect();

    let mut removal = Removal {
        box_ids: boxes
            .iter()
            .filter(|b| !kept_boxes.contains(&b.id))
            .map(|b| b.id.clone())
            .collect(),
        app_ids: Vec::new(),
    };

    let mut identifiers: Vec<&str> = backups
        .iter()
        .filter(|b| b.kind == "app")
        .map(|b| b.identifier.as_str())
        .collect();
    identifiers.sort_unstable();
    identifiers.dedup();
    for ident in identifiers {
        let mut group: Vec<&Backup> = backups
            .iter()
            .filter(|b| b.kind == "app" && b.identifier == ident)
            .collect();
        sort_newest_first(&mut group);
        let keep_latest = installed_app_ids.contains(ident);
        let kept = keep(&group, retention, &referenced, keep_latest, now);
        removal.app_ids.extend(
            group
                .iter()
                .filter(|b| !kept.contains(&b.id))
                .map(|b| b.id.clone()),
        );
    }
    removal
}

fn sort_newest_first(v: &mut [&Backup]) {
    v.sort_by(|a, b| b.creation_time.cmp(&a.creation_time));
}

fn secs(retention: &Map<String, Value>, key: &str) -> Option<i64> {
    retention.get(key).and_then(Value::as_i64)
}

/// The ids to keep among `backups` (newest first).
fn keep(
    backups: &[&Backup],
    retention: &Map<String, Value>,
    referenced: &HashSet<String>,
    keep_latest: bool,
    now: DateTime<Utc>,
) -> HashSet<String> {
    let mut kept = HashSet::new();
    let mut discarded = HashSet::new();
    let keep_within = secs(retention, "keepWithinSecs");
    for b in backups {
        let age = parse_iso(&b.creation_time)
            .map(|t| (now - t).num_seconds())
            .unwrap_or(i64::MAX);
        let preserved = i64::try_from(b.preserve_secs).unwrap_or(i64::MAX) > age;
        let within = keep_within.is_some_and(|k| k < 0 || age < k);
        match b.state.as_str() {
            "error" => {
                discarded.insert(b.id.clone());
            }
            "creating" if age < 48 * 3600 => {
                kept.insert(b.id.clone());
            }
            "creating" => {
                discarded.insert(b.id.clone());
            }
            _ if referenced.contains(&b.id) || preserved || within => {
                kept.insert(b.id.clone());
            }
            _ => {}
        }
    }
    type PeriodFn = fn(DateTime<Utc>) -> String;
    let rules: [(&str, PeriodFn); 4] = [
        ("keepDaily", |t| t.format("%Y-%m-%d").to_string()),
        ("keepWeekly", |t| {
            let w = t.iso_week();
            format!("{}-{}", w.year(), w.week())
        }),
        ("keepMonthly", |t| t.format("%Y-%m").to_string()),
        ("keepYearly", |t| t.format("%Y").to_string()),
    ];
    for (key, period_of) in rules {
        let n = secs(retention, key).unwrap_or(0);
        if n <= 0 {
            continue;
        }
        let mut last_period: Option<String> = None;
        let mut so_far = 0;
        for b in backups {
            if discarded.contains(&b.id) || kept.contains(&b.id) {
                continue;
            }
            let Some(t) = parse_iso(&b.creation_time) else {
                continue;
            };
            let period = period_of(t);
            if last_period.as_deref() == Some(period.as_str()) {
                continue;
            }
            last_period = Some(period);
            kept.insert(b.id.clone());
            so_far += 1;
            if so_far == n {
                break;
            }
        }
    }
    if keep_latest && let Some(latest) = backups.iter().find(|b| b.state == "normal") {
        kept.insert(latest.id.clone());
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::iso;

    fn backup(id: &str, kind: &str, ident: &str, hours_ago: i64, now: DateTime<Utc>) -> Backup {
        Backup {
            id: id.into(),
            remote_path: format!("p/{id}"),
            label: String::new(),
            identifier: ident.into(),
            creation_time: iso(now - chrono::Duration::hours(hours_ago)),
            package_version: "1.0.0".into(),
            kind: kind.into(),
            state: "normal".into(),
            format: "tgz".into(),
            preserve_secs: 0,
            encryption_version: None,
            depends_on: Vec::new(),
            manifest: None,
            stats: Value::Null,
            lab_data: None,
        }
    }

    fn within(days: i64) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("keepWithinSecs".into(), Value::from(days * 86400));
        m
    }

    #[test]
    fn old_backups_go_recent_preserved_and_latest_stay() {
        let now = Utc::now();
        let mut preserved = backup("a-old-preserved", "app", "A", 24 * 10, now);
        preserved.preserve_secs = 30 * 86400;
        let backups = vec![
            backup("a-new", "app", "A", 5, now),
            backup("a-old", "app", "A", 24 * 5, now),
            preserved,
            backup("gone-latest", "app", "GONE", 24 * 5, now),
            backup("b-old-only", "app", "B", 24 * 5, now),
            backup("box-old", "box", "box", 24 * 5, now),
            backup("box-older", "box", "box", 24 * 6, now),
        ];
        let installed: HashSet<String> = ["A".to_string(), "B".to_string()].into();
        let r = plan_cleanup(&backups, &within(2), &installed, now);
        // the latest box backup is always kept
        assert_eq!(r.box_ids, vec!["box-older".to_string()]);
        // B's only backup is its latest; the uninstalled app's last backup is not protected
        let mut app_ids = r.app_ids.clone();
        app_ids.sort();
        assert_eq!(
            app_ids,
            vec!["a-old".to_string(), "gone-latest".to_string()]
        );
    }

    #[test]
    fn kept_box_backups_protect_what_they_depend_on() {
        let now = Utc::now();
        let mut bx = backup("box-1", "box", "box", 24 * 5, now);
        bx.depends_on = vec!["a-old".into()];
        let backups = vec![
            bx,
            backup("a-new", "app", "A", 1, now),
            backup("a-old", "app", "A", 24 * 5, now),
        ];
        let installed: HashSet<String> = ["A".to_string()].into();
        let r = plan_cleanup(&backups, &within(2), &installed, now);
        assert!(r.box_ids.is_empty());
        assert!(r.app_ids.is_empty());
    }

    #[test]
    fn keep_daily_keeps_one_per_day() {
        let now = Utc::now();
        let backups: Vec<Backup> = (0..6)
            .map(|i| backup(&format!("x{i}"), "app", "A", i * 12, now))
            .collect();
        let mut ret = Map::new();
        ret.insert("keepDaily".into(), Value::from(2));
        let installed: HashSet<String> = HashSet::new();
        let r = plan_cleanup(&backups, &ret, &installed, now);
        // two distinct days kept out of six backups twelve hours apart
        assert_eq!(r.app_ids.len(), 4, "{:?}", r.app_ids);
    }

    #[test]
    fn failed_backups_always_go() {
        let now = Utc::now();
        let mut b = backup("bad", "app", "A", 1, now);
        b.state = "error".into();
        let installed: HashSet<String> = ["A".to_string()].into();
        let r = plan_cleanup(&[b], &within(2), &installed, now);
        assert_eq!(r.app_ids, vec!["bad".to_string()]);
    }
}

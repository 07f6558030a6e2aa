//! The Cloudron side of `user remove` and its undo, through the guard. The restore point is the
//! user's record, group memberships and the apps whose access restriction names the user or
//! one of their groups, re-read from the server before anything is deleted. Undo re-creates the
//! user with the same username, email, name and role, puts the groups back, and re-adds the
//! new user id to the apps that named the old one. Nothing here deletes without that record in
//! the journal first.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::app::Session;
use crate::Ctx;
use crate::cli::user_remove::UserRemoveArgs;
use crate::cloudron::CloudronError;
use crate::cloudron::models::{AccessRestriction, NewUser, User};
use crate::core::guard::Tier;
use crate::error::{Error, Result};
use crate::exec::guard::{self, Applied, Destructive, Guarded, Outcome};
use crate::journal::{Journal, OpId, Operation, RestorePoint};

/// The restore point kind of a Cloudron user.
pub const CLOUDRON_USER: &str = "cloudron.user";

/// What undo needs to bring a Cloudron user back.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserPoint {
    pub user: User,
    pub group_names: Vec<String>,
    /// Apps whose access restriction names the user directly.
    pub apps_by_user: Vec<String>,
    /// Apps reachable through one of the user's groups (they come back with the groups).
    pub apps_by_group: Vec<String>,
}

fn find_user(s: &Session, name: &str) -> Result<Option<User>> {
    let users = s.block_on(s.client.list_users())?;
    Ok(users.into_iter().find(|u| {
        u.username
            .as_deref()
            .is_some_and(|n| n.eq_ignore_ascii_case(name))
    }))
}

/// Read the user, groups and app access again from the server (the restore point itself).
fn capture(s: &Session, user_id: &str) -> Result<UserPoint> {
    let user = s.block_on(s.client.get_user(user_id))?;
    let groups = s.block_on(s.client.list_groups())?;
    let apps = s.block_on(s.client.list_apps())?;
    let group_names = groups
        .iter()
        .filter(|g| user.group_ids.contains(&g.id))
        .map(|g| g.name.clone())
        .collect();
    let names = |r: &Option<AccessRestriction>, by_user: bool| {
        r.as_ref().is_some_and(|r| {
            if by_user {
                r.users.contains(&user.id)
            } else {
                r.groups.iter().any(|g| user.group_ids.contains(g))
            }
        })
    };
    let apps_by_user = apps
        .iter()
        .filter(|a| names(&a.access_restriction, true))
        .map(|a| a.id.clone())
        .collect();
    let apps_by_group = apps
        .iter()
        .filter(|a| names(&a.access_restriction, false))
        .map(|a| a.id.clone())
        .collect();
    Ok(UserPoint {
        user,
        group_names,
        apps_by_user,
        apps_by_group,
    })
}

struct Remove<'a> {
    s: &'a Session,
    user: &'a User,
    name: &'a str,
}

impl Destructive for Remove<'_> {
    fn restore_point(&mut self, _op: OpId) -> Result<Option<RestorePoint>> {
        let point = capture(self.s, &self.user.id)?;
        if point.user.id != self.user.id || point.user.username != self.user.username {
            return Err(Error::failed(format!(
                "user {} changed while its restore point was taken",
                self.name
            )));
        }
        let details = serde_json::to_value(&point)
            .map_err(|e| Error::failed(format!("cannot record the restore point: {e}")))?;
        Ok(Some(RestorePoint {
            kind: CLOUDRON_USER.into(),
            id: self.user.id.clone(),
            details,
        }))
    }

    fn apply(
        &mut self,
        _op: OpId,
        _rp: Option<&RestorePoint>,
    ) -> std::result::Result<String, Applied> {
        let s = self.s;
        if let Err(e) = s.block_on(s.client.delete_user(&self.user.id)) {
            return Err(match s.block_on(s.client.get_user(&self.user.id)) {
                Ok(_) => Applied::NotApplied(e.into()),
                Err(_) => Applied::Unknown(e.into()),
            });
        }
        match s.block_on(s.client.get_user(&self.user.id)) {
            Err(CloudronError::NotFound { .. }) => {
                Ok(format!("{} removed from the Cloudron", self.name))
            }
            Ok(_) => Err(Applied::NotApplied(Error::failed(format!(
                "the Cloudron still lists user {} after deleting it",
                self.name
            )))),
            Err(e) => Err(Applied::Unknown(e.into())),
        }
    }
}

pub fn remove(ctx: &Ctx, journal: &Journal, args: &UserRemoveArgs) -> Result<Vec<Outcome>> {
    let s = Session::open(ctx)?;
    let name = args.name.as_str();
    let Some(user) = find_user(&s, name)? else {
        ctx.out.info(format!(
            "{name} has no Cloudron account: nothing to remove there"
        ));
        return Ok(Vec::new());
    };
    let point = capture(&s, &user.id)?;
    let apps = s.block_on(s.client.list_apps())?;
    let fqdns = |ids: &[String]| -> String {
        let v: Vec<String> = apps
            .iter()
            .filter(|a| ids.contains(&a.id))
            .map(|a| a.fqdn.clone())
            .collect();
        if v.is_empty() {
            "-".into()
        } else {
            v.join(", ")
        }
    };
    let everyone: Vec<String> = apps
        .iter()
        .filter(|a| a.access_restriction.is_none())
        .map(|a| a.fqdn.clone())
        .collect();
    let g = Guarded {
        kind: "user.remove".into(),
        target: format!("user:{name}@cloudron"),
        confirm_name: name.to_string(),
        tier: Tier::Severe,
        impact: vec![
            (
                "Person".into(),
                format!(
                    "{name} <{}> on the Cloudron ({})",
                    user.email,
                    user.role.as_str()
                ),
            ),
            (
                "Groups".into(),
                if point.group_names.is_empty() {
                    "-".into()
                } else {
                    point.group_names.join(", ")
                },
            ),
            ("Apps (by name)".into(), fqdns(&point.apps_by_user)),
            ("Apps (by group)".into(), fqdns(&point.apps_by_group)),
            (
                "Apps (everyone)".into(),
                if everyone.is_empty() {
                    "-".into()
                } else {
                    everyone.join(", ")
                },
            ),
        ],
        steps: vec![
            format!(
                "restore point: the user's record, groups and app access, re-read from the Cloudron"
            ),
            format!("remove: DELETE /api/v1/users/{}, check it is gone", user.id),
            "journal: the operation, its restore point and `matelot undo N`".into(),
        ],
        planned: json!({"change": "user.remove", "side": "cloudron", "username": name, "user_id": user.id}),
        protected: None,
    };
    let mut action = Remove {
        s: &s,
        user: &user,
        name,
    };
    Ok(guard::run(
        ctx,
        journal,
        &g,
        false,
        args.confirm.as_deref(),
        &mut action,
    )?
    .into_iter()
    .collect())
}

struct Recreate<'a> {
    s: &'a Session,
    point: &'a UserPoint,
}

impl Recreate<'_> {
    fn go(&self) -> std::result::Result<String, CloudronError> {
        let (s, u) = (self.s, &self.point.user);
        let new = NewUser {
            email: u.email.clone(),
            username: u.username.clone(),
            display_name: (!u.display_name.is_empty()).then(|| u.display_name.clone()),
            fallback_email: (!u.fallback_email.is_empty()).then(|| u.fallback_email.clone()),
            role: Some(u.role.clone()),
        };
        let id = s.block_on(s.client.create_user(&new))?;
        s.block_on(s.client.set_user_groups(&id, &u.group_ids))?;
        for app_id in &self.point.apps_by_user {
            let app = match s.block_on(s.client.get_app(app_id)) {
                Ok(a) => a,
                Err(CloudronError::NotFound { .. }) => continue,
                Err(e) => return Err(e),
            };
            let mut r = app.access_restriction.clone().unwrap_or_default();
            r.users.retain(|x| x != &u.id);
            if !r.users.contains(&id) {
                r.users.push(id.clone());
            }
            s.block_on(s.client.call_no_content(
                reqwest::Method::POST,
                &["apps", app_id, "configure", "access_restriction"],
                &format!("app {app_id}"),
                json!({ "accessRestriction": r }),
            ))?;
        }
        Ok(format!(
            "{} re-created on the Cloudron (new id {id}; groups {}; access to {} app(s) by name)",
            u.username.clone().unwrap_or_default(),
            self.point.group_names.join(","),
            self.point.apps_by_user.len()
        ))
    }
}

impl Destructive for Recreate<'_> {
    fn restore_point(&mut self, _op: OpId) -> Result<Option<RestorePoint>> {
        Ok(None)
    }

    fn apply(
        &mut self,
        _op: OpId,
        _rp: Option<&RestorePoint>,
    ) -> std::result::Result<String, Applied> {
        self.go().map_err(|e| match e {
            CloudronError::BadRequest { .. } | CloudronError::Busy { .. } => {
                Applied::NotApplied(e.into())
            }
            other => Applied::Unknown(other.into()),
        })
    }
}

/// `matelot undo OP` for a Cloudron `user.remove` (moderate: it re-creates, overwrites nothing).
pub fn undo(
    ctx: &Ctx,
    journal: &Journal,
    op: &Operation,
    yes: bool,
    confirm: Option<&str>,
) -> Result<Option<Outcome>> {
    let rp = op
        .restore_point
        .as_ref()
        .ok_or_else(|| Error::failed(format!("operation {} has no restore point", op.id)))?;
    let point: UserPoint = serde_json::from_value(rp.details.clone()).map_err(|e| {
        Error::failed(format!(
            "operation {}'s restore point cannot be read: {e}",
            op.id
        ))
    })?;
    let name = point.user.username.clone().unwrap_or_default();
    let s = Session::open(ctx)?;
    if find_user(&s, &name)?.is_some() {
        return Err(Error::refused(format!(
            "a Cloudron user {name} exists again; nothing was changed"
        )));
    }
    let g = Guarded {
        kind: "undo".into(),
        target: op.target.clone(),
        confirm_name: name.clone(),
        tier: Tier::Moderate,
        impact: vec![
            (
                "Undoes".into(),
                format!("operation {} ({} {})", op.id, op.kind, op.target),
            ),
            (
                "Person".into(),
                format!(
                    "{name} <{}> ({})",
                    point.user.email,
                    point.user.role.as_str()
                ),
            ),
            ("Groups".into(), point.group_names.join(", ")),
        ],
        steps: vec![
            "POST /api/v1/users with the same username, email, name and role".into(),
            "PUT /api/v1/users/{new id}/groups with the same groups".into(),
            format!(
                "add the new id to the access restriction of {} app(s) that named the user",
                point.apps_by_user.len()
            ),
        ],
        planned: json!({"change": "undo", "undoes": op.id.0, "kind": op.kind, "side": "cloudron", "username": name}),
        protected: None,
    };
    let yes = yes || confirm == Some(name.as_str());
    let mut action = Recreate {
        s: &s,
        point: &point,
    };
    guard::run(ctx, journal, &g, yes, confirm, &mut action)
}

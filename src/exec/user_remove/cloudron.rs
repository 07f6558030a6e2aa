//! A person's Cloudron user: removed (severe: the user's record, group memberships and the
//! apps whose access restriction names them, re-read from the server, first), or re-created
//! from that record by undo (moderate: same username, email, name and role, the groups back,
//! the new id added to the apps that named the old one).

use async_trait::async_trait;
use serde_json::json;

use crate::cloudron::models::{AccessRestriction, NewUser, User};
use crate::cloudron::{Client, CloudronError};
use crate::core::guard::Tier;
use crate::error::Error;
use crate::exec::action::{Action, Applied, Failure, OpCtx};
use crate::journal::{
    CloudronUserPoint, OpId, OpKind, OpPlan, OpResult, RestorePoint, UndoAction, UndoPlan,
    UserRemovePlan,
};

/// Read the user, groups and app access again from the server (the restore point itself).
pub async fn capture(client: &Client, user_id: &str) -> Result<CloudronUserPoint, CloudronError> {
    let (user, groups, apps) = tokio::try_join!(
        client.get_user(user_id),
        client.list_groups(),
        client.list_apps()
    )?;
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
    Ok(CloudronUserPoint {
        user,
        group_names,
        apps_by_user,
        apps_by_group,
    })
}

/// Remove one Cloudron user.
pub struct RemoveCloudronUser {
    pub client: Client,
    pub user: User,
    pub username: String,
}

#[async_trait]
impl Action for RemoveCloudronUser {
    fn plan(&self) -> OpPlan {
        OpPlan::UserRemove(UserRemovePlan::Cloudron {
            username: self.username.clone(),
            user_id: self.user.id.clone(),
        })
    }

    fn target(&self) -> String {
        format!("user:{}@cloudron", self.username)
    }

    fn tier(&self) -> Tier {
        Tier::Severe
    }

    fn confirm_name(&self) -> String {
        self.username.clone()
    }

    async fn restore_point(&self, _op: &OpCtx<'_>) -> Result<Option<RestorePoint>, Error> {
        let point = capture(&self.client, &self.user.id).await?;
        if point.user.id != self.user.id || point.user.username != self.user.username {
            return Err(Error::failed(format!(
                "user {} changed while its restore point was taken",
                self.username
            )));
        }
        Ok(Some(RestorePoint::CloudronUser(point)))
    }

    async fn apply(&self, op: &OpCtx<'_>, _rp: Option<&RestorePoint>) -> Result<Applied, Failure> {
        let c = &self.client;
        if let Err(e) = c.delete_user(&self.user.id).await {
            return Err(match c.get_user(&self.user.id).await {
                Ok(_) => Failure::not_applied(e),
                Err(_) => Failure::unknown(e),
            });
        }
        match c.get_user(&self.user.id).await {
            Err(CloudronError::NotFound { .. }) => {
                let summary = format!("{} removed from the Cloudron", self.username);
                op.record(OpResult::Account {
                    summary: summary.clone(),
                });
                Ok(Applied::done(summary))
            }
            Ok(_) => Err(Failure::NotApplied(Error::failed(format!(
                "the Cloudron still lists user {} after deleting it",
                self.username
            )))),
            Err(e) => Err(Failure::unknown(e)),
        }
    }
}

/// Re-create a removed Cloudron user from its restore point.
pub struct RecreateCloudronUser {
    pub client: Client,
    pub point: CloudronUserPoint,
    pub undoes: (OpId, OpKind),
}

impl RecreateCloudronUser {
    fn username(&self) -> String {
        self.point.user.username.clone().unwrap_or_default()
    }

    async fn go(&self) -> Result<String, CloudronError> {
        let (c, u) = (&self.client, &self.point.user);
        let new = NewUser {
            email: u.email.clone(),
            username: u.username.clone(),
            display_name: (!u.display_name.is_empty()).then(|| u.display_name.clone()),
            fallback_email: (!u.fallback_email.is_empty()).then(|| u.fallback_email.clone()),
            role: Some(u.role.clone()),
        };
        let id = c.create_user(&new).await?;
        c.set_user_groups(&id, &u.group_ids).await?;
        for app_id in &self.point.apps_by_user {
            let app = match c.get_app(app_id).await {
                Ok(a) => a,
                Err(CloudronError::NotFound { .. }) => continue,
                Err(e) => return Err(e),
            };
            let mut r = app.access_restriction.clone().unwrap_or_default();
            r.users.retain(|x| x != &u.id);
            if !r.users.contains(&id) {
                r.users.push(id.clone());
            }
            c.call_no_content(
                reqwest::Method::POST,
                &["apps", app_id, "configure", "access_restriction"],
                &format!("app {app_id}"),
                json!({ "accessRestriction": r }),
            )
            .await?;
        }
        Ok(format!(
            "{} re-created on the Cloudron (new id {id}; groups {}; access to {} app(s) by name)",
            self.username(),
            self.point.group_names.join(","),
            self.point.apps_by_user.len()
        ))
    }
}

#[async_trait]
impl Action for RecreateCloudronUser {
    fn plan(&self) -> OpPlan {
        OpPlan::Undo(UndoPlan {
            undoes: self.undoes.0,
            of_kind: self.undoes.1,
            action: UndoAction::RecreateCloudronUser {
                username: self.username(),
            },
        })
    }

    fn target(&self) -> String {
        format!("user:{}@cloudron", self.username())
    }

    fn tier(&self) -> Tier {
        Tier::Moderate
    }

    fn confirm_name(&self) -> String {
        self.username()
    }

    async fn apply(&self, op: &OpCtx<'_>, _rp: Option<&RestorePoint>) -> Result<Applied, Failure> {
        match self.go().await {
            Ok(summary) => {
                op.record(OpResult::Account {
                    summary: summary.clone(),
                });
                Ok(Applied::done(summary))
            }
            Err(e @ (CloudronError::BadRequest { .. } | CloudronError::Busy { .. })) => {
                Err(Failure::not_applied(e))
            }
            Err(e) => Err(Failure::unknown(e)),
        }
    }
}

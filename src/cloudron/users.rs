//! User and group routes (REFERENCE §3.5), for account provisioning.
//!
//! The ≥ 8 split routes are used (`/users/:id/profile`, `PUT /users/:id/role`,
//! `PUT /users/:id/active`, `PUT /groups/:id/name`). Every mutating call is sent once. Lists
//! are paged until a short page, as the dashboard does. Passwords never come back from the
//! server and are not logged here.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::client::{Client, Request};
use super::error::CloudronError;
use super::models::{Group, GroupsPage, NewUser, Role, User, UsersPage, opt_loose_string};

/// `POST /users/:id/profile`: only the fields that are set are sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback_email: Option<String>,
}

#[derive(Deserialize)]
struct Created {
    #[serde(default, deserialize_with = "opt_loose_string")]
    id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InviteLink {
    #[serde(default)]
    invite_link: String,
}

impl Client {
    /// `GET /users`, every page.
    pub async fn list_users(&self) -> Result<Vec<User>, CloudronError> {
        self.get_all(
            &["users"],
            "the user list",
            &[],
            |p: UsersPage| p.users,
            |u: &User| u.id.as_str(),
        )
        .await
    }

    /// `GET /users/:id`.
    pub async fn get_user(&self, id: &str) -> Result<User, CloudronError> {
        let what = format!("user {id}");
        self.json(&Request::get(&["users", id], &what)).await
    }

    /// `POST /users` (201 `{id}`): the new user's id.
    pub async fn create_user(&self, user: &NewUser) -> Result<String, CloudronError> {
        let created: Created = self
            .call(Method::POST, &["users"], "the user route", user)
            .await?;
        created
            .id
            .filter(|id| !id.is_empty())
            .ok_or_else(|| CloudronError::Protocol {
                action: "POST /users".into(),
                detail: "the answer has no user id".into(),
            })
    }

    /// `DELETE /users/:id` (204).
    pub async fn delete_user(&self, id: &str) -> Result<(), CloudronError> {
        let what = format!("user {id}");
        self.call_no_content(Method::DELETE, &["users", id], &what, serde_json::json!({}))
            .await
    }

    /// `POST /users/:id/profile` (204).
    pub async fn set_profile(
        &self,
        id: &str,
        profile: &ProfileUpdate,
    ) -> Result<(), CloudronError> {
        let what = format!("user {id}");
        self.call_no_content(Method::POST, &["users", id, "profile"], &what, profile)
            .await
    }

    /// `PUT /users/:id/role {role}` (204).
    pub async fn set_role(&self, id: &str, role: &Role) -> Result<(), CloudronError> {
        let what = format!("user {id}");
        let body = serde_json::json!({ "role": role.as_str() });
        self.call_no_content(Method::PUT, &["users", id, "role"], &what, body)
            .await
    }

    /// `PUT /users/:id/active {active}` (204): disable or re-enable logins.
    pub async fn set_active(&self, id: &str, active: bool) -> Result<(), CloudronError> {
        let what = format!("user {id}");
        let body = serde_json::json!({ "active": active });
        self.call_no_content(Method::PUT, &["users", id, "active"], &what, body)
            .await
    }

    /// `PUT /users/:id/groups {groupIds}` (204): the user's complete group list.
    pub async fn set_user_groups(
        &self,
        id: &str,
        group_ids: &[String],
    ) -> Result<(), CloudronError> {
        let what = format!("user {id}");
        let body = serde_json::json!({ "groupIds": group_ids });
        self.call_no_content(Method::PUT, &["users", id, "groups"], &what, body)
            .await
    }

    /// `GET /users/:id/invite_link`: the link a new user follows to set a password.
    pub async fn invite_link(&self, id: &str) -> Result<String, CloudronError> {
        let what = format!("user {id}");
        let link: InviteLink = self
            .json(&Request::get(&["users", id, "invite_link"], &what))
            .await?;
        Ok(link.invite_link)
    }

    /// `POST /users/:id/send_invite_email {email}` (202).
    pub async fn send_invite(&self, id: &str, email: &str) -> Result<(), CloudronError> {
        let what = format!("user {id}");
        let body = serde_json::json!({ "email": email });
        self.call_no_content(
            Method::POST,
            &["users", id, "send_invite_email"],
            &what,
            body,
        )
        .await
    }

    /// `GET /groups`.
    pub async fn list_groups(&self) -> Result<Vec<Group>, CloudronError> {
        let page: GroupsPage = self
            .json(&Request::get(&["groups"], "the group list"))
            .await?;
        Ok(page.groups)
    }

    /// `GET /groups/:id` (the body is the group, whatever the docs say).
    pub async fn get_group(&self, id: &str) -> Result<Group, CloudronError> {
        let what = format!("group {id}");
        self.json(&Request::get(&["groups", id], &what)).await
    }

    /// `POST /groups {name}` (201 `{id, name}`): the new group's id.
    pub async fn create_group(&self, name: &str) -> Result<String, CloudronError> {
        let body = serde_json::json!({ "name": name });
        let created: Created = self
            .call(Method::POST, &["groups"], "the group route", body)
            .await?;
        created
            .id
            .filter(|id| !id.is_empty())
            .ok_or_else(|| CloudronError::Protocol {
                action: "POST /groups".into(),
                detail: "the answer has no group id".into(),
            })
    }

    /// `PUT /groups/:id/members {userIds}`: the group's complete member list.
    pub async fn set_group_members(
        &self,
        id: &str,
        user_ids: &[String],
    ) -> Result<(), CloudronError> {
        let what = format!("group {id}");
        let body = serde_json::json!({ "userIds": user_ids });
        self.call_no_content(Method::PUT, &["groups", id, "members"], &what, body)
            .await
    }

    /// `DELETE /groups/:id` (204).
    pub async fn delete_group(&self, id: &str) -> Result<(), CloudronError> {
        let what = format!("group {id}");
        self.call_no_content(
            Method::DELETE,
            &["groups", id],
            &what,
            serde_json::json!({}),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_update_sends_only_what_changes() {
        let p = ProfileUpdate {
            display_name: Some("Alice Liddell".into()),
            ..ProfileUpdate::default()
        };
        assert_eq!(
            serde_json::to_string(&p).expect("json"),
            r#"{"displayName":"Alice Liddell"}"#
        );
    }
}

//! Cloudron users and groups (REFERENCE §3.5, §4.5), and the body that creates a user.
//!
//! Users invited without a username have `username: null`; such fields become `None` or `""`
//! rather than failing the list. No passwords are modelled on the read side.

use serde::{Deserialize, Serialize};

use super::{null_default, open_enum};

open_enum! {
    /// A user's role, from high to low: owner > admin > usermanager, mailmanager > user.
    Role {
        Owner => "owner",
        Admin => "admin",
        UserManager => "usermanager",
        MailManager => "mailmanager",
        User => "user",
    }
}

/// One user.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// `uid-<uuid>`.
    pub id: String,
    /// `None` until the invited person picks one.
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub email: String,
    #[serde(default, deserialize_with = "null_default")]
    pub fallback_email: String,
    #[serde(default, deserialize_with = "null_default")]
    pub display_name: String,
    #[serde(default, deserialize_with = "null_default")]
    pub group_ids: Vec<String>,
    /// Disabled users cannot log in. Missing means active (the field exists since v5).
    #[serde(default = "yes", deserialize_with = "null_true")]
    pub active: bool,
    /// `""` for local users, `ldap` for users from an external directory.
    #[serde(default, deserialize_with = "null_default")]
    pub source: String,
    #[serde(default, deserialize_with = "null_default")]
    pub role: Role,
    #[serde(default, deserialize_with = "null_default")]
    pub two_factor_authentication_enabled: bool,
    #[serde(default, deserialize_with = "null_default")]
    pub invite_accepted: bool,
}

fn yes() -> bool {
    true
}

fn null_true<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(Option::<bool>::deserialize(d)?.unwrap_or(true))
}

/// One group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    /// `gid-<uuid>`.
    pub id: String,
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    #[serde(default, deserialize_with = "null_default")]
    pub source: String,
    #[serde(default, deserialize_with = "null_default")]
    pub user_ids: Vec<String>,
}

/// The body of `POST /users`. `email` is required; the server invents nothing else.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewUser {
    pub email: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback_email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_parse_with_nulls_and_new_fields() {
        let json = r#"{"users":[
            {"id":"uid-1","username":"alice","email":"alice@example.org","displayName":"Alice",
             "groupIds":["gid-1"],"active":true,"source":"","role":"admin",
             "twoFactorAuthenticationEnabled":false,"inviteAccepted":true,
             "notificationConfig":["appDown"]},
            {"id":"uid-2","username":null,"email":"bob@example.org","displayName":null,
             "groupIds":null,"role":"auditor"}
        ]}"#;
        let page: super::super::UsersPage = serde_json::from_str(json).expect("users");
        let [alice, bob] = &page.users[..] else {
            panic!("two users expected: {page:?}");
        };
        assert_eq!(alice.role, Role::Admin);
        assert_eq!(alice.username.as_deref(), Some("alice"));
        assert_eq!(bob.username, None);
        assert!(bob.active);
        assert_eq!(bob.role, Role::Unknown("auditor".into()));
    }

    #[test]
    fn new_user_body_omits_what_is_not_set() {
        let u = NewUser {
            email: "carol@example.org".into(),
            username: Some("carol".into()),
            role: Some(Role::User),
            ..NewUser::default()
        };
        assert_eq!(
            serde_json::to_string(&u).expect("json"),
            r#"{"email":"carol@example.org","username":"carol","role":"user"}"#
        );
    }

    #[test]
    fn groups_parse() {
        let json = r#"{"groups":[{"id":"gid-1","name":"staff","source":"","userIds":["uid-1"]},{"id":"gid-2","name":"x"}]}"#;
        let page: super::super::GroupsPage = serde_json::from_str(json).expect("groups");
        assert_eq!(page.groups[0].user_ids, vec!["uid-1".to_string()]);
        assert!(page.groups[1].user_ids.is_empty());
    }
}

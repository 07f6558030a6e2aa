//! The Cloudron's users and groups as the planner sees them: the client's wire types
//! (`cloudron::models`) trimmed to [`CloudronFacts`]. A user invited without a username
//! (`null` or `""`) has none; the role is kept as its wire word, unknown roles included (the
//! planner only prunes plain `user`s). Pure.

use crate::cloudron::models::{Group, User};
use crate::core::accounts::{CloudronFacts, CloudronGroup, CloudronUser};

/// Convert the Cloudron's user and group lists.
pub fn cloudron_facts(users: &[User], groups: &[Group]) -> CloudronFacts {
    CloudronFacts {
        users: users
            .iter()
            .map(|u| CloudronUser {
                id: u.id.clone(),
                username: u.username.clone().filter(|n| !n.is_empty()),
                email: u.email.clone(),
                display_name: u.display_name.clone(),
                active: u.active,
                group_ids: u.group_ids.clone(),
                role: u.role.as_str().to_string(),
                source: u.source.clone(),
            })
            .collect(),
        groups: groups
            .iter()
            .map(|g| CloudronGroup {
                id: g.id.clone(),
                name: g.name.clone(),
                user_ids: g.user_ids.clone(),
                source: g.source.clone(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloudron::models::Role;

    #[test]
    fn users_and_groups_are_trimmed_to_facts() {
        let users = vec![
            User {
                id: "uid-1".into(),
                username: Some("alice".into()),
                email: "alice@example.org".into(),
                display_name: "Alice".into(),
                group_ids: vec!["gid-1".into()],
                active: false,
                role: Role::Admin,
                ..User::default()
            },
            User {
                id: "uid-2".into(),
                username: Some(String::new()),
                email: "bob@example.org".into(),
                active: true,
                role: Role::Unknown("auditor".into()),
                source: "ldap".into(),
                ..User::default()
            },
        ];
        let groups = vec![Group {
            id: "gid-1".into(),
            name: "physics".into(),
            source: String::new(),
            user_ids: vec!["uid-1".into()],
        }];
        let f = cloudron_facts(&users, &groups);
        assert_eq!(
            f.users[0],
            CloudronUser {
                id: "uid-1".into(),
                username: Some("alice".into()),
                email: "alice@example.org".into(),
                display_name: "Alice".into(),
                active: false,
                group_ids: vec!["gid-1".into()],
                role: "admin".into(),
                source: String::new(),
            }
        );
        assert_eq!(f.users[1].username, None);
        assert_eq!(f.users[1].role, "auditor");
        assert!(!f.users[1].is_plain_local());
        assert_eq!(
            f.group_names_of(&f.users[0])
                .into_iter()
                .collect::<Vec<_>>(),
            ["physics"]
        );
    }
}

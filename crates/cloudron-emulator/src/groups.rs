//! Group routes: list, add (201 `{id, name}`), get (the object itself), remove (204),
//! members and rename (200 `{}`). Names are validated as box does.

use std::sync::Arc;

use axum::extract::{Path, State};
use serde_json::{Value, json};

use super::http::{ApiError, ApiResult, Body, created, no_content, ok, ok_empty};
use super::model::Group;
use super::state::Shared;
use super::users::RESERVED;

type St = State<Arc<Shared>>;

fn validate_group_name(name: &str) -> Result<String, ApiError> {
    let name = name.to_lowercase();
    if name.is_empty() || name.len() > 200 {
        return Err(ApiError::bad("name must be 1 to 200 characters"));
    }
    if RESERVED.contains(&name.as_str()) {
        return Err(ApiError::bad("Groupname is reserved"));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_')
    {
        return Err(ApiError::bad(
            "Name can only contain alphanumerals, dot, hyphen and underscore",
        ));
    }
    Ok(name)
}

pub async fn list_groups(State(s): St) -> ApiResult {
    let e = s.read();
    let groups: Vec<Value> = e.groups.iter().map(|g| e.group_json(g)).collect();
    ok(json!({ "groups": groups }))
}

/// `POST /groups`: 201 `{id, name}`.
pub async fn add_group(State(s): St, body: Body) -> ApiResult {
    let name = validate_group_name(body.req_str("name")?)?;
    let g = s.mutate(|e| -> Result<Group, ApiError> {
        if e.groups.iter().any(|g| g.name == name) {
            return Err(ApiError::conflict("Group already exists"));
        }
        let g = Group {
            id: format!("gid-{}", uuid::Uuid::new_v4()),
            name: name.clone(),
            source: String::new(),
        };
        e.groups.push(g.clone());
        Ok(g)
    })?;
    created(json!({"id": g.id, "name": g.name}))
}

/// `GET /groups/:id`: the group object itself (the docs wrongly wrap it).
pub async fn get_group(State(s): St, Path(id): Path<String>) -> ApiResult {
    let e = s.read();
    let g = e
        .group(&id)
        .ok_or_else(|| ApiError::not_found("Group not found"))?;
    ok(e.group_json(g))
}

pub async fn remove_group(State(s): St, Path(id): Path<String>) -> ApiResult {
    s.mutate(|e| -> Result<(), ApiError> {
        e.group(&id)
            .ok_or_else(|| ApiError::not_found("Group not found"))?;
        e.groups.retain(|g| g.id != id);
        for u in &mut e.users {
            u.group_ids.retain(|g| g != &id);
        }
        Ok(())
    })?;
    no_content()
}

/// `PUT /groups/:id/members`: 200 `{}`.
pub async fn set_members(State(s): St, Path(id): Path<String>, body: Body) -> ApiResult {
    let ids: Vec<String> = body
        .get("userIds")
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .ok_or_else(|| ApiError::bad("userIds must be an array of strings"))?;
    s.mutate(|e| -> Result<(), ApiError> {
        e.group(&id)
            .ok_or_else(|| ApiError::not_found("Group not found"))?;
        if let Some(missing) = ids.iter().find(|u| e.user(u).is_none()) {
            return Err(ApiError::not_found(format!("User not found: {missing}")));
        }
        for u in &mut e.users {
            let member = ids.contains(&u.id);
            let has = u.group_ids.contains(&id);
            if member && !has {
                u.group_ids.push(id.clone());
            } else if !member && has {
                u.group_ids.retain(|g| g != &id);
            }
        }
        Ok(())
    })?;
    ok_empty()
}

/// `PUT /groups/:id/name`: 200 `{}`.
pub async fn set_group_name(State(s): St, Path(id): Path<String>, body: Body) -> ApiResult {
    let name = validate_group_name(body.req_str("name")?)?;
    s.mutate(|e| -> Result<(), ApiError> {
        if e.groups.iter().any(|g| g.name == name && g.id != id) {
            return Err(ApiError::conflict("Group already exists"));
        }
        let g = e
            .groups
            .iter_mut()
            .find(|g| g.id == id)
            .ok_or_else(|| ApiError::not_found("Group not found"))?;
        g.name = name;
        Ok(())
    })?;
    ok_empty()
}

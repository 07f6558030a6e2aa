//! User routes: list/add/get/remove (201 `{id}`, 204), the split update routes of
//! Cloudron >= 8 (`profile`, `role`, `active`, `groups`) and invites. Usernames are validated
//! as box does, reserved names included. Groups live in `groups`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::Uri;
use serde_json::{Value, json};

use super::factory::{new_event, new_user};
use super::http::{
    ApiError, ApiResult, Body, accepted, created, no_content, now_iso, ok, page_of, paging, query,
};
use super::layers::Caller;
use super::model::{Estate, api_json};
use super::state::Shared;

type St = State<Arc<Shared>>;

pub const RESERVED: &[&str] = &[
    "admin",
    "no-reply",
    "postmaster",
    "mailer-daemon",
    "root",
    "admins",
    "users",
];
const ROLES: &[&str] = &["owner", "admin", "usermanager", "mailmanager", "user"];

/// A username as box accepts it (lowercased).
pub fn validate_username(name: &str) -> Result<String, ApiError> {
    let name = name.to_lowercase();
    if name.is_empty() {
        return Err(ApiError::bad("Username must be atleast 1 char"));
    }
    if name.len() >= 200 {
        return Err(ApiError::bad("Username too long"));
    }
    if RESERVED.contains(&name.as_str()) {
        return Err(ApiError::bad("Username is reserved"));
    }
    // Not `_`: some apps (OpenVPN) cannot use it.
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
    {
        return Err(ApiError::bad(
            "Username can only contain alphanumerals, dot and -",
        ));
    }
    if name.ends_with(".app") {
        return Err(ApiError::bad("Username pattern is reserved for apps"));
    }
    Ok(name)
}

fn validate_email(field: &str, email: &str) -> Result<(), ApiError> {
    let ok = email
        .split_once('@')
        .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.starts_with('.'));
    if ok && !email.contains(char::is_whitespace) {
        Ok(())
    } else {
        Err(ApiError::bad(format!("Invalid {field}")))
    }
}

fn user_json(e: &Estate, id: &str) -> Result<Value, ApiError> {
    e.user(id)
        .map(api_json)
        .ok_or_else(|| ApiError::not_found("User not found"))
}

pub async fn list(State(s): St, uri: Uri) -> ApiResult {
    let q = query(&uri);
    let (page, per_page) = paging(&q)?;
    let search = q.get("search").map(|x| x.to_lowercase());
    let active = q.get("active").map(|a| a == "true");
    let e = s.read();
    let mut users: Vec<&super::model::User> = e
        .users
        .iter()
        .filter(|u| active.is_none_or(|a| u.active == a))
        .filter(|u| {
            search.as_deref().is_none_or(|n| {
                [&u.username, &u.email, &u.display_name]
                    .iter()
                    .any(|f| f.to_lowercase().contains(n))
            })
        })
        .collect();
    users.sort_by(|a, b| a.username.cmp(&b.username));
    let users: Vec<Value> = users.into_iter().map(api_json).collect();
    ok(json!({ "users": page_of(&users, page, per_page) }))
}

pub async fn get(State(s): St, Path(id): Path<String>) -> ApiResult {
    ok(user_json(&s.read(), &id)?)
}

/// `POST /users`: 201 `{id}`.
pub async fn add(State(s): St, caller: Caller, body: Body) -> ApiResult {
    let email = body
        .opt_str("email")?
        .ok_or_else(|| ApiError::bad("email must be a string"))?
        .to_string();
    validate_email("email", &email)?;
    let username = body
        .opt_str("username")?
        .map(validate_username)
        .transpose()?;
    let display_name = body.opt_str("displayName")?.unwrap_or_default().to_string();
    let fallback = body
        .opt_str("fallbackEmail")?
        .unwrap_or_default()
        .to_string();
    if !fallback.is_empty() {
        validate_email("fallbackEmail", &fallback)?;
    }
    if let Some(p) = body.opt_str("password")?
        && p.chars().count() < 8
    {
        return Err(ApiError::bad("Password must be atleast 8 characters"));
    }
    let role = body.opt_str("role")?.unwrap_or("user").to_string();
    if !ROLES.contains(&role.as_str()) {
        return Err(ApiError::bad("Invalid role"));
    }
    let id = s.mutate(|e| -> Result<String, ApiError> {
        if let Some(name) = &username
            && e.users.iter().any(|u| &u.username == name)
        {
            return Err(ApiError::conflict("Username already exists"));
        }
        if e.users.iter().any(|u| u.email.eq_ignore_ascii_case(&email)) {
            return Err(ApiError::conflict("Email already exists"));
        }
        let now = now_iso();
        let mut u = new_user(
            username.as_deref().unwrap_or_default(),
            &email,
            &display_name,
            &role,
            now.clone(),
        );
        u.fallback_email = fallback;
        u.invite_accepted = false;
        let id = u.id.clone();
        let source = caller.source(&e.owner_id);
        e.events.push(new_event(
            "user.add",
            &source,
            json!({"userId": id, "email": email, "user": {"username": u.username}}),
            now,
        ));
        e.users.push(u);
        Ok(id)
    })?;
    created(json!({ "id": id }))
}

/// `DELETE /users/:id`: 204; 409 for the token's own user.
pub async fn remove(State(s): St, Path(id): Path<String>, caller: Caller) -> ApiResult {
    s.mutate(|e| -> Result<(), ApiError> {
        let u = e
            .user(&id)
            .ok_or_else(|| ApiError::not_found("User not found"))?
            .clone();
        if u.id == e.owner_id {
            return Err(ApiError::conflict("Not allowed to remove yourself."));
        }
        e.users.retain(|x| x.id != id);
        let source = caller.source(&e.owner_id);
        e.events.push(new_event(
            "user.remove",
            &source,
            json!({"userId": id, "user": {"username": u.username, "email": u.email}}),
            now_iso(),
        ));
        Ok(())
    })?;
    no_content()
}

/// Apply a change to one user and log `user.update`.
fn update_user(
    s: &Shared,
    caller: &Caller,
    id: &str,
    change: impl FnOnce(&mut Estate, bool) -> Result<Value, ApiError>,
) -> Result<(), ApiError> {
    s.mutate(|e| -> Result<(), ApiError> {
        e.user(id)
            .ok_or_else(|| ApiError::not_found("User not found"))?;
        let is_self = id == e.owner_id;
        let what = change(e, is_self)?;
        let source = caller.source(&e.owner_id);
        e.events.push(new_event(
            "user.update",
            &source,
            json!({"userId": id, "changes": what}),
            now_iso(),
        ));
        Ok(())
    })
}

/// `POST /users/:id/profile`: 204.
pub async fn set_profile(
    State(s): St,
    Path(id): Path<String>,
    caller: Caller,
    body: Body,
) -> ApiResult {
    let email = body.opt_str("email")?.map(str::to_string);
    let display = body.opt_str("displayName")?.map(str::to_string);
    let fallback = body.opt_str("fallbackEmail")?.map(str::to_string);
    if let Some(m) = &email {
        validate_email("email", m)?;
    }
    if let Some(m) = fallback.as_ref().filter(|m| !m.is_empty()) {
        validate_email("fallbackEmail", m)?;
    }
    update_user(&s, &caller, &id, |e, _| {
        if let Some(m) = &email
            && e.users
                .iter()
                .any(|u| u.id != id && u.email.eq_ignore_ascii_case(m))
        {
            return Err(ApiError::conflict("Email already exists"));
        }
        let u = e
            .user_mut(&id)
            .ok_or_else(|| ApiError::not_found("User not found"))?;
        if let Some(m) = email {
            u.email = m;
        }
        if let Some(d) = display {
            u.display_name = d;
        }
        if let Some(f) = fallback {
            u.fallback_email = f;
        }
        Ok(Value::Object(body.0.clone()))
    })?;
    no_content()
}

pub async fn set_role(
    State(s): St,
    Path(id): Path<String>,
    caller: Caller,
    body: Body,
) -> ApiResult {
    let role = body
        .opt_str("role")?
        .filter(|r| ROLES.contains(r))
        .ok_or_else(|| {
            ApiError::bad("role must be one of owner, admin, usermanager, mailmanager, user")
        })?
        .to_string();
    update_user(&s, &caller, &id, |e, is_self| {
        if is_self {
            return Err(ApiError::conflict("Cannot change your own role"));
        }
        if let Some(u) = e.user_mut(&id) {
            u.role = role.clone();
        }
        Ok(json!({ "role": role }))
    })?;
    no_content()
}

pub async fn set_active(
    State(s): St,
    Path(id): Path<String>,
    caller: Caller,
    body: Body,
) -> ApiResult {
    let active = body
        .opt_bool("active")?
        .ok_or_else(|| ApiError::bad("active is required"))?;
    update_user(&s, &caller, &id, |e, is_self| {
        if is_self && !active {
            return Err(ApiError::conflict("Cannot deactivate yourself"));
        }
        if let Some(u) = e.user_mut(&id) {
            u.active = active;
        }
        Ok(json!({ "active": active }))
    })?;
    no_content()
}

pub async fn set_groups(
    State(s): St,
    Path(id): Path<String>,
    caller: Caller,
    body: Body,
) -> ApiResult {
    let ids: Vec<String> = body
        .get("groupIds")
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .ok_or_else(|| ApiError::bad("groupIds must be an array of strings"))?;
    update_user(&s, &caller, &id, |e, _| {
        if let Some(missing) = ids.iter().find(|g| e.group(g).is_none()) {
            return Err(ApiError::not_found(format!("Group not found: {missing}")));
        }
        if let Some(u) = e.user_mut(&id) {
            u.group_ids.clear();
            for g in &ids {
                if !u.group_ids.contains(g) {
                    u.group_ids.push(g.clone());
                }
            }
        }
        Ok(json!({ "groupIds": ids }))
    })?;
    no_content()
}

pub async fn invite_link(State(s): St, Path(id): Path<String>) -> ApiResult {
    let e = s.read();
    let u = e
        .user(&id)
        .ok_or_else(|| ApiError::not_found("User not found"))?;
    let token = super::model::digest(&[&u.id, "invite"]);
    let link = url::Url::parse_with_params(
        &format!("https://{}/setupaccount.html", e.dashboard_fqdn),
        &[
            ("inviteToken", token.as_str()),
            ("email", u.email.as_str()),
            ("username", u.username.as_str()),
            ("displayName", u.display_name.as_str()),
        ],
    )
    .map(String::from)
    .map_err(|err| {
        ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            err.to_string(),
        )
    })?;
    ok(json!({ "inviteLink": link }))
}

/// `POST /users/:id/send_invite_email`: 202 `{}`.
pub async fn send_invite(State(s): St, Path(id): Path<String>, body: Body) -> ApiResult {
    let email = body
        .opt_str("email")?
        .filter(|m| !m.is_empty())
        .ok_or_else(|| ApiError::bad("email must be a non-empty string"))?;
    validate_email("email", email)?;
    s.read()
        .user(&id)
        .ok_or_else(|| ApiError::not_found("User not found"))?;
    accepted(json!({}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_follow_box_rules() {
        let cases = [
            ("Camille", Ok("camille")),
            ("jean.luc-2", Ok("jean.luc-2")),
            ("admin", Err("Username is reserved")),
            ("no-reply", Err("Username is reserved")),
            ("Users", Err("Username is reserved")),
            ("", Err("Username must be atleast 1 char")),
            (
                "a b",
                Err("Username can only contain alphanumerals, dot and -"),
            ),
            (
                "a_b",
                Err("Username can only contain alphanumerals, dot and -"),
            ),
            ("wiki.app", Err("Username pattern is reserved for apps")),
        ];
        for (input, want) in cases {
            let got = validate_username(input).map_err(|e| e.message);
            assert_eq!(got.as_deref().map_err(String::as_str), want, "{input:?}");
        }
    }

    #[test]
    fn emails_need_a_local_part_and_a_dotted_domain() {
        assert!(validate_email("email", "a@example.org").is_ok());
        for bad in ["a", "@example.org", "a@localhost", "a b@example.org"] {
            assert!(validate_email("email", bad).is_err(), "{bad}");
        }
    }
}

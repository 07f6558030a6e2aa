//! The route table. Authenticated routes get the token check; `cloudron/status` is public.
//! Anything else, including an unsupported method on a known path (`DELETE /apps/:id`), is
//! 404 "No such route" without looking at the token, as Express answers on a real box.

use std::sync::Arc;

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::{delete, get, post, put};

use super::http::ApiError;
use super::state::Shared;
use super::{app_ops, apps, backups, control, groups, layers, system, users};

async fn no_such_route() -> ApiError {
    ApiError::no_such_route()
}

/// Build the whole router over the shared state.
pub fn build(shared: Arc<Shared>) -> Router {
    let api = Router::new()
        // platform
        .route("/api/v1/dashboard/config", get(system::dashboard_config))
        .route("/api/v1/system/info", get(system::system_info))
        .route("/api/v1/system/memory", get(system::system_memory))
        .route("/api/v1/system/disk_usage", get(system::disk_usage))
        .route("/api/v1/services", get(system::services))
        .route(
            "/api/v1/services/platform_status",
            get(system::platform_status),
        )
        .route("/api/v1/services/{name}", get(system::service))
        .route("/api/v1/eventlog", get(system::eventlog))
        .route("/api/v1/eventlog/{id}", get(system::event))
        .route("/api/v1/profile", get(system::profile))
        // apps
        .route("/api/v1/apps", get(apps::list).post(apps::install))
        .route("/api/v1/apps/{id}", get(apps::get))
        .route("/api/v1/apps/{id}/clone", post(apps::clone))
        .route(
            "/api/v1/apps/{id}/configure/{setting}",
            post(apps::configure),
        )
        .route("/api/v1/apps/{id}/eventlog", get(apps::eventlog))
        .route("/api/v1/apps/{id}/uninstall", post(app_ops::uninstall))
        .route("/api/v1/apps/{id}/restore", post(app_ops::restore))
        .route("/api/v1/apps/{id}/backup", post(app_ops::backup))
        .route("/api/v1/apps/{id}/start", post(app_ops::start))
        .route("/api/v1/apps/{id}/stop", post(app_ops::stop))
        .route("/api/v1/apps/{id}/restart", post(app_ops::restart))
        .route("/api/v1/apps/{id}/update", post(app_ops::update))
        .route("/api/v1/apps/{id}/backups", get(app_ops::backups))
        .route(
            "/api/v1/apps/{id}/backups/{backup}",
            post(app_ops::update_backup),
        )
        .route("/api/v1/apps/{id}/task", get(app_ops::task))
        // platform backups and tasks
        .route("/api/v1/backups", get(backups::list))
        .route("/api/v1/backups/create", post(backups::create))
        .route("/api/v1/backups/cleanup", post(backups::cleanup))
        .route(
            "/api/v1/backups/policy",
            get(backups::get_policy).post(backups::set_policy),
        )
        .route("/api/v1/backups/config", get(backups::config))
        .route("/api/v1/backups/mount_status", get(backups::mount_status))
        .route("/api/v1/backups/{id}", post(backups::update))
        .route("/api/v1/tasks", get(backups::list_tasks))
        .route("/api/v1/tasks/{id}", get(backups::get_task))
        .route("/api/v1/tasks/{id}/stop", post(backups::stop_task))
        .route("/api/v1/tasks/{id}/logs", get(backups::task_logs))
        // users and groups
        .route("/api/v1/users", get(users::list).post(users::add))
        .route("/api/v1/users/{id}", get(users::get).delete(users::remove))
        .route("/api/v1/users/{id}/profile", post(users::set_profile))
        .route("/api/v1/users/{id}/role", put(users::set_role))
        .route("/api/v1/users/{id}/active", put(users::set_active))
        .route("/api/v1/users/{id}/groups", put(users::set_groups))
        .route("/api/v1/users/{id}/invite_link", get(users::invite_link))
        .route(
            "/api/v1/users/{id}/send_invite_email",
            post(users::send_invite),
        )
        .route(
            "/api/v1/groups",
            get(groups::list_groups).post(groups::add_group),
        )
        .route(
            "/api/v1/groups/{id}",
            get(groups::get_group).delete(groups::remove_group),
        )
        .route("/api/v1/groups/{id}/members", put(groups::set_members))
        .route("/api/v1/groups/{id}/name", put(groups::set_group_name))
        // the lab's control surface
        .route(
            "/__lab/faults",
            get(control::list_faults)
                .post(control::add_fault)
                .delete(control::clear_faults),
        )
        .route("/__lab/faults/{id}", delete(control::remove_fault))
        .route("/__lab/requests", get(control::requests))
        .route("/__lab/state", get(control::state))
        .route("/__lab/reset", post(control::reset))
        .route("/__lab/apps/{id}/use", post(control::use_app))
        .route("/__lab/apps/{id}/health", post(control::set_health))
        .route("/__lab/disk", post(control::set_disk))
        .route("/__lab/services/{name}", post(control::set_service))
        .route("/__lab/backups/{id}", post(control::set_backup))
        .route_layer(from_fn_with_state(
            Arc::clone(&shared),
            layers::require_token,
        ));
    api.route("/api/v1/cloudron/status", get(system::status))
        .fallback(no_such_route)
        .method_not_allowed_fallback(no_such_route)
        .layer(from_fn_with_state(Arc::clone(&shared), layers::lab_layer))
        .with_state(shared)
}

//! Platform status routes (REFERENCE §3.1, §4.6), for `health` and for saying where matelot
//! is connected: version (public), dashboard config, machine info, memory, disks, services.
//!
//! Read-only: every call here is a GET, so every one is retried on transient failures.

use super::client::{Client, Request};
use super::error::CloudronError;
use super::models::system::{DashboardConfigWire, DiskUsageWire, ServiceWire, ServicesWire};
use super::models::{
    DashboardConfig, DiskUsage, Memory, PlatformStatus, Service, Status, SystemInfo,
};

impl Client {
    /// `GET /cloudron/status` (no token needed): the platform version; a liveness probe.
    pub async fn status(&self) -> Result<Status, CloudronError> {
        let req = Request {
            auth: false,
            ..Request::get(&["cloudron", "status"], "the status route")
        };
        self.json(&req).await
    }

    /// `GET /dashboard/config`.
    pub async fn dashboard_config(&self) -> Result<DashboardConfig, CloudronError> {
        let wire: DashboardConfigWire = self
            .json(&Request::get(
                &["dashboard", "config"],
                "the dashboard config",
            ))
            .await?;
        Ok(wire.into_config())
    }

    /// `GET /system/info`.
    pub async fn system_info(&self) -> Result<SystemInfo, CloudronError> {
        self.json(&Request::get(&["system", "info"], "the system info"))
            .await
    }

    /// `GET /system/memory`.
    pub async fn memory(&self) -> Result<Memory, CloudronError> {
        self.json(&Request::get(&["system", "memory"], "the memory info"))
            .await
    }

    /// `GET /system/disk_usage`: `None` before the server's first measurement.
    pub async fn disk_usage(&self) -> Result<Option<DiskUsage>, CloudronError> {
        let wire: DiskUsageWire = self
            .json(&Request::get(&["system", "disk_usage"], "the disk usage"))
            .await?;
        Ok(wire.usage)
    }

    /// `GET /services/platform_status`: `Ready`, or what the platform is busy with.
    pub async fn platform_status(&self) -> Result<PlatformStatus, CloudronError> {
        self.json(&Request::get(
            &["services", "platform_status"],
            "the platform status",
        ))
        .await
    }

    /// `GET /services`: service names.
    pub async fn list_services(&self) -> Result<Vec<String>, CloudronError> {
        let wire: ServicesWire = self
            .json(&Request::get(&["services"], "the service list"))
            .await?;
        Ok(wire.names())
    }

    /// `GET /services/:name` (wrapped in `{service}` or not).
    pub async fn get_service(&self, name: &str) -> Result<Service, CloudronError> {
        let what = format!("service {name}");
        let wire: ServiceWire = self.json(&Request::get(&["services", name], &what)).await?;
        let mut service = wire.into_service();
        if service.name.is_empty() {
            service.name = name.to_string();
        }
        Ok(service)
    }
}

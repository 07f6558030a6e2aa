//! The emulator's small App Store: realistic CloudronManifest objects for the apps the demo
//! estate runs and a few more to install. `POST /apps` with an `appStoreId` that is not here
//! fails as a real Cloudron does for an unknown store id.
//!
//! A uniform table; no behaviour beyond building manifests.

use serde_json::{Value, json};

/// One store entry.
pub struct StoreApp {
    pub id: &'static str,
    pub title: &'static str,
    pub version: &'static str,
    pub upstream: &'static str,
    pub tagline: &'static str,
    pub website: &'static str,
    pub addons: &'static [&'static str],
    pub memory_mib: u64,
    /// Typical data size, for disk usage.
    pub usage_mib: u64,
}

pub const STORE: &[StoreApp] = &[
    StoreApp {
        id: "org.matomo.cloudronapp",
        title: "Matomo",
        version: "1.58.2",
        upstream: "5.3.2",
        tagline: "Web analytics that respects privacy",
        website: "https://matomo.org",
        addons: &["localstorage", "mysql", "sendmail", "ldap"],
        memory_mib: 512,
        usage_mib: 3_400,
    },
    StoreApp {
        id: "com.nextcloud.cloudronapp",
        title: "Nextcloud",
        version: "5.4.1",
        upstream: "31.0.7",
        tagline: "Sync and share your files",
        website: "https://nextcloud.com",
        addons: &[
            "localstorage",
            "postgresql",
            "redis",
            "sendmail",
            "ldap",
            "scheduler",
        ],
        memory_mib: 1024,
        usage_mib: 48_000,
    },
    StoreApp {
        id: "chat.rocket.cloudronapp",
        title: "Rocket.Chat",
        version: "2.53.0",
        upstream: "7.8.0",
        tagline: "Team chat",
        website: "https://rocket.chat",
        addons: &["localstorage", "mongodb", "sendmail", "ldap"],
        memory_mib: 1024,
        usage_mib: 6_200,
    },
    StoreApp {
        id: "org.wordpress.cloudronapp",
        title: "WordPress (Developer)",
        version: "3.28.0",
        upstream: "6.8.2",
        tagline: "Blog and website builder",
        website: "https://wordpress.org",
        addons: &["localstorage", "mysql", "sendmail", "ldap"],
        memory_mib: 256,
        usage_mib: 1_900,
    },
    StoreApp {
        id: "js.wiki.cloudronapp",
        title: "Wiki.js",
        version: "1.12.0",
        upstream: "2.5.307",
        tagline: "A modern and powerful wiki",
        website: "https://js.wiki",
        addons: &["localstorage", "postgresql", "sendmail", "ldap"],
        memory_mib: 512,
        usage_mib: 800,
    },
    StoreApp {
        id: "io.gitea.cloudronapp",
        title: "Gitea",
        version: "1.38.1",
        upstream: "1.24.3",
        tagline: "Painless self-hosted Git service",
        website: "https://gitea.io",
        addons: &["localstorage", "mysql", "sendmail", "ldap"],
        memory_mib: 256,
        usage_mib: 2_700,
    },
    StoreApp {
        id: "io.cloudron.surfer",
        title: "Surfer",
        version: "6.2.0",
        upstream: "6.2.0",
        tagline: "Simple static file server",
        website: "https://git.cloudron.io/cloudron/surfer",
        addons: &["localstorage", "ldap"],
        memory_mib: 128,
        usage_mib: 50,
    },
    StoreApp {
        id: "com.github.bitwardenrs",
        title: "Vaultwarden",
        version: "1.33.4",
        upstream: "1.34.3",
        tagline: "Bitwarden compatible password manager",
        website: "https://github.com/dani-garcia/vaultwarden",
        addons: &["localstorage", "postgresql", "sendmail"],
        memory_mib: 256,
        usage_mib: 120,
    },
    StoreApp {
        id: "io.hedgedoc.cloudronapp",
        title: "HedgeDoc",
        version: "1.9.5",
        upstream: "1.10.3",
        tagline: "Collaborative markdown editor",
        website: "https://hedgedoc.org",
        addons: &["localstorage", "postgresql", "ldap"],
        memory_mib: 256,
        usage_mib: 300,
    },
    StoreApp {
        id: "io.n8n.cloudronapp",
        title: "n8n",
        version: "3.80.0",
        upstream: "1.105.2",
        tagline: "Workflow automation",
        website: "https://n8n.io",
        addons: &["localstorage", "postgresql", "sendmail"],
        memory_mib: 1024,
        usage_mib: 700,
    },
];

/// The store entry for an id (`id` or `id@version`).
pub fn find(app_store_id: &str) -> Option<&'static StoreApp> {
    let id = app_store_id.split('@').next().unwrap_or_default();
    STORE.iter().find(|a| a.id == id)
}

/// The manifest of a store app at a version (its current one when `None`).
pub fn manifest(app: &StoreApp, version: Option<&str>) -> Value {
    let version = version.unwrap_or(app.version);
    let addons: serde_json::Map<String, Value> = app
        .addons
        .iter()
        .map(|a| ((*a).to_string(), json!({})))
        .collect();
    json!({
        "id": app.id,
        "title": app.title,
        "author": format!("{} Authors", app.title),
        "tagline": app.tagline,
        "description": format!("file://DESCRIPTION.md"),
        "version": version,
        "upstreamVersion": app.upstream,
        "manifestVersion": 2,
        "website": app.website,
        "contactEmail": "support@cloudron.io",
        "icon": "file://logo.png",
        "tags": ["productivity"],
        "httpPort": 8000,
        "healthCheckPath": "/",
        "addons": addons,
        "memoryLimit": app.memory_mib * 1024 * 1024,
        "minBoxVersion": "8.0.0",
        "dockerImage": format!("cloudron/{}:{}", app.id, version.replace('.', "-")),
        "postInstallMessage": "",
        "changelog": format!("file://CHANGELOG.md"),
    })
}

/// A rough data size for an app, for `system/disk_usage`.
pub fn usage_bytes(app_store_id: &str) -> u64 {
    find(app_store_id).map_or(200, |a| a.usage_mib) * 1024 * 1024
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_accepts_a_version_suffix() {
        assert_eq!(
            find("org.matomo.cloudronapp@1.2.3").map(|a| a.title),
            Some("Matomo")
        );
        assert!(find("com.example.nothing").is_none());
    }

    #[test]
    fn manifest_carries_id_title_and_version() {
        let Some(app) = find("io.gitea.cloudronapp") else {
            panic!("gitea is in the store")
        };
        let m = manifest(app, Some("1.40.0"));
        assert_eq!(m["id"], "io.gitea.cloudronapp");
        assert_eq!(m["title"], "Gitea");
        assert_eq!(m["version"], "1.40.0");
        assert_eq!(m["manifestVersion"], 2);
    }
}

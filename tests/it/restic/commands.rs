//! The `backup run|list|prune` compute functions, through a real configuration file and the
//! shared sandbox.

use matelot::compute::restic::Restic;
use matelot::lab::sandbox::SandboxHost;

use super::{connect, sh, workdir};
use crate::common_sandbox::shared;

fn ctx_for(
    h: &SandboxHost,
    local: &std::path::Path,
    remote: &str,
    repo: &str,
    check: bool,
) -> matelot::Ctx {
    let toml = format!(
        r#"[compute.{name}]
host = "{addr}"
port = {port}
user = "root"
identity = "{key}"
known_hosts = "{kh}"

[backup.compute]
repository = "{repo}"
password_file = "{remote}/pw"
paths = ["{remote}/data"]
keep = {{ daily = 1 }}
"#,
        name = h.name,
        addr = h.addr,
        port = h.port,
        key = h.client_key.display(),
        kh = h.known_hosts.display(),
    );
    let file = local.join("matelot.toml");
    std::fs::write(&file, toml).expect("write config");
    matelot::Ctx::new(
        matelot::Settings {
            config: Some(file),
            state_dir: Some(local.join("state")),
            json: true,
            quiet: true,
            verbose: 0,
            color: matelot::output::ColorChoice::Never,
            no_input: true,
            check,
        },
        matelot::interrupt::Interrupt::manual(),
    )
}

#[test]
fn backup_run_list_and_prune_over_the_configured_hosts() {
    let h = shared();
    let local = tempfile::tempdir().expect("tempdir");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let remote = rt.block_on(async {
        let s = connect(h).await;
        let (dir, repo) = workdir(&s, "cmd").await;
        sh(&s, r#"mkdir "$1/data" && echo one > "$1/data/a""#, &[&dir]).await;
        Restic::new(&s, repo).init_if_missing().await.expect("init");
        dir
    });
    rt.block_on(commands(h, local.path(), &remote));
}

async fn commands(h: &SandboxHost, local: &std::path::Path, remote: &str) {
    use matelot::commands::backup::compute as backup_compute;
    let remote = remote.to_string();
    let ctx = ctx_for(h, local, &remote, &format!("{remote}/repo"), false);

    let e = backup_compute::verify(&ctx, None, None)
        .await
        .expect_err("nothing to verify yet");
    assert_eq!(e.exit_code(), 1);
    assert!(e.to_string().contains("no nightly snapshot of"), "{e}");

    let report = backup_compute::backup_hosts(&ctx, None).await.expect("run");
    assert_eq!(report.repository, format!("{remote}/repo"));
    assert_eq!(report.hosts.len(), 1);
    let first = &report.hosts[0];
    assert_eq!(
        (first.host.as_str(), first.status),
        ("shared", "ok"),
        "{:?}",
        first.error
    );
    assert_eq!(first.snapshot_id.as_deref().map(str::len), Some(64));
    assert_eq!((first.files, first.bytes), (1, 4));
    let json = serde_json::to_value(&report).expect("json");
    assert_eq!(json["hosts"][0]["status"], "ok");
    assert!(json["hosts"][0].get("failure").is_none());

    let second = backup_compute::backup_hosts(&ctx, Some("shared"))
        .await
        .expect("run again");
    assert_eq!(second.hosts[0].status, "ok");
    let check = ctx_for(h, local, &remote, &format!("{remote}/repo"), true);
    let planned = backup_compute::backup_hosts(&check, None)
        .await
        .expect("check");
    assert_eq!(planned.hosts[0].status, "would_back_up");

    let verified = backup_compute::verify_hosts(&ctx, None, Some("1/1"))
        .await
        .expect("verify");
    assert_eq!(verified[0].error, None);
    assert_eq!(
        verified[0].snapshot_id, second.hosts[0].snapshot_id,
        "the newest"
    );
    assert!(verified[0].age_secs.is_some_and(|a| (0..600).contains(&a)));
    assert_eq!(verified[0].data_checked.as_deref(), Some("1/1"));

    let listed = backup_compute::list_hosts(&ctx, None).await.expect("list");
    assert_eq!(listed[0].snapshots.len(), 2, "--check took no snapshot");
    assert!(
        listed[0]
            .snapshots
            .iter()
            .all(|s| s.tags == ["matelot", "nightly"])
    );

    // keep = { daily = 1 }: both are from today, one goes. --check only says so.
    // (Consent for a real prune is the one path's business: `backup prune` without --yes
    // is refused by the command, tested over the binary.)
    backup_compute::prune(&check, None).await.expect("dry run");
    assert_eq!(
        backup_compute::list_hosts(&ctx, None).await.expect("list")[0]
            .snapshots
            .len(),
        2
    );
    backup_compute::prune(&ctx, None).await.expect("prune");
    let left = backup_compute::list_hosts(&ctx, None).await.expect("list");
    assert_eq!(left[0].snapshots.len(), 1);
    assert_eq!(
        left[0].snapshots[0].id.as_str(),
        second.hosts[0].snapshot_id.as_deref().unwrap_or_default()
    );

    let e = backup_compute::run(&ctx, Some("nope"))
        .await
        .expect_err("unknown host");
    assert_eq!(e.exit_code(), 2);
    // A repository that is gone: exit 1, and the message says how to create it.
    let gone = ctx_for(h, local, &remote, &format!("{remote}/gone"), false);
    let e = backup_compute::run(&gone, None)
        .await
        .expect_err("missing repository");
    assert_eq!(e.exit_code(), 1);
    assert!(
        e.to_string().contains(&format!(
            "restic -r {remote}/gone --password-file {remote}/pw init"
        )),
        "{e}"
    );
    ctx.close().await;
    check.close().await;
    gone.close().await;
}

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
    matelot::Ctx::new(matelot::cli::GlobalArgs {
        config: Some(file),
        state_dir: Some(local.join("state")),
        json: true,
        quiet: true,
        verbose: 0,
        color: matelot::output::ColorChoice::Never,
        no_input: true,
        check,
    })
}

#[test]
fn backup_run_list_and_prune_over_the_configured_hosts() {
    use matelot::commands::backup_compute;
    let h = shared();
    let local = tempfile::tempdir().expect("tempdir");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let remote = rt.block_on(async {
        let s = connect(h).await;
        let (dir, repo) = workdir(&s, "cmd").await;
        sh(&s, r#"mkdir "$1/data" && echo one > "$1/data/a""#, &[&dir]).await;
        Restic::new(&s, repo).init_if_missing().await.expect("init");
        dir
    });
    drop(rt);
    let ctx = ctx_for(h, local.path(), &remote, &format!("{remote}/repo"), false);

    let e = backup_compute::verify(&ctx, None, None).expect_err("nothing to verify yet");
    assert_eq!(e.exit_code(), 1);
    assert!(e.to_string().contains("no nightly snapshot of"), "{e}");

    let report = backup_compute::collect_run(&ctx, None).expect("run");
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

    let second = backup_compute::collect_run(&ctx, Some("shared")).expect("run again");
    assert_eq!(second.hosts[0].status, "ok");
    let check = ctx_for(h, local.path(), &remote, &format!("{remote}/repo"), true);
    let planned = backup_compute::collect_run(&check, None).expect("check");
    assert_eq!(planned.hosts[0].status, "would_back_up");

    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let verified = rt
        .block_on(backup_compute::verify_hosts(&ctx, None, Some("1/1")))
        .expect("verify");
    drop(rt);
    assert_eq!(verified[0].error, None);
    assert_eq!(
        verified[0].snapshot_id, second.hosts[0].snapshot_id,
        "the newest"
    );
    assert!(verified[0].age_secs.is_some_and(|a| (0..600).contains(&a)));
    assert_eq!(verified[0].data_checked.as_deref(), Some("1/1"));

    let listed = backup_compute::collect_list(&ctx, None).expect("list");
    assert_eq!(listed[0].snapshots.len(), 2, "--check took no snapshot");
    assert!(
        listed[0]
            .snapshots
            .iter()
            .all(|s| s.tags == ["matelot", "nightly"])
    );

    // keep = { daily = 1 }: both are from today, one goes. --check only says so.
    backup_compute::prune(&check, None, false).expect("dry run needs no consent");
    assert_eq!(
        backup_compute::collect_list(&ctx, None).expect("list")[0]
            .snapshots
            .len(),
        2
    );
    let e = backup_compute::prune(&ctx, None, false).expect_err("no terminal, no --yes");
    assert_eq!(e.exit_code(), 3);
    backup_compute::prune(&ctx, None, true).expect("prune");
    let left = backup_compute::collect_list(&ctx, None).expect("list");
    assert_eq!(left[0].snapshots.len(), 1);
    assert_eq!(
        left[0].snapshots[0].id.as_str(),
        second.hosts[0].snapshot_id.as_deref().unwrap_or_default()
    );

    let e = backup_compute::run(&ctx, Some("nope")).expect_err("unknown host");
    assert_eq!(e.exit_code(), 2);
    // A repository that is gone: exit 1, and the message says how to create it.
    let gone = ctx_for(h, local.path(), &remote, &format!("{remote}/gone"), false);
    let e = backup_compute::run(&gone, None).expect_err("missing repository");
    assert_eq!(e.exit_code(), 1);
    assert!(
        e.to_string().contains(&format!(
            "restic -r {remote}/gone --password-file {remote}/pw init"
        )),
        "{e}"
    );
}

//! How fast matelot reads a large Cloudron: a 200-app estate served by the lab's emulator over
//! loopback HTTPS, read by the release binary the way an operator or a monitoring job would.
//!
//! Prints the figures (no statistics framework: a handful of wall-clock measurements, min,
//! median, p95, max) for `docs/performance.md`. Run with `cargo bench --bench cloudron`
//! (or `scripts/bench-cloudron`). Target: the whole estate's status in under 0.3 s.
//! Under `cargo test --all-targets` (no `--bench` argument) it runs once on a small estate, as
//! a smoke test, so CI keeps it working without paying for the measurement.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use cloudron_emulator::{EmulatorOptions, spawn};
use futures::StreamExt;
use matelot::cloudron::Client;
use matelot::config::{CloudronConfig, Origin, Secret};
use secrecy::SecretString;

const BIN: &str = env!("CARGO_BIN_EXE_matelot");
const FULL_APPS: usize = 200;
/// The demo seed has six apps; the rest are generated.
const DEMO_APPS: usize = 6;

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (apps, runs) = if full {
        (FULL_APPS, 20)
    } else {
        (DEMO_APPS + 4, 2)
    };
    let dir = tempfile::Builder::new()
        .prefix("matelot-bench-")
        .tempdir()
        .expect("temp dir");
    let emu = spawn(EmulatorOptions {
        extra_apps: apps - DEMO_APPS,
        dir: Some(dir.path().to_path_buf()),
        ..EmulatorOptions::default()
    })
    .expect("start the emulator");
    let ca = emu.ca_file.clone().expect("CA file");
    std::fs::write(dir.path().join("token"), format!("{}\n", emu.token)).expect("token");
    set_private(&dir.path().join("token"));
    std::fs::write(
        dir.path().join("matelot.toml"),
        format!(
            "[cloudron]\nurl = \"{}\"\ntoken_file = \"token\"\nca_file = \"{}\"\n",
            emu.url,
            ca.display()
        ),
    )
    .expect("config");

    println!(
        "matelot Cloudron benchmark: {apps} apps, emulator at {} (HTTPS, loopback)",
        emu.url
    );
    println!("binary: {BIN}");
    println!("machine: {} CPU(s), load average {}", cpus(), loadavg());
    println!();

    // Warm the page cache and the emulator.
    for _ in 0..3 {
        run(dir.path(), &["app", "list"]);
    }

    let baseline = measure(runs, || run(dir.path(), &["config", "check"]));
    report(
        "baseline: matelot config check (same config, no network)",
        &baseline,
    );
    let list = measure(runs, || run(dir.path(), &["app", "list"]));
    report(&format!("matelot app list ({apps} apps, table)"), &list);
    let list_json = measure(runs, || run(dir.path(), &["--json", "app", "list"]));
    report("matelot --json app list", &list_json);

    let out = run_output(dir.path(), &["--json", "app", "list"]);
    let doc: serde_json::Value = serde_json::from_slice(&out).expect("JSON");
    let fqdns: Vec<String> = doc["apps"]
        .as_array()
        .expect("apps")
        .iter()
        .filter_map(|a| a["fqdn"].as_str().map(str::to_string))
        .collect();
    assert_eq!(fqdns.len(), apps, "the estate has {apps} apps");

    let started = Instant::now();
    let shows: Vec<Duration> = fqdns
        .iter()
        .map(|f| time(|| run(dir.path(), &["app", "show", f])))
        .collect();
    let all_shows = started.elapsed();
    report(
        &format!("matelot app show FQDN (each of the {apps} apps, one process each)"),
        &shows,
    );
    println!(
        "  all {apps} `app show` runs one after the other: {:.2} s",
        all_shows.as_secs_f64()
    );
    println!();

    // The library: one client, one connection pool, the whole estate's detail.
    let mut cfg = CloudronConfig::new(url::Url::parse(&emu.url).expect("url"));
    cfg.ca_file = Some(ca);
    cfg.token = Some(Secret {
        value: SecretString::from(emu.token.clone()),
        origin: Origin::Default,
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let estate = measure(runs.div_ceil(2), || {
        rt.block_on(async {
            let client = Client::new(&cfg).expect("client");
            let listed = client.list_apps().await.expect("list");
            let details: Vec<_> =
                futures::stream::iter(listed.iter().map(|a| client.get_app(&a.id)))
                    .buffer_unordered(16)
                    .collect()
                    .await;
            assert_eq!(details.len(), apps);
            assert!(details.iter().all(Result::is_ok));
        })
    });
    report(
        &format!("library: new client + GET /apps + GET /apps/:id for all {apps} (16 in flight)"),
        &estate,
    );

    if !full {
        println!("(smoke run on a small estate; `cargo bench --bench cloudron` measures 200 apps)");
        return;
    }
    let median = percentile(&list, 50);
    println!();
    println!(
        "target: the whole estate's status (app list) in under 0.3 s: median {:.1} ms -> {}",
        ms(median),
        if median < Duration::from_millis(300) {
            "met"
        } else {
            "NOT met"
        }
    );
}

fn run(dir: &Path, args: &[&str]) {
    run_output(dir, args);
}

fn run_output(dir: &Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("XDG_STATE_HOME", dir.join("state"))
        .env("NO_COLOR", "1")
        .output()
        .expect("run matelot");
    assert!(
        out.status.success(),
        "matelot {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn time(f: impl FnOnce()) -> Duration {
    let t = Instant::now();
    f();
    t.elapsed()
}

fn measure(n: usize, mut f: impl FnMut()) -> Vec<Duration> {
    (0..n).map(|_| time(&mut f)).collect()
}

fn percentile(samples: &[Duration], p: usize) -> Duration {
    let mut s = samples.to_vec();
    s.sort();
    let idx = ((s.len() - 1) * p).div_ceil(100);
    s[idx.min(s.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn report(what: &str, samples: &[Duration]) {
    println!("{what}");
    println!(
        "  n={:<4} min {:>7.1} ms   median {:>7.1} ms   p95 {:>7.1} ms   max {:>7.1} ms",
        samples.len(),
        ms(percentile(samples, 0)),
        ms(percentile(samples, 50)),
        ms(percentile(samples, 95)),
        ms(percentile(samples, 100)),
    );
}

fn set_private(p: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o600)).expect("chmod");
}

fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".to_string())
}

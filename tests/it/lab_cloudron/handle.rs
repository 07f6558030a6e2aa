//! The synchronous handle other engineers' tests use: `spawn` serves on its own thread until
//! the handle is dropped; `Control` reaches the lab without HTTP.

use std::time::Duration;

use cloudron_emulator::{EmulatorOptions, Seed, client_for, spawn};

fn get(url: &str, token: &str, ca: &str) -> Result<u16, String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let c = client_for(Some(ca)).map_err(|e| e.to_string())?;
        let r = c
            .get(format!("{url}/api/v1/apps"))
            .bearer_auth(token)
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        Ok(r.status().as_u16())
    })
}

#[test]
fn a_spawned_emulator_serves_until_its_handle_is_dropped() {
    let h = spawn(EmulatorOptions {
        seed: Seed::Empty,
        token: Some("tok".into()),
        ..Default::default()
    })
    .expect("spawn");
    let ca = h.ca_pem.clone().expect("TLS by default");
    assert_eq!(h.token, "tok");
    assert_eq!(get(&h.url, "tok", &ca), Ok(200));
    let st = h.control().state();
    assert_eq!(st["apps"].as_array().map(Vec::len), Some(0));
    assert!(st.get("token").is_none());
    assert_eq!(h.control().requests().len(), 1);
    assert!(h.control().use_app("no-such-app").is_err());
    let fault = h
        .control()
        .add_fault("GET /api/v1/apps", "http_503", Some(1));
    assert!(fault.is_ok());
    assert_eq!(get(&h.url, "tok", &ca), Ok(503));

    let url = h.url.clone();
    drop(h);
    assert!(
        get(&url, "tok", &ca).is_err(),
        "nothing listens after the drop"
    );
}

#[test]
fn a_busy_port_is_a_clear_error() {
    let first = spawn(EmulatorOptions::default()).expect("spawn");
    let err = spawn(EmulatorOptions {
        listen: first.addr,
        ..Default::default()
    })
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
    assert!(err.contains("cannot listen on"), "{err}");
    assert!(err.contains("--listen"), "says what to do: {err}");
}

//! The account mechanics the guarded `user remove` builds on: `exec::accounts::remove_on_host`
//! removes one account and its home on a real host, is idempotent, and refuses any other
//! change. (Taking and verifying the restore point first is the guard's job, not tested here.)

use matelot::compute::{ConnectOptions, Session};
use matelot::core::accounts::ComputeChange;
use matelot::exec::accounts::{Outcome, remove_on_host};

use super::estate::Estate;

#[test]
fn remove_on_host_removes_one_account_and_its_home_once() {
    // The estate owns runtimes of its own: keep it outside the async block.
    let e = Estate::start("rm-one");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(check(&e));
}

async fn check(e: &Estate) {
    e.exec(&["useradd", "-m", "-U", "gone"]);
    e.exec(&["useradd", "-m", "-U", "stays"]);
    let host = e.sandbox.host.compute_host();
    let opts = ConnectOptions {
        user_known_hosts: None,
        ..ConnectOptions::default()
    };
    let session = Session::connect(&host, &e.known_hosts(), &opts)
        .await
        .expect("connect");
    let uid: u32 = e.exec(&["id", "-u", "gone"]).trim().parse().unwrap();
    let change = ComputeChange::RemoveUser {
        user: "gone".into(),
        uid,
        home: "/home/gone".into(),
    };
    let first = remove_on_host("rm-one", &session, &change)
        .await
        .expect("remove");
    assert_eq!(first, Outcome::Changed);
    assert!(!e.try_exec(&["id", "gone"]).0, "the account is gone");
    assert!(
        !e.try_exec(&["test", "-e", "/home/gone"]).0,
        "its home is gone"
    );
    assert!(e.try_exec(&["id", "stays"]).0, "nobody else is touched");
    assert!(e.try_exec(&["test", "-d", "/home/stays"]).0);

    let again = remove_on_host("rm-one", &session, &change)
        .await
        .expect("again");
    assert_eq!(again, Outcome::Unchanged);

    let lock = ComputeChange::Lock {
        user: "stays".into(),
        previous_expiry: None,
    };
    let err = remove_on_host("rm-one", &session, &lock)
        .await
        .expect_err("only removals");
    assert!(err.to_string().contains("applies a user removal"), "{err}");
    assert_eq!(e.shadow("stays")[7], "", "the refused change did nothing");
    let _ = session.close().await;
}

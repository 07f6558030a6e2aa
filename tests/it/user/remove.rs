//! The account mechanics removals build on: a `RemoveUser` step of the host's apply script
//! removes one account and its home on a real host and is idempotent. (The guarded
//! `user remove`, with its restore point first, is tested over the binary in `guard/user.rs`.)

use matelot::compute::{ConnectOptions, Session};
use matelot::core::accounts::ComputeChange;
use matelot::exec::accounts::{Outcome, apply_on_host};

use super::estate::Estate;

#[test]
fn a_removal_step_removes_one_account_and_its_home_once() {
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
    let first = apply_on_host("rm-one", &session, std::slice::from_ref(&change))
        .await
        .expect("remove")
        .outcomes();
    assert_eq!(first, [Outcome::Changed]);
    assert!(!e.try_exec(&["id", "gone"]).0, "the account is gone");
    assert!(
        !e.try_exec(&["test", "-e", "/home/gone"]).0,
        "its home is gone"
    );
    assert!(e.try_exec(&["id", "stays"]).0, "nobody else is touched");
    assert!(e.try_exec(&["test", "-d", "/home/stays"]).0);

    let again = apply_on_host("rm-one", &session, std::slice::from_ref(&change))
        .await
        .expect("again")
        .outcomes();
    assert_eq!(again, [Outcome::Unchanged]);
    let _ = session.close().await;
}

/// The Cloudron side of a removal, for the guarded `user remove`: `apply_cloudron` deletes a
/// user it is given (here one it created first), and a person's later changes stop at their
/// first failure while other people go on.
#[test]
fn apply_cloudron_removes_a_user_and_stops_a_chain_at_its_failure() {
    use cloudron_emulator::Seed;
    use matelot::cloudron::Client;
    use matelot::config::{CloudronConfig, Origin, Secret};
    use matelot::core::accounts::CloudronChange as K;
    use matelot::exec::accounts::{apply_cloudron, cloudron_facts};

    let lab = crate::lab_client::Lab::with(|o| o.seed = Seed::Empty);
    let mut cfg = CloudronConfig::new(url::Url::parse(&lab.emu.url).expect("url"));
    cfg.ca_file = lab.emu.ca_file.clone();
    cfg.token = Some(Secret {
        value: secrecy::SecretString::from(lab.emu.token.clone()),
        origin: Origin::Default,
    });
    let client = Client::new(&cfg).expect("client");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let facts = rt.block_on(async {
        let users = client.list_users().await.expect("users");
        let groups = client.list_groups().await.expect("groups");
        cloudron_facts(&users, &groups)
    });
    let changes = vec![
        K::CreateUser {
            username: "temp".into(),
            email: "temp@example.org".into(),
            display_name: "Temp".into(),
            groups: vec![],
        },
        K::RemoveUser {
            id: None,
            username: "temp".into(),
            email: "temp@example.org".into(),
        },
        // A group that does not exist: this person's chain stops here.
        K::CreateUser {
            username: "odd".into(),
            email: "odd@example.org".into(),
            display_name: String::new(),
            groups: vec!["nowhere".into()],
        },
        K::SetActive {
            id: None,
            username: "odd".into(),
            active: false,
        },
    ];
    let outcomes = rt.block_on(apply_cloudron(&client, &changes, &facts, &|| {}));
    assert_eq!(outcomes[0], Outcome::Changed);
    assert_eq!(outcomes[1], Outcome::Changed);
    assert!(
        matches!(&outcomes[2], Outcome::Failed { message } if message.contains("nowhere")),
        "{outcomes:?}"
    );
    assert!(
        matches!(&outcomes[3], Outcome::NotRun { .. }),
        "{outcomes:?}"
    );
    let users = lab.state()["users"].as_array().cloned().unwrap_or_default();
    assert!(
        !users.iter().any(|u| u["username"] == "temp"),
        "temp was removed"
    );
    let odd = users
        .iter()
        .find(|u| u["username"] == "odd")
        .expect("odd was created");
    assert_eq!(
        odd["active"], true,
        "the change after the failure was not sent"
    );
}

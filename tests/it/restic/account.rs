//! Per-person restore points on a real host: an account captured and snapshotted, removed with
//! `userdel -r`, recreated with the same ids, groups, password hash, keys and home.
//!
//! These run on private hosts: useradd and userdel lock /etc/passwd, and other tests add users
//! on the shared one at the same time.

use matelot::compute::Session;
use matelot::compute::account_snapshot::{self, AccountError, AccountRestorePoint};
use matelot::compute::restic::{Repo, Restic, SnapshotFilter};
use std::time::Instant;

use super::{SUMS, connect, sh, strs, workdir};
use crate::common_sandbox::private;

async fn make_person(s: &Session, user: &str, group: &str) {
    sh(
        s,
        r#"set -e
groupadd -g 3500 "$2"
useradd -m -u 3001 -s /bin/bash -c "Zoé D, it's \$(me)" -G "$2" "$1"
echo "$1:\$6\$salt\$notarealhashbutlookslikeone" | chpasswd -e
chage -m 2 -M 90 -W 5 "$1"
mkdir -p "/home/$1/.ssh" "/home/$1/notes & more"
printf 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIF3 zoe@laptop\n# old key\nssh-rsa AAAAB3Nza zoe@old\n' > "/home/$1/.ssh/authorized_keys"
chmod 700 "/home/$1/.ssh"; chmod 600 "/home/$1/.ssh/authorized_keys"
head -c 300000 /dev/urandom > "/home/$1/notes & more/data.bin"
echo "hello" > "/home/$1/it's.txt"
ln -s "it's.txt" "/home/$1/link"
chown -R "$1:$1" "/home/$1""#,
        &[user, group],
    )
    .await;
}

const ACCOUNT: &str = r#"id "$1"; getent passwd "$1"; grep "^$1:" /etc/shadow; grep -E "(^$1:|[:,]$1(,|$))" /etc/group | sort"#;

#[tokio::test]
async fn an_account_removed_after_its_restore_point_comes_back_whole() {
    let p = private("acct", "127.0.0.6", 0);
    let s = connect(&p.host).await;
    let (_, repo) = workdir(&s, "acct").await;
    Restic::new(&s, repo.clone())
        .init_if_missing()
        .await
        .expect("init");
    let user = "zoe";
    make_person(&s, user, "physics").await;
    let account_before = sh(&s, ACCOUNT, &[user]).await;
    let home_before = sh(&s, SUMS, &["/home/zoe"]).await;

    let t0 = Instant::now();
    let rp = account_snapshot::take(&s, &repo, user, 42)
        .await
        .expect("restore point");
    eprintln!(
        "account restore point (capture + snapshot + verify): {:?}",
        t0.elapsed()
    );
    assert_eq!((rp.uid, rp.gid), (3001, 3001));
    assert_eq!(rp.home, "/home/zoe");
    assert_eq!(rp.group_names(), vec!["zoe", "physics"]);
    assert_eq!(
        rp.authorized_keys.as_deref(),
        Some(
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIF3 zoe@laptop\n# old key\nssh-rsa AAAAB3Nza zoe@old\n"
        )
    );
    assert!(rp.home_bytes.is_some_and(|b| b > 300_000));
    let shadow = rp.shadow_line.as_ref().expect("shadow line");
    assert!(shadow.expose().starts_with("zoe:$6$salt$notarealhash"));
    assert!(!format!("{rp:?}").contains("notarealhash"));
    // Listed under the tags a later undo looks for.
    let id = rp.snapshot_id.clone().expect("snapshot");
    let tagged = Restic::new(&s, repo.clone())
        .snapshots(&SnapshotFilter {
            tags: strs(&["matelot", "op-42", "user-zoe"]),
            ..Default::default()
        })
        .await
        .expect("list");
    assert_eq!(tagged.len(), 1);
    assert_eq!(tagged[0].id, id);
    assert_eq!(tagged[0].paths, vec!["/home/zoe"]);
    // The journal keeps it as JSON and reads it back.
    let json = serde_json::to_string(&rp).expect("serialise");
    let rp: AccountRestorePoint = serde_json::from_str(&json).expect("deserialise");

    sh(
        &s,
        r#"userdel -r "$1" 2>/dev/null; ! id "$1" && ! test -e "/home/$1""#,
        &[user],
    )
    .await;

    let t0 = Instant::now();
    let back = account_snapshot::recreate_account(&s, &repo, &rp)
        .await
        .expect("recreate");
    eprintln!(
        "recreate (account + restore + keys + check): {:?}",
        t0.elapsed()
    );
    assert_eq!(back.groups, vec!["zoe", "physics"]);
    assert_eq!(sh(&s, ACCOUNT, &[user]).await, account_before);
    assert_eq!(sh(&s, SUMS, &["/home/zoe"]).await, home_before);

    // A second undo finds the account there and changes nothing.
    let e = account_snapshot::recreate_account(&s, &repo, &rp)
        .await
        .expect_err("exists");
    assert!(matches!(e, AccountError::Conflict { .. }), "{e}");
    assert!(e.to_string().contains("account zoe already exists"), "{e}");
    assert_eq!(sh(&s, ACCOUNT, &[user]).await, account_before);
}

#[tokio::test]
async fn restore_points_of_odd_accounts() {
    let p = private("acct2", "127.0.0.7", 0);
    let s = connect(&p.host).await;
    let (_, repo) = workdir(&s, "odd").await;
    Restic::new(&s, repo.clone())
        .init_if_missing()
        .await
        .expect("init");

    let e = account_snapshot::take(&s, &repo, "nobody-here", 1)
        .await
        .expect_err("none");
    assert!(matches!(e, AccountError::NoSuchAccount { .. }), "{e}");
    let e = account_snapshot::take(&s, &repo, "x;reboot", 1)
        .await
        .expect_err("invalid");
    assert!(matches!(e, AccountError::Invalid { .. }), "{e}");

    // No home: a restore point without a snapshot, and it still comes back.
    sh(&s, "useradd -M -u 3101 -d /home/ghost ghost", &[]).await;
    let rp = account_snapshot::take(&s, &repo, "ghost", 2)
        .await
        .expect("no home");
    assert_eq!((rp.home_bytes, rp.snapshot_id.as_ref()), (None, None));
    sh(&s, "userdel ghost", &[]).await;
    account_snapshot::recreate_account(&s, &repo, &rp)
        .await
        .expect("recreate without home");
    assert_eq!(sh(&s, "id -u ghost", &[]).await.trim(), "3101");

    // authorized_keys pointing at /etc/shadow: read as the account, so refused, never copied.
    sh(
        &s,
        "useradd -m -u 3102 sneaky && mkdir /home/sneaky/.ssh && ln -s /etc/shadow /home/sneaky/.ssh/authorized_keys",
        &[],
    )
    .await;
    let e = account_snapshot::take(&s, &repo, "sneaky", 3)
        .await
        .expect_err("symlink");
    assert!(matches!(e, AccountError::Capture { .. }), "{e}");
    assert!(!e.to_string().contains("root:"), "{e}");

    // A restore point from another repository is not restored from this one.
    let other = Repo {
        repository: "/srv/elsewhere".into(),
        ..repo.clone()
    };
    let e = account_snapshot::recreate_account(&s, &other, &rp)
        .await
        .expect_err("mismatch");
    assert!(matches!(e, AccountError::RepositoryMismatch { .. }), "{e}");
}

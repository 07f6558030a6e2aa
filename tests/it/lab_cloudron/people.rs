//! Users, groups, paging, profile and the eventlog.

use serde_json::{Value, json};

use super::{Lab, assert_error};

#[tokio::test]
async fn add_update_and_remove_a_user() {
    let lab = Lab::start().await;
    let (s, v) = lab
        .post(
            "/api/v1/users",
            json!({"email": "zoe@example.org", "username": "Zoe", "displayName": "Zoé Roux"}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("uid-"), "{id}");
    assert_eq!(v.as_object().unwrap().len(), 1, "only the id: {v}");

    let u = lab.ok(&format!("/api/v1/users/{id}")).await;
    assert_eq!(u["username"], "zoe", "usernames are lowercased");
    assert_eq!(u["role"], "user");
    assert_eq!(u["active"], true);
    assert_eq!(u["inviteAccepted"], false);

    let put = |path: &'static str, body: Value| {
        let lab = &lab;
        let id = id.clone();
        async move { lab.put(&format!("/api/v1/users/{id}/{path}"), body).await }
    };
    assert_eq!(
        put("role", json!({"role": "usermanager"})).await,
        (204, Value::Null)
    );
    assert_eq!(
        put("active", json!({"active": false})).await,
        (204, Value::Null)
    );
    let staff = lab.ok("/api/v1/groups").await["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "staff")
        .unwrap()["id"]
        .clone();
    assert_eq!(
        put("groups", json!({"groupIds": [staff]})).await,
        (204, Value::Null)
    );
    let (s, _) = lab
        .post(
            &format!("/api/v1/users/{id}/profile"),
            json!({"displayName": "Zoé R."}),
        )
        .await;
    assert_eq!(s, 204);
    let u = lab.ok(&format!("/api/v1/users/{id}")).await;
    assert_eq!(
        (&u["role"], &u["active"], &u["displayName"], &u["groupIds"]),
        (
            &json!("usermanager"),
            &json!(false),
            &json!("Zoé R."),
            &json!([staff])
        )
    );
    let g = lab
        .ok(&format!("/api/v1/groups/{}", staff.as_str().unwrap()))
        .await;
    assert!(g["userIds"].as_array().unwrap().contains(&json!(id)));

    let link = lab.ok(&format!("/api/v1/users/{id}/invite_link")).await;
    assert!(
        link["inviteLink"]
            .as_str()
            .unwrap()
            .starts_with("https://my.example.org/setupaccount.html?inviteToken=")
    );
    let (s, _) = lab
        .post(
            &format!("/api/v1/users/{id}/send_invite_email"),
            json!({"email": "zoe@example.org"}),
        )
        .await;
    assert_eq!(s, 202);

    assert_eq!(
        lab.delete(&format!("/api/v1/users/{id}")).await,
        (204, Value::Null)
    );
    assert_error(
        &lab.get(&format!("/api/v1/users/{id}")).await,
        404,
        "Not Found",
        "User not found",
    );
    let ev = lab
        .ok("/api/v1/eventlog?actions=user.add,user.remove&per_page=2")
        .await;
    let actions: Vec<&str> = ev["eventlogs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["user.remove", "user.add"], "newest first");
    assert_eq!(ev["eventlogs"][1]["data"]["userId"], id.as_str());
}

#[tokio::test]
async fn usernames_are_validated_like_cloudron() {
    let lab = Lab::start().await;
    for name in [
        "admin",
        "no-reply",
        "postmaster",
        "mailer-daemon",
        "root",
        "admins",
        "users",
    ] {
        let got = lab
            .post(
                "/api/v1/users",
                json!({"email": format!("{name}1@example.org"), "username": name}),
            )
            .await;
        assert_error(&got, 400, "Bad Request", "Username is reserved");
    }
    let dup = lab
        .post(
            "/api/v1/users",
            json!({"email": "x@example.org", "username": "camille"}),
        )
        .await;
    assert_error(&dup, 409, "Conflict", "Username already exists");
    let bad = lab
        .post("/api/v1/users", json!({"email": "not-an-email"}))
        .await;
    assert_error(&bad, 400, "Bad Request", "Invalid email");
    let role = lab
        .post(
            "/api/v1/users",
            json!({"email": "y@example.org", "role": "king"}),
        )
        .await;
    assert_error(&role, 400, "Bad Request", "Invalid role");
    // the owner cannot remove themself
    let me = lab.ok("/api/v1/profile").await;
    assert_eq!(me["username"], "admin");
    assert_eq!(me["role"], "owner");
    let me_id = me["id"].as_str().unwrap();
    assert_eq!(lab.delete(&format!("/api/v1/users/{me_id}")).await.0, 409);
}

#[tokio::test]
async fn paging_is_one_based_with_validation() {
    let lab = Lab::start().await;
    let all = lab.ok("/api/v1/users?per_page=100").await["users"]
        .as_array()
        .unwrap()
        .len();
    assert!(all >= 5);
    let p1 = lab.ok("/api/v1/users?page=1&per_page=2").await;
    let p2 = lab.ok("/api/v1/users?page=2&per_page=2").await;
    assert_eq!(p1["users"].as_array().unwrap().len(), 2);
    assert_ne!(p1["users"][0]["id"], p2["users"][0]["id"]);
    let past = lab.ok("/api/v1/users?page=99&per_page=2").await;
    assert!(past["users"].as_array().unwrap().is_empty());
    for (q, msg) in [
        ("page=0", "page query param has to be a postive number"),
        ("page=-3", "page query param has to be a postive number"),
        (
            "per_page=abc",
            "per_page query param has to be a postive number",
        ),
    ] {
        assert_error(
            &lab.get(&format!("/api/v1/users?{q}")).await,
            400,
            "Bad Request",
            msg,
        );
        assert_error(
            &lab.get(&format!("/api/v1/tasks?{q}")).await,
            400,
            "Bad Request",
            msg,
        );
    }
    let backups = lab.ok("/api/v1/tasks?type=backup&per_page=1").await;
    assert_eq!(backups["tasks"].as_array().unwrap().len(), 1);
    assert_eq!(backups["tasks"][0]["type"], "backup");
}

#[tokio::test]
async fn groups_are_created_renamed_filled_and_removed() {
    let lab = Lab::start().await;
    let (s, v) = lab
        .post("/api/v1/groups", json!({"name": "Volunteers"}))
        .await;
    assert_eq!(s, 201);
    let gid = v["id"].as_str().unwrap().to_string();
    assert!(gid.starts_with("gid-"));
    assert_eq!(v["name"], "volunteers");
    assert_error(
        &lab.post("/api/v1/groups", json!({"name": "volunteers"}))
            .await,
        409,
        "Conflict",
        "Group already exists",
    );
    let jules = lab.ok("/api/v1/users?search=jules").await["users"][0]["id"].clone();
    assert_eq!(
        lab.put(
            &format!("/api/v1/groups/{gid}/members"),
            json!({"userIds": [jules]})
        )
        .await,
        (200, json!({}))
    );
    assert_eq!(
        lab.put(
            &format!("/api/v1/groups/{gid}/name"),
            json!({"name": "helpers"})
        )
        .await,
        (200, json!({}))
    );
    let g = lab.ok(&format!("/api/v1/groups/{gid}")).await;
    assert_eq!(
        g,
        json!({"id": gid, "name": "helpers", "source": "", "userIds": [jules]})
    );
    assert_eq!(lab.delete(&format!("/api/v1/groups/{gid}")).await.0, 204);
    let u = lab
        .ok(&format!("/api/v1/users/{}", jules.as_str().unwrap()))
        .await;
    assert!(!u["groupIds"].as_array().unwrap().contains(&json!(gid)));
    assert_eq!(lab.get(&format!("/api/v1/groups/{gid}")).await.0, 404);
}

#[tokio::test]
async fn access_restriction_can_be_changed() {
    let lab = Lab::start().await;
    let app = lab.app("cloud").await;
    assert!(app["accessRestriction"].is_null());
    let id = app["id"].as_str().unwrap();
    let sofia = lab.ok("/api/v1/users?search=sofia").await["users"][0]["id"].clone();
    let (s, v) = lab
        .post(
            &format!("/api/v1/apps/{id}/configure/access_restriction"),
            json!({"accessRestriction": {"users": [sofia], "groups": []}}),
        )
        .await;
    assert_eq!((s, v), (200, json!({})));
    let app = lab.ok(&format!("/api/v1/apps/{id}")).await;
    assert_eq!(
        app["accessRestriction"],
        json!({"users": [sofia], "groups": []})
    );
}

//! The permission matrix: who may do what, and the status and message when not.

use reqwest::Method;
use serde_json::{Value, json};

use crate::server::{TOKEN, TestServer, org_id};

fn all_access(org: &str) -> Value {
    let types = [
        "authorizations",
        "buckets",
        "dashboards",
        "sources",
        "tasks",
        "telegrafs",
        "users",
        "variables",
        "scrapers",
        "secrets",
        "labels",
        "views",
        "documents",
        "notificationRules",
        "notificationEndpoints",
        "checks",
        "dbrp",
        "notebooks",
        "annotations",
        "remotes",
        "replications",
    ];
    let mut perms: Vec<Value> = types
        .iter()
        .flat_map(|t| ["read", "write"].map(|a| json!({"action": a, "resource": {"type": t, "orgID": org}})))
        .collect();
    perms.extend(["read", "write"].map(|a| json!({"action": a, "resource": {"type": "orgs", "id": org}})));
    Value::Array(perms)
}

/// name, method, path, token, body, expected status, expected body.
type Case<'a> = (&'a str, Method, String, Option<&'a str>, Option<Value>, u16, Option<Value>);

#[test]
fn the_permission_matrix_holds() {
    let (s, setup) = TestServer::onboarded();
    let org_a = org_id(&setup);
    let bucket_a = setup["bucket"]["id"].as_str().unwrap().to_owned();
    let (_, org_b) = s.post("/api/v2/orgs", TOKEN, json!({"name": "other"}));
    let org_b = org_b["id"].as_str().unwrap().to_owned();
    let (_, b2) = s.post("/api/v2/buckets", TOKEN, json!({"orgID": org_a, "name": "second"}));
    let bucket_a2 = b2["id"].as_str().unwrap().to_owned();
    let (_, bb) = s.post("/api/v2/buckets", TOKEN, json!({"orgID": org_b, "name": "theirs"}));
    let bucket_b = bb["id"].as_str().unwrap().to_owned();

    let (read_a, _) =
        s.make_token(&org_a, json!([{"action": "read", "resource": {"type": "buckets", "orgID": org_a}}]));
    let (write_one, _) = s.make_token(
        &org_a,
        json!([{"action": "write", "resource": {"type": "buckets", "id": bucket_a}},
               {"action": "read", "resource": {"type": "buckets", "id": bucket_a}}]),
    );
    let (all_a, _) = s.make_token(&org_a, all_access(&org_a));
    let (inactive, inactive_id) = s.make_token(&org_a, all_access(&org_a));
    assert_eq!(s.patch(&format!("/api/v2/authorizations/{inactive_id}"), TOKEN, json!({"status": "inactive"})).0, 200);

    let unauthorized = |perm: &str| json!({"code": "unauthorized", "message": format!("{perm} is unauthorized")});
    let rename = json!({"description": "x"});
    #[rustfmt::skip]
    let cases: Vec<Case<'_>> = vec![
        ("no token", Method::GET, format!("/api/v2/buckets/{bucket_a}"), None, None, 401,
            Some(json!({"code": "unauthorized", "message": "unauthorized access"}))),
        ("unknown token", Method::GET, format!("/api/v2/buckets/{bucket_a}"), Some("nope"), None, 401,
            Some(json!({"code": "unauthorized", "message": "unauthorized access"}))),
        ("operator reads", Method::GET, format!("/api/v2/buckets/{bucket_b}"), Some(TOKEN), None, 200, None),
        ("read-only reads", Method::GET, format!("/api/v2/buckets/{bucket_a}"), Some(&read_a), None, 200, None),
        ("read-only cannot write", Method::PATCH, format!("/api/v2/buckets/{bucket_a}"), Some(&read_a), Some(rename.clone()), 401,
            Some(unauthorized(&format!("write:orgs/{org_a}/buckets/{bucket_a}")))),
        ("wrong org", Method::GET, format!("/api/v2/buckets/{bucket_b}"), Some(&read_a), None, 401,
            Some(unauthorized(&format!("read:orgs/{org_b}/buckets/{bucket_b}")))),
        ("missing bucket is 404 before 401", Method::GET, "/api/v2/buckets/00000000000000ff".into(), Some(&read_a), None, 404, None),
        ("scoped token writes its bucket", Method::PATCH, format!("/api/v2/buckets/{bucket_a}"), Some(&write_one), Some(rename.clone()), 200, None),
        ("scoped to another bucket", Method::PATCH, format!("/api/v2/buckets/{bucket_a2}"), Some(&write_one), Some(rename.clone()), 401,
            Some(unauthorized(&format!("write:orgs/{org_a}/buckets/{bucket_a2}")))),
        ("a missing org is 401 to a token that may not read it", Method::GET, "/api/v2/orgs/00000000000000ff".into(), Some(&read_a), None, 401,
            Some(unauthorized("read:orgs/00000000000000ff"))),
        ("a missing org is 404 to the operator", Method::GET, "/api/v2/orgs/00000000000000ff".into(), Some(TOKEN), None, 404, None),
        ("a missing user is 401 to a token that may not read it", Method::GET, "/api/v2/users/00000000000000ff".into(), Some(&read_a), None, 401,
            Some(unauthorized("read:users/00000000000000ff"))),
        ("scoped token cannot read its org", Method::GET, format!("/api/v2/orgs/{org_a}"), Some(&write_one), None, 401,
            Some(unauthorized(&format!("read:orgs/{org_a}")))),
        ("inactive token", Method::GET, format!("/api/v2/buckets/{bucket_a}"), Some(&inactive), None, 401,
            Some(json!({"code": "unauthorized", "message": "token is inactive"}))),
        ("all-access creates in its org", Method::POST, "/api/v2/buckets".into(), Some(&all_a),
            Some(json!({"orgID": org_a, "name": "made-by-all-access"})), 201, None),
        ("all-access cannot create in another org", Method::POST, "/api/v2/buckets".into(), Some(&all_a),
            Some(json!({"orgID": org_b, "name": "x"})), 401, Some(unauthorized(&format!("write:orgs/{org_b}/buckets")))),
        ("all-access cannot create orgs", Method::POST, "/api/v2/orgs".into(), Some(&all_a),
            Some(json!({"name": "x"})), 401, Some(unauthorized("write:orgs"))),
        ("all-access cannot create users", Method::POST, "/api/v2/users".into(), Some(&all_a),
            Some(json!({"name": "x"})), 401, Some(unauthorized("write:users"))),
        ("all-access reads its org", Method::GET, format!("/api/v2/orgs/{org_a}"), Some(&all_a), None, 200, None),
        ("all-access cannot delete another org", Method::DELETE, format!("/api/v2/orgs/{org_b}"), Some(&all_a), None, 401,
            Some(unauthorized(&format!("write:orgs/{org_b}")))),
        ("cannot hand out what you lack", Method::POST, "/api/v2/authorizations".into(), Some(&all_a),
            Some(json!({"orgID": org_a, "userID": setup["user"]["id"], "permissions": [{"action": "read", "resource": {"type": "buckets"}}]})), 401, None),
    ];
    for (name, method, path, token, body, want_status, want_body) in cases {
        let (status, got) = s.call(method, &path, token, body);
        assert_eq!(status, want_status, "{name}: {got}");
        if let Some(want) = want_body {
            assert_eq!(got, want, "{name}");
        }
    }
}

#[test]
fn lists_show_only_what_the_token_may_read() {
    let (s, setup) = TestServer::onboarded();
    let org_a = org_id(&setup);
    let bucket_a = setup["bucket"]["id"].as_str().unwrap().to_owned();
    let (_, org_b) = s.post("/api/v2/orgs", TOKEN, json!({"name": "other"}));
    let org_b = org_b["id"].as_str().unwrap().to_owned();

    let (read_a, _) =
        s.make_token(&org_a, json!([{"action": "read", "resource": {"type": "buckets", "orgID": org_a}}]));
    let (_, list) = s.get("/api/v2/buckets", &read_a);
    let orgs: Vec<&str> = list["buckets"].as_array().unwrap().iter().map(|b| b["orgID"].as_str().unwrap()).collect();
    assert_eq!(orgs.len(), 3);
    assert!(orgs.iter().all(|o| *o == org_a));

    let (one, _) = s.make_token(&org_a, json!([{"action": "read", "resource": {"type": "buckets", "id": bucket_a}}]));
    let (_, list) = s.get("/api/v2/buckets", &one);
    assert_eq!(list["buckets"].as_array().unwrap().len(), 1);
    assert_eq!(list["buckets"][0]["id"], bucket_a.as_str());

    // An org listing shows only readable orgs.
    let (_, list) = s.get("/api/v2/orgs", &read_a);
    assert_eq!(list["orgs"], json!([]));
    let (all_b, _) = s.make_token(&org_b, json!([{"action": "read", "resource": {"type": "orgs", "id": org_b}}]));
    let (_, list) = s.get("/api/v2/orgs", &all_b);
    assert_eq!(list["orgs"].as_array().unwrap().len(), 1);
    assert_eq!(list["orgs"][0]["name"], "other");
}

#[test]
fn handing_out_permissions_you_lack_is_forbidden() {
    let (s, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    let uid = setup["user"]["id"].as_str().unwrap();
    // May create tokens and act for the user, but holds no bucket permission.
    let (creator, _) = s.make_token(
        &org,
        json!([{"action": "write", "resource": {"type": "authorizations", "orgID": org}},
               {"action": "write", "resource": {"type": "users", "id": uid}}]),
    );
    let (status, body) = s.post(
        "/api/v2/authorizations",
        &creator,
        json!({"orgID": org, "permissions": [{"action": "read", "resource": {"type": "buckets", "orgID": org}}]}),
    );
    assert_eq!(status, 403, "{body}");
    assert_eq!(
        body,
        json!({"code": "forbidden", "message": format!("permission read:orgs/{org}/buckets is not allowed")})
    );
}

#[test]
fn an_inactive_users_tokens_are_refused() {
    let (s, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    let (_, user) = s.post("/api/v2/users", TOKEN, json!({"name": "carol"}));
    let uid = user["id"].as_str().unwrap();
    let (status, a) = s.post(
        "/api/v2/authorizations",
        TOKEN,
        json!({"orgID": org, "userID": uid, "permissions": [{"action": "read", "resource": {"type": "buckets", "orgID": org}}]}),
    );
    assert_eq!(status, 201, "{a}");
    let token = a["token"].as_str().unwrap();
    assert_eq!(s.get("/api/v2/buckets", token).0, 200);
    assert_eq!(s.patch(&format!("/api/v2/users/{uid}"), TOKEN, json!({"status": "inactive"})).0, 200);
    assert_eq!(s.get("/api/v2/buckets", token), (403, json!({"code": "forbidden", "message": "User is inactive"})));
}

#[test]
fn a_token_used_before_it_is_deactivated_or_deleted_is_refused_after() {
    let (s, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    let bucket = format!("/api/v2/buckets/{}", setup["bucket"]["id"].as_str().unwrap());
    let (token, id) = s.make_token(&org, json!([{"action": "read", "resource": {"type": "buckets", "orgID": org}}]));
    for _ in 0..3 {
        assert_eq!(s.get(&bucket, &token).0, 200);
    }
    let auth = format!("/api/v2/authorizations/{id}");
    assert_eq!(s.patch(&auth, TOKEN, json!({"status": "inactive"})).0, 200);
    assert_eq!(s.get(&bucket, &token), (401, json!({"code": "unauthorized", "message": "token is inactive"})));
    assert_eq!(s.patch(&auth, TOKEN, json!({"status": "active"})).0, 200);
    assert_eq!(s.get(&bucket, &token).0, 200);
    assert_eq!(s.delete(&auth, TOKEN).0, 204);
    assert_eq!(s.get(&bucket, &token).0, 401);
}

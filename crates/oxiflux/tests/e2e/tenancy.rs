use serde_json::{Value, json};

use crate::server::{TOKEN, TestServer, org_id};

fn names(list: &Value, key: &str) -> Vec<String> {
    list[key].as_array().unwrap().iter().map(|v| v["name"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn orgs_crud_with_filters_and_conflicts() {
    let (s, setup) = TestServer::onboarded();
    let (status, org) = s.post("/api/v2/orgs", TOKEN, json!({"name": "beta", "description": "second"}));
    assert_eq!(status, 201, "{org}");
    let id = org["id"].as_str().unwrap();
    assert_eq!(org["description"], "second");
    assert_eq!(org["links"]["self"], format!("/api/v2/orgs/{id}"));
    assert_eq!(org["links"]["buckets"], "/api/v2/buckets?org=beta");
    assert!(org["createdAt"].is_string() && org["updatedAt"].is_string());

    // The creator owns it, and it has its system buckets.
    let (_, owners) = s.get(&format!("/api/v2/orgs/{id}/owners"), TOKEN);
    assert_eq!(owners["users"][0]["name"], "admin");
    assert_eq!(owners["users"][0]["role"], "owner");
    let (_, buckets) = s.get(&format!("/api/v2/buckets?orgID={id}"), TOKEN);
    assert_eq!(names(&buckets, "buckets"), ["_monitoring", "_tasks"]);
    assert_eq!(buckets["buckets"][0]["type"], "system");
    assert_eq!(buckets["buckets"][0]["retentionRules"][0]["everySeconds"], 604_800);
    assert_eq!(buckets["buckets"][1]["retentionRules"][0]["everySeconds"], 259_200);

    let (status, body) = s.post("/api/v2/orgs", TOKEN, json!({"name": "beta"}));
    assert_eq!(
        (status, body),
        (422, json!({"code": "conflict", "message": "organization with name beta already exists"}))
    );
    assert_eq!(s.post("/api/v2/orgs", TOKEN, json!({"name": ""})).0, 400);

    let (_, all) = s.get("/api/v2/orgs", TOKEN);
    assert_eq!(all["orgs"].as_array().unwrap().len(), 2);
    assert!(all["links"]["self"].as_str().unwrap().starts_with("/api/v2/orgs?"));
    let (_, one) = s.get("/api/v2/orgs?org=beta", TOKEN);
    assert_eq!(names(&one, "orgs"), ["beta"]);
    let (_, one) = s.get(&format!("/api/v2/orgs?orgID={}", org_id(&setup)), TOKEN);
    assert_eq!(names(&one, "orgs"), ["acme"]);
    let (status, body) = s.get("/api/v2/orgs?org=nope", TOKEN);
    assert_eq!((status, body["message"].as_str().unwrap()), (404, "organization name \"nope\" not found"));

    let (status, patched) = s.patch(&format!("/api/v2/orgs/{id}"), TOKEN, json!({"name": "gamma"}));
    assert_eq!(status, 200);
    assert_eq!((patched["name"].as_str(), patched["description"].as_str()), (Some("gamma"), Some("second")));
    assert_eq!(s.patch(&format!("/api/v2/orgs/{id}"), TOKEN, json!({"name": "acme"})).0, 422);
    assert_eq!(s.get(&format!("/api/v2/orgs/{id}"), TOKEN).1["name"], "gamma");

    assert_eq!(s.delete(&format!("/api/v2/orgs/{id}"), TOKEN).0, 204);
    let (status, body) = s.get(&format!("/api/v2/orgs/{id}"), TOKEN);
    assert_eq!((status, body), (404, json!({"code": "not found", "message": "organization not found"})));
    assert_eq!(s.delete(&format!("/api/v2/orgs/{id}"), TOKEN).0, 404);
    let (status, body) = s.get("/api/v2/orgs/nothex", TOKEN);
    assert_eq!((status, body["code"].as_str().unwrap()), (400, "invalid"));
}

#[test]
fn users_crud_and_members_and_owners() {
    let (s, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    let (status, user) = s.post("/api/v2/users", TOKEN, json!({"name": "bob"}));
    assert_eq!(status, 201, "{user}");
    let uid = user["id"].as_str().unwrap();
    assert_eq!(user["status"], "active");
    assert_eq!(user["links"]["self"], format!("/api/v2/users/{uid}"));
    assert_eq!(s.post("/api/v2/users", TOKEN, json!({"name": "bob"})).0, 422);

    let (_, users) = s.get("/api/v2/users", TOKEN);
    assert_eq!(users["users"].as_array().unwrap().len(), 2);
    assert_eq!(names(&s.get("/api/v2/users?name=bob", TOKEN).1, "users"), ["bob"]);
    assert_eq!(names(&s.get(&format!("/api/v2/users?id={uid}"), TOKEN).1, "users"), ["bob"]);

    let (status, u) = s.patch(&format!("/api/v2/users/{uid}"), TOKEN, json!({"name": "robert", "status": "inactive"}));
    assert_eq!(status, 200);
    assert_eq!((u["name"].as_str(), u["status"].as_str()), (Some("robert"), Some("inactive")));
    assert_eq!(s.patch(&format!("/api/v2/users/{uid}"), TOKEN, json!({"status": "sleepy"})).0, 400);

    // Members and owners of an org.
    let (status, m) = s.post(&format!("/api/v2/orgs/{org}/members"), TOKEN, json!({"id": uid}));
    assert_eq!(status, 201, "{m}");
    assert_eq!(m["role"], "member");
    let (_, members) = s.get(&format!("/api/v2/orgs/{org}/members"), TOKEN);
    assert_eq!(names(&members, "users"), ["robert"]);
    assert_eq!(members["links"]["self"], format!("/api/v2/orgs/{org}/members"));
    assert_eq!(s.post(&format!("/api/v2/orgs/{org}/owners"), TOKEN, json!({"id": uid})).0, 201);
    let (_, owners) = s.get(&format!("/api/v2/orgs/{org}/owners"), TOKEN);
    assert_eq!(owners["users"].as_array().unwrap().len(), 2);
    assert_eq!(s.delete(&format!("/api/v2/orgs/{org}/owners/{uid}"), TOKEN).0, 204);
    assert_eq!(s.delete(&format!("/api/v2/orgs/{org}/owners/{uid}"), TOKEN).0, 404);
    assert_eq!(s.post(&format!("/api/v2/orgs/{org}/members"), TOKEN, json!({"id": "0000000000000001"})).0, 404);

    assert_eq!(s.delete(&format!("/api/v2/users/{uid}"), TOKEN).0, 204);
    assert_eq!(s.get(&format!("/api/v2/users/{uid}"), TOKEN).0, 404);
}

#[test]
fn buckets_crud_retention_labels_and_members() {
    let (s, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    let (status, b) = s.post(
        "/api/v2/buckets",
        TOKEN,
        json!({"orgID": org, "name": "weather", "description": "d",
               "retentionRules": [{"type": "expire", "everySeconds": 86400}]}),
    );
    assert_eq!(status, 201, "{b}");
    let id = b["id"].as_str().unwrap();
    assert_eq!(b["type"], "user");
    assert_eq!(
        b["retentionRules"],
        json!([{"type": "expire", "everySeconds": 86400, "shardGroupDurationSeconds": 3600}])
    );
    assert_eq!(b["links"]["write"], format!("/api/v2/write?org={org}&bucket={id}"));
    assert_eq!(b["labels"], json!([]));

    let bad = [
        (json!({"orgID": org, "name": "weather"}), 422, "bucket with name weather already exists"),
        (json!({"name": "x"}), 400, "organization id must be provided"),
        (json!({"orgID": org, "name": "_x"}), 400, "bucket name _x is invalid. Buckets may not start with underscore"),
        (
            json!({"orgID": org, "name": "x", "retentionRules": [{"everySeconds": -1}]}),
            422,
            "expiration seconds cannot be negative",
        ),
        (
            json!({"orgID": org, "name": "x", "retentionRules": [{"everySeconds": 1}, {"everySeconds": 2}]}),
            422,
            "buckets cannot have more than one retention rule at this time",
        ),
        (
            json!({"orgID": org, "name": "x", "retentionRules": [{"everySeconds": 60}]}),
            422,
            "expiration seconds must be greater than or equal to one hour",
        ),
        (json!({"orgID": "0000000000000001", "name": "x"}), 404, "organization not found"),
    ];
    for (req, want_status, want_msg) in bad {
        let (status, body) = s.post("/api/v2/buckets", TOKEN, req.clone());
        assert_eq!((status, body["message"].as_str().unwrap_or_default()), (want_status, want_msg), "{req}");
    }

    // Infinite retention and the shard-group durations InfluxDB derives.
    for (every, shard) in [(0, 604_800), (3 * 86400, 86400), (400 * 86400, 604_800)] {
        let (_, b) = s.post(
            "/api/v2/buckets",
            TOKEN,
            json!({"orgID": org, "name": format!("r{every}"), "retentionRules": [{"everySeconds": every}]}),
        );
        assert_eq!(b["retentionRules"][0]["shardGroupDurationSeconds"], shard, "{b}");
    }

    let (_, found) = s.get("/api/v2/buckets?org=acme&name=weather", TOKEN);
    assert_eq!(names(&found, "buckets"), ["weather"]);
    assert_eq!(names(&s.get(&format!("/api/v2/buckets?id={id}"), TOKEN).1, "buckets"), ["weather"]);
    let (_, all) = s.get(&format!("/api/v2/buckets?orgID={org}"), TOKEN);
    assert_eq!(names(&all, "buckets"), ["_monitoring", "_tasks", "metrics", "r0", "r259200", "r34560000", "weather"]);

    let (status, b) = s.patch(
        &format!("/api/v2/buckets/{id}"),
        TOKEN,
        json!({"name": "climate", "retentionRules": [{"everySeconds": 0}]}),
    );
    assert_eq!(status, 200, "{b}");
    assert_eq!(b["name"], "climate");
    assert_eq!(b["description"], "d");
    assert_eq!(b["retentionRules"][0]["everySeconds"], 0);

    // System buckets stay.
    let sys = all["buckets"][0]["id"].as_str().unwrap();
    assert_eq!(s.delete(&format!("/api/v2/buckets/{sys}"), TOKEN).1["message"], "system buckets cannot be deleted");
    assert_eq!(s.patch(&format!("/api/v2/buckets/{sys}"), TOKEN, json!({"name": "x"})).0, 400);

    // Labels on a bucket.
    let (_, label) =
        s.post("/api/v2/labels", TOKEN, json!({"orgID": org, "name": "prod", "properties": {"color": "ff0000"}}));
    let lid = label["label"]["id"].as_str().unwrap();
    let (status, body) = s.post(&format!("/api/v2/buckets/{id}/labels"), TOKEN, json!({"labelID": lid}));
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["label"]["name"], "prod");
    let (_, labels) = s.get(&format!("/api/v2/buckets/{id}/labels"), TOKEN);
    assert_eq!(names(&labels, "labels"), ["prod"]);
    assert_eq!(s.get(&format!("/api/v2/buckets/{id}"), TOKEN).1["labels"][0]["name"], "prod");
    assert_eq!(s.post(&format!("/api/v2/buckets/{id}/labels"), TOKEN, json!({"labelID": lid})).0, 422);
    assert_eq!(s.delete(&format!("/api/v2/buckets/{id}/labels/{lid}"), TOKEN).0, 204);
    assert_eq!(s.get(&format!("/api/v2/buckets/{id}/labels"), TOKEN).1["labels"], json!([]));

    // Members and owners of a bucket.
    let uid = setup["user"]["id"].as_str().unwrap();
    let (_, owners) = s.get(&format!("/api/v2/buckets/{id}/owners"), TOKEN);
    assert_eq!(names(&owners, "users"), ["admin"], "the creator owns the bucket");
    assert_eq!(s.post(&format!("/api/v2/buckets/{id}/members"), TOKEN, json!({"id": uid})).0, 201);
    assert_eq!(names(&s.get(&format!("/api/v2/buckets/{id}/members"), TOKEN).1, "users"), ["admin"]);
    assert_eq!(s.delete(&format!("/api/v2/buckets/{id}/members/{uid}"), TOKEN).0, 204);

    assert_eq!(s.delete(&format!("/api/v2/buckets/{id}"), TOKEN).0, 204);
    let (status, body) = s.get(&format!("/api/v2/buckets/{id}"), TOKEN);
    assert_eq!((status, body), (404, json!({"code": "not found", "message": "bucket not found"})));
}

#[test]
fn labels_crud() {
    let (s, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    let (status, body) = s.post(
        "/api/v2/labels",
        TOKEN,
        json!({"orgID": org, "name": "a", "properties": {"color": "red", "description": "x"}}),
    );
    assert_eq!(status, 201, "{body}");
    let id = body["label"]["id"].as_str().unwrap();
    assert_eq!(body["label"]["orgID"], org);
    assert_eq!(body["links"]["self"], format!("/api/v2/labels/{id}"));
    assert_eq!(s.post("/api/v2/labels", TOKEN, json!({"orgID": org, "name": "a"})).0, 422);
    assert_eq!(s.post("/api/v2/labels", TOKEN, json!({"name": "b"})).0, 400);
    s.post("/api/v2/labels", TOKEN, json!({"orgID": org, "name": "b"}));

    assert_eq!(names(&s.get("/api/v2/labels", TOKEN).1, "labels"), ["a", "b"]);
    assert_eq!(names(&s.get("/api/v2/labels?name=b", TOKEN).1, "labels"), ["b"]);
    assert_eq!(names(&s.get(&format!("/api/v2/labels?orgID={org}"), TOKEN).1, "labels").len(), 2);

    // An empty property value removes the key.
    let (status, body) = s.patch(
        &format!("/api/v2/labels/{id}"),
        TOKEN,
        json!({"name": "c", "properties": {"color": "blue", "description": ""}}),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["label"]["name"], "c");
    assert_eq!(body["label"]["properties"], json!({"color": "blue"}));
    assert_eq!(s.get(&format!("/api/v2/labels/{id}"), TOKEN).1["label"]["name"], "c");
    assert_eq!(s.delete(&format!("/api/v2/labels/{id}"), TOKEN).0, 204);
    assert_eq!(
        s.get(&format!("/api/v2/labels/{id}"), TOKEN),
        (404, json!({"code": "not found", "message": "label not found"}))
    );
}

#[test]
fn authorizations_crud_and_the_token_is_shown_only_once() {
    let (s, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    let uid = setup["user"]["id"].as_str().unwrap();
    let bucket = setup["bucket"]["id"].as_str().unwrap();
    let (status, a) = s.post(
        "/api/v2/authorizations",
        TOKEN,
        json!({"orgID": org, "description": "telegraf",
               "permissions": [{"action": "write", "resource": {"type": "buckets", "id": bucket, "orgID": org}}]}),
    );
    assert_eq!(status, 201, "{a}");
    let id = a["id"].as_str().unwrap();
    assert_eq!(a["token"].as_str().unwrap().len(), 88);
    assert_eq!(a["status"], "active");
    assert_eq!(a["userID"], uid, "defaults to the creating user");
    assert_eq!(a["user"], "admin");
    assert_eq!(a["org"], "acme");
    assert_eq!(a["permissions"][0]["resource"]["name"], "metrics");
    assert_eq!(a["permissions"][0]["resource"]["org"], "acme");
    assert_eq!(
        a["links"],
        json!({"self": format!("/api/v2/authorizations/{id}"), "user": format!("/api/v2/users/{uid}")})
    );

    let (status, got) = s.get(&format!("/api/v2/authorizations/{id}"), TOKEN);
    assert_eq!(status, 200);
    assert!(got.get("token").is_none(), "tokens are stored hashed and never shown again: {got}");
    assert_eq!(got["description"], "telegraf");

    let (_, list) = s.get("/api/v2/authorizations", TOKEN);
    assert_eq!(list["authorizations"].as_array().unwrap().len(), 2);
    for filter in [format!("userID={uid}"), "user=admin".into(), format!("orgID={org}"), "org=acme".into()] {
        let (status, l) = s.get(&format!("/api/v2/authorizations?{filter}"), TOKEN);
        assert_eq!((status, l["authorizations"].as_array().unwrap().len()), (200, 2), "{filter}");
    }
    let token = a["token"].as_str().unwrap();
    let (_, l) = s.get(&format!("/api/v2/authorizations?token={}", urlencode(token)), TOKEN);
    assert_eq!(l["authorizations"].as_array().unwrap().len(), 1);
    assert_eq!(l["authorizations"][0]["id"], id);

    let (status, p) =
        s.patch(&format!("/api/v2/authorizations/{id}"), TOKEN, json!({"status": "inactive", "description": "off"}));
    assert_eq!(status, 200);
    assert_eq!((p["status"].as_str(), p["description"].as_str()), (Some("inactive"), Some("off")));

    let bad = [
        json!({"permissions": [{"action": "read", "resource": {"type": "buckets"}}]}),
        json!({"orgID": org, "permissions": []}),
        json!({"orgID": org, "permissions": [{"action": "read", "resource": {"type": "nope"}}]}),
        json!({"orgID": org, "permissions": [{"action": "peek", "resource": {"type": "buckets"}}]}),
    ];
    for req in bad {
        let (status, body) = s.post("/api/v2/authorizations", TOKEN, req.clone());
        assert_eq!(status, 400, "{req} -> {body}");
    }

    assert_eq!(s.delete(&format!("/api/v2/authorizations/{id}"), TOKEN).0, 204);
    assert_eq!(s.get(&format!("/api/v2/authorizations/{id}"), TOKEN).0, 404);
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn pagination_limit_offset_after_and_descending() {
    let (s, _) = TestServer::onboarded();
    for i in 0..5 {
        assert_eq!(s.post("/api/v2/orgs", TOKEN, json!({"name": format!("org{i}")})).0, 201);
    }
    let (_, all) = s.get("/api/v2/orgs", TOKEN);
    let ids: Vec<String> =
        all["orgs"].as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(ids.len(), 6);
    assert!(all["links"].get("next").is_none(), "fewer than limit");

    let (_, page) = s.get("/api/v2/orgs?limit=2&offset=2", TOKEN);
    let got: Vec<&str> = page["orgs"].as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap()).collect();
    assert_eq!(got, [&ids[2], &ids[3]]);
    assert_eq!(page["links"]["self"], "/api/v2/orgs?descending=false&limit=2&offset=2");
    assert_eq!(page["links"]["next"], "/api/v2/orgs?descending=false&limit=2&offset=4");
    assert_eq!(page["links"]["prev"], "/api/v2/orgs?descending=false&limit=2&offset=0");

    let (_, page) = s.get(&format!("/api/v2/orgs?after={}&limit=1", ids[0]), TOKEN);
    assert_eq!(page["orgs"][0]["id"], ids[1].as_str());
    let (_, page) = s.get("/api/v2/orgs?descending=true&limit=1", TOKEN);
    assert_eq!(page["orgs"][0]["id"], ids[5].as_str());

    for (q, msg) in [
        ("limit=0", "limit must be between 1 and 100"),
        ("limit=101", "limit must be between 1 and 100"),
        ("limit=x", "limit is invalid"),
        ("offset=-1", "offset is invalid"),
        ("descending=maybe", "descending is invalid"),
    ] {
        for list in ["orgs", "buckets", "users", "authorizations"] {
            let (status, body) = s.get(&format!("/api/v2/{list}?{q}"), TOKEN);
            assert_eq!((status, body["message"].as_str().unwrap()), (400, msg), "{list}?{q}");
        }
    }
}

#[test]
fn malformed_bodies_are_400_with_a_message_that_names_the_problem() {
    let (s, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    let bucket = setup["bucket"]["id"].as_str().unwrap();
    let uid = setup["user"]["id"].as_str().unwrap();
    let posts = ["/api/v2/orgs", "/api/v2/users", "/api/v2/buckets", "/api/v2/authorizations", "/api/v2/labels"];
    let patches = [format!("/api/v2/orgs/{org}"), format!("/api/v2/buckets/{bucket}"), format!("/api/v2/users/{uid}")];
    let paths: Vec<(reqwest::Method, String)> = posts
        .iter()
        .map(|p| (reqwest::Method::POST, p.to_string()))
        .chain(patches.iter().map(|p| (reqwest::Method::PATCH, p.clone())))
        .collect();
    for (method, path) in paths {
        for body in ["{", "[]", r#"{"name": 5, "orgID": 5, "status": 5}"#, "not json"] {
            let r = s.request(method.clone(), &path, Some(TOKEN)).body(body).send().unwrap();
            let status = r.status().as_u16();
            let got: Value = r.json().unwrap();
            assert_eq!(status, 400, "{method} {path} {body}: {got}");
            assert_eq!(got["code"], "invalid");
            assert!(got["message"].as_str().unwrap().starts_with("failed to decode request body: "), "{got}");
        }
    }
}

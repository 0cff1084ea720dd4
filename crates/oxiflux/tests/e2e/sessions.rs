use reqwest::Method;
use serde_json::json;

use crate::server::{PASSWORD, TOKEN, TestServer, decode};

fn session_cookie(r: &reqwest::blocking::Response) -> String {
    let set = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(set.starts_with("influxdb-oss-session="), "{set}");
    assert!(set.contains("Path=/api/") && set.contains("HttpOnly") && set.contains("SameSite=Strict"), "{set}");
    set.split(';').next().unwrap().to_owned()
}

#[test]
fn signin_sets_a_cookie_that_works_until_signout() {
    let (s, _) = TestServer::onboarded();
    let r = s.request(Method::POST, "/api/v2/signin", None).basic_auth("admin", Some(PASSWORD)).send().unwrap();
    assert_eq!(r.status(), 204);
    let cookie = session_cookie(&r);

    let me = |cookie: &str| decode(s.request(Method::GET, "/api/v2/me", None).header("Cookie", cookie).send().unwrap());
    let (status, body) = me(&cookie);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["name"], "admin");
    assert_eq!(body["links"]["self"], format!("/api/v2/users/{}", body["id"].as_str().unwrap()));

    // The session carries the user's token permissions (here the operator's).
    let (status, _) = decode(s.request(Method::GET, "/api/v2/orgs", None).header("Cookie", &cookie).send().unwrap());
    assert_eq!(status, 200);

    let r = s.request(Method::POST, "/api/v2/signout", None).header("Cookie", &cookie).send().unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(me(&cookie).0, 401);
    assert_eq!(me("influxdb-oss-session=forged").0, 401);
}

#[test]
fn signin_refuses_bad_credentials() {
    let (s, _) = TestServer::onboarded();
    for (user, pass) in [("admin", "wrongpassword"), ("nobody", PASSWORD)] {
        let r = s.request(Method::POST, "/api/v2/signin", None).basic_auth(user, Some(pass)).send().unwrap();
        assert_eq!(decode(r), (401, json!({"code": "unauthorized", "message": "unauthorized access"})));
    }
    let r = s.request(Method::POST, "/api/v2/signin", None).send().unwrap();
    assert_eq!(r.status(), 401);
}

#[test]
fn bearer_and_token_schemes_both_authenticate() {
    let (s, _) = TestServer::onboarded();
    for header in [format!("Token {TOKEN}"), format!("Bearer {TOKEN}")] {
        let r = s.request(Method::GET, "/api/v2/me", None).header("Authorization", header).send().unwrap();
        assert_eq!(r.status(), 200);
    }
    for header in ["Token", "Token wrong", "Basic abc", &format!("token {TOKEN}")] {
        let r = s.request(Method::GET, "/api/v2/me", None).header("Authorization", header).send().unwrap();
        assert_eq!(r.status(), 401, "{header}");
    }
}

#[test]
fn passwords_change_through_me_and_users() {
    let (s, setup) = TestServer::onboarded();
    let uid = setup["user"]["id"].as_str().unwrap();

    // As the spec describes it: sign in for a session cookie, then PUT /me/password
    // with that cookie and the current password as Basic credentials.
    let r = s.request(Method::POST, "/api/v2/signin", None).basic_auth("admin", Some(PASSWORD)).send().unwrap();
    let cookie = session_cookie(&r);
    let put_me = |old: &str, new: &str| {
        decode(
            s.request(Method::PUT, "/api/v2/me/password", None)
                .header("Cookie", &cookie)
                .basic_auth("admin", Some(old))
                .json(&json!({"password": new}))
                .send()
                .unwrap(),
        )
    };
    assert_eq!(put_me("not-the-password", "newpassword1").0, 401);
    assert_eq!(put_me(PASSWORD, "short").0, 400);
    assert_eq!(put_me(PASSWORD, "newpassword1").0, 204);

    let signin =
        |p: &str| s.request(Method::POST, "/api/v2/signin", None).basic_auth("admin", Some(p)).send().unwrap().status();
    assert_eq!(signin(PASSWORD), 401);
    assert_eq!(signin("newpassword1"), 204);

    for method in [Method::POST, Method::PUT] {
        let (status, body) = s.call(
            method,
            &format!("/api/v2/users/{uid}/password"),
            Some(TOKEN),
            Some(json!({"password": "another-pass"})),
        );
        assert_eq!(status, 204, "{body}");
    }
    assert_eq!(signin("another-pass"), 204);
    let (status, body) = s.post(&format!("/api/v2/users/{uid}/password"), TOKEN, json!({"password": "2short"}));
    assert_eq!((status, body["message"].as_str().unwrap()), (400, "passwords must be at least 8 characters long"));
    let (status, _) = s.post("/api/v2/users/0000000000000001/password", TOKEN, json!({"password": "long enough"}));
    assert_eq!(status, 404);
}

#[test]
fn a_signed_in_member_reads_but_cannot_write_their_org() {
    let (s, setup) = TestServer::onboarded();
    let org = setup["org"]["id"].as_str().unwrap();
    let (_, user) = s.post("/api/v2/users", TOKEN, json!({"name": "reader"}));
    let uid = user["id"].as_str().unwrap();
    assert_eq!(s.post(&format!("/api/v2/users/{uid}/password"), TOKEN, json!({"password": PASSWORD})).0, 204);
    assert_eq!(s.post(&format!("/api/v2/orgs/{org}/members"), TOKEN, json!({"id": uid})).0, 201);

    let r = s.request(Method::POST, "/api/v2/signin", None).basic_auth("reader", Some(PASSWORD)).send().unwrap();
    let cookie = session_cookie(&r);
    let with_cookie = |m: Method, path: &str, body: Option<serde_json::Value>| {
        let mut rb = s.request(m, path, None).header("Cookie", &cookie);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        decode(rb.send().unwrap())
    };
    let (status, body) = with_cookie(Method::GET, &format!("/api/v2/buckets?orgID={org}"), None);
    assert_eq!(status, 200);
    assert_eq!(body["buckets"].as_array().unwrap().len(), 3, "{body}");
    let (status, body) =
        with_cookie(Method::POST, "/api/v2/buckets", Some(json!({"orgID": org, "name": "nope", "retentionRules": []})));
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["message"], format!("write:orgs/{org}/buckets is unauthorized"));
}

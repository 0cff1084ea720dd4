//! Writing over HTTP: `/api/v2/write`, v1 `/write`, DBRP mappings, delete.

use std::io::Write;

use reqwest::Method;
use serde_json::{Value, json};

use crate::server::{TOKEN, TestServer, decode, org_id};

const T: i64 = 1_700_000_000_000_000_000;

fn write(s: &TestServer, query: &str, token: Option<&str>, body: &str) -> (u16, Value) {
    decode(s.request(Method::POST, &format!("/api/v2/write?{query}"), token).body(body.to_owned()).send().unwrap())
}

#[test]
fn v2_write_stores_points_and_reports_errors_as_influxdb() {
    let (mut s, setup) = TestServer::onboarded();
    let bucket = setup["bucket"]["id"].as_str().unwrap().to_owned();
    let org = org_id(&setup);

    let body = format!("cpu,host=a usage=1.5,n=3i {T}\ncpu,host=b usage=2 {}\n", T + 1);
    assert_eq!(write(&s, "org=acme&bucket=metrics", Some(TOKEN), &body), (204, Value::Null));
    // By IDs and with a precision.
    let (status, _) =
        write(&s, &format!("orgID={org}&bucket={bucket}&precision=s"), Some(TOKEN), "mem free=7i 1700000001");
    assert_eq!(status, 204);
    // Gzip.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(format!("disk used=9 {T}").as_bytes()).unwrap();
    let r = s
        .request(Method::POST, "/api/v2/write?org=acme&bucket=metrics", Some(TOKEN))
        .header("Content-Encoding", "gzip")
        .body(gz.finish().unwrap())
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);

    #[rustfmt::skip]
    let cases: Vec<(&str, Option<&str>, String, u16, Value)> = vec![
        ("org=acme&bucket=metrics", None, "m v=1".into(), 401, json!({"code": "unauthorized", "message": "unauthorized access"})),
        ("org=nope&bucket=metrics", Some(TOKEN), "m v=1".into(), 404, json!({"code": "not found", "message": "organization name \"nope\" not found"})),
        ("org=acme&bucket=nope", Some(TOKEN), "m v=1".into(), 404, json!({"code": "not found", "message": "bucket not found"})),
        ("bucket=metrics", Some(TOKEN), "m v=1".into(), 400, json!({"code": "invalid", "message": "Please provide either orgID or org"})),
        ("org=acme&bucket=metrics&precision=m", Some(TOKEN), "m v=1".into(), 400,
            json!({"code": "invalid", "message": "invalid precision; valid precision units are ns, us, ms, and s"})),
        ("org=acme&bucket=metrics", Some(TOKEN), format!("ok v=1 {T}\nbad v=\nok v=2 {T}"), 400,
            json!({"code": "invalid", "message": "unable to parse 'bad v=': missing field value (line 2, column 7)"})),
        ("org=acme&bucket=metrics", Some(TOKEN), format!("cpu,host=a usage=1i {}", T + 5), 422,
            json!({"code": "unprocessable entity", "message":
                "failure writing points to database: partial write: field type conflict: input field \"usage\" on measurement \"cpu\" is type integer, already exists as type float dropped=1"})),
    ];
    for (query, token, body, want_status, want) in cases {
        let got = write(&s, query, token, &body);
        assert_eq!(got, (want_status, want), "{query} {body}");
    }

    let points = s.stop_and_read(&bucket);
    let mut got: Vec<String> = points.iter().map(|(s, f, t, v)| format!("{s} {f}={v} {t}")).collect();
    got.sort();
    assert_eq!(
        got,
        [
            format!("cpu,host=a n=3 {T}"),
            format!("cpu,host=a usage=1.5 {T}"),
            format!("cpu,host=b usage=2.0 {}", T + 1),
            format!("disk used=9.0 {T}"),
            "mem free=7 1700000001000000000".to_string(),
        ],
        "the bad batch wrote nothing; the conflicting point was dropped"
    );
}

#[test]
fn points_outside_retention_are_dropped_with_422() {
    let (s, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    let (_, b) = s.post(
        "/api/v2/buckets",
        TOKEN,
        json!({"orgID": org, "name": "short", "retentionRules": [{"everySeconds": 3600}]}),
    );
    assert!(b["id"].is_string());
    let now = chrono_now();
    let body = format!("m v=1 {}\nm v=2 {now}", now - 7_200_000_000_000);
    let (status, body) = write(&s, "org=acme&bucket=short", Some(TOKEN), &body);
    assert_eq!(status, 422, "{body}");
    let msg = body["message"].as_str().unwrap();
    assert!(
        msg.starts_with("failure writing points to database: partial write: dropped 1 points outside retention policy of duration 1h0m0s - oldest ")
            && msg.ends_with(" dropped=1"),
        "{msg}"
    );
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as i64
}

#[test]
fn write_needs_write_permission_on_the_bucket() {
    let (s, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    let bucket = setup["bucket"]["id"].as_str().unwrap();
    let (read_only, _) = s.make_token(&org, json!([{"action": "read", "resource": {"type": "buckets", "id": bucket}}]));
    assert_eq!(
        write(&s, "org=acme&bucket=metrics", Some(&read_only), "m v=1"),
        (403, json!({"code": "forbidden", "message": "insufficient permissions for write"}))
    );
    let (writer, _) = s.make_token(&org, json!([{"action": "write", "resource": {"type": "buckets", "id": bucket}}]));
    assert_eq!(write(&s, "org=acme&bucket=metrics", Some(&writer), "m v=1").0, 204);
}

#[test]
fn max_request_size_gives_413_also_after_gunzip() {
    let s = TestServer::start_with(&["--http-max-request-size", "100"], &[]);
    s.setup();
    let small = "m v=1";
    let big: String = (0..20).map(|i| format!("m v={i}\n")).collect();
    assert_eq!(write(&s, "org=acme&bucket=metrics", Some(TOKEN), small).0, 204);
    assert_eq!(
        write(&s, "org=acme&bucket=metrics", Some(TOKEN), &big),
        (413, json!({"code": "request too large", "message": "unable to read data: points batch is too large"}))
    );
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(big.repeat(10).as_bytes()).unwrap();
    let compressed = gz.finish().unwrap();
    assert!(compressed.len() < 100);
    let r = s
        .request(Method::POST, "/api/v2/write?org=acme&bucket=metrics", Some(TOKEN))
        .header("Content-Encoding", "gzip")
        .body(compressed)
        .send()
        .unwrap();
    assert_eq!(r.status(), 413);
    let r = s
        .request(Method::POST, "/api/v2/write?org=acme&bucket=metrics", Some(TOKEN))
        .header("Content-Encoding", "gzip")
        .body("not gzip")
        .send()
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[test]
fn v1_write_with_every_credential_form_and_dbrp_mappings() {
    let (mut s, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    let bucket = setup["bucket"]["id"].as_str().unwrap().to_owned();
    let v1 = |query: &str, auth: Option<(&str, &str)>, body: &str| {
        let mut rb = s.client.post(s.url(&format!("/write?{query}"))).body(body.to_owned());
        if let Some((k, v)) = auth {
            rb = rb.header(k, v);
        }
        decode(rb.send().unwrap())
    };
    let basic = format!("Basic {}", base64_encode(&format!("admin:{TOKEN}")));
    let token_user = format!("Token admin:{TOKEN}");
    let token = format!("Token {TOKEN}");
    // The virtual mapping: db = bucket name, rp = autogen.
    assert_eq!(v1("db=metrics", Some(("Authorization", &token)), &format!("a v=1 {T}")).0, 204);
    assert_eq!(v1("db=metrics&rp=autogen&precision=s", Some(("Authorization", &basic)), "b v=1 1700000000").0, 204);
    assert_eq!(v1(&format!("db=metrics&u=admin&p={TOKEN}&precision=ms"), None, "c v=1 1700000000000").0, 204);
    assert_eq!(v1("db=metrics", Some(("Authorization", &token_user)), &format!("d v=1 {T}")).0, 204);

    // Errors carry both the v2 and the v1 shape.
    let (status, body) = v1("db=metrics", None, "a v=1");
    assert_eq!(status, 401);
    assert_eq!(body["error"], "unauthorized access");
    assert_eq!(body["code"], "unauthorized");
    let (status, body) = v1("", Some(("Authorization", &token)), "a v=1");
    assert_eq!((status, body["error"].as_str().unwrap()), (400, "missing db"));
    let (status, body) = v1("db=nodb", Some(("Authorization", &token)), "a v=1");
    assert_eq!((status, body["error"].as_str().unwrap()), (404, "no dbrp mapping found"));
    let (status, body) = v1("db=metrics", Some(("Authorization", &token)), "a v=");
    assert_eq!(status, 400);
    assert!(body["error"].as_str().unwrap().starts_with("unable to parse 'a v='"), "{body}");

    // An explicit mapping: db "legacy" rp "week" → the metrics bucket.
    let (status, m) = s.post(
        "/api/v2/dbrps",
        TOKEN,
        json!({"orgID": org, "bucketID": bucket, "database": "legacy", "retention_policy": "week"}),
    );
    assert_eq!(status, 201, "{m}");
    assert_eq!(m["default"], true, "the first mapping of a database is its default");
    assert_eq!(v1("db=legacy", Some(("Authorization", &token)), &format!("e v=1 {T}")).0, 204);
    assert_eq!(v1("db=legacy&rp=week", Some(("Authorization", &token)), &format!("f v=1 {T}")).0, 204);
    assert_eq!(v1("db=legacy&rp=other", Some(("Authorization", &token)), "g v=1").0, 404);

    let points = s.stop_and_read(&bucket);
    let mut names: Vec<&str> = points.iter().map(|p| p.0.as_str()).collect();
    names.sort();
    assert_eq!(names, ["a", "b", "c", "d", "e", "f"]);
    assert!(points.iter().all(|p| p.2 == T), "precisions applied: {points:?}");
}

fn base64_encode(s: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let b = s.as_bytes();
    let mut out = String::new();
    for chunk in b.chunks(3) {
        let n =
            (chunk[0] as u32) << 16 | (*chunk.get(1).unwrap_or(&0) as u32) << 8 | *chunk.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn dbrp_crud_lists_virtual_and_physical_mappings() {
    let (s, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    let bucket = setup["bucket"]["id"].as_str().unwrap();

    let (status, list) = s.get(&format!("/api/v2/dbrps?orgID={org}"), TOKEN);
    assert_eq!(status, 200);
    let virtuals: Vec<&Value> = list["content"].as_array().unwrap().iter().filter(|m| m["virtual"] == true).collect();
    assert_eq!(virtuals.len(), 3, "one per bucket, system buckets included: {list}");
    let metrics = virtuals.iter().find(|m| m["database"] == "metrics").unwrap();
    assert_eq!((metrics["retention_policy"].as_str(), metrics["default"].as_bool()), (Some("autogen"), Some(true)));
    assert_eq!(metrics["id"], bucket);

    let (status, m) = s.post(
        "/api/v2/dbrps",
        TOKEN,
        json!({"org": "acme", "bucketID": bucket, "database": "db", "retention_policy": "rp1"}),
    );
    assert_eq!(status, 201, "{m}");
    let id = m["id"].as_str().unwrap();
    let (status, m2) = s.post(
        "/api/v2/dbrps",
        TOKEN,
        json!({"orgID": org, "bucketID": bucket, "database": "db", "retention_policy": "rp2", "default": true}),
    );
    assert_eq!(status, 201);
    assert_eq!(s.get(&format!("/api/v2/dbrps/{id}?orgID={org}"), TOKEN).1["content"]["default"], false);
    let (_, l) = s.get("/api/v2/dbrps?org=acme&db=db&default=true", TOKEN);
    assert_eq!(l["content"][0]["id"], m2["id"]);

    let (status, p) =
        s.patch(&format!("/api/v2/dbrps/{id}?orgID={org}"), TOKEN, json!({"retention_policy": "rp3", "default": true}));
    assert_eq!(status, 200, "{p}");
    assert_eq!(
        (p["content"]["retention_policy"].as_str(), p["content"]["default"].as_bool()),
        (Some("rp3"), Some(true))
    );

    #[rustfmt::skip]
    let bad: Vec<(Value, u16, &str)> = vec![
        (json!({"bucketID": bucket, "database": "x", "retention_policy": "y"}), 400, "either 'org' or 'orgID' must be provided"),
        (json!({"orgID": org, "bucketID": "nope", "database": "x", "retention_policy": "y"}), 400, "invalid bucket ID \"nope\""),
        (json!({"orgID": org, "bucketID": bucket, "database": "db", "retention_policy": "rp2"}), 422,
            "another DBRP mapping with same orgID, db, and rp exists"),
        (json!({"orgID": org, "bucketID": bucket, "database": "bad db", "retention_policy": "y"}), 400,
            "database must contain at least one character and only be letters, numbers, '_', '-', and '.'"),
        (json!({"orgID": org, "bucketID": "00000000000000ff", "database": "x", "retention_policy": "y"}), 404, "bucket not found"),
    ];
    for (req, want_status, want_msg) in bad {
        let (status, body) = s.post("/api/v2/dbrps", TOKEN, req.clone());
        assert_eq!((status, body["message"].as_str().unwrap_or_default()), (want_status, want_msg), "{req}");
    }
    assert_eq!(s.get("/api/v2/dbrps", TOKEN).0, 400);

    assert_eq!(s.delete(&format!("/api/v2/dbrps/{id}?orgID={org}"), TOKEN).0, 204);
    assert_eq!(s.get(&format!("/api/v2/dbrps/{id}?orgID={org}"), TOKEN).0, 404);
    // The other mapping of "db" becomes its default again.
    assert_eq!(
        s.get(&format!("/api/v2/dbrps/{}?orgID={org}", m2["id"].as_str().unwrap()), TOKEN).1["content"]["default"],
        true
    );
}

#[test]
fn delete_by_time_and_predicate() {
    let (mut s, setup) = TestServer::onboarded();
    let bucket = setup["bucket"]["id"].as_str().unwrap().to_owned();
    let body =
        format!("cpu,host=a v=1 {T}\ncpu,host=b v=2 {T}\nmem,host=a v=3 {T}\ncpu,host=a v=4 {}", T + 3_600_000_000_000);
    assert_eq!(write(&s, "org=acme&bucket=metrics", Some(TOKEN), &body).0, 204);
    let del = |pred: &str| {
        s.call(
            Method::POST,
            "/api/v2/delete?org=acme&bucket=metrics",
            Some(TOKEN),
            Some(json!({"start": "2023-11-14T00:00:00Z", "stop": "2023-11-14T23:00:00Z", "predicate": pred})),
        )
    };
    assert_eq!(del(r#"_measurement="cpu" AND host="a""#), (204, Value::Null));
    let (status, body) = del(r#"host="a" OR host="b""#);
    assert_eq!(status, 400);
    assert!(body["message"].as_str().unwrap().contains("the logical operator OR is not supported yet"), "{body}");
    assert_eq!(del(r#"_field="v""#).0, 501);
    let (status, body) = s.call(
        Method::POST,
        "/api/v2/delete?org=acme&bucket=metrics",
        Some(TOKEN),
        Some(json!({"start": "yesterday", "stop": "2023-11-14T23:00:00Z"})),
    );
    assert_eq!(status, 400);
    assert!(body["message"].as_str().unwrap().starts_with("invalid RFC3339Nano for field start"), "{body}");
    let (status, _) = s.call(
        Method::POST,
        "/api/v2/delete?org=acme&bucket=nope",
        Some(TOKEN),
        Some(json!({"start": "2023-11-14T00:00:00Z", "stop": "2023-11-14T23:00:00Z"})),
    );
    assert_eq!(status, 404);

    // Deleted points stay deleted after a restart (the delete is logged).
    let s2 = s.restart();
    s = s2;
    let mut left: Vec<String> = s.stop_and_read(&bucket).iter().map(|p| format!("{} {}", p.0, p.3)).collect();
    left.sort();
    assert_eq!(left, ["cpu,host=a 4.0", "cpu,host=b 2.0", "mem,host=a 3.0"]);
}

#[test]
fn deleting_a_bucket_deletes_its_data() {
    let (mut s, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    let (_, b) = s.post("/api/v2/buckets", TOKEN, json!({"orgID": org, "name": "doomed"}));
    let id = b["id"].as_str().unwrap().to_owned();
    assert_eq!(write(&s, "org=acme&bucket=doomed", Some(TOKEN), &format!("m v=1 {T}")).0, 204);
    assert_eq!(s.delete(&format!("/api/v2/buckets/{id}"), TOKEN).0, 204);
    assert!(s.stop_and_read(&id).is_empty());
}

#[test]
fn shortening_retention_drops_expired_data_at_the_next_check() {
    let mut s = TestServer::start_with(&["--storage-retention-check-interval", "1s"], &[]);
    let setup = s.setup();
    // Two days of retention: shard groups one day wide.
    let (status, b) = s.post(
        "/api/v2/buckets",
        TOKEN,
        json!({"orgID": org_id(&setup), "name": "twodays", "retentionRules": [{"everySeconds": 172800}]}),
    );
    assert_eq!(status, 201, "{b}");
    assert_eq!(b["retentionRules"][0]["shardGroupDurationSeconds"], 86400);
    let bucket = b["id"].as_str().unwrap().to_owned();
    let hour = 3_600_000_000_000i64;
    let now = chrono_now();
    let body = format!("old v=1 {}\nnew v=2 {now}", now - 30 * hour);
    assert_eq!(write(&s, "org=acme&bucket=twodays", Some(TOKEN), &body).0, 204);
    // Down to an hour: the 30-hour-old point's day-wide shard group now lies
    // wholly outside retention and goes at the next check; today's stays.
    let (status, b) =
        s.patch(&format!("/api/v2/buckets/{bucket}"), TOKEN, json!({"retentionRules": [{"everySeconds": 3600}]}));
    assert_eq!(status, 200, "{b}");
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let left: Vec<String> = s.stop_and_read(&bucket).into_iter().map(|p| p.0).collect();
    assert_eq!(left, ["new"]);
}

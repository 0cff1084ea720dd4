//! Backup and restore between two real servers, with the calls the 2.x
//! `influx backup` / `influx restore` CLI makes (gzip both ways, the
//! multipart metadata, shards by number, the token a kv restore answers):
//! a full restore into another server and one bucket into a new name, with
//! writes going on while the backup is taken; damaged parts are refused and
//! change nothing.

use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use reqwest::Method;
use serde_json::{Value, json};

use crate::server::{TOKEN, TestServer, org_id};

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes).read_to_end(&mut out).expect("gzip");
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

fn write(s: &TestServer, bucket: &str, body: &str) -> u16 {
    let path = format!("/api/v2/write?org=acme&bucket={bucket}&precision=s");
    s.request(Method::POST, &path, Some(TOKEN)).body(body.to_owned()).send().unwrap().status().as_u16()
}

/// GET as the CLI does it (`Accept-Encoding: gzip`): the body, gunzipped if it came so.
fn fetch(s: &TestServer, path: &str, token: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let r = s.request(Method::GET, path, Some(token)).header("Accept-Encoding", "gzip").send().unwrap();
    let (status, headers) = (r.status().as_u16(), r.headers().clone());
    let raw = r.bytes().unwrap().to_vec();
    let gz = headers.get("content-encoding").is_some_and(|v| v == "gzip");
    (status, headers, if gz { gunzip(&raw) } else { raw })
}

/// POST a part as the CLI does (gzipped, `application/octet-stream`).
fn upload(s: &TestServer, path: &str, token: &str, body: &[u8]) -> (u16, Value) {
    let r = s
        .request(Method::POST, path, Some(token))
        .header("Content-Type", "application/octet-stream")
        .header("Content-Encoding", "gzip")
        .body(gzip(body))
        .send()
        .unwrap();
    crate::server::decode(r)
}

/// The parts of a `multipart/mixed` body, by their Content-Disposition name.
fn parts(body: &[u8], content_type: &str) -> Vec<(String, Vec<u8>)> {
    let boundary = content_type.split("boundary=").nth(1).expect("a boundary");
    let delimiter = format!("--{boundary}").into_bytes();
    let find = |from: usize, what: &[u8]| body[from..].windows(what.len()).position(|w| w == what).map(|i| i + from);
    let mut out = Vec::new();
    let mut at = find(0, &delimiter).expect("first delimiter") + delimiter.len();
    while !body[at..].starts_with(b"--") {
        let head_end = find(at, b"\r\n\r\n").expect("part headers") + 4;
        let head = String::from_utf8_lossy(&body[at..head_end]).to_string();
        let name = head.split("name=\"").nth(1).and_then(|r| r.split('"').next()).expect("a name").to_owned();
        let mut end_marker = b"\r\n".to_vec();
        end_marker.extend_from_slice(&delimiter);
        let end = find(head_end, &end_marker).expect("part end");
        out.push((name, body[head_end..end].to_vec()));
        at = end + end_marker.len();
    }
    out
}

/// What a backup directory holds: the kv part, the bucket manifests, each shard's archive.
pub(crate) struct Backup {
    pub(crate) kv: Vec<u8>,
    pub(crate) buckets: Vec<Value>,
    pub(crate) shards: Vec<(u64, Vec<u8>)>,
}

/// What `influx backup` fetches: the metadata, then every shard it names.
pub(crate) fn backup(s: &TestServer) -> Backup {
    let (status, headers, body) = fetch(s, "/api/v2/backup/metadata", TOKEN);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let ct = headers["content-type"].to_str().unwrap().to_owned();
    assert!(ct.starts_with("multipart/mixed; boundary="), "{ct}");
    let parts = parts(&body, &ct);
    let names: Vec<&str> = parts.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["kv", "buckets"]);
    let buckets: Vec<Value> = serde_json::from_slice(&parts[1].1).unwrap();
    let mut shards = Vec::new();
    for b in &buckets {
        for g in b["retentionPolicies"][0]["shardGroups"].as_array().unwrap() {
            for shard in g["shards"].as_array().unwrap() {
                let id = shard["id"].as_u64().unwrap();
                let (status, _, archive) = fetch(s, &format!("/api/v2/backup/shards/{id}"), TOKEN);
                assert_eq!(status, 200, "{}", String::from_utf8_lossy(&archive));
                shards.push((id, archive));
            }
        }
    }
    Backup { kv: parts[0].1.clone(), buckets, shards }
}

/// Every point of a bucket, as sorted `measurement,tags field=value time` text.
fn points(s: &TestServer, token: &str, bucket: &str) -> Vec<String> {
    let q = format!(
        r#"from(bucket: "{bucket}") |> range(start: 0) |> map(fn: (r) => ({{l: r._measurement + "," + r.host + " " + r._field + "=" + string(v: r._value) + " " + string(v: r._time)}})) |> keep(columns: ["l"]) |> group()"#
    );
    let r = s
        .request(Method::POST, "/api/v2/query?org=acme", Some(token))
        .header("Content-Type", "application/vnd.flux")
        .body(q)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().unwrap();
    assert!(!text.contains(",error,"), "{text}");
    let mut out: Vec<String> = text
        .lines()
        .filter(|l| l.starts_with(",_result,"))
        .map(|l| l.splitn(4, ',').nth(3).unwrap_or_default().trim().trim_matches('"').to_owned())
        .collect();
    out.sort();
    out
}

const DATA: &str = "cpu,host=a usage=1.5 1577836800\ncpu,host=b usage=2 1577836810\n\
                    mem,host=a free=10i 1578441600\nmem,host=a ok=true 1578441601\nmem,host=a note=\"x y\" 1578441602";

#[test]
fn a_full_backup_taken_during_writes_restores_into_another_server() {
    let (a, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    assert_eq!(write(&a, "metrics", DATA), 204);
    let (status, body) = a.patch(&format!("/api/v2/orgs/{org}/secrets"), TOKEN, json!({"hook": "https://example/x"}));
    assert_eq!(status, 204, "{body}");

    // Writes go on while the backup is taken; those acknowledged before it began must come back.
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (stop, acked, url) =
            (Arc::clone(&stop), Arc::clone(&acked), a.url("/api/v2/write?org=acme&bucket=metrics&precision=s"));
        std::thread::spawn(move || {
            let client = reqwest::blocking::Client::new();
            let mut i = 0usize;
            while !stop.load(Ordering::SeqCst) {
                let body = format!("live,host=w n={i}i {}", 1577836800 + i);
                let r = client.post(&url).header("Authorization", format!("Token {TOKEN}")).body(body).send().unwrap();
                assert_eq!(r.status(), 204);
                i += 1;
                acked.store(i, Ordering::SeqCst);
            }
        })
    };
    while acked.load(Ordering::SeqCst) < 20 {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let acked_before = acked.load(Ordering::SeqCst);
    let taken = backup(&a);
    stop.store(true, Ordering::SeqCst);
    writer.join().unwrap();
    let metrics = taken.buckets.iter().find(|b| b["bucketName"] == "metrics").expect("metrics in the manifest");
    assert_eq!(metrics["organizationName"], "acme");
    assert_eq!(metrics["retentionPolicies"][0]["shardGroups"].as_array().unwrap().len(), 2, "{metrics}");
    assert!(taken.buckets.iter().any(|b| b["bucketName"] == "_monitoring"));

    let (b, _) = TestServer::onboarded();
    let (status, answer) = upload(&b, "/api/v2/restore/kv", TOKEN, &taken.kv);
    assert_eq!(status, 200, "{answer}");
    let token = answer["token"].as_str().unwrap().to_owned();
    assert!(!token.is_empty() && token != TOKEN);
    for (id, archive) in &taken.shards {
        let (status, body) = upload(&b, &format!("/api/v2/restore/shards/{id}"), &token, archive);
        assert!((200..300).contains(&status), "shard {id}: {status} {body}");
    }

    let got = points(&b, &token, "metrics");
    for want in points(&a, TOKEN, "metrics").iter().filter(|l| !l.starts_with("live")) {
        assert!(got.contains(want), "{want} missing after the restore");
    }
    let live = got.iter().filter(|l| l.starts_with("live")).count();
    assert!(live >= acked_before, "{live} live points restored, {acked_before} acknowledged before the backup");
    // The backed-up server's token works on the restored one, and so do its secrets.
    let (status, orgs) = b.get("/api/v2/orgs?org=acme", TOKEN);
    assert_eq!((status, orgs["orgs"][0]["id"].as_str()), (200, Some(org.as_str())), "{orgs}");
    let csv = b.flux_csv(
        r#"import "array"
import "influxdata/influxdb/secrets"
array.from(rows: [{v: secrets.get(key: "hook")}])"#,
    );
    assert!(csv.contains("https://example/x"), "{csv}");
}

#[test]
fn one_bucket_restores_into_a_new_name() {
    let (a, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    assert_eq!(write(&a, "metrics", DATA), 204);
    let taken = backup(&a);
    let mut manifest = taken.buckets.iter().find(|b| b["bucketName"] == "metrics").unwrap().clone();
    manifest["bucketName"] = json!("metrics-copy");
    manifest["organizationID"] = json!(org);
    let (status, mapped) = a.post("/api/v2/restore/bucketMetadata", TOKEN, manifest.clone());
    assert_eq!(status, 201, "{mapped}");
    assert_eq!(mapped["name"], "metrics-copy");
    let mappings = mapped["shardMappings"].as_array().unwrap();
    assert_eq!(mappings.len(), 2, "{mapped}");
    for m in mappings {
        let old = m["oldId"].as_u64().unwrap();
        let archive = &taken.shards.iter().find(|(id, _)| *id == old).expect("the old shard").1;
        let (status, body) = upload(&a, &format!("/api/v2/restore/shards/{}", m["newId"]), TOKEN, archive);
        assert_eq!(status, 204, "{body}");
    }
    assert_eq!(points(&a, TOKEN, "metrics-copy"), points(&a, TOKEN, "metrics"));
    assert_eq!(points(&a, TOKEN, "metrics").len(), 5);
    let (status, again) = a.post("/api/v2/restore/bucketMetadata", TOKEN, manifest);
    assert_eq!((status, again["code"].as_str()), (422, Some("conflict")), "{again}");
}

#[test]
fn damaged_parts_and_other_tokens_are_refused_and_change_nothing() {
    let (a, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    assert_eq!(write(&a, "metrics", DATA), 204);
    let taken = backup(&a);
    let before = points(&a, TOKEN, "metrics");

    // An org's all-access token is not an operator's.
    let (all_access, _) = a.make_token(
        &org,
        json!([
            {"action": "read", "resource": {"type": "buckets", "orgID": org}},
            {"action": "write", "resource": {"type": "buckets", "orgID": org}},
        ]),
    );
    let (status, _, body) = fetch(&a, "/api/v2/backup/metadata", &all_access);
    assert_eq!(status, 401, "{}", String::from_utf8_lossy(&body));
    let (status, body) = upload(&a, "/api/v2/restore/kv", &all_access, &taken.kv);
    assert_eq!((status, body["code"].as_str()), (401, Some("unauthorized")), "{body}");

    let (status, _, body) = fetch(&a, "/api/v2/backup/shards/999999", TOKEN);
    let err: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!((status, err["code"].as_str()), (404, Some("not found")), "{err}");

    let (id, archive) = &taken.shards[0];
    let (status, body) = upload(&a, &format!("/api/v2/restore/shards/{id}"), TOKEN, &archive[..archive.len() / 2]);
    assert_eq!(status, 400, "{body}");
    assert!(body["message"].as_str().unwrap().contains("truncated"), "{body}");

    let (status, body) = upload(&a, "/api/v2/restore/kv", TOKEN, &taken.kv[..taken.kv.len() / 2]);
    assert_eq!(status, 400, "{body}");
    let (status, body) = upload(&a, "/api/v2/restore/kv", TOKEN, b"a BoltDB file from InfluxDB 2.x");
    assert_eq!(status, 400, "{body}");
    let (status, body) = upload(&a, "/api/v2/restore/sql", TOKEN, b"SQLite format 3\0");
    assert_eq!(status, 400, "{body}");

    assert_eq!(points(&a, TOKEN, "metrics"), before);
    let (status, _) = a.get("/api/v2/orgs", TOKEN);
    assert_eq!(status, 200);
}

/// Runs `oxiflux <args>` against `s`; answers what it printed on stderr.
fn oxiflux(s: &TestServer, args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_oxiflux"))
        .args(args)
        .args(["--host", &s.url(""), "--token", TOKEN])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "oxiflux {args:?}: {stderr}");
    stderr
}

#[test]
fn the_backup_and_restore_commands_write_and_read_the_cli_s_directory() {
    let (a, _) = TestServer::onboarded();
    assert_eq!(write(&a, "metrics", DATA), 204);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap();
    let said = oxiflux(&a, &["backup", path]);
    assert!(said.contains("backed up shard"), "{said}");
    let names: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    let manifest = names.iter().find(|n| n.ends_with(".manifest")).expect("a manifest");
    let m: Value = serde_json::from_slice(&std::fs::read(dir.path().join(manifest)).unwrap()).unwrap();
    assert_eq!((m["manifestVersion"].as_u64(), m["kv"]["compression"].as_u64()), (Some(2), Some(1)), "{m}");
    assert!(
        names.iter().any(|n| n.ends_with(".bolt.gz")) && names.iter().filter(|n| n.ends_with(".tar.gz")).count() == 2
    );

    let (b, _) = TestServer::onboarded();
    oxiflux(&b, &["restore", path, "--full"]);
    assert_eq!(points(&b, TOKEN, "metrics"), points(&a, TOKEN, "metrics"));
    oxiflux(&b, &["restore", path, "--bucket", "metrics", "--new-bucket", "again"]);
    assert_eq!(points(&b, TOKEN, "again"), points(&a, TOKEN, "metrics"));
    assert_eq!(points(&b, TOKEN, "again").len(), 5);
}

//! `oxiflux upgrade` against a real InfluxDB 1.6.7 installation: known data
//! of every type written through its `/write` into several databases and
//! retention policies (awkward names, the same point twice, deletes), part
//! of it left only in its WAL when it is killed; then the upgrade runs on
//! its directories and every value, the InfluxQL answers, the users'
//! passwords and the mappings are compared with what 1.6.7 answered.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use reqwest::Method;
use serde_json::Value;

use crate::influx1::Influx1;
use crate::server::TestServer;

const TOKEN: &str = "upgrade-operator-token";

/// `(db, rps)` the data goes into; the first rp of each is its default.
const LAYOUT: &[(&str, &[&str])] = &[("telegraf", &["autogen", "month"]), ("awkward", &["weekly", "autogen"])];

fn populate(v1: &Influx1, now: i64) -> i64 {
    v1.query("CREATE DATABASE telegraf", None);
    v1.query("CREATE RETENTION POLICY month ON telegraf DURATION 30d REPLICATION 1 SHARD DURATION 1d", None);
    v1.query("CREATE DATABASE awkward WITH DURATION INF REPLICATION 1 SHARD DURATION 7d NAME weekly", None);
    v1.query("CREATE RETENTION POLICY autogen ON awkward DURATION INF REPLICATION 1", None);
    v1.query("CREATE USER root WITH PASSWORD 'root-pass-1x' WITH ALL PRIVILEGES", None);
    v1.query("CREATE USER grafana WITH PASSWORD 'grafana-pass-1x'", None);
    v1.query("GRANT READ ON telegraf TO grafana", None);
    v1.query("CREATE USER feeder WITH PASSWORD 'feeder-pass-1x'", None);
    v1.query("GRANT WRITE ON awkward TO feeder", None);
    v1.query("CREATE CONTINUOUS QUERY hourly ON telegraf BEGIN SELECT mean(usage) INTO month.cpu_1h FROM cpu GROUP BY time(1h) END", None);

    // Recent data (the 30-day policy keeps it), 2,500 points a series: several blocks a key.
    let start = (now - 3 * 3_600_000_000_000) / 1_000_000_000 * 1_000_000_000;
    for rp in ["autogen", "month"] {
        let mut body = String::new();
        for i in 0..2500i64 {
            for host in ["h1", "h2", "h3"] {
                let t = start + i * 1_000_000_000 + if host == "h3" { i % 7 } else { 0 };
                body.push_str(&format!(
                    "cpu,host={host},dc=eu usage={},n={}i,up={},state=\"s{}\" {t}\n",
                    (i as f64) * 0.37 - 100.0,
                    i * i - 5000,
                    i % 3 == 0,
                    i % 5
                ));
            }
        }
        v1.write("telegraf", rp, &body);
    }
    let old = 1_262_304_000_000_000_000i64; // 2010-01-01, kept forever
    v1.write(
        "awkward",
        "weekly",
        &[
            format!(r#"my\ m\,x,tag\ k=v\=1,z=\ lead fi\ eld=1.5,str="quote\" and \\ back" {old}"#),
            format!(r#"uni,ort=Zürich temp=-0.0,label="✓ é" {}"#, old + 1),
            format!("dup,host=a v=1,w=10i {old}"),
            format!("dup,host=a v=2 {old}"),
            format!("big,host=a n=9223372036854775807i,m=-9223372036854775808i,f=1.7976931348623157e308 {old}"),
            format!("gone,host=a v=1 {old}"),
            format!("cut,host=a v=1 {old}\ncut,host=a v=2 {}\ncut,host=a v=3 {}", old + 10, old + 20),
        ]
        .join("\n"),
    );
    v1.write("awkward", "autogen", &format!("side,host=a v=7i {old}"));
    std::thread::sleep(std::time::Duration::from_millis(3500));
    // Deletes against the TSM files (tombstones).
    v1.query("DROP MEASUREMENT gone", Some("awkward"));
    v1.query(&format!("DELETE FROM cut WHERE time >= {} AND time <= {}", old + 5, old + 15), Some("awkward"));
    v1.query(&format!("DELETE FROM cpu WHERE host = 'h2' AND time < {}", start + 100_000_000_000), Some("telegraf"));
    // Then writes that only the WAL holds when 1.x is killed: new values
    // over old times (the later wins), new series, and a delete of some.
    let mut body = String::new();
    for i in 0..50i64 {
        body.push_str(&format!("cpu,host=h1,dc=eu usage=999.5,n=1i {}\n", start + i * 1_000_000_000));
        body.push_str(&format!("cpu,host=h9 usage={} {}\n", i, start + i * 1_000_000_000));
    }
    body.push_str(&format!("dup,host=a v=3 {old}\n"));
    v1.write("telegraf", "autogen", &body);
    v1.write("awkward", "weekly", &format!("dup,host=a v=4 {old}\nwal,host=q s=\"log only\",b=false {old}"));
    v1.query(&format!("DELETE FROM cpu WHERE host = 'h9' AND time < {}", start + 10_000_000_000), Some("telegraf"));
    start
}

/// Every value a server answers for `db`.`rp`, one line each (`rp series
/// field time type:value`), from the measurements 1.x lists.
fn values(ask: &dyn Fn(&str, &str) -> Value, db: &str, rp: &str, measurements: &[String]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for m in measurements {
        let qm = m.replace('\\', "\\\\").replace('"', "\\\"");
        let keys = ask(&format!("SHOW FIELD KEYS ON \"{db}\" FROM \"{rp}\".\"{qm}\""), db);
        let types: std::collections::HashMap<String, String> = keys["results"][0]["series"][0]["values"]
            .as_array()
            .map(|vs| {
                vs.iter().map(|v| (v[0].as_str().unwrap().to_owned(), v[1].as_str().unwrap().to_owned())).collect()
            })
            .unwrap_or_default();
        let ans = ask(&format!("SELECT * FROM \"{db}\".\"{rp}\".\"{qm}\" GROUP BY *"), db);
        for s in ans["results"][0]["series"].as_array().into_iter().flatten() {
            let mut tags: Vec<(String, String)> = s["tags"]
                .as_object()
                .map(|t| t.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_owned())).collect())
                .unwrap_or_default();
            tags.retain(|(_, v)| !v.is_empty());
            tags.sort();
            let series = format!("{m}{}", tags.iter().map(|(k, v)| format!(",{k}={v}")).collect::<String>());
            let cols: Vec<&str> = s["columns"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
            for row in s["values"].as_array().unwrap() {
                for (c, v) in cols.iter().zip(row.as_array().unwrap()).skip(1) {
                    if let Some(t) = types.get(*c)
                        && !v.is_null()
                    {
                        out.insert(format!("{rp} {series} {c} {} {t}:{v}", row[0]));
                    }
                }
            }
        }
    }
    out
}

fn measurements(v1: &Influx1, db: &str) -> Vec<String> {
    let ans = v1.query(&format!("SHOW MEASUREMENTS ON \"{db}\""), None);
    ans["results"][0]["series"][0]["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v[0].as_str().unwrap().to_owned())
        .collect()
}

fn oxiflux_query(s: &TestServer) -> impl Fn(&str, &str) -> Value + '_ {
    move |q, db| {
        let r =
            s.request(Method::POST, &format!("/query?db={db}&epoch=ns"), Some(TOKEN)).form(&[("q", q)]).send().unwrap();
        let v: Value = r.json().unwrap();
        assert!(v["results"][0].get("error").is_none(), "{q}: {v}");
        v
    }
}

fn upgrade(v1: &Influx1, data_dir: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_oxiflux"))
        .args(["upgrade", "--config-file"])
        .arg(v1.config_file())
        .arg("--data-dir")
        .arg(data_dir)
        .args(["-o", "acme", "-b", "first", "-u", "admin", "-p", "password123", "-t", TOKEN])
        .output()
        .unwrap()
}

/// What 1.x answered, per database and policy, before it was killed.
struct Truth {
    values: Vec<(String, String, Vec<String>, BTreeSet<String>)>,
    answers: Vec<(String, String, Value)>,
}

fn aggregate_queries(start: i64) -> Vec<(&'static str, String)> {
    vec![
        ("telegraf", "SELECT count(usage), sum(n), max(usage), min(n) FROM cpu GROUP BY host".to_owned()),
        ("telegraf", format!("SELECT mean(usage), last(state) FROM month.cpu WHERE time >= {start} GROUP BY host")),
        ("telegraf", "SELECT count(up) FROM cpu WHERE up = true".to_owned()),
        ("awkward", "SELECT * FROM dup".to_owned()),
        ("awkward", "SELECT v FROM cut".to_owned()),
    ]
}

fn record(v1: &Influx1, start: i64) -> Truth {
    let ask = |q: &str, db: &str| v1.query(q, Some(db));
    let mut values = Vec::new();
    for (db, rps) in LAYOUT {
        let ms = measurements(v1, db);
        for rp in *rps {
            values.push((db.to_string(), rp.to_string(), ms.clone(), self::values(&ask, db, rp, &ms)));
        }
    }
    let answers = aggregate_queries(start).into_iter().map(|(db, q)| (db.to_owned(), q.clone(), ask(&q, db))).collect();
    Truth { values, answers }
}

fn check(s: &TestServer, truth: &Truth) {
    let ask = oxiflux_query(s);
    for (db, rp, ms, want) in &truth.values {
        let got = values(&ask, db, rp, ms);
        let missing: Vec<_> = want.difference(&got).take(5).collect();
        let extra: Vec<_> = got.difference(want).take(5).collect();
        assert!(missing.is_empty() && extra.is_empty(), "{db}/{rp}: missing {missing:?}, extra {extra:?}");
        assert!(!want.is_empty() || rp == "autogen");
    }
    for (db, q, want) in &truth.answers {
        assert_eq!(&ask(q, db), want, "{q}");
    }
}

#[test]
fn a_1x_installation_upgrades_with_every_point_user_and_mapping() {
    let mut v1 = Influx1::start();
    let start = populate(&v1, time_now());
    let truth = record(&v1, start);
    assert!(truth.values.iter().map(|t| t.3.len()).sum::<usize>() > 40_000);
    v1.kill();
    let wal_bytes: u64 = walk(&v1.dir().join("wal")).iter().map(|p| p.metadata().unwrap().len()).sum();
    assert!(wal_bytes > 0, "part of the data must be only in the WAL");

    let target = tempfile::tempdir().unwrap();
    let out = upgrade(&v1, target.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("database telegraf: 2 retention policies"), "{stdout}");
    assert!(stdout.contains("user grafana: v1 authorization, same password"), "{stdout}");
    assert!(stdout.contains("user root: not upgraded, an admin"), "{stdout}");
    assert!(!stdout.contains(" dropped (first"), "nothing may be dropped: {stdout}");
    let cqs = std::fs::read_to_string(target.path().join("continuous_queries.txt")).unwrap();
    assert!(cqs.contains("name: telegraf") && cqs.contains("INTO telegraf.month.cpu_1h"), "{cqs}");

    let s = TestServer::serve(target.path());
    check(&s, &truth);

    // Buckets as 2.x names them, with the policy's retention; the default
    // policy answers for its database.
    let (_, buckets) = s.get("/api/v2/buckets?name=telegraf/month", TOKEN);
    let b = &buckets["buckets"][0];
    assert_eq!(b["retentionRules"][0]["everySeconds"], 30 * 86_400, "{b}");
    assert_eq!(b["retentionRules"][0]["shardGroupDurationSeconds"], 86_400, "{b}");
    let plain = oxiflux_query(&s)("SELECT count(usage) FROM cpu WHERE host = 'h1'", "awkward");
    assert!(plain["results"][0]["series"].is_null(), "awkward's default is weekly: {plain}");
    // The 1.x users sign in with their 1.x passwords, with their privileges.
    let v1q = |u: &str, p: &str, db: &str| {
        s.request(Method::GET, &format!("/query?u={u}&p={p}&db={db}&q=SELECT+count(usage)+FROM+cpu"), None)
            .send()
            .unwrap()
    };
    let r = v1q("grafana", "grafana-pass-1x", "telegraf");
    assert_eq!(r.status(), 200);
    assert!(r.text().unwrap().contains("\"count\""));
    assert_eq!(v1q("grafana", "wrong-password", "telegraf").status(), 401);
    assert!(v1q("grafana", "grafana-pass-1x", "awkward").text().unwrap().contains("insufficient permissions"));
    let w = s
        .request(Method::POST, "/write?db=awkward&u=feeder&p=feeder-pass-1x", None)
        .body("fed,host=x v=1")
        .send()
        .unwrap();
    assert_eq!(w.status(), 204);
}

#[test]
fn an_upgrade_stopped_part_way_resumes_without_losing_or_doubling_points() {
    let mut v1 = Influx1::start();
    let start = populate(&v1, time_now());
    let truth = record(&v1, start);
    v1.kill();

    // Killed as soon as its first shard is done.
    let target = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_oxiflux"))
        .args(["upgrade", "--config-file"])
        .arg(v1.config_file())
        .arg("--data-dir")
        .arg(target.path())
        .args(["-o", "acme", "-b", "first", "-u", "admin", "-p", "password123", "-t", TOKEN])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.find(|l| l.as_ref().is_ok_and(|l| l.contains("points written"))).unwrap().unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(first.starts_with("shard "), "{first}");

    let again = upgrade(&v1, target.path());
    let stdout = String::from_utf8_lossy(&again.stdout);
    assert!(again.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&again.stderr));
    assert!(stdout.contains("resuming the upgrade"), "{stdout}");

    // A shard loaded twice (its mark lost, as a crash just before it would
    // lose it) is still each point once.
    let progress_path = target.path().join("upgrade-progress.json");
    let mut progress: Value = serde_json::from_slice(&std::fs::read(&progress_path).unwrap()).unwrap();
    let done = progress["done"].as_array_mut().unwrap();
    assert!(done.len() >= 4, "{done:?}");
    done.retain(|d| !d.as_str().unwrap().starts_with("telegraf/"));
    std::fs::write(&progress_path, serde_json::to_vec(&progress).unwrap()).unwrap();
    let third = upgrade(&v1, target.path());
    assert!(third.status.success(), "{}", String::from_utf8_lossy(&third.stderr));

    let s = TestServer::serve(target.path());
    check(&s, &truth);
    // And a directory some other setup owns is refused.
    drop(s);
    let owned = tempfile::tempdir().unwrap();
    let other = TestServer::serve(owned.path());
    other.setup();
    drop(other);
    let refused = upgrade(&v1, owned.path());
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("already set up"));
}

fn time_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as i64
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// A 2.x `influx backup` directory made from a real installation's TSM
/// files, as 2.x lays it out: a manifest, and per shard a gzipped tar of its
/// TSM files and tombstones under `<bucketID>/autogen/<shardID>/`.
fn backup_dir_from(v1: &Influx1, policies: &[Value], out: &Path) {
    let mut buckets = Vec::new();
    let mut n = 0u64;
    for ((db, rps), policies) in LAYOUT.iter().zip(policies) {
        for rp in *rps {
            let row = policies["results"][0]["series"][0]["values"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r[0] == *rp)
                .unwrap()
                .clone();
            n += 1;
            let bucket_id = format!("{:016x}", 0x0a0b_0000_0000_0000u64 + n);
            let mut groups = Vec::new();
            let dir = v1.dir().join("data").join(db).join(rp);
            for shard in std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()) {
                let id: u64 = shard.file_name().unwrap().to_str().unwrap().parse().unwrap();
                let file = format!("20260101T000000Z.{id}.tar.gz");
                let gz = flate2::write::GzEncoder::new(
                    std::fs::File::create(out.join(&file)).unwrap(),
                    flate2::Compression::fast(),
                );
                let mut tar = tar::Builder::new(gz);
                for f in std::fs::read_dir(&shard).unwrap().map(|e| e.unwrap().path()) {
                    let name = format!("{bucket_id}/autogen/{id}/{}", f.file_name().unwrap().to_str().unwrap());
                    tar.append_path_with_name(&f, name).unwrap();
                }
                tar.into_inner().unwrap().finish().unwrap();
                let size = std::fs::metadata(out.join(&file)).unwrap().len();
                groups.push(serde_json::json!({
                    "id": id, "startTime": "2026-01-01T00:00:00Z", "endTime": "2026-01-08T00:00:00Z",
                    "shards": [{"id": id, "shardOwners": [], "fileName": file, "size": size, "compression": 1}],
                }));
            }
            let ns = |d: &Value| time::duration::parse_go(d.as_str().unwrap()).unwrap();
            buckets.push(serde_json::json!({
                "organizationID": "0a0b0c0d0e0f0001", "organizationName": "acme",
                "bucketID": bucket_id, "bucketName": format!("{db}/{rp}"),
                "defaultRetentionPolicy": "autogen",
                "retentionPolicies": [{
                    "name": "autogen", "replicaN": 1, "duration": ns(&row[1]), "shardGroupDuration": ns(&row[2]),
                    "shardGroups": groups, "subscriptions": [],
                }],
            }));
        }
    }
    let manifest = serde_json::json!({"manifestVersion": 2, "buckets": buckets});
    std::fs::write(out.join("20260101T000000Z.manifest"), serde_json::to_vec_pretty(&manifest).unwrap()).unwrap();
}

#[test]
fn a_2x_backup_directory_of_real_tsm_files_imports_every_point() {
    let mut v1 = Influx1::start();
    let start = populate(&v1, time_now());
    // Everything cold and in TSM files, as 2.x's backup snapshots before it archives.
    std::thread::sleep(std::time::Duration::from_millis(3500));
    let truth = record(&v1, start);
    let policies: Vec<Value> =
        LAYOUT.iter().map(|(db, _)| v1.query(&format!("SHOW RETENTION POLICIES ON \"{db}\""), None)).collect();
    v1.kill();
    let wal_bytes: u64 = walk(&v1.dir().join("wal")).iter().map(|p| p.metadata().unwrap().len()).sum();
    assert_eq!(wal_bytes, 0, "the data must all be in TSM files");
    let backup = tempfile::tempdir().unwrap();
    backup_dir_from(&v1, &policies, backup.path());

    let target = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_oxiflux"))
        .arg("import-backup")
        .arg(backup.path())
        .arg("--data-dir")
        .arg(target.path())
        .args(["-o", "acme", "-b", "first", "-u", "admin", "-p", "password123", "-t", TOKEN])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("bucket acme/telegraf/month:"), "{stdout}");

    let s = TestServer::serve(target.path());
    // The mappings lived in 2.x's kv, which is not read: made again, as a user would.
    let (_, orgs) = s.get("/api/v2/orgs?org=acme", TOKEN);
    let org = orgs["orgs"][0]["id"].as_str().unwrap().to_owned();
    for (db, rps) in LAYOUT {
        for (i, rp) in rps.iter().enumerate() {
            let (_, b) = s.get(&format!("/api/v2/buckets?orgID={org}&name={db}/{rp}"), TOKEN);
            let id = b["buckets"][0]["id"].as_str().unwrap().to_owned();
            let body = serde_json::json!({"orgID": org, "bucketID": id, "database": db, "retention_policy": rp, "default": i == 0});
            assert_eq!(s.post("/api/v2/dbrps", TOKEN, body).0, 201);
        }
    }
    check(&s, &truth);
    let (_, b) = s.get(&format!("/api/v2/buckets?orgID={org}&name=telegraf/month"), TOKEN);
    assert_eq!(b["buckets"][0]["retentionRules"][0]["everySeconds"], 30 * 86_400);

    // A damaged archive is refused with the reason, and names its shard.
    let first = walk(backup.path()).into_iter().find(|p| p.to_str().unwrap().ends_with(".tar.gz")).unwrap();
    let bytes = std::fs::read(&first).unwrap();
    std::fs::write(&first, &bytes[..bytes.len() / 2]).unwrap();
    let again = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_oxiflux"))
        .arg("import-backup")
        .arg(backup.path())
        .arg("--data-dir")
        .arg(again.path())
        .args(["-o", "acme", "-b", "first", "-u", "admin", "-p", "password123"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("unpacking shard") || stderr.contains("reading shard"), "{stderr}");
}

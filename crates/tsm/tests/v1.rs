//! The readers against a real 1.x installation: `tests/data/v1` was written
//! by InfluxDB 1.6.7 (`scripts/record-v1-fixture.py`), killed with part of
//! its data only in the WAL; `expected.txt` is every value as 1.6.7 itself
//! answered for it through `/query`.

use std::path::{Path, PathBuf};

use tsm::meta::{Data, Privilege};
use tsm::{Shard, Value};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/v1")
}

fn typed(v: &Value) -> String {
    match v {
        Value::Float(f) => format!("f:{:016x}", f.to_bits()),
        Value::Integer(i) => format!("i:{i}"),
        Value::Unsigned(u) => format!("u:{u}"),
        Value::Boolean(b) => format!("b:{b}"),
        Value::String(s) => format!("s:{}", serde_json::to_string(s).unwrap()),
    }
}

#[test]
fn every_value_reads_as_the_server_that_wrote_it_answers() {
    let root = fixture();
    let meta = Data::read(&root.join("meta/meta.db")).unwrap();
    let mut lines = Vec::new();
    let mut shards = 0;
    for db in &meta.databases {
        for rp in &db.retention_policies {
            for group in rp.shard_groups.iter().filter(|g| g.deleted_at == 0) {
                for shard in &group.shards {
                    let rel = format!("{}/{}/{}", db.name, rp.name, shard.id);
                    let s = Shard::open(&root.join("data").join(&rel), Some(&root.join("wal").join(&rel))).unwrap();
                    assert!(s.truncated_segments.is_empty());
                    shards += 1;
                    s.for_each::<tsm::Error>(|key, values| {
                        let (series, field) = tsm::key::split(key);
                        let (series, field) = (String::from_utf8_lossy(series), String::from_utf8_lossy(field));
                        for (t, v) in &values {
                            lines.push(format!("{}\t{}\t{series}\t{field}\t{t}\t{}", db.name, rp.name, typed(v)));
                        }
                        Ok(())
                    })
                    .unwrap();
                }
            }
        }
    }
    assert_eq!(shards, 10);
    lines.sort();
    let expected = std::fs::read_to_string(root.join("expected.txt")).unwrap();
    let expected: Vec<&str> = expected.lines().collect();
    assert_eq!(lines.len(), expected.len());
    for (got, want) in lines.iter().zip(&expected) {
        assert_eq!(got, want);
    }
}

#[test]
fn the_meta_db_gives_databases_policies_queries_and_users() {
    let meta = Data::read(&fixture().join("meta/meta.db")).unwrap();
    let names: Vec<_> = meta.databases.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["db1", "db2"]);
    let db1 = &meta.databases[0];
    assert_eq!(db1.default_retention_policy, "autogen");
    let rps: Vec<_> =
        db1.retention_policies.iter().map(|r| (r.name.as_str(), r.duration, r.shard_group_duration)).collect();
    assert_eq!(rps, [("autogen", 0, 7 * 86_400_000_000_000), ("forever", 0, 7 * 86_400_000_000_000)]);
    assert_eq!(db1.continuous_queries.len(), 1);
    assert!(db1.continuous_queries[0].query.contains("INTO db1.forever.cpu_mean"));
    let db2 = &meta.databases[1];
    assert_eq!(db2.default_retention_policy, "hourly");
    assert_eq!(db2.retention_policies[0].shard_group_duration, 3_600_000_000_000);

    let user = |n: &str| meta.users.iter().find(|u| u.name == n).unwrap();
    assert!(user("admin").admin);
    assert!(user("admin").hash.starts_with("$2a$"));
    let privs = |n: &str| user(n).privileges.iter().map(|p| (p.database.clone(), p.privilege())).collect::<Vec<_>>();
    assert_eq!(privs("reader"), [("db1".to_owned(), Privilege::Read)]);
    assert_eq!(privs("writer"), [("db2".to_owned(), Privilege::Write)]);
    assert_eq!(privs("both"), [("db1".to_owned(), Privilege::All)]);
    assert!(privs("nobody").is_empty());
}

#[test]
fn a_wal_cut_anywhere_replays_up_to_its_last_whole_entry() {
    let seg = fixture().join("wal/db1/autogen/1/_00002.wal");
    let bytes = std::fs::read(&seg).unwrap();
    let whole = tsm::wal::parse_segment(&bytes);
    assert!(!whole.truncated);
    assert!(whole.entries.len() >= 3, "{}", whole.entries.len());
    let mut last = 0;
    for cut in 0..bytes.len() {
        let part = tsm::wal::parse_segment(&bytes[..cut]);
        assert!(part.entries.len() >= last && part.entries.len() < whole.entries.len());
        assert_eq!(part.entries[..], whole.entries[..part.entries.len()]);
        last = part.entries.len();
    }
    // A flipped byte inside an entry ends the replay there, as 1.x does.
    let mut bad = bytes.clone();
    bad[7] ^= 0xff;
    let part = tsm::wal::parse_segment(&bad);
    assert!(part.truncated && part.entries.is_empty());
}

#[test]
fn a_tampered_tsm_file_is_refused_with_its_reason() {
    let src = fixture().join("data/db1/autogen/1/000000001-000000001.tsm");
    let bytes = std::fs::read(&src).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("000000001-000000001.tsm");
    let case = |b: &[u8]| {
        std::fs::write(&path, b).unwrap();
        tsm::TsmFile::open(&path).map(|f| {
            f.entries()
                .iter()
                .flat_map(|e| e.blocks.iter().map(|b| f.read_block(b).map(|_| ())))
                .collect::<Result<(), _>>()
        })
    };
    assert!(case(&bytes).unwrap().is_ok());
    let err = case(&bytes[..bytes.len() - 3]).unwrap_err().to_string();
    assert!(err.contains("index offset") || err.contains("cut short"), "{err}");
    let mut other = bytes.clone();
    other[0] = 0;
    assert!(case(&other).unwrap_err().to_string().contains("not a TSM file"));
    let mut flipped = bytes.clone();
    flipped[40] ^= 1;
    assert!(case(&flipped).unwrap().unwrap_err().to_string().contains("fails its checksum"));
}

#[test]
fn tombstones_of_every_version_read() {
    use tsm::tombstone::{Tombstone, parse};
    assert_eq!(
        parse(b"cpu#!~#a\n\nmem#!~#b\n").unwrap(),
        [
            Tombstone { key: b"cpu#!~#a".to_vec(), min: i64::MIN, max: i64::MAX },
            Tombstone { key: b"mem#!~#b".to_vec(), min: i64::MIN, max: i64::MAX },
        ]
    );
    let mut record = 3u32.to_be_bytes().to_vec();
    record.extend(b"k#f");
    record.extend(5i64.to_be_bytes());
    record.extend(9i64.to_be_bytes());
    let mut v2 = 0x1502u32.to_be_bytes().to_vec();
    v2.extend(&record);
    let want = [Tombstone { key: b"k#f".to_vec(), min: 5, max: 9 }];
    assert_eq!(parse(&v2).unwrap(), want);
    // v4: gzip streams appended one after another.
    let gz = |b: &[u8]| {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(b).unwrap();
        e.finish().unwrap()
    };
    let mut v4 = 0x1504u32.to_be_bytes().to_vec();
    v4.extend(gz(&record));
    v4.extend(gz(&record));
    assert_eq!(parse(&v4).unwrap(), [want[0].clone(), want[0].clone()]);
    // And the fixture's own, written by 1.6.7.
    let real = tsm::tombstone::read_for(&fixture().join("data/db1/autogen/1/000000001-000000001.tsm")).unwrap();
    assert!(real.iter().any(|t| t.key.starts_with(b"log,host=a#!~#") && t.min == i64::MIN));
    assert!(real.iter().any(|t| t.key == b"cpu,host=b,region=eu#!~#count" && t.min == 1_600_001_000_000_000_000));
}

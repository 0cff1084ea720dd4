//! Shard-group archives: backed up while the engine runs, restored into
//! another engine equal point for point, and refused whole when damaged.

use lineproto::Precision;
use storage::{Batch, BucketTarget, FieldSeries, Predicate, ReadApi, ScanRequest, Storage, StorageConfig};

const HOUR: i64 = 3_600_000_000_000;
const T0: i64 = 1_600_000_000_000_000_000 - 1_600_000_000_000_000_000 % HOUR;

fn open(dir: &std::path::Path) -> Storage {
    Storage::open(dir, StorageConfig::default()).unwrap()
}

fn write(s: &Storage, bucket: u64, body: &str) {
    let target = BucketTarget { bucket, retention_ns: 0, shard_group_ns: HOUR };
    s.write(&target, &Batch::parse(body.as_bytes(), Precision::Nanosecond).unwrap(), T0).unwrap();
}

/// Every series and field of a bucket with its points, as text.
fn dump(s: &Storage, bucket: u64) -> Vec<String> {
    let got: Vec<FieldSeries> = s.scan(&ScanRequest::new(bucket, i64::MIN, i64::MAX, Predicate::True)).unwrap();
    got.iter()
        .map(|f| {
            let cols: Vec<String> = f
                .batch
                .columns()
                .iter()
                .map(|c| match c.data_type() {
                    arrow::datatypes::DataType::Timestamp(..) => {
                        arrow::compute::cast(c, &arrow::datatypes::DataType::Int64).unwrap()
                    }
                    _ => std::sync::Arc::clone(c),
                })
                .map(|c| {
                    let fmt = arrow::util::display::ArrayFormatter::try_new(&c, &Default::default()).unwrap();
                    (0..f.batch.num_rows()).map(|i| fmt.value(i).to_string()).collect::<Vec<_>>().join(" ")
                })
                .collect();
            format!("{} {}: {}", f.series, f.field, cols.join(" | "))
        })
        .collect()
}

fn backup(s: &Storage, bucket: u64) -> Vec<(i64, Vec<u8>)> {
    s.shard_groups(bucket)
        .iter()
        .map(|g| {
            let mut out = Vec::new();
            s.backup_shard(bucket, g.start, None, &mut out).unwrap();
            (g.start, out)
        })
        .collect()
}

fn two_hours_of_data(s: &Storage) {
    write(s, 1, &format!("cpu,host=a v=1,n=1i {T0}\ncpu,host=b v=2 {}\nmem,host=a free=\"x y\" {}", T0 + 5, T0 + 9));
    s.flush().unwrap();
    // Later points stay in the buffer: the backup must still have them.
    write(s, 1, &format!("cpu,host=a v=3,ok=true {}\ncpu,host=a v=9 {T0}", T0 + HOUR + 1));
}

#[test]
fn a_bucket_backed_up_a_shard_group_at_a_time_restores_point_for_point() {
    let (from_dir, to_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let from = open(from_dir.path());
    two_hours_of_data(&from);
    let groups = from.shard_groups(1);
    assert_eq!(groups.iter().map(|g| (g.start, g.duration)).collect::<Vec<_>>(), [(T0, HOUR), (T0 + HOUR, HOUR)]);
    let archives = backup(&from, 1);
    let want = dump(&from, 1);
    assert!(want.iter().any(|l| l.starts_with("cpu,host=a v:") && l.ends_with("| 9.0 3.0")), "{want:?}");

    let to = open(to_dir.path());
    for (start, archive) in &archives {
        let e = to.restore_shard(7, Some(start + 1), &mut archive.as_slice()).unwrap_err().to_string();
        assert!(e.contains("not this shard's"), "{e}");
        let r = to.restore_shard(7, Some(*start), &mut archive.as_slice()).unwrap();
        assert_eq!(r.start, *start);
        assert!(r.files > 0 && r.rows > 0, "{r:?}");
    }
    assert_eq!(dump(&to, 7), want);
    drop(to);
    assert_eq!(dump(&open(to_dir.path()), 7), want, "after a restart");
}

#[test]
fn a_truncated_or_tampered_archive_changes_nothing() {
    let (from_dir, to_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let from = open(from_dir.path());
    two_hours_of_data(&from);
    let (_, archive) = backup(&from, 1).remove(0);
    let to = open(to_dir.path());
    write(&to, 7, &format!("disk used=1 {T0}"));
    to.flush().unwrap();
    let before = dump(&to, 7);

    let cut = &archive[..archive.len() / 2];
    let e = to.restore_shard(7, None, &mut &cut[..]).unwrap_err().to_string();
    assert!(e.contains("truncated"), "{e}");
    // One byte of the first file's data changed (past the 512-byte tar header).
    let mut tampered = archive.clone();
    tampered[512 + 100] ^= 0xff;
    let e = to.restore_shard(7, None, &mut tampered.as_slice()).unwrap_err().to_string();
    assert!(e.contains("checksum"), "{e}");
    let e = to.restore_shard(7, None, &mut &b"not an archive at all"[..]).unwrap_err().to_string();
    assert!(e.contains("shard archive"), "{e}");

    assert_eq!(dump(&to, 7), before);
    drop(to);
    let parquet = std::fs::read_dir(to_dir.path().join("data").join(format!("{:016x}", 7)))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "parquet"))
        .count();
    assert_eq!(parquet, 1, "the staged files are gone");
    assert_eq!(dump(&open(to_dir.path()), 7), before);
}

#[test]
fn an_archive_whose_field_types_conflict_is_refused() {
    let (from_dir, to_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let from = open(from_dir.path());
    two_hours_of_data(&from);
    let (_, archive) = backup(&from, 1).remove(0);
    let to = open(to_dir.path());
    write(&to, 7, &format!("cpu,host=z v=\"text\" {T0}"));
    let e = to.restore_shard(7, None, &mut archive.as_slice()).unwrap_err().to_string();
    assert!(e.contains("field \"v\""), "{e}");
}

use arrow::array::{Array, Float64Array, Int64Array, TimestampNanosecondArray};
use lineproto::Precision;
use storage::{
    Aggregate, Batch, BucketTarget, DeletePredicate, FieldSeries, Predicate, ReadApi, ScanRequest, Storage,
    StorageConfig, WindowRequest,
};

const HOUR: i64 = 3_600_000_000_000;
const T0: i64 = 1_600_000_000_000_000_000;

fn target(retention_ns: i64) -> BucketTarget {
    BucketTarget { bucket: 1, retention_ns, shard_group_ns: HOUR }
}

/// `body` parsed as a write (it must be valid).
fn batch(body: &[u8], precision: Precision) -> Batch<'_> {
    Batch::parse(body, precision).unwrap()
}

fn all(bucket: u64) -> ScanRequest {
    ScanRequest::new(bucket, i64::MIN, i64::MAX, Predicate::True)
}

fn times(fs: &FieldSeries) -> Vec<i64> {
    fs.batch.column(0).as_any().downcast_ref::<TimestampNanosecondArray>().unwrap().values().to_vec()
}

fn floats(fs: &FieldSeries) -> Vec<f64> {
    fs.batch.column(1).as_any().downcast_ref::<Float64Array>().unwrap().values().to_vec()
}

fn open(dir: &std::path::Path) -> Storage {
    Storage::open(dir, StorageConfig::default()).unwrap()
}

#[test]
fn written_points_read_back_by_series_and_field_sorted_by_time() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    let body = format!(
        "cpu,host=b v=2,w=1i {}\ncpu,host=a v=1 {}\ncpu,host=a v=0 {}\nmem,host=a free=5 {}\n",
        T0,
        T0 + 1,
        T0,
        T0
    );
    let out = s.write(&target(0), &batch(body.as_bytes(), Precision::Nanosecond), T0).unwrap();
    assert_eq!((out.written, out.dropped), (4, 0));
    let got = s.scan(&all(1)).unwrap();
    let names: Vec<String> = got.iter().map(|f| format!("{} {}", f.series, f.field)).collect();
    assert_eq!(names, ["cpu,host=a v", "cpu,host=b v", "cpu,host=b w", "mem,host=a free"]);
    assert_eq!(times(&got[0]), [T0, T0 + 1]);
    assert_eq!(floats(&got[0]), [0.0, 1.0]);

    let only_b = ScanRequest { predicate: Predicate::tag_eq("host", "b").and(Predicate::field_eq("v")), ..all(1) };
    let got = s.scan(&only_b).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(floats(&got[0]), [2.0]);
    assert_eq!(s.measurements(1, i64::MIN, i64::MAX, &Predicate::True).unwrap(), ["cpu", "mem"]);
    assert_eq!(s.tag_values(1, "host", i64::MIN, i64::MAX, &Predicate::measurement_eq("cpu")).unwrap(), ["a", "b"]);
    assert_eq!(s.field_keys(1, i64::MIN, i64::MAX, &Predicate::measurement_eq("cpu")).unwrap().len(), 2);
    assert_eq!(s.series_cardinality(1, i64::MIN, i64::MAX, &Predicate::True).unwrap(), 3);
}

#[test]
fn same_series_and_time_merge_field_by_field() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    s.write(&target(0), &batch(format!("m a=1,b=1 {T0}").as_bytes(), Precision::Nanosecond), T0).unwrap();
    s.write(&target(0), &batch(format!("m b=2 {T0}").as_bytes(), Precision::Nanosecond), T0).unwrap();
    let got = s.scan(&all(1)).unwrap();
    assert_eq!((floats(&got[0]), floats(&got[1])), (vec![1.0], vec![2.0]));
}

#[test]
fn type_conflicts_and_retention_drop_points_with_influxdb_messages() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    s.write(&target(HOUR), &batch(format!("m v=1 {T0}").as_bytes(), Precision::Nanosecond), T0).unwrap();
    let out = s
        .write(&target(HOUR), &batch(format!("m v=1i {T0}\nm v=2 {}\n", T0 + 1).as_bytes(), Precision::Nanosecond), T0)
        .unwrap();
    assert_eq!((out.written, out.dropped), (1, 1));
    assert_eq!(
        out.partial_write_message().unwrap(),
        "partial write: field type conflict: input field \"v\" on measurement \"m\" is type integer, already exists as type float dropped=1"
    );
    let old = T0 - 2 * HOUR;
    let out = s
        .write(&target(HOUR), &batch(format!("m v=3 {old}\nm v=4 {T0}").as_bytes(), Precision::Nanosecond), T0)
        .unwrap();
    assert_eq!((out.written, out.dropped), (1, 1));
    assert_eq!(
        out.partial_write_message().unwrap(),
        "partial write: dropped 1 points outside retention policy of duration 1h0m0s - oldest 2020-09-13 10:26:40 +0000 UTC, newest 2020-09-13 10:26:40 +0000 UTC dropped=1"
    );
    // A type is per shard: another hour may hold another type.
    let out = s
        .write(&target(HOUR), &batch(format!("m v=5i {}", T0 + HOUR).as_bytes(), Precision::Nanosecond), T0 + HOUR)
        .unwrap();
    assert_eq!(out.written, 1);
}

#[test]
fn a_bad_line_refuses_the_whole_body() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    let err = Batch::parse(b"m v=1\nm v=\nm v=3", Precision::Nanosecond).unwrap_err();
    assert!(err.to_string().contains("line 2"), "{err}");
    assert!(s.scan(&all(1)).unwrap().is_empty());
    let err = Batch::parse(b"m,time=x v=1", Precision::Nanosecond).unwrap_err();
    assert!(err.to_string().contains("cannot use reserved tag key \"time\""), "{err}");
}

#[test]
fn missing_timestamps_take_server_time_cut_to_the_precision() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    s.write(&target(0), &batch(b"m v=1", Precision::Second), T0 + 123_456_789).unwrap();
    assert_eq!(times(&s.scan(&all(1)).unwrap()[0]), [T0]);
}

#[test]
fn the_log_replays_on_open_including_deletes() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = open(dir.path());
        s.write(&target(0), &batch(format!("m,h=a v=1 {T0}\nm,h=b v=2 {T0}").as_bytes(), Precision::Nanosecond), T0)
            .unwrap();
        s.write(&target(0), &batch(format!("m,h=a v=3 {}", T0 + 1).as_bytes(), Precision::Nanosecond), T0).unwrap();
        s.delete(1, T0, T0, &DeletePredicate::parse("h=\"a\"").unwrap()).unwrap();
        s.write(&BucketTarget { bucket: 2, ..target(0) }, &batch(b"gone v=1 1", Precision::Nanosecond), T0).unwrap();
        s.drop_bucket(2).unwrap();
    }
    let s = open(dir.path());
    let got = s.scan(&all(1)).unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!((times(&got[0]), floats(&got[0])), (vec![T0 + 1], vec![3.0]));
    assert_eq!(floats(&got[1]), [2.0]);
    assert!(s.scan(&all(2)).unwrap().is_empty());
}

#[test]
fn window_aggregates_per_series() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    let body: String = (0..10).map(|i| format!("m v={i} {}\n", T0 + i * 10)).collect();
    s.write(&target(0), &batch(body.as_bytes(), Precision::Nanosecond), T0).unwrap();
    let req = |aggregate| WindowRequest {
        scan: ScanRequest { start: T0, stop: T0 + 100, ..all(1) },
        every: 30,
        offset: 0,
        aggregate,
        create_empty: false,
    };
    let got = s.window_aggregate(&req(Aggregate::Count)).unwrap();
    let counts = got[0].batch.column(3).as_any().downcast_ref::<Int64Array>().unwrap().values().to_vec();
    // Windows are aligned to the epoch: T0 % 30 == 10, so the first window holds 2 points.
    assert_eq!(counts, [2, 3, 3, 2]);
    let sums = s.window_aggregate(&req(Aggregate::Sum)).unwrap();
    let sums = sums[0].batch.column(3).as_any().downcast_ref::<Float64Array>().unwrap().values().to_vec();
    assert_eq!(sums, [1.0, 9.0, 18.0, 17.0]);
    let max = s.window_aggregate(&req(Aggregate::Max)).unwrap();
    let max_t = max[0].batch.column(2).as_any().downcast_ref::<TimestampNanosecondArray>().unwrap().values().to_vec();
    assert_eq!(max_t, [T0 + 10, T0 + 40, T0 + 70, T0 + 90]);
    let mean = s.window_aggregate(&req(Aggregate::Mean)).unwrap();
    assert_eq!(mean[0].batch.column(3).as_any().downcast_ref::<Float64Array>().unwrap().value(0), 0.5);
    assert_eq!(mean[0].batch.column(3).len(), 4);
}

#[test]
fn retention_drops_whole_expired_partitions() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    s.write(&target(0), &batch(format!("m v=1 {}\nm v=2 {T0}", T0 - 5 * HOUR).as_bytes(), Precision::Nanosecond), T0)
        .unwrap();
    assert_eq!(s.enforce_retention(1, 2 * HOUR, T0), 1);
    let got = s.scan(&all(1)).unwrap();
    assert_eq!(floats(&got[0]), [2.0]);
}

fn small(dir: &std::path::Path) -> Storage {
    Storage::open(dir, StorageConfig { compact_at_files: 3, ..StorageConfig::default() }).unwrap()
}

fn wal_segments(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir.join("wal")).unwrap().count()
}

#[test]
fn flushed_data_reads_back_from_parquet_and_merges_with_newer_writes() {
    let dir = tempfile::tempdir().unwrap();
    let s = small(dir.path());
    let body: String = (0..100).map(|i| format!("cpu,host=h{} v={i},s=\"x{i}\" {}\n", i % 3, T0 + i)).collect();
    s.write(&target(0), &batch(body.as_bytes(), Precision::Nanosecond), T0).unwrap();
    let before = s.scan(&all(1)).unwrap();
    s.flush().unwrap();
    let (bytes, files) = s.disk_usage();
    assert!(bytes > 0 && files == 1, "{bytes} {files}");
    assert_eq!(wal_segments(dir.path()), 1, "the WAL that was persisted is released");
    let after = s.scan(&all(1)).unwrap();
    assert_eq!(before.len(), after.len());
    for (a, b) in before.iter().zip(&after) {
        assert_eq!((a.series.as_ref(), &a.field), (b.series.as_ref(), &b.field));
        assert_eq!(a.batch.column(0).as_ref(), b.batch.column(0).as_ref());
        assert_eq!(a.batch.column(1).as_ref(), b.batch.column(1).as_ref());
    }
    // A newer write of the same series and time wins over the file.
    s.write(&target(0), &batch(format!("cpu,host=h0 v=-1 {T0}").as_bytes(), Precision::Nanosecond), T0).unwrap();
    let got = s
        .scan(&ScanRequest { predicate: Predicate::tag_eq("host", "h0").and(Predicate::field_eq("v")), ..all(1) })
        .unwrap();
    assert_eq!(floats(&got[0])[0], -1.0);
    assert_eq!(floats(&got[0]).len(), 34);
    // Schema reads answer from the catalog too.
    assert_eq!(s.tag_values(1, "host", i64::MIN, i64::MAX, &Predicate::True).unwrap(), ["h0", "h1", "h2"]);
    drop(s);
    let s = small(dir.path());
    let got = s
        .scan(&ScanRequest { predicate: Predicate::tag_eq("host", "h0").and(Predicate::field_eq("v")), ..all(1) })
        .unwrap();
    assert_eq!(floats(&got[0])[0], -1.0, "after restart: file plus replayed WAL");
    assert_eq!(s.field_keys(1, i64::MIN, i64::MAX, &Predicate::True).unwrap().len(), 2);
}

#[test]
fn type_conflicts_are_caught_against_persisted_data_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = small(dir.path());
        s.write(&target(0), &batch(format!("m v=1 {T0}").as_bytes(), Precision::Nanosecond), T0).unwrap();
        s.flush().unwrap();
    }
    let s = small(dir.path());
    let out = s.write(&target(0), &batch(format!("m v=1i {}", T0 + 1).as_bytes(), Precision::Nanosecond), T0).unwrap();
    assert_eq!((out.written, out.dropped), (0, 1));
}

#[test]
fn deletes_reach_into_files_and_never_come_back() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = small(dir.path());
        let body = format!("m,h=a v=1 {T0}\nm,h=b v=2 {T0}\nn,h=a v=3 {T0}");
        s.write(&target(0), &batch(body.as_bytes(), Precision::Nanosecond), T0).unwrap();
        s.flush().unwrap();
        s.delete(1, T0, T0, &DeletePredicate::parse(r#"_measurement="m" AND h="a""#).unwrap()).unwrap();
        let got: Vec<String> = s.scan(&all(1)).unwrap().iter().map(|f| f.series.to_string()).collect();
        assert_eq!(got, ["m,h=b", "n,h=a"]);
        s.flush().unwrap();
    }
    let s = small(dir.path());
    let got: Vec<String> = s.scan(&all(1)).unwrap().iter().map(|f| f.series.to_string()).collect();
    assert_eq!(got, ["m,h=b", "n,h=a"]);
    // Several snapshots, then compaction: still gone.
    for i in 0..3 {
        s.write(&target(0), &batch(format!("m,h=c v={i} {}", T0 + 1 + i).as_bytes(), Precision::Nanosecond), T0)
            .unwrap();
        s.flush().unwrap();
    }
    // Partitions are per measurement: `n` keeps its one file; `m` went 1 → 2 → 3
    // files, was compacted to 1 at 3, then got one more: 3 in all (5 uncompacted).
    assert_eq!(s.disk_usage().1, 3, "compacted: {:?}", s.disk_usage());
    let got: Vec<String> = s.scan(&all(1)).unwrap().iter().map(|f| f.series.to_string()).collect();
    assert_eq!(got, ["m,h=b", "m,h=c", "n,h=a"]);
}

#[test]
fn retention_and_bucket_drops_remove_files() {
    let dir = tempfile::tempdir().unwrap();
    let s = small(dir.path());
    s.write(&target(0), &batch(format!("m v=1 {}\nm v=2 {T0}", T0 - 5 * HOUR).as_bytes(), Precision::Nanosecond), T0)
        .unwrap();
    s.flush().unwrap();
    assert_eq!(s.disk_usage().1, 2);
    assert_eq!(s.enforce_retention(1, 2 * HOUR, T0), 1);
    assert_eq!(s.disk_usage().1, 1);
    assert_eq!(floats(&s.scan(&all(1)).unwrap()[0]), [2.0]);
    s.drop_bucket(1).unwrap();
    assert_eq!(s.disk_usage(), (0, 0));
    assert!(!dir.path().join("data").join(format!("{:016x}", 1)).exists());
    drop(s);
    assert!(small(dir.path()).scan(&all(1)).unwrap().is_empty());
}

#[test]
fn a_full_buffer_is_snapshotted_in_the_background() {
    let dir = tempfile::tempdir().unwrap();
    let s = Storage::open(dir.path(), StorageConfig { cache_snapshot_memory_size: 10_000, ..StorageConfig::default() })
        .unwrap();
    let body: String = (0..2000).map(|i| format!("m v={i} {}\n", T0 + i)).collect();
    s.write(&target(0), &batch(body.as_bytes(), Precision::Nanosecond), T0).unwrap();
    for _ in 0..100 {
        if s.disk_usage().1 > 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(s.disk_usage().1, 1);
    assert_eq!(floats(&s.scan(&all(1)).unwrap()[0]).len(), 2000);
}

#[test]
fn a_projection_reads_only_the_named_fields_from_buffer_and_files() {
    let dir = tempfile::tempdir().unwrap();
    let s = small(dir.path());
    s.write(&target(0), &batch(format!("m a=1,b=2,c=3 {T0}").as_bytes(), Precision::Nanosecond), T0).unwrap();
    let project = |req: ScanRequest| ScanRequest { fields: Some(["a".to_string(), "c".to_string()].into()), ..req };
    let fields = |got: Vec<FieldSeries>| got.into_iter().map(|f| f.field).collect::<Vec<_>>();
    assert_eq!(fields(s.scan(&project(all(1))).unwrap()), ["a", "c"]);
    s.flush().unwrap();
    assert_eq!(fields(s.scan(&project(all(1))).unwrap()), ["a", "c"]);
}

#[test]
fn files_no_catalog_names_are_removed_at_open() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = small(dir.path());
        s.write(&target(0), &batch(format!("m v=1 {T0}").as_bytes(), Precision::Nanosecond), T0).unwrap();
        s.flush().unwrap();
    }
    let bucket_dir = dir.path().join("data").join(format!("{:016x}", 1));
    std::fs::write(bucket_dir.join("00000000000000ff.parquet"), b"half an upload").unwrap();
    let s = small(dir.path());
    assert!(!bucket_dir.join("00000000000000ff.parquet").exists());
    assert_eq!(floats(&s.scan(&all(1)).unwrap()[0]), [1.0]);
}

#[test]
fn time_ranges_read_from_files_match_the_buffer_page_by_page() {
    // Series long enough to span many Parquet pages, interleaved with short ones,
    // so that pages hold one series or several.
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    let mut body = String::new();
    for i in 0..20_000i64 {
        body.push_str(&format!("cpu,host=long v={i} {}\n", T0 + i * 1_000_000));
        if i % 997 == 0 {
            body.push_str(&format!("cpu,host=s{} v={i} {}\n", i % 5, T0 + i * 1_000_000));
        }
    }
    s.write(&target(0), &batch(body.as_bytes(), Precision::Nanosecond), T0).unwrap();
    let ranges: Vec<(i64, i64)> = vec![
        (T0, T0 + 1),
        (T0 + 4_095_000_000, T0 + 4_097_000_000),
        (T0 + 4_096_000_000, T0 + 12_289_000_000),
        (T0 + 7_000_000_000, T0 + 7_000_000_001),
        (T0 + 19_999_000_000, T0 + 30_000_000_000),
        (T0 - 5, T0 + 20_000_000_000),
        (T0 + 30_000_000_000, T0 + 40_000_000_000),
    ];
    let read = |s: &Storage, (a, b): (i64, i64)| -> Vec<(String, Vec<i64>)> {
        s.scan(&ScanRequest::new(1, a, b, Predicate::True))
            .unwrap()
            .iter()
            .map(|fs| (fs.series.tag("host").unwrap_or_default().to_owned(), times(fs)))
            .collect()
    };
    let before: Vec<_> = ranges.iter().map(|r| read(&s, *r)).collect();
    s.flush().unwrap();
    for (r, want) in ranges.iter().zip(&before) {
        assert_eq!(&read(&s, *r), want, "range {r:?}");
    }
    assert_eq!(before[2][0].1.len(), 8193);
}

#[test]
fn first_and_last_read_from_the_edges_of_series_as_a_full_read_would() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    // Two files with overlapping times (the later one wins), then buffered writes;
    // field `w` is absent from the last 200 lines of each series, so its last
    // value lies beyond the rows read at the edge.
    let lines = |from: i64, to: i64, add: f64| -> String {
        (from..to)
            .flat_map(|i| {
                (0..3).map(move |h| {
                    let w = if i % 1000 < 800 { format!(",w={}i", i) } else { String::new() };
                    format!("cpu,host=h{h} v={}{w} {}\n", i as f64 + add, T0 + i * 1_000_000)
                })
            })
            .collect()
    };
    s.write(&target(0), &batch(lines(0, 5000, 0.0).as_bytes(), Precision::Nanosecond), T0).unwrap();
    s.flush().unwrap();
    s.write(&target(0), &batch(lines(4000, 9000, 0.5).as_bytes(), Precision::Nanosecond), T0).unwrap();
    s.flush().unwrap();
    s.write(&target(0), &batch(lines(8990, 9100, 0.25).as_bytes(), Precision::Nanosecond), T0).unwrap();
    let ranges = [
        (T0, T0 + 10_000_000_000),
        (T0 + 4_500_000_000, T0 + 4_700_000_000),
        (T0 + 9_050_000_000, T0 + 9_100_000_000),
        (T0 + 100_000_000, T0 + 100_000_001),
    ];
    for (start, stop) in ranges {
        for aggregate in [Aggregate::First, Aggregate::Last] {
            let req = |create_empty| WindowRequest {
                scan: ScanRequest { start, stop, ..all(1) },
                every: stop - start,
                offset: start,
                aggregate,
                create_empty,
            };
            // `create_empty` takes the general path; one window over the range has no empty windows.
            let edge = s.window_aggregate(&req(false)).unwrap();
            let full = s.window_aggregate(&req(true)).unwrap();
            let show = |v: &[FieldSeries]| -> Vec<String> {
                v.iter().map(|fs| format!("{:?} {} {:?}", fs.series.tags, fs.field, fs.batch.columns())).collect()
            };
            assert_eq!(show(&edge), show(&full), "{aggregate:?} over {start}..{stop}");
            assert!(!edge.is_empty());
        }
    }
}

#[test]
fn a_scan_read_in_groups_of_series_gives_what_one_read_gives() {
    let dir = tempfile::tempdir().unwrap();
    // Groups of at most 50 rows: each group here holds one or two series.
    let s = Storage::open(dir.path(), StorageConfig { scan_group_rows: 50, ..StorageConfig::default() }).unwrap();
    let mut body = String::new();
    for host in 0..12 {
        for i in 0..30 {
            body.push_str(&format!("cpu,host=h{host:02} v={i},w={}i {}\n", i * 2, T0 + i * 1_000_000_000));
        }
    }
    s.write(&target(0), &batch(body.as_bytes(), Precision::Nanosecond), T0).unwrap();
    s.flush().unwrap();
    // Later writes, still buffered, overwrite some points of the files and add others.
    let mut more = String::new();
    for host in [1, 5, 11] {
        more.push_str(&format!("cpu,host=h{host:02} v=-1 {}\n", T0 + 3_000_000_000));
        more.push_str(&format!("cpu,host=h{host:02} v=99 {}\n", T0 + 100_000_000_000));
    }
    more.push_str(&format!("mem,host=h00 free=1 {T0}\n"));
    s.write(&target(0), &batch(more.as_bytes(), Precision::Nanosecond), T0).unwrap();

    let shape = |all: &[FieldSeries]| -> Vec<String> {
        all.iter().map(|f| format!("{} {} {:?} {:?}", f.series, f.field, times(f), f.batch.column(1))).collect()
    };
    for req in [all(1), ScanRequest { predicate: Predicate::field_eq("v"), ..all(1) }] {
        let whole = s.scan(&req).unwrap();
        let mut grouped = Vec::new();
        s.scan_each(&req, &mut |fs| {
            grouped.push(fs);
            std::ops::ControlFlow::Continue(())
        })
        .unwrap();
        assert_eq!(shape(&grouped), shape(&whole));
        assert!(whole.len() >= 12, "{}", whole.len());
    }
    let h01: Vec<FieldSeries> = s.scan(&ScanRequest { predicate: Predicate::tag_eq("host", "h01"), ..all(1) }).unwrap();
    assert_eq!(floats(&h01[0])[3], -1.0);
    assert_eq!(*floats(&h01[0]).last().unwrap(), 99.0);

    let mut seen = 0;
    s.scan_each(&all(1), &mut |_| {
        seen += 1;
        if seen == 3 { std::ops::ControlFlow::Break(()) } else { std::ops::ControlFlow::Continue(()) }
    })
    .unwrap();
    assert_eq!(seen, 3, "Break stops the read");
}

#[test]
fn a_window_spanning_almost_all_time_does_not_overflow() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    s.write(&target(0), &batch(format!("cpu v=1 {T0}\ncpu v=2 {}\n", T0 + 1).as_bytes(), Precision::Nanosecond), T0)
        .unwrap();
    let (lo, hi) = (i64::MIN / 4, i64::MAX / 4);
    let every = hi - lo;
    for aggregate in [Aggregate::First, Aggregate::Last, Aggregate::Count, Aggregate::Max] {
        let req = WindowRequest {
            scan: ScanRequest::new(1, lo, hi, Predicate::True),
            every,
            offset: lo.rem_euclid(every),
            aggregate,
            create_empty: false,
        };
        let got = s.window_aggregate(&req).unwrap();
        assert_eq!(got.len(), 1, "{aggregate:?}");
        // All of time, the widest windows there are.
        let all = WindowRequest {
            scan: ScanRequest::new(1, i64::MIN, i64::MAX, Predicate::True),
            every: i64::MAX,
            offset: 0,
            ..req
        };
        assert_eq!(s.window_aggregate(&all).unwrap().len(), 1, "{aggregate:?}");
    }
}

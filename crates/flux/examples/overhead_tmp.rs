fn main() {
    let q = r#"from(bucket: "bench")
  |> range(start: 2016-01-01T19:16:00Z, stop: 2016-01-01T20:16:00Z)
  |> filter(fn: (r) => r._measurement == "cpu" and (r._field == "usage_user") and (r.hostname == "host_55"))
  |> aggregateWindow(every: 1m, fn: max, createEmpty: false)"#;
    let n = 2000;
    let t = std::time::Instant::now();
    for _ in 0..n {
        let _ = flux::parse(q).unwrap();
    }
    println!("parse {:?}", t.elapsed() / n);
    let t = std::time::Instant::now();
    for _ in 0..n {
        let _ = flux::Interp::new(0);
    }
    println!("interp new {:?}", t.elapsed() / n);
    let p = flux::parse(q).unwrap();
    let t = std::time::Instant::now();
    for _ in 0..n {
        let mut i = flux::Interp::new(0);
        flux::check::check(&mut i, &p.files[0]).unwrap();
    }
    println!("new+check {:?}", t.elapsed() / n);
    let t = std::time::Instant::now();
    for _ in 0..n {
        let _ = flux::analyze(q);
    }
    println!("analyze {:?}", t.elapsed() / n);
}

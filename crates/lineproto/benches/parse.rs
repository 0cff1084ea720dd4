//! Parser throughput on TSBS-devops-like `cpu` lines (10 tags, 10 float fields),
//! ours (line by line, and a whole body kept as `Points`) against the
//! `influxdb-line-protocol` crate, in bytes per second.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lineproto::{Points, Precision, parse};

fn cpu_lines(n: usize) -> String {
    let mut out = String::new();
    for i in 0..n {
        let host = i % 100;
        out.push_str(&format!(
            "cpu,hostname=host_{host},region=eu-west-1,datacenter=eu-west-1b,rack=4{host},os=Ubuntu16.10,\
             arch=x64,team=NYC,service=18,service_version=1,service_environment=production \
             usage_user=58.{i},usage_system=2.{i},usage_idle=24.{i},usage_nice=61.{i},usage_iowait=22.{i},\
             usage_irq=63.{i},usage_softirq=6.{i},usage_steal=44.{i},usage_guest=80.{i},usage_guest_nice=38.{i} \
             {}\n",
            1_451_606_400_000_000_000i64 + i as i64 * 10_000_000_000
        ));
    }
    out
}

fn bench(c: &mut Criterion) {
    let body = cpu_lines(5_000);
    let mut g = c.benchmark_group("parse_cpu_5000_lines");
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.bench_function("oxiflux_lineproto", |b| {
        b.iter(|| {
            let mut fields = 0;
            for line in parse(body.as_bytes(), Precision::Nanosecond) {
                fields += line.expect("valid").fields.len();
            }
            assert_eq!(fields, 50_000);
        })
    });
    g.bench_function("oxiflux_lineproto_points", |b| {
        b.iter(|| {
            let mut points = Points::new(body.as_bytes(), Precision::Nanosecond);
            while let Some(line) = points.parse_next() {
                line.expect("valid");
            }
            let fields: usize = points.iter().map(|p| p.fields().len()).sum();
            assert_eq!(fields, 50_000);
        })
    });
    g.bench_function("influxdb_line_protocol_crate", |b| {
        b.iter(|| {
            let mut fields = 0;
            for line in influxdb_line_protocol::parse_lines(&body) {
                fields += line.expect("valid").field_set.len();
            }
            assert_eq!(fields, 50_000);
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! `oxiflux-bench`: ingest benchmarks against oxiflux and InfluxDB 1.x, run on
//! loopback with deterministic TSBS-devops-like data.
//!
//! `compare` starts both servers itself (temporary data directories), ingests the
//! same data into each over HTTP with N connections, and prints lines/s, field
//! values/s, the server's peak RSS (`VmHWM`/`VmRSS` in `/proc/PID/status`,
//! sampled from start to the end of its post-ingest compaction or shutdown), and
//! bytes on disk per field value once each server has compacted its files — with
//! the ratios, because the machine is shared and absolute figures drift.
//! `queries` times the TSBS devops queries; `move` times backup, restore and
//! the upgrade from 1.x.

mod data;
mod moving;
mod queries;
mod servers;
mod wire;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};

use crate::servers::{Influx1, Oxiflux, Server};

#[derive(Debug, Parser)]
#[command(name = "oxiflux-bench", about = "Benchmarks: oxiflux against InfluxDB 1.x")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start oxiflux and influxd, ingest the same data into each, compare.
    Compare(Compare),
    /// Load the same data into both, then time the TSBS devops queries: Flux on
    /// oxiflux, InfluxQL on influxd.
    Queries(Queries),
    /// Back up, restore, and upgrade from 1.x the same data: throughput and memory.
    Move(moving::Move),
}

#[derive(Debug, Args)]
struct Queries {
    #[arg(long, default_value = "target/release/oxiflux")]
    oxiflux: String,
    #[arg(long, default_value = "/usr/bin/influxd")]
    influxd: String,
    #[command(flatten)]
    data: DataArgs,
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// Timed instances of each query (after two untimed ones).
    #[arg(long, default_value_t = 15)]
    instances: usize,
    /// Only these query types (comma-separated names).
    #[arg(long)]
    only: Option<String>,
    /// Only run against oxiflux.
    #[arg(long)]
    oxiflux_only: bool,
    /// Print each query type's first query.
    #[arg(long)]
    show: bool,
    /// The language oxiflux is queried in: flux (POST /api/v2/query) or influxql (/query).
    #[arg(long, default_value = "flux")]
    language: String,
    /// After loading the servers, print their addresses and pids and keep them running (for profiling).
    #[arg(long)]
    hold: bool,
    /// Alternate the servers query by query (instead of each answering its
    /// instances back to back).
    #[arg(long)]
    interleave: bool,
}

#[derive(Debug, Args)]
struct Compare {
    /// The oxiflux binary (build it with `cargo build --release`).
    #[arg(long, default_value = "target/release/oxiflux")]
    oxiflux: String,
    /// The InfluxDB 1.x server binary (Debian's `influxdb` package).
    #[arg(long, default_value = "/usr/bin/influxd")]
    influxd: String,
    #[command(flatten)]
    data: DataArgs,
    /// Concurrent HTTP connections.
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// Only run against oxiflux.
    #[arg(long)]
    oxiflux_only: bool,
    /// Extra flags for `oxiflux run` (repeatable), e.g. `--oxiflux-arg=--storage-cache-snapshot-memory-size=5000000`.
    #[arg(long = "oxiflux-arg", allow_hyphen_values = true)]
    oxiflux_args: Vec<String>,
}

#[derive(Debug, Args, Clone)]
pub(crate) struct DataArgs {
    /// Number of hosts (series of the `cpu` measurement).
    #[arg(long, default_value_t = 100)]
    hosts: usize,
    /// Time covered, e.g. `24h`, `6h`.
    #[arg(long, default_value = "24h")]
    duration: String,
    /// Seconds between a host's points.
    #[arg(long, default_value_t = 10)]
    interval: u64,
    /// Lines per request.
    #[arg(long, default_value_t = 5000)]
    batch: usize,
}

/// What one run measured.
#[derive(Debug)]
struct Result {
    lines_per_sec: f64,
    values_per_sec: f64,
    peak_rss_bytes: u64,
    disk_bytes: u64,
}

fn parse_hours(s: &str) -> anyhow::Result<u64> {
    let h = s.strip_suffix('h').context("duration must be in hours, like 24h")?;
    Ok(h.parse::<u64>()? * 3600)
}

fn ingest(server: &dyn Server, batches: &Arc<Vec<Vec<u8>>>, connections: usize) -> anyhow::Result<Duration> {
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let threads: Vec<_> = (0..connections)
        .map(|_| {
            let (batches, next) = (Arc::clone(batches), Arc::clone(&next));
            let request = server.write_request();
            std::thread::spawn(move || -> anyhow::Result<()> {
                let client = reqwest::blocking::Client::builder().timeout(Duration::from_secs(300)).build()?;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(body) = batches.get(i) else { return Ok(()) };
                    let r = request(&client).body(body.clone()).send()?;
                    if !r.status().is_success() {
                        bail!("write failed: {} {}", r.status(), r.text().unwrap_or_default());
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().map_err(|_| anyhow::anyhow!("a sender panicked"))??;
    }
    Ok(start.elapsed())
}

fn run(
    server: &mut dyn Server,
    batches: &Arc<Vec<Vec<u8>>>,
    lines: usize,
    fields: usize,
    connections: usize,
) -> anyhow::Result<Result> {
    let watch = servers::RssWatch::start(server.pid());
    let took = ingest(server, batches, connections)?;
    let disk_bytes = server.settle_and_measure_disk()?;
    let peak_rss_bytes = watch.peak();
    let secs = took.as_secs_f64();
    Ok(Result {
        lines_per_sec: lines as f64 / secs,
        values_per_sec: (lines * fields) as f64 / secs,
        peak_rss_bytes,
        disk_bytes,
    })
}

fn main() -> anyhow::Result<()> {
    let args = match Cli::parse().command {
        Command::Compare(args) => args,
        Command::Queries(q) => return run_queries(q),
        Command::Move(m) => return moving::run(m),
    };
    let seconds = parse_hours(&args.data.duration)?;
    let gen_start = Instant::now();
    let batches = Arc::new(data::batches(args.data.hosts, seconds, args.data.interval, args.data.batch));
    let lines = args.data.hosts * (seconds / args.data.interval) as usize;
    let values = lines * data::FIELDS;
    let bytes: usize = batches.iter().map(Vec::len).sum();
    println!(
        "data: {} hosts x {} every {}s = {lines} lines, {values} field values, {:.1} MiB of line protocol in {} batches of {} (made in {:.1}s); {} connections",
        args.data.hosts,
        args.data.duration,
        args.data.interval,
        bytes as f64 / 1048576.0,
        batches.len(),
        args.data.batch,
        gen_start.elapsed().as_secs_f64(),
        args.connections
    );
    let mut ox = Oxiflux::start(&args.oxiflux, &args.oxiflux_args)?;
    let ox_result = run(&mut ox, &batches, lines, data::FIELDS, args.connections)?;
    drop(ox);
    report("oxiflux", &ox_result, values);
    if args.oxiflux_only {
        return Ok(());
    }
    let mut influx = Influx1::start(&args.influxd)?;
    let in_result = run(&mut influx, &batches, lines, data::FIELDS, args.connections)?;
    drop(influx);
    report("influxdb 1.x", &in_result, values);
    println!();
    println!("ratios, oxiflux / influxdb 1.x:");
    println!("  lines/s            {:.2}x", ox_result.lines_per_sec / in_result.lines_per_sec);
    println!("  peak RSS           {:.2}x", ox_result.peak_rss_bytes as f64 / in_result.peak_rss_bytes as f64);
    println!("  bytes/field value  {:.2}x", ox_result.disk_bytes as f64 / in_result.disk_bytes as f64);
    Ok(())
}

fn run_queries(args: Queries) -> anyhow::Result<()> {
    let seconds = parse_hours(&args.data.duration)?;
    let batches = Arc::new(data::batches(args.data.hosts, seconds, args.data.interval, args.data.batch));
    let shape = queries::Shape { hosts: args.data.hosts, seconds };
    println!(
        "data: {} hosts x {}, every {}s; loading both servers",
        args.data.hosts, args.data.duration, args.data.interval
    );
    let ox = Oxiflux::start(&args.oxiflux, &[])?;
    ingest(&ox, &batches, args.connections)?;
    let ox = ox.restart(&args.oxiflux, &[])?;
    ox.settle()?;
    let influx = if args.oxiflux_only {
        None
    } else {
        let mut i = Influx1::start(&args.influxd)?;
        ingest(&i, &batches, args.connections)?;
        i.settle_and_measure_disk()?;
        Some(i)
    };
    if args.hold {
        println!(
            "oxiflux at {} (pid {}), token {}; Ctrl-C to stop",
            ox.url(),
            servers::Server::pid(&ox),
            servers::TOKEN
        );
        if let Some(i) = &influx {
            println!("influxd at {} (pid {}), database bench", i.url(), servers::Server::pid(i));
        }
        loop {
            std::thread::sleep(Duration::from_secs(3600));
        }
    }
    let client = reqwest::blocking::Client::builder().timeout(Duration::from_secs(600)).build()?;
    let mut ox_conn = wire::Conn::open(ox.url())?;
    let mut influx_conn = influx.as_ref().map(|i| wire::Conn::open(i.url())).transpose()?;
    println!();
    println!("{:<24} {:>12} {:>12} {:>8}   rows (flux / influxql)", "query", "oxiflux ms", "influxdb ms", "ratio");
    for (k, t) in queries::TYPES.iter().enumerate() {
        if args.only.as_deref().is_some_and(|o| !o.split(',').any(|n| n == t.name)) {
            continue;
        }
        let all = queries::instances(t, &shape, args.instances + 2, 1000 + k as u64);
        let influxql = args.language == "influxql";
        if args.show {
            println!("{}", if influxql { &all[0].influxql } else { &all[0].flux });
        }
        let (mut ox_times, mut in_times) = (Vec::new(), Vec::new());
        let (mut ox_rows, mut in_rows) = (0, 0);
        // Each server answers its instances back to back, in blocks ordered
        // oxiflux, influxd, influxd, oxiflux so that neither is always the one
        // to start cold; each block begins with two untimed instances. Asked to
        // alternate instead, each query also pays for waking its server from
        // idle, which on a VM is about as long as a small query.
        let block = |on_oxiflux: bool| (0..all.len()).map(move |n| (n, on_oxiflux));
        let rounds: Vec<Vec<(usize, bool)>> = if args.interleave {
            vec![(0..all.len()).flat_map(|n| [(n, true), (n, false)]).collect()]
        } else {
            vec![block(true).collect(), block(false).collect(), block(false).collect(), block(true).collect()]
        };
        for (n, on_oxiflux) in rounds.into_iter().flatten() {
            let q = &all[n];
            if on_oxiflux {
                let (d, rows) = if influxql {
                    queries::run_influxql(&mut ox_conn, Some(servers::TOKEN), &q.influxql)?
                } else {
                    queries::run_flux(&client, ox.url(), servers::TOKEN, &q.flux)?
                };
                if n >= 2 {
                    ox_times.push(d);
                }
                ox_rows = rows;
            } else if influx.is_some() {
                let (d, rows) =
                    queries::run_influxql(influx_conn.as_mut().context("no influxd connection")?, None, &q.influxql)?;
                if n >= 2 {
                    in_times.push(d);
                }
                in_rows = rows;
            }
        }
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let ox_ms = ms(queries::median(ox_times));
        if influx.is_some() {
            let in_ms = ms(queries::median(in_times));
            println!("{:<24} {ox_ms:>12.2} {in_ms:>12.2} {:>7.2}x   {ox_rows} / {in_rows}", t.name, ox_ms / in_ms);
        } else {
            println!("{:<24} {ox_ms:>12.2} {:>12} {:>8}   {ox_rows}", t.name, "-", "-");
        }
    }
    Ok(())
}

fn report(name: &str, r: &Result, values: usize) {
    println!(
        "{name:>14}: {:>10.0} lines/s  {:>11.0} values/s  peak RSS {:>7.1} MiB  disk {:>8.1} MiB = {:.3} bytes/value",
        r.lines_per_sec,
        r.values_per_sec,
        r.peak_rss_bytes as f64 / 1048576.0,
        r.disk_bytes as f64 / 1048576.0,
        r.disk_bytes as f64 / values as f64
    );
}

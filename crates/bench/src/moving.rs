//! `oxiflux-bench move`: what moving data costs. The bench dataset is loaded
//! into an oxiflux server (then restarted, so it is all in Parquet), backed up
//! with `oxiflux backup`, and restored with `oxiflux restore --full` into a
//! fresh server; the same dataset is written into InfluxDB 1.x, which is then
//! stopped and upgraded with `oxiflux upgrade`. Each step is timed as a whole
//! command, with the peak resident memory of the server (only while the step
//! runs) and of the command, and checked: the count of points afterwards must
//! be the count loaded. The upgrade is put against 1.x's own ingest of the
//! same data in the same run.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::servers::{Influx1, Oxiflux, RssWatch, Server, TOKEN, dir_size};
use crate::{DataArgs, data, ingest, parse_hours};

#[derive(Debug, clap::Args)]
pub(crate) struct Move {
    #[arg(long, default_value = "target/release/oxiflux")]
    oxiflux: String,
    #[arg(long, default_value = "/usr/bin/influxd")]
    influxd: String,
    #[command(flatten)]
    data: DataArgs,
    #[arg(long, default_value_t = 4)]
    connections: usize,
}

/// A command run to its end: how long it took and its peak RSS.
fn timed(cmd: &mut Command) -> anyhow::Result<(Duration, u64)> {
    let start = Instant::now();
    let child = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().context("starting oxiflux")?;
    let watch = RssWatch::start(child.id());
    let out = child.wait_with_output()?;
    let took = start.elapsed();
    let peak = watch.peak();
    if !out.status.success() {
        bail!("{:?} failed: {}", cmd, String::from_utf8_lossy(&out.stderr));
    }
    Ok((took, peak))
}

/// `SELECT count(usage_user) FROM cpu` on database `bench`.
fn count(url: &str) -> anyhow::Result<u64> {
    let r = reqwest::blocking::Client::new()
        .post(format!("{url}/query?db=bench"))
        .header("Authorization", format!("Token {TOKEN}"))
        .form(&[("q", "SELECT count(usage_user) FROM cpu")])
        .send()?;
    let v: serde_json::Value = r.json()?;
    v["results"][0]["series"][0]["values"][0][1].as_u64().with_context(|| format!("no count in {v}"))
}

fn mib(b: u64) -> f64 {
    b as f64 / 1048576.0
}

pub(crate) fn run(args: Move) -> anyhow::Result<()> {
    let seconds = parse_hours(&args.data.duration)?;
    let batches = Arc::new(data::batches(args.data.hosts, seconds, args.data.interval, args.data.batch));
    let points = (args.data.hosts * (seconds / args.data.interval) as usize) as u64;
    println!(
        "data: {} hosts x {} every {}s = {points} points, {} field values",
        args.data.hosts,
        args.data.duration,
        args.data.interval,
        points * data::FIELDS as u64
    );
    let bin = &args.oxiflux;

    let source = Oxiflux::start(bin, &[])?;
    ingest(&source, &batches, args.connections)?;
    let source = source.restart(bin, &[])?;
    source.settle()?;
    check(count(source.url())?, points, "the loaded server")?;

    let backup = tempfile::Builder::new().prefix("oxiflux-bench-backup").tempdir_in("/tmp")?;
    let server = RssWatch::from_now(source.pid());
    let (took, client) =
        timed(Command::new(bin).arg("backup").arg(backup.path()).args(["--host", source.url(), "--token", TOKEN]))?;
    let server = server.peak();
    let size = dir_size(backup.path());
    line("backup", size, points, took, server, client);

    let target = Oxiflux::start(bin, &[])?;
    let server = RssWatch::from_now(target.pid());
    let (took, client) = timed(Command::new(bin).arg("restore").arg(backup.path()).args([
        "--full",
        "--host",
        target.url(),
        "--token",
        TOKEN,
    ]))?;
    let server = server.peak();
    line("restore", size, points, took, server, client);
    check(count(target.url())?, points, "the restored server")?;
    drop((source, target));

    let mut v1 = Influx1::start(&args.influxd)?;
    let v1_took = ingest(&v1, &batches, args.connections)?;
    v1.settle_and_measure_disk()?;
    v1.kill();
    let into = tempfile::Builder::new().prefix("oxiflux-bench-upgrade").tempdir_in("/tmp")?;
    let (took, client) = timed(
        Command::new(bin)
            .arg("upgrade")
            .arg("--config-file")
            .arg(v1.config_file())
            .arg("--data-dir")
            .arg(into.path())
            .args(["-o", "bench", "-b", "first", "-u", "bench", "-p", "benchpassword", "-t", TOKEN]),
    )?;
    let upgraded = Oxiflux::serve(bin, into)?;
    check(count(upgraded.url())?, points, "the upgraded server")?;
    let per_sec = |d: Duration| points as f64 / d.as_secs_f64();
    println!(
        "{:>8}: {:>8.1} s  {:>10.0} points/s  upgrade peak RSS {:>7.1} MiB   (1.x's own ingest of the same data: {:.0} points/s; ratio {:.2}x)",
        "upgrade",
        took.as_secs_f64(),
        per_sec(took),
        mib(client),
        per_sec(v1_took),
        per_sec(took) / per_sec(v1_took)
    );
    Ok(())
}

fn check(got: u64, want: u64, what: &str) -> anyhow::Result<()> {
    if got != want {
        bail!("{what} holds {got} points of usage_user, not {want}");
    }
    Ok(())
}

fn line(step: &str, bytes: u64, points: u64, took: Duration, server: u64, client: u64) {
    let s = took.as_secs_f64();
    println!(
        "{step:>8}: {:>8.1} s  {:>10.0} points/s  {:>7.1} MiB = {:>6.1} MiB/s  server peak RSS {:>7.1} MiB  command peak RSS {:>6.1} MiB",
        s,
        points as f64 / s,
        mib(bytes),
        mib(bytes) / s,
        mib(server),
        mib(client)
    );
}

//! A shard of InfluxDB's (TSM files and WAL, read by `tsm`) written into a
//! bucket through the server's one write path (`server::Ingest`): each series' fields at one time
//! become one line of line protocol, written in batches, each durable before
//! the next. The same point written twice is one point (the later write of a
//! series, field and time wins), so loading a shard again after a crash
//! neither duplicates nor loses anything. Used by `upgrade` and
//! `import-backup`, which make the buckets here too.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use anyhow::Context;
use lineproto::Precision;
use meta::Id;
use meta::buckets::{Bucket, BucketKind, NewBucket};
use server::Ingest;
use tsm::{Shard, Value};

/// A batch is written when it holds this many bytes of line protocol.
const BATCH_BYTES: usize = 4 << 20;

/// What one shard (or several, added up) brought.
#[derive(Debug, Default, Clone)]
pub(crate) struct Loaded {
    pub series: u64,
    /// Field values read from the shard.
    pub values: u64,
    /// Points (one series at one time, all its fields) written and dropped.
    pub written: u64,
    pub dropped: u64,
    /// InfluxDB's reason for the first drop.
    pub first_drop: Option<String>,
}

impl Loaded {
    pub(crate) fn add(&mut self, other: &Loaded) {
        self.series += other.series;
        self.values += other.values;
        self.written += other.written;
        self.dropped += other.dropped;
        if self.first_drop.is_none() {
            self.first_drop.clone_from(&other.first_drop);
        }
    }
}

struct Writer<'a> {
    ingest: &'a Ingest,
    bucket: &'a Bucket,
    body: String,
    loaded: Loaded,
}

impl Writer<'_> {
    fn send(&mut self) -> anyhow::Result<()> {
        if self.body.is_empty() {
            return Ok(());
        }
        let outcome = self
            .ingest
            .write(self.bucket, self.body.as_bytes(), Precision::Nanosecond, time::now_ns())
            .context("writing the shard's points")?;
        self.loaded.written += outcome.written as u64;
        self.loaded.dropped += outcome.dropped as u64;
        if self.loaded.first_drop.is_none() {
            self.loaded.first_drop = outcome.reason;
        }
        self.body.clear();
        Ok(())
    }

    /// One series' values, by time, as lines (`fields` names the fields
    /// `by_time` points at).
    fn series(&mut self, series: &[u8], fields: &[Vec<u8>], by_time: &mut ByTime) -> anyhow::Result<()> {
        if by_time.is_empty() {
            return Ok(());
        }
        self.loaded.series += 1;
        let series = String::from_utf8_lossy(series);
        let names: Vec<String> = fields
            .iter()
            .map(|f| {
                let mut k = String::new();
                escape_field_key(&mut k, &String::from_utf8_lossy(f));
                k
            })
            .collect();
        for (t, values) in std::mem::take(by_time) {
            self.body.push_str(&series);
            for (i, (field, value)) in values.iter().enumerate() {
                self.body.push(if i == 0 { ' ' } else { ',' });
                self.body.push_str(&names[*field]);
                self.body.push('=');
                write_value(&mut self.body, value);
            }
            let _ = writeln!(self.body, " {t}");
            if self.body.len() >= BATCH_BYTES {
                self.send()?;
            }
        }
        Ok(())
    }
}

/// A series' values by time: each the index of its field and the value.
type ByTime = BTreeMap<i64, Vec<(usize, Value)>>;

/// A bucket of the org by name, made (with this retention, shard duration and
/// description) when there is none yet.
pub(crate) fn ensure_bucket(
    store: &meta::Store,
    org: Id,
    name: &str,
    description: &str,
    rp: &str,
    retention_ns: i64,
    shard_group_ns: i64,
) -> anyhow::Result<Bucket> {
    if let Ok(b) = store.find_bucket_by_name(org, name) {
        return Ok(b);
    }
    let bucket = store.create_bucket(&NewBucket {
        org_id: org,
        name: name.to_owned(),
        description: description.to_owned(),
        rp: rp.to_owned(),
        retention_seconds: retention_ns / time::SECOND,
        shard_group_seconds: (shard_group_ns > 0).then(|| (shard_group_ns / time::SECOND).max(1)),
        schema_type: "implicit".into(),
        kind: BucketKind::User,
    });
    bucket.with_context(|| format!("making bucket {name}"))
}

/// Writes every value of `shard` into `bucket`.
pub(crate) fn load(ingest: &Ingest, bucket: &Bucket, shard: &Shard) -> anyhow::Result<Loaded> {
    let mut w = Writer { ingest, bucket, body: String::with_capacity(BATCH_BYTES + 4096), loaded: Loaded::default() };
    let mut current: Vec<u8> = Vec::new();
    let mut fields: Vec<Vec<u8>> = Vec::new();
    let mut by_time = ByTime::new();
    let read = shard.for_each::<anyhow::Error>(|key, values| {
        let (series, field) = tsm::key::split(key);
        if series != current.as_slice() {
            w.series(&current, &fields, &mut by_time)?;
            current = series.to_vec();
            fields.clear();
        }
        fields.push(field.to_vec());
        let f = fields.len() - 1;
        for (t, v) in values {
            by_time.entry(t).or_default().push((f, v));
        }
        Ok(())
    })?;
    w.series(&current, &fields, &mut by_time)?;
    w.send()?;
    w.loaded.values = read.values;
    Ok(w.loaded)
}

/// A field key as line protocol writes it (`,`, `=` and space escaped).
fn escape_field_key(out: &mut String, key: &str) {
    for c in key.chars() {
        if matches!(c, ',' | '=' | ' ') {
            out.push('\\');
        }
        out.push(c);
    }
}

fn write_value(out: &mut String, v: &Value) {
    match v {
        // Shortest text that reads back to the same bits.
        Value::Float(f) => {
            let _ = write!(out, "{f:e}");
        }
        Value::Integer(i) => {
            let _ = write!(out, "{i}i");
        }
        Value::Unsigned(u) => {
            let _ = write!(out, "{u}u");
        }
        Value::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::String(s) => {
            out.push('"');
            for c in s.chars() {
                if matches!(c, '"' | '\\') {
                    out.push('\\');
                }
                out.push(c);
            }
            out.push('"');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(v: &Value) -> String {
        let mut s = String::new();
        write_value(&mut s, v);
        s
    }

    #[test]
    fn values_are_written_as_line_protocol_reads_them_back() {
        for f in [0.1, 5.0, 1e300, -2.5e-310, f64::MAX, f64::MIN_POSITIVE] {
            let text = line(&Value::Float(f));
            let body = format!("m v={text} 1");
            let batch = storage::Batch::parse(body.as_bytes(), Precision::Nanosecond).unwrap();
            let p = batch.lines().next().unwrap();
            let Some((_, lineproto::FieldValue::Float(got))) = p.fields().next() else { panic!("{text}") };
            assert_eq!(got.to_bits(), f.to_bits(), "{text}");
        }
        assert_eq!(line(&Value::Integer(-3)), "-3i");
        assert_eq!(line(&Value::Unsigned(u64::MAX)), "18446744073709551615u");
        assert_eq!(line(&Value::String("a \"q\" \\ b".into())), r#""a \"q\" \\ b""#);
        let mut k = String::new();
        escape_field_key(&mut k, "fi eld,x=y");
        assert_eq!(k, r"fi\ eld\,x\=y");
    }
}

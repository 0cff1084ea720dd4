//! Backups of a bucket's data a shard group at a time, and their restore.
//!
//! A shard group is what 2.x calls a shard: one bucket's partitions (every
//! measurement) of one shard-group window. Its archive is a tar stream of the
//! partitions' Parquet files (`files/<n>.parquet`) followed by `shard.json`,
//! the manifest: format version, the window, and per partition its
//! measurement, field types, series and files, each with its size and
//! SHA-256. A backup flushes the buffer first, so every write acknowledged
//! before it began is in a file, and holds the rewrite lock while it streams,
//! so compaction cannot remove a file it names (writes go on meanwhile).
//! A restore stages every file under a new ID and checks the manifest and
//! every checksum before the catalog names any of them: a bad or truncated
//! archive changes nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Storage;
use super::state::{PartitionKey, PartitionSchema};
use crate::catalog::{BucketCatalog, FileMeta, PartitionMeta};
use crate::error::{Error, Result};
use crate::series::FieldType;

/// The archive format this build writes and reads.
const VERSION: u32 = 1;
const MANIFEST: &str = "shard.json";
/// Bytes read from a file at once while streaming it.
const CHUNK: u64 = 8 << 20;

/// One shard group of a bucket, as a backup manifest lists it: its window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardGroup {
    pub start: i64,
    pub duration: i64,
}

/// What a restored archive brought.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    pub start: i64,
    pub files: usize,
    pub rows: usize,
    pub bytes: u64,
}

#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    version: u32,
    shard_start: i64,
    shard_duration: i64,
    partitions: Vec<ArchivedPartition>,
}

#[derive(Debug, Serialize, Deserialize)]
struct ArchivedPartition {
    measurement: String,
    fields: BTreeMap<String, FieldType>,
    series: BTreeSet<Vec<(String, String)>>,
    files: Vec<ArchivedFile>,
}

#[derive(Debug, Serialize, Deserialize)]
struct ArchivedFile {
    name: String,
    rows: usize,
    bytes: u64,
    min_time: i64,
    max_time: i64,
    sha256: String,
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::Invalid(msg.into())
}

impl Storage {
    /// The shard groups of `bucket` that hold data, buffered or in files,
    /// oldest first (nothing is flushed to find them).
    pub fn shard_groups(&self, bucket: u64) -> Vec<ShardGroup> {
        let st = self.read_state();
        let mut groups: BTreeMap<i64, i64> = BTreeMap::new();
        for (key, schema) in st.buckets.get(&bucket).map(|b| &b.schemas).into_iter().flatten() {
            groups.entry(key.shard_start).or_insert(schema.shard_duration);
        }
        groups.into_iter().map(|(start, duration)| ShardGroup { start, duration }).collect()
    }

    /// Writes the archive of `bucket`'s shard group starting at `start` to
    /// `out`: a consistent point in time, streamed in bounded memory. With
    /// `since`, only files holding points at or after it (nanoseconds).
    pub fn backup_shard(&self, bucket: u64, start: i64, since: Option<i64>, out: &mut dyn Write) -> Result<u64> {
        self.inner.snapshot()?;
        let inner = &self.inner;
        let _rewrite = inner.rewrite.lock().unwrap_or_else(|e| e.into_inner());
        let (duration, partitions): (i64, Vec<PartitionMeta>) = {
            let st = self.read_state();
            let Some(b) = st.buckets.get(&bucket) else {
                return Err(invalid(format!("bucket {bucket:016x} has no data")));
            };
            let Some(duration) = b.schemas.iter().find(|(k, _)| k.shard_start == start).map(|(_, s)| s.shard_duration)
            else {
                return Err(invalid(format!("bucket {bucket:016x} has no shard group at {start}")));
            };
            // After the flush every point is in a file (none, if deletes took them all).
            (duration, b.catalog.partitions.iter().filter(|p| p.shard_start == start).cloned().collect())
        };
        let mut tar = tar::Builder::new(out);
        let mut manifest =
            Manifest { version: VERSION, shard_start: start, shard_duration: duration, partitions: vec![] };
        let mut n = 0usize;
        let mut total = 0u64;
        for p in partitions {
            let mut archived = ArchivedPartition {
                measurement: p.measurement.clone(),
                fields: p.fields.clone(),
                series: p.series.clone(),
                files: vec![],
            };
            for f in p.files.iter().filter(|f| since.is_none_or(|s| f.max_time >= s)) {
                let path = BucketCatalog::file_path(bucket, f.id);
                let size = inner.objects.size(&path)?;
                let name = format!("files/{n}.parquet");
                n += 1;
                let mut reader =
                    ObjectRead { storage: self, path, size, at: 0, hash: Sha256::new(), buf: bytes::Bytes::new() };
                let mut header = tar::Header::new_gnu();
                header.set_size(size);
                header.set_mode(0o644);
                header.set_cksum();
                tar.append_data(&mut header, &name, &mut reader)?;
                total += size;
                let sha256 = hex(&reader.hash.finalize());
                archived.files.push(ArchivedFile {
                    name,
                    rows: f.rows,
                    bytes: size,
                    min_time: f.min_time,
                    max_time: f.max_time,
                    sha256,
                });
            }
            manifest.partitions.push(archived);
        }
        let json = serde_json::to_vec_pretty(&manifest).map_err(|e| Error::Corrupt(e.to_string()))?;
        let mut header = tar::Header::new_gnu();
        header.set_size(json.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, MANIFEST, json.as_slice())?;
        tar.into_inner()?.flush()?;
        Ok(total)
    }

    /// Reads a shard archive into `bucket`. Every file is staged and checked
    /// against the manifest first; only then does the catalog name them
    /// (after what the bucket already holds, so on equal series, field and
    /// time the restored value wins). The partitions keep the archive's
    /// window, whatever the bucket's shard-group duration now is. With
    /// `expect`, an archive of another window is refused.
    pub fn restore_shard(&self, bucket: u64, expect: Option<i64>, input: &mut dyn Read) -> Result<Restored> {
        let mut staged: BTreeMap<String, (u64, u64, String)> = BTreeMap::new();
        let outcome = self.stage(bucket, input, &mut staged).and_then(|m| match expect {
            Some(start) if start != m.shard_start => Err(invalid(format!(
                "the shard archive holds the window starting at {}, not this shard's ({start})",
                m.shard_start
            ))),
            _ => Ok(m),
        });
        let result = outcome.and_then(|m| self.adopt(bucket, m, &staged));
        if result.is_err() {
            for (id, _, _) in staged.values() {
                let _ = self.inner.objects.delete(&BucketCatalog::file_path(bucket, *id));
            }
        }
        result
    }

    /// Writes the archive's files under new IDs; answers its manifest.
    fn stage(
        &self,
        bucket: u64,
        input: &mut dyn Read,
        staged: &mut BTreeMap<String, (u64, u64, String)>,
    ) -> Result<Manifest> {
        let mut archive = tar::Archive::new(input);
        let mut manifest = None;
        let entries = archive.entries().map_err(|e| invalid(format!("not a shard archive: {e}")))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| invalid(format!("shard archive is truncated or damaged: {e}")))?;
            let name = entry.path().map_err(|e| invalid(format!("shard archive entry: {e}")))?.display().to_string();
            if name == MANIFEST {
                if entry.size() > 256 << 20 {
                    return Err(invalid("shard archive manifest is too large"));
                }
                let mut json = Vec::new();
                entry.read_to_end(&mut json).map_err(|e| invalid(format!("shard archive is truncated: {e}")))?;
                let m: Manifest = serde_json::from_slice(&json)
                    .map_err(|e| invalid(format!("shard archive manifest is not valid: {e}")))?;
                manifest = Some(m);
                continue;
            }
            if !(name.starts_with("files/") && name.ends_with(".parquet")) || staged.contains_key(&name) {
                return Err(invalid(format!("shard archive has an unexpected entry {name:?}")));
            }
            let declared = entry.size();
            let id = self.inner.next_file_id(bucket);
            let mut hash = Sha256::new();
            staged.insert(name.clone(), (id, 0, String::new()));
            let path = BucketCatalog::file_path(bucket, id);
            let read = self
                .inner
                .objects
                .put_from(&path, &mut entry, &mut |chunk| hash.update(chunk))
                .map_err(|e| invalid(format!("shard archive is truncated at {name}: {e}")))?;
            if read != declared {
                return Err(invalid(format!("shard archive is truncated at {name}")));
            }
            staged.insert(name, (id, read, hex(&hash.finalize())));
        }
        let m = manifest.ok_or_else(|| invalid("shard archive has no manifest (truncated?)"))?;
        if m.version != VERSION {
            return Err(invalid(format!(
                "shard archive format {} is not the one this server reads ({VERSION})",
                m.version
            )));
        }
        Ok(m)
    }

    /// Checks the staged files against the manifest, then records them.
    fn adopt(&self, bucket: u64, m: Manifest, staged: &BTreeMap<String, (u64, u64, String)>) -> Result<Restored> {
        let mut named = BTreeSet::new();
        for f in m.partitions.iter().flat_map(|p| p.files.iter()) {
            let Some((_, size, sha)) = staged.get(&f.name) else {
                return Err(invalid(format!("shard archive lacks {} (truncated?)", f.name)));
            };
            if *size != f.bytes || *sha != f.sha256 {
                return Err(invalid(format!("shard archive file {} does not match its checksum", f.name)));
            }
            named.insert(f.name.clone());
        }
        if let Some(extra) = staged.keys().find(|k| !named.contains(*k)) {
            return Err(invalid(format!("shard archive file {extra} is not in its manifest")));
        }
        let (start, duration) = (m.shard_start, m.shard_duration);
        if duration <= 0 {
            return Err(invalid("shard archive has no shard-group duration"));
        }
        let inner = &self.inner;
        let _persist = inner.persist.lock().unwrap_or_else(|e| e.into_inner());
        let mut st = inner.write_state();
        let b = st.buckets.entry(bucket).or_default();
        for p in &m.partitions {
            let key = PartitionKey { shard_start: start, measurement: p.measurement.as_str().into() };
            if let Some(schema) = b.schemas.get(&key) {
                for (f, t) in &p.fields {
                    if let Some(have) = schema.fields.get(f.as_str()).filter(|have| *have != t) {
                        return Err(invalid(format!(
                            "field {f:?} of {:?} is {have:?} here and {t:?} in the archive",
                            p.measurement
                        )));
                    }
                }
            }
        }
        let (mut files, mut rows, mut bytes) = (0, 0, 0);
        for p in m.partitions {
            let key = PartitionKey { shard_start: start, measurement: p.measurement.as_str().into() };
            let schema = b
                .schemas
                .entry(key)
                .or_insert_with(|| PartitionSchema { shard_duration: duration, ..Default::default() });
            for (f, t) in &p.fields {
                schema.fields.insert(f.as_str().into(), *t);
            }
            let part = b.catalog.partition_mut(start, duration, &p.measurement);
            for (f, t) in p.fields {
                part.fields.entry(f).or_insert(t);
            }
            part.series.extend(p.series);
            for f in p.files {
                let (id, size, _) = staged[&f.name];
                part.files.push(FileMeta { id, rows: f.rows, bytes: size, min_time: f.min_time, max_time: f.max_time });
                files += 1;
                rows += f.rows;
                bytes += size;
            }
        }
        b.catalog.save(&inner.objects, bucket)?;
        Ok(Restored { start, files, rows, bytes })
    }
}

/// A file of the store read a chunk at a time, hashed as it goes.
struct ObjectRead<'a> {
    storage: &'a Storage,
    path: String,
    size: u64,
    at: u64,
    hash: Sha256,
    buf: bytes::Bytes,
}

impl Read for ObjectRead<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.buf.is_empty() {
            if self.at >= self.size {
                return Ok(0);
            }
            let end = (self.at + CHUNK).min(self.size);
            let bytes =
                self.storage.inner.objects.get_range(&self.path, self.at..end).map_err(std::io::Error::other)?;
            self.at = end;
            self.hash.update(&bytes);
            self.buf = bytes;
        }
        let n = out.len().min(self.buf.len());
        out[..n].copy_from_slice(&self.buf[..n]);
        self.buf = self.buf.slice(n..);
        Ok(n)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

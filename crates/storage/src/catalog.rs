//! The catalog: per bucket, which Parquet files exist, what each partition holds
//! (field types, series), and the deletes not yet folded into the files.
//!
//! Kept as `data/<bucket>/catalog.json`, replaced atomically (write, fsync,
//! rename) on every change, so schema reads and start-up never open data files.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::series::FieldType;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct FileMeta {
    pub(crate) id: u64,
    pub(crate) rows: usize,
    pub(crate) bytes: u64,
    pub(crate) min_time: i64,
    pub(crate) max_time: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub(crate) struct PartitionMeta {
    pub(crate) shard_start: i64,
    pub(crate) shard_duration: i64,
    pub(crate) measurement: String,
    pub(crate) fields: BTreeMap<String, FieldType>,
    /// Every series with data in the partition's files (tags, sorted).
    pub(crate) series: BTreeSet<Vec<(String, String)>>,
    /// Oldest first: a later file's value wins for the same series, field and time.
    pub(crate) files: Vec<FileMeta>,
}

/// A delete not yet applied to every file it touches.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct Tombstone {
    pub(crate) start: i64,
    pub(crate) stop: i64,
    pub(crate) predicate: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub(crate) struct BucketCatalog {
    pub(crate) next_file: u64,
    pub(crate) partitions: Vec<PartitionMeta>,
    pub(crate) tombstones: Vec<Tombstone>,
}

impl BucketCatalog {
    pub(crate) fn dir(root: &Path, bucket: u64) -> PathBuf {
        root.join("data").join(format!("{bucket:016x}"))
    }

    pub(crate) fn file_path(root: &Path, bucket: u64, file: u64) -> PathBuf {
        Self::dir(root, bucket).join(format!("{file:016x}.parquet"))
    }

    pub(crate) fn load(root: &Path, bucket: u64) -> Result<Self> {
        let path = Self::dir(root, bucket).join("catalog.json");
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| Error::Corrupt(format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(e.into()),
        }
    }

    /// Writes the catalog durably: to a temporary file, fsynced, renamed over the old one.
    pub(crate) fn save(&self, root: &Path, bucket: u64) -> Result<()> {
        let dir = Self::dir(root, bucket);
        std::fs::create_dir_all(&dir)?;
        let tmp = dir.join("catalog.json.tmp");
        let mut f = File::create(&tmp)?;
        f.write_all(&serde_json::to_vec(self).map_err(|e| Error::Corrupt(e.to_string()))?)?;
        f.sync_all()?;
        std::fs::rename(&tmp, dir.join("catalog.json"))?;
        File::open(&dir)?.sync_all()?;
        Ok(())
    }

    pub(crate) fn partition_mut(
        &mut self,
        shard_start: i64,
        shard_duration: i64,
        measurement: &str,
    ) -> &mut PartitionMeta {
        let pos = self.partitions.iter().position(|p| p.shard_start == shard_start && p.measurement == measurement);
        match pos {
            Some(i) => &mut self.partitions[i],
            None => {
                self.partitions.push(PartitionMeta {
                    shard_start,
                    shard_duration,
                    measurement: measurement.to_owned(),
                    ..Default::default()
                });
                let last = self.partitions.len() - 1;
                &mut self.partitions[last]
            }
        }
    }

    /// The bucket IDs with a catalog under `root`.
    pub(crate) fn buckets(root: &Path) -> Result<Vec<u64>> {
        let dir = root.join("data");
        let mut out = Vec::new();
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Ok(out);
        };
        for e in entries {
            let name = e?.file_name();
            if let Ok(id) = u64::from_str_radix(&name.to_string_lossy(), 16) {
                out.push(id);
            }
        }
        Ok(out)
    }
}

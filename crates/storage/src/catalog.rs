//! The catalog: per bucket, which Parquet files exist, what each partition holds
//! (field types, series), and the deletes not yet folded into the files.
//!
//! Kept as `<bucket>/catalog.json` in the object store beside the bucket's
//! files, replaced atomically on every change, so schema reads and start-up
//! never open data files.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::objects::Objects;
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
    /// The object-store prefix of a bucket's files.
    pub(crate) fn prefix(bucket: u64) -> String {
        format!("{bucket:016x}")
    }

    pub(crate) fn file_path(bucket: u64, file: u64) -> String {
        format!("{bucket:016x}/{file:016x}.parquet")
    }

    fn catalog_path(bucket: u64) -> String {
        format!("{bucket:016x}/catalog.json")
    }

    pub(crate) fn load(objects: &Objects, bucket: u64) -> Result<Self> {
        match objects.get(&Self::catalog_path(bucket))? {
            Some(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| Error::Corrupt(format!("catalog of bucket {bucket:016x}: {e}"))),
            None => Ok(Self::default()),
        }
    }

    /// Replaces the catalog atomically (and durably, on local disk).
    pub(crate) fn save(&self, objects: &Objects, bucket: u64) -> Result<()> {
        let bytes = serde_json::to_vec(self).map_err(|e| Error::Corrupt(e.to_string()))?;
        objects.put(&Self::catalog_path(bucket), bytes)
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

    /// The bucket IDs with files in the store.
    pub(crate) fn buckets(objects: &Objects) -> Result<Vec<u64>> {
        Ok(objects.prefixes()?.iter().filter_map(|p| u64::from_str_radix(p.trim_end_matches('/'), 16).ok()).collect())
    }
}

//! The oxiflux storage engine: time series in, time series out.
//!
//! Writes arrive as line protocol for one bucket, parsed and checked whole
//! into a [`Batch`] that [`Storage::write`] takes; each is appended to the
//! write-ahead log and fsynced before the call returns (many concurrent
//! writers share one fsync), then lives in the in-memory buffer.
//! A write that returned survives `kill -9` at any instant after.
//!
//! Reads go through [`ReadApi`]: scans of a bucket over a time range with a
//! [`Predicate`] on measurement, tags and fields, yielding one Arrow batch per
//! series and field sorted by time (duplicates merged, latest write winning),
//! window aggregates, and schema reads (measurements, tag keys and values,
//! field keys) that never look at the values.
//!
//! Not here: HTTP, authorization, bucket metadata (the caller passes each
//! bucket's retention and shard-group duration with its writes).

mod batch;
mod buffer;
mod catalog;
mod delete;
mod engine;
mod error;
mod memory;
mod objects;
mod persist;
mod predicate;
mod read;
mod series;
mod wal;
mod window;
mod wire;

pub use batch::{Batch, WriteError};
pub use delete::{Condition, DeletePredicate, PredicateError};
pub use engine::{BucketTarget, Restored, ShardGroup, Storage, StorageConfig, WriteOutcome};
pub use error::{Error, Result};
pub use memory::MemoryTables;
pub use predicate::{Matcher, Predicate, Subject};
pub use read::{FieldSeries, ReadApi, ScanRequest, WindowRequest};
pub use series::{FieldType, SeriesKey};
pub use window::Aggregate;

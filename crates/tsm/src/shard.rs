//! A shard read as the 1.x server that wrote it would answer: its TSM files
//! in the order they were written (generation, then sequence), each without
//! what its tombstones cover, then its WAL replayed over them (writes, and
//! deletes of what the log wrote before). Where two hold the same key and
//! time, the later one is the value. Keys come out sorted, one at a time, so
//! memory grows with the largest key, not with the shard.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use crate::file::TsmFile;
use crate::tombstone::{self, Tombstone};
use crate::wal::{self, Entry};
use crate::{Error, Result, Timed};

/// Per key, the time ranges a file's tombstones took from it.
type Dead = HashMap<Vec<u8>, Vec<(i64, i64)>>;

#[derive(Debug)]
pub struct Shard {
    files: Vec<(TsmFile, Dead)>,
    /// What the log holds once replayed, per key, in the order written.
    log: BTreeMap<Vec<u8>, Timed>,
    /// Segments that ended in a cut-short or bad entry (replayed up to it).
    pub truncated_segments: Vec<PathBuf>,
}

/// What one pass over a shard read.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Read {
    pub keys: u64,
    pub values: u64,
}

impl Shard {
    /// Opens the TSM files of `data` (a shard's directory) and replays the
    /// segments of `wal` (its WAL directory; missing or `None` for none).
    pub fn open(data: &Path, wal: Option<&Path>) -> Result<Self> {
        let mut names = Vec::new();
        match std::fs::read_dir(data) {
            Ok(read) => {
                for entry in read {
                    let path = entry.map_err(|e| Error::io(data, e))?.path();
                    if path.extension().is_some_and(|e| e == "tsm") {
                        names.push(path);
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(data, e)),
        }
        // `GGGGGGGGG-SSSSSSSSS.tsm`, zero-padded: by name is by age.
        names.sort();
        let mut files = Vec::with_capacity(names.len());
        for path in names {
            let file = TsmFile::open(&path)?;
            let mut dead = Dead::new();
            for Tombstone { key, min, max } in tombstone::read_for(&path)? {
                dead.entry(key).or_default().push((min, max));
            }
            files.push((file, dead));
        }
        let mut log: BTreeMap<Vec<u8>, Timed> = BTreeMap::new();
        let mut truncated_segments = Vec::new();
        for path in wal.map(wal::segments).transpose()?.unwrap_or_default() {
            let segment = wal::read_segment(&path)?;
            if segment.truncated {
                truncated_segments.push(path);
            }
            for entry in segment.entries {
                match entry {
                    Entry::Write(keys) => {
                        for (key, values) in keys {
                            log.entry(key).or_default().extend(values);
                        }
                    }
                    Entry::Delete(keys) => {
                        for key in keys {
                            log.remove(&key);
                        }
                    }
                    Entry::DeleteRange { keys, min, max } => {
                        for key in keys {
                            if let Some(values) = log.get_mut(&key) {
                                values.retain(|(t, _)| *t < min || *t > max);
                            }
                        }
                    }
                }
            }
        }
        log.retain(|_, v| !v.is_empty());
        Ok(Self { files, log, truncated_segments })
    }

    /// Calls `each` with every key and its values, sorted by time, one value
    /// per time.
    pub fn for_each<E: From<Error>>(&self, mut each: impl FnMut(&[u8], Timed) -> Result<(), E>) -> Result<Read, E> {
        let mut at = vec![0usize; self.files.len()];
        let mut log = self.log.iter().peekable();
        let mut read = Read::default();
        let mut values: Timed = Vec::new();
        loop {
            let from_files = self
                .files
                .iter()
                .zip(&at)
                .filter_map(|((f, _), &i)| f.entries().get(i).map(|e| e.key.as_slice()))
                .min();
            let key: Vec<u8> = match (from_files, log.peek()) {
                (None, None) => break,
                (Some(k), None) => k.to_vec(),
                (None, Some((k, _))) => k.to_vec(),
                (Some(a), Some((b, _))) => a.min(b.as_slice()).to_vec(),
            };
            values.clear();
            for ((file, dead), i) in self.files.iter().zip(at.iter_mut()) {
                let Some(entry) = file.entries().get(*i).filter(|e| e.key == key) else { continue };
                *i += 1;
                let ranges = dead.get(&key);
                for block in &entry.blocks {
                    let (times, vs) = file.read_block(block)?;
                    let covered = |t: i64| ranges.is_some_and(|r| r.iter().any(|&(lo, hi)| t >= lo && t <= hi));
                    values.extend(times.into_iter().zip(vs.into_values()).filter(|(t, _)| !covered(*t)));
                }
            }
            if log.peek().is_some_and(|(k, _)| **k == key) {
                values.extend(log.next().expect("peeked").1.iter().cloned());
            }
            // Stable: of the values at one time, the last written is kept.
            values.sort_by_key(|(t, _)| *t);
            let mut kept: Timed = Vec::with_capacity(values.len());
            for v in values.drain(..) {
                match kept.last_mut() {
                    Some(last) if last.0 == v.0 => *last = v,
                    _ => kept.push(v),
                }
            }
            if !kept.is_empty() {
                read.keys += 1;
                read.values += kept.len() as u64;
                each(&key, kept)?;
            }
        }
        Ok(read)
    }
}

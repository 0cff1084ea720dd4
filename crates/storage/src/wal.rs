//! The write-ahead log.
//!
//! Contract: [`Wal::append`] queues an entry in memory and returns its sequence
//! number; [`Wal::wait_durable`] returns once that entry, and every one before
//! it, is written and fsynced. Concurrent writers share fsyncs (group commit):
//! whoever finds no flush in progress writes everything queued and syncs once
//! for all of them.
//!
//! On disk: segments `NNNNNNNNNNNNNNNNNNNN.wal` in `dir`, each a run of entries
//! `[len: u32 LE][crc32 of payload: u32 LE][payload]`. [`Wal::open`] reads every
//! segment back; a segment that ends in a torn or corrupt entry (a crash mid-write)
//! is cut at the last whole entry.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard};

use crate::error::{Error, Result};

/// The largest entry accepted; a length above it marks a corrupt tail.
const MAX_ENTRY: usize = 1 << 30;

#[derive(Debug)]
struct State {
    file: File,
    segment: u64,
    /// Entries queued but not yet written.
    pending: Vec<u8>,
    /// Sequence number of the last entry queued.
    queued: u64,
    /// Sequence number of the last entry known to be on disk.
    synced: u64,
    flushing: bool,
    failed: Option<String>,
}

#[derive(Debug)]
pub(crate) struct Wal {
    dir: PathBuf,
    state: Mutex<State>,
    synced_cond: Condvar,
}

/// An entry read back at open: its segment number and payload.
pub(crate) type LoggedEntry = (u64, Vec<u8>);

fn segment_path(dir: &Path, n: u64) -> PathBuf {
    dir.join(format!("{n:020}.wal"))
}

/// The segment numbers present in `dir`, ascending.
fn segments(dir: &Path) -> Result<Vec<u64>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name();
        let name = name.to_string_lossy();
        if let Some(n) = name.strip_suffix(".wal").and_then(|s| s.parse().ok()) {
            out.push(n);
        }
    }
    out.sort_unstable();
    Ok(out)
}

/// Reads the whole entries of a segment, cutting the file after the last good one.
fn read_segment(path: &Path) -> Result<Vec<Vec<u8>>> {
    let mut data = Vec::new();
    File::open(path)?.read_to_end(&mut data)?;
    let mut entries = Vec::new();
    let mut pos = 0;
    while pos + 8 <= data.len() {
        let len = u32::from_le_bytes(data[pos..pos + 4].try_into().unwrap_or_default()) as usize;
        let crc = u32::from_le_bytes(data[pos + 4..pos + 8].try_into().unwrap_or_default());
        if len > MAX_ENTRY || pos + 8 + len > data.len() {
            break;
        }
        let payload = &data[pos + 8..pos + 8 + len];
        if crc32fast::hash(payload) != crc {
            break;
        }
        entries.push(payload.to_vec());
        pos += 8 + len;
    }
    if pos < data.len() {
        tracing::warn!(segment = %path.display(), good_bytes = pos, torn_bytes = data.len() - pos, "WAL segment ends in a torn entry; cutting it there");
        let f = OpenOptions::new().write(true).open(path)?;
        f.set_len(pos as u64)?;
        f.sync_all()?;
    }
    Ok(entries)
}

impl Wal {
    /// Opens the log in `dir`, returning it with every entry already on disk, oldest first.
    pub(crate) fn open(dir: &Path) -> Result<(Self, Vec<LoggedEntry>)> {
        std::fs::create_dir_all(dir)?;
        let mut replay = Vec::new();
        let existing = segments(dir)?;
        for &n in &existing {
            for e in read_segment(&segment_path(dir, n))? {
                replay.push((n, e));
            }
        }
        let next = existing.last().map_or(1, |n| n + 1);
        let file = create_segment(dir, next)?;
        let wal = Self {
            dir: dir.to_path_buf(),
            state: Mutex::new(State {
                file,
                segment: next,
                pending: Vec::new(),
                queued: 0,
                synced: 0,
                flushing: false,
                failed: None,
            }),
            synced_cond: Condvar::new(),
        };
        Ok((wal, replay))
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues one entry; returns its sequence number for [`Wal::wait_durable`].
    pub(crate) fn append(&self, payload: &[u8]) -> u64 {
        self.append_parts(&[payload])
    }

    /// Queues one entry made of `parts` laid end to end.
    pub(crate) fn append_parts(&self, parts: &[&[u8]]) -> u64 {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        let mut crc = crc32fast::Hasher::new();
        for p in parts {
            crc.update(p);
        }
        let crc = crc.finalize();
        let mut st = self.lock();
        st.pending.reserve(len + 8);
        st.pending.extend_from_slice(&(len as u32).to_le_bytes());
        st.pending.extend_from_slice(&crc.to_le_bytes());
        for p in parts {
            st.pending.extend_from_slice(p);
        }
        st.queued += 1;
        st.queued
    }

    /// Blocks until entry `seq` is fsynced, taking part in a shared flush.
    pub(crate) fn wait_durable(&self, seq: u64) -> Result<()> {
        let mut st = self.lock();
        loop {
            if st.synced >= seq {
                return Ok(());
            }
            if let Some(e) = &st.failed {
                return Err(Error::Wal(e.clone()));
            }
            if st.flushing {
                st = self.synced_cond.wait(st).unwrap_or_else(|e| e.into_inner());
                continue;
            }
            st = self.flush_locked(st);
        }
    }

    /// Writes and syncs everything queued; the lock is released during the I/O.
    fn flush_locked<'a>(&'a self, mut st: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        st.flushing = true;
        let buf = std::mem::take(&mut st.pending);
        let upto = st.queued;
        let file = st.file.try_clone();
        drop(st);
        let result = file.and_then(|mut f| {
            f.write_all(&buf)?;
            f.sync_data()
        });
        let mut st = self.lock();
        st.flushing = false;
        match result {
            Ok(()) => st.synced = upto,
            Err(e) => st.failed = Some(format!("writing the WAL: {e}")),
        }
        self.synced_cond.notify_all();
        st
    }

    /// Flushes, then starts a new segment; returns the number of the last closed one.
    /// Everything appended before the call lives in segments up to that number.
    pub(crate) fn rotate(&self) -> Result<u64> {
        let mut st = self.lock();
        loop {
            if st.flushing {
                st = self.synced_cond.wait(st).unwrap_or_else(|e| e.into_inner());
                continue;
            }
            if st.synced < st.queued {
                st = self.flush_locked(st);
                continue;
            }
            break;
        }
        if let Some(e) = &st.failed {
            return Err(Error::Wal(e.clone()));
        }
        let closed = st.segment;
        st.segment += 1;
        st.file = create_segment(&self.dir, st.segment)?;
        Ok(closed)
    }

    /// Deletes segments up to and including `upto`: their data is persisted elsewhere.
    pub(crate) fn release(&self, upto: u64) -> Result<()> {
        for n in segments(&self.dir)? {
            if n <= upto {
                std::fs::remove_file(segment_path(&self.dir, n))?;
            }
        }
        Ok(())
    }
}

fn create_segment(dir: &Path, n: u64) -> Result<File> {
    let f = OpenOptions::new().create(true).append(true).open(segment_path(dir, n))?;
    // Make the new file's directory entry durable too.
    File::open(dir)?.sync_all()?;
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn entries_survive_reopen_and_a_torn_tail_is_cut() {
        let dir = tempfile::tempdir().unwrap();
        let (wal, replay) = Wal::open(dir.path()).unwrap();
        assert!(replay.is_empty());
        for i in 0..3u8 {
            let seq = wal.append(&[i; 10]);
            wal.wait_durable(seq).unwrap();
        }
        drop(wal);
        // Tear the last entry: chop 3 bytes off the segment.
        let seg = segment_path(dir.path(), 1);
        let len = std::fs::metadata(&seg).unwrap().len();
        OpenOptions::new().write(true).open(&seg).unwrap().set_len(len - 3).unwrap();
        let (wal, replay) = Wal::open(dir.path()).unwrap();
        assert_eq!(replay.iter().map(|(_, e)| e[0]).collect::<Vec<_>>(), vec![0, 1]);
        let seq = wal.append(b"after");
        wal.wait_durable(seq).unwrap();
        drop(wal);
        let (_, replay) = Wal::open(dir.path()).unwrap();
        assert_eq!(replay.len(), 3);
        assert_eq!(replay[2].1, b"after");
    }

    #[test]
    fn a_corrupt_entry_ends_the_segment() {
        let dir = tempfile::tempdir().unwrap();
        let (wal, _) = Wal::open(dir.path()).unwrap();
        let s = wal.append(b"good");
        wal.wait_durable(s).unwrap();
        let s = wal.append(b"flipped");
        wal.wait_durable(s).unwrap();
        drop(wal);
        let seg = segment_path(dir.path(), 1);
        let mut bytes = std::fs::read(&seg).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        std::fs::write(&seg, bytes).unwrap();
        let (_, replay) = Wal::open(dir.path()).unwrap();
        assert_eq!(replay.len(), 1);
    }

    #[test]
    fn concurrent_writers_share_fsyncs_and_all_become_durable() {
        let dir = tempfile::tempdir().unwrap();
        let (wal, _) = Wal::open(dir.path()).unwrap();
        let wal = Arc::new(wal);
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let wal = Arc::clone(&wal);
                std::thread::spawn(move || {
                    for i in 0..50u32 {
                        let seq = wal.append(&[t as u8, i as u8]);
                        wal.wait_durable(seq).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let closed = wal.rotate().unwrap();
        drop(wal);
        let (_, replay) = Wal::open(dir.path()).unwrap();
        assert_eq!(replay.len(), 400);
        assert!(replay.iter().all(|(seg, _)| *seg <= closed));
    }
}

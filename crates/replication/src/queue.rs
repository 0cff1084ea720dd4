//! A durable FIFO queue of byte records on disk, one per replication.
//!
//! Records are appended to segment files (`<n>.seg`) as
//! `[len u32][crc32 u32][enqueued-at i64][data]`, and each append is fsynced
//! before it returns: once `append` says yes, a `kill -9` cannot lose the
//! record. A cursor file records how far the sender has got; it is replaced
//! atomically (write, fsync, rename) after the remote acknowledged a batch,
//! so a crash can make the sender resend a batch but never skip one.
//! Segments wholly behind the cursor are deleted. A torn record at the end of
//! the last segment (a crash mid-append, never acknowledged) is cut off on open.

use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// A segment is closed and a new one started past this size.
const SEGMENT_BYTES: u64 = 16 * 1024 * 1024;
const HEADER: u64 = 16;

/// Where the sender stands: a segment and a byte offset in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Position {
    pub segment: u64,
    pub offset: u64,
}

/// One record read back.
#[derive(Debug, Clone)]
pub struct Record {
    pub enqueued_at: i64,
    pub data: Vec<u8>,
    /// The position just after this record.
    pub next: Position,
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("replication queue is full ({size} of {max} bytes)")]
    Full { size: u64, max: u64 },
    #[error("replication queue: {0}")]
    Io(#[from] io::Error),
}

#[derive(Debug)]
struct Segment {
    id: u64,
    len: u64,
}

#[derive(Debug)]
struct State {
    segments: VecDeque<Segment>,
    cursor: Position,
    writer: File,
    max_bytes: u64,
    /// Room promised to writes that have passed [`Queue::reserve`] and not yet
    /// appended: counted as used, so no other write can take it meanwhile.
    reserved: u64,
}

#[derive(Debug)]
pub struct Queue {
    dir: PathBuf,
    state: Mutex<State>,
}

fn segment_path(dir: &Path, id: u64) -> PathBuf {
    dir.join(format!("{id:020}.seg"))
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// The length of the valid prefix of a segment: whole records with good checksums.
fn valid_len(path: &Path) -> io::Result<u64> {
    let mut f = File::open(path)?;
    let total = f.metadata()?.len();
    let mut at = 0u64;
    let mut header = [0u8; HEADER as usize];
    while at + HEADER <= total {
        f.seek(SeekFrom::Start(at))?;
        f.read_exact(&mut header)?;
        let len = u64::from(u32::from_le_bytes(header[0..4].try_into().unwrap_or_default()));
        let crc = u32::from_le_bytes(header[4..8].try_into().unwrap_or_default());
        if at + HEADER + len > total {
            break;
        }
        let mut body = vec![0u8; len as usize];
        f.read_exact(&mut body)?;
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(&header[8..16]);
        hasher.update(&body);
        if hasher.finalize() != crc {
            break;
        }
        at += HEADER + len;
    }
    Ok(at)
}

impl Queue {
    /// Opens (or makes) the queue in `dir`, holding at most `max_bytes` unsent.
    pub fn open(dir: &Path, max_bytes: u64) -> Result<Queue, QueueError> {
        fs::create_dir_all(dir)?;
        let mut ids: Vec<u64> = fs::read_dir(dir)?
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.strip_suffix(".seg")?.parse().ok())
            .collect();
        ids.sort_unstable();
        let cursor = match fs::read(dir.join("cursor")) {
            Ok(b) if b.len() == 16 => Position {
                segment: u64::from_le_bytes(b[0..8].try_into().unwrap_or_default()),
                offset: u64::from_le_bytes(b[8..16].try_into().unwrap_or_default()),
            },
            _ => Position { segment: ids.first().copied().unwrap_or(0), offset: 0 },
        };
        let mut segments = VecDeque::new();
        for (i, id) in ids.iter().enumerate() {
            let path = segment_path(dir, *id);
            let len = if i + 1 == ids.len() {
                // Only the last segment can end in a torn append.
                let valid = valid_len(&path)?;
                OpenOptions::new().write(true).open(&path)?.set_len(valid)?;
                valid
            } else {
                fs::metadata(&path)?.len()
            };
            segments.push_back(Segment { id: *id, len });
        }
        if segments.is_empty() {
            let id = cursor.segment;
            File::create(segment_path(dir, id))?.sync_all()?;
            sync_dir(dir)?;
            segments.push_back(Segment { id, len: 0 });
        }
        let last = segments.back().map_or(0, |s| s.id);
        let writer = OpenOptions::new().append(true).open(segment_path(dir, last))?;
        let q = Queue {
            dir: dir.to_owned(),
            state: Mutex::new(State { segments, cursor, writer, max_bytes, reserved: 0 }),
        };
        Ok(q)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn set_max_bytes(&self, max: u64) {
        self.state().max_bytes = max;
    }

    /// Bytes on disk not yet acknowledged by the remote.
    pub fn pending_bytes(&self) -> u64 {
        let st = self.state();
        pending(&st)
    }

    /// Bytes on disk in all segments, sent or not.
    pub fn disk_bytes(&self) -> u64 {
        self.state().segments.iter().map(|s| s.len).sum()
    }

    /// Holds room for a record of `n` bytes if it fits, for
    /// [`Queue::append_reserved`]; refuses when the queue is full.
    pub fn reserve(&self, n: u64) -> Result<(), QueueError> {
        let mut st = self.state();
        let size = pending(&st) + st.reserved;
        if size + n + HEADER > st.max_bytes {
            return Err(QueueError::Full { size, max: st.max_bytes });
        }
        st.reserved += n + HEADER;
        Ok(())
    }

    /// Gives back room reserved for a record of `n` bytes that will not come.
    pub fn release(&self, n: u64) {
        let mut st = self.state();
        st.reserved = st.reserved.saturating_sub(n + HEADER);
    }

    /// Appends a record and syncs it to disk; refuses when the queue is full.
    pub fn append(&self, enqueued_at: i64, data: &[u8]) -> Result<(), QueueError> {
        let mut st = self.state();
        let size = pending(&st) + st.reserved;
        let need = HEADER + data.len() as u64;
        if size + need > st.max_bytes {
            return Err(QueueError::Full { size, max: st.max_bytes });
        }
        Self::write_record(&self.dir, &mut st, enqueued_at, data)
    }

    /// Appends a record whose room [`Queue::reserve`] holds (its size then,
    /// `data.len()` now): it takes that room and is never refused for space.
    pub fn append_reserved(&self, enqueued_at: i64, data: &[u8]) -> Result<(), QueueError> {
        let mut st = self.state();
        st.reserved = st.reserved.saturating_sub(HEADER + data.len() as u64);
        Self::write_record(&self.dir, &mut st, enqueued_at, data)
    }

    fn write_record(dir: &Path, st: &mut State, enqueued_at: i64, data: &[u8]) -> Result<(), QueueError> {
        let need = HEADER + data.len() as u64;
        if st.segments.back().is_some_and(|s| s.len >= SEGMENT_BYTES) {
            let id = st.segments.back().map_or(0, |s| s.id + 1);
            let file = File::create(segment_path(dir, id))?;
            file.sync_all()?;
            sync_dir(dir)?;
            st.writer = OpenOptions::new().append(true).open(segment_path(dir, id))?;
            st.segments.push_back(Segment { id, len: 0 });
        }
        let stamp = enqueued_at.to_le_bytes();
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(&stamp);
        hasher.update(data);
        let len = u32::try_from(data.len()).map_err(|_| io::Error::other("record too large"))?;
        let mut record = Vec::with_capacity(need as usize);
        record.extend_from_slice(&len.to_le_bytes());
        record.extend_from_slice(&hasher.finalize().to_le_bytes());
        record.extend_from_slice(&stamp);
        record.extend_from_slice(data);
        st.writer.write_all(&record)?;
        st.writer.sync_data()?;
        if let Some(last) = st.segments.back_mut() {
            last.len += need;
        }
        Ok(())
    }

    /// Records from the cursor on, up to about `max_bytes` of data (at least one).
    pub fn peek(&self, max_bytes: usize) -> Result<Vec<Record>, QueueError> {
        let st = self.state();
        let mut out = Vec::new();
        let mut taken = 0usize;
        let start = st.cursor;
        for seg in st.segments.iter().filter(|s| s.id >= start.segment) {
            let offset = if seg.id == start.segment { start.offset } else { 0 };
            if offset >= seg.len {
                continue;
            }
            let mut f = File::open(segment_path(&self.dir, seg.id))?;
            f.seek(SeekFrom::Start(offset))?;
            let mut at = offset;
            while at + HEADER <= seg.len {
                let mut header = [0u8; HEADER as usize];
                f.read_exact(&mut header)?;
                let len = u64::from(u32::from_le_bytes(header[0..4].try_into().unwrap_or_default()));
                let mut data = vec![0u8; len as usize];
                f.read_exact(&mut data)?;
                at += HEADER + len;
                taken += data.len();
                out.push(Record {
                    enqueued_at: i64::from_le_bytes(header[8..16].try_into().unwrap_or_default()),
                    data,
                    next: Position { segment: seg.id, offset: at },
                });
                if taken >= max_bytes {
                    return Ok(out);
                }
            }
        }
        Ok(out)
    }

    /// Marks everything before `to` as sent: the cursor is saved, and
    /// segments wholly behind it are deleted.
    pub fn advance(&self, to: Position) -> Result<(), QueueError> {
        let mut st = self.state();
        if to <= st.cursor {
            return Ok(());
        }
        let mut bytes = [0u8; 16];
        bytes[0..8].copy_from_slice(&to.segment.to_le_bytes());
        bytes[8..16].copy_from_slice(&to.offset.to_le_bytes());
        let tmp = self.dir.join("cursor.tmp");
        {
            let mut f = File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
        }
        fs::rename(&tmp, self.dir.join("cursor"))?;
        sync_dir(&self.dir)?;
        st.cursor = to;
        // Delete the segments behind the cursor, keeping the one being written.
        while st.segments.len() > 1 && st.segments.front().is_some_and(|s| s.id < to.segment) {
            if let Some(old) = st.segments.pop_front() {
                let _ = fs::remove_file(segment_path(&self.dir, old.id));
            }
        }
        Ok(())
    }

    /// Deletes the queue and its files.
    pub fn destroy(self) -> Result<(), QueueError> {
        let dir = self.dir.clone();
        drop(self);
        match fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }
}

fn pending(st: &State) -> u64 {
    st.segments
        .iter()
        .map(|s| {
            if s.id < st.cursor.segment {
                0
            } else if s.id == st.cursor.segment {
                s.len.saturating_sub(st.cursor.offset)
            } else {
                s.len
            }
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_come_back_in_order_and_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let q = Queue::open(dir.path(), 1 << 20).unwrap();
        for i in 0..10u8 {
            q.append(i64::from(i), &[i; 100]).unwrap();
        }
        let batch = q.peek(350).unwrap();
        assert_eq!(batch.iter().map(|r| r.data[0]).collect::<Vec<_>>(), [0, 1, 2, 3]);
        q.advance(batch[3].next).unwrap();
        drop(q);
        let q = Queue::open(dir.path(), 1 << 20).unwrap();
        let rest = q.peek(usize::MAX).unwrap();
        assert_eq!(rest.iter().map(|r| r.data[0]).collect::<Vec<_>>(), [4, 5, 6, 7, 8, 9]);
        assert_eq!(rest[0].enqueued_at, 4);
        assert_eq!(q.pending_bytes(), 6 * (100 + HEADER));
    }

    #[test]
    fn a_full_queue_refuses_and_a_torn_tail_is_cut_off() {
        let dir = tempfile::tempdir().unwrap();
        let q = Queue::open(dir.path(), 300).unwrap();
        q.append(1, &[1; 100]).unwrap();
        q.append(2, &[2; 100]).unwrap();
        assert!(matches!(q.append(3, &[3; 100]), Err(QueueError::Full { .. })));
        drop(q);
        // A crash mid-append leaves half a record.
        let seg = fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .find(|e| e.path().extension().is_some_and(|x| x == "seg"))
            .unwrap();
        let mut f = OpenOptions::new().append(true).open(seg.path()).unwrap();
        f.write_all(&[50, 0, 0, 0, 1, 2]).unwrap();
        drop(f);
        let q = Queue::open(dir.path(), 1000).unwrap();
        assert_eq!(q.peek(usize::MAX).unwrap().len(), 2);
        q.append(3, &[3; 10]).unwrap();
        assert_eq!(q.peek(usize::MAX).unwrap().last().unwrap().data, vec![3; 10]);
    }

    #[test]
    fn reserved_room_is_kept_for_its_write_and_given_back_when_unused() {
        let dir = tempfile::tempdir().unwrap();
        // Room for two records of 100 bytes (each has a header).
        let q = Queue::open(dir.path(), 2 * (100 + HEADER)).unwrap();
        q.reserve(100).unwrap();
        q.reserve(100).unwrap();
        // Both holes are promised: a third write is refused, reserved or not.
        assert!(matches!(q.reserve(100), Err(QueueError::Full { .. })));
        assert!(matches!(q.append(9, &[9; 100]), Err(QueueError::Full { .. })));
        // One write gives up (its local write failed): its room comes back.
        q.release(100);
        q.append(1, &[1; 100]).unwrap();
        // The other write appends into the room it held, even though the queue is now full.
        q.append_reserved(2, &[2; 100]).unwrap();
        let records = q.peek(usize::MAX).unwrap();
        assert_eq!(records.iter().map(|r| r.data[0]).collect::<Vec<_>>(), [1, 2]);
        assert!(matches!(q.reserve(1), Err(QueueError::Full { .. })));
    }

    #[test]
    fn sent_segments_are_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let q = Queue::open(dir.path(), 1 << 30).unwrap();
        let big = vec![7u8; (SEGMENT_BYTES / 2) as usize];
        for _ in 0..5 {
            q.append(0, &big).unwrap();
        }
        let segs = || {
            fs::read_dir(dir.path())
                .unwrap()
                .flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "seg"))
                .count()
        };
        assert!(segs() >= 2);
        let all = q.peek(usize::MAX).unwrap();
        q.advance(all.last().unwrap().next).unwrap();
        assert_eq!(segs(), 1);
        assert_eq!(q.pending_bytes(), 0);
    }
}

//! One TSM file: a 5-byte header (magic, version), blocks (each a CRC-32 and
//! its bytes), the index (per key, sorted: key length, key, type, block
//! count, then per block min time, max time, offset and size), and an 8-byte
//! footer giving where the index starts. The index is read whole when the
//! file is opened; blocks are read one at a time, when asked for.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::codec::{Kind, decode_block};
use crate::{Error, Result, Values};

const MAGIC: u32 = 0x16D1_16D1;
const VERSION: u8 = 1;
const HEADER: u64 = 5;
const FOOTER: u64 = 8;
const BLOCK_ENTRY: usize = 28;

/// Where one block of a key is, and the times it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockRef {
    pub min_time: i64,
    pub max_time: i64,
    pub offset: u64,
    /// With the 4-byte checksum in front.
    pub size: u32,
}

/// One key of the index and its blocks, in time order.
#[derive(Debug, Clone)]
pub struct IndexEntry {
    pub key: Vec<u8>,
    pub kind: Kind,
    pub blocks: Vec<BlockRef>,
}

#[derive(Debug)]
pub struct TsmFile {
    path: PathBuf,
    file: File,
    entries: Vec<IndexEntry>,
}

impl TsmFile {
    /// Opens a file and reads its index; a file that is not TSM, of another
    /// version, or whose index runs past its end is refused.
    pub fn open(path: &Path) -> Result<Self> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
        let entries = read_index(&file, len).map_err(|e| e.in_file(path))?;
        Ok(Self { path: path.to_path_buf(), file, entries })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The keys in the file, sorted as the file sorts them (bytewise).
    pub fn entries(&self) -> &[IndexEntry] {
        &self.entries
    }

    /// Reads and checks one block: its timestamps and values.
    pub fn read_block(&self, block: &BlockRef) -> Result<(Vec<i64>, Values)> {
        let size = block.size as usize;
        if size < 4 {
            return Err(Error::corrupt(format!("{}: block of {size} bytes", self.path.display())));
        }
        let mut buf = vec![0u8; size];
        self.file.read_exact_at(&mut buf, block.offset).map_err(|e| Error::io(&self.path, e))?;
        let (crc, data) = buf.split_at(4);
        if crc32fast::hash(data).to_be_bytes() != crc {
            return Err(Error::corrupt(format!(
                "{}: block at {} fails its checksum",
                self.path.display(),
                block.offset
            )));
        }
        decode_block(data).map_err(|e| e.in_file(&self.path))
    }
}

fn read_at(file: &File, len: usize, at: u64) -> Result<Vec<u8>> {
    let mut buf = vec![0u8; len];
    file.read_exact_at(&mut buf, at).map_err(|e| Error::Corrupt(format!("reading {len} bytes at {at}: {e}")))?;
    Ok(buf)
}

fn read_index(file: &File, len: u64) -> Result<Vec<IndexEntry>> {
    if len < HEADER + FOOTER {
        return Err(Error::corrupt(format!("{len} bytes is too short for a TSM file")));
    }
    let header = read_at(file, HEADER as usize, 0)?;
    let magic = u32::from_be_bytes(header[..4].try_into().expect("4 bytes"));
    if magic != MAGIC {
        return Err(Error::corrupt(format!("not a TSM file (magic {magic:#x})")));
    }
    if header[4] != VERSION {
        return Err(Error::corrupt(format!("TSM version {} (only {VERSION} is known)", header[4])));
    }
    let footer = read_at(file, FOOTER as usize, len - FOOTER)?;
    let start = u64::from_be_bytes(footer.try_into().expect("8 bytes"));
    if start < HEADER || start > len - FOOTER {
        return Err(Error::corrupt(format!("index offset {start} outside a {len}-byte file")));
    }
    let index = read_at(file, (len - FOOTER - start) as usize, start)?;
    parse_index(&index, start)
}

fn parse_index(mut b: &[u8], blocks_end: u64) -> Result<Vec<IndexEntry>> {
    let mut entries = Vec::new();
    let cut = || Error::corrupt("index is cut short");
    while !b.is_empty() {
        let key_len = u16::from_be_bytes(b.get(..2).ok_or_else(cut)?.try_into().expect("2 bytes")) as usize;
        let key = b.get(2..2 + key_len).ok_or_else(cut)?.to_vec();
        b = &b[2 + key_len..];
        let kind = Kind::from_byte(*b.first().ok_or_else(cut)?)?;
        let count = u16::from_be_bytes(b.get(1..3).ok_or_else(cut)?.try_into().expect("2 bytes")) as usize;
        b = &b[3..];
        let table = b.get(..count * BLOCK_ENTRY).ok_or_else(cut)?;
        let blocks = table
            .chunks_exact(BLOCK_ENTRY)
            .map(|e| {
                let be = |r: std::ops::Range<usize>| e[r].iter().fold(0u64, |v, &x| (v << 8) | u64::from(x));
                let block = BlockRef {
                    min_time: be(0..8) as i64,
                    max_time: be(8..16) as i64,
                    offset: be(16..24),
                    size: be(24..28) as u32,
                };
                if block.offset < HEADER || block.offset + u64::from(block.size) > blocks_end {
                    return Err(Error::corrupt(format!(
                        "a block of {:?} lies outside the blocks",
                        String::from_utf8_lossy(&key)
                    )));
                }
                Ok(block)
            })
            .collect::<Result<Vec<_>>>()?;
        b = &b[count * BLOCK_ENTRY..];
        entries.push(IndexEntry { key, kind, blocks });
    }
    Ok(entries)
}

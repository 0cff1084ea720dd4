use std::collections::BTreeSet;
use std::path::Path;

use super::*;
use crate::file::TsmFile;

/// Every TSM file of the fixture (`data/<db>/<rp>/<shard>/`).
fn fixture_files() -> Vec<TsmFile> {
    let mut dirs = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/v1/data")];
    let mut files = Vec::new();
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "tsm") {
                files.push(TsmFile::open(&path).unwrap());
            }
        }
    }
    files
}

/// Every block of the fixture, without its checksum.
fn blocks() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for file in fixture_files() {
        let bytes = std::fs::read(file.path()).unwrap();
        for e in file.entries() {
            for b in &e.blocks {
                out.push(bytes[b.offset as usize + 4..(b.offset + u64::from(b.size)) as usize].to_vec());
            }
        }
    }
    out
}

/// (block type, timestamp encoding, value encoding) of a block.
fn encodings(block: &[u8]) -> (u8, u8, u8) {
    let (len, n) = uvarint(&block[1..]).unwrap();
    let ts = &block[1 + n..];
    (block[0], ts[0] >> 4, ts[len as usize] >> 4)
}

#[test]
fn the_fixture_holds_every_encoding_1x_writes() {
    let seen: BTreeSet<_> = blocks().iter().map(|b| encodings(b)).collect();
    let times: BTreeSet<_> = seen.iter().map(|e| e.1).collect();
    assert_eq!(times, BTreeSet::from([RAW, PACKED, RLE]), "{seen:?}");
    let integers: BTreeSet<_> = seen.iter().filter(|e| e.0 == 1).map(|e| e.2).collect();
    assert_eq!(integers, BTreeSet::from([RAW, PACKED, RLE]), "{seen:?}");
    for kind in 0..=3 {
        assert!(seen.iter().any(|e| e.0 == kind), "no block of type {kind}: {seen:?}");
    }
}

#[test]
fn unsigned_blocks_are_integer_blocks_of_another_type() {
    // 1.x writes unsigned values with the integer encodings under type 4;
    // 1.6.7's line protocol refuses `u` values, so real integer blocks are
    // retyped here.
    let mut checked = 0;
    for mut block in blocks().into_iter().filter(|b| b[0] == 1) {
        let (times, Values::Integer(ints)) = decode_block(&block).unwrap() else { panic!("not integers") };
        block[0] = 4;
        let (utimes, Values::Unsigned(uints)) = decode_block(&block).unwrap() else { panic!("not unsigned") };
        assert_eq!(times, utimes);
        assert_eq!(uints, ints.iter().map(|&i| i as u64).collect::<Vec<_>>());
        checked += 1;
    }
    assert!(checked > 3);
}

#[test]
fn a_cut_block_is_refused_not_misread() {
    for block in blocks() {
        let (times, _) = decode_block(&block).unwrap();
        // Cut inside the timestamps: refused.
        let (len, n) = uvarint(&block[1..]).unwrap();
        assert!(decode_block(&block[..1 + n + len as usize / 2]).is_err() || times.len() <= 1);
        for cut in [0, 1] {
            assert!(decode_block(&block[..cut]).is_err());
        }
    }
}

#[test]
fn an_unknown_type_or_encoding_is_refused() {
    let block = blocks().remove(0);
    let mut bad = block.clone();
    bad[0] = 9;
    assert!(decode_block(&bad).unwrap_err().to_string().contains("unknown block type 9"));
    let (_, n) = uvarint(&block[1..]).unwrap();
    let mut bad = block;
    bad[1 + n] = 0xf0;
    assert!(decode_block(&bad).unwrap_err().to_string().contains("unknown timestamp encoding 15"));
}

#[test]
fn booleans_read_from_the_high_bit() {
    // Header, count 10, then 1011_0000 0100_0000.
    let got = decode_booleans(&[0x10, 10, 0b1011_0000, 0b0100_0000]).unwrap();
    assert_eq!(got, [true, false, true, true, false, false, false, false, false, true]);
    // A count larger than the bits there is read as 1.x reads it: as many as there are.
    assert_eq!(decode_booleans(&[0x10, 100, 0xff]).unwrap().len(), 8);
}

#[test]
fn a_huge_run_count_is_refused() {
    // Run-length timestamps: first 0, delta 1, count 2^40.
    let mut b = vec![RLE << 4];
    b.extend(0u64.to_be_bytes());
    b.push(1);
    b.extend([0x80, 0x80, 0x80, 0x80, 0x80, 0x20]);
    assert!(decode_times(&b).is_err());
}

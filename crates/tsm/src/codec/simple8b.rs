//! simple8b: up to 240 small unsigned integers packed in one 64-bit word. The
//! top four bits choose how many values the other sixty hold and how wide each
//! is; the first value sits in the lowest bits.

use crate::{Error, Result};

/// (values in the word, bits per value) for each selector. Selectors 0 and 1
/// hold runs of ones in no bits at all.
const PACKINGS: [(usize, u32); 16] = [
    (240, 0),
    (120, 0),
    (60, 1),
    (30, 2),
    (20, 3),
    (15, 4),
    (12, 5),
    (10, 6),
    (8, 7),
    (7, 8),
    (6, 10),
    (5, 12),
    (4, 15),
    (3, 20),
    (2, 30),
    (1, 60),
];

/// Appends the values packed in `word` to `out`.
pub(crate) fn unpack(word: u64, out: &mut Vec<u64>) {
    let (n, bits) = PACKINGS[(word >> 60) as usize];
    if bits == 0 {
        out.extend(std::iter::repeat_n(1, n));
        return;
    }
    let mask = (1u64 << bits) - 1;
    out.extend((0..n as u32).map(|i| (word >> (i * bits)) & mask));
}

/// Appends every value of a run of big-endian words to `out`.
pub(crate) fn unpack_all(bytes: &[u8], out: &mut Vec<u64>) -> Result<()> {
    if !bytes.len().is_multiple_of(8) {
        return Err(Error::corrupt("simple8b words are not a multiple of 8 bytes"));
    }
    for word in bytes.chunks_exact(8) {
        unpack(u64::from_be_bytes(word.try_into().expect("8 bytes")), out);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_selector_lays_its_values_out_from_the_low_bits() {
        let mut out = Vec::new();
        unpack(0, &mut out);
        assert_eq!(out, vec![1; 240]);
        out.clear();
        // Selector 14: two 30-bit values.
        unpack((14 << 60) | (7 << 30) | 5, &mut out);
        assert_eq!(out, [5, 7]);
        out.clear();
        // Selector 15: one 60-bit value.
        unpack((15 << 60) | ((1 << 60) - 1), &mut out);
        assert_eq!(out, [(1 << 60) - 1]);
        out.clear();
        // Selector 2: sixty single bits.
        unpack((2 << 60) | 0b101, &mut out);
        assert_eq!(out.len(), 60);
        assert_eq!(&out[..4], [1, 0, 1, 0]);
    }
}

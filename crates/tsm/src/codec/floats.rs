//! Floats as Facebook's Gorilla paper packs them: the first value's 64 bits,
//! then each value XORed with the one before, written as a control bit (same
//! value), or the meaningful bits inside the previous value's window, or a new
//! window (5 bits of leading zeros, 6 of length). The stream ends with a NaN
//! of one particular bit pattern.

use crate::{Error, Result};

/// The NaN that ends a stream (Go's `math.NaN()`).
const END: u64 = 0x7FF8_0000_0000_0001;

struct Bits<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Bits<'_> {
    fn read(&mut self, n: u32) -> Result<u64> {
        if n == 0 {
            return Ok(0);
        }
        if self.at + n as usize > self.bytes.len() * 8 {
            return Err(Error::corrupt("float block is cut short"));
        }
        let mut v = 0u64;
        let mut left = n;
        while left > 0 {
            let byte = self.bytes[self.at >> 3];
            let used = (self.at & 7) as u32;
            let take = (8 - used).min(left);
            let bits = (u64::from(byte) >> (8 - used - take)) & ((1u64 << take) - 1);
            v = (v << take) | bits;
            self.at += take as usize;
            left -= take;
        }
        Ok(v)
    }
}

pub(super) fn decode(b: &[u8]) -> Result<Vec<f64>> {
    if b.is_empty() {
        return Ok(Vec::new());
    }
    let mut bits = Bits { bytes: &b[1..], at: 0 };
    let mut value = bits.read(64)?;
    let mut out = Vec::new();
    if value == END {
        return Ok(out);
    }
    out.push(f64::from_bits(value));
    let (mut leading, mut trailing) = (0u32, 0u32);
    loop {
        if bits.read(1)? == 0 {
            out.push(f64::from_bits(value));
            continue;
        }
        if bits.read(1)? == 1 {
            leading = bits.read(5)? as u32;
            let mut meaningful = bits.read(6)? as u32;
            // Sixty-four meaningful bits do not fit in six: they are written as 0.
            if meaningful == 0 {
                meaningful = 64;
            }
            trailing = 64u32.checked_sub(leading + meaningful).ok_or_else(|| Error::corrupt("float window"))?;
        }
        let meaningful = 64 - leading - trailing;
        let xor = bits.read(meaningful)?;
        value ^= xor.checked_shl(trailing).unwrap_or(0);
        if value == END {
            return Ok(out);
        }
        out.push(f64::from_bits(value));
    }
}

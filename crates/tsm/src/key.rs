//! A TSM key: a series key in line protocol's escaped form
//! (`measurement,tag=value,...`, tags sorted), `#!~#`, and the field's
//! name as it is (unescaped).

/// Between a key's series and its field.
pub const FIELD_SEPARATOR: &[u8] = b"#!~#";

/// The series key and the field name of a TSM key (the whole key and an
/// empty field when there is no separator).
pub fn split(key: &[u8]) -> (&[u8], &[u8]) {
    match key.windows(FIELD_SEPARATOR.len()).position(|w| w == FIELD_SEPARATOR) {
        Some(at) => (&key[..at], &key[at + FIELD_SEPARATOR.len()..]),
        None => (key, &[]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_splits_at_its_separator() {
        assert_eq!(split(b"cpu,host=a#!~#usage"), (&b"cpu,host=a"[..], &b"usage"[..]));
        assert_eq!(split(b"my\\ m#!~#f#!~#g"), (&b"my\\ m"[..], &b"f#!~#g"[..]));
        assert_eq!(split(b"cpu"), (&b"cpu"[..], &b""[..]));
    }
}

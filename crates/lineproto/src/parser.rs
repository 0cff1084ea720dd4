//! The scanner: one pass over the body, byte by byte, no copies.

use crate::error::{ErrorKind, ParseError};
use crate::line::{Escapes, KeyEscapes, Line, MeasurementEscapes, StringEscapes, Token};
use crate::point::{FieldAt, LineAt, NO_TIME, PointRef, TagAt, ValueAt};
use crate::precision::Precision;

/// The smallest and largest timestamps InfluxDB stores (its `MinNanoTime`, `MaxNanoTime`).
const MIN_TIME: i64 = i64::MIN + 2;
const MAX_TIME: i64 = i64::MAX - 1;

/// Parses a body of line protocol. Timestamps are scaled from `precision` to
/// nanoseconds; lines without one get `None` (the caller supplies server time).
pub fn parse(body: &[u8], precision: Precision) -> Lines<'_> {
    Lines { scanner: Scanner::new(body, precision), tags: Vec::new(), fields: Vec::new() }
}

/// An iterator over the points of a body; stops after the first error.
#[derive(Debug)]
pub struct Lines<'a> {
    scanner: Scanner<'a>,
    /// The current line's tags and fields, before they become its own arrays.
    tags: Vec<TagAt>,
    fields: Vec<FieldAt>,
}

impl<'a> Iterator for Lines<'a> {
    type Item = Result<Line<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.tags.clear();
        self.fields.clear();
        let at = self.scanner.next_line(&mut self.tags, &mut self.fields)?;
        Some(at.map(|at| PointRef::new(self.scanner.text(), at, &self.tags, &self.fields).to_line()))
    }
}

/// Walks a body line by line, appending each line's tags and fields to the
/// caller's arrays.
#[derive(Debug)]
pub(crate) struct Scanner<'a> {
    body: &'a [u8],
    /// The body once known to be UTF-8 (checked on first use, in one pass).
    text: Option<&'a str>,
    pos: usize,
    line_no: usize,
    precision: Precision,
    failed: bool,
}

impl<'a> Scanner<'a> {
    pub(crate) fn new(body: &'a [u8], precision: Precision) -> Self {
        Self { body, text: None, pos: 0, line_no: 0, precision, failed: false }
    }

    /// The body as text, once a line has been read.
    pub(crate) fn text(&self) -> &'a str {
        self.text.unwrap_or_default()
    }

    pub(crate) fn body_len(&self) -> usize {
        self.body.len()
    }

    /// Bytes read so far.
    pub(crate) fn consumed(&self) -> usize {
        self.pos
    }

    /// The next line, its tags and fields appended to `tags` and `fields`;
    /// `None` at the end, and after an error.
    pub(crate) fn next_line(
        &mut self,
        tags: &mut Vec<TagAt>,
        fields: &mut Vec<FieldAt>,
    ) -> Option<Result<LineAt, ParseError>> {
        if self.failed {
            return None;
        }
        let text = match self.text {
            Some(t) => t,
            None => match std::str::from_utf8(self.body) {
                Ok(t) => {
                    self.text = Some(t);
                    t
                }
                Err(e) => {
                    self.failed = true;
                    return Some(Err(utf8_error(self.body, e.valid_up_to())));
                }
            },
        };
        let b = text.as_bytes();
        loop {
            if self.pos >= b.len() {
                return None;
            }
            self.line_no += 1;
            // Like InfluxDB 2.7, leading spaces and tabs are not part of the line.
            while matches!(b.get(self.pos), Some(b' ' | b'\t')) {
                self.pos += 1;
            }
            let start = self.pos;
            if start >= b.len() {
                return None;
            }
            match b[start] {
                b'\n' => {
                    self.pos += 1;
                    continue;
                }
                b'\r' if b.get(start + 1) == Some(&b'\n') => {
                    self.pos += 2;
                    continue;
                }
                b'#' => {
                    self.pos = memchr_nl(b, start).map_or(b.len(), |p| p + 1);
                    continue;
                }
                _ => {}
            }
            let mut cur = Cursor { text, b, pos: start, line_start: start, line_no: self.line_no };
            let result = cur.line(self.precision, tags, fields);
            self.pos = cur.pos;
            if result.is_err() {
                self.failed = true;
            }
            return Some(result);
        }
    }
}

fn memchr_nl(b: &[u8], from: usize) -> Option<usize> {
    b[from..].iter().position(|&c| c == b'\n').map(|p| p + from)
}

fn utf8_error(body: &[u8], at: usize) -> ParseError {
    let line_start = body[..at].iter().rposition(|&c| c == b'\n').map_or(0, |p| p + 1);
    let line_no = body[..at].iter().filter(|&&c| c == b'\n').count() + 1;
    let end = memchr_nl(body, at).unwrap_or(body.len());
    ParseError {
        line: line_no,
        column: at - line_start + 1,
        kind: ErrorKind::InvalidUtf8,
        text: String::from_utf8_lossy(&body[line_start..end.min(line_start + 256)]).into_owned(),
    }
}

struct Cursor<'a> {
    text: &'a str,
    b: &'a [u8],
    pos: usize,
    line_start: usize,
    line_no: usize,
}

/// Whether `c` ends a line here: `\n`, or `\r` right before `\n` or the end.
fn at_eol(b: &[u8], i: usize) -> bool {
    match b.get(i) {
        None | Some(b'\n') => true,
        Some(b'\r') => matches!(b.get(i + 1), None | Some(b'\n')),
        _ => false,
    }
}

impl<'a> Cursor<'a> {
    fn err(&mut self, kind: ErrorKind) -> ParseError {
        let column = self.pos - self.line_start + 1;
        // Leave the cursor at the end of this line, so nothing after it is read.
        let end = memchr_nl(self.b, self.line_start).unwrap_or(self.b.len());
        let mut text_end = end.min(self.line_start + 256);
        while !self.text.is_char_boundary(text_end) {
            text_end -= 1;
        }
        let text = self.text[self.line_start..text_end].trim_end_matches('\r').to_owned();
        self.pos = self.b.len();
        ParseError { line: self.line_no, column, kind, text }
    }

    /// `pos` as an offset from the line's start (checked once the line is read).
    fn at(&self, pos: usize) -> u32 {
        (pos - self.line_start) as u32
    }

    /// Scans a measurement, tag key or field key up to an unescaped byte in `stops`.
    /// Control characters may not appear in these.
    fn scan_name<E: Escapes>(&mut self, stops: &[u8]) -> Result<(), ParseError> {
        while let Some(&c) = self.b.get(self.pos) {
            if c == b'\\' {
                match self.b.get(self.pos + 1) {
                    Some(n) if E::CHARS.contains(n) => {
                        self.pos += 2;
                        continue;
                    }
                    _ => {}
                }
            } else if stops.contains(&c) || at_eol(self.b, self.pos) {
                return Ok(());
            } else if c < 0x20 || c == 0x7f {
                return Err(self.err(ErrorKind::InvalidCharacter(c as char)));
            }
            self.pos += 1;
        }
        Ok(())
    }

    /// Reads one line, appending its tags and fields to `tags` and `fields`.
    fn line(
        &mut self,
        precision: Precision,
        tags: &mut Vec<TagAt>,
        fields: &mut Vec<FieldAt>,
    ) -> Result<LineAt, ParseError> {
        let start = self.pos;
        self.scan_name::<MeasurementEscapes>(b", ")?;
        if self.pos == start {
            return Err(self.err(ErrorKind::MissingMeasurement));
        }
        let measurement_end = self.at(self.pos);
        let first_tag = tags.len();
        while self.b.get(self.pos) == Some(&b',') {
            self.pos += 1;
            tags.push(self.tag()?);
        }
        let key_end = self.at(self.pos);
        if has_duplicate_keys(&self.text[start..self.pos], measurement_end, &tags[first_tag..]) {
            return Err(self.err(ErrorKind::DuplicateTags));
        }
        if self.b.get(self.pos) != Some(&b' ') {
            return Err(self.err(ErrorKind::MissingFields));
        }
        while self.b.get(self.pos) == Some(&b' ') {
            self.pos += 1;
        }
        let first_field = fields.len();
        loop {
            fields.push(self.field()?);
            match self.b.get(self.pos) {
                Some(b',') => self.pos += 1,
                _ => break,
            }
        }
        let time = self.timestamp(precision)?.unwrap_or(NO_TIME);
        if self.pos - start > u32::MAX as usize {
            return Err(self.err(ErrorKind::LineTooLong));
        }
        // Consume the line end.
        match self.b.get(self.pos) {
            Some(b'\r') => self.pos += 2,
            Some(b'\n') => self.pos += 1,
            _ => {}
        }
        Ok(LineAt {
            start,
            measurement_end,
            key_end,
            tags: (tags.len() - first_tag) as u32,
            fields: (fields.len() - first_field) as u32,
            time,
            line_no: self.line_no,
        })
    }

    fn tag(&mut self) -> Result<TagAt, ParseError> {
        let start = self.pos;
        self.scan_name::<KeyEscapes>(b",= ")?;
        if self.pos == start {
            return Err(self.err(ErrorKind::MissingTagKey));
        }
        let key_end = self.at(self.pos);
        if self.b.get(self.pos) != Some(&b'=') {
            // A tag key without `=`: 2.7 calls its value missing.
            return Err(self.err(ErrorKind::MissingTagValue));
        }
        self.pos += 1;
        let start = self.pos;
        while let Some(&c) = self.b.get(self.pos) {
            if c == b'\\' && self.b.get(self.pos + 1).is_some_and(|n| KeyEscapes::CHARS.contains(n)) {
                self.pos += 2;
                continue;
            }
            if c == b',' || c == b' ' || at_eol(self.b, self.pos) {
                break;
            }
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.err(ErrorKind::MissingTagValue));
        }
        Ok(TagAt { key_end, value_end: self.at(self.pos) })
    }

    fn field(&mut self) -> Result<FieldAt, ParseError> {
        let start = self.pos;
        self.scan_name::<KeyEscapes>(b",= ")?;
        if self.pos == start {
            return Err(self.err(ErrorKind::MissingFieldKey));
        }
        let key = (self.at(start), self.at(self.pos));
        if self.b.get(self.pos) != Some(&b'=') {
            return Err(self.err(ErrorKind::InvalidFieldFormat));
        }
        self.pos += 1;
        if self.b.get(self.pos) == Some(&b'"') {
            self.pos += 1;
            let start = self.pos;
            loop {
                match self.b.get(self.pos) {
                    None => {
                        self.pos = start - 1;
                        return Err(self.err(ErrorKind::UnbalancedQuotes));
                    }
                    Some(b'\\') if self.b.get(self.pos + 1).is_some_and(|n| StringEscapes::CHARS.contains(n)) => {
                        self.pos += 2
                    }
                    Some(b'"') => break,
                    Some(_) => self.pos += 1,
                }
            }
            let value = ValueAt::String(self.at(start), self.at(self.pos));
            self.pos += 1;
            return Ok(FieldAt { key, value });
        }
        let start = self.pos;
        while let Some(&c) = self.b.get(self.pos) {
            if c == b',' || c == b' ' || at_eol(self.b, self.pos) {
                break;
            }
            self.pos += 1;
        }
        let raw = &self.text[start..self.pos];
        let value = match scalar(raw) {
            Ok(v) => v,
            Err(kind) => {
                self.pos = start;
                return Err(self.err(kind));
            }
        };
        Ok(FieldAt { key, value })
    }

    fn timestamp(&mut self, precision: Precision) -> Result<Option<i64>, ParseError> {
        if self.b.get(self.pos) != Some(&b' ') {
            return Ok(None);
        }
        while self.b.get(self.pos) == Some(&b' ') {
            self.pos += 1;
        }
        let start = self.pos;
        if self.b.get(self.pos) == Some(&b'-') {
            self.pos += 1;
        }
        while self.b.get(self.pos).is_some_and(u8::is_ascii_digit) {
            self.pos += 1;
        }
        let digits = &self.text[start..self.pos];
        // Trailing spaces are allowed; anything else is not.
        while self.b.get(self.pos) == Some(&b' ') {
            self.pos += 1;
        }
        if !at_eol(self.b, self.pos) {
            return Err(self.err(ErrorKind::BadTimestamp));
        }
        if digits.is_empty() {
            return Ok(None);
        }
        let n: i64 = match digits.parse() {
            Ok(n) => n,
            Err(_) => {
                self.pos = start;
                let kind = if digits.len() > 1 { ErrorKind::TimestampOutOfRange } else { ErrorKind::BadTimestamp };
                return Err(self.err(kind));
            }
        };
        match n.checked_mul(precision.multiplier()) {
            Some(ns) if (MIN_TIME..=MAX_TIME).contains(&ns) => Ok(Some(ns)),
            _ => {
                self.pos = start;
                Err(self.err(ErrorKind::TimestampOutOfRange))
            }
        }
    }
}

/// Whether two of a line's tags (of the series key `key`) have the same key.
fn has_duplicate_keys(key: &str, measurement_end: u32, tags: &[TagAt]) -> bool {
    let keys = || {
        let mut start = measurement_end as usize + 1;
        tags.iter().map(move |t| {
            let k: Token<'_> = Token::new(&key[start..t.key_end as usize]);
            start = t.value_end as usize + 1;
            k
        })
    };
    if tags.len() <= 8 {
        return keys().enumerate().any(|(i, k)| keys().take(i).any(|j| j.unescaped() == k.unescaped()));
    }
    let mut keys: Vec<_> = keys().map(|k| k.unescaped()).collect();
    keys.sort_unstable();
    keys.windows(2).any(|w| w[0] == w[1])
}

/// Classifies and parses an unquoted field value.
fn scalar(raw: &str) -> Result<ValueAt, ErrorKind> {
    let bytes = raw.as_bytes();
    let Some(&last) = bytes.last() else {
        return Err(ErrorKind::MissingFieldValue);
    };
    match raw {
        "t" | "T" | "true" | "True" | "TRUE" => return Ok(ValueAt::Boolean(true)),
        "f" | "F" | "false" | "False" | "FALSE" => return Ok(ValueAt::Boolean(false)),
        _ => {}
    }
    let digits_only = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    match last {
        b'i' => {
            let body = &raw[..raw.len() - 1];
            let unsigned = body.strip_prefix('-').unwrap_or(body);
            if !digits_only(unsigned) {
                return Err(ErrorKind::InvalidFieldValue("not an integer"));
            }
            body.parse().map(ValueAt::Integer).map_err(|_| ErrorKind::OutOfRange)
        }
        b'u' => {
            let body = &raw[..raw.len() - 1];
            if !digits_only(body) {
                return Err(ErrorKind::InvalidFieldValue("not an unsigned integer"));
            }
            body.parse().map(ValueAt::UInteger).map_err(|_| ErrorKind::OutOfRange)
        }
        _ => {
            // A float: digits with an optional sign, point and exponent. Rust's
            // parser also takes "inf", "NaN" and a leading '+', InfluxDB does not.
            let mantissa = raw.strip_prefix('-').unwrap_or(raw);
            let first = mantissa.as_bytes().first().copied().unwrap_or(b'x');
            let well_formed = (first.is_ascii_digit() || first == b'.')
                && mantissa.bytes().all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'));
            if !well_formed {
                return Err(ErrorKind::InvalidFieldValue("unrecognized type"));
            }
            match raw.parse::<f64>() {
                Ok(v) if v.is_finite() => Ok(ValueAt::Float(v)),
                Ok(_) => Err(ErrorKind::OutOfRange),
                Err(_) => Err(ErrorKind::InvalidFieldValue("not a number")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::line::FieldValue;

    fn one(s: &str) -> Line<'_> {
        let mut it = parse(s.as_bytes(), Precision::Nanosecond);
        let line = it.next().unwrap().unwrap();
        assert!(it.next().is_none());
        line
    }

    fn fails(s: &str) -> ErrorKind {
        parse(s.as_bytes(), Precision::Nanosecond).find_map(Result::err).unwrap().kind
    }

    #[test]
    fn a_full_line() {
        let l = one("cpu,host=a,region=west usage=1.5,n=3i,u=4u,ok=T,s=\"x\\\"y\" 1000");
        assert_eq!(l.series_key, "cpu,host=a,region=west");
        assert_eq!(l.measurement.raw(), "cpu");
        assert_eq!(l.tags.len(), 2);
        assert_eq!(l.fields[0].1, FieldValue::Float(1.5));
        assert_eq!(l.fields[1].1, FieldValue::Integer(3));
        assert_eq!(l.fields[2].1, FieldValue::UInteger(4));
        assert_eq!(l.fields[3].1, FieldValue::Boolean(true));
        match l.fields[4].1 {
            FieldValue::String(t) => assert_eq!(t.unescaped(), "x\"y"),
            ref other => panic!("{other:?}"),
        }
        assert_eq!(l.timestamp, Some(1000));
    }

    #[test]
    fn comments_blank_lines_and_crlf() {
        let body = "# c\r\n\r\nm v=1 1\r\n\nm v=2\r\n";
        let lines: Vec<_> = parse(body.as_bytes(), Precision::Second).map(Result::unwrap).collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].timestamp, Some(1_000_000_000));
        assert_eq!(lines[1].timestamp, None);
        assert_eq!(lines[1].line_no, 5);
    }

    #[test]
    fn errors_name_line_and_column() {
        let err = parse(b"m v=1\nm v=x\nm v=2", Precision::Nanosecond).find_map(Result::err).unwrap();
        assert_eq!((err.line, err.column), (2, 5));
        assert_eq!(err.text, "m v=x");
        assert_eq!(
            err.to_string(),
            "unable to parse 'm v=x': invalid field value: unrecognized type (line 2, column 5)"
        );
    }

    #[test]
    fn bad_values_are_refused() {
        assert_eq!(fails("m v=9223372036854775808i"), ErrorKind::OutOfRange);
        assert_eq!(fails("m v=-1u"), ErrorKind::InvalidFieldValue("not an unsigned integer"));
        assert_eq!(fails("m v=1e400"), ErrorKind::OutOfRange);
        assert_eq!(fails("m v=NaN"), ErrorKind::InvalidFieldValue("unrecognized type"));
        assert_eq!(fails("m v=+1"), ErrorKind::InvalidFieldValue("unrecognized type"));
        assert_eq!(fails("m v=\"open"), ErrorKind::UnbalancedQuotes);
        assert_eq!(fails("m"), ErrorKind::MissingFields);
        assert_eq!(fails("m,t= v=1"), ErrorKind::MissingTagValue);
        // A key without `=`, worded as 2.7 words it (clients match these words).
        assert_eq!(fails("m,t v=1"), ErrorKind::MissingTagValue);
        assert_eq!(fails("h2o_feet,location=coyote_creek level\\"), ErrorKind::InvalidFieldFormat);
        assert_eq!(fails("m v=1,w"), ErrorKind::InvalidFieldFormat);
        assert_eq!(fails("m v=1 12x"), ErrorKind::BadTimestamp);
        assert_eq!(fails("m,a=1,b=2,a=3 v=1"), ErrorKind::DuplicateTags);
        assert_eq!(
            parse(b"m v=1 9223372036854775807", Precision::Second).next().unwrap().unwrap_err().kind,
            ErrorKind::TimestampOutOfRange
        );
    }
}

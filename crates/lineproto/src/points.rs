//! A whole body parsed and kept: where each line's parts lie (offsets into the
//! body, not copies), the tags and fields of every line in one array each.
//!
//! A parsed line is a few offsets: 40 bytes, 8 a tag and 24 a field, less
//! than the text it describes. Several large bodies can so be held parsed at
//! once (a server holds each request's lines until its write is durable)
//! for little more than the bodies themselves.

use std::iter::FusedIterator;

use crate::error::ParseError;
use crate::line::{FieldValue, Line, MeasurementEscapes, Token};
use crate::parser::Scanner;
use crate::precision::Precision;

/// A line's parts, as byte offsets from its first byte (`start`); a line is
/// refused if it is longer than `u32` offsets reach.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LineAt {
    pub(crate) start: usize,
    pub(crate) measurement_end: u32,
    /// The end of the series key: the measurement and its tags.
    pub(crate) key_end: u32,
    pub(crate) tags: u32,
    pub(crate) fields: u32,
    /// Nanoseconds, or [`NO_TIME`].
    pub(crate) time: i64,
    pub(crate) line_no: usize,
}

/// A line without a timestamp (no line has this one: it is below the range
/// InfluxDB stores).
pub(crate) const NO_TIME: i64 = i64::MIN;

/// A tag: `,key=value` in the series key, so where its key and its value end
/// is enough (the key starts one past the previous tag's end, or past the
/// measurement; the value one past the key's end).
#[derive(Debug, Clone, Copy)]
pub(crate) struct TagAt {
    pub(crate) key_end: u32,
    pub(crate) value_end: u32,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct FieldAt {
    pub(crate) key: (u32, u32),
    pub(crate) value: ValueAt,
}

/// A field's value; a string is its offsets (inside the quotes, still escaped).
#[derive(Debug, Clone, Copy)]
pub(crate) enum ValueAt {
    Float(f64),
    Integer(i64),
    UInteger(u64),
    String(u32, u32),
    Boolean(bool),
}

/// Every point of a body, parsed line by line with [`Points::parse_next`] (so
/// that a caller can hold each line to rules of its own as it comes), then
/// read as often as needed with [`Points::iter`].
#[derive(Debug)]
pub struct Points<'a> {
    scanner: Scanner<'a>,
    lines: Vec<LineAt>,
    tags: Vec<TagAt>,
    fields: Vec<FieldAt>,
}

impl<'a> Points<'a> {
    /// Nothing parsed yet; timestamps will be scaled from `precision`.
    pub fn new(body: &'a [u8], precision: Precision) -> Self {
        Self { scanner: Scanner::new(body, precision), lines: Vec::new(), tags: Vec::new(), fields: Vec::new() }
    }

    /// Parses the next line, keeps it, and returns it; `None` at the end of
    /// the body, and after an error (the line in error is not kept).
    pub fn parse_next(&mut self) -> Option<Result<PointRef<'_, 'a>, ParseError>> {
        let (tags, fields) = (self.tags.len(), self.fields.len());
        let at = match self.scanner.next_line(&mut self.tags, &mut self.fields)? {
            Ok(at) => at,
            Err(e) => {
                self.tags.truncate(tags);
                self.fields.truncate(fields);
                return Some(Err(e));
            }
        };
        if self.lines.is_empty() {
            self.reserve_like(&at);
        }
        self.lines.push(at);
        Some(Ok(PointRef { text: self.scanner.text(), at, tags: &self.tags[tags..], fields: &self.fields[fields..] }))
    }

    /// Room for as many lines as the body holds if they are like its first
    /// (most bodies are one measurement's points), so that the arrays are
    /// allocated once instead of doubling. A first line unlike the rest can
    /// not make this much more than the body: a tag takes at least 4 of its
    /// bytes (`,k=v`), and fields get room for one per 16 bytes at most (the
    /// array grows past that if they are smaller).
    fn reserve_like(&mut self, first: &LineAt) {
        let body = self.scanner.body_len();
        let lines = body / self.scanner.consumed().max(1) + 1;
        self.lines.reserve(lines);
        self.tags.reserve((lines * first.tags as usize).min(body / 4));
        self.fields.reserve((lines * first.fields as usize).min(body / 16));
    }

    /// The lines kept, in body order.
    pub fn iter(&self) -> Iter<'_, 'a> {
        Iter { text: self.scanner.text(), lines: self.lines.iter(), tags: &self.tags, fields: &self.fields }
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
}

/// The kept lines of a [`Points`].
#[derive(Debug, Clone)]
pub struct Iter<'p, 'a> {
    text: &'a str,
    lines: std::slice::Iter<'p, LineAt>,
    tags: &'p [TagAt],
    fields: &'p [FieldAt],
}

impl<'p, 'a> Iterator for Iter<'p, 'a> {
    type Item = PointRef<'p, 'a>;

    fn next(&mut self) -> Option<Self::Item> {
        let at = *self.lines.next()?;
        let (tags, rest) = self.tags.split_at(at.tags as usize);
        self.tags = rest;
        let (fields, rest) = self.fields.split_at(at.fields as usize);
        self.fields = rest;
        Some(PointRef { text: self.text, at, tags, fields })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.lines.size_hint()
    }
}

impl ExactSizeIterator for Iter<'_, '_> {}
impl FusedIterator for Iter<'_, '_> {}

/// One line of a [`Points`]: what a [`Line`] says, read from the offsets.
#[derive(Debug, Clone, Copy)]
pub struct PointRef<'p, 'a> {
    text: &'a str,
    at: LineAt,
    tags: &'p [TagAt],
    fields: &'p [FieldAt],
}

impl<'p, 'a> PointRef<'p, 'a> {
    pub(crate) fn new(text: &'a str, at: LineAt, tags: &'p [TagAt], fields: &'p [FieldAt]) -> Self {
        Self { text, at, tags, fields }
    }

    fn line(&self) -> &'a str {
        &self.text[self.at.start..]
    }

    /// Measurement and tag set exactly as written (up to the first unescaped space).
    pub fn series_key(&self) -> &'a str {
        &self.line()[..self.at.key_end as usize]
    }

    pub fn measurement(&self) -> Token<'a, MeasurementEscapes> {
        Token::new(&self.line()[..self.at.measurement_end as usize])
    }

    /// Tags in the order written.
    pub fn tags(&self) -> Tags<'p, 'a> {
        Tags { line: self.line(), start: self.at.measurement_end + 1, tags: self.tags.iter() }
    }

    /// Fields in the order written (a repeated key: the last one counts).
    pub fn fields(&self) -> Fields<'p, 'a> {
        Fields { line: self.line(), fields: self.fields.iter() }
    }

    /// In nanoseconds, already scaled by the precision; `None` when absent.
    pub fn timestamp(&self) -> Option<i64> {
        (self.at.time != NO_TIME).then_some(self.at.time)
    }

    /// 1-based line number within the body.
    pub fn line_no(&self) -> usize {
        self.at.line_no
    }

    /// The line on its own, its tags and fields in arrays of their own.
    pub fn to_line(&self) -> Line<'a> {
        Line {
            series_key: self.series_key(),
            measurement: self.measurement(),
            tags: self.tags().collect(),
            fields: self.fields().collect(),
            timestamp: self.timestamp(),
            line_no: self.line_no(),
        }
    }
}

/// A line's tags, as `(key, value)`.
#[derive(Debug, Clone)]
pub struct Tags<'p, 'a> {
    line: &'a str,
    /// Where the next tag's key starts.
    start: u32,
    tags: std::slice::Iter<'p, TagAt>,
}

impl<'a> Iterator for Tags<'_, 'a> {
    type Item = (Token<'a>, Token<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        let t = self.tags.next()?;
        let key = &self.line[self.start as usize..t.key_end as usize];
        let value = &self.line[t.key_end as usize + 1..t.value_end as usize];
        self.start = t.value_end + 1;
        Some((Token::new(key), Token::new(value)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.tags.size_hint()
    }
}

impl ExactSizeIterator for Tags<'_, '_> {}
impl FusedIterator for Tags<'_, '_> {}

/// A line's fields, as `(key, value)`.
#[derive(Debug, Clone)]
pub struct Fields<'p, 'a> {
    line: &'a str,
    fields: std::slice::Iter<'p, FieldAt>,
}

impl<'a> Iterator for Fields<'_, 'a> {
    type Item = (Token<'a>, FieldValue<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        let f = self.fields.next()?;
        let key = Token::new(&self.line[f.key.0 as usize..f.key.1 as usize]);
        let value = match f.value {
            ValueAt::Float(v) => FieldValue::Float(v),
            ValueAt::Integer(v) => FieldValue::Integer(v),
            ValueAt::UInteger(v) => FieldValue::UInteger(v),
            ValueAt::Boolean(v) => FieldValue::Boolean(v),
            ValueAt::String(start, end) => FieldValue::String(Token::new(&self.line[start as usize..end as usize])),
        };
        Some((key, value))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.fields.size_hint()
    }
}

impl ExactSizeIterator for Fields<'_, '_> {}
impl FusedIterator for Fields<'_, '_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    fn kept(body: &str) -> (Points<'_>, Option<ParseError>) {
        let mut points = Points::new(body.as_bytes(), Precision::Second);
        let mut error = None;
        while let Some(p) = points.parse_next() {
            if let Err(e) = p {
                error = Some(e);
            }
        }
        (points, error)
    }

    #[test]
    fn kept_lines_read_as_the_lines_parse_gives() {
        let body = "# c\n  cpu,host=a,dc\\ x=w\\,1 u=1.5,n=-3i,s=\"a \\\"q\\\" b\",ok=t 12\r\n\nm\\,x v=1u\nm,t=1,u=2 s=\"\",b=F";
        let (points, error) = kept(body);
        assert!(error.is_none());
        let want: Vec<Line<'_>> = parse(body.as_bytes(), Precision::Second).map(Result::unwrap).collect();
        let got: Vec<Line<'_>> = points.iter().map(|p| p.to_line()).collect();
        assert_eq!(got, want);
        assert_eq!(points.len(), 3);
        let first = points.iter().next().unwrap();
        assert_eq!(first.series_key(), "cpu,host=a,dc\\ x=w\\,1");
        assert_eq!(first.measurement().raw(), "cpu");
        let tags: Vec<_> = first.tags().map(|(k, v)| (k.unescaped(), v.unescaped())).collect();
        assert_eq!(tags, [("host".into(), "a".into()), ("dc x".into(), "w,1".into())]);
        assert_eq!(first.timestamp(), Some(12_000_000_000));
        assert_eq!(first.line_no(), 2);
        assert_eq!(points.iter().nth(1).unwrap().timestamp(), None);
    }

    #[test]
    fn a_line_in_error_ends_the_parse_and_is_not_kept() {
        let (points, error) = kept("m,a=1 v=1\nm,b=2 v=2,w=x\nm v=3");
        assert_eq!(
            error.map(|e| (e.line, e.kind)),
            Some((2, crate::ErrorKind::InvalidFieldValue("unrecognized type")))
        );
        assert_eq!(points.len(), 1);
        let only = points.iter().next().unwrap();
        assert_eq!((only.tags().len(), only.fields().len()), (1, 1));
    }

    #[test]
    fn an_empty_body_keeps_nothing() {
        let (points, error) = kept("");
        assert!(error.is_none() && points.is_empty() && points.iter().next().is_none());
    }
}

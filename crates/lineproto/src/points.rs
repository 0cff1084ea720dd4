//! A whole body parsed and kept: where each line's parts lie (offsets into the
//! body, not copies), the tags and fields of every line in one array each.
//!
//! A parsed line is a few offsets: 40 bytes, 8 a tag and 24 a field, less
//! than the text it describes. Several large bodies can so be held parsed at
//! once (a server holds each request's lines until its write is durable)
//! for little more than the bodies themselves.

use std::iter::FusedIterator;

use crate::error::ParseError;
use crate::parser::Scanner;
use crate::point::{FieldAt, LineAt, PointRef, TagAt};
use crate::precision::Precision;

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
        Some(Ok(PointRef::new(self.scanner.text(), at, &self.tags[tags..], &self.fields[fields..])))
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
        Some(PointRef::new(self.text, at, tags, fields))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.lines.size_hint()
    }
}

impl ExactSizeIterator for Iter<'_, '_> {}
impl FusedIterator for Iter<'_, '_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Line, parse};

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

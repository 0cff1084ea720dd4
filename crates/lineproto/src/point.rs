//! One parsed line as offsets into its body (where the measurement, each tag
//! and each field lie) and [`PointRef`], which reads it back: the layout the
//! parser writes and [`crate::Points`] keeps.

use std::iter::FusedIterator;

use crate::line::{FieldValue, Line, MeasurementEscapes, Token};

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

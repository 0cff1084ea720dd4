use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

/// The characters a backslash escapes in one kind of token; a backslash before
/// anything else is kept as written.
pub trait Escapes {
    const CHARS: &'static [u8];
}

/// A measurement escapes `,` and space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeasurementEscapes {}

/// A tag key, tag value or field key escapes `,`, `=` and space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyEscapes {}

/// A string field value escapes `"` and `\`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StringEscapes {}

impl Escapes for MeasurementEscapes {
    const CHARS: &'static [u8] = b", ";
}

impl Escapes for KeyEscapes {
    const CHARS: &'static [u8] = b",= ";
}

impl Escapes for StringEscapes {
    const CHARS: &'static [u8] = b"\"\\";
}

/// A name or value as written in the body, still escaped. Its kind (`E`) says
/// which escapes it holds, so a token is no more than the text it borrows.
pub struct Token<'a, E = KeyEscapes> {
    raw: &'a str,
    kind: PhantomData<E>,
}

impl<E> Clone for Token<'_, E> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<E> Copy for Token<'_, E> {}

impl<E> PartialEq for Token<'_, E> {
    fn eq(&self, other: &Self) -> bool {
        self.raw == other.raw
    }
}

impl<E> Eq for Token<'_, E> {}

impl<E> fmt::Debug for Token<'_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Token").field(&self.raw).finish()
    }
}

impl<'a, E: Escapes> Token<'a, E> {
    pub(crate) fn new(raw: &'a str) -> Self {
        Self { raw, kind: PhantomData }
    }

    /// The token exactly as written.
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    /// The token with its escapes resolved; borrows unless there was an escape.
    pub fn unescaped(&self) -> Cow<'a, str> {
        let bytes = self.raw.as_bytes();
        if !bytes.contains(&b'\\') {
            return Cow::Borrowed(self.raw);
        }
        let mut out = String::with_capacity(self.raw.len());
        let mut rest = self.raw;
        while let Some(pos) = rest.find('\\') {
            out.push_str(&rest[..pos]);
            let after = &rest[pos + 1..];
            match after.as_bytes().first() {
                Some(c) if E::CHARS.contains(c) => {
                    out.push(*c as char);
                    rest = &after[1..];
                }
                _ => {
                    out.push('\\');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        Cow::Owned(out)
    }
}

/// A field's value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldValue<'a> {
    Float(f64),
    Integer(i64),
    UInteger(u64),
    /// A string, still escaped (`\"` and `\\`).
    String(Token<'a, StringEscapes>),
    Boolean(bool),
}

impl FieldValue<'_> {
    /// The type's name as InfluxDB prints it.
    pub fn type_name(&self) -> &'static str {
        match self {
            FieldValue::Float(_) => "float",
            FieldValue::Integer(_) => "integer",
            FieldValue::UInteger(_) => "unsigned",
            FieldValue::String(_) => "string",
            FieldValue::Boolean(_) => "boolean",
        }
    }
}

/// One point, borrowing from the body it was parsed from.
#[derive(Debug, Clone, PartialEq)]
pub struct Line<'a> {
    /// Measurement and tag set exactly as written (up to the first unescaped space).
    pub series_key: &'a str,
    pub measurement: Token<'a, MeasurementEscapes>,
    /// Tags in the order written.
    pub tags: Vec<(Token<'a>, Token<'a>)>,
    /// Fields in the order written (a repeated key: the last one counts).
    pub fields: Vec<(Token<'a>, FieldValue<'a>)>,
    /// In nanoseconds, already scaled by the precision; `None` when absent.
    pub timestamp: Option<i64>,
    /// 1-based line number within the body.
    pub line_no: usize,
}

use std::borrow::Cow;

/// A name or value as written in the body, still escaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'a> {
    raw: &'a str,
    /// The characters a backslash escapes in this kind of token.
    escapable: &'static [u8],
}

pub(crate) const MEASUREMENT_ESCAPES: &[u8] = b", ";
pub(crate) const KEY_ESCAPES: &[u8] = b",= ";
pub(crate) const STRING_ESCAPES: &[u8] = b"\"\\";

impl<'a> Token<'a> {
    pub(crate) fn new(raw: &'a str, escapable: &'static [u8]) -> Self {
        Self { raw, escapable }
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
                Some(c) if self.escapable.contains(c) => {
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
    String(Token<'a>),
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
    pub measurement: Token<'a>,
    /// Tags in the order written.
    pub tags: Vec<(Token<'a>, Token<'a>)>,
    /// Fields in the order written (a repeated key: the last one counts).
    pub fields: Vec<(Token<'a>, FieldValue<'a>)>,
    /// In nanoseconds, already scaled by the precision; `None` when absent.
    pub timestamp: Option<i64>,
    /// 1-based line number within the body.
    pub line_no: usize,
}

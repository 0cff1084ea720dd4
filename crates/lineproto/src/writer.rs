//! Writing points as line protocol, escaped so that [`crate::parse`] reads them back.

use std::fmt::Write;

use crate::line::FieldValue;

fn escape(out: &mut String, s: &str, specials: &[char]) {
    for c in s.chars() {
        if specials.contains(&c) {
            out.push('\\');
        }
        out.push(c);
    }
}

/// Appends one line (with its trailing newline) to `out`. String field values in
/// `fields` are given unescaped, as `FieldValue::String` tokens of plain text.
pub fn write_line_to(
    out: &mut String,
    measurement: &str,
    tags: &[(&str, &str)],
    fields: &[(&str, FieldValue<'_>)],
    timestamp: Option<i64>,
) {
    escape(out, measurement, &[',', ' ']);
    for (k, v) in tags {
        out.push(',');
        escape(out, k, &[',', '=', ' ']);
        out.push('=');
        escape(out, v, &[',', '=', ' ']);
    }
    for (i, (k, v)) in fields.iter().enumerate() {
        out.push(if i == 0 { ' ' } else { ',' });
        escape(out, k, &[',', '=', ' ']);
        out.push('=');
        match v {
            // `{:?}` keeps a float's exponent and precision so it reads back exactly.
            FieldValue::Float(f) => {
                let _ = write!(out, "{f:?}");
            }
            FieldValue::Integer(n) => {
                let _ = write!(out, "{n}i");
            }
            FieldValue::UInteger(n) => {
                let _ = write!(out, "{n}u");
            }
            FieldValue::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
            FieldValue::String(s) => {
                out.push('"');
                escape(out, s.raw(), &['"', '\\']);
                out.push('"');
            }
        }
    }
    if let Some(ts) = timestamp {
        let _ = write!(out, " {ts}");
    }
    out.push('\n');
}

/// One line as a new string; see [`write_line_to`].
pub fn write_line(
    measurement: &str,
    tags: &[(&str, &str)],
    fields: &[(&str, FieldValue<'_>)],
    timestamp: Option<i64>,
) -> String {
    let mut out = String::new();
    write_line_to(&mut out, measurement, tags, fields, timestamp);
    out
}

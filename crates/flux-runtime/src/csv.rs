//! Annotated CSV, the response format of `/api/v2/query` (SPEC: "Response format").

use arrow::array::{Array, BooleanArray, Float64Array, Int64Array, StringArray, TimestampNanosecondArray, UInt64Array};
use arrow::datatypes::DataType;

use crate::error::{EvalError, EvalResult};
use crate::table::{Table, cell};
use crate::value::Value;

/// How to write: InfluxDB's `dialect` object.
#[derive(Debug, Clone)]
pub struct Dialect {
    pub header: bool,
    pub delimiter: char,
    /// Any of `datatype`, `group`, `default`; the annotation column stays (empty) without them.
    pub annotations: Vec<String>,
    pub comment_prefix: String,
    /// `RFC3339` or `RFC3339Nano`.
    pub date_time_format: String,
}

impl Default for Dialect {
    /// What `/api/v2/query` uses when the request gives no dialect.
    fn default() -> Self {
        Self {
            header: true,
            delimiter: ',',
            annotations: vec!["datatype".into(), "group".into(), "default".into()],
            comment_prefix: "#".into(),
            date_time_format: "RFC3339".into(),
        }
    }
}

fn datatype(t: &DataType) -> &'static str {
    match t {
        DataType::Float64 => "double",
        DataType::Int64 => "long",
        DataType::UInt64 => "unsignedLong",
        DataType::Boolean => "boolean",
        DataType::Timestamp(..) => "dateTime:RFC3339",
        _ => "string",
    }
}

/// A column as the encoder reads it.
enum Column<'a> {
    Float(&'a Float64Array),
    Int(&'a Int64Array),
    UInt(&'a UInt64Array),
    Bool(&'a BooleanArray),
    Time(&'a TimestampNanosecondArray),
    String(&'a StringArray),
    Other(&'a dyn Array),
}

impl<'a> Column<'a> {
    fn of(a: &'a dyn Array) -> Self {
        let any = a.as_any();
        if let Some(x) = any.downcast_ref::<Float64Array>() {
            Column::Float(x)
        } else if let Some(x) = any.downcast_ref::<Int64Array>() {
            Column::Int(x)
        } else if let Some(x) = any.downcast_ref::<UInt64Array>() {
            Column::UInt(x)
        } else if let Some(x) = any.downcast_ref::<BooleanArray>() {
            Column::Bool(x)
        } else if let Some(x) = any.downcast_ref::<TimestampNanosecondArray>() {
            Column::Time(x)
        } else if let Some(x) = any.downcast_ref::<StringArray>() {
            Column::String(x)
        } else {
            Column::Other(a)
        }
    }

    /// Appends row `i`'s cell (nothing for null).
    fn write(&self, i: usize, delimiter: char, out: &mut String) {
        use std::fmt::Write;
        match self {
            Column::Float(x) if x.is_valid(i) => {
                let v = x.value(i);
                if v.is_infinite() {
                    out.push_str(if v > 0.0 { "+Inf" } else { "-Inf" });
                } else {
                    let _ = write!(out, "{v}");
                }
            }
            Column::Int(x) if x.is_valid(i) => {
                let _ = write!(out, "{}", x.value(i));
            }
            Column::UInt(x) if x.is_valid(i) => {
                let _ = write!(out, "{}", x.value(i));
            }
            Column::Bool(x) if x.is_valid(i) => out.push_str(if x.value(i) { "true" } else { "false" }),
            Column::Time(x) if x.is_valid(i) => write_time(x.value(i), out),
            Column::String(x) if x.is_valid(i) => {
                let s = x.value(i);
                if s.contains(delimiter) || s.contains('"') || s.contains('\n') || s.contains('\r') {
                    out.push_str(&quote(s, delimiter));
                } else {
                    out.push_str(s);
                }
            }
            Column::Other(a) if a.is_valid(i) => out.push_str(&text(&cell(*a, i), true)),
            _ => {}
        }
    }
}

/// RFC 3339 with the fraction's trailing zeros trimmed (Go's RFC3339Nano), written in place.
fn write_time(t: i64, out: &mut String) {
    time::rfc3339::write(out, t, time::rfc3339::Fraction::Trimmed);
}

/// A field as RFC 4180 writes it: quoted when it holds the delimiter, a quote or a line break.
fn quote(s: &str, delimiter: char) -> String {
    if s.contains(delimiter) || s.contains('"') || s.contains('\n') || s.contains('\r') {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn text(v: &Value, _nano: bool) -> String {
    match v {
        Value::Null => String::new(),
        // Full precision, trailing zeros trimmed, in both formats: InfluxDB 2.7
        // writes times this way whatever the dialect says, and clients rely on it.
        Value::Time(t) => time::rfc3339::format(*t, time::rfc3339::Fraction::Trimmed),
        v => v.to_string(),
    }
}

/// What decides whether a table can share the previous table's header: its
/// columns with their types, and which of them are in the group key.
type Shape = (Vec<(String, DataType)>, Vec<bool>);

fn shape(t: &Table) -> Shape {
    let fields = t.fields();
    let group = fields.iter().map(|(n, _)| t.key.contains(n)).collect();
    (fields, group)
}

/// Writes results as annotated CSV a table at a time: CRLF line ends, a blank
/// line after each block of same-shape tables and after each result.
#[derive(Debug)]
pub struct Encoder {
    dialect: Dialect,
    result: Option<String>,
    index: usize,
    prev: Option<Shape>,
    prev_empty: bool,
}

impl Encoder {
    pub fn new(dialect: Dialect) -> Self {
        Self { dialect, result: None, index: 0, prev: None, prev_empty: false }
    }

    /// Appends one table of result `name` to `out`, handing `out` to `flush`
    /// whenever it holds [`FLUSH_BYTES`] or more, so that a table of any size
    /// is written in pieces of about that size.
    pub fn table<E>(
        &mut self,
        name: &str,
        t: &Table,
        out: &mut String,
        flush: &mut dyn FnMut(&mut String) -> Result<(), E>,
    ) -> Result<(), E> {
        let d = &self.dialect;
        let nano = d.date_time_format == "RFC3339Nano";
        let sep = d.delimiter.to_string();
        if self.result.as_deref() != Some(name) {
            if self.result.is_some() {
                out.push_str("\r\n");
            }
            self.result = Some(name.to_owned());
            self.index = 0;
            self.prev = None;
        }
        let this = shape(t);
        // An empty table is a block of its own: its key values go in the `#default` row.
        let empty = t.is_empty();
        let new_block = empty || self.prev_empty || self.prev.as_ref() != Some(&this);
        let line = |row: Vec<String>, out: &mut String| {
            out.push_str(&row.iter().map(|c| quote(c, d.delimiter)).collect::<Vec<_>>().join(&sep));
            out.push_str("\r\n");
        };
        if new_block {
            if self.prev.is_some() {
                out.push_str("\r\n");
            }
            // The annotation column is always there, empty on non-annotation rows.
            for ann in &d.annotations {
                let mut row = vec![format!("{}{ann}", d.comment_prefix)];
                match ann.as_str() {
                    "datatype" => {
                        row.extend(["string".to_owned(), "long".to_owned()]);
                        row.extend(this.0.iter().map(|(_, t)| {
                            let dt = datatype(t);
                            if nano && dt.starts_with("dateTime") {
                                "dateTime:RFC3339Nano".to_owned()
                            } else {
                                dt.to_owned()
                            }
                        }));
                    }
                    "group" => {
                        row.extend(["false".to_owned(), "false".to_owned()]);
                        row.extend(this.1.iter().map(|g| g.to_string()));
                    }
                    "default" => {
                        row.push(name.to_owned());
                        if empty {
                            row.push(self.index.to_string());
                            row.extend(
                                this.0.iter().map(|(n, _)| t.key.get(n).map(|v| text(v, nano)).unwrap_or_default()),
                            );
                        } else {
                            row.push(String::new());
                            row.extend(this.0.iter().map(|_| String::new()));
                        }
                    }
                    _ => continue,
                }
                line(row, out);
            }
            if d.header {
                let mut row = vec![String::new(), "result".to_owned(), "table".to_owned()];
                row.extend(this.0.iter().map(|(n, _)| n.clone()));
                line(row, out);
            }
        }
        // With the `default` annotation the result name is implied; without it, each row says it.
        let result_cell = if d.annotations.iter().any(|a| a == "default") { String::new() } else { name.to_owned() };
        // Rows straight from the Arrow columns: the start of each row is the same.
        let mut lead = String::new();
        lead.push_str(&quote(&result_cell, d.delimiter));
        lead.push(d.delimiter);
        lead.push_str(&self.index.to_string());
        let columns: Vec<Column<'_>> = t.batch.columns().iter().map(|c| Column::of(c.as_ref())).collect();
        out.reserve((t.num_rows() * (lead.len() + 16 * columns.len())).min(FLUSH_BYTES + 4096));
        for i in 0..t.num_rows() {
            out.push(d.delimiter);
            out.push_str(&lead);
            for c in &columns {
                out.push(d.delimiter);
                c.write(i, d.delimiter, out);
            }
            out.push_str("\r\n");
            if out.len() >= FLUSH_BYTES {
                flush(out)?;
            }
        }
        self.index += 1;
        self.prev = Some(this);
        self.prev_empty = empty;
        Ok(())
    }

    /// Ends the output.
    pub fn finish(&mut self, out: &mut String) {
        if self.result.take().is_some() {
            out.push_str("\r\n");
        }
    }
}

/// The size of the pieces [`Encoder::table`] writes a table in.
pub const FLUSH_BYTES: usize = 64 * 1024;

/// Encodes named results as annotated CSV.
pub fn encode(results: &[(String, Vec<Table>)], d: &Dialect) -> String {
    let mut enc = Encoder::new(d.clone());
    let mut out = String::new();
    for (name, tables) in results {
        for t in tables {
            let kept: Result<(), std::convert::Infallible> = enc.table(name, t, &mut out, &mut |_| Ok(()));
            let Ok(()) = kept;
        }
    }
    enc.finish(&mut out);
    out
}

/// An error as a CSV table (`error,reference`), for errors after the response began.
pub fn error_table(message: &str) -> String {
    format!(
        "#datatype,string,string\r\n#group,true,true\r\n#default,,\r\n,error,reference\r\n,{},\r\n\r\n",
        quote(message, ',')
    )
}

/// Splits CSV text into records (RFC 4180 quoting; CRLF or LF). A blank line is `None`.
fn records(text: &str) -> EvalResult<Vec<Option<Vec<String>>>> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    let mut record: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut quoted_field = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        match c {
            '"' if field.is_empty() && !quoted_field => {
                quoted_field = true;
                at_start = false;
                loop {
                    match chars.next() {
                        Some('"') if chars.peek() == Some(&'"') => {
                            chars.next();
                            field.push('"');
                        }
                        Some('"') => break,
                        Some(c) => field.push(c),
                        None => return fail("csv: unterminated quoted field"),
                    }
                }
            }
            ',' => {
                record.push(std::mem::take(&mut field));
                quoted_field = false;
                at_start = false;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                if at_start && field.is_empty() && record.is_empty() {
                    out.push(None);
                } else {
                    record.push(std::mem::take(&mut field));
                    out.push(Some(std::mem::take(&mut record)));
                }
                quoted_field = false;
                at_start = true;
            }
            c => {
                field.push(c);
                at_start = false;
            }
        }
    }
    if !at_start {
        record.push(field);
        out.push(Some(record));
    }
    Ok(out)
}

fn fail<T>(message: impl Into<String>) -> EvalResult<T> {
    Err(EvalError::invalid(message.into()))
}

/// A cell of annotated CSV as a value of its column's datatype.
fn parse_cell(datatype: &str, s: &str) -> EvalResult<Value> {
    let bad = || EvalError::invalid(format!("csv: cannot parse {s:?} as {datatype}"));
    Ok(match datatype {
        "string" => Value::String(s.to_owned()),
        "long" => Value::Int(s.parse().map_err(|_| bad())?),
        "unsignedLong" => Value::UInt(s.parse().map_err(|_| bad())?),
        "double" => Value::Float(match s {
            "+Inf" | "Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            "NaN" => f64::NAN,
            _ => s.parse().map_err(|_| bad())?,
        }),
        "boolean" => Value::Bool(match s {
            "true" | "True" | "TRUE" | "t" | "T" | "1" => true,
            "false" | "False" | "FALSE" | "f" | "F" | "0" => false,
            _ => return Err(bad()),
        }),
        t if t.starts_with("dateTime") => Value::Time(match s.parse::<i64>() {
            Ok(n) if t == "dateTime:number" => n,
            // Times past 2262 wrap around, as Go's nanosecond conversion does.
            _ => chrono::DateTime::parse_from_rfc3339(s)
                .map(|d| d.timestamp().wrapping_mul(1_000_000_000).wrapping_add(i64::from(d.timestamp_subsec_nanos())))
                .map_err(|_| bad())?,
        }),
        "duration" => match crate::duration::parse_duration(s.trim()) {
            Some(d) => Value::Int(d.signed().1),
            None => return Err(bad()),
        },
        _ => return fail(format!("csv: unsupported datatype {datatype:?}")),
    })
}

fn column_type(datatype: &str) -> EvalResult<DataType> {
    Ok(match datatype {
        "string" => DataType::Utf8,
        "long" | "duration" => DataType::Int64,
        "unsignedLong" => DataType::UInt64,
        "double" => DataType::Float64,
        "boolean" => DataType::Boolean,
        t if t.starts_with("dateTime") => crate::table::time_type(),
        t => return fail(format!("csv: unsupported datatype {t:?}")),
    })
}

/// One block of annotated CSV: the annotations and header that its rows share.
struct Block {
    datatypes: Vec<String>,
    group: Vec<bool>,
    defaults: Vec<String>,
    header: Vec<String>,
    /// Table id and rows, tables in order of appearance.
    tables: Vec<(String, Vec<Vec<String>>)>,
}

impl Block {
    /// The annotations and header, without rows.
    fn meta(&self) -> Block {
        Block {
            datatypes: self.datatypes.clone(),
            group: self.group.clone(),
            defaults: self.defaults.clone(),
            header: self.header.clone(),
            tables: Vec::new(),
        }
    }

    fn finish(self, out: &mut Vec<Table>) -> EvalResult<()> {
        // Data columns: everything but the annotation column, `result`, `table` and ignored ones.
        let keep: Vec<usize> = (0..self.header.len())
            .filter(|&i| {
                let dt = self.datatypes.get(i).map_or("string", String::as_str);
                let annotation_column = i == 0 && self.header[0].is_empty();
                !annotation_column && !matches!(self.header[i].as_str(), "result" | "table") && dt != "ignored"
            })
            .collect();
        let key: Vec<String> = keep
            .iter()
            .filter(|&&i| self.group.get(i).copied().unwrap_or(false))
            .map(|&i| self.header[i].clone())
            .collect();
        if self.tables.is_empty() {
            // A block without rows is one empty table; `#default` holds its key values.
            let mut key_values = Vec::new();
            let mut fields = Vec::new();
            for &c in &keep {
                let dt = self.datatypes.get(c).map_or("string", String::as_str);
                fields.push((self.header[c].clone(), column_type(dt)?));
                if key.contains(&self.header[c]) {
                    let default = self.defaults.get(c).map_or("", String::as_str);
                    let v = if default.is_empty() { Value::Null } else { parse_cell(dt, default)? };
                    key_values.push((self.header[c].clone(), v));
                }
            }
            out.push(Table::empty(crate::table::GroupKey(key_values), &fields)?);
            return Ok(());
        }
        for (_, rows) in self.tables {
            let mut columns = Vec::with_capacity(keep.len());
            for &c in &keep {
                let dt = self.datatypes.get(c).map_or("string", String::as_str);
                let default = self.defaults.get(c).map_or("", String::as_str);
                let values = rows
                    .iter()
                    .map(|r| {
                        let s = r.get(c).map_or("", String::as_str);
                        let s = if s.is_empty() { default } else { s };
                        if s.is_empty() { Ok(Value::Null) } else { parse_cell(dt, s) }
                    })
                    .collect::<EvalResult<Vec<_>>>()?;
                columns.push((self.header[c].clone(), crate::table::array_of(&column_type(dt)?, values)));
            }
            out.push(Table::new(&key, columns)?);
        }
        Ok(())
    }
}

/// Reads annotated CSV (`csv.from`): each `table` id of each block is a table;
/// `#group` gives the key, `#default` fills empty cells.
pub fn decode(text: &str) -> EvalResult<Vec<Table>> {
    let mut out = Vec::new();
    let mut annotations: Vec<Vec<String>> = Vec::new();
    let mut block: Option<Block> = None;
    // After a blank line, rows may go on under the same annotations and header.
    let mut carried: Option<Block> = None;
    for rec in records(text)? {
        let Some(rec) = rec else {
            match block.take() {
                Some(b) => {
                    carried = Some(Block { tables: Vec::new(), ..b.meta() });
                    b.finish(&mut out)?;
                    annotations.clear();
                }
                // A blank line between the annotations and their header changes nothing.
                None if !annotations.is_empty() => {}
                None => annotations.clear(),
            }
            continue;
        };
        if block.is_none()
            && annotations.is_empty()
            && !rec.first().is_some_and(|c| c.starts_with('#'))
            && let Some(meta) = carried.take()
        {
            block = Some(meta);
        }
        if rec.first().is_some_and(|c| c.starts_with('#')) {
            if let Some(b) = block.take() {
                b.finish(&mut out)?;
                annotations.clear();
            }
            annotations.push(rec);
            continue;
        }
        match &mut block {
            None => {
                let find = |name: &str| annotations.iter().find(|a| a[0] == name).cloned();
                let datatypes = find("#datatype").ok_or_else(|| {
                    EvalError::invalid("csv: missing the #datatype annotation (use mode: \"raw\" for plain CSV)")
                })?;
                let group = find("#group").unwrap_or_default().iter().map(|g| g == "true").collect();
                let defaults = find("#default").unwrap_or_default();
                block = Some(Block { datatypes, group, defaults, header: rec, tables: Vec::new() });
            }
            Some(b) => {
                let id =
                    b.header.iter().position(|h| h == "table").and_then(|i| rec.get(i)).cloned().unwrap_or_default();
                match b.tables.last_mut() {
                    Some((last, rows)) if *last == id => rows.push(rec),
                    _ => b.tables.push((id, vec![rec])),
                }
            }
        }
    }
    if let Some(b) = block {
        b.finish(&mut out)?;
    }
    Ok(out)
}

/// Reads plain CSV (`csv.from(mode: "raw")`): a header row, every column a string, one table.
pub fn decode_raw(text: &str) -> EvalResult<Vec<Table>> {
    let mut recs = records(text)?.into_iter().flatten();
    let Some(header) = recs.next() else { return Ok(Vec::new()) };
    let rows: Vec<Vec<String>> = recs.collect();
    let columns = header
        .iter()
        .enumerate()
        .map(|(c, name)| {
            let values = rows.iter().map(|r| r.get(c).map_or(Value::Null, |s| Value::String(s.clone())));
            (name.clone(), crate::table::array_of(&DataType::Utf8, values))
        })
        .collect();
    Ok(vec![Table::new(&[], columns)?])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blank_line_between_annotations_and_header_is_skipped() {
        let text = "#group,false,false,true,false\n#datatype,string,long,string,double\n#default,_result,,,\n\n\
                    ,result,table,host,_value\n,,0,a,1.5\n,,1,b,2\n";
        let tables = decode(text).unwrap();
        assert_eq!(tables.len(), 2);
        assert_eq!(tables[0].key.get("host"), Some(&Value::String("a".into())));
        assert_eq!(tables[1].num_rows(), 1);
    }
}

//! Annotated CSV, the response format of `/api/v2/query` (SPEC: "Response format").

use arrow::array::Array;
use arrow::datatypes::DataType;

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

/// A field as RFC 4180 writes it: quoted when it holds the delimiter, a quote or a line break.
fn quote(s: &str, delimiter: char) -> String {
    if s.contains(delimiter) || s.contains('"') || s.contains('\n') || s.contains('\r') {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn text(v: &Value, nano: bool) -> String {
    match v {
        Value::Null => String::new(),
        // Go's RFC3339 drops fractions; RFC3339Nano keeps them, trailing zeros trimmed.
        Value::Time(t) if nano => crate::interp::format_time(*t),
        Value::Time(t) => crate::interp::format_time(t - t.rem_euclid(1_000_000_000)),
        v => v.to_string(),
    }
}

/// Whether two tables can share a header: same columns, types and group key.
fn same_schema(a: &Table, b: &Table) -> bool {
    a.batch.schema().fields() == b.batch.schema().fields() && a.key == b.key
}

/// Encodes named results as annotated CSV, CRLF line ends, a blank line after
/// each block of same-schema tables and after each result.
pub fn encode(results: &[(String, Vec<Table>)], d: &Dialect) -> String {
    let nano = d.date_time_format == "RFC3339Nano";
    let sep = d.delimiter.to_string();
    let mut out = String::new();
    for (name, tables) in results {
        let mut prev: Option<&Table> = None;
        for (index, t) in tables.iter().enumerate() {
            let schema = t.batch.schema();
            let new_block = prev.is_none_or(|p| !same_schema(p, t));
            if new_block {
                if prev.is_some() {
                    out.push_str("\r\n");
                }
                // The annotation column is always there, empty on non-annotation rows.
                let lead = vec![String::new()];
                for ann in &d.annotations {
                    let mut row = vec![format!("{}{ann}", d.comment_prefix)];
                    match ann.as_str() {
                        "datatype" => {
                            row.extend(["string".to_owned(), "long".to_owned()]);
                            row.extend(schema.fields().iter().map(|f| {
                                let dt = datatype(f.data_type());
                                if nano && dt.starts_with("dateTime") {
                                    "dateTime:RFC3339Nano".to_owned()
                                } else {
                                    dt.to_owned()
                                }
                            }));
                        }
                        "group" => {
                            row.extend(["false".to_owned(), "false".to_owned()]);
                            row.extend(schema.fields().iter().map(|f| t.key.contains(f.name()).to_string()));
                        }
                        "default" => {
                            row.extend([name.clone(), String::new()]);
                            row.extend(schema.fields().iter().map(|_| String::new()));
                        }
                        _ => continue,
                    }
                    out.push_str(&row.iter().map(|c| quote(c, d.delimiter)).collect::<Vec<_>>().join(&sep));
                    out.push_str("\r\n");
                }
                if d.header {
                    let mut row = lead.clone();
                    row.extend(["result".to_owned(), "table".to_owned()]);
                    row.extend(schema.fields().iter().map(|f| f.name().clone()));
                    out.push_str(&row.iter().map(|c| quote(c, d.delimiter)).collect::<Vec<_>>().join(&sep));
                    out.push_str("\r\n");
                }
            }
            // With the `default` annotation the result name is implied; without it, each row says it.
            let result_cell = if d.annotations.iter().any(|a| a == "default") { String::new() } else { name.clone() };
            for i in 0..t.num_rows() {
                let mut row: Vec<String> = vec![String::new()];
                row.push(result_cell.clone());
                row.push(index.to_string());
                for c in t.batch.columns() {
                    row.push(text(&cell(c.as_ref() as &dyn Array, i), nano));
                }
                out.push_str(&row.iter().map(|c| quote(c, d.delimiter)).collect::<Vec<_>>().join(&sep));
                out.push_str("\r\n");
            }
            prev = Some(t);
        }
        if !tables.is_empty() {
            out.push_str("\r\n");
        }
    }
    out
}

/// An error as a CSV table (`error,reference`), for errors after the response began.
pub fn error_table(message: &str) -> String {
    format!(
        "#datatype,string,long\r\n#group,true,true\r\n#default,,\r\n,error,reference\r\n,{},\r\n\r\n",
        quote(message, ',')
    )
}

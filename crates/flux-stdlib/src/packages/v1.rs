//! `influxdata/influxdb/v1`: `json` (a v1 /query answer as tables) and
//! `databases` (the org's DBRP mappings).

use arrow::datatypes::DataType;

use crate::args::fail;
use flux_runtime::error::EvalResult;
use flux_runtime::interp::{Args, Interp};
use flux_runtime::stream::Stream;
use flux_runtime::table::{Table, array_of, infer_type, time_type};
use flux_runtime::value::Value;

/// `v1.json(json:)`: an InfluxDB 1.x `/query` answer as tables, one per
/// series and column: `_measurement`, the series' tags and `_field` in the
/// key, `_time` and `_value` in the rows.
pub(super) fn v1_json(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let text = match (a.get("json"), a.get("file")) {
        (Some(Value::String(s)), _) => s.clone(),
        (Some(v), _) => return fail(format!("json must be a string, got {}", v.type_name())),
        (None, Some(_)) => return fail("v1.json: reading files is not allowed on this server; pass the data as json"),
        (None, None) => return fail("v1.json: give json"),
    };
    let bad = |e: String| flux_runtime::error::EvalError::invalid(format!("v1.json: {e}"));
    let parsed: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    let mut tables = Vec::new();
    for result in parsed["results"].as_array().into_iter().flatten() {
        if let Some(e) = result["error"].as_str() {
            return Err(bad(e.to_owned()));
        }
        for series in result["series"].as_array().into_iter().flatten() {
            let name = series["name"].as_str().unwrap_or_default();
            let columns: Vec<&str> =
                series["columns"].as_array().into_iter().flatten().filter_map(|c| c.as_str()).collect();
            let time_at =
                columns.iter().position(|c| *c == "time").ok_or_else(|| bad("a series has no time column".into()))?;
            let rows: Vec<&Vec<serde_json::Value>> =
                series["values"].as_array().into_iter().flatten().filter_map(|r| r.as_array()).collect();
            let mut times = Vec::with_capacity(rows.len());
            for r in &rows {
                times.push(Value::Time(match &r[time_at] {
                    serde_json::Value::String(s) => {
                        time::rfc3339::parse(s).ok_or_else(|| bad(format!("bad time {s:?}")))?
                    }
                    serde_json::Value::Number(n) => n.as_i64().ok_or_else(|| bad(format!("bad time {n}")))?,
                    v => return Err(bad(format!("bad time {v}"))),
                }));
            }
            let mut tags: Vec<(String, String)> = series["tags"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect();
            tags.sort();
            for (c, field) in columns.iter().enumerate().filter(|(c, _)| *c != time_at) {
                let values: Vec<Value> = rows
                    .iter()
                    .map(|r| match r.get(c) {
                        Some(serde_json::Value::Number(n)) => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
                        Some(serde_json::Value::String(s)) => Value::String(s.clone()),
                        Some(serde_json::Value::Bool(b)) => Value::Bool(*b),
                        _ => Value::Null,
                    })
                    .collect();
                let n = values.len();
                let mut cols = vec![("_time".to_owned(), array_of(&time_type(), times.clone()))];
                let mut key = vec!["_measurement".to_owned()];
                cols.push((
                    "_measurement".to_owned(),
                    flux_runtime::table::repeat(&Value::String(name.into()), &DataType::Utf8, n),
                ));
                for (k, v) in &tags {
                    key.push(k.clone());
                    cols.push((k.clone(), flux_runtime::table::repeat(&Value::String(v.clone()), &DataType::Utf8, n)));
                }
                key.push("_field".to_owned());
                cols.push((
                    "_field".to_owned(),
                    flux_runtime::table::repeat(&Value::String((*field).into()), &DataType::Utf8, n),
                ));
                let vt = infer_type(&values)?;
                cols.push(("_value".to_owned(), array_of(&vt, values)));
                tables.push(Table::new(&key, cols)?);
            }
        }
    }
    Ok(Value::Stream(Stream::tables(tables)))
}

/// `v1.databases()`: the org's v1 mappings, one row each.
pub(super) fn v1_databases(i: &mut Interp, _: &Args) -> EvalResult<Value> {
    let source =
        i.source.clone().ok_or_else(|| flux_runtime::error::EvalError::invalid("v1.databases: no databases here"))?;
    let list = source.databases()?;
    let text = |f: &dyn Fn(&flux_runtime::DatabaseInfo) -> String| -> Vec<Value> {
        list.iter().map(|d| Value::String(f(d))).collect()
    };
    let columns = vec![
        ("organizationID".to_owned(), array_of(&DataType::Utf8, text(&|d| d.org_id.clone()))),
        ("databaseName".to_owned(), array_of(&DataType::Utf8, text(&|d| d.database.clone()))),
        ("retentionPolicy".to_owned(), array_of(&DataType::Utf8, text(&|d| d.retention_policy.clone()))),
        ("retentionPeriod".to_owned(), array_of(&DataType::Int64, list.iter().map(|d| Value::Int(d.retention_ns)))),
        ("default".to_owned(), array_of(&DataType::Boolean, list.iter().map(|d| Value::Bool(d.default)))),
        ("bucketID".to_owned(), array_of(&DataType::Utf8, text(&|d| d.bucket_id.clone()))),
    ];
    Ok(Value::Stream(Stream::tables(vec![Table::new(&[], columns)?])))
}

//! The examples of the Flux standard library's documentation pages
//! (`../shared/reference/flux/stdlib`), each with its input and output
//! tables, as checks: the example's code runs, and its result tables must equal
//! the documented output (group keys, columns and rows; column order aside).
//! Shared by the in-process test and the end-to-end test over HTTP.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;

/// A table as the docs print it: key columns (marked `*`) and rows of cells.
/// The core of `universe` (and the packages tests rely on), by documentation page.
pub(crate) const PAGES: &[&str] = &[
    "universe/chandemomentumoscillator.md",
    "universe/holtwinters.md",
    "universe/cov.md",
    "universe/covariance.md",
    "universe/doubleema.md",
    "universe/kaufmansama.md",
    "universe/kaufmanser.md",
    "universe/pearsonr.md",
    "universe/relativestrengthindex.md",
    "universe/timeweightedavg.md",
    "universe/tripleema.md",
    "universe/tripleexponentialderivative.md",
    "universe/filter.md",
    "universe/map.md",
    "universe/yield.md",
    "universe/group.md",
    "universe/window.md",
    "universe/aggregatewindow.md",
    "universe/mean.md",
    "universe/sum.md",
    "universe/count.md",
    "universe/min.md",
    "universe/max.md",
    "universe/first.md",
    "universe/last.md",
    "universe/median.md",
    "universe/quantile.md",
    "universe/stddev.md",
    "universe/spread.md",
    "universe/mode.md",
    "universe/distinct.md",
    "universe/unique.md",
    "universe/sort.md",
    "universe/limit.md",
    "universe/tail.md",
    "universe/top.md",
    "universe/bottom.md",
    "universe/keep.md",
    "universe/drop.md",
    "universe/rename.md",
    "universe/duplicate.md",
    "universe/set.md",
    "universe/fill.md",
    "universe/pivot.md",
    "universe/join.md",
    "universe/union.md",
    "universe/difference.md",
    "universe/derivative.md",
    "universe/increase.md",
    "universe/cumulativesum.md",
    "universe/movingaverage.md",
    "universe/exponentialmovingaverage.md",
    "universe/timedmovingaverage.md",
    "universe/elapsed.md",
    "universe/timeshift.md",
    "universe/truncatetimecolumn.md",
    "universe/reduce.md",
    "universe/columns.md",
    "universe/keys.md",
    "universe/keyvalues.md",
    "universe/integral.md",
    "universe/histogram.md",
    "universe/histogramquantile.md",
    "universe/statecount.md",
    "universe/stateduration.md",
    "universe/statetracking.md",
    "universe/hourselection.md",
    "universe/tablefind.md",
    "universe/getcolumn.md",
    "universe/getrecord.md",
    "universe/findcolumn.md",
    "universe/findrecord.md",
    "universe/int.md",
    "universe/uint.md",
    "universe/float.md",
    "universe/string.md",
    "universe/bool.md",
    "universe/time.md",
    "universe/duration.md",
    "universe/bytes.md",
    "universe/toint.md",
    "universe/touint.md",
    "universe/tofloat.md",
    "universe/tostring.md",
    "universe/tobool.md",
    "universe/totime.md",
    "universe/now.md",
    "universe/length.md",
    "universe/contains.md",
    "universe/display.md",
    "array/from.md",
    "csv/from.md",
    "testing/diff.md",
    "testing/assertequals.md",
    "testing/assertequalvalues.md",
    "universe/sample.md",
    "universe/skew.md",
    "universe/highestmax.md",
    "universe/highestaverage.md",
    "universe/highestcurrent.md",
    "universe/lowestmin.md",
    "universe/lowestaverage.md",
    "universe/lowestcurrent.md",
    "join/tables.md",
    "join/inner.md",
    "join/left.md",
    "join/right.md",
    "join/full.md",
    "join/time.md",
    "sampledata/float.md",
    "sampledata/int.md",
    "sampledata/uint.md",
    "sampledata/string.md",
    "sampledata/bool.md",
    "sampledata/numericbool.md",
];

/// Examples that cannot run here, with the reason.
pub(crate) const SKIP: &[(&str, &str)] = &[(
    "Calculate the covariance between two columns",
    "the page prints column x as whole numbers, which read back as integers; covariance takes two float \
     columns (Flux refuses an integer one), so the page's own data must have been floats",
)];

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DocTable {
    pub(crate) columns: Vec<String>,
    pub(crate) key: Vec<String>,
    pub(crate) rows: Vec<Vec<String>>,
}

impl DocTable {
    /// The key as sorted (column, value) pairs.
    pub(crate) fn key_values(&self) -> Vec<(String, String)> {
        let mut kv: Vec<(String, String)> = self
            .key
            .iter()
            .map(|k| {
                let i = self.columns.iter().position(|c| c == k).expect("key column");
                (k.clone(), self.rows.first().map(|r| r[i].clone()).unwrap_or_default())
            })
            .collect();
        kv.sort();
        kv
    }

    /// Rows as maps from column name to cell, for comparison regardless of column order.
    fn row_maps(&self) -> Vec<BTreeMap<&str, &str>> {
        self.rows
            .iter()
            .map(|r| self.columns.iter().map(String::as_str).zip(r.iter().map(String::as_str)).collect())
            .collect()
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Example {
    pub(crate) page: String,
    pub(crate) title: String,
    pub(crate) code: String,
    pub(crate) input: Vec<DocTable>,
    pub(crate) output: Vec<DocTable>,
}

pub(crate) fn stdlib_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/flux/stdlib")
}

fn parse_table(lines: &[&str]) -> Option<DocTable> {
    let cells = |l: &str| -> Vec<String> {
        let l = l.trim();
        let l = l.strip_prefix('|').unwrap_or(l);
        let l = l.strip_suffix('|').unwrap_or(l);
        l.split('|').map(|c| c.trim().to_owned()).collect()
    };
    let header = cells(lines.first()?);
    let mut columns = Vec::new();
    let mut key = Vec::new();
    for h in header {
        match h.strip_prefix('*') {
            Some(k) => {
                key.push(k.to_owned());
                columns.push(k.to_owned());
            }
            None => columns.push(h),
        }
    }
    let rows = lines.iter().skip(2).map(|l| cells(l)).collect();
    Some(DocTable { columns, key, rows })
}

/// The tables in a run of markdown lines.
fn tables(lines: &[&str]) -> Vec<DocTable> {
    let mut out = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for l in lines {
        if l.trim_start().starts_with('|') {
            current.push(l);
        } else if !current.is_empty() {
            out.extend(parse_table(&current));
            current.clear();
        }
    }
    if !current.is_empty() {
        out.extend(parse_table(&current));
    }
    // A header row repeated inside one markdown table starts another table.
    let mut split = Vec::new();
    for t in out {
        let mut cur = DocTable { columns: t.columns.clone(), key: t.key.clone(), rows: Vec::new() };
        for r in t.rows {
            let header_again = r.iter().zip(&t.columns).all(|(c, h)| c.trim_start_matches('*') == h);
            let separator = r.iter().all(|c| c.chars().all(|ch| ch == '-' || ch == ':') && !c.is_empty());
            if header_again {
                if !cur.rows.is_empty() {
                    split.push(cur.clone());
                }
                cur.rows.clear();
            } else if !separator {
                cur.rows.push(r);
            }
        }
        split.push(cur);
    }
    split
}

/// Every example of a page: code, then its input and output tables.
pub(crate) fn examples(page: &str) -> Vec<Example> {
    let path = stdlib_dir().join(page);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let body = match text.find("## Examples") {
        Some(i) => &text[i..],
        None => return Vec::new(),
    };
    let lines: Vec<&str> = body.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let mut title = String::new();
    while i < lines.len() {
        let l = lines[i];
        if let Some(t) = l.strip_prefix("### ") {
            title = t.trim().to_owned();
        }
        if l.trim() == "```js" {
            let mut code = Vec::new();
            i += 1;
            while i < lines.len() && lines[i].trim() != "```" {
                code.push(lines[i]);
                i += 1;
            }
            // The tables up to the next code block or example heading.
            let start = i;
            let mut end = i + 1;
            while end < lines.len() && lines[end].trim() != "```js" && !lines[end].starts_with("### ") {
                end += 1;
            }
            let section = &lines[start..end];
            let input_at = section.iter().position(|l| l.starts_with("#### Input data"));
            let output_at = section.iter().position(|l| l.starts_with("#### Output data"));
            let input = match (input_at, output_at) {
                (Some(a), Some(b)) if a < b => tables(&section[a..b]),
                (Some(a), None) => tables(&section[a..]),
                _ => Vec::new(),
            };
            let output = output_at.map(|b| tables(&section[b..])).unwrap_or_default();
            out.push(Example { page: page.to_owned(), title: title.clone(), code: code.join("\n"), input, output });
            i = end;
            continue;
        }
        i += 1;
    }
    out
}

fn looks_time(s: &str) -> bool {
    s.len() >= 20 && s.as_bytes()[4] == b'-' && s.contains('T') && s.ends_with('Z')
}

/// The datatype of a documented column, from its cells.
fn datatype(cells: &[&str]) -> &'static str {
    let present: Vec<&&str> = cells.iter().filter(|c| !c.is_empty()).collect();
    if present.is_empty() {
        return "string";
    }
    if present.iter().all(|c| looks_time(c)) {
        "dateTime:RFC3339"
    } else if present.iter().all(|c| c.parse::<i64>().is_ok()) {
        "long"
    } else if present.iter().all(|c| c.parse::<f64>().is_ok()) {
        "double"
    } else if present.iter().all(|c| **c == "true" || **c == "false") {
        "boolean"
    } else {
        "string"
    }
}

/// A documented table whose rows hold several key values, as the tables it stands for.
fn split_by_key(t: &DocTable) -> Vec<DocTable> {
    let idx: Vec<usize> = t.key.iter().filter_map(|k| t.columns.iter().position(|c| c == k)).collect();
    let mut out: Vec<(Vec<String>, DocTable)> = Vec::new();
    for r in &t.rows {
        let kv: Vec<String> = idx.iter().map(|&i| r[i].clone()).collect();
        match out.iter_mut().find(|(k, _)| *k == kv) {
            Some((_, d)) => d.rows.push(r.clone()),
            None => out.push((kv, DocTable { columns: t.columns.clone(), key: t.key.clone(), rows: vec![r.clone()] })),
        }
    }
    out.into_iter().map(|(_, d)| d).collect()
}

/// The input tables as annotated CSV (types read from the cells).
pub(crate) fn input_csv(tables: &[DocTable]) -> String {
    let mut out = String::new();
    let mut id = 0;
    for t in tables.iter().flat_map(split_by_key) {
        id += 1;
        let t = &t;
        let types: Vec<&str> = (0..t.columns.len())
            .map(|c| datatype(&t.rows.iter().map(|r| r.get(c).map_or("", String::as_str)).collect::<Vec<_>>()))
            .collect();
        out.push_str(&format!("#datatype,string,long,{}\n", types.join(",")));
        let group: Vec<String> = t.columns.iter().map(|c| t.key.contains(c).to_string()).collect();
        out.push_str(&format!("#group,false,false,{}\n", group.join(",")));
        out.push_str(&format!("#default,_result,,{}\n", vec![""; t.columns.len()].join(",")));
        out.push_str(&format!(",result,table,{}\n", t.columns.join(",")));
        for r in &t.rows {
            let cells: Vec<String> = r
                .iter()
                .map(|c| if c.contains([',', '"']) { format!("\"{}\"", c.replace('"', "\"\"")) } else { c.clone() })
                .collect();
            out.push_str(&format!(",,{id},{}\n", cells.join(",")));
        }
        out.push('\n');
    }
    out
}

/// The example as a runnable program: its imports first, then `data` built
/// from the documented input when the code uses it without defining it.
pub(crate) fn program(e: &Example) -> String {
    let (imports, rest): (Vec<&str>, Vec<&str>) = e.code.lines().partition(|l| l.starts_with("import "));
    let mut src = imports.join("\n");
    src.push('\n');
    let uses_data = e.code.contains("data") && !e.code.contains("data =");
    if uses_data && !e.input.is_empty() {
        if !imports.iter().any(|i| i.contains("\"csv\"")) {
            src.push_str("import \"csv\"\n");
        }
        src.push_str(&format!("data = csv.from(csv: {:?})\n", input_csv(&e.input)));
    }
    src.push_str(&rest.join("\n"));
    src
}

/// Why two sets of tables differ, or `None` when they are equal.
/// Empty tables are left out: the docs print them without their key values.
pub(crate) fn compare(got: &[DocTable], want: &[DocTable]) -> Option<String> {
    let got: Vec<DocTable> = got.iter().filter(|t| !t.rows.is_empty()).cloned().collect();
    let want: Vec<DocTable> = want.iter().filter(|t| !t.rows.is_empty()).cloned().collect();
    let (got, want) = (&got[..], &want[..]);
    if got.len() != want.len() {
        return Some(format!("{} tables, want {}:\n got {got:?}\nwant {want:?}", got.len(), want.len()));
    }
    let mut used = vec![false; got.len()];
    for w in want {
        let wk = w.key_values();
        let Some(j) = (0..got.len()).find(|&j| !used[j] && got[j].key_values() == wk) else {
            return Some(format!("no table with key {wk:?}:\n got {got:?}"));
        };
        used[j] = true;
        let g = &got[j];
        let (mut gc, mut wc) = (g.columns.clone(), w.columns.clone());
        gc.sort();
        wc.sort();
        if gc != wc {
            return Some(format!("columns {:?}, want {:?}", g.columns, w.columns));
        }
        let (gr, wr) = (g.row_maps(), w.row_maps());
        if gr.len() != wr.len() {
            return Some(format!(
                "key {wk:?}: {} rows, want {}:\n got {:?}\nwant {:?}",
                gr.len(),
                wr.len(),
                g.rows,
                w.rows
            ));
        }
        for (n, (a, b)) in gr.iter().zip(&wr).enumerate() {
            if a != b && !close(a, b) {
                return Some(format!("key {wk:?} row {n}: got {a:?}, want {b:?}"));
            }
        }
    }
    None
}

/// Equal but for float formatting in the last digits.
fn close(a: &BTreeMap<&str, &str>, b: &BTreeMap<&str, &str>) -> bool {
    a.iter().all(|(k, x)| {
        let y = b.get(k).copied().unwrap_or("");
        x == &y
            || matches!((x.parse::<f64>(), y.parse::<f64>()), (Ok(p), Ok(q)) if (p - q).abs() <= 1e-9 * p.abs().max(q.abs()).max(1.0))
    })
}

/// Splits a line of CSV (RFC 4180 quoting).
fn csv_fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                cur.push('"');
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// The tables of an annotated CSV response (`#group` gives the keys).
pub(crate) fn from_annotated_csv(text: &str) -> Vec<DocTable> {
    let mut out: Vec<DocTable> = Vec::new();
    let mut group: Vec<bool> = Vec::new();
    let mut header: Option<Vec<String>> = None;
    let mut current: Option<(String, DocTable)> = None;
    for line in text.split("\r\n").chain(std::iter::once("")) {
        if line.is_empty() {
            out.extend(current.take().map(|(_, t)| t));
            header = None;
            continue;
        }
        let fields = csv_fields(line);
        if fields[0].starts_with('#') {
            out.extend(current.take().map(|(_, t)| t));
            header = None;
            if fields[0] == "#group" {
                group = fields.iter().map(|g| g == "true").collect();
            }
            continue;
        }
        let Some(h) = &header else {
            header = Some(fields);
            continue;
        };
        let table_id = fields[2].clone();
        if current.as_ref().is_some_and(|(id, _)| *id != table_id) {
            out.extend(current.take().map(|(_, t)| t));
        }
        let (_, t) = current.get_or_insert_with(|| {
            let columns: Vec<String> = h[3..].to_vec();
            let key = columns
                .iter()
                .enumerate()
                .filter(|(i, _)| group.get(i + 3) == Some(&true))
                .map(|(_, c)| c.clone())
                .collect();
            (table_id.clone(), DocTable { columns, key, rows: Vec::new() })
        });
        t.rows.push(fields[3..].to_vec());
    }
    out
}

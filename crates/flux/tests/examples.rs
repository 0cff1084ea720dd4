//! Every example on the documentation page of each core function runs in
//! process and gives the documented output tables.

mod docs;

use docs::{DocTable, Example, PAGES, SKIP, compare, examples, program};
use flux::table::{Table, cell};
use flux::value::Value;

fn render(t: &Table) -> DocTable {
    let columns = t.names();
    let key = t.key.names().map(str::to_owned).collect();
    let rows = (0..t.num_rows())
        .map(|i| {
            t.batch
                .columns()
                .iter()
                .map(|c| match cell(c.as_ref(), i) {
                    Value::Null => String::new(),
                    v => v.to_string(),
                })
                .collect()
        })
        .collect();
    DocTable { columns, key, rows }
}

const NOW: i64 = 1_893_456_000_000_000_000; // 2030-01-01T00:00:00Z

fn check(e: &Example) -> Result<(), String> {
    let src = program(e);
    let results = flux::query(&src, NOW, None).map_err(|err| format!("error: {err}\n{src}"))?;
    let got: Vec<DocTable> = results.iter().flat_map(|(_, ts)| ts.iter().map(render)).collect();
    match compare(&got, &e.output) {
        None => Ok(()),
        Some(why) => Err(format!("{why}\n{src}")),
    }
}

#[test]
fn documented_examples_give_the_documented_output() {
    let mut failures = Vec::new();
    let (mut passed, mut unchecked) = (0, 0);
    for page in PAGES {
        for e in examples(page) {
            if e.output.is_empty() || SKIP.iter().any(|(t, _)| *t == e.title) {
                unchecked += 1;
                continue;
            }
            match check(&e) {
                Ok(()) => passed += 1,
                Err(why) => failures.push(format!("{page} — {}: {why}", e.title)),
            }
        }
    }
    eprintln!("{passed} examples pass, {unchecked} without output tables or skipped, {} fail", failures.len());
    assert!(failures.is_empty(), "{} failing examples:\n\n{}", failures.len(), failures.join("\n\n"));
}

#[test]
#[ignore]
fn scratch_package_examples() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/flux/stdlib");
    let dirs = [
        "strings",
        "regexp",
        "math",
        "date",
        "timezone",
        "array",
        "dict",
        "json",
        "csv",
        "http",
        "experimental",
        "experimental/array",
        "experimental/aggregate",
        "experimental/table",
        "experimental/json",
        "experimental/record",
        "experimental/bitwise",
        "experimental/date/boundaries",
        "experimental/http",
        "experimental/http/requests",
        "experimental/influxdb",
        "join",
        "interpolate",
        "influxdata/influxdb",
        "influxdata/influxdb/schema",
        "influxdata/influxdb/v1",
        "influxdata/influxdb/secrets",
        "runtime",
        "system",
        "types",
        "generate",
        "sampledata",
        "testing",
        "internal/debug",
        "http/requests",
        "bitwise",
    ];
    let (mut pass, mut ran, mut fail) = (0, 0, 0);
    for d in dirs {
        let Ok(rd) = std::fs::read_dir(root.join(d)) else {
            eprintln!("no dir {d}");
            continue;
        };
        let mut files: Vec<_> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "md") && !p.ends_with("_index.md"))
            .collect();
        files.sort();
        for f in files {
            let page = f.strip_prefix(&root).unwrap().to_str().unwrap().to_owned();
            for e in examples(&page) {
                let src = program(&e);
                match flux::query(&src, NOW, None) {
                    Err(err) => {
                        fail += 1;
                        eprintln!("ERR {page} — {}: {}", e.title, err.to_string().lines().next().unwrap_or(""));
                    }
                    Ok(results) if !e.output.is_empty() => {
                        let got: Vec<DocTable> = results.iter().flat_map(|(_, ts)| ts.iter().map(render)).collect();
                        match compare(&got, &e.output) {
                            None => pass += 1,
                            Some(why) => {
                                fail += 1;
                                eprintln!("DIFF {page} — {}: {}", e.title, why.lines().next().unwrap_or(""));
                            }
                        }
                    }
                    Ok(_) => ran += 1,
                }
            }
        }
    }
    eprintln!("pass {pass} ran {ran} fail {fail}");
}

/// A documented value, normalized for comparison: a record's properties
/// sorted, each number parsed.
fn documented_value(s: &str) -> Vec<(String, Option<f64>)> {
    let s = s.trim().trim_start_matches('{').trim_end_matches('}');
    let mut parts: Vec<(String, Option<f64>)> = s
        .split(", ")
        .map(|p| {
            let (name, v) = p.split_once(": ").unwrap_or(("", p));
            let v = v.trim();
            let n = match v {
                "+Inf" => Some(f64::INFINITY),
                "-Inf" => Some(f64::NEG_INFINITY),
                v => v.parse::<f64>().ok(),
            };
            (if n.is_some() { name.to_owned() } else { format!("{name}: {v}") }, n)
        })
        .collect();
    parts.sort_by(|a, b| a.0.cmp(&b.0));
    parts
}

#[test]
fn math_functions_return_the_values_their_pages_give() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/flux/stdlib/math");
    let mut checked = 0;
    let mut failures = Vec::new();
    let mut pages: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.path()).collect();
    pages.sort();
    for page in pages {
        let text = std::fs::read_to_string(&page).unwrap();
        for line in text.lines().filter(|l| l.starts_with("math.") && l.contains(")// ")) {
            let (call, want) = line.split_once("// ").unwrap();
            let src = format!("import \"math\"\nimport \"array\"\narray.from(rows: [{{v: display(v: {call})}}])");
            let got = match flux::query(&src, NOW, None) {
                Ok(r) => match cell(r[0].1[0].column("v").unwrap().as_ref(), 0) {
                    Value::String(s) => s,
                    v => v.to_string(),
                },
                Err(e) => {
                    failures.push(format!("{call}: {e}"));
                    continue;
                }
            };
            let (g, w) = (documented_value(&got), documented_value(want));
            let same = g.len() == w.len()
                && g.iter().zip(&w).all(|((gn, gv), (wn, wv))| {
                    gn == wn
                        && match (gv, wv) {
                            (Some(a), Some(b)) => a == b || ((a - b) / b).abs() < 1e-12,
                            (None, None) => true,
                            _ => false,
                        }
                });
            if !same {
                failures.push(format!("{call}: got {got}, the page says {want}"));
            }
            checked += 1;
        }
    }
    assert!(checked >= 50, "only {checked} documented values found");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

//! The conformance runner: every case under `tests/cases/` against one real
//! server, over HTTP. Each directory there is an org of its own, with a bucket
//! per `<bucket>.lp`; its `.flux` cases are compared whole with their `.csv` or
//! `.error`, its `.influxql` queries with the answers recorded from InfluxDB
//! 1.6.7 in `.result` (or 2.x's, in `.overrides`). `tests/cases/README.md` says
//! the formats; `OXIFLUX_BLESS=1` rewrites the Flux answers from the server's.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use reqwest::Method;
use serde_json::{Value, json};

use crate::server::{TOKEN, TestServer};

const CASES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cases");

#[test]
fn every_case_gives_its_expected_answer() {
    let (s, _) = TestServer::onboarded();
    let bless = std::env::var("OXIFLUX_BLESS").is_ok_and(|v| !v.is_empty() && v != "0");
    let mut report = Report::default();
    for dir in entries(Path::new(CASES)).into_iter().filter(|p| p.is_dir()) {
        let data = Dataset::load(&s, &dir);
        run_flux(&s, &data, bless, &mut report);
        run_influxql(&s, &data, &mut report);
        report.orphans(&dir);
    }
    report.finish();
}

/// One directory of cases, loaded: its org (named after it) and a token that
/// reads and writes the org's buckets.
struct Dataset {
    dir: PathBuf,
    org: String,
    token: String,
}

impl Dataset {
    fn load(s: &TestServer, dir: &Path) -> Self {
        let org = file_name(dir);
        let (status, body) = s.post("/api/v2/orgs", TOKEN, json!({ "name": org }));
        assert_eq!(status, 201, "org {org}: {body}");
        let org_id = body["id"].as_str().expect("org id").to_owned();
        let buckets = json!({"type": "buckets", "orgID": org_id});
        let (token, _) = s.make_token(
            &org_id,
            json!([{"action": "read", "resource": buckets}, {"action": "write", "resource": buckets}]),
        );
        for lp in with_extension(dir, "lp") {
            let bucket = stem(&lp);
            let (status, body) =
                s.post("/api/v2/buckets", TOKEN, json!({"orgID": org_id, "name": bucket, "retentionRules": []}));
            assert_eq!(status, 201, "bucket {bucket} of {org}: {body}");
            let points = read(&lp);
            if points.lines().any(|l| !l.trim().is_empty() && !l.starts_with('#')) {
                let r = s
                    .request(Method::POST, "/api/v2/write", Some(&token))
                    .query(&[("org", org.as_str()), ("bucket", bucket.as_str()), ("precision", "ns")])
                    .body(points)
                    .send()
                    .expect("write");
                let status = r.status().as_u16();
                assert_eq!(status, 204, "{}: {}", lp.display(), r.text().unwrap_or_default());
            }
        }
        Self { dir: dir.to_path_buf(), org, token }
    }

    fn case_name(&self, path: &Path) -> String {
        format!("{}/{}", self.org, stem(path))
    }
}

/// What the cases gave: how many ran, what differed, what was blessed.
#[derive(Default)]
struct Report {
    flux: usize,
    influxql: usize,
    failures: Vec<String>,
    blessed: Vec<String>,
}

impl Report {
    fn fail(&mut self, case: &str, why: &str) {
        self.failures.push(format!("── {case}\n{why}"));
    }

    /// Expected answers whose case is gone fail too, so none is left behind unchecked.
    fn orphans(&mut self, dir: &Path) {
        for path in entries(dir) {
            let owner = match path.extension().and_then(|e| e.to_str()) {
                Some("csv" | "error") => "flux",
                Some("result" | "overrides") => "influxql",
                _ => continue,
            };
            if !path.with_extension(owner).exists() {
                let name = format!("{}/{}", file_name(dir), file_name(&path));
                self.fail(&name, &format!("an expected answer without its .{owner} file"));
            }
        }
    }

    fn finish(self) {
        for path in &self.blessed {
            eprintln!("blessed {path}");
        }
        assert!(self.flux > 0 && self.influxql > 0, "no cases found under {CASES}");
        assert!(
            self.failures.is_empty(),
            "{} failures in {} cases ({} Flux, {} InfluxQL; - want, + got):\n\n{}",
            self.failures.len(),
            self.flux + self.influxql,
            self.flux,
            self.influxql,
            self.failures.join("\n\n")
        );
    }
}

/// A `.flux` case: leading `//` lines are its header (`// now: <RFC 3339>`,
/// `// dialect: <JSON>`, any other comment); the query is the rest, without the
/// file's final newline, so error positions count from its first line.
fn flux_request(text: &str) -> Result<Value, String> {
    let mut body = json!({"type": "flux", "dialect": {"annotations": ["datatype", "group", "default"]}});
    let mut rest = text;
    while rest.starts_with("//") {
        let (line, tail) = rest.split_once('\n').unwrap_or((rest, ""));
        let comment = line.trim_start_matches('/').trim();
        if let Some(now) = comment.strip_prefix("now:") {
            body["now"] = json!(now.trim());
        } else if let Some(dialect) = comment.strip_prefix("dialect:") {
            body["dialect"] = serde_json::from_str(dialect).map_err(|e| format!("bad dialect header: {e}"))?;
        }
        rest = tail;
    }
    body["query"] = json!(rest.strip_suffix('\n').unwrap_or(rest));
    Ok(body)
}

/// An answer other than 200, as `.error` files hold it.
fn error_answer(status: u16, body: &str) -> String {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    let fields = parsed
        .as_ref()
        .and_then(Value::as_object)
        .filter(|o| o.len() == 2)
        .and_then(|o| Some((o.get("code")?.as_str()?, o.get("message")?.as_str()?)));
    match fields {
        Some((code, message)) => format!("status: {status}\ncode: {code}\nmessage: {message}\n"),
        None => format!("status: {status}\nbody: {body}\n"),
    }
}

fn run_flux(s: &TestServer, data: &Dataset, bless: bool, report: &mut Report) {
    for case in with_extension(&data.dir, "flux") {
        report.flux += 1;
        let name = data.case_name(&case);
        let body = match flux_request(&read(&case)) {
            Ok(b) => b,
            Err(why) => {
                report.fail(&name, &why);
                continue;
            }
        };
        let r = s
            .request(Method::POST, "/api/v2/query", Some(&data.token))
            .query(&[("org", data.org.as_str())])
            .json(&body)
            .send()
            .expect("query");
        let status = r.status().as_u16();
        let text = r.text().unwrap_or_default();
        let (got, ext, other) =
            if status == 200 { (text, "csv", "error") } else { (error_answer(status, &text), "error", "csv") };
        let (want_path, other_path) = (case.with_extension(ext), case.with_extension(other));
        let want = std::fs::read_to_string(&want_path).ok();
        if want.as_deref() == Some(got.as_str()) && !other_path.exists() {
            continue;
        }
        if bless {
            std::fs::write(&want_path, &got).expect("write the expected answer");
            let _ = std::fs::remove_file(&other_path);
            report.blessed.push(want_path.display().to_string());
            continue;
        }
        let want = want.or_else(|| std::fs::read_to_string(&other_path).ok());
        match want {
            Some(want) => report.fail(&name, &diff(&want, &got)),
            None => report.fail(&name, &format!("no expected answer (OXIFLUX_BLESS=1 writes it); got:\n{got}")),
        }
    }
}

/// One block of a `.result` or `.overrides` file: `#` lines (why), a query line, its JSON answer.
struct Recorded {
    why: String,
    query: String,
    answer: Value,
}

/// Blocks are separated by blank lines; a block of `#` lines alone is a comment.
fn recorded(path: &Path) -> Result<Vec<Recorded>, String> {
    let text = read(path);
    let mut out = Vec::new();
    for block in text.split("\n\n").map(|b| b.trim_matches('\n')).filter(|b| !b.is_empty()) {
        let mut lines = block.lines().peekable();
        let mut why = Vec::new();
        while let Some(comment) = lines.next_if(|l| l.starts_with('#')) {
            why.push(comment.trim_start_matches('#').trim());
        }
        let Some(query) = lines.next() else { continue };
        let json: Vec<&str> = lines.collect();
        let answer = serde_json::from_str(&json.join("\n"))
            .map_err(|e| format!("{}: the answer to {query:?} is not JSON: {e}", path.display()))?;
        out.push(Recorded { why: why.join(" "), query: query.to_owned(), answer });
    }
    Ok(out)
}

/// An `.influxql` file: one query a line; `--` lines are comments, `-- db: <name>` sets `db`.
fn influxql_queries(text: &str) -> (String, Vec<&str>) {
    let mut db = String::new();
    let mut queries = Vec::new();
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("-- db:") {
            db = name.trim().to_owned();
        } else if !line.trim().is_empty() && !line.starts_with("--") {
            queries.push(line);
        }
    }
    (db, queries)
}

fn run_influxql(s: &TestServer, data: &Dataset, report: &mut Report) {
    for file in with_extension(&data.dir, "influxql") {
        let name = data.case_name(&file);
        let text = read(&file);
        let (db, queries) = influxql_queries(&text);
        let overrides_path = file.with_extension("overrides");
        let answers = recorded(&file.with_extension("result"));
        let overrides = if overrides_path.exists() { recorded(&overrides_path) } else { Ok(Vec::new()) };
        let (answers, overrides) = match (answers, overrides) {
            (Ok(a), Ok(o)) => (a, o),
            (Err(why), _) | (_, Err(why)) => {
                report.fail(&name, &why);
                continue;
            }
        };
        for stale in answers.iter().chain(&overrides).filter(|r| !queries.contains(&r.query.as_str())) {
            report.fail(&name, &format!("an answer to {:?}, which is not among the queries", stale.query));
        }
        for o in overrides.iter().filter(|o| o.why.is_empty()) {
            report.fail(&name, &format!("the override of {:?} does not say why", o.query));
        }
        for q in queries {
            report.influxql += 1;
            let case = format!("{name}: {q}");
            let want = match overrides.iter().chain(&answers).find(|r| r.query == q) {
                Some(r) => r.answer.clone(),
                None => {
                    report.fail(&case, "no recorded answer: record.py records it");
                    continue;
                }
            };
            let r = s
                .request(Method::GET, "/query", Some(&data.token))
                .query(&[("db", db.as_str()), ("q", q)])
                .send()
                .expect("query");
            let status = r.status().as_u16();
            let text = r.text().unwrap_or_default();
            let got = serde_json::from_str(&text).unwrap_or(Value::String(text));
            let descending = q.contains("DESC");
            let (got, want) = if descending { (got, want) } else { (normalized(got), normalized(want)) };
            if status != 200 || !same(&got, &want) {
                report.fail(&case, &format!("HTTP {status}\n{}", diff(&layout(&want, 0), &layout(&got, 0))));
            }
        }
    }
}

/// Rows of equal time from different series come in an unspecified order
/// (1.6.7's follows its index): each series' rows are put in (time, row) order.
fn normalized(mut v: Value) -> Value {
    if let Some(results) = v.get_mut("results").and_then(Value::as_array_mut) {
        for r in results {
            if let Some(series) = r.get_mut("series").and_then(Value::as_array_mut) {
                for s in series {
                    if let Some(values) = s.get_mut("values").and_then(Value::as_array_mut) {
                        values.sort_by_key(|row| (row[0].to_string(), row.to_string()));
                    }
                }
            }
        }
    }
    v
}

/// Equal, numbers within 1e-9 relative.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap_or(f64::NAN), y.as_f64().unwrap_or(f64::NAN));
            x == y || (x - y).abs() <= 1e-9 * x.abs().max(y.abs())
        }
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// JSON as `.result` files lay it out: each array or object that holds only
/// scalars (a row, a column list) on one line.
fn layout(v: &Value, indent: usize) -> String {
    let members: Vec<(Option<&String>, &Value)> = match v {
        Value::Array(a) => a.iter().map(|m| (None, m)).collect(),
        Value::Object(o) => o.iter().map(|(k, m)| (Some(k), m)).collect(),
        _ => Vec::new(),
    };
    if !members.iter().any(|(_, m)| m.is_array() || m.is_object()) {
        return v.to_string();
    }
    let pad = "  ".repeat(indent + 1);
    let inner: Vec<String> = members
        .iter()
        .map(|(k, m)| match k {
            Some(k) => format!("{pad}{}: {}", Value::String(k.to_string()), layout(m, indent + 1)),
            None => format!("{pad}{}", layout(m, indent + 1)),
        })
        .collect();
    let (open, close) = if v.is_array() { ('[', ']') } else { ('{', '}') };
    format!("{open}\n{}\n{}{close}", inner.join(",\n"), "  ".repeat(indent))
}

/// A line diff of `want` and `got` (`-` want, `+` got), with three lines of context.
fn diff(want: &str, got: &str) -> String {
    let (a, b): (Vec<&str>, Vec<&str>) = (want.split('\n').collect(), got.split('\n').collect());
    // lcs[i][j]: the longest common subsequence of a[i..] and b[j..].
    let mut lcs = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    let mut lines = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            lines.push((' ', a[i]));
            (i, j) = (i + 1, j + 1);
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            lines.push(('-', a[i]));
            i += 1;
        } else {
            lines.push(('+', b[j]));
            j += 1;
        }
    }
    let changed: Vec<usize> = (0..lines.len()).filter(|&k| lines[k].0 != ' ').collect();
    let near = |k: usize| changed.iter().any(|&c| c.abs_diff(k) <= 3);
    let mut out = String::new();
    let mut skipped = false;
    for (k, (mark, line)) in lines.iter().enumerate() {
        if near(k) {
            let _ = writeln!(out, "{mark} {}", line.strip_suffix('\r').unwrap_or(line));
            skipped = false;
        } else if !skipped {
            out.push_str("  …\n");
            skipped = true;
        }
    }
    if want.replace("\r\n", "\n") == got.replace("\r\n", "\n") {
        out.push_str("(they differ only in line endings)\n");
    }
    out
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    out.sort();
    out
}

fn with_extension(dir: &Path, ext: &str) -> Vec<PathBuf> {
    entries(dir).into_iter().filter(|p| p.is_file() && p.extension().is_some_and(|e| e == ext)).collect()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn file_name(path: &Path) -> String {
    path.file_name().and_then(|n| n.to_str()).expect("a UTF-8 file name").to_owned()
}

fn stem(path: &Path) -> String {
    path.file_stem().and_then(|n| n.to_str()).expect("a UTF-8 file name").to_owned()
}

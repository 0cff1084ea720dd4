//! Runs Flux `testcase`s (as in the Flux project's `stdlib/**/*_test.flux`)
//! and reports which pass: a testcase passes when its program runs and
//! `testing.diff` yields no rows (it yields rows only for differences).
//!
//! ```text
//! cargo run -p flux --example testcases -- DIR [NAME_FILTER]
//! ```
//!
//! With `OXIFLUX_URL` (and `OXIFLUX_TOKEN`, `OXIFLUX_ORG`) set, each program is
//! sent to that server's `POST /api/v2/query` instead, and judged by its CSV:
//! an HTTP error, an error table, or a `_diff` row fails.

use std::path::Path;

/// The testcases of a file: (name, body), skipping those that extend another file.
fn testcases(src: &str) -> (String, Vec<(String, String)>) {
    let mut prelude = String::new();
    let mut cases = Vec::new();
    let mut rest = src;
    while let Some(at) = rest.find("\ntestcase ") {
        prelude.push_str(&rest[..at + 1]);
        let after = &rest[at + 1..];
        let header_end = after.find('{').unwrap_or(after.len());
        let header = &after[..header_end];
        let name = header.split_whitespace().nth(1).unwrap_or("?").to_owned();
        let body_start = header_end + 1;
        let end = matching_brace(&after[body_start..]).map_or(after.len(), |e| body_start + e);
        if !header.contains("extends") {
            cases.push((name, after[body_start..end].to_owned()));
        }
        rest = &after[(end + 1).min(after.len())..];
    }
    prelude.push_str(rest);
    let prelude = prelude.lines().filter(|l| !l.starts_with("package ")).collect::<Vec<_>>().join("\n");
    (prelude, cases)
}

/// The offset of the `}` closing a block that starts right before `s`.
fn matching_brace(s: &str) -> Option<usize> {
    let mut depth = 1;
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                while let Some((_, c)) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
            }
            '/' if chars.peek().map(|p| p.1) == Some('/') => {
                for (_, c) in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Where to send programs, when not run in process.
struct Remote {
    url: String,
    token: String,
    org: String,
    client: reqwest::blocking::Client,
}

fn run_remote(remote: &Remote, program: &str) -> Result<(), String> {
    let body = serde_json::json!({ "query": program, "now": "2030-01-01T00:00:00Z" });
    let r = remote
        .client
        .post(format!("{}/api/v2/query?org={}", remote.url, remote.org))
        .header("Authorization", format!("Token {}", remote.token))
        .json(&body)
        .send()
        .map_err(|e| e.to_string())?;
    let status = r.status();
    let text = r.text().map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("HTTP {status}: {text}"));
    }
    // Blocks of annotated CSV: a header row, then its rows.
    let mut diff = false;
    let mut error = false;
    for line in text.lines() {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        if line.starts_with(",result,table,") || line == ",error,reference" {
            diff = line.split(',').any(|c| c == "_diff");
            error = line == ",error,reference";
            continue;
        }
        if error {
            return Err(format!("error table: {line}"));
        }
        if diff {
            return Err(format!("a _diff row: {line}"));
        }
    }
    Ok(())
}

fn run(program: &str) -> Result<(), String> {
    let now = 1_893_456_000_000_000_000; // 2030-01-01, overridden by `option now`
    let results = flux::query(program, now, None).map_err(|e| e.to_string())?;
    for (name, tables) in &results {
        for t in tables {
            // Only `testing.diff` output (a `_diff` column) says something differs.
            if t.num_rows() > 0 && t.has("_diff") {
                let csv = flux::csv::encode(&[(name.clone(), vec![t.clone()])], &flux::csv::Dialect::default());
                return Err(format!(
                    "result {name} has rows:\n{}",
                    csv.lines().take(12).collect::<Vec<_>>().join("\n")
                ));
            }
        }
    }
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = Path::new(args.get(1).expect("usage: testcases DIR [FILTER]"));
    let filter = args.get(2).cloned().unwrap_or_default();
    let verbose = std::env::var("VERBOSE").is_ok();
    let remote = std::env::var("OXIFLUX_URL").ok().map(|url| Remote {
        url,
        token: std::env::var("OXIFLUX_TOKEN").unwrap_or_default(),
        org: std::env::var("OXIFLUX_ORG").unwrap_or_default(),
        client: reqwest::blocking::Client::new(),
    });
    let mut files: Vec<_> = std::fs::read_dir(dir).expect("reading DIR").flatten().map(|e| e.path()).collect();
    files.sort();
    let (mut pass, mut fail) = (0, 0);
    for f in files {
        if f.extension().and_then(|e| e.to_str()) != Some("flux") {
            continue;
        }
        let src = std::fs::read_to_string(&f).expect("reading a test file");
        let (prelude, cases) = testcases(&src);
        for (name, body) in cases {
            let file = f.file_name().and_then(|n| n.to_str()).unwrap_or("?");
            if !filter.is_empty() && !file.contains(&filter) && !name.contains(&filter) {
                continue;
            }
            let program = format!("{prelude}\n{body}");
            let outcome = match &remote {
                Some(r) => run_remote(r, &program),
                None => std::panic::catch_unwind(|| run(&program)).unwrap_or_else(|_| Err("panicked".into())),
            };
            match outcome {
                Ok(()) => {
                    pass += 1;
                    println!("PASS {file} {name}");
                }
                Err(e) => {
                    fail += 1;
                    let shown = if verbose { e } else { e.lines().next().unwrap_or("").chars().take(200).collect() };
                    println!("FAIL {file} {name}: {shown}");
                }
            }
        }
    }
    println!("{pass} passed, {fail} failed");
}

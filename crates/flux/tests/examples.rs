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

/// The packages whose every page example must run: universe and the item 2.
const PACKAGE_DIRS: &[&str] = &[
    "universe",
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
    "http/requests",
    "bitwise",
    "experimental",
    "experimental/array",
    "experimental/aggregate",
    "experimental/table",
    "experimental/json",
    "experimental/record",
    "experimental/dynamic",
    "influxdata/influxdb/monitor",
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
    "contrib/tomhollingworth/events",
];

const OUTSIDE: &str = "sends a request to a host outside this machine (tests talk to loopback only); the \
                       function is tested against loopback servers in the e2e suite (calls_out.rs)";
const SECRETS: &str = "reads the server's secret store, which only a running server has; secrets.get is \
                       tested over HTTP in the e2e suite";

/// Page examples this test cannot run, and why: (page, example title, reason).
const PACKAGE_SKIP: &[(&str, &str, &str)] = &[
    (
        "universe/covariance.md",
        "Calculate the covariance between two columns",
        "the page prints column x as whole numbers, which read back as integers; covariance takes two float columns",
    ),
    (
        "contrib/tomhollingworth/events/duration.md",
        "Compared to similar functions",
        "the page uses data without defining it",
    ),
    (
        "influxdata/influxdb/monitor/notify.md",
        "Send critical status notifications to Slack",
        "imports slack, whose calls go to Slack's servers outside this machine; notify() itself is tested over HTTP \
         with an endpoint function (e2e query.rs)",
    ),
    (
        "universe/die.md",
        "Force a script to exit with an error message",
        "the example exists to fail: die() ends the script with its message",
    ),
    (
        "universe/join.md",
        "Join data from separate data sources",
        "imports sql, a package for outside databases that oxiflux does not ship",
    ),
    ("universe/now.md", "Use the current UTC time as a query boundary", "the page uses data without defining it"),
    (
        "math/float64frombits.md",
        "Use math.float64frombits in map",
        "the page's data column is uint, which its table cannot show (the table reads back as float)",
    ),
    (
        "math/sincos.md",
        "Use math.sincos in map",
        "the page's map reads r._tag, a column its data does not have (the tag column is tag)",
    ),
    (
        "date/hour.md",
        "Return the hour in local time",
        "the page calls date.hour(t: r._time) outside any function, where no r is defined",
    ),
    (
        "csv/from.md",
        "Query annotated CSV data from file",
        "reads a file from the server's disk, which InfluxDB 2.x refuses too (no filesystem access in queries)",
    ),
    (
        "csv/from.md",
        "Query raw data from CSV file",
        "reads a file from the server's disk, which InfluxDB 2.x refuses too (no filesystem access in queries)",
    ),
    ("http/basicauth.md", "Set a basic authentication header in an HTTP POST request", OUTSIDE),
    (
        "http/endpoint.md",
        "Send an HTTP POST request for each row",
        "the page names the parameter mapfn; Flux's is mapFn (http.endpoint is tested over HTTP)",
    ),
    (
        "http/post.md",
        "Send the last reported status to a URL",
        "needs a status already in the bucket and sends it to a host outside this machine; http.post is tested against a loopback server",
    ),
    ("http/requests/do.md", "Make a GET request", OUTSIDE),
    ("http/requests/do.md", "Make a GET request that needs authorization", SECRETS),
    ("http/requests/do.md", "Make a GET request with query parameters", OUTSIDE),
    ("http/requests/get.md", "Make a GET request", OUTSIDE),
    ("http/requests/get.md", "Make a GET request and decode the JSON response", OUTSIDE),
    ("http/requests/peek.md", "Inspect the response of an HTTP request", OUTSIDE),
    ("http/requests/post.md", "Make a POST request with a JSON body and decode JSON response", OUTSIDE),
    ("http/requests/post.md", "Make a POST request with query parameters", OUTSIDE),
    (
        "experimental/histogramquantile.md",
        "Compute the 90th percentile of a histogram",
        "the page uses histogramData without defining it",
    ),
    (
        "experimental/array/tostring.md",
        "Convert an array of floats to strings",
        "the page writes NaN, which is no Flux identifier",
    ),
    ("experimental/http/get.md", "Get the status of an InfluxDB OSS instance", OUTSIDE),
    ("experimental/http/requests/do.md", "Make a GET request", OUTSIDE),
    ("experimental/http/requests/do.md", "Make a GET request that needs authorization", SECRETS),
    ("experimental/http/requests/do.md", "Make a GET request with query parameters", OUTSIDE),
    ("experimental/http/requests/get.md", "Make a GET request", OUTSIDE),
    ("experimental/http/requests/get.md", "Make a GET request and decode the JSON response", OUTSIDE),
    ("experimental/http/requests/peek.md", "Inspect the response of an HTTP request", OUTSIDE),
    ("experimental/http/requests/post.md", "Make a POST request with a JSON body and decode JSON response", OUTSIDE),
    ("experimental/influxdb/api.md", "Retrieve the health of an InfluxDB OSS instance", SECRETS),
    ("experimental/influxdb/api.md", "Create a bucket through the InfluxDB Cloud API", SECRETS),
    ("influxdata/influxdb/buckets.md", "List buckets in an InfluxDB organization", OUTSIDE),
    (
        "influxdata/influxdb/from.md",
        "Query InfluxDB using the bucket name",
        "the page leaves out range(); InfluxDB refuses an unbounded read the same way",
    ),
    (
        "influxdata/influxdb/from.md",
        "Query InfluxDB using the bucket ID",
        "the page leaves out range(); InfluxDB refuses an unbounded read the same way",
    ),
    ("influxdata/influxdb/from.md", "Query a remote InfluxDB Cloud instance", SECRETS),
    ("influxdata/influxdb/to.md", "Write data to InfluxDB", OUTSIDE),
    ("influxdata/influxdb/to.md", "Write to multiple InfluxDB buckets", "the page uses data without defining it"),
    (
        "influxdata/influxdb/v1/databases.md",
        "List databases from an InfluxDB instance",
        "lists a server's DBRP mappings, which only a running server has; v1.databases is tested over HTTP in the e2e suite",
    ),
    (
        "influxdata/influxdb/v1/json.md",
        "Convert a InfluxDB 1.x JSON query output file to a stream of tables",
        "reads a file from the server's disk, which InfluxDB 2.x refuses too",
    ),
    ("influxdata/influxdb/secrets/get.md", "Retrieve a key from the InfluxDB secret store", SECRETS),
    (
        "influxdata/influxdb/secrets/get.md",
        "Populate sensitive credentials with secrets//",
        "imports sql, a package for outside databases that oxiflux does not ship",
    ),
    (
        "runtime/version.md",
        "Return the Flux version in a stream of tables",
        "the page prints the Go build's version string, (devel); oxiflux answers its own version",
    ),
    (
        "testing/assertequals.md",
        "Test if streams of tables are different mid-script",
        "the page leaves out assertEquals' required name argument",
    ),
];

/// A real storage engine in a temporary directory, with a bucket for any
/// name a page reads or writes.
struct Engine {
    storage: storage::Storage,
    buckets: std::cell::RefCell<Vec<String>>,
    _dir: tempfile::TempDir,
}

impl Engine {
    fn id(&self, name: &str) -> u64 {
        let mut known = self.buckets.borrow_mut();
        let at = known.iter().position(|b| b == name).unwrap_or_else(|| {
            known.push(name.to_owned());
            known.len() - 1
        });
        at as u64 + 1
    }
}

impl flux::Source for Engine {
    fn bucket(&self, name: &str) -> Result<u64, flux::EvalError> {
        Ok(self.id(name))
    }
    fn bucket_id(&self, id: &str) -> Result<u64, flux::EvalError> {
        Ok(self.id(id))
    }
    fn storage(&self) -> &dyn storage::ReadApi {
        &self.storage
    }
    fn buckets(&self) -> Result<Vec<flux::BucketInfo>, flux::EvalError> {
        Ok(self
            .buckets
            .borrow()
            .iter()
            .enumerate()
            .map(|(i, name)| flux::BucketInfo {
                name: name.clone(),
                id: format!("{:016x}", i + 1),
                org_id: "0000000000000001".into(),
                retention_ns: 0,
            })
            .collect())
    }
    fn write(&self, target: &flux::WriteTarget, lines: &[u8]) -> Result<(), flux::EvalError> {
        let name = target.bucket.clone().or_else(|| target.bucket_id.clone()).unwrap_or_default();
        let t =
            storage::BucketTarget { bucket: self.id(&name), retention_ns: 0, shard_group_ns: 7 * 86_400_000_000_000 };
        let batch = storage::Batch::parse(lines, lineproto::Precision::Nanosecond)
            .map_err(|e| flux::EvalError::invalid(e.to_string()))?;
        self.storage.write(&t, &batch, NOW).map_err(|e| flux::EvalError::invalid(e.to_string()))?;
        Ok(())
    }
}

fn engine() -> std::rc::Rc<dyn flux::Source> {
    let dir = tempfile::tempdir().unwrap();
    let storage = storage::Storage::open(dir.path(), storage::StorageConfig::default()).unwrap();
    std::rc::Rc::new(Engine { storage, buckets: Default::default(), _dir: dir })
}

/// Packages some pages use without importing them (the import a reader adds).
const LEFT_OUT_IMPORTS: &[(&str, &str)] =
    &[("math.", "math"), ("sampledata.", "sampledata"), ("timezone.", "timezone"), ("array.", "array")];

fn with_left_out_imports(src: String) -> String {
    let mut out = String::new();
    for (used, path) in LEFT_OUT_IMPORTS {
        let imported = src.lines().any(|l| l.starts_with("import ") && l.contains(&format!("\"{path}\"")));
        let aliased =
            src.lines().any(|l| l.starts_with("import ") && l.contains(&format!(" {}", used.trim_end_matches('.'))));
        if src.contains(used) && !imported && !aliased {
            out.push_str(&format!("import \"{path}\"\n"));
        }
    }
    out + &src
}

#[test]
fn every_example_of_the_package_pages_runs() {
    let root = docs::stdlib_dir();
    let (mut compared, mut ran, mut skipped) = (0, 0, 0);
    let mut failures = Vec::new();
    for dir in PACKAGE_DIRS {
        let mut pages: Vec<_> = std::fs::read_dir(root.join(dir))
            .unwrap_or_else(|e| panic!("{dir}: {e}"))
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "md") && !p.ends_with("_index.md"))
            .collect();
        pages.sort();
        for path in pages {
            let page = path.strip_prefix(&root).unwrap().to_str().unwrap().to_owned();
            for e in examples(&page) {
                if PACKAGE_SKIP.iter().any(|(p, t, _)| *p == page && *t == e.title) {
                    skipped += 1;
                    continue;
                }
                let src = with_left_out_imports(program(&e));
                match flux::query(&src, NOW, Some(engine())) {
                    Err(err) => failures.push(format!("{page} — {}: {err}\n{src}", e.title)),
                    Ok(results) if !e.output.is_empty() => {
                        let got: Vec<DocTable> = results.iter().flat_map(|(_, ts)| ts.iter().map(render)).collect();
                        match compare(&got, &e.output) {
                            None => compared += 1,
                            Some(why) => failures.push(format!("{page} — {}: {why}\n{src}", e.title)),
                        }
                    }
                    Ok(_) => ran += 1,
                }
            }
        }
    }
    eprintln!(
        "{compared} examples give their page's tables, {ran} more run, {skipped} skipped, {} fail",
        failures.len()
    );
    assert!(compared + ran >= 350, "only {} examples found", compared + ran);
    assert!(failures.is_empty(), "{} failing examples:\n\n{}", failures.len(), failures.join("\n\n"));
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

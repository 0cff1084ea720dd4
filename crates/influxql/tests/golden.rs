//! Our parser against answers recorded from a real InfluxDB 1.6.7
//! (`tests/golden/parse.tsv`, re-recorded by `tests/golden/record_parse.py`).

/// Where InfluxDB 2.x, whose parser (influxql v1.2) is newer than 1.6.7's, answers otherwise — or
/// where we deliberately do: the query, our answer, and why.
const DIFFERENCES: &[(&str, &str, &str)] = &[
    (
        "SHOW MEASUREMENTS ON",
        "error parsing query: found EOF, expected identifier or * at line 1, char 22",
        "2.x accepts `ON *` (and `ON db.*`) and says so",
    ),
    (
        "SHOW TAG KEYS WITH KEY",
        "error parsing query: found EOF, expected IN, =, =~ at line 1, char 24",
        "2.x parses `SHOW TAG KEYS ... WITH KEY ...`; 1.6.7 did not",
    ),
    (
        "SELECT value FROM cpu /* unclosed",
        "error parsing query: bad regex:  at line 1, char 22",
        "1.6.7 hands the regex scan a whitespace token it had put back, and reports that token",
    ),
];

#[test]
fn parse_errors_read_as_influxdb_writes_them() {
    let golden = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/parse.tsv")).unwrap();
    let mut failures = Vec::new();
    let mut checked = 0;
    for line in golden.lines() {
        let (query, recorded) = line.split_once('\t').expect("query<TAB>answer");
        let ours = match influxql::parse_query(query.trim()) {
            Ok(_) => "ok".to_owned(),
            Err(e) => format!("error parsing query: {e}"),
        };
        let want = match DIFFERENCES.iter().find(|(q, _, _)| *q == query) {
            Some((_, ours_by_design, _)) => *ours_by_design,
            None => recorded,
        };
        checked += 1;
        if ours != want {
            failures.push(format!("{query}\n  want: {want}\n  ours: {ours}"));
        }
    }
    assert!(checked > 150, "{checked} queries");
    assert!(failures.is_empty(), "{} of {checked} differ:\n{}", failures.len(), failures.join("\n"));
}

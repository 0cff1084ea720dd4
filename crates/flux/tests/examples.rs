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

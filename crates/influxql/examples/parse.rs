//! Parses each line of standard input as a query; prints `ok` or the error
//! as InfluxDB words it (for comparing with a real influxd).

use std::io::BufRead;

fn main() {
    for line in std::io::stdin().lock().lines().map_while(Result::ok) {
        match influxql::parse_query(line.trim()) {
            Ok(_) => println!("ok"),
            Err(e) => println!("error parsing query: {e}"),
        }
    }
}

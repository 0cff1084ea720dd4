//! Flux's profilers: what `option profiler.enabledProfilers = ["query",
//! "operator"]` asks of a query. The executor labels the plan's operations
//! (`exec::profile_of`) and times each call while a [`Profile`] is set on the
//! interpreter; the profile then reads as the columns of the
//! `profiler/query` and `profiler/operator` tables InfluxDB adds to a
//! query's answer, in the result `_profiler`. It knows the plan only as
//! numbered operations, so it depends on nothing else of the runtime.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use arrow::array::{ArrayRef, Float64Array, Int64Array, StringArray};

/// The result the profilers' tables belong to.
pub const RESULT: &str = "_profiler";

/// One operation of the plan, and how long its calls took.
#[derive(Debug, Clone)]
struct Operator {
    kind: String,
    label: String,
    inputs: Vec<usize>,
    count: i64,
    min: Duration,
    max: Duration,
    sum: Duration,
}

/// The plan of a query, labelled as it was planned, with each operation's timings.
#[derive(Debug, Default)]
pub struct Profile {
    operators: RefCell<Vec<Operator>>,
    /// An operation's index by the address of its node in the plan.
    by_node: RefCell<HashMap<usize, usize>>,
    /// Rows and bytes storage handed the query's scans.
    scanned_values: Cell<u64>,
    scanned_bytes: Cell<u64>,
}

/// What the query as a whole took, measured by whoever ran it.
#[derive(Debug, Clone, Copy, Default)]
pub struct QueryTimes {
    pub total: Duration,
    pub compile: Duration,
    pub queue: Duration,
    /// Evaluating the program into the plan of streams it runs.
    pub plan: Duration,
    pub execute: Duration,
    pub max_allocated: u64,
    pub total_allocated: u64,
}

impl Profile {
    /// The operation at `node` (an address in the plan), if it has one.
    pub fn index(&self, node: usize) -> Option<usize> {
        self.by_node.borrow().get(&node).copied()
    }

    /// Adds the operation at `node`, of `kind`, fed by the operations
    /// `inputs`; labelled by its kind and its place in the plan (`range3`).
    pub fn add(&self, node: usize, kind: String, inputs: Vec<usize>) -> usize {
        let mut operators = self.operators.borrow_mut();
        let n = operators.len();
        let short = kind.split(|c: char| !c.is_alphanumeric()).next().unwrap_or("op").to_owned();
        operators.push(Operator {
            label: format!("{short}{n}"),
            kind,
            inputs,
            count: 0,
            min: Duration::MAX,
            max: Duration::ZERO,
            sum: Duration::ZERO,
        });
        self.by_node.borrow_mut().insert(node, n);
        n
    }

    /// Counts one call of the operation `n`, which took `took`.
    pub fn record(&self, n: usize, took: Duration) {
        let mut operators = self.operators.borrow_mut();
        let op = &mut operators[n];
        op.count += 1;
        op.min = op.min.min(took);
        op.max = op.max.max(took);
        op.sum += took;
    }

    /// Counts what a scan read from storage: `rows` values in `bytes`.
    pub fn scanned(&self, rows: usize, bytes: u64) {
        self.scanned_values.set(self.scanned_values.get().saturating_add(rows as u64));
        self.scanned_bytes.set(self.scanned_bytes.get().saturating_add(bytes));
    }

    /// The plan as a Graphviz digraph, as Flux writes `flux/query-plan`.
    pub fn plan(&self) -> String {
        let operators = self.operators.borrow();
        let mut out = String::from("digraph {\n");
        for op in operators.iter() {
            let _ = writeln!(out, "  {:?}", op.label);
        }
        out.push('\n');
        for op in operators.iter() {
            for &input in &op.inputs {
                let _ = writeln!(out, "  {:?} -> {:?}", operators[input].label, op.label);
            }
        }
        out.push_str("}\n");
        out
    }

    /// The `profiler/query` table's columns (its group key `_measurement`):
    /// one row for the whole query.
    pub fn query_columns(&self, times: &QueryTimes) -> Vec<(String, ArrayRef)> {
        let nanos = |d: Duration| -> ArrayRef {
            Arc::new(Int64Array::from(vec![i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)])) as ArrayRef
        };
        let bytes = |b: u64| -> ArrayRef { Arc::new(Int64Array::from(vec![i64::try_from(b).unwrap_or(i64::MAX)])) };
        vec![
            ("_measurement".into(), Arc::new(StringArray::from(vec!["profiler/query"])) as ArrayRef),
            ("TotalDuration".into(), nanos(times.total)),
            ("CompileDuration".into(), nanos(times.compile)),
            ("QueueDuration".into(), nanos(times.queue)),
            ("PlanDuration".into(), nanos(times.plan)),
            // Nothing is requeued, and a query runs on the one thread it was given.
            ("RequeueDuration".into(), nanos(Duration::ZERO)),
            ("ExecuteDuration".into(), nanos(times.execute)),
            ("Concurrency".into(), Arc::new(Int64Array::from(vec![1]))),
            ("MaxAllocated".into(), bytes(times.max_allocated)),
            ("TotalAllocated".into(), bytes(times.total_allocated)),
            // The profile is written only when the query ran without an error.
            ("RuntimeErrors".into(), Arc::new(StringArray::from(vec![None::<&str>]))),
            ("flux/query-plan".into(), Arc::new(StringArray::from(vec![self.plan()]))),
            ("influxdb/scanned-bytes".into(), bytes(self.scanned_bytes.get())),
            ("influxdb/scanned-values".into(), bytes(self.scanned_values.get())),
        ]
    }

    /// The `profiler/operator` table's columns (its group key
    /// `_measurement`): a row for each operation that ran.
    pub fn operator_columns(&self) -> Vec<(String, ArrayRef)> {
        let operators = self.operators.borrow();
        let ran: Vec<&Operator> = operators.iter().filter(|op| op.count > 0).collect();
        let nanos = |d: Duration| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX);
        let int = |f: &dyn Fn(&Operator) -> i64| -> ArrayRef {
            Arc::new(Int64Array::from(ran.iter().map(|op| f(op)).collect::<Vec<_>>()))
        };
        let text = |f: &dyn Fn(&Operator) -> String| -> ArrayRef {
            Arc::new(StringArray::from(ran.iter().map(|op| f(op)).collect::<Vec<_>>()))
        };
        vec![
            ("_measurement".into(), text(&|_| "profiler/operator".to_owned())),
            ("Type".into(), text(&|op| op.kind.clone())),
            ("Label".into(), text(&|op| op.label.clone())),
            ("Count".into(), int(&|op| op.count)),
            ("MinDuration".into(), int(&|op| nanos(op.min))),
            ("MaxDuration".into(), int(&|op| nanos(op.max))),
            ("DurationSum".into(), int(&|op| nanos(op.sum))),
            (
                "MeanDuration".into(),
                Arc::new(Float64Array::from(
                    ran.iter().map(|op| nanos(op.sum) as f64 / op.count as f64).collect::<Vec<_>>(),
                )),
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::Array;

    use super::*;

    #[test]
    fn an_operation_is_counted_call_by_call() {
        let profile = Profile::default();
        let n = profile.add(1, "tables".into(), Vec::new());
        assert_eq!(profile.index(1), Some(n));
        assert_eq!(profile.plan(), "digraph {\n  \"tables0\"\n\n}\n");
        profile.record(n, Duration::from_nanos(5));
        profile.record(n, Duration::from_nanos(15));
        let columns = profile.operator_columns();
        let column = |name: &str| columns.iter().find(|(c, _)| c == name).map(|(_, a)| Arc::clone(a)).unwrap();
        assert_eq!(column("Count").len(), 1);
        let mean = column("MeanDuration");
        assert_eq!(mean.as_any().downcast_ref::<Float64Array>().unwrap().value(0), 10.0);
        let count = column("Count");
        assert_eq!(count.as_any().downcast_ref::<Int64Array>().unwrap().value(0), 2);
    }
}

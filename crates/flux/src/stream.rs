//! Streams of tables as plans: a stream value says how to produce its tables
//! (stored tables, a storage scan, or an operation over other streams), and
//! runs only when a result needs it. Tables then flow one at a time through
//! per-table operations to the result's sink, so a large result never has to
//! be held whole; operations that need every table (group, union, ...) gather
//! their input first.

use std::fmt;
use std::rc::Rc;

use crate::interp::{EvalError, EvalResult, Interp};
use crate::limits::Reservation;
use crate::table::Table;

pub enum Stream {
    Tables(Rc<Vec<Table>>),
    Scan(ScanSpec),
    /// A read from another server (`from` with a `host`), bounded by `range`.
    Remote(crate::outbound::RemoteRead),
    Op {
        name: &'static str,
        inputs: Vec<Rc<Stream>>,
        op: Op,
        /// The time bounds of the nearest `range` upstream, which windows keep to.
        bounds: Option<(i64, i64)>,
    },
}

pub type PerTableFn = dyn Fn(&mut Interp, Table) -> EvalResult<Vec<Table>>;
pub type WholeFn = dyn Fn(&mut Interp, Vec<Vec<Table>>) -> EvalResult<Vec<Table>>;

pub enum Op {
    /// Each input table on its own, giving any number of tables.
    PerTable(Rc<PerTableFn>),
    /// Every table of every input at once.
    Whole(Rc<WholeFn>),
}

/// A storage read not yet run, so that `range`, `filter` and window aggregates
/// can narrow it before any data is read.
#[derive(Debug, Clone)]
pub struct ScanSpec {
    pub bucket_name: String,
    pub bucket: u64,
    pub range: Option<(i64, i64)>,
    pub predicate: storage::Predicate,
    pub window: Option<WindowSpec>,
    /// A `group()` applied to what the scan reads.
    pub group: Option<GroupSpec>,
}

/// `group(columns:, mode:)`.
#[derive(Debug, Clone)]
pub struct GroupSpec {
    pub columns: Vec<String>,
    pub except: bool,
}

impl GroupSpec {
    /// The key columns for a table with these columns.
    pub fn key_of(&self, names: &[String]) -> Vec<String> {
        if self.except {
            names.iter().filter(|c| !self.columns.contains(c)).cloned().collect()
        } else {
            self.columns.clone()
        }
    }
}

/// A window aggregate storage runs inside the scan.
#[derive(Debug, Clone)]
pub struct WindowSpec {
    pub every: i64,
    pub offset: i64,
    pub aggregate: storage::Aggregate,
    pub create_empty: bool,
    /// `aggregateWindow` (one table per series, `_time` set from `time_src`)
    /// or a bare aggregate (one row per series: `every` spans the range).
    pub shape: WindowShape,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowShape {
    AggregateWindow { time_from_start: bool },
    Bare,
}

impl fmt::Debug for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Op::PerTable(_) => "PerTable",
            Op::Whole(_) => "Whole",
        })
    }
}

impl fmt::Debug for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stream::Tables(t) => write!(f, "Tables({})", t.len()),
            Stream::Scan(s) => write!(f, "Scan({s:?})"),
            Stream::Remote(r) => write!(f, "Remote({} {:?})", r.host, r.bucket),
            Stream::Op { name, inputs, .. } => {
                f.debug_struct("Op").field("name", name).field("inputs", inputs).finish()
            }
        }
    }
}

pub type Sink<'a> = dyn FnMut(&mut Interp, Table) -> EvalResult<()> + 'a;

impl Stream {
    pub fn tables(t: Vec<Table>) -> Rc<Stream> {
        Rc::new(Stream::Tables(Rc::new(t)))
    }

    pub fn per_table(
        name: &'static str,
        input: Rc<Stream>,
        f: impl Fn(&mut Interp, Table) -> EvalResult<Vec<Table>> + 'static,
    ) -> Rc<Stream> {
        let bounds = input.bounds();
        Rc::new(Stream::Op { name, inputs: vec![input], op: Op::PerTable(Rc::new(f)), bounds })
    }

    /// A per-table operation that sets new bounds (`range`).
    pub fn bounded(
        name: &'static str,
        input: Rc<Stream>,
        bounds: (i64, i64),
        f: impl Fn(&mut Interp, Table) -> EvalResult<Vec<Table>> + 'static,
    ) -> Rc<Stream> {
        Rc::new(Stream::Op { name, inputs: vec![input], op: Op::PerTable(Rc::new(f)), bounds: Some(bounds) })
    }

    pub fn whole(
        name: &'static str,
        inputs: Vec<Rc<Stream>>,
        f: impl Fn(&mut Interp, Vec<Vec<Table>>) -> EvalResult<Vec<Table>> + 'static,
    ) -> Rc<Stream> {
        let bounds = inputs.first().and_then(|i| i.bounds());
        Rc::new(Stream::Op { name, inputs, op: Op::Whole(Rc::new(f)), bounds })
    }

    /// The time bounds of the nearest `range` upstream, if any.
    pub fn bounds(&self) -> Option<(i64, i64)> {
        match self {
            Stream::Tables(_) => None,
            Stream::Scan(spec) => spec.range,
            Stream::Remote(r) => r.range,
            Stream::Op { bounds, .. } => *bounds,
        }
    }
}

fn named(name: &str, e: EvalError) -> EvalError {
    if e.message.starts_with(name) && e.message[name.len()..].starts_with(':') {
        e
    } else {
        EvalError { message: format!("{name}: {}", e.message) }
    }
}

/// Runs a stream, handing each table to `sink` as it is made.
pub fn execute(i: &mut Interp, s: &Stream, sink: &mut Sink<'_>) -> EvalResult<()> {
    match s {
        Stream::Tables(ts) => {
            for t in ts.iter() {
                i.budget.check_time()?;
                sink(i, t.clone())?;
            }
            Ok(())
        }
        Stream::Scan(spec) => crate::universe::run_scan(i, spec, sink),
        Stream::Remote(r) => crate::outbound::run_remote(i, r, sink),
        Stream::Op { name, inputs, op: Op::PerTable(f), .. } => execute(i, &inputs[0], &mut |i, t| {
            i.budget.check_time()?;
            let outs = f(i, t).map_err(|e| named(name, e))?;
            i.budget.check_time()?;
            for out in outs {
                sink(i, out)?;
            }
            Ok(())
        }),
        Stream::Op { name, inputs, op: Op::Whole(f), .. } => {
            let mut all = Vec::with_capacity(inputs.len());
            let mut held = Vec::new();
            for input in inputs {
                all.push(gather(i, input, &mut held)?);
            }
            i.budget.check_time()?;
            let outs = f(i, all).map_err(|e| named(name, e))?;
            drop(held);
            let _held = i.budget.reserve(|| outs.iter().map(Table::memory_size).sum())?;
            for out in outs {
                i.budget.check_time()?;
                sink(i, out)?;
            }
            Ok(())
        }
    }
}

/// Runs a stream and gathers its tables.
pub fn collect(i: &mut Interp, s: &Stream) -> EvalResult<Vec<Table>> {
    gather(i, s, &mut Vec::new())
}

/// Gathers a stream's tables, counting each as held by the query until `held` is dropped.
fn gather(i: &mut Interp, s: &Stream, held: &mut Vec<Reservation>) -> EvalResult<Vec<Table>> {
    let mut out = Vec::new();
    execute(i, s, &mut |i, t| {
        held.push(i.budget.reserve(|| t.memory_size())?);
        out.push(t);
        Ok(())
    })?;
    Ok(out)
}

//! Streams of tables as plans: a stream value says how to produce its tables
//! (stored tables, a storage scan, another source of tables, or an operation
//! over other streams), and runs only when a result needs it. Tables then flow one at a time through
//! per-table operations to the result's sink, so a large result never has to
//! be held whole; operations that need every table (group, union, ...) gather
//! their input first.

use std::fmt;
use std::rc::Rc;

use crate::error::EvalResult;
use crate::interp::Interp;
use crate::scan::ScanSpec;
use crate::table::Table;

pub enum Stream {
    Tables(Rc<Vec<Table>>),
    Scan(ScanSpec),
    /// Tables from a source the library defines (a read from another server).
    Source(Rc<dyn TableSource>),
    Op {
        name: &'static str,
        inputs: Vec<Rc<Stream>>,
        op: Op,
        /// The time bounds of the nearest `range` upstream, which windows keep to.
        bounds: Option<(i64, i64)>,
    },
}

/// A source of tables other than storage, defined by the library that makes
/// it (`from` with a `host` reads another server): the executor runs it
/// without knowing what it is.
pub trait TableSource {
    /// What it reads, for plans and errors.
    fn describe(&self) -> String;
    /// The time bounds it reads within, once a `range` has given them.
    fn bounds(&self) -> Option<(i64, i64)>;
    /// This source reading only `[start, stop)`, when it can take a `range`
    /// itself (so that the range goes to where the data is).
    fn with_range(&self, start: i64, stop: i64) -> Option<Rc<dyn TableSource>>;
    /// Produces its tables, handing each to `sink`.
    fn execute(&self, i: &mut Interp, sink: &mut Sink<'_>) -> EvalResult<()>;
}

pub type PerTableFn = dyn Fn(&mut Interp, Table) -> EvalResult<Vec<Table>>;
pub type WholeFn = dyn Fn(&mut Interp, Vec<Vec<Table>>) -> EvalResult<Vec<Table>>;

pub enum Op {
    /// Each input table on its own, giving any number of tables.
    PerTable(Rc<PerTableFn>),
    /// Every table of every input at once.
    Whole(Rc<WholeFn>),
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
            Stream::Source(s) => write!(f, "Source({})", s.describe()),
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
            Stream::Source(s) => s.bounds(),
            Stream::Op { bounds, .. } => *bounds,
        }
    }
}

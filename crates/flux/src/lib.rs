//! Flux, the language of InfluxDB 2.x: syntax first.
//!
//! [`parse`] turns source text into an [`ast::Package`] whose JSON form (serde)
//! is the shape `POST /api/v2/query/ast` returns in InfluxDB: node types named
//! as in Flux, each with its `location` (line and column, 1-based, and the
//! source text it spans). Syntax errors carry line and column.
//!
//! [`eval`] runs a program over Flux values with Flux's null rules; tables and
//! the standard library's transformations come in later slices of the Flux work.

pub mod ast;
mod builtins;
pub mod check;
pub mod csv;
mod influxdb;
pub mod interp;
mod lexer;
pub mod limits;
pub mod location;
pub mod outbound;
mod packages;
mod parser;
mod pushdown;
pub mod stream;
pub mod table;
mod transform;
mod universe;
pub mod value;
mod vector;

pub use interp::{EvalError, Interp};
pub use lexer::Position;
pub use limits::{Limits, MemoryPool};
pub use parser::{ParseError, parse, parse_file};
pub use universe::{BucketInfo, DatabaseInfo, Source, WriteTarget};
pub use value::Value;

/// A Flux error: a syntax error before running, or an error while running.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// Errors found before running: undefined names, wrong arguments.
    #[error(transparent)]
    Check(#[from] check::SemanticErrors),
    #[error(transparent)]
    Eval(#[from] EvalError),
}

/// Parses and runs a program with `now` (nanoseconds since the epoch) as `now()`;
/// the value of its last expression statement.
pub fn eval(src: &str, now: i64) -> Result<Value, Error> {
    let program = parse(src)?;
    let mut interp = Interp::new(now);
    Ok(interp.run(&program.files[0])?)
}

/// Runs a query, handing each result table to `sink` with its result name as
/// it is made: the explicit `yield`s in order, then any other stream a
/// top-level statement produced, as `_result`. The query stops with an error
/// when it would go beyond `limits`.
pub fn run(
    src: &str,
    now: i64,
    source: Option<std::rc::Rc<dyn Source>>,
    limits: &Limits,
    sink: &mut dyn FnMut(&str, table::Table) -> Result<(), EvalError>,
) -> Result<(), Error> {
    let program = parse(src)?;
    let mut interp = Interp::new(now);
    check::check(&mut interp, &program.files[0])?;
    interp.source = source;
    interp.budget = limits::Budget::new(limits);
    interp.run(&program.files[0])?;
    let mut results = std::mem::take(&mut interp.results);
    for s in std::mem::take(&mut interp.statements) {
        if results.iter().any(|(_, r)| std::rc::Rc::ptr_eq(r, &s)) {
            continue;
        }
        results.push(("_result".to_owned(), s));
    }
    for (name, s) in results {
        stream::execute(&mut interp, &s, &mut |_, t| sink(&name, t))?;
    }
    Ok(())
}

/// Finds what is wrong with a program without running it: its syntax error,
/// or every undefined name and wrong argument.
pub fn analyze(src: &str) -> Result<(), Error> {
    let program = parse(src)?;
    check::check(&mut Interp::new(0), &program.files[0])?;
    Ok(())
}

/// Runs a query and gathers its results: (name, tables) in result order.
pub fn query(
    src: &str,
    now: i64,
    source: Option<std::rc::Rc<dyn Source>>,
) -> Result<Vec<(String, Vec<table::Table>)>, Error> {
    let mut out: Vec<(String, Vec<table::Table>)> = Vec::new();
    run(src, now, source, &Limits::default(), &mut |name, t| {
        match out.last_mut() {
            Some((n, tables)) if n == name => tables.push(t),
            _ => out.push((name.to_owned(), vec![t])),
        }
        Ok(())
    })?;
    Ok(out)
}

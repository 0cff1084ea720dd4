//! Flux, the language of InfluxDB 2.x: the face the server and the tests use.
//!
//! [`eval`] runs a program for its value, [`run`] runs a query and hands each
//! result table on as it is made, [`query`] gathers the results, [`analyze`]
//! finds what is wrong with a program without running it, and [`suggestions`]
//! lists the universe's functions. Each puts the three crates together:
//! `flux-syntax` parses, `flux-runtime` checks and runs, handed the standard
//! library of `flux-stdlib`.
//!
//! Not here: any of the language itself; this crate only joins its parts.

use std::rc::Rc;

pub use flux_runtime::{
    BucketInfo, DatabaseInfo, EvalError, Interp, Library, Limits, MemoryPool, Source, Value, WriteTarget, check, csv,
    outbound, table, value,
};
pub use flux_stdlib::Stdlib;
pub use flux_syntax::{ParseError, Position, ast, parse, parse_file};

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
    let mut interp = Interp::new(now, Stdlib::shared());
    Ok(interp.run(&program.files[0])?)
}

/// Runs a query, handing each result table to `sink` with its result name as
/// it is made: the explicit `yield`s in order, then any other stream a
/// top-level statement produced, as `_result`. The query stops with an error
/// when it would go beyond `limits`.
pub fn run(
    src: &str,
    now: i64,
    source: Option<Rc<dyn Source>>,
    limits: &Limits,
    sink: &mut dyn FnMut(&str, table::Table) -> Result<(), EvalError>,
) -> Result<(), Error> {
    let program = parse(src)?;
    let mut interp = Interp::new(now, Stdlib::shared());
    check::check(&mut interp, &program.files[0])?;
    interp.source = source;
    interp.budget = flux_runtime::limits::Budget::new(limits);
    interp.run(&program.files[0])?;
    let mut results = std::mem::take(&mut interp.results);
    for s in std::mem::take(&mut interp.statements) {
        if results.iter().any(|(_, r)| Rc::ptr_eq(r, &s)) {
            continue;
        }
        results.push(("_result".to_owned(), s));
    }
    for (name, s) in results {
        flux_runtime::exec::execute(&mut interp, &s, &mut |_, t| sink(&name, t))?;
    }
    Ok(())
}

/// Finds what is wrong with a program without running it: its syntax error,
/// or every undefined name and wrong argument.
pub fn analyze(src: &str) -> Result<(), Error> {
    let program = parse(src)?;
    check::check(&mut Interp::new(0, Stdlib::shared()), &program.files[0])?;
    Ok(())
}

/// Runs a query and gathers its results: (name, tables) in result order.
pub fn query(src: &str, now: i64, source: Option<Rc<dyn Source>>) -> Result<Vec<(String, Vec<table::Table>)>, Error> {
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

/// The universe's functions, sorted by name, each with its parameters and
/// their kinds as Flux's completer names them: what
/// `GET /api/v2/query/suggestions` lists.
pub fn suggestions() -> Vec<(String, Vec<(String, &'static str)>)> {
    check::suggestions(Stdlib::shared())
}

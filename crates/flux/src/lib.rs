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
use std::time::{Duration, Instant};

pub use flux_runtime::{
    BucketInfo, DatabaseInfo, EvalError, Interp, Library, Limits, MemoryPool, Source, Value, WriteTarget, check, csv,
    outbound, profile, stream, table, value,
};
pub use flux_stdlib::Stdlib;
pub use flux_syntax::{ParseError, Position, ast, json, parse, parse_file};

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

/// A query to run: its text, what is evaluated before it, and when it runs.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub query: &'a str,
    /// Flux evaluated first, in the query's own scope (its imports joined to
    /// the query's): what a query request's `extern` and `params` become.
    pub prelude: Option<&'a str>,
    /// `now()`: nanoseconds since the epoch.
    pub now: i64,
    /// How long the query waited for its turn, for the query profiler.
    pub queued: Duration,
}

impl<'a> Request<'a> {
    pub fn new(query: &'a str, now: i64) -> Self {
        Self { query, prelude: None, now, queued: Duration::ZERO }
    }
}

/// The program a request runs: the prelude's imports and statements, then
/// the query's. Each part keeps its own line numbers in errors.
pub fn program(req: &Request<'_>) -> Result<ast::File, Error> {
    let mut file = parse_file(req.query)?;
    if let Some(prelude) = req.prelude {
        let first = parse_file(prelude).map_err(|e| ParseError { message: format!("extern: {}", e.message), ..e })?;
        let mut imports = first.imports;
        for import in file.imports.drain(..) {
            let same = |i: &ast::ImportDeclaration| {
                i.path.value == import.path.value
                    && i.alias.as_ref().map(|a| &a.name) == import.alias.as_ref().map(|a| &a.name)
            };
            if !imports.iter().any(same) {
                imports.push(import);
            }
        }
        file.imports = imports;
        file.body.splice(0..0, first.body);
    }
    Ok(file)
}

/// Runs a query, handing each result table to `sink` with its result name as
/// it is made: the explicit `yield`s in order, then any other stream a
/// top-level statement produced, as `_result`; last, when the program enables
/// profilers (`option profiler.enabledProfilers`), their tables in the result
/// `_profiler`. The query stops with an error when it would go beyond `limits`.
pub fn run(
    req: &Request<'_>,
    source: Option<Rc<dyn Source>>,
    limits: &Limits,
    sink: &mut dyn FnMut(&str, table::Table) -> Result<(), EvalError>,
) -> Result<(), Error> {
    let began = Instant::now();
    let file = program(req)?;
    let mut interp = Interp::new(req.now, Stdlib::shared());
    check::check(&mut interp, &file)?;
    interp.source = source;
    interp.budget = flux_runtime::limits::Budget::new(limits);
    let compiled = Instant::now();
    interp.run(&file)?;
    let mut results = std::mem::take(&mut interp.results);
    for s in std::mem::take(&mut interp.statements) {
        if results.iter().any(|(_, r)| Rc::ptr_eq(r, &s)) {
            continue;
        }
        results.push(("_result".to_owned(), s));
    }
    let profilers = enabled_profilers(&interp);
    if !profilers.is_empty() {
        let streams: Vec<Rc<stream::Stream>> = results.iter().map(|(_, s)| Rc::clone(s)).collect();
        interp.profile = Some(flux_runtime::exec::profile_of(&streams));
        interp.budget.measure();
    }
    let planned = Instant::now();
    for (name, s) in results {
        flux_runtime::exec::execute(&mut interp, &s, &mut |_, t| sink(&name, t))?;
    }
    if let Some(profile) = interp.profile.take() {
        let done = Instant::now();
        let times = profile::QueryTimes {
            total: req.queued + (done - began),
            compile: compiled - began,
            queue: req.queued,
            plan: planned - compiled,
            execute: done - planned,
            max_allocated: interp.budget.peak(),
            total_allocated: interp.budget.total(),
        };
        let key = ["_measurement".to_owned()];
        for p in profilers {
            let columns = match p.as_str() {
                "query" => profile.query_columns(&times),
                "operator" => profile.operator_columns(),
                _ => continue,
            };
            sink(profile::RESULT, table::Table::new(&key, columns)?)?;
        }
    }
    Ok(())
}

/// The profilers the program enabled, known ones only, each once, in order.
fn enabled_profilers(interp: &Interp) -> Vec<String> {
    let Some(scope) = interp.package_scopes.get("profiler") else { return Vec::new() };
    let Some(Value::Array(names)) = scope.get("enabledProfilers") else { return Vec::new() };
    let mut out: Vec<String> = Vec::new();
    for name in names.iter() {
        if let Value::String(n) = name
            && matches!(n.as_str(), "query" | "operator")
            && !out.contains(n)
        {
            out.push(n.clone());
        }
    }
    out
}

/// Finds what is wrong with a program without running it: its syntax error,
/// or every undefined name and wrong argument.
pub fn analyze(req: &Request<'_>) -> Result<(), Error> {
    let file = program(req)?;
    check::check(&mut Interp::new(0, Stdlib::shared()), &file)?;
    Ok(())
}

/// Runs a query and gathers its results: (name, tables) in result order.
pub fn query(src: &str, now: i64, source: Option<Rc<dyn Source>>) -> Result<Vec<(String, Vec<table::Table>)>, Error> {
    let mut out: Vec<(String, Vec<table::Table>)> = Vec::new();
    run(&Request::new(src, now), source, &Limits::default(), &mut |name, t| {
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

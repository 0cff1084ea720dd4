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
pub mod csv;
pub mod interp;
mod lexer;
mod parser;
pub mod table;
mod universe;
pub mod value;

pub use interp::{EvalError, Interp};
pub use lexer::Position;
pub use parser::{ParseError, parse, parse_file};
pub use universe::Source;
pub use value::Value;

/// A Flux error: a syntax error before running, or an error while running.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Parse(#[from] ParseError),
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

/// Runs a query and returns its named results, in yield order: the explicit
/// `yield`s, or, without any, the last stream the program produced as `_result`.
pub fn query(src: &str, now: i64, source: std::rc::Rc<dyn Source>) -> Result<Vec<(String, Vec<table::Table>)>, Error> {
    let program = parse(src)?;
    let mut interp = Interp::new(now);
    interp.source = Some(source);
    let last = interp.run(&program.files[0])?;
    let mut results = std::mem::take(&mut interp.results);
    if results.is_empty()
        && let Value::Stream(_) = last
    {
        results.push(("_result".to_owned(), last));
    }
    results
        .into_iter()
        .map(|(name, v)| match v {
            Value::Stream(s) => Ok((name, universe::materialize(&interp, &s)?)),
            other => {
                Err(Error::Eval(EvalError { message: format!("yield: expected a stream, got {}", other.type_name()) }))
            }
        })
        .collect()
}

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
pub mod interp;
mod lexer;
mod parser;
pub mod table;
pub mod value;

pub use interp::{EvalError, Interp};
pub use lexer::Position;
pub use parser::{ParseError, parse, parse_file};
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

//! Flux's runtime: what a parsed program means and how it runs.
//!
//! Values ([`value`]) with Flux's null rules, the interpreter over scopes
//! ([`interp`]), the checker that finds undefined names and wrong arguments
//! before anything runs ([`check`]), tables as Arrow record batches with group
//! keys ([`table`], [`group`]), streams of tables as lazy plans executed a table
//! at a time ([`stream`]), storage scans and the aggregates pushed into them
//! ([`scan`], [`pushdown`]), row functions run as Arrow kernels where they can
//! be ([`vector`]), a query's memory and time limits ([`limits`]), annotated
//! CSV both ways ([`csv`]), and the traits through which the runtime meets
//! what it does not own: the embedder's [`Source`] (buckets, storage, writes,
//! secrets, calls out) and the standard [`Library`].
//!
//! Promises: nothing here knows a standard-library function by name. The
//! interpreter and the checker are handed a [`Library`]; a source of tables
//! the library defines (a read from another server) is a
//! [`stream::TableSource`] the executor runs without knowing it.
//!
//! Not here: the standard library (`flux-stdlib`), the syntax (`flux-syntax`),
//! HTTP (the server).

pub mod check;
pub mod csv;
pub mod duration;
pub mod error;
pub mod exec;
pub mod group;
pub mod interp;
pub mod limits;
pub mod ops;
pub mod outbound;
pub mod profile;
pub mod pushdown;
pub mod scan;
pub mod signature;
pub mod source;
pub mod stream;
pub mod table;
pub mod value;
pub mod vector;

pub use error::{EvalError, EvalResult};
pub use interp::{Interp, Library};
pub use limits::{Limits, MemoryPool};
pub use source::{BucketInfo, DatabaseInfo, Source, WriteTarget};
pub use value::Value;

//! Flux's standard library, as InfluxDB users rely on it: the universe
//! (sources, transformations, aggregates, conversions), `influxdata/influxdb`
//! (buckets, `to`, `wideTo`, reads from another server) and the packages a
//! program imports, those written in Flux embedded as their `.flux` preludes
//! over natives written in Rust.
//!
//! [`Stdlib`] is the [`Library`] the runtime is handed: it installs the
//! universe, finds packages by import path, and documents each function's type
//! signature (`signatures.tsv`, taken from the Flux reference pages by
//! `signatures/extract.py`), which the checker holds arguments against.
//!
//! Not here: the language itself (values, interpreter, checker, tables,
//! streams: `flux-runtime`) and its syntax (`flux-syntax`).

mod args;
mod builtins;
mod convert;
mod influxdb;
mod location;
mod packages;
mod remote;
mod transform;
mod universe;

use std::collections::HashMap;
use std::rc::Rc;
use std::sync::{Arc, OnceLock};

use flux_runtime::error::EvalResult;
use flux_runtime::interp::{Interp, Scope};
use flux_runtime::signature::{Signature, signature_table};
use flux_runtime::{Library, Value};

/// The standard library.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stdlib;

impl Stdlib {
    /// The library, shared, as interpreters take it.
    pub fn shared() -> Rc<dyn Library> {
        Rc::new(Stdlib)
    }
}

impl Library for Stdlib {
    fn install_universe(&self, universe: &Scope) {
        builtins::install(universe);
    }

    fn import(&self, interp: &mut Interp, path: &str) -> Option<EvalResult<Value>> {
        packages::import(interp, path)
    }

    fn signature(&self, package: &str, name: &str) -> Option<Arc<Signature>> {
        static TABLE: OnceLock<HashMap<(&'static str, &'static str), Arc<Signature>>> = OnceLock::new();
        let table = TABLE.get_or_init(|| signature_table(include_str!("signatures.tsv")));
        let found = table.get(&(package, name)).cloned();
        // from, buckets and to are the universe's, documented with their package.
        found.or_else(|| (package == "universe").then(|| table.get(&("influxdata/influxdb", name)).cloned()).flatten())
    }
}

/// Runs a small program against the standard library (tests of the packages).
#[cfg(test)]
pub(crate) fn eval(src: &str) -> EvalResult<Value> {
    let file = flux_syntax::parse_file(src).map_err(|e| flux_runtime::EvalError::invalid(e.to_string()))?;
    Interp::new(0, Stdlib::shared()).run(&file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_signature_of_the_table_parses() {
        let text = include_str!("signatures.tsv");
        assert_eq!(signature_table(text).len(), text.lines().count());
        let range = Stdlib.signature("universe", "range").unwrap();
        let names: Vec<(&str, bool, bool)> =
            range.params.iter().map(|p| (p.name.as_str(), p.required, p.pipe)).collect();
        assert_eq!(names, [("tables", true, true), ("start", true, false), ("stop", false, false)]);
        assert_eq!(
            Stdlib.signature("universe", "limit").unwrap().param("n").unwrap().ty,
            flux_runtime::signature::Ty::Basic("int")
        );
        assert!(Stdlib.signature("universe", "from").is_some());
    }
}

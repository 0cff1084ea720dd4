//! The table transformations of `universe`, each over a stream plan: most work
//! a table at a time on Arrow columns; a few (group, union, join, pivot across
//! tables) gather their input first.

mod aggregate;
mod columns;
mod find;
mod holt_winters;
mod join;
mod keys;
mod pivot;
mod rows;
mod selectors;
mod series;
mod tdigest;
mod technical;
mod window;

pub(crate) use window::{location_arg, truncate};

pub(crate) use aggregate::with_key_columns;
pub(crate) use join::tables_from_records;

use crate::args::Def;

pub(crate) fn install(def: Def<'_>) {
    aggregate::install(def);
    keys::install(def);
    columns::install(def);
    rows::install(def);
    pivot::install(def);
    join::install(def);
    series::install(def);
    window::install(def);
    find::install(def);
    selectors::install(def);
    technical::install(def);
    holt_winters::install(def);
}

//! Streams of tables (filled in by the table slice of the Flux work).

/// A stream of tables.
#[derive(Debug, Clone, Default)]
pub struct Stream {
    pub tables: Vec<crate::table::Table>,
}

/// One table: placeholder until the Arrow-backed tables land.
#[derive(Debug, Clone, Default)]
pub struct Table;

//! A storage read of a program not yet run ([`ScanSpec`]): `range`,
//! `filter`, `group` and window aggregates narrow it before any data is read;
//! [`crate::exec`] runs it, one table per series and field.

/// A storage read not yet run, so that `range`, `filter` and window aggregates
/// can narrow it before any data is read.
#[derive(Debug, Clone)]
pub struct ScanSpec {
    pub bucket_name: String,
    pub bucket: u64,
    pub range: Option<(i64, i64)>,
    pub predicate: storage::Predicate,
    pub window: Option<WindowSpec>,
    /// A `group()` applied to what the scan reads.
    pub group: Option<GroupSpec>,
}

/// `group(columns:, mode:)`.
#[derive(Debug, Clone)]
pub struct GroupSpec {
    pub columns: Vec<String>,
    pub except: bool,
}

impl GroupSpec {
    /// The key columns for a table with these columns.
    pub fn key_of(&self, names: &[String]) -> Vec<String> {
        if self.except {
            names.iter().filter(|c| !self.columns.contains(c)).cloned().collect()
        } else {
            self.columns.clone()
        }
    }
}

/// A window aggregate storage runs inside the scan.
#[derive(Debug, Clone)]
pub struct WindowSpec {
    pub every: i64,
    pub offset: i64,
    pub aggregate: storage::Aggregate,
    pub create_empty: bool,
    /// `aggregateWindow` (one table per series, `_time` set from `time_src`)
    /// or a bare aggregate (one row per series: `every` spans the range).
    pub shape: WindowShape,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowShape {
    AggregateWindow { time_from_start: bool },
    Bare,
}

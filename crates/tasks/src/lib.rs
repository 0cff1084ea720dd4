//! Tasks: Flux scripts run on a schedule.
//!
//! [`options`] reads (and rewrites) a script's `option task`; [`schedule`]
//! says when runs fall due.

pub mod options;
pub mod schedule;

pub use options::{OptionsUpdate, TaskOptions};
pub use schedule::{Cron, Schedule};

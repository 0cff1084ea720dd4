//! Tasks: Flux scripts run on a schedule.
//!
//! [`options`] reads (and rewrites) a script's `option task`; [`schedule`]
//! says when runs fall due; [`scheduler`] hands runs out and runs them.

pub mod options;
pub mod schedule;
pub mod scheduler;

pub use options::{OptionsUpdate, TaskOptions};
pub use schedule::{Cron, Schedule};
pub use scheduler::{Config, Executor, Scheduler};

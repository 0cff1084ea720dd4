//! Templates as InfluxDB 2.7's `pkger` reads and writes them: manifests of
//! buckets, labels, dashboards, variables, tasks, checks, notification
//! endpoints and rules and Telegraf configurations (`influx apply`,
//! `influx export`, InfluxData's community templates).
//!
//! This crate reads a manifest (JSON, YAML or Jsonnet) into checked
//! resources, each with the API body that makes it, and writes stored
//! resources back as a manifest. It stores nothing and calls nothing: the
//! server's `templates` area applies what it reads, through the API.

mod chart;
pub mod decode;
mod error;
mod export;
mod field;
mod kind;
mod names;
mod params;
mod parse;
mod spec;

use serde_json::Value;

pub use chart::Cell;
pub use decode::{DecodeError, Encoding, decode};
pub use error::{Fault, Path};
pub use export::{Exported, export_object, order_objects, to_yaml};
pub use kind::{Group, Kind};
pub use names::generated_name;
pub use parse::read;
pub use spec::Spec;

/// Values given at apply time for the template's `envRef` keys.
pub type Envs = serde_json::Map<String, Value>;

/// The API version exported objects carry.
pub const API_VERSION: &str = "influxdata.com/v2alpha1";

/// A template read and checked: its resources, in the order written.
#[derive(Debug, Clone, Default)]
pub struct Template {
    pub resources: Vec<Resource>,
    /// Env keys the template refers to that were given no value (sorted).
    pub missing_envs: Vec<String>,
    /// Secret keys the template refers to (`secretRef`).
    pub secrets: Vec<String>,
}

/// One resource of a template.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub kind: Kind,
    /// `metadata.name`: what identifies the resource within the template and its stack.
    pub meta_name: String,
    /// `spec.name`, else `metadata.name`: the name the resource gets.
    pub name: String,
    /// The object's index in the template.
    pub index: usize,
    /// `metadata.name`s of the template's labels the resource is associated with, sorted.
    pub labels: Vec<String>,
    /// The summary's `envReferences`.
    pub env_references: Vec<Value>,
    pub spec: Spec,
}

impl Resource {
    pub fn group(&self) -> Group {
        self.kind.group()
    }
}

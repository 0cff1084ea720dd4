//! What is wrong with a template: each fault with its place in the manifest
//! (`root[2].spec.charts[1].colors[0].hex`), kept as 2.7 keeps it (a list
//! of fields, each with its index or none).

use serde_json::{Value, json};

/// A place in an object: field names, each with the index it was at.
pub type Path = Vec<(String, Option<usize>)>;

/// One fault in one object of a template.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fault {
    /// The object's kind as written (`unknown` when it has none).
    pub kind: String,
    /// The path to the field: names, each with the index it was at.
    pub path: Path,
    pub reason: String,
}

impl Fault {
    /// The fault as the apply answer's `errors` lists it.
    pub fn to_json(&self) -> Value {
        let fields: Vec<&str> = self.path.iter().map(|(f, _)| f.as_str()).collect();
        let idxs: Vec<Option<usize>> = self.path.iter().map(|(_, i)| *i).collect();
        json!({ "kind": self.kind, "fields": fields, "idxs": idxs, "reason": self.reason })
    }

    /// `root[2].spec.charts[1].colors[0].hex`
    pub fn location(&self) -> String {
        let mut out = String::new();
        for (i, (field, idx)) in self.path.iter().enumerate() {
            if i > 0 {
                out.push('.');
            }
            out.push_str(field);
            if let Some(n) = idx {
                out.push_str(&format!("[{n}]"));
            }
        }
        out
    }
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "kind={} field={} reason={:?}", self.kind, self.location(), self.reason)
    }
}

/// Faults found while reading one object, at paths relative to the object.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    pub(crate) list: Vec<(Path, String)>,
}

impl Faults {
    /// A fault at a dotted path, each segment optionally `name[i]`.
    pub(crate) fn add(&mut self, path: &str, reason: impl Into<String>) {
        self.list.push((parse_path(path), reason.into()));
    }

    /// The faults of a nested part, found at `prefix`.
    pub(crate) fn nest(&mut self, prefix: &str, inner: Faults) {
        for (path, reason) in inner.list {
            let mut full = parse_path(prefix);
            full.extend(path);
            self.list.push((full, reason));
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

fn parse_path(path: &str) -> Path {
    path.split('.')
        .map(|seg| match seg.split_once('[') {
            Some((name, idx)) => (name.to_owned(), idx.trim_end_matches(']').parse().ok()),
            None => (seg.to_owned(), None),
        })
        .collect()
}

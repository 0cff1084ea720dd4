//! Series identity: a measurement and its tag set, tags sorted by key; and a
//! bucket's index of the series it has seen, by ID.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use lineproto::PointRef;

/// The five field types of InfluxDB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    Float,
    Integer,
    #[serde(rename = "unsigned")]
    UInteger,
    String,
    Boolean,
}

impl FieldType {
    /// The name InfluxDB uses in its messages.
    pub fn name(self) -> &'static str {
        match self {
            FieldType::Float => "float",
            FieldType::Integer => "integer",
            FieldType::UInteger => "unsigned",
            FieldType::String => "string",
            FieldType::Boolean => "boolean",
        }
    }

    /// The field type stored as this Arrow type.
    pub(crate) fn of_arrow(t: &arrow::datatypes::DataType) -> Option<Self> {
        use arrow::datatypes::DataType;
        Some(match t {
            DataType::Float64 => FieldType::Float,
            DataType::Int64 => FieldType::Integer,
            DataType::UInt64 => FieldType::UInteger,
            DataType::Utf8 => FieldType::String,
            DataType::Boolean => FieldType::Boolean,
            _ => return None,
        })
    }

    pub(crate) fn of(v: &lineproto::FieldValue<'_>) -> Self {
        match v {
            lineproto::FieldValue::Float(_) => FieldType::Float,
            lineproto::FieldValue::Integer(_) => FieldType::Integer,
            lineproto::FieldValue::UInteger(_) => FieldType::UInteger,
            lineproto::FieldValue::String(_) => FieldType::String,
            lineproto::FieldValue::Boolean(_) => FieldType::Boolean,
        }
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A series: measurement plus tag set (sorted by key, no duplicates).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeriesKey {
    pub measurement: String,
    pub tags: Vec<(String, String)>,
}

impl SeriesKey {
    pub fn new(measurement: impl Into<String>, mut tags: Vec<(String, String)>) -> Self {
        tags.sort();
        Self { measurement: measurement.into(), tags }
    }

    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

impl fmt::Display for SeriesKey {
    /// As InfluxDB writes a series key: `m,k1=v1,k2=v2`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.measurement)?;
        for (k, v) in &self.tags {
            write!(f, ",{k}={v}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Default)]
pub(crate) struct SeriesIndex {
    /// The series key as written in line protocol → id: a series seen before is
    /// recognised without looking at its tags again.
    by_raw: HashMap<Box<str>, u32>,
    by_key: HashMap<Arc<SeriesKey>, u32>,
    pub(crate) keys: Vec<Arc<SeriesKey>>,
}

impl SeriesIndex {
    pub(crate) fn id_for(&mut self, point: &PointRef<'_, '_>) -> u32 {
        if let Some(&id) = self.by_raw.get(point.series_key()) {
            return id;
        }
        let tags = point.tags().map(|(k, v)| (k.unescaped().into_owned(), v.unescaped().into_owned())).collect();
        let key = SeriesKey::new(point.measurement().unescaped().into_owned(), tags);
        let id = match self.by_key.get(&key) {
            Some(&id) => id,
            None => {
                let id = self.keys.len() as u32;
                let key = Arc::new(key);
                self.keys.push(Arc::clone(&key));
                self.by_key.insert(key, id);
                id
            }
        };
        self.by_raw.insert(point.series_key().into(), id);
        id
    }
}

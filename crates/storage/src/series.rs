//! Series identity: a measurement and its tag set, tags sorted by key.

use std::fmt;

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

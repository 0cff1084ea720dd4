//! A write body parsed once, on its way down: every line is checked before
//! any is used, and the parsed lines (borrowing the body) are what the apply
//! step, and whoever else reads the write (a replication's copy), read.

use lineproto::{ParseError, PointRef, Points, Precision};

/// Tag keys a point may not carry (InfluxDB refuses the whole request).
const RESERVED_TAG_KEYS: &[&str] = &["_field", "_measurement", "time"];

/// Why a write body was refused as a whole (nothing of it is written).
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// A line is not valid line protocol.
    #[error("{0}")]
    Parse(#[from] ParseError),
    /// A line carries a tag storage keeps for itself (`series`: the line's
    /// series key, cut to 256 characters).
    #[error("unable to parse '{series}': cannot use reserved tag key \"{key}\"")]
    ReservedTagKey { series: String, key: String },
}

/// A line-protocol body whose every line parses and carries no reserved tag
/// key, kept parsed: what [`crate::Storage::write`] takes.
#[derive(Debug)]
pub struct Batch<'a> {
    body: &'a [u8],
    precision: Precision,
    points: Points<'a>,
}

impl<'a> Batch<'a> {
    /// Parses `body` (timestamps in `precision`), or refuses it for its first
    /// bad line.
    pub fn parse(body: &'a [u8], precision: Precision) -> Result<Self, WriteError> {
        let mut points = Points::new(body, precision);
        while let Some(point) = points.parse_next() {
            refuse_reserved_tag_keys(&point?)?;
        }
        Ok(Self { body, precision, points })
    }

    /// The body as it came (what the write-ahead log keeps).
    pub fn body(&self) -> &'a [u8] {
        self.body
    }

    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// The points, in body order.
    pub fn lines(&self) -> lineproto::Iter<'_, 'a> {
        self.points.iter()
    }
}

fn refuse_reserved_tag_keys(point: &PointRef<'_, '_>) -> Result<(), WriteError> {
    for (k, _) in point.tags() {
        let k = k.unescaped();
        if RESERVED_TAG_KEYS.contains(&&*k) {
            let series = point.series_key().chars().take(256).collect();
            return Err(WriteError::ReservedTagKey { series, key: k.into_owned() });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_bad_line_refuses_the_body_in_influxdb_words() {
        let err = Batch::parse(b"m v=1\nm,_field=x v=2\nm v=", Precision::Nanosecond).unwrap_err();
        assert_eq!(err.to_string(), "unable to parse 'm,_field=x': cannot use reserved tag key \"_field\"");
        let err = Batch::parse(b"m v=1\nm v=\nm,time=x v=2", Precision::Nanosecond).unwrap_err();
        assert_eq!(err.to_string(), "unable to parse 'm v=': missing field value (line 2, column 5)");
    }

    #[test]
    fn a_batch_keeps_its_lines_and_body() {
        let body = b"m,t=a v=1 2\nm v=2i";
        let batch = Batch::parse(body, Precision::Second).unwrap();
        assert_eq!(batch.body(), body);
        assert_eq!(batch.precision(), Precision::Second);
        let times: Vec<Option<i64>> = batch.lines().map(|p| p.timestamp()).collect();
        assert_eq!(times, [Some(2_000_000_000), None]);
    }
}

//! Durations as checks and rules write them: Flux duration literals
//! (`1h`, `1h30m`, `5m`), kept as written.

use flux_syntax::ast::{DurationValue, Expression, Statement};

#[derive(Debug, Clone, PartialEq)]
pub struct Duration {
    pub values: Vec<DurationValue>,
}

impl Duration {
    /// Reads a Flux duration literal; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        let file = flux_syntax::parse_file(s.trim()).ok()?;
        match file.body.as_slice() {
            [Statement::ExpressionStatement { expression: Expression::DurationLiteral { values, .. }, .. }] => {
                Some(Duration { values: values.clone() })
            }
            _ => None,
        }
    }

    /// Nanoseconds, months counted as 30 days (only to compare durations).
    pub fn nanos(&self) -> i64 {
        self.values
            .iter()
            .map(|v| {
                let unit = match v.unit.as_str() {
                    "mo" => 30 * 86_400_000_000_000,
                    "y" => 365 * 86_400_000_000_000,
                    u => time::duration::unit_nanos(u).unwrap_or(0),
                };
                v.magnitude.saturating_mul(unit)
            })
            .fold(0i64, i64::saturating_add)
    }

    pub fn literal(&self) -> Expression {
        Expression::DurationLiteral { base: Default::default(), values: self.values.clone() }
    }
}

impl std::fmt::Display for Duration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for v in &self.values {
            write!(f, "{}{}", v.magnitude, v.unit)?;
        }
        Ok(())
    }
}

//! The values a query computes with: a field's or tag's value ([`V`]), as
//! read from storage's Arrow arrays and as InfluxDB writes it in JSON.

use arrow::array::{Array, ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray, UInt64Array};
use serde_json::Value as Json;

/// A field or tag value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum V {
    F(f64),
    I(i64),
    U(u64),
    S(String),
    B(bool),
}

impl V {
    pub(crate) fn num(&self) -> Option<f64> {
        match self {
            V::F(x) => Some(*x),
            V::I(x) => Some(*x as f64),
            V::U(x) => Some(*x as f64),
            _ => None,
        }
    }

    pub(crate) fn json(&self) -> Json {
        match self {
            V::F(x) => float_json(*x),
            V::I(x) => Json::from(*x),
            V::U(x) => Json::from(*x),
            V::S(s) => Json::from(s.as_str()),
            V::B(b) => Json::from(*b),
        }
    }

    pub(crate) fn cmp(&self, other: &V) -> Option<std::cmp::Ordering> {
        match (self, other) {
            (V::S(a), V::S(b)) => Some(a.cmp(b)),
            (V::B(a), V::B(b)) => Some(a.cmp(b)),
            (V::I(a), V::I(b)) => Some(a.cmp(b)),
            (V::U(a), V::U(b)) => Some(a.cmp(b)),
            _ => self.num()?.partial_cmp(&other.num()?),
        }
    }
}

thread_local! {
    /// Set while a subquery runs: its floats keep their type in its JSON
    /// result (an integral float is not written as an integer), so that the
    /// outer query reads them as floats.
    static TYPED_FLOATS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Keeps floats typed in JSON while it lives.
pub(crate) struct TypedFloats(bool);

impl TypedFloats {
    pub(crate) fn on() -> Self {
        Self(TYPED_FLOATS.replace(true))
    }
}

impl Drop for TypedFloats {
    fn drop(&mut self) {
        TYPED_FLOATS.set(self.0);
    }
}

/// A float as Go writes it in JSON: integral values without a fraction
/// (but -0 keeps its sign, as Go's `-0` does).
fn float_json(x: f64) -> Json {
    let negative_zero = x == 0.0 && x.is_sign_negative();
    if x.fract() == 0.0 && x.abs() < 9.007_199_254_740_992e15 && !negative_zero && !TYPED_FLOATS.get() {
        Json::from(x as i64)
    } else {
        serde_json::Number::from_f64(x).map_or(Json::Null, Json::Number)
    }
}

/// The value at row `i` of a column (its type decides the kind; a type of
/// no InfluxQL value gives `None`).
pub(crate) fn value_at(col: &ArrayRef, i: usize) -> Option<V> {
    let any = col.as_any();
    if let Some(a) = any.downcast_ref::<Float64Array>() {
        Some(V::F(a.value(i)))
    } else if let Some(a) = any.downcast_ref::<Int64Array>() {
        Some(V::I(a.value(i)))
    } else if let Some(a) = any.downcast_ref::<UInt64Array>() {
        Some(V::U(a.value(i)))
    } else if let Some(a) = any.downcast_ref::<StringArray>() {
        Some(V::S(a.value(i).to_owned()))
    } else {
        any.downcast_ref::<BooleanArray>().map(|a| V::B(a.value(i)))
    }
}

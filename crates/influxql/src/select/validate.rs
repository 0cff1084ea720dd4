//! The checks InfluxQL makes of a statement's fields before it runs: how
//! calls, selectors and plain fields may be combined, and which functions
//! take string and boolean fields.

use std::collections::BTreeMap;

use crate::ast::*;
use crate::error::{Error, Result};
use crate::function::math::is_math;

/// What InfluxQL's compiler learns from a statement's fields to validate them.
#[derive(Default)]
struct FieldFacts<'a> {
    /// Function calls (math functions and a distinct() inside count() aside).
    calls: Vec<&'a str>,
    /// A field or tag read outside any call.
    auxiliary: bool,
    /// No call but selectors (which answer with a point's own time).
    only_selectors: bool,
    /// A distinct() of its own.
    distinct: bool,
    top_bottom: Option<&'a str>,
}

impl<'a> FieldFacts<'a> {
    fn walk(&mut self, e: &'a Expr, in_call: bool) {
        match e {
            Expr::VarRef { .. } | Expr::Wildcard(_) | Expr::Regex(_) if !in_call => self.auxiliary = true,
            Expr::Call { name, args } if is_math(name) => args.iter().for_each(|a| self.walk(a, in_call)),
            Expr::Call { name, args } => {
                if in_call && name == "distinct" {
                    return;
                }
                self.calls.push(name);
                match name.as_str() {
                    "max" | "min" | "first" | "last" | "percentile" | "sample" => {}
                    "top" | "bottom" => {
                        self.top_bottom.get_or_insert(name);
                    }
                    "distinct" => self.distinct = true,
                    _ => self.only_selectors = false,
                }
                if args.iter().any(|a| matches!(a, Expr::Wildcard(_) | Expr::Regex(_))) {
                    self.only_selectors = false;
                }
                args.iter().for_each(|a| self.walk(a, true));
            }
            Expr::Distinct(_) if !in_call => {
                self.calls.push("distinct");
                self.distinct = true;
            }
            Expr::Binary { lhs, rhs, .. } => {
                self.walk(lhs, in_call);
                self.walk(rhs, in_call);
            }
            Expr::Paren(e) => self.walk(e, in_call),
            _ => {}
        }
    }
}

/// The checks InfluxQL makes of a statement's fields before it runs.
pub(super) fn validate_fields(stmt: &SelectStatement) -> Result<()> {
    let mut facts = FieldFacts { only_selectors: true, ..FieldFacts::default() };
    for f in &stmt.fields {
        facts.walk(&f.expr, false);
    }
    if let Some(selector) = facts.top_bottom
        && facts.calls.len() > 1
    {
        return Err(Error::invalid(format!("selector function {selector}() cannot be combined with other functions")));
    }
    if facts.calls.is_empty() {
        match stmt.fill {
            Fill::None => return Err(Error::invalid("fill(none) must be used with a function")),
            Fill::Linear => return Err(Error::invalid("fill(linear) must be used with a function")),
            _ => {}
        }
        if stmt.dimensions.iter().any(|d| matches!(d, Expr::Call { name, .. } if name == "time")) {
            return Err(Error::invalid("GROUP BY requires at least one aggregate function"));
        }
    }
    if facts.distinct && (facts.calls.len() != 1 || facts.auxiliary) {
        return Err(Error::invalid("aggregate function distinct() cannot be combined with other functions or fields"));
    }
    if facts.auxiliary {
        if !facts.only_selectors {
            return Err(Error::invalid("mixing aggregate and non-aggregate queries is not supported"));
        }
        if facts.calls.len() > 1 {
            return Err(Error::invalid("mixing multiple selector functions with tags or fields is not supported"));
        }
    }
    Ok(())
}

/// Refuses a function of a field of a type it does not take, as InfluxDB
/// does when it builds the function's iterator.
pub(super) fn check_types(e: &Expr, types: &BTreeMap<String, storage::FieldType>) -> Result<()> {
    use storage::FieldType as T;
    match e {
        Expr::Call { name, args } => {
            if let Some(Expr::VarRef { name: field, .. }) = args.first()
                && let Some(t @ (T::String | T::Boolean)) = types.get(field)
            {
                let takes = match name.as_str() {
                    "count" | "first" | "last" | "distinct" | "mode" | "sample" | "elapsed" => true,
                    "min" | "max" => *t == T::Boolean,
                    _ => is_math(name),
                };
                if !takes {
                    let label = match name.as_str() {
                        "non_negative_derivative" => "derivative".to_owned(),
                        "non_negative_difference" => "difference".to_owned(),
                        other => other.replace('_', " "),
                    };
                    let iterator = if *t == T::String { "string" } else { "boolean" };
                    return Err(Error::invalid(format!(
                        "unsupported {label} iterator type: *query.{iterator}InterruptIterator"
                    )));
                }
            }
            args.iter().try_for_each(|a| check_types(a, types))
        }
        Expr::Binary { lhs, rhs, .. } => {
            check_types(lhs, types)?;
            check_types(rhs, types)
        }
        Expr::Paren(e) => check_types(e, types),
        _ => Ok(()),
    }
}

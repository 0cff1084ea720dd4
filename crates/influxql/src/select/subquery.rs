//! Subqueries, run as InfluxQL runs them: within the outer statement's time
//! range, grouped also by its `GROUP BY` tags, an aggregate's `fill(null)`
//! taken as `fill(none)`. Their result, typed, becomes tables that the outer
//! statement reads like a bucket: each result series a series, each column a field.

use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray, UInt64Array};
use serde_json::Value as Json;
use storage::{MemoryTables, SeriesKey};

use crate::ast::*;
use crate::condition::TimeRange;
use crate::context::{Context, RetentionPolicy};
use crate::error::{Error, Result};
use crate::lexer::Token;
use crate::result::Series;

use super::fields::has_call;

/// The subquery `inner` as it runs inside `outer` over `range`.
pub(super) fn rewrite(inner: &SelectStatement, outer: &SelectStatement, range: &TimeRange) -> SelectStatement {
    let mut stmt = inner.clone();
    let bound = |op: Token, t: i64| Expr::Binary {
        op,
        lhs: Box::new(Expr::VarRef { name: "time".into(), ty: None }),
        rhs: Box::new(Expr::Integer(t)),
    };
    let bounds = [range.min.map(|t| bound(Token::Gte, t)), range.max.map(|t| bound(Token::Lte, t))];
    for b in bounds.into_iter().flatten() {
        stmt.condition = Some(match stmt.condition.take() {
            Some(c) => Expr::Binary { op: Token::And, lhs: Box::new(Expr::Paren(Box::new(c))), rhs: Box::new(b) },
            None => b,
        });
    }
    for d in &outer.dimensions {
        if !matches!(d, Expr::Call { .. }) && !stmt.dimensions.contains(d) {
            stmt.dimensions.push(d.clone());
        }
    }
    if stmt.fill == Fill::Null && stmt.fields.iter().any(|f| has_call(&f.expr)) {
        stmt.fill = Fill::None;
    }
    stmt
}

/// A subquery's result (run with typed floats) as tables.
pub(super) fn tables(series: Vec<Series>) -> Result<MemoryTables> {
    let mut tables = MemoryTables::default();
    for s in series {
        let key = SeriesKey::new(s.name.clone().unwrap_or_default(), s.tags.clone().into_iter().collect());
        let mut rows: Vec<(i64, &Vec<Json>)> = Vec::with_capacity(s.values.len());
        for row in &s.values {
            let t = row
                .first()
                .and_then(Json::as_str)
                .and_then(time::rfc3339::parse)
                .ok_or_else(|| Error::internal("a subquery row without a time"))?;
            rows.push((t, row));
        }
        rows.sort_by_key(|(t, _)| *t);
        let times: Vec<i64> = rows.iter().map(|(t, _)| *t).collect();
        for (j, column) in s.columns.iter().enumerate().skip(1) {
            let cells: Vec<&Json> = rows.iter().map(|(_, row)| row.get(j).unwrap_or(&Json::Null)).collect();
            if let Some(values) = json_column(&cells) {
                tables.insert(key.clone(), column, times.clone(), values)?;
            }
        }
    }
    Ok(tables)
}

/// A result column as a typed array: strings, booleans, floats (any float
/// among its numbers), integers or unsigned; `None` when it is all null.
fn json_column(cells: &[&Json]) -> Option<ArrayRef> {
    let first = cells.iter().find(|c| !c.is_null())?;
    Some(match first {
        Json::String(_) => Arc::new(cells.iter().map(|c| c.as_str()).collect::<StringArray>()),
        Json::Bool(_) => Arc::new(cells.iter().map(|c| c.as_bool()).collect::<BooleanArray>()),
        _ if cells.iter().any(|c| c.is_f64()) => Arc::new(cells.iter().map(|c| c.as_f64()).collect::<Float64Array>()),
        _ if cells.iter().all(|c| c.is_null() || c.is_i64()) => {
            Arc::new(cells.iter().map(|c| c.as_i64()).collect::<Int64Array>())
        }
        _ => Arc::new(cells.iter().map(|c| c.as_u64()).collect::<UInt64Array>()),
    })
}

/// What an outer query reads: its subquery's tables in place of storage.
pub(super) struct SubqueryContext<'a> {
    pub(super) outer: &'a dyn Context,
    pub(super) tables: &'a MemoryTables,
}

impl Context for SubqueryContext<'_> {
    fn databases(&self) -> Result<Vec<String>> {
        self.outer.databases()
    }
    fn retention_policies(&self, database: &str) -> Result<Vec<RetentionPolicy>> {
        self.outer.retention_policies(database)
    }
    fn bucket(&self, _database: &str, _retention_policy: &str) -> Result<u64> {
        Ok(0)
    }
    fn storage(&self) -> &dyn storage::ReadApi {
        self.tables
    }
    fn delete(&self, _: &str, _: i64, _: i64, _: &storage::DeletePredicate) -> Result<()> {
        Err(Error::internal("a subquery deletes nothing"))
    }
    fn now(&self) -> i64 {
        self.outer.now()
    }
}

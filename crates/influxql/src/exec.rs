//! Runs a query's statements: each statement to its executor (`SELECT` in
//! `select`, the schema statements in `show`, ...), each
//! statement's error its result.

use crate::ast::*;
use crate::context::{Context, Options};
use crate::error::{Error, Result};
use crate::result::{Series, StatementResult};
use crate::{delete, explain, select, show};

/// Runs every statement of a query; a statement's error is its result.
pub fn execute(query: &Query, ctx: &dyn Context, opts: &Options) -> Vec<StatementResult> {
    query
        .statements
        .iter()
        .enumerate()
        .map(|(id, stmt)| match run(stmt, ctx, opts) {
            Ok(series) => StatementResult {
                statement_id: id,
                series,
                chunkable: matches!(stmt, Statement::Select(_)),
                ..StatementResult::default()
            },
            Err(e) => StatementResult::error(id, e),
        })
        .collect()
}

fn run(stmt: &Statement, ctx: &dyn Context, opts: &Options) -> Result<Vec<Series>> {
    match stmt {
        Statement::Unsupported(op) => Err(Error::NotImplemented(op.clone())),
        Statement::ShowDatabases => show::databases(ctx),
        Statement::ShowRetentionPolicies { database } => show::retention_policies(database.as_deref(), ctx, opts),
        Statement::ShowMeasurements(s) => show::measurements(s, ctx, opts),
        Statement::ShowTagKeys(s) => show::tag_keys(s, ctx, opts),
        Statement::ShowTagValues(s) => show::tag_values(s, ctx, opts),
        Statement::ShowFieldKeys(s) => show::field_keys(s, ctx, opts),
        Statement::ShowSeries(s) => show::series(s, ctx, opts),
        Statement::ShowCardinality(c) => show::cardinality(c, ctx, opts),
        Statement::Select(s) => select::run(s, ctx, opts),
        Statement::Explain { analyze, statement, .. } => explain::explain(statement, *analyze, ctx, opts),
        Statement::Delete { sources, condition } => {
            delete::delete(sources, condition.as_ref(), ctx, opts)?;
            Ok(Vec::new())
        }
        Statement::DropMeasurement { name } => {
            delete::drop_measurement(name, ctx, opts)?;
            Ok(Vec::new())
        }
    }
}

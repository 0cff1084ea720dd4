//! `EXPLAIN [ANALYZE] SELECT ...`: what each field computes and how many
//! series the statement reads; with `ANALYZE`, its run's time and size.

use serde_json::Value;
use storage::Predicate;

use crate::ast::*;
use crate::condition::tag_predicate;
use crate::context::{Context, Options};
use crate::error::Result;
use crate::result::Series;

/// EXPLAIN: what each field computes and how many series it reads; with
/// ANALYZE, the query is run and its time and rows reported.
pub(crate) fn explain(stmt: &SelectStatement, analyze: bool, ctx: &dyn Context, opts: &Options) -> Result<Vec<Series>> {
    let mut lines: Vec<String> = stmt.fields.iter().map(|f| format!("EXPRESSION: {}", render(&f.expr))).collect();
    if analyze {
        let started = std::time::Instant::now();
        let series = crate::select::run(stmt, ctx, opts)?;
        let rows: usize = series.iter().map(|s| s.values.len()).sum();
        lines = vec![
            "EXPLAIN ANALYZE".into(),
            "---------------".into(),
            ".".into(),
            "└── select".into(),
            format!("    ├── execution_time: {:.3}ms", started.elapsed().as_secs_f64() * 1000.0),
            format!("    ├── series: {}", series.len()),
            format!("    └── rows: {rows}"),
        ];
    } else {
        let mut count = 0;
        for source in &stmt.sources {
            if let Source::Measurement(m) = source
                && m.regex.is_none()
            {
                let db = if m.database.is_empty() { opts.database.clone() } else { m.database.clone() };
                let bucket = ctx.bucket(&db, &opts.retention_policy)?;
                let p = Predicate::measurement_eq(&m.name).and(tag_predicate(stmt.condition.as_ref())?);
                count += ctx.storage().series_cardinality(bucket, i64::MIN, i64::MAX, &p)?;
            }
        }
        lines.push(format!("NUMBER OF SERIES: {count}"));
    }
    Ok(vec![Series {
        columns: vec!["QUERY PLAN".into()],
        values: lines.into_iter().map(|l| vec![Value::from(l)]).collect(),
        ..Series::default()
    }])
}

/// An expression as InfluxQL writes it.
fn render(e: &Expr) -> String {
    match e {
        Expr::VarRef { name, ty: None } => name.clone(),
        Expr::VarRef { name, ty: Some(t) } => format!("{name}::{}", format!("{t:?}").to_lowercase()),
        Expr::Call { name, args } => format!("{name}({})", args.iter().map(render).collect::<Vec<_>>().join(", ")),
        Expr::Distinct(f) => format!("DISTINCT {f}"),
        Expr::Number(x) => x.to_string(),
        Expr::Integer(x) => x.to_string(),
        Expr::Unsigned(x) => x.to_string(),
        Expr::String(s) => format!("'{s}'"),
        Expr::Boolean(b) => b.to_string(),
        Expr::Duration(d) => crate::parser::format_duration(*d),
        Expr::Regex(r) => format!("/{r}/"),
        Expr::Wildcard(None) => "*".into(),
        Expr::Wildcard(Some(t)) => format!("*::{}", format!("{t:?}").to_lowercase()),
        Expr::Binary { op, lhs, rhs } => format!("{} {} {}", render(lhs), op.as_str(), render(rhs)),
        Expr::Paren(e) => format!("({})", render(e)),
    }
}

//! `DELETE` and `DROP MEASUREMENT`: what storage's predicate delete can
//! match (measurements, `tag = 'v'` and `tag != 'v'` joined by `AND`, time
//! bounds), in the database's default retention policy.

use crate::ast::*;
use crate::context::{Context, Options};
use crate::error::{Error, Result};
use crate::lexer::Token;

/// `DELETE [FROM m, ...] [WHERE tag = 'v' AND ... AND time ...]`: one storage
/// delete per measurement named (all of them without FROM).
pub(crate) fn delete(sources: &[Source], cond: Option<&Expr>, ctx: &dyn Context, opts: &Options) -> Result<()> {
    let database = opts.database(None)?;
    let (range, rest) = crate::condition::split_time(cond, ctx.now())?;
    let mut tags = Vec::new();
    if let Some(rest) = &rest {
        tag_conditions(rest, &mut tags)?;
    }
    let (start, stop) = (range.min.unwrap_or(i64::MIN), range.max.unwrap_or(i64::MAX));
    if sources.is_empty() {
        return ctx.delete(database, start, stop, &storage::DeletePredicate { conditions: tags });
    }
    for s in sources {
        match s {
            Source::Measurement(m) if m.regex.is_none() => {
                let mut conditions = vec![condition("_measurement", true, &m.name)];
                conditions.extend(tags.iter().cloned());
                ctx.delete(database, start, stop, &storage::DeletePredicate { conditions })?;
            }
            _ => return Err(Error::invalid("DELETE takes measurement names, not regular expressions or subqueries")),
        }
    }
    Ok(())
}

/// `DROP MEASUREMENT m`: all of its points, in the request's database.
pub(crate) fn drop_measurement(name: &str, ctx: &dyn Context, opts: &Options) -> Result<()> {
    let database = opts.database(None)?;
    let predicate = storage::DeletePredicate { conditions: vec![condition("_measurement", true, name)] };
    ctx.delete(database, i64::MIN, i64::MAX, &predicate)
}

/// `tag = 'v'` and `tag != 'v'` joined by AND: what a storage delete can match.
fn tag_conditions(e: &Expr, out: &mut Vec<storage::Condition>) -> Result<()> {
    match e {
        Expr::Paren(inner) => tag_conditions(inner, out),
        Expr::Binary { op: Token::And, lhs, rhs } => {
            tag_conditions(lhs, out)?;
            tag_conditions(rhs, out)
        }
        Expr::Binary { op: op @ (Token::Eq | Token::Neq), lhs, rhs } => match (lhs.as_ref(), rhs.as_ref()) {
            (Expr::VarRef { name, .. }, Expr::String(v)) => {
                out.push(condition(name, *op == Token::Eq, v));
                Ok(())
            }
            _ => Err(Error::invalid("DELETE conditions compare a tag with a string")),
        },
        _ => {
            Err(Error::invalid("DELETE conditions are tag = 'value' or tag != 'value' joined by AND, and time bounds"))
        }
    }
}

fn condition(key: &str, equal: bool, value: &str) -> storage::Condition {
    storage::Condition { key: key.to_owned(), equal, value: value.to_owned() }
}

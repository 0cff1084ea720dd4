//! Expressions on one point: references read through a lookup, literals,
//! math functions, comparisons, regex matches and arithmetic as InfluxQL
//! computes them.

use regex::Regex;

use crate::ast::*;
use crate::function::math::{is_math, math};
use crate::lexer::Token;
use crate::value::V;

/// The value of an expression on one point, reading names through `get` (`None`: null).
pub(super) fn eval_with(e: &Expr, get: &dyn Fn(&str) -> Option<V>) -> Option<V> {
    match e {
        Expr::VarRef { name, ty: Some(DataType::Tag) } => get(name).filter(|v| matches!(v, V::S(_))),
        Expr::VarRef { name, .. } => get(name),
        Expr::Number(x) => Some(V::F(*x)),
        Expr::Integer(x) => Some(V::I(*x)),
        Expr::Unsigned(x) => Some(V::U(*x)),
        Expr::String(x) => Some(V::S(x.clone())),
        Expr::Boolean(x) => Some(V::B(*x)),
        Expr::Paren(e) => eval_with(e, get),
        Expr::Binary { op, lhs, rhs } => binary(*op, eval_with(lhs, get), rhs, |e| eval_with(e, get)),
        Expr::Call { name, args } if is_math(name) => {
            let values: Vec<Option<V>> = args.iter().map(|a| eval_with(a, get)).collect();
            math(name, &values)
        }
        _ => None,
    }
}

pub(super) fn truthy(v: &Option<V>) -> bool {
    matches!(v, Some(V::B(true)))
}

/// A binary operation; the right side is evaluated by `eval` unless it is a regex.
fn binary(op: Token, l: Option<V>, rhs: &Expr, eval: impl Fn(&Expr) -> Option<V>) -> Option<V> {
    if let Expr::Regex(re) = rhs {
        let re = Regex::new(re).ok()?;
        let s = match &l {
            Some(V::S(s)) => s.as_str(),
            None => "",
            _ => return Some(V::B(false)),
        };
        return match op {
            Token::EqRegex => Some(V::B(re.is_match(s))),
            Token::NeqRegex => Some(V::B(!re.is_match(s))),
            _ => None,
        };
    }
    let r = eval(rhs);
    match op {
        Token::And => Some(V::B(truthy(&l) && truthy(&r))),
        Token::Or => Some(V::B(truthy(&l) || truthy(&r))),
        Token::Eq | Token::Neq | Token::Lt | Token::Lte | Token::Gt | Token::Gte => {
            let (l, r) = (l?, r?);
            let o = l.cmp(&r)?;
            Some(V::B(match op {
                Token::Eq => o.is_eq(),
                Token::Neq => o.is_ne(),
                Token::Lt => o.is_lt(),
                Token::Lte => o.is_le(),
                Token::Gt => o.is_gt(),
                _ => o.is_ge(),
            }))
        }
        Token::Add
        | Token::Sub
        | Token::Mul
        | Token::Div
        | Token::Mod
        | Token::BitAnd
        | Token::BitOr
        | Token::BitXor => arith(op, l?, r?),
        _ => None,
    }
}

pub(super) fn arith(op: Token, l: V, r: V) -> Option<V> {
    if matches!(op, Token::BitAnd | Token::BitOr | Token::BitXor) {
        // Bitwise operators take integers, unsigned integers or booleans alike.
        return match (l, r) {
            (V::I(a), V::I(b)) => Some(V::I(bits(op, a as u64, b as u64) as i64)),
            (V::U(a), V::U(b)) => Some(V::U(bits(op, a, b))),
            (V::B(a), V::B(b)) => Some(V::B(bits(op, u64::from(a), u64::from(b)) != 0)),
            _ => None,
        };
    }
    match (&l, &r) {
        (V::I(a), V::I(b)) if op != Token::Div => Some(V::I(match op {
            Token::Add => a.wrapping_add(*b),
            Token::Sub => a.wrapping_sub(*b),
            Token::Mul => a.wrapping_mul(*b),
            _ => {
                if *b == 0 {
                    return Some(V::I(0));
                }
                a % b
            }
        })),
        _ => {
            let (a, b) = (l.num()?, r.num()?);
            Some(V::F(match op {
                Token::Add => a + b,
                Token::Sub => a - b,
                Token::Mul => a * b,
                Token::Div => {
                    if b == 0.0 {
                        0.0
                    } else {
                        a / b
                    }
                }
                _ => a % b,
            }))
        }
    }
}

fn bits(op: Token, a: u64, b: u64) -> u64 {
    match op {
        Token::BitAnd => a & b,
        Token::BitOr => a | b,
        _ => a ^ b,
    }
}

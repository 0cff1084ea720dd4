//! Expressions, one method per level of precedence: conditional, or, and,
//! not/exists, comparison, additive, multiplicative, exponent, pipe, unary,
//! postfix (calls, members, indexes) and their arguments.

use super::{PResult, ParseError, Parser, pos};
use crate::ast::*;
use crate::lexer::{Position, Tok};

impl Parser<'_> {
    pub(super) fn expression(&mut self) -> PResult<Expression> {
        if self.is("if") {
            let start = self.tok.start;
            self.bump()?;
            let test = self.expression()?;
            self.expect("then", true)?;
            let consequent = self.expression()?;
            self.expect("else", true)?;
            let alternate = self.expression()?;
            return Ok(Expression::ConditionalExpression {
                base: self.base(start),
                test: Box::new(test),
                consequent: Box::new(consequent),
                alternate: Box::new(alternate),
            });
        }
        self.logical_or()
    }

    pub(super) fn logical_or(&mut self) -> PResult<Expression> {
        let start = self.tok.start;
        let mut left = self.logical_and()?;
        while self.is("or") {
            self.bump()?;
            let right = self.logical_and()?;
            left = Expression::LogicalExpression {
                base: self.base(start),
                operator: "or".into(),
                left: Box::new(left),
                right: Box::new(right),
            };
        }
        Ok(left)
    }

    pub(super) fn logical_and(&mut self) -> PResult<Expression> {
        let start = self.tok.start;
        let mut left = self.unary_logical()?;
        while self.is("and") {
            self.bump()?;
            let right = self.unary_logical()?;
            left = Expression::LogicalExpression {
                base: self.base(start),
                operator: "and".into(),
                left: Box::new(left),
                right: Box::new(right),
            };
        }
        Ok(left)
    }

    pub(super) fn unary_logical(&mut self) -> PResult<Expression> {
        if self.is("not") || self.is("exists") {
            let start = self.tok.start;
            let op = match self.bump()?.tok {
                Tok::Sym(s) => s,
                _ => "not",
            };
            let argument = self.unary_logical()?;
            return Ok(Expression::UnaryExpression {
                base: self.base(start),
                operator: op.into(),
                argument: Box::new(argument),
            });
        }
        self.binary_level(0)
    }

    /// Left-associative binary levels: comparison, additive, multiplicative, exponent.
    pub(super) fn binary_level(&mut self, level: usize) -> PResult<Expression> {
        const LEVELS: &[&[&str]] =
            &[&["==", "!=", "<=", "<", ">=", ">", "=~", "!~"], &["+", "-"], &["*", "/", "%"], &["^"]];
        if level == LEVELS.len() {
            return self.pipe();
        }
        let start = self.tok.start;
        let mut left = self.binary_level(level + 1)?;
        while let Tok::Sym(op) = self.tok.tok {
            if !LEVELS[level].contains(&op) {
                break;
            }
            self.bump()?;
            let right = self.binary_level(level + 1)?;
            left = Expression::BinaryExpression {
                base: self.base(start),
                operator: op.into(),
                left: Box::new(left),
                right: Box::new(right),
            };
        }
        Ok(left)
    }

    pub(super) fn pipe(&mut self) -> PResult<Expression> {
        let start = self.tok.start;
        let mut left = self.unary()?;
        while self.is("|>") {
            self.bump()?;
            let rhs = self.unary()?;
            let Expression::CallExpression(call) = rhs else {
                return Err(ParseError {
                    line: rhs.base().location.start.line,
                    column: rhs.base().location.start.column,
                    message: "pipe destination must be a function call".into(),
                });
            };
            left = Expression::PipeExpression { base: self.base(start), argument: Box::new(left), call };
        }
        Ok(left)
    }

    pub(super) fn unary(&mut self) -> PResult<Expression> {
        if self.is("+") || self.is("-") {
            let start = self.tok.start;
            let op = if self.is("-") { "-" } else { "+" };
            self.bump()?;
            let argument = self.unary()?;
            return Ok(Expression::UnaryExpression {
                base: self.base(start),
                operator: op.into(),
                argument: Box::new(argument),
            });
        }
        self.postfix()
    }

    pub(super) fn postfix(&mut self) -> PResult<Expression> {
        let start = self.tok.start;
        let mut expr = self.primary()?;
        loop {
            if self.is(".") {
                self.bump_operand()?;
                let prop = self.identifier()?;
                expr = Expression::MemberExpression(MemberExpression {
                    base: self.base(start),
                    object: Box::new(expr),
                    property: PropertyKey::Identifier(prop),
                });
            } else if self.is("[") {
                self.bump()?;
                let index = self.expression()?;
                self.expect("]", false)?;
                expr = match index {
                    Expression::StringLiteral(s) => Expression::MemberExpression(MemberExpression {
                        base: self.base(start),
                        object: Box::new(expr),
                        property: PropertyKey::StringLiteral(s),
                    }),
                    index => Expression::IndexExpression {
                        base: self.base(start),
                        array: Box::new(expr),
                        index: Box::new(index),
                    },
                };
            } else if self.is("(") {
                let astart = self.tok.start;
                self.bump_operand()?;
                let properties = self.property_list(")")?;
                self.expect(")", false)?;
                let arguments = if properties.is_empty() {
                    Vec::new()
                } else {
                    vec![Expression::ObjectExpression { base: self.base_from_args(astart), with: None, properties }]
                };
                expr = Expression::CallExpression(CallExpression {
                    base: self.base(start),
                    callee: Box::new(expr),
                    arguments,
                });
            } else {
                return Ok(expr);
            }
        }
    }

    /// The arguments record spans its properties, not the parentheses.
    pub(super) fn base_from_args(&self, paren: Position) -> BaseNode {
        let mut start = paren;
        start.offset += 1;
        start.column += 1;
        let text = &self.src()[start.offset..self.prev_end.offset.saturating_sub(1).max(start.offset)];
        let lead = text.len() - text.trim_start().len();
        let trimmed = text.trim();
        let mut s = start;
        for c in text[..lead].chars() {
            if c == '\n' {
                s.line += 1;
                s.column = 1;
            } else {
                s.column += 1;
            }
            s.offset += c.len_utf8();
        }
        let mut e = s;
        for c in trimmed.chars() {
            if c == '\n' {
                e.line += 1;
                e.column = 1;
            } else {
                e.column += 1;
            }
            e.offset += c.len_utf8();
        }
        BaseNode {
            location: SourceLocation { start: pos(s), end: pos(e), source: trimmed.to_owned() },
            ..Default::default()
        }
    }

    /// `key: value` or `key` (shorthand) properties up to `close`.
    pub(super) fn property_list(&mut self, close: &str) -> PResult<Vec<Property>> {
        let mut out = Vec::new();
        while !self.is(close) {
            out.push(self.property()?);
            if !self.is(",") {
                break;
            }
            self.bump_operand()?;
        }
        Ok(out)
    }

    pub(super) fn property(&mut self) -> PResult<Property> {
        let start = self.tok.start;
        let key = match &self.tok.tok {
            Tok::Ident(_) => PropertyKey::Identifier(self.identifier()?),
            Tok::Str(_) => match self.string_token()? {
                Expression::StringLiteral(s) => PropertyKey::StringLiteral(s),
                _ => return self.error("a property key cannot hold interpolations"),
            },
            _ => return self.error(format!("expected a property key, got {}", self.describe())),
        };
        let value = if self.is(":") {
            self.bump()?;
            Some(self.expression()?)
        } else {
            None
        };
        Ok(Property { base: self.base(start), key, value })
    }
}

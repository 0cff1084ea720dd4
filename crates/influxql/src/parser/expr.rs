//! Expressions: operands (references, calls, literals, regexes, bound
//! parameters, parentheses) joined by binary operators by precedence, and
//! regular expressions checked with Go's words.

use crate::ast::*;
use crate::lexer::{Keyword, Pos, Token};

use super::literal::parse_duration;
use super::{PResult, Param, ParseError, Parser};

impl Parser<'_> {
    /// A regular expression, if one comes next (after any whitespace).
    pub(super) fn regex(&mut self) -> PResult<Option<Expr>> {
        while matches!(self.peek_char(), ' ' | '\t' | '\n') {
            self.scan();
        }
        match self.peek_char() {
            '$' => {
                let t = self.scan();
                self.unscan();
                if t.tok != Token::Regex {
                    return Ok(None);
                }
                self.scan();
                return Ok(Some(Expr::Regex(t.lit)));
            }
            '/' => {}
            _ => return Ok(None),
        }
        self.mark();
        let t = self.s.scan_regex();
        match t.tok {
            Token::BadEscape => Err(ParseError::message(format!("bad escape: {}", t.lit), t.pos)),
            Token::BadRegex => Err(ParseError::message(format!("bad regex: {}", t.lit), t.pos)),
            Token::Regex => {
                check_regex(&t.lit, t.pos)?;
                Ok(Some(Expr::Regex(t.lit)))
            }
            _ => Err(ParseError::expected(&t, &["regex"])),
        }
    }

    /// An expression: unary operands joined by binary operators by precedence.
    pub(super) fn expr(&mut self) -> PResult<Expr> {
        let mut root = self.unary()?;
        loop {
            let t = self.scan_ws();
            let op = t.tok;
            if op.precedence() == 0 {
                self.unscan();
                return Ok(root);
            }
            let rhs = if matches!(op, Token::EqRegex | Token::NeqRegex) {
                match self.regex()? {
                    Some(re) => re,
                    None => {
                        let t = self.scan_ws();
                        return Err(ParseError::expected(&t, &["regex"]));
                    }
                }
            } else {
                self.unary()?
            };
            root = insert(root, op, rhs);
        }
    }

    fn unary(&mut self) -> PResult<Expr> {
        if self.scan_ws().tok == Token::LParen {
            let e = self.expr()?;
            let t = self.scan_ws();
            if t.tok != Token::RParen {
                return Err(ParseError::expected(&t, &[")"]));
            }
            return Ok(Expr::Paren(Box::new(e)));
        }
        self.unscan();
        let t = self.scan_ws();
        match t.tok {
            Token::Ident => {
                if self.scan().tok == Token::LParen {
                    return self.call(&t.lit);
                }
                self.unscan();
                self.unscan();
                self.var_ref()
            }
            Token::Keyword(Keyword::DISTINCT) => {
                let next = self.scan();
                match next.tok {
                    Token::LParen => self.call("distinct"),
                    Token::Ws => {
                        let id = self.scan_ws();
                        if id.tok != Token::Ident {
                            return Err(ParseError::expected(&id, &["identifier"]));
                        }
                        Ok(Expr::Distinct(id.lit))
                    }
                    _ => Err(ParseError::expected(&next, &["(", "identifier"])),
                }
            }
            Token::Str => Ok(Expr::String(t.lit)),
            Token::Number => {
                t.lit.parse::<f64>().map(Expr::Number).map_err(|_| ParseError::message("unable to parse number", t.pos))
            }
            Token::Integer => match t.lit.parse::<i64>() {
                Ok(n) => Ok(Expr::Integer(n)),
                Err(_) => t
                    .lit
                    .parse::<u64>()
                    .map(Expr::Unsigned)
                    .map_err(|_| ParseError::message("unable to parse integer", t.pos)),
            },
            Token::True => Ok(Expr::Boolean(true)),
            Token::False => Ok(Expr::Boolean(false)),
            Token::Duration => parse_duration(&t.lit).map(Expr::Duration).map_err(ParseError::bare),
            Token::Mul => {
                if self.scan().tok == Token::DoubleColon {
                    let ty = self.scan();
                    return match ty.tok {
                        Token::Keyword(Keyword::FIELD) => Ok(Expr::Wildcard(Some(DataType::AnyField))),
                        Token::Keyword(Keyword::TAG) => Ok(Expr::Wildcard(Some(DataType::Tag))),
                        _ => Err(ParseError::expected(&ty, &["field", "tag"])),
                    };
                }
                self.unscan();
                Ok(Expr::Wildcard(None))
            }
            Token::Regex => {
                check_regex(&t.lit, t.pos)?;
                Ok(Expr::Regex(t.lit))
            }
            Token::BoundParam => {
                let name = &t.lit[1..];
                if name.is_empty() {
                    return Err(ParseError::bare("empty bound parameter"));
                }
                match self.params.get(name) {
                    Some(Param::Error(e)) => Err(ParseError::bare(e.clone())),
                    _ => Err(ParseError::bare(format!("missing parameter: {name}"))),
                }
            }
            Token::Add | Token::Sub => {
                let negative = t.tok == Token::Sub;
                let next = self.scan_ws();
                if !matches!(next.tok, Token::Number | Token::Integer | Token::Duration | Token::LParen | Token::Ident)
                {
                    return Err(ParseError::expected(&next, &["identifier", "number", "duration", "("]));
                }
                self.unscan();
                let operand = self.unary()?;
                Ok(match (operand, negative) {
                    // `+x` of a reference, call or parenthesis is `1 * x`, as InfluxDB builds it.
                    (e @ (Expr::VarRef { .. } | Expr::Call { .. } | Expr::Paren(_)), false) => {
                        Expr::Binary { op: Token::Mul, lhs: Box::new(Expr::Integer(1)), rhs: Box::new(e) }
                    }
                    (e, false) => e,
                    (Expr::Number(n), true) => Expr::Number(-n),
                    (Expr::Integer(n), true) => Expr::Integer(-n),
                    (Expr::Unsigned(n), true) => {
                        if n == 1 << 63 {
                            Expr::Integer(i64::MIN)
                        } else {
                            return Err(ParseError::bare(format!("constant -{n} underflows int64")));
                        }
                    }
                    (Expr::Duration(d), true) => Expr::Duration(-d),
                    (e, true) => Expr::Binary { op: Token::Mul, lhs: Box::new(Expr::Integer(-1)), rhs: Box::new(e) },
                })
            }
            _ => Err(ParseError::expected(&t, &["identifier", "string", "number", "bool"])),
        }
    }

    fn var_ref(&mut self) -> PResult<Expr> {
        let name = self.segmented_idents()?.join(".");
        if self.scan().tok != Token::DoubleColon {
            self.unscan();
            return Ok(Expr::VarRef { name, ty: None });
        }
        let t = self.scan();
        let ty = match t.tok {
            Token::Ident => match t.lit.to_ascii_lowercase().as_str() {
                "float" => DataType::Float,
                "integer" => DataType::Integer,
                "unsigned" => DataType::Unsigned,
                "string" => DataType::String,
                "boolean" => DataType::Boolean,
                _ => {
                    return Err(ParseError::expected(
                        &t,
                        &["float", "integer", "unsigned", "string", "boolean", "field", "tag"],
                    ));
                }
            },
            Token::Keyword(Keyword::FIELD) => DataType::AnyField,
            Token::Keyword(Keyword::TAG) => DataType::Tag,
            _ => return Err(ParseError::expected(&t, &["float", "integer", "string", "boolean", "field", "tag"])),
        };
        Ok(Expr::VarRef { name, ty: Some(ty) })
    }

    fn call(&mut self, name: &str) -> PResult<Expr> {
        let name = name.to_ascii_lowercase();
        let mut args = Vec::new();
        match self.regex()? {
            Some(re) => args.push(re),
            None => {
                if self.scan().tok == Token::RParen {
                    return Ok(Expr::Call { name, args });
                }
                self.unscan();
                args.push(self.expr()?);
            }
        }
        while self.accept(Token::Comma) {
            match self.regex()? {
                Some(re) => args.push(re),
                None => args.push(self.expr()?),
            }
        }
        let t = self.scan();
        if t.tok != Token::RParen {
            return Err(ParseError::expected(&t, &[")"]));
        }
        Ok(Expr::Call { name, args })
    }
}

/// Adds `op rhs` to an expression tree whose right edge holds looser operators.
fn insert(node: Expr, op: Token, rhs: Expr) -> Expr {
    match node {
        Expr::Binary { op: o, lhs, rhs: r } if o.precedence() < op.precedence() => {
            Expr::Binary { op: o, lhs, rhs: Box::new(insert(*r, op, rhs)) }
        }
        node => Expr::Binary { op, lhs: Box::new(node), rhs: Box::new(rhs) },
    }
}

/// The first comparison or logical operator in a field expression (outside calls' own arguments too).
pub(super) fn comparison_in(e: &Expr) -> Option<Token> {
    match e {
        Expr::Binary { op, lhs, rhs } => {
            if op.is_condition() {
                return Some(*op);
            }
            comparison_in(lhs).or_else(|| comparison_in(rhs))
        }
        Expr::Paren(e) => comparison_in(e),
        Expr::Call { args, .. } => args.iter().find_map(comparison_in),
        _ => None,
    }
}

/// Whether a regular expression (at `pos`) compiles, with Go's words when it
/// does not (`error parsing regexp: invalid escape sequence: `\q``).
fn check_regex(re: &str, pos: Pos) -> PResult<()> {
    let refused = |message: String| Err(ParseError::message(message, pos));
    use regex_syntax::ast::ErrorKind as K;
    let e = match regex_syntax::ast::parse::Parser::new().parse(re) {
        Ok(ast) => {
            // Go refuses a repetition of a repetition (`a**`); this parser allows it.
            return match nested_repetition(&ast) {
                Some((start, end)) => {
                    refused(format!("error parsing regexp: invalid nested repetition operator: `{}`", &re[start..end]))
                }
                None => Ok(()),
            };
        }
        Err(e) => e,
    };
    let span = e.span();
    let text = re.get(span.start.offset..span.end.offset).unwrap_or("");
    let (code, shown) = match e.kind() {
        K::EscapeUnrecognized => ("invalid escape sequence", text.to_owned()),
        K::EscapeUnexpectedEof => ("trailing backslash at end of expression", String::new()),
        K::ClassUnclosed => ("missing closing ]", re[span.start.offset..].to_owned()),
        K::GroupUnclosed => ("missing closing )", re.to_owned()),
        K::GroupUnopened => ("unexpected )", re.to_owned()),
        K::RepetitionMissing => {
            let op: String = re[span.start.offset..].chars().take(1).collect();
            ("missing argument to repetition operator", op)
        }
        K::ClassRangeInvalid => ("invalid character class range", text.to_owned()),
        K::RepetitionCountInvalid | K::RepetitionCountDecimalEmpty | K::RepetitionCountUnclosed => {
            ("invalid repeat count", text.to_owned())
        }
        _ => return refused(format!("error parsing regexp: {}", e.kind())),
    };
    refused(format!("error parsing regexp: {code}: `{shown}`"))
}

/// The byte span of the operators of a repetition applied to a repetition.
fn nested_repetition(ast: &regex_syntax::ast::Ast) -> Option<(usize, usize)> {
    use regex_syntax::ast::Ast;
    match ast {
        Ast::Repetition(r) => match r.ast.as_ref() {
            Ast::Repetition(inner) => Some((inner.op.span.start.offset, r.op.span.end.offset)),
            other => nested_repetition(other),
        },
        Ast::Group(g) => nested_repetition(&g.ast),
        Ast::Alternation(a) => a.asts.iter().find_map(nested_repetition),
        Ast::Concat(c) => c.asts.iter().find_map(nested_repetition),
        _ => None,
    }
}

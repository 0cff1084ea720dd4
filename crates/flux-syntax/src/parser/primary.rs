//! Primary expressions: literals (strings with interpolation, durations,
//! date-times, regular expressions), identifiers, parentheses and function
//! literals, records, arrays and dictionaries.

use super::{PResult, ParseError, Parser, pos};
use crate::ast::*;
use crate::lexer::{Lexer, Position, Tok};

impl Parser<'_> {
    pub(super) fn primary(&mut self) -> PResult<Expression> {
        let start = self.tok.start;
        let tok = self.tok.tok.clone();
        match tok {
            Tok::Ident(name) => {
                self.bump_operand()?;
                let base = self.base(start);
                Ok(match name.as_str() {
                    "true" | "false" => Expression::BooleanLiteral { base, value: name == "true" },
                    _ => Expression::Identifier(Identifier { base, name }),
                })
            }
            Tok::Int(text) => {
                self.bump_operand()?;
                if text.parse::<i64>().is_err() {
                    return Err(ParseError {
                        line: start.line,
                        column: start.column,
                        message: format!("invalid integer literal {text:?}: value out of range"),
                    });
                }
                Ok(Expression::IntegerLiteral { base: self.base(start), value: text })
            }
            Tok::Float(text) => {
                self.bump_operand()?;
                let value: f64 = text.parse().map_err(|_| ParseError {
                    line: start.line,
                    column: start.column,
                    message: format!("invalid float literal {text:?}"),
                })?;
                Ok(Expression::FloatLiteral { base: self.base(start), value })
            }
            Tok::Duration(values) => {
                self.bump_operand()?;
                let values = values.into_iter().map(|(magnitude, unit)| DurationValue { magnitude, unit }).collect();
                Ok(Expression::DurationLiteral { base: self.base(start), values })
            }
            Tok::DateTime(text) => {
                self.bump_operand()?;
                let value = parse_datetime(&text).ok_or_else(|| ParseError {
                    line: start.line,
                    column: start.column,
                    message: format!("invalid date time literal {text:?}"),
                })?;
                Ok(Expression::DateTimeLiteral { base: self.base(start), value })
            }
            Tok::Str(_) => self.string_token(),
            Tok::Regex(pattern) => {
                self.bump_operand()?;
                Ok(Expression::RegexpLiteral { base: self.base(start), value: pattern })
            }
            Tok::Sym("<-") => {
                self.bump_operand()?;
                Ok(Expression::PipeLiteral { base: self.base(start) })
            }
            Tok::Sym(".") => {
                self.bump()?;
                let value = match self.tok.tok.clone() {
                    Tok::Ident(name) => name,
                    Tok::Str(_) => match self.string_token()? {
                        Expression::StringLiteral(s) => {
                            return Ok(Expression::LabelLiteral { base: self.base(start), value: s.value });
                        }
                        _ => return self.error("a label may not interpolate"),
                    },
                    _ => return self.error(format!("invalid label: unexpected {}", self.describe())),
                };
                self.bump_operand()?;
                Ok(Expression::LabelLiteral { base: self.base(start), value })
            }
            Tok::Sym("(") => self.paren_or_function(),
            Tok::Sym("{") => self.record(),
            Tok::Sym("[") => self.array_or_dict(),
            _ => self.error(format!("invalid expression: unexpected {}", self.describe())),
        }
    }

    /// `(expr)` or a function literal `(params) => body`: tries the function first.
    pub(super) fn paren_or_function(&mut self) -> PResult<Expression> {
        let start = self.tok.start;
        let save = (self.lx.position(), self.tok.clone(), self.prev_end);
        if let Some(params) = self.try_params()? {
            let body = if self.is("{") {
                FunctionBody::Block(self.block()?)
            } else {
                FunctionBody::Expression(Box::new(self.expression()?))
            };
            return Ok(Expression::FunctionExpression { base: self.base(start), params, body });
        }
        self.lx.reset(save.0);
        self.tok = save.1;
        self.prev_end = save.2;
        self.bump()?;
        let expression = self.expression()?;
        self.expect(")", false)?;
        Ok(Expression::ParenExpression { base: self.base(start), expression: Box::new(expression) })
    }

    /// A parameter list followed by `=>`, or `None` (and the position is undefined).
    pub(super) fn try_params(&mut self) -> PResult<Option<Vec<Property>>> {
        self.bump_operand()?;
        let mut params = Vec::new();
        while !self.is(")") {
            let start = self.tok.start;
            if !matches!(self.tok.tok, Tok::Ident(_)) {
                return Ok(None);
            }
            let key = PropertyKey::Identifier(self.identifier()?);
            let value = if self.is("=") {
                self.bump()?;
                Some(self.expression()?)
            } else {
                None
            };
            params.push(Property { base: self.base(start), key, value });
            if self.is(",") {
                self.bump_operand()?;
            } else if !self.is(")") {
                return Ok(None);
            }
        }
        self.bump()?;
        if !self.is("=>") {
            return Ok(None);
        }
        self.bump()?;
        Ok(Some(params))
    }

    pub(super) fn record(&mut self) -> PResult<Expression> {
        let start = self.tok.start;
        self.bump_operand()?;
        // `{r with a: 1}`
        let mut with = None;
        if let Tok::Ident(_) = self.tok.tok {
            let save = (self.lx.position(), self.tok.clone(), self.prev_end);
            let source = self.identifier()?;
            if matches!(&self.tok.tok, Tok::Ident(w) if w == "with") {
                self.bump_operand()?;
                with = Some(WithSource { source });
            } else {
                self.lx.reset(save.0);
                self.tok = save.1;
                self.prev_end = save.2;
            }
        }
        let properties = self.property_list("}")?;
        self.expect("}", false)?;
        Ok(Expression::ObjectExpression { base: self.base(start), with, properties })
    }

    pub(super) fn array_or_dict(&mut self) -> PResult<Expression> {
        let start = self.tok.start;
        self.bump()?;
        if self.is(":") {
            self.bump_operand()?;
            self.expect("]", false)?;
            return Ok(Expression::DictExpression { base: self.base(start), elements: Vec::new() });
        }
        if self.is("]") {
            self.bump_operand()?;
            return Ok(Expression::ArrayExpression { base: self.base(start), elements: Vec::new() });
        }
        let first = self.expression()?;
        if self.is(":") {
            self.bump()?;
            let val = self.expression()?;
            let mut elements = vec![DictItem { key: first, val }];
            while self.is(",") {
                self.bump()?;
                if self.is("]") {
                    break;
                }
                let key = self.expression()?;
                self.expect(":", true)?;
                let val = self.expression()?;
                elements.push(DictItem { key, val });
            }
            self.expect("]", false)?;
            return Ok(Expression::DictExpression { base: self.base(start), elements });
        }
        let mut elements = vec![first];
        while self.is(",") {
            self.bump()?;
            if self.is("]") {
                break;
            }
            elements.push(self.expression()?);
        }
        self.expect("]", false)?;
        Ok(Expression::ArrayExpression { base: self.base(start), elements })
    }

    /// A string token: a `StringLiteral`, or a `StringExpression` when it holds `${…}`.
    pub(super) fn string_token(&mut self) -> PResult<Expression> {
        let start = self.tok.start;
        let Tok::Str(raw) = self.tok.tok.clone() else {
            return self.error(format!("expected a string, got {}", self.describe()));
        };
        self.bump_operand()?;
        let mut body_start = start;
        body_start.offset += 1;
        body_start.column += 1;
        let parts = self.string_parts(&raw, body_start)?;
        match parts.as_slice() {
            [] => Ok(Expression::StringLiteral(StringLiteral { base: self.base(start), value: String::new() })),
            [StringPart::TextPart { value, .. }] => {
                Ok(Expression::StringLiteral(StringLiteral { base: self.base(start), value: value.clone() }))
            }
            _ => Ok(Expression::StringExpression { base: self.base(start), parts }),
        }
    }

    pub(super) fn string_parts(&self, raw: &str, at: Position) -> PResult<Vec<StringPart>> {
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut text_start = at;
        let mut p = at;
        let mut chars = raw.char_indices().peekable();
        let step = |p: &mut Position, c: char| {
            p.offset += c.len_utf8();
            if c == '\n' {
                p.line += 1;
                p.column = 1;
            } else {
                p.column += 1;
            }
        };
        while let Some((i, c)) = chars.next() {
            if c == '\\' {
                step(&mut p, c);
                let Some((_, e)) = chars.next() else { break };
                step(&mut p, e);
                text.push(match e {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    '"' | '\\' | '$' => e,
                    other => {
                        return Err(ParseError {
                            line: p.line,
                            column: p.column - 2,
                            message: format!("invalid escape sequence \\{other}"),
                        });
                    }
                });
            } else if c == '$' && raw[i + 1..].starts_with('{') {
                if !text.is_empty() {
                    let source = self.src()[text_start.offset..p.offset].to_owned();
                    parts.push(StringPart::TextPart {
                        base: BaseNode {
                            location: SourceLocation { start: pos(text_start), end: pos(p), source },
                            ..Default::default()
                        },
                        value: std::mem::take(&mut text),
                    });
                }
                let part_start = p;
                step(&mut p, '$');
                chars.next();
                step(&mut p, '{');
                let mut inner = Parser::new(Lexer::at(self.src(), p))?;
                let expression = inner.expression()?;
                if !inner.is("}") {
                    return inner.error("expected \"}\" to close an interpolation");
                }
                let end = inner.tok.end;
                // Skip what the inner parser consumed.
                while let Some(&(j, ch)) = chars.peek() {
                    if at.offset + j >= end.offset {
                        break;
                    }
                    chars.next();
                    let _ = ch;
                }
                p = end;
                let source = self.src()[part_start.offset..end.offset].to_owned();
                parts.push(StringPart::InterpolatedPart {
                    base: BaseNode {
                        location: SourceLocation { start: pos(part_start), end: pos(end), source },
                        ..Default::default()
                    },
                    expression: Box::new(expression),
                });
                text_start = p;
            } else {
                step(&mut p, c);
                text.push(c);
            }
        }
        if !text.is_empty() || parts.is_empty() {
            let source = self.src()[text_start.offset..p.offset].to_owned();
            if !(text.is_empty() && parts.is_empty() && source.is_empty()) || parts.is_empty() {
                parts.push(StringPart::TextPart {
                    base: BaseNode {
                        location: SourceLocation { start: pos(text_start), end: pos(p), source },
                        ..Default::default()
                    },
                    value: text,
                });
            }
        }
        Ok(parts)
    }
}

/// A date-time literal in RFC 3339 (a bare date means midnight UTC), normalised
/// as Flux prints it.
fn parse_datetime(s: &str) -> Option<String> {
    let t = if s.len() == 10 { time::rfc3339::parse_date(s)? } else { time::rfc3339::parse(s)? };
    Some(time::rfc3339::format(t, time::rfc3339::Fraction::Trimmed))
}

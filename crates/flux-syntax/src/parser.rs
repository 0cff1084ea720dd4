//! Recursive descent over the grammar of `SPEC.md`, one function per level of
//! precedence: conditional, or, and, not/exists, comparison, additive,
//! multiplicative, exponent, pipe, unary, postfix, primary.

use crate::ast::*;
use crate::lexer::{LexError, Lexer, Position, Tok, Token};

/// A syntax error: where, and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("error @{line}:{column}: {message}")]
pub struct ParseError {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

impl From<LexError> for ParseError {
    fn from(e: LexError) -> Self {
        Self { line: e.at.line, column: e.at.column, message: e.message }
    }
}

type PResult<T> = Result<T, ParseError>;

/// Parses one file of Flux into a package named by its `package` clause (`main` without one).
pub fn parse(src: &str) -> PResult<Package> {
    let file = parse_file(src)?;
    let package = file.package.as_ref().map_or_else(|| "main".to_owned(), |p| p.name.name.clone());
    Ok(Package { path: String::new(), package, files: vec![file] })
}

/// Parses one file of Flux.
pub fn parse_file(src: &str) -> PResult<File> {
    let mut p = Parser::new(Lexer::new(src))?;
    p.file()
}

struct Parser<'a> {
    lx: Lexer<'a>,
    tok: Token,
    /// Where the previous token ended (a node's end).
    prev_end: Position,
}

fn pos(p: Position) -> Pos {
    Pos { line: p.line, column: p.column }
}

impl<'a> Parser<'a> {
    fn new(mut lx: Lexer<'a>) -> PResult<Self> {
        let start = lx.position();
        let tok = lx.next(true)?;
        Ok(Self { lx, tok, prev_end: start })
    }

    fn src(&self) -> &'a str {
        self.lx.source()
    }

    fn base(&self, start: Position) -> BaseNode {
        let end = self.prev_end;
        let source = self.src().get(start.offset..end.offset).unwrap_or_default().to_owned();
        BaseNode { location: SourceLocation { start: pos(start), end: pos(end), source }, ..Default::default() }
    }

    /// Moves to the next token; `regex` says whether an operand may follow (so `/` opens a regex).
    fn advance(&mut self, regex: bool) -> PResult<Token> {
        let next = self.lx.next(regex)?;
        self.prev_end = self.tok.end;
        Ok(std::mem::replace(&mut self.tok, next))
    }

    /// Consumes a token after which an operand is expected.
    fn bump(&mut self) -> PResult<Token> {
        self.advance(true)
    }

    /// Consumes a token after which an operator is expected.
    fn bump_operand(&mut self) -> PResult<Token> {
        self.advance(false)
    }

    fn is(&self, sym: &str) -> bool {
        matches!(&self.tok.tok, Tok::Sym(s) if *s == sym)
    }

    fn error<T>(&self, message: impl Into<String>) -> PResult<T> {
        Err(ParseError { line: self.tok.start.line, column: self.tok.start.column, message: message.into() })
    }

    fn describe(&self) -> String {
        match &self.tok.tok {
            Tok::Ident(s) => format!("IDENT {s:?}"),
            Tok::Int(s) | Tok::Float(s) => format!("number {s}"),
            Tok::Duration(_) => "duration".into(),
            Tok::DateTime(s) => format!("time {s}"),
            Tok::Str(_) => "string".into(),
            Tok::Regex(_) => "regex".into(),
            Tok::Sym(s) => format!("{s:?}"),
            Tok::Eof => "end of input".into(),
        }
    }

    fn expect(&mut self, sym: &str, operand_follows: bool) -> PResult<Token> {
        if !self.is(sym) {
            return self.error(format!("expected {sym:?}, got {}", self.describe()));
        }
        self.advance(operand_follows)
    }

    fn identifier(&mut self) -> PResult<Identifier> {
        let start = self.tok.start;
        match &self.tok.tok {
            Tok::Ident(name) => {
                let name = name.clone();
                self.bump_operand()?;
                Ok(Identifier { base: self.base(start), name })
            }
            _ => self.error(format!("expected an identifier, got {}", self.describe())),
        }
    }

    // ---- files and statements ----

    fn attributes(&mut self) -> PResult<Vec<Attribute>> {
        let mut out = Vec::new();
        while self.is("@") {
            let start = self.tok.start;
            self.bump_operand()?;
            let name = self.identifier()?.name;
            self.expect("(", true)?;
            let mut params = Vec::new();
            while !self.is(")") {
                let pstart = self.tok.start;
                let value = self.primary()?;
                params.push(AttributeParam { base: self.base(pstart), value });
                if !self.is(",") {
                    break;
                }
                self.bump()?;
            }
            self.expect(")", false)?;
            out.push(Attribute { base: self.base(start), name, params });
        }
        Ok(out)
    }

    fn file(&mut self) -> PResult<File> {
        let start = self.tok.start;
        let mut attrs = self.attributes()?;
        let package = if self.is("package") {
            let pstart = self.tok.start;
            self.bump_operand()?;
            let name = self.identifier()?;
            let mut base = self.base(pstart);
            base.attributes = std::mem::take(&mut attrs);
            attrs = self.attributes()?;
            Some(PackageClause { base, name })
        } else {
            None
        };
        let mut imports = Vec::new();
        while self.is("import") {
            let istart = self.tok.start;
            self.bump_operand()?;
            let alias = if matches!(self.tok.tok, Tok::Ident(_)) { Some(self.identifier()?) } else { None };
            let path = match self.string_token()? {
                Expression::StringLiteral(s) => s,
                _ => return self.error("an import path cannot hold interpolations"),
            };
            let mut base = self.base(istart);
            base.attributes = std::mem::take(&mut attrs);
            attrs = self.attributes()?;
            imports.push(ImportDeclaration { base, alias, path });
        }
        let mut body = Vec::new();
        while self.tok.tok != Tok::Eof {
            let mut stmt = self.statement()?;
            if !attrs.is_empty() {
                set_attributes(&mut stmt, std::mem::take(&mut attrs));
            }
            body.push(stmt);
            attrs = self.attributes()?;
        }
        Ok(File {
            base: self.base(start),
            name: String::new(),
            metadata: "parser-type=rust".into(),
            package,
            imports,
            body,
        })
    }

    fn statement(&mut self) -> PResult<Statement> {
        let start = self.tok.start;
        match &self.tok.tok {
            Tok::Sym("option") => {
                self.bump_operand()?;
                let id_start = self.tok.start;
                let first = self.identifier()?;
                let assignment = if self.is(".") {
                    self.bump_operand()?;
                    let prop = self.identifier()?;
                    let member = MemberExpression {
                        base: self.base(id_start),
                        object: Box::new(Expression::Identifier(first)),
                        property: PropertyKey::Identifier(prop),
                    };
                    self.expect("=", true)?;
                    let init = self.expression()?;
                    Assignment::MemberAssignment { base: self.base(id_start), member, init }
                } else {
                    self.expect("=", true)?;
                    let init = self.expression()?;
                    Assignment::VariableAssignment(VariableAssignment { base: self.base(id_start), id: first, init })
                };
                Ok(Statement::OptionStatement { base: self.base(start), assignment })
            }
            Tok::Sym("return") => {
                self.bump()?;
                let argument = self.expression()?;
                Ok(Statement::ReturnStatement { base: self.base(start), argument })
            }
            Tok::Sym("testcase") => {
                self.bump_operand()?;
                let id = self.identifier()?;
                let extends = if matches!(&self.tok.tok, Tok::Ident(s) if s == "extends") {
                    self.bump_operand()?;
                    match self.string_token()? {
                        Expression::StringLiteral(s) => Some(s),
                        _ => return self.error("extends takes a plain string"),
                    }
                } else {
                    None
                };
                let block = self.block()?;
                Ok(Statement::TestCaseStatement { base: self.base(start), id, extends, block })
            }
            Tok::Sym("builtin") => {
                self.bump_operand()?;
                let id = self.identifier()?;
                self.expect(":", true)?;
                let tstart = self.tok.start;
                // The type runs to the end of the line, or on while brackets are open.
                let line = tstart.line;
                let mut depth = 0i32;
                while self.tok.tok != Tok::Eof && (depth > 0 || self.tok.start.line == line) {
                    match &self.tok.tok {
                        Tok::Sym("(" | "[" | "{") => depth += 1,
                        Tok::Sym(")" | "]" | "}") => depth -= 1,
                        _ => {}
                    }
                    self.bump()?;
                }
                let ty = TypeText { base: self.base(tstart) };
                Ok(Statement::BuiltinStatement { base: self.base(start), id, ty })
            }
            Tok::Ident(_) => {
                // `name = expr` is an assignment; anything else starting with a name is an expression.
                let save = (self.lx.position(), self.tok.clone(), self.prev_end);
                let id = self.identifier()?;
                if self.is("=") {
                    self.bump()?;
                    let init = self.expression()?;
                    return Ok(Statement::VariableAssignment(VariableAssignment { base: self.base(start), id, init }));
                }
                self.lx.reset(save.0);
                self.tok = save.1;
                self.prev_end = save.2;
                let expression = self.expression()?;
                Ok(Statement::ExpressionStatement { base: self.base(start), expression })
            }
            _ => {
                let expression = self.expression()?;
                Ok(Statement::ExpressionStatement { base: self.base(start), expression })
            }
        }
    }

    fn block(&mut self) -> PResult<Block> {
        let start = self.tok.start;
        self.expect("{", true)?;
        let mut body = Vec::new();
        while !self.is("}") {
            if self.tok.tok == Tok::Eof {
                return self.error("expected \"}\", got end of input");
            }
            body.push(self.statement()?);
        }
        self.expect("}", false)?;
        Ok(Block { base: self.base(start), body })
    }

    // ---- expressions, loosest binding first ----

    fn expression(&mut self) -> PResult<Expression> {
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

    fn logical_or(&mut self) -> PResult<Expression> {
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

    fn logical_and(&mut self) -> PResult<Expression> {
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

    fn unary_logical(&mut self) -> PResult<Expression> {
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
    fn binary_level(&mut self, level: usize) -> PResult<Expression> {
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

    fn pipe(&mut self) -> PResult<Expression> {
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

    fn unary(&mut self) -> PResult<Expression> {
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

    fn postfix(&mut self) -> PResult<Expression> {
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
    fn base_from_args(&self, paren: Position) -> BaseNode {
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
    fn property_list(&mut self, close: &str) -> PResult<Vec<Property>> {
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

    fn property(&mut self) -> PResult<Property> {
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

    fn primary(&mut self) -> PResult<Expression> {
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
    fn paren_or_function(&mut self) -> PResult<Expression> {
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
    fn try_params(&mut self) -> PResult<Option<Vec<Property>>> {
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

    fn record(&mut self) -> PResult<Expression> {
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

    fn array_or_dict(&mut self) -> PResult<Expression> {
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
    fn string_token(&mut self) -> PResult<Expression> {
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

    fn string_parts(&self, raw: &str, at: Position) -> PResult<Vec<StringPart>> {
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

fn set_attributes(stmt: &mut Statement, attrs: Vec<Attribute>) {
    let base = match stmt {
        Statement::ExpressionStatement { base, .. }
        | Statement::OptionStatement { base, .. }
        | Statement::ReturnStatement { base, .. }
        | Statement::TestCaseStatement { base, .. }
        | Statement::BuiltinStatement { base, .. } => base,
        Statement::VariableAssignment(v) => &mut v.base,
    };
    base.attributes = attrs;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn ast(src: &str) -> Value {
        serde_json::to_value(parse(src).unwrap()).unwrap()
    }

    fn first_expr(src: &str) -> Value {
        ast(src)["files"][0]["body"][0]["expression"].clone()
    }

    #[test]
    fn a_query_parses_into_flux_shaped_json() {
        let v = ast("from(bucket: \"b\")\n  |> range(start: -1h)");
        assert_eq!(v["type"], "Package");
        assert_eq!(v["package"], "main");
        let file = &v["files"][0];
        assert_eq!(file["type"], "File");
        let stmt = &file["body"][0];
        assert_eq!(stmt["type"], "ExpressionStatement");
        let pipe = &stmt["expression"];
        assert_eq!(pipe["type"], "PipeExpression");
        assert_eq!(pipe["argument"]["type"], "CallExpression");
        assert_eq!(pipe["argument"]["callee"]["name"], "from");
        let args = &pipe["argument"]["arguments"][0];
        assert_eq!(args["type"], "ObjectExpression");
        assert_eq!(
            args["properties"][0]["key"],
            json!({"type": "Identifier", "name": "bucket",
            "location": {"start": {"line": 1, "column": 6}, "end": {"line": 1, "column": 12}, "source": "bucket"}})
        );
        assert_eq!(args["properties"][0]["value"]["value"], "b");
        let range_arg = &pipe["call"]["arguments"][0]["properties"][0]["value"];
        assert_eq!(range_arg["type"], "UnaryExpression");
        assert_eq!(range_arg["operator"], "-");
        assert_eq!(range_arg["argument"]["values"], json!([{"magnitude": 1, "unit": "h"}]));
        assert_eq!(pipe["location"]["start"], json!({"line": 1, "column": 1}));
        assert_eq!(pipe["location"]["end"], json!({"line": 2, "column": 23}));
        assert_eq!(pipe["location"]["source"], "from(bucket: \"b\")\n  |> range(start: -1h)");
    }

    #[test]
    fn precedence_follows_the_spec() {
        // * over +, + over ==, == over and, and over or.
        let e = first_expr("a or b and c == 1 + 2 * 3");
        assert_eq!(e["operator"], "or");
        assert_eq!(e["right"]["operator"], "and");
        assert_eq!(e["right"]["right"]["operator"], "==");
        assert_eq!(e["right"]["right"]["right"]["operator"], "+");
        assert_eq!(e["right"]["right"]["right"]["right"]["operator"], "*");
        assert_eq!(first_expr("1 - 2 - 3")["left"]["operator"], "-");
        assert_eq!(first_expr("not exists r.x")["argument"]["operator"], "exists");
        assert_eq!(first_expr("if a then b else if c then d else e")["alternate"]["type"], "ConditionalExpression");
    }

    #[test]
    fn functions_records_arrays_dicts_and_literals() {
        let v = ast("f = (r, x=10, t=<-) => ({r with y: r.x * x})");
        let init = &v["files"][0]["body"][0]["init"];
        assert_eq!(init["type"], "FunctionExpression");
        assert_eq!(init["params"][2]["value"]["type"], "PipeLiteral");
        assert_eq!(init["body"]["type"], "ParenExpression");
        assert_eq!(init["body"]["expression"]["with"]["source"]["name"], "r");
        assert_eq!(first_expr("[1, 2][0]")["type"], "IndexExpression");
        assert_eq!(first_expr("[\"a\": 1, \"b\": 2]")["elements"][1]["val"]["value"], "2");
        assert_eq!(first_expr("[:]")["type"], "DictExpression");
        assert_eq!(first_expr("r[\"k\"]")["property"]["type"], "StringLiteral");
        assert_eq!(first_expr("2020-01-01")["value"], "2020-01-01T00:00:00Z");
        assert_eq!(
            first_expr("a =~ /x\\/y/")["right"],
            json!({"type": "RegexpLiteral", "value": "x/y",
            "location": {"start": {"line": 1, "column": 6}, "end": {"line": 1, "column": 12}, "source": "/x\\/y/"}})
        );
        assert_eq!(first_expr("8 / 2")["operator"], "/");
        assert_eq!(first_expr("() => { x = 1\n return x }")["body"]["body"][1]["type"], "ReturnStatement");
    }

    #[test]
    fn strings_with_interpolation() {
        let e = first_expr("\"a ${b + 1} \\\"c\\\"\"");
        assert_eq!(e["type"], "StringExpression");
        assert_eq!(
            e["parts"][0],
            json!({"type": "TextPart", "value": "a ",
            "location": {"start": {"line": 1, "column": 2}, "end": {"line": 1, "column": 4}, "source": "a "}})
        );
        assert_eq!(e["parts"][1]["type"], "InterpolatedPart");
        assert_eq!(e["parts"][1]["expression"]["operator"], "+");
        assert_eq!(e["parts"][2]["value"], " \"c\"");
        assert_eq!(first_expr("\"plain\\n\"")["value"], "plain\n");
    }

    #[test]
    fn files_with_package_imports_options_testcases_and_attributes() {
        let v = ast(
            "package foo\nimport \"strings\"\nimport s \"strings\"\noption now = () => 2020-01-01T00:00:00Z\noption task = {name: \"t\", every: 1h}\n@edition(\"2022.1\")\ntestcase t extends \"x\" { a = 1 }\nbuiltin f : (v: A) => A\n",
        );
        assert_eq!(v["package"], "foo");
        let file = &v["files"][0];
        assert_eq!(file["package"]["name"]["name"], "foo");
        assert_eq!(file["imports"][1]["as"]["name"], "s");
        assert_eq!(file["imports"][0]["path"]["value"], "strings");
        assert_eq!(file["body"][0]["type"], "OptionStatement");
        assert_eq!(file["body"][0]["assignment"]["type"], "VariableAssignment");
        assert_eq!(file["body"][2]["type"], "TestCaseStatement");
        assert_eq!(file["body"][2]["attributes"][0]["name"], "edition");
        assert_eq!(file["body"][2]["extends"]["value"], "x");
        assert_eq!(file["body"][3]["type"], "BuiltinStatement");
        assert_eq!(file["body"][3]["ty"]["location"]["source"], "(v: A) => A");
        let m = ast("option task.every = 2h");
        assert_eq!(m["files"][0]["body"][0]["assignment"]["type"], "MemberAssignment");
    }

    #[test]
    fn errors_carry_line_and_column() {
        let err = |s: &str| parse(s).unwrap_err();
        assert_eq!((err("a = \n  (1 + )").line, err("a = \n  (1 + )").column), (2, 8));
        assert!(err("x |> 1").message.contains("pipe destination must be a function call"));
        assert_eq!(err("f(a: 1").message, "expected \")\", got end of input");
        assert!(err("9223372036854775808").message.contains("out of range"));
        assert!(err("\"a\\q\"").message.contains("invalid escape"));
    }
}

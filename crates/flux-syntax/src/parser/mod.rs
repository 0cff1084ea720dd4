//! Recursive descent over the grammar of `SPEC.md`, one function per level of
//! precedence: conditional, or, and, not/exists, comparison, additive,
//! multiplicative, exponent, pipe, unary, postfix, primary.

mod expr;
mod primary;

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
mod tests;

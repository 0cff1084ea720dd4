//! The InfluxQL parser: statements as InfluxDB parses them, with its errors
//! (`found FORM, expected FROM at line 1, char 10`).
//!
//! Statements InfluxDB 2.x parses but does not run (`CREATE DATABASE`, `GRANT`,
//! ...) are recognised by their leading keywords and skipped to the next `;`:
//! they answer `not implemented`, so only a malformed one of them reads
//! differently from InfluxDB (it is not parsed in full).

use std::collections::HashMap;
use std::fmt;

use crate::ast::*;
use crate::lexer::{Keyword, Mark, Pos, Scanned, Scanner, Token, token_text};

/// A parse error: either "found X, expected Y" or a message, with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    pub message: Option<String>,
    pub found: String,
    pub expected: Vec<String>,
    pub pos: Pos,
    /// Errors InfluxDB raises without a position (`invalid duration`, ...).
    pub bare: bool,
}

impl ParseError {
    fn expected(found: &Scanned, expected: &[&str]) -> Self {
        Self {
            message: None,
            found: token_text(found.tok, &found.lit),
            expected: expected.iter().map(|s| (*s).to_owned()).collect(),
            pos: found.pos,
            bare: false,
        }
    }

    fn message(message: impl Into<String>, pos: Pos) -> Self {
        Self { message: Some(message.into()), found: String::new(), expected: Vec::new(), pos, bare: false }
    }

    fn bare(message: impl Into<String>) -> Self {
        Self { bare: true, ..Self::message(message, Pos::default()) }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.message {
            Some(m) if self.bare => f.write_str(m),
            Some(m) => write!(f, "{m} at line {}, char {}", self.pos.line + 1, self.pos.char + 1),
            None => write!(
                f,
                "found {}, expected {} at line {}, char {}",
                self.found,
                self.expected.join(", "),
                self.pos.line + 1,
                self.pos.char + 1
            ),
        }
    }
}

impl std::error::Error for ParseError {}

type PResult<T> = Result<T, ParseError>;

/// A bound parameter's value (`params` of `/query`), as the token it stands for.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Number(f64),
    Integer(i64),
    String(String),
    Bool(bool),
    /// `{"identifier": "name"}`.
    Identifier(String),
    /// `{"regex": "..."}`.
    Regex(String),
    /// `{"duration": "1h"}`.
    Duration(String),
    /// A value that cannot be bound: the error it raises where used.
    Error(String),
}

/// Parses a query: its statements.
pub fn parse_query(text: &str) -> PResult<Query> {
    parse_query_with(text, &HashMap::new())
}

/// Parses a query with bound parameters (`$name`).
pub fn parse_query_with(text: &str, params: &HashMap<String, Param>) -> PResult<Query> {
    let mut p = Parser { s: Scanner::new(text), marks: Vec::new(), params };
    let mut statements = Vec::new();
    let mut after_semicolon = true;
    loop {
        let t = p.scan_ws();
        match t.tok {
            Token::Eof => return Ok(Query { statements }),
            Token::Semicolon => after_semicolon = true,
            _ => {
                if !after_semicolon {
                    return Err(ParseError::expected(&t, &[";"]));
                }
                p.unscan();
                statements.push(p.statement()?);
                after_semicolon = false;
            }
        }
    }
}

/// Parses one expression (for tests and `WHERE` clauses given alone).
pub fn parse_expr(text: &str) -> PResult<Expr> {
    let params = HashMap::new();
    let mut p = Parser { s: Scanner::new(text), marks: Vec::new(), params: &params };
    p.expr()
}

struct Parser<'a> {
    s: Scanner,
    /// Where the last few scans began, for `unscan`.
    marks: Vec<Mark>,
    params: &'a HashMap<String, Param>,
}

const TOP: &[&str] =
    &["SELECT", "DELETE", "SHOW", "CREATE", "DROP", "EXPLAIN", "GRANT", "REVOKE", "ALTER", "SET", "KILL"];

impl Parser<'_> {
    /// The next token, whitespace included; a bound parameter becomes its value.
    fn scan(&mut self) -> Scanned {
        self.mark();
        let t = self.s.scan();
        self.bind(t)
    }

    fn mark(&mut self) {
        if self.marks.len() == 8 {
            self.marks.remove(0);
        }
        self.marks.push(self.s.mark());
    }

    fn bind(&self, t: Scanned) -> Scanned {
        if t.tok != Token::BoundParam {
            return t;
        }
        let Some(v) = self.params.get(&t.lit[1..]) else { return t };
        let (tok, lit) = match v {
            Param::Number(n) => (Token::Number, format!("{n}")),
            Param::Integer(n) => (Token::Integer, n.to_string()),
            Param::String(s) => (Token::Str, s.clone()),
            Param::Bool(true) => (Token::True, String::new()),
            Param::Bool(false) => (Token::False, String::new()),
            Param::Identifier(s) => (Token::Ident, s.clone()),
            Param::Regex(s) => (Token::Regex, s.clone()),
            Param::Duration(s) => (Token::Duration, s.clone()),
            Param::Error(e) => (Token::BoundParam, e.clone()),
        };
        Scanned { tok, pos: t.pos, lit }
    }

    /// The next token that is not whitespace or a comment.
    fn scan_ws(&mut self) -> Scanned {
        loop {
            let t = self.scan();
            if !matches!(t.tok, Token::Ws | Token::Comment) {
                return t;
            }
        }
    }

    /// Steps back over the last token scanned.
    fn unscan(&mut self) {
        if let Some(m) = self.marks.pop() {
            self.s.reset(m);
        }
    }

    fn consume_whitespace(&mut self) {
        if self.scan().tok != Token::Ws {
            self.unscan();
        }
    }

    /// Takes the next token if it is `tok`.
    fn accept(&mut self, tok: Token) -> bool {
        if self.scan_ws().tok == tok {
            true
        } else {
            self.unscan();
            false
        }
    }

    fn keyword(&mut self, k: Keyword) -> bool {
        self.accept(Token::Keyword(k))
    }

    fn expect(&mut self, tok: Token) -> PResult<()> {
        let t = self.scan_ws();
        if t.tok == tok { Ok(()) } else { Err(ParseError::expected(&t, &[tok.as_str()])) }
    }

    fn ident(&mut self) -> PResult<String> {
        let t = self.scan_ws();
        if t.tok == Token::Ident { Ok(t.lit) } else { Err(ParseError::expected(&t, &["identifier"])) }
    }

    fn ident_list(&mut self) -> PResult<Vec<String>> {
        let mut out = vec![self.ident()?];
        while self.accept(Token::Comma) {
            out.push(self.ident()?);
        }
        Ok(out)
    }

    /// The next character, not consuming it.
    fn peek_char(&mut self) -> char {
        self.s.peek_char()
    }

    fn statement(&mut self) -> PResult<Statement> {
        use Keyword::*;
        let t = self.scan_ws();
        let k = match t.tok {
            Token::Keyword(k) => k,
            _ => return Err(ParseError::expected(&t, TOP)),
        };
        match k {
            SELECT => Ok(Statement::Select(Box::new(self.select(false)?))),
            DELETE => self.delete(),
            SHOW => self.show(),
            EXPLAIN => self.explain(),
            CREATE => {
                let name = self.tree(&[
                    (&[CONTINUOUS, QUERY], "CREATE CONTINUOUS QUERY"),
                    (&[DATABASE], "CREATE DATABASE"),
                    (&[USER], "CREATE USER"),
                    (&[RETENTION, POLICY], "CREATE RETENTION POLICY"),
                    (&[SUBSCRIPTION], "CREATE SUBSCRIPTION"),
                ])?;
                self.unsupported(name)
            }
            DROP => {
                let t = self.scan_ws();
                if t.tok == Token::Keyword(MEASUREMENT) {
                    return Ok(Statement::DropMeasurement { name: self.ident()? });
                }
                self.unscan();
                let name = self.tree(&[
                    (&[CONTINUOUS, QUERY], "DROP CONTINUOUS QUERY"),
                    (&[DATABASE], "DROP DATABASE"),
                    (&[MEASUREMENT], "DROP MEASUREMENT"),
                    (&[RETENTION, POLICY], "DROP RETENTION POLICY"),
                    (&[SERIES], "DROP SERIES"),
                    (&[SHARD], "DROP SHARD"),
                    (&[SUBSCRIPTION], "DROP SUBSCRIPTION"),
                    (&[USER], "DROP USER"),
                ])?;
                self.unsupported(name)
            }
            GRANT => {
                let all = self.privilege()?;
                let t = self.scan_ws();
                match t.tok {
                    Token::Keyword(ON) => self.unsupported("GRANT"),
                    Token::Keyword(TO) if all => self.unsupported("GRANT ALL"),
                    _ if all => Err(ParseError::expected(&t, &["ON", "TO"])),
                    _ => Err(ParseError::expected(&t, &["ON"])),
                }
            }
            REVOKE => {
                let all = self.privilege()?;
                let t = self.scan_ws();
                match t.tok {
                    Token::Keyword(ON) => self.unsupported("REVOKE"),
                    Token::Keyword(FROM) if all => self.unsupported("REVOKE ALL"),
                    _ if all => Err(ParseError::expected(&t, &["ON", "FROM"])),
                    _ => Err(ParseError::expected(&t, &["ON"])),
                }
            }
            ALTER => {
                let name = self.tree(&[(&[RETENTION, POLICY], "ALTER RETENTION POLICY")])?;
                self.unsupported(name)
            }
            SET => {
                let name = self.tree(&[(&[PASSWORD, FOR], "SET PASSWORD")])?;
                self.unsupported(name)
            }
            KILL => {
                let name = self.tree(&[(&[QUERY], "SHOW QUERIES")])?;
                let id = self.scan_ws();
                if id.tok != Token::Integer {
                    return Err(ParseError::expected(&id, &["integer"]));
                }
                self.unsupported(name)
            }
            _ => Err(ParseError::expected(&t, TOP)),
        }
    }

    /// `READ`, `WRITE` or `ALL [PRIVILEGES]`: whether all.
    fn privilege(&mut self) -> PResult<bool> {
        let t = self.scan_ws();
        match t.tok {
            Token::Keyword(Keyword::READ) | Token::Keyword(Keyword::WRITE) => Ok(false),
            Token::Keyword(Keyword::ALL) => {
                self.keyword(Keyword::PRIVILEGES);
                Ok(true)
            }
            _ => Err(ParseError::expected(&t, &["READ", "WRITE", "ALL [PRIVILEGES]"])),
        }
    }

    /// Follows a branch of keyword sequences; an unexpected token lists what could come.
    fn tree(&mut self, branches: &[(&[Keyword], &'static str)]) -> PResult<&'static str> {
        let mut depth = 0;
        let mut live: Vec<&(&[Keyword], &'static str)> = branches.iter().collect();
        loop {
            let t = self.scan_ws();
            let next: Vec<&(&[Keyword], &'static str)> =
                live.iter().copied().filter(|(ks, _)| Token::Keyword(ks[depth]) == t.tok).collect();
            if next.is_empty() {
                let mut keys: Vec<&str> = Vec::new();
                for (ks, _) in &live {
                    let k = ks[depth].as_str();
                    if !keys.contains(&k) {
                        keys.push(k);
                    }
                }
                return Err(ParseError::expected(&t, &keys));
            }
            depth += 1;
            if let Some((_, name)) = next.iter().find(|(ks, _)| ks.len() == depth) {
                return Ok(name);
            }
            live = next;
        }
    }

    /// Skips the rest of a statement 2.x does not run.
    fn unsupported(&mut self, name: &str) -> PResult<Statement> {
        loop {
            let t = self.scan_ws();
            if matches!(t.tok, Token::Semicolon | Token::Eof) {
                self.unscan();
                return Ok(Statement::Unsupported(name.to_owned()));
            }
        }
    }

    fn explain(&mut self) -> PResult<Statement> {
        let analyze = self.keyword(Keyword::ANALYZE);
        let verbose = self.keyword(Keyword::VERBOSE);
        let t = self.scan_ws();
        if t.tok != Token::Keyword(Keyword::SELECT) {
            return Err(ParseError::expected(&t, &["SELECT"]));
        }
        Ok(Statement::Explain { analyze, verbose, statement: Box::new(self.select(false)?) })
    }

    fn delete(&mut self) -> PResult<Statement> {
        let t = self.scan_ws();
        let mut sources = Vec::new();
        if t.tok == Token::Keyword(Keyword::FROM) {
            sources = self.sources(false)?;
            // The last offending measurement decides, as in InfluxDB.
            let mut refused = None;
            for s in &sources {
                if let Source::Measurement(m) = s {
                    if !m.database.is_empty() {
                        refused = Some("database not supported");
                    }
                    if !m.retention_policy.is_empty() {
                        refused = Some("retention policy not supported");
                    }
                }
            }
            if let Some(m) = refused {
                return Err(ParseError::message(m, Pos::default()));
            }
        } else {
            self.unscan();
        }
        let condition = self.condition()?;
        if condition.is_none() && sources.is_empty() {
            return Err(ParseError::expected(&t, &["FROM", "WHERE"]));
        }
        Ok(Statement::Delete { sources, condition })
    }

    fn select(&mut self, subquery: bool) -> PResult<SelectStatement> {
        let mut stmt = SelectStatement { fields: self.fields()?, ..SelectStatement::default() };
        stmt.target = self.target()?;
        let t = self.scan_ws();
        if t.tok != Token::Keyword(Keyword::FROM) {
            return Err(ParseError::expected(&t, &["FROM"]));
        }
        stmt.sources = self.sources(true)?;
        stmt.condition = self.condition()?;
        stmt.dimensions = self.dimensions()?;
        stmt.fill = self.fill()?;
        stmt.descending = self.order_by()?;
        stmt.limit = self.optional_int(Keyword::LIMIT)?;
        stmt.offset = self.optional_int(Keyword::OFFSET)?;
        stmt.slimit = self.optional_int(Keyword::SLIMIT)?;
        stmt.soffset = self.optional_int(Keyword::SOFFSET)?;
        stmt.location = self.location()?;
        let _ = subquery;
        Ok(stmt)
    }

    fn target(&mut self) -> PResult<Option<Measurement>> {
        if !self.keyword(Keyword::INTO) {
            return Ok(None);
        }
        let mut idents = self.segmented_idents()?;
        if idents.len() < 3 && self.peek_char() == ':' {
            self.expect(Token::Colon)?;
            self.expect(Token::Keyword(Keyword::MEASUREMENT))?;
            idents.push(String::new());
        }
        let mut m = Measurement::default();
        match idents.len() {
            1 => m.name = idents.remove(0),
            2 => {
                m.name = idents.remove(1);
                m.retention_policy = idents.remove(0);
            }
            _ => {
                m.name = idents.remove(2);
                m.retention_policy = idents.remove(1);
                m.database = idents.remove(0);
            }
        }
        Ok(Some(m))
    }

    fn fields(&mut self) -> PResult<Vec<Field>> {
        let mut fields = vec![self.field()?];
        loop {
            if self.scan().tok != Token::Comma {
                self.unscan();
                return Ok(fields);
            }
            fields.push(self.field()?);
        }
    }

    fn field(&mut self) -> PResult<Field> {
        let expr = match self.regex()? {
            Some(re) => re,
            None => {
                let pos = self.scan_ws().pos;
                self.unscan();
                let expr = self.expr()?;
                if let Some(op) = comparison_in(&expr) {
                    return Err(ParseError::bare(format!(
                        "invalid operator {} in SELECT clause at line {}, char {}; operator is intended for WHERE clause",
                        op.as_str(),
                        pos.line + 1,
                        pos.char + 1
                    )));
                }
                expr
            }
        };
        let alias = if self.keyword(Keyword::AS) { Some(self.ident()?) } else { None };
        self.consume_whitespace();
        Ok(Field { expr, alias })
    }

    fn sources(&mut self, subqueries: bool) -> PResult<Vec<Source>> {
        let mut out = vec![self.source(subqueries)?];
        while self.accept(Token::Comma) {
            out.push(self.source(subqueries)?);
        }
        Ok(out)
    }

    fn source(&mut self, subqueries: bool) -> PResult<Source> {
        if let Some(Expr::Regex(re)) = self.regex()? {
            return Ok(Source::Measurement(Measurement { regex: Some(re), ..Measurement::default() }));
        }
        if subqueries {
            if self.scan_ws().tok == Token::LParen {
                self.expect(Token::Keyword(Keyword::SELECT))?;
                let stmt = self.select(true)?;
                self.expect(Token::RParen)?;
                return Ok(Source::Subquery(Box::new(stmt)));
            }
            self.unscan();
        }
        let mut idents = self.segmented_idents()?;
        let mut m = Measurement::default();
        if idents.len() == 3 {
            m.name = idents.remove(2);
            m.retention_policy = idents.remove(1);
            m.database = idents.remove(0);
            return Ok(Source::Measurement(m));
        }
        let re = match self.regex()? {
            Some(Expr::Regex(re)) => Some(re),
            _ => None,
        };
        match (idents.len(), re) {
            (1, Some(re)) => {
                m.retention_policy = idents.remove(0);
                m.regex = Some(re);
            }
            (1, None) => m.name = idents.remove(0),
            (_, Some(re)) => {
                m.retention_policy = idents.remove(1);
                m.database = idents.remove(0);
                m.regex = Some(re);
            }
            (_, None) => {
                m.name = idents.remove(1);
                m.retention_policy = idents.remove(0);
            }
        }
        Ok(Source::Measurement(m))
    }

    /// `a`, `a.b`, `a.b.c`, `a..c` (an empty middle).
    fn segmented_idents(&mut self) -> PResult<Vec<String>> {
        let mut idents = vec![self.ident()?];
        loop {
            if self.scan().tok != Token::Dot {
                self.unscan();
                break;
            }
            match self.peek_char() {
                '/' | ':' => break,
                '.' => {
                    idents.push(String::new());
                    continue;
                }
                _ => {}
            }
            idents.push(self.ident()?);
        }
        if idents.len() > 3 {
            return Err(ParseError::message(format!("too many segments in {}", quote_ident(&idents)), Pos::default()));
        }
        Ok(idents)
    }

    fn condition(&mut self) -> PResult<Option<Expr>> {
        if !self.keyword(Keyword::WHERE) {
            return Ok(None);
        }
        Ok(Some(self.expr()?))
    }

    fn dimensions(&mut self) -> PResult<Vec<Expr>> {
        if !self.keyword(Keyword::GROUP) {
            return Ok(Vec::new());
        }
        let t = self.scan_ws();
        if t.tok != Token::Keyword(Keyword::BY) {
            return Err(ParseError::expected(&t, &["BY"]));
        }
        let mut out = Vec::new();
        loop {
            match self.regex()? {
                Some(re) => out.push(re),
                None => {
                    out.push(self.expr()?);
                    self.consume_whitespace();
                }
            }
            if self.scan().tok != Token::Comma {
                self.unscan();
                return Ok(out);
            }
        }
    }

    fn fill(&mut self) -> PResult<Fill> {
        let t = self.scan_ws();
        self.unscan();
        if t.tok != Token::Ident || !t.lit.eq_ignore_ascii_case("fill") {
            return Ok(Fill::Null);
        }
        let Expr::Call { args, .. } = self.expr()? else {
            return Err(ParseError::bare("fill must be a function call"));
        };
        let [arg] = args.as_slice() else {
            return Err(ParseError::bare("fill requires an argument, e.g.: 0, null, none, previous, linear"));
        };
        Ok(match arg {
            Expr::VarRef { name, ty: None } if name == "null" => Fill::Null,
            Expr::VarRef { name, ty: None } if name == "none" => Fill::None,
            Expr::VarRef { name, ty: None } if name == "previous" => Fill::Previous,
            Expr::VarRef { name, ty: None } if name == "linear" => Fill::Linear,
            Expr::Integer(n) => Fill::Integer(*n),
            Expr::Number(n) => Fill::Number(*n),
            _ => return Err(ParseError::bare("expected number argument in fill()")),
        })
    }

    fn location(&mut self) -> PResult<Option<String>> {
        let t = self.scan_ws();
        self.unscan();
        if t.tok != Token::Ident || !t.lit.eq_ignore_ascii_case("tz") {
            return Ok(None);
        }
        let Expr::Call { args, .. } = self.expr()? else {
            return Err(ParseError::bare("tz must be a function call"));
        };
        let [arg] = args.as_slice() else {
            return Err(ParseError::bare("tz requires exactly one argument"));
        };
        let Expr::String(name) = arg else {
            return Err(ParseError::bare("expected string argument in tz()"));
        };
        if !(name.is_empty() || name == "UTC" || name == "Local" || name.parse::<chrono_tz::Tz>().is_ok()) {
            return Err(ParseError::bare(format!("unable to find time zone {name}")));
        }
        Ok(Some(name.clone()))
    }

    fn optional_int(&mut self, k: Keyword) -> PResult<u64> {
        if !self.keyword(k) {
            return Ok(0);
        }
        let t = self.scan_ws();
        if t.tok != Token::Integer {
            return Err(ParseError::expected(&t, &["integer"]));
        }
        // Digits only, so never negative; past i64 it reads as 0, as InfluxDB's ParseInt failure does.
        Ok(t.lit.parse::<i64>().map_or(0, |n| n as u64))
    }

    /// `ORDER BY time [ASC|DESC]` or `ORDER BY ASC|DESC`: whether descending.
    fn order_by(&mut self) -> PResult<bool> {
        if !self.keyword(Keyword::ORDER) {
            return Ok(false);
        }
        let t = self.scan_ws();
        if t.tok != Token::Keyword(Keyword::BY) {
            return Err(ParseError::expected(&t, &["BY"]));
        }
        let only_time = || ParseError::bare("only ORDER BY time supported at this time");
        let t = self.scan_ws();
        let mut count = 1;
        let mut descending = match t.tok {
            Token::Keyword(Keyword::ASC) => false,
            Token::Keyword(Keyword::DESC) => true,
            Token::Ident => {
                self.unscan();
                let (name, desc) = self.sort_field()?;
                if name != "time" {
                    return Err(only_time());
                }
                desc
            }
            _ => return Err(ParseError::expected(&t, &["identifier", "ASC", "DESC"])),
        };
        while self.accept(Token::Comma) {
            descending = self.sort_field()?.1;
            count += 1;
        }
        if count > 1 {
            return Err(only_time());
        }
        Ok(descending)
    }

    fn sort_field(&mut self) -> PResult<(String, bool)> {
        let name = self.ident()?;
        let t = self.scan_ws();
        let desc = match t.tok {
            Token::Keyword(Keyword::DESC) => true,
            Token::Keyword(Keyword::ASC) => false,
            _ => {
                self.unscan();
                false
            }
        };
        Ok((name, desc))
    }

    /// A regular expression, if one comes next (after any whitespace).
    fn regex(&mut self) -> PResult<Option<Expr>> {
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
                check_regex(&t.lit).map_err(|m| ParseError::message(m, t.pos))?;
                Ok(Some(Expr::Regex(t.lit)))
            }
            _ => Err(ParseError::expected(&t, &["regex"])),
        }
    }

    /// An expression: unary operands joined by binary operators by precedence.
    fn expr(&mut self) -> PResult<Expr> {
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
                check_regex(&t.lit).map_err(|m| ParseError::message(m, t.pos))?;
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

    fn show(&mut self) -> PResult<Statement> {
        use Keyword::*;
        let t = self.scan_ws();
        let Token::Keyword(k) = t.tok else {
            return Err(ParseError::expected(&t, SHOW_KEYS));
        };
        match k {
            DATABASES => Ok(Statement::ShowDatabases),
            RETENTION => {
                let t = self.scan_ws();
                if t.tok != Token::Keyword(POLICIES) {
                    return Err(ParseError::expected(&t, &["POLICIES"]));
                }
                let database = if self.keyword(ON) { Some(self.ident()?) } else { None };
                Ok(Statement::ShowRetentionPolicies { database })
            }
            MEASUREMENTS => self.show_measurements(),
            MEASUREMENT => {
                let t = self.scan_ws();
                let exact = match t.tok {
                    Token::Keyword(EXACT) => {
                        let c = self.scan_ws();
                        if c.tok != Token::Keyword(CARDINALITY) {
                            return Err(ParseError::expected(&c, &["CARDINALITY"]));
                        }
                        true
                    }
                    Token::Keyword(CARDINALITY) => false,
                    _ => return Err(ParseError::expected(&t, &["EXACT", "CARDINALITY"])),
                };
                self.cardinality(CardinalityOf::Measurements, exact)
            }
            SERIES => {
                let exact = self.keyword(EXACT);
                if self.keyword(CARDINALITY) {
                    return self.cardinality(CardinalityOf::Series, exact);
                }
                let mut s = self.show_schema_head()?;
                s.condition = self.condition()?;
                self.order_by()?;
                s.limit = self.optional_int(LIMIT)?;
                s.offset = self.optional_int(OFFSET)?;
                Ok(Statement::ShowSeries(s))
            }
            TAG => {
                let t = self.scan_ws();
                match t.tok {
                    Token::Keyword(KEY) => {
                        let exact = self.keyword(EXACT);
                        let c = self.scan_ws();
                        if c.tok != Token::Keyword(CARDINALITY) {
                            let expected: &[&str] = if exact { &["CARDINALITY"] } else { &["EXACT", "CARDINALITY"] };
                            return Err(ParseError::expected(&c, expected));
                        }
                        self.cardinality(CardinalityOf::TagKeys, exact)
                    }
                    Token::Keyword(KEYS) => {
                        let mut s = self.show_schema_head()?;
                        if self.scan_ws().tok == Token::Keyword(WITH) {
                            self.unscan();
                            // Parsed as InfluxDB does; 2.x ignores it for tag keys.
                            self.tag_keys()?;
                        } else {
                            self.unscan();
                        }
                        s.condition = self.condition()?;
                        self.order_by()?;
                        s.limit = self.optional_int(LIMIT)?;
                        s.offset = self.optional_int(OFFSET)?;
                        s.slimit = self.optional_int(SLIMIT)?;
                        s.soffset = self.optional_int(SOFFSET)?;
                        Ok(Statement::ShowTagKeys(s))
                    }
                    Token::Keyword(VALUES) => {
                        let t = self.scan_ws();
                        match t.tok {
                            Token::Keyword(EXACT) => {
                                let c = self.scan_ws();
                                if c.tok != Token::Keyword(CARDINALITY) {
                                    return Err(ParseError::expected(&c, &["CARDINALITY"]));
                                }
                                return self.cardinality(CardinalityOf::TagValues, true);
                            }
                            Token::Keyword(CARDINALITY) => return self.cardinality(CardinalityOf::TagValues, false),
                            _ => self.unscan(),
                        }
                        let head = self.show_schema_head()?;
                        let keys = self.tag_keys()?;
                        let condition = self.condition()?;
                        self.order_by()?;
                        let limit = self.optional_int(LIMIT)?;
                        let offset = self.optional_int(OFFSET)?;
                        Ok(Statement::ShowTagValues(ShowTagValues {
                            database: head.database,
                            sources: head.sources,
                            keys,
                            condition,
                            limit,
                            offset,
                        }))
                    }
                    _ => Err(ParseError::expected(&t, &["KEY", "KEYS", "VALUES"])),
                }
            }
            FIELD => {
                let t = self.scan_ws();
                match t.tok {
                    Token::Keyword(KEY) => {
                        let exact = self.keyword(EXACT);
                        let c = self.scan_ws();
                        if c.tok != Token::Keyword(CARDINALITY) {
                            let expected: &[&str] = if exact { &["CARDINALITY"] } else { &["EXACT", "CARDINALITY"] };
                            return Err(ParseError::expected(&c, expected));
                        }
                        self.cardinality(CardinalityOf::FieldKeys, exact)
                    }
                    Token::Keyword(KEYS) => {
                        let mut s = self.show_schema_head()?;
                        self.order_by()?;
                        s.limit = self.optional_int(LIMIT)?;
                        s.offset = self.optional_int(OFFSET)?;
                        Ok(Statement::ShowFieldKeys(s))
                    }
                    _ => Err(ParseError::expected(&t, &["KEY", "KEYS"])),
                }
            }
            CONTINUOUS => {
                self.tree(&[(&[QUERIES], "SHOW CONTINUOUS QUERIES")])?;
                self.unsupported("SHOW CONTINUOUS QUERIES")
            }
            DIAGNOSTICS => self.unsupported("SHOW DIAGNOSTICS"),
            GRANTS => {
                self.tree(&[(&[FOR], "SHOW GRANTS")])?;
                self.unsupported("SHOW GRANTS")
            }
            QUERIES => self.unsupported("SHOW QUERIES"),
            SHARD => {
                self.tree(&[(&[GROUPS], "SHOW SHARD GROUPS")])?;
                self.unsupported("SHOW SHARD GROUPS")
            }
            SHARDS => self.unsupported("SHOW SHARDS"),
            STATS => self.unsupported("SHOW STATS"),
            SUBSCRIPTIONS => self.unsupported("SHOW SUBSCRIPTIONS"),
            USERS => self.unsupported("SHOW USERS"),
            _ => Err(ParseError::expected(&t, SHOW_KEYS)),
        }
    }

    /// `[ON db] [FROM sources]`.
    fn show_schema_head(&mut self) -> PResult<ShowSchema> {
        let database = if self.keyword(Keyword::ON) { Some(self.ident()?) } else { None };
        let sources = if self.keyword(Keyword::FROM) { self.sources(false)? } else { Vec::new() };
        Ok(ShowSchema { database, sources, ..ShowSchema::default() })
    }

    fn show_measurements(&mut self) -> PResult<Statement> {
        let mut s = ShowMeasurements::default();
        if self.keyword(Keyword::ON) {
            let t = self.scan_ws();
            match t.tok {
                Token::Ident => s.database = Some(t.lit),
                Token::Mul => s.database = Some("*".into()),
                _ => return Err(ParseError::expected(&t, &["identifier or *"])),
            }
            if self.accept(Token::Dot) {
                let t = self.scan_ws();
                if !matches!(t.tok, Token::Ident | Token::Mul) {
                    return Err(ParseError::expected(&t, &["identifier or *"]));
                }
            }
        }
        if self.keyword(Keyword::WITH) {
            self.expect(Token::Keyword(Keyword::MEASUREMENT))?;
            let t = self.scan_ws();
            if !matches!(t.tok, Token::Eq | Token::EqRegex) {
                return Err(ParseError::expected(&t, &["=", "=~"]));
            }
            if let Source::Measurement(m) = self.source(false)? {
                s.source = Some(m);
            }
        }
        s.condition = self.condition()?;
        self.order_by()?;
        s.limit = self.optional_int(Keyword::LIMIT)?;
        s.offset = self.optional_int(Keyword::OFFSET)?;
        Ok(Statement::ShowMeasurements(s))
    }

    fn cardinality(&mut self, of: CardinalityOf, exact: bool) -> PResult<Statement> {
        let head = self.show_schema_head()?;
        let keys = if of == CardinalityOf::TagValues { Some(self.tag_keys()?) } else { None };
        let condition = self.condition()?;
        let dimensions = self.dimensions()?;
        let limit = self.optional_int(Keyword::LIMIT)?;
        let offset = self.optional_int(Keyword::OFFSET)?;
        Ok(Statement::ShowCardinality(ShowCardinality {
            of,
            exact,
            database: head.database,
            sources: head.sources,
            condition,
            dimensions,
            limit,
            offset,
            keys,
        }))
    }

    /// `WITH KEY = k | != k | IN (a, b) | =~ /re/ | !~ /re/`.
    fn tag_keys(&mut self) -> PResult<TagKeys> {
        self.expect(Token::Keyword(Keyword::WITH))?;
        self.expect(Token::Keyword(Keyword::KEY))?;
        let t = self.scan_ws();
        match t.tok {
            Token::Keyword(Keyword::IN) => {
                let open = self.scan_ws();
                if open.tok != Token::LParen {
                    return Err(ParseError::expected(&open, &["("]));
                }
                let keys = self.ident_list()?;
                let close = self.scan_ws();
                if close.tok != Token::RParen {
                    return Err(ParseError::expected(&close, &[")"]));
                }
                Ok(TagKeys::In(keys))
            }
            Token::Eq => Ok(TagKeys::Eq(self.ident()?)),
            Token::Neq => Ok(TagKeys::Neq(self.ident()?)),
            Token::EqRegex | Token::NeqRegex => match self.regex()? {
                Some(Expr::Regex(re)) if t.tok == Token::EqRegex => Ok(TagKeys::Regex(re)),
                Some(Expr::Regex(re)) => Ok(TagKeys::NotRegex(re)),
                _ => {
                    let t = self.scan_ws();
                    Err(ParseError::expected(&t, &["regex"]))
                }
            },
            _ => Err(ParseError::expected(&t, &["IN", "=", "=~"])),
        }
    }
}

const SHOW_KEYS: &[&str] = &[
    "CONTINUOUS",
    "DATABASES",
    "DIAGNOSTICS",
    "FIELD",
    "GRANTS",
    "MEASUREMENT",
    "MEASUREMENTS",
    "QUERIES",
    "RETENTION",
    "SERIES",
    "SHARD",
    "SHARDS",
    "STATS",
    "SUBSCRIPTIONS",
    "TAG",
    "USERS",
];

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
fn comparison_in(e: &Expr) -> Option<Token> {
    match e {
        Expr::Binary { op, lhs, rhs } => {
            if matches!(
                op,
                Token::Eq
                    | Token::Neq
                    | Token::EqRegex
                    | Token::NeqRegex
                    | Token::Lt
                    | Token::Lte
                    | Token::Gt
                    | Token::Gte
                    | Token::And
                    | Token::Or
            ) {
                return Some(*op);
            }
            comparison_in(lhs).or_else(|| comparison_in(rhs))
        }
        Expr::Paren(e) => comparison_in(e),
        Expr::Call { args, .. } => args.iter().find_map(comparison_in),
        _ => None,
    }
}

/// Whether a regular expression compiles, with Go's words when it does not
/// (`error parsing regexp: invalid escape sequence: `\q``).
fn check_regex(re: &str) -> Result<(), String> {
    use regex_syntax::ast::ErrorKind as K;
    let e = match regex_syntax::ast::parse::Parser::new().parse(re) {
        Ok(ast) => {
            // Go refuses a repetition of a repetition (`a**`); this parser allows it.
            return match nested_repetition(&ast) {
                Some((start, end)) => {
                    Err(format!("error parsing regexp: invalid nested repetition operator: `{}`", &re[start..end]))
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
        _ => return Err(format!("error parsing regexp: {}", e.kind())),
    };
    Err(format!("error parsing regexp: {code}: `{shown}`"))
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

/// InfluxQL's duration syntax (`1h30m`, `10s`, `5u`, `100ms`, `1w`, `15ns`): nanoseconds.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    let invalid = || "invalid duration".to_owned();
    let chars: Vec<char> = s.chars().collect();
    if chars.len() < 2 {
        return Err(invalid());
    }
    let mut i = 0;
    let negative = chars[0] == '-';
    if negative {
        i += 1;
    }
    let mut total: i64 = 0;
    while i < chars.len() {
        let start = i;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        if i >= chars.len() || i == start {
            return Err(invalid());
        }
        let digits: String = chars[start..i].iter().collect();
        let n: i64 = digits.parse().map_err(|_| invalid())?;
        let (unit, len, scale): (String, usize, i64) = match chars[i] {
            'n' if chars.get(i + 1) == Some(&'s') => ("ns".into(), 2, 1),
            'u' | 'µ' => (chars[i].to_string(), 1, time::MICROSECOND),
            'm' if chars.get(i + 1) == Some(&'s') => ("ms".into(), 2, time::MILLISECOND),
            'm' => ("m".into(), 1, time::MINUTE),
            's' => ("s".into(), 1, time::SECOND),
            'h' => ("h".into(), 1, time::HOUR),
            'd' => ("d".into(), 1, time::DAY),
            'w' => ("w".into(), 1, time::WEEK),
            _ => return Err(invalid()),
        };
        // Go's arithmetic wraps; a wrapped (negative) total is the overflow it reports.
        total = total.wrapping_add(n.wrapping_mul(scale));
        if total < 0 && !negative {
            return Err(format!("overflowed duration {n}{unit}: choose a smaller duration or INF"));
        }
        i += len;
    }
    Ok(if negative { total.wrapping_neg() } else { total })
}

/// A duration as InfluxQL writes it: the largest unit that divides it.
pub fn format_duration(ns: i64) -> String {
    const UNITS: [(i64, &str); 7] = [
        (time::WEEK, "w"),
        (time::DAY, "d"),
        (time::HOUR, "h"),
        (time::MINUTE, "m"),
        (time::SECOND, "s"),
        (time::MILLISECOND, "ms"),
        (time::MICROSECOND, "u"),
    ];
    if ns == 0 {
        return "0s".into();
    }
    for (size, unit) in UNITS {
        if ns % size == 0 {
            return format!("{}{unit}", ns / size);
        }
    }
    format!("{ns}ns")
}

/// An identifier as InfluxQL would write it, quoted where it must be.
pub fn quote_ident(segments: &[String]) -> String {
    let mut out = String::new();
    for (i, seg) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        let quote = needs_quotes(seg) || (!last && !seg.is_empty()) || ((i == 0 || last) && seg.is_empty());
        if quote {
            out.push('"');
        }
        out.push_str(&seg.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n"));
        if quote {
            out.push('"');
        }
        if !last {
            out.push('.');
        }
    }
    out
}

fn needs_quotes(ident: &str) -> bool {
    if Keyword::lookup(ident).is_some() || ["and", "or", "true", "false"].iter().any(|w| w.eq_ignore_ascii_case(ident))
    {
        return true;
    }
    ident.chars().enumerate().any(|(i, c)| {
        if i == 0 { !(c.is_ascii_alphabetic() || c == '_') } else { !(c.is_ascii_alphanumeric() || c == '_') }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn select(q: &str) -> SelectStatement {
        match parse_query(q).unwrap().statements.remove(0) {
            Statement::Select(s) => *s,
            other => panic!("{other:?}"),
        }
    }

    fn var(name: &str) -> Box<Expr> {
        Box::new(Expr::VarRef { name: name.into(), ty: None })
    }

    #[test]
    fn operators_bind_by_precedence_and_parentheses_group() {
        let e = parse_expr("a + b * c = 1 AND d OR e").unwrap();
        let Expr::Binary { op: Token::Or, lhs, .. } = e else { panic!() };
        let Expr::Binary { op: Token::And, lhs, .. } = *lhs else { panic!() };
        let Expr::Binary { op: Token::Eq, lhs, .. } = *lhs else { panic!() };
        assert_eq!(
            *lhs,
            Expr::Binary {
                op: Token::Add,
                lhs: var("a"),
                rhs: Box::new(Expr::Binary { op: Token::Mul, lhs: var("b"), rhs: var("c") })
            }
        );
        let e = parse_expr("(a + b) * c").unwrap();
        assert!(matches!(e, Expr::Binary { op: Token::Mul, lhs, .. } if matches!(*lhs, Expr::Paren(_))));
        assert_eq!(parse_expr("-5").unwrap(), Expr::Integer(-5));
        assert_eq!(parse_expr("-1h").unwrap(), Expr::Duration(-3_600_000_000_000));
        assert_eq!(
            parse_expr("host =~ /^a/").unwrap(),
            Expr::Binary { op: Token::EqRegex, lhs: var("host"), rhs: Box::new(Expr::Regex("^a".into())) }
        );
    }

    #[test]
    fn a_select_keeps_every_clause() {
        let s = select(
            "SELECT mean(value) AS m, host::tag FROM db.rp.cpu, /mem.*/ WHERE time > now() - 1h \
             GROUP BY time(10m, 1m), host fill(previous) ORDER BY time DESC LIMIT 5 OFFSET 1 SLIMIT 2 SOFFSET 3 tz('Europe/Paris')",
        );
        assert_eq!(s.fields.len(), 2);
        assert_eq!(s.fields[0].alias.as_deref(), Some("m"));
        assert_eq!(s.fields[1].expr, Expr::VarRef { name: "host".into(), ty: Some(DataType::Tag) });
        assert_eq!(
            s.sources[0],
            Source::Measurement(Measurement {
                database: "db".into(),
                retention_policy: "rp".into(),
                name: "cpu".into(),
                regex: None
            })
        );
        assert_eq!(
            s.sources[1],
            Source::Measurement(Measurement { regex: Some("mem.*".into()), ..Measurement::default() })
        );
        assert_eq!(s.dimensions.len(), 2);
        assert_eq!(s.fill, Fill::Previous);
        assert!(s.descending);
        assert_eq!((s.limit, s.offset, s.slimit, s.soffset), (5, 1, 2, 3));
        assert_eq!(s.location.as_deref(), Some("Europe/Paris"));
        let sub = select("SELECT max(m) FROM (SELECT mean(v) AS m FROM cpu GROUP BY time(1m))");
        assert!(matches!(&sub.sources[0], Source::Subquery(_)));
    }

    #[test]
    fn bound_parameters_stand_for_their_values() {
        let params: HashMap<String, Param> =
            [("h".to_owned(), Param::String("a".into())), ("n".to_owned(), Param::Integer(3))].into();
        let q = parse_query_with("SELECT v FROM cpu WHERE host = $h LIMIT $n", &params).unwrap();
        let Statement::Select(s) = &q.statements[0] else { panic!() };
        assert_eq!(s.limit, 3);
        assert_eq!(
            s.condition,
            Some(Expr::Binary { op: Token::Eq, lhs: var("host"), rhs: Box::new(Expr::String("a".into())) })
        );
        let err = parse_query("SELECT v FROM cpu WHERE host = $missing").unwrap_err();
        assert_eq!(err.to_string(), "missing parameter: missing");
    }

    #[test]
    fn statements_2x_does_not_run_are_named() {
        let q = parse_query("CREATE DATABASE x; SHOW USERS; KILL QUERY 3; SHOW DATABASES").unwrap();
        let names: Vec<String> = q
            .statements
            .iter()
            .map(|s| match s {
                Statement::Unsupported(n) => n.clone(),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(names, ["CREATE DATABASE", "SHOW USERS", "SHOW QUERIES", "ShowDatabases"]);
    }

    #[test]
    fn durations_follow_influxql() {
        assert_eq!(parse_duration("1h30m"), Ok(5_400_000_000_000));
        assert_eq!(parse_duration("15ns"), Ok(15));
        assert_eq!(parse_duration("5u"), Ok(5_000));
        assert_eq!(parse_duration("2w"), Ok(1_209_600_000_000_000));
        assert_eq!(parse_duration("1x"), Err("invalid duration".into()));
        assert!(parse_duration("999999999999w").unwrap_err().starts_with("overflowed duration"));
    }
}

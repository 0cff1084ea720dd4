//! The InfluxQL parser: statements as InfluxDB parses them, with its errors
//! (`found FORM, expected FROM at line 1, char 10`).
//!
//! Statements InfluxDB 2.x parses but does not run (`CREATE DATABASE`, `GRANT`,
//! ...) are recognised by their leading keywords and skipped to the next `;`:
//! they answer `not implemented`, so only a malformed one of them reads
//! differently from InfluxDB (it is not parsed in full).

mod clause;
mod expr;
mod literal;
mod select;
mod show;
mod statement;

use std::collections::HashMap;
use std::fmt;

use crate::ast::*;
use crate::lexer::{Keyword, Mark, Pos, Scanned, Scanner, Token, token_text};

pub use literal::{format_duration, parse_duration, quote_ident};

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

//! The scanner: source text to tokens, each with where it starts and ends.

use std::fmt;

/// A place in the source: 1-based line and column (columns count characters),
/// and the byte offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Position {
    pub line: u32,
    pub column: u32,
    pub offset: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Ident(String),
    Int(String),
    Float(String),
    Duration(Vec<(i64, String)>),
    DateTime(String),
    /// The raw text between the quotes (escapes and `${…}` still in it).
    Str(String),
    /// The pattern between the slashes, `\/` already unescaped.
    Regex(String),
    /// Keywords and operators, as written.
    Sym(&'static str),
    Eof,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub(crate) tok: Tok,
    pub(crate) start: Position,
    pub(crate) end: Position,
}

pub(crate) const KEYWORDS: &[&str] = &[
    "and", "import", "option", "if", "or", "package", "builtin", "then", "not", "return", "testcase", "else", "exists",
];

/// Operators, longest first so that the scanner takes the longest match.
const OPERATORS: &[&str] = &[
    "|>", "<-", "=>", "==", "!=", "<=", ">=", "=~", "!~", "+", "-", "*", "/", "%", "^", "<", ">", "=", "(", ")", "[",
    "]", "{", "}", ",", ":", ".", "?", "@",
];

#[derive(Debug, Clone)]
pub(crate) struct LexError {
    pub(crate) at: Position,
    pub(crate) message: String,
}

pub(crate) struct Lexer<'a> {
    src: &'a str,
    pos: Position,
}

fn is_letter(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(src: &'a str) -> Self {
        Self { src, pos: Position { line: 1, column: 1, offset: 0 } }
    }

    /// Starts at a given place (for expressions inside string interpolations).
    pub(crate) fn at(src: &'a str, pos: Position) -> Self {
        Self { src, pos }
    }

    pub(crate) fn source(&self) -> &'a str {
        self.src
    }

    pub(crate) fn position(&self) -> Position {
        self.pos
    }

    pub(crate) fn reset(&mut self, pos: Position) {
        self.pos = pos;
    }

    fn rest(&self) -> &'a str {
        &self.src[self.pos.offset..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos.offset += c.len_utf8();
        if c == '\n' {
            self.pos.line += 1;
            self.pos.column = 1;
        } else {
            self.pos.column += 1;
        }
        Some(c)
    }

    fn err<T>(&self, at: Position, message: impl Into<String>) -> Result<T, LexError> {
        Err(LexError { at, message: message.into() })
    }

    fn skip_space_and_comments(&mut self) {
        loop {
            match self.peek() {
                Some(c) if c.is_whitespace() => {
                    self.bump();
                }
                Some('/') if self.rest().starts_with("//") => {
                    while let Some(c) = self.peek() {
                        if c == '\n' {
                            break;
                        }
                        self.bump();
                    }
                }
                _ => return,
            }
        }
    }

    /// The next token. `regex` says whether a `/` here starts a regular
    /// expression (an operand is expected) rather than meaning division.
    pub(crate) fn next(&mut self, regex: bool) -> Result<Token, LexError> {
        self.skip_space_and_comments();
        let start = self.pos;
        let Some(c) = self.peek() else {
            return Ok(Token { tok: Tok::Eof, start, end: start });
        };
        let tok = if is_letter(c) {
            let mut s = String::new();
            while let Some(c) = self.peek() {
                if is_letter(c) || c.is_numeric() {
                    s.push(c);
                    self.bump();
                } else {
                    break;
                }
            }
            match KEYWORDS.iter().find(|k| **k == s) {
                Some(k) => Tok::Sym(k),
                None => Tok::Ident(s),
            }
        } else if c.is_ascii_digit() || (c == '.' && self.rest()[1..].starts_with(|d: char| d.is_ascii_digit())) {
            self.number()?
        } else if c == '"' {
            self.string()?
        } else if c == '/' && regex {
            self.regex()?
        } else if let Some(op) = OPERATORS.iter().find(|op| self.rest().starts_with(**op)) {
            for _ in 0..op.chars().count() {
                self.bump();
            }
            Tok::Sym(op)
        } else {
            return self.err(start, format!("invalid token {c:?}"));
        };
        Ok(Token { tok, start, end: self.pos })
    }

    fn digits(&mut self) -> String {
        let mut s = String::new();
        while let Some(c) = self.peek().filter(char::is_ascii_digit) {
            s.push(c);
            self.bump();
        }
        s
    }

    /// Integers, floats, durations (`1h30m`) and date-times (`2020-01-01T00:00:00Z`).
    fn number(&mut self) -> Result<Tok, LexError> {
        let start = self.pos;
        let rest = self.rest();
        // A date or date-time: four digits then a dash.
        if rest.len() >= 10 && rest.as_bytes()[..4].iter().all(u8::is_ascii_digit) && rest.as_bytes()[4] == b'-' {
            let len = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | ':' | '.' | '+')))
                .unwrap_or(rest.len());
            let text = &rest[..len];
            for _ in 0..text.chars().count() {
                self.bump();
            }
            return Ok(Tok::DateTime(text.to_owned()));
        }
        let int = self.digits();
        if self.peek() == Some('.') && !self.rest()[1..].starts_with(|c: char| c.is_alphabetic() || c == '_') {
            self.bump();
            let frac = self.digits();
            return Ok(Tok::Float(format!("{int}.{frac}")));
        }
        // A duration: magnitude-unit pairs.
        if self.peek().is_some_and(char::is_alphabetic) {
            let mut values = Vec::new();
            let mut magnitude = int;
            loop {
                let unit_start = self.pos;
                let mut unit = String::new();
                while let Some(c) = self.peek().filter(|c| c.is_alphabetic()) {
                    unit.push(c);
                    self.bump();
                }
                if !matches!(unit.as_str(), "y" | "mo" | "w" | "d" | "h" | "m" | "s" | "ms" | "us" | "µs" | "ns") {
                    return self.err(unit_start, format!("invalid duration unit {unit:?}"));
                }
                let m: i64 = magnitude
                    .parse()
                    .map_err(|_| LexError { at: start, message: "duration magnitude out of range".into() })?;
                values.push((m, unit));
                if !self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    break;
                }
                magnitude = self.digits();
                if !self.peek().is_some_and(char::is_alphabetic) {
                    return self.err(self.pos, "a duration ends with a unit");
                }
            }
            return Ok(Tok::Duration(values));
        }
        if int.len() > 1 && int.starts_with('0') {
            return self.err(start, format!("invalid integer literal {int:?}: leading zero"));
        }
        Ok(Tok::Int(int))
    }

    /// A string literal, kept raw; `${…}` may hold expressions with strings of their own.
    fn string(&mut self) -> Result<Tok, LexError> {
        let start = self.pos;
        self.bump();
        let body_start = self.pos.offset;
        let mut depth = 0usize;
        let mut in_nested = false;
        loop {
            match self.bump() {
                None => return self.err(start, "unterminated string literal"),
                Some('\\') => {
                    self.bump();
                }
                Some('$') if self.peek() == Some('{') && !in_nested => {
                    self.bump();
                    depth += 1;
                }
                Some('{') if depth > 0 && !in_nested => depth += 1,
                Some('}') if depth > 0 && !in_nested => depth -= 1,
                Some('"') if depth > 0 => in_nested = !in_nested,
                Some('"') => break,
                Some(_) => {}
            }
        }
        let body = &self.src[body_start..self.pos.offset - 1];
        Ok(Tok::Str(body.to_owned()))
    }

    fn regex(&mut self) -> Result<Tok, LexError> {
        let start = self.pos;
        self.bump();
        let mut pattern = String::new();
        loop {
            match self.bump() {
                None | Some('\n') => return self.err(start, "unterminated regular expression"),
                Some('\\') if self.peek() == Some('/') => {
                    self.bump();
                    pattern.push('/');
                }
                Some('\\') => {
                    pattern.push('\\');
                    if let Some(c) = self.bump() {
                        pattern.push(c);
                    }
                }
                Some('/') => break,
                Some(c) => pattern.push(c),
            }
        }
        Ok(Tok::Regex(pattern))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> Vec<Tok> {
        let mut lx = Lexer::new(src);
        let mut out = Vec::new();
        loop {
            let t = lx.next(true).unwrap();
            if t.tok == Tok::Eof {
                return out;
            }
            out.push(t.tok);
        }
    }

    #[test]
    fn literals_and_operators() {
        assert_eq!(
            toks("x |> f(a: 1.5, b: -1mo2w3d) // c\n\"s${\"in\"}\" /a\\/b/ 2020-01-01T00:00:00Z 0"),
            vec![
                Tok::Ident("x".into()),
                Tok::Sym("|>"),
                Tok::Ident("f".into()),
                Tok::Sym("("),
                Tok::Ident("a".into()),
                Tok::Sym(":"),
                Tok::Float("1.5".into()),
                Tok::Sym(","),
                Tok::Ident("b".into()),
                Tok::Sym(":"),
                Tok::Sym("-"),
                Tok::Duration(vec![(1, "mo".into()), (2, "w".into()), (3, "d".into())]),
                Tok::Sym(")"),
                Tok::Str("s${\"in\"}".into()),
                Tok::Regex("a/b".into()),
                Tok::DateTime("2020-01-01T00:00:00Z".into()),
                Tok::Int("0".into()),
            ]
        );
    }

    #[test]
    fn positions_count_lines_and_characters() {
        let mut lx = Lexer::new("a\n  αβ = 1");
        lx.next(false).unwrap();
        let t = lx.next(false).unwrap();
        assert_eq!((t.start.line, t.start.column, t.end.column), (2, 3, 5));
    }

    #[test]
    fn bad_tokens_are_errors() {
        assert!(Lexer::new("0123").next(true).is_err());
        assert!(Lexer::new("\"open").next(true).is_err());
        assert!(Lexer::new("1x").next(true).is_err());
        assert!(Lexer::new("#").next(true).is_err());
    }
}

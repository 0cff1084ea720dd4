//! The InfluxQL scanner: text to tokens with InfluxDB's rules.
//!
//! - Positions are zero-based line and character (InfluxDB adds one to each
//!   when it writes an error); `\r\n` and a lone `\r` count as one newline.
//! - Identifiers are letters, digits and `_` (not starting with a digit), or
//!   double-quoted with `\"` escapes; an unquoted keyword is its keyword token,
//!   matched case-insensitively, and so are `AND`, `OR`, `TRUE` and `FALSE`.
//! - `'strings'` take the escapes `\n \\ \' \"`; any other is a bad escape, a
//!   newline or the end of input inside one a bad string.
//! - Digits make an integer, a number (with a fraction), or a duration when
//!   letters follow at once (`10s`, `1h30m`: the parser checks the units).
//! - Regular expressions are scanned only where the parser asks for one
//!   ([`Scanner::scan_regex`]); elsewhere `/` is division.
//! - `-- comments` and `/* comments */` are tokens the parser skips.

mod token;

pub use token::{Keyword, Pos, Token, token_text};

/// One scanned token: kind, where it starts, and its text.
#[derive(Debug, Clone, PartialEq)]
pub struct Scanned {
    pub tok: Token,
    pub pos: Pos,
    pub lit: String,
}

/// Scans text into tokens; `unread` steps back over characters, as the
/// parser's one-token look-ahead needs.
#[derive(Debug)]
pub struct Scanner {
    chars: Vec<(char, Pos)>,
    at: usize,
    end: Pos,
    /// How many times the end has been read and not put back: InfluxDB's
    /// reader puts the end one character further on once it has been read
    /// for good (by an identifier or whitespace running to the end, or the
    /// parser looking past it), and its errors say so.
    eof_reads: u32,
    past_end: bool,
}

/// A place to return to: the scanner's position and what it had read of the end.
#[derive(Debug, Clone, Copy)]
pub struct Mark {
    at: usize,
    eof_reads: u32,
}

/// No character: the end of input.
const EOF: char = '\0';

impl Scanner {
    pub fn new(text: &str) -> Self {
        let mut chars = Vec::with_capacity(text.len());
        let mut pos = Pos::default();
        let mut it = text.chars().peekable();
        while let Some(mut c) = it.next() {
            if c == '\r' {
                if it.peek() == Some(&'\n') {
                    it.next();
                }
                c = '\n';
            }
            chars.push((c, pos));
            if c == '\n' {
                pos = Pos { line: pos.line + 1, char: 0 };
            } else {
                pos.char += 1;
            }
        }
        Self { chars, at: 0, end: pos, eof_reads: 0, past_end: false }
    }

    fn read(&mut self) -> (char, Pos) {
        let got = match self.chars.get(self.at) {
            Some(c) => *c,
            None => {
                let pos = self.end_pos();
                self.eof_reads += 1;
                (EOF, pos)
            }
        };
        self.at += 1;
        got
    }

    fn unread(&mut self) {
        self.at -= 1;
        if self.at >= self.chars.len() {
            self.eof_reads = self.eof_reads.saturating_sub(1);
        }
    }

    fn peek(&self) -> char {
        self.chars.get(self.at).map_or(EOF, |c| c.0)
    }

    fn pos(&self) -> Pos {
        self.chars.get(self.at).map_or(self.end_pos(), |c| c.1)
    }

    fn end_pos(&self) -> Pos {
        if self.past_end || self.eof_reads > 0 {
            Pos { line: self.end.line, char: self.end.char + 1 }
        } else {
            self.end
        }
    }

    /// The position of the character before index `i` (InfluxDB reports
    /// strings and regular expressions there): the origin at the start.
    fn before(&self, i: usize) -> Pos {
        i.checked_sub(1).and_then(|j| self.chars.get(j)).map_or(Pos::default(), |c| c.1)
    }

    /// The next token.
    pub fn scan(&mut self) -> Scanned {
        let (c, pos) = self.read();
        let done = |tok: Token| Scanned { tok, pos, lit: String::new() };
        if is_whitespace(c) {
            while is_whitespace(self.peek()) {
                self.at += 1;
            }
            if self.at >= self.chars.len() {
                self.read();
            }
            return Scanned { tok: Token::Ws, pos, lit: String::new() };
        }
        if is_letter(c) || c == '_' {
            self.unread();
            return self.scan_ident(true);
        }
        if c.is_ascii_digit() {
            self.unread();
            return self.scan_number();
        }
        match c {
            EOF if self.at > self.chars.len() => done(Token::Eof),
            '"' => {
                self.unread();
                self.scan_ident(true)
            }
            '\'' => {
                self.unread();
                self.scan_string()
            }
            '.' => {
                if self.peek().is_ascii_digit() {
                    self.unread();
                    self.scan_number()
                } else {
                    done(Token::Dot)
                }
            }
            '$' => {
                let s = self.scan_ident(false);
                let tok = if s.tok == Token::Ident { Token::BoundParam } else { s.tok };
                Scanned { tok, pos, lit: format!("${}", s.lit) }
            }
            '+' => done(Token::Add),
            '-' => {
                if self.peek() == '-' {
                    while !matches!(self.read().0, '\n' | EOF) {}
                    return done(Token::Comment);
                }
                done(Token::Sub)
            }
            '*' => done(Token::Mul),
            '/' => {
                if self.peek() == '*' {
                    self.at += 1;
                    return if self.skip_block_comment() { done(Token::Comment) } else { done(Token::Illegal) };
                }
                done(Token::Div)
            }
            '%' => done(Token::Mod),
            '&' => done(Token::BitAnd),
            '|' => done(Token::BitOr),
            '^' => done(Token::BitXor),
            '=' => self.then('~', Token::EqRegex, Token::Eq, pos),
            '!' => match self.peek() {
                '=' => {
                    self.at += 1;
                    done(Token::Neq)
                }
                '~' => {
                    self.at += 1;
                    done(Token::NeqRegex)
                }
                _ => Scanned { tok: Token::Illegal, pos, lit: "!".into() },
            },
            '>' => self.then('=', Token::Gte, Token::Gt, pos),
            '<' => match self.peek() {
                '=' => {
                    self.at += 1;
                    done(Token::Lte)
                }
                '>' => {
                    self.at += 1;
                    done(Token::Neq)
                }
                _ => done(Token::Lt),
            },
            '(' => done(Token::LParen),
            ')' => done(Token::RParen),
            ',' => done(Token::Comma),
            ';' => done(Token::Semicolon),
            ':' => self.then(':', Token::DoubleColon, Token::Colon, pos),
            EOF => done(Token::Eof),
            other => Scanned { tok: Token::Illegal, pos, lit: other.to_string() },
        }
    }

    /// `two` when the next character is `next` (taking it), else `one`.
    fn then(&mut self, next: char, two: Token, one: Token, pos: Pos) -> Scanned {
        let tok = if self.peek() == next {
            self.at += 1;
            two
        } else {
            one
        };
        Scanned { tok, pos, lit: String::new() }
    }

    /// Past `*/`; false when the input ends first.
    fn skip_block_comment(&mut self) -> bool {
        loop {
            match self.read().0 {
                '*' => loop {
                    match self.read().0 {
                        '/' => return true,
                        '*' => continue,
                        EOF if self.at > self.chars.len() => return false,
                        _ => break,
                    }
                },
                EOF if self.at > self.chars.len() => return false,
                _ => {}
            }
        }
    }

    /// An identifier, bare or quoted (pieces may follow one another: `a"b"`).
    fn scan_ident(&mut self, lookup: bool) -> Scanned {
        let pos = self.pos();
        let mut text = String::new();
        loop {
            let c = self.peek();
            if c == '"' {
                let s = self.scan_string();
                if matches!(s.tok, Token::BadString | Token::BadEscape) {
                    return s;
                }
                return Scanned { tok: Token::Ident, pos, lit: s.lit };
            } else if is_ident_char(c) {
                while is_ident_char(self.peek()) {
                    text.push(self.read().0);
                }
            } else {
                break;
            }
        }
        if self.at >= self.chars.len() {
            // InfluxDB's identifier scan reads the end twice and keeps it.
            self.read();
            self.read();
        }
        if lookup && let Some(tok) = Token::of_word(&text) {
            return Scanned { tok, pos, lit: String::new() };
        }
        Scanned { tok: Token::Ident, pos, lit: text }
    }

    /// A string in the quotes it starts with (`'` or `"`).
    fn scan_string(&mut self) -> Scanned {
        let pos = self.before(self.at);
        let (quote, _) = self.read();
        let mut text = String::new();
        loop {
            let (c, _) = self.read();
            if c == quote {
                return Scanned { tok: Token::Str, pos, lit: text };
            }
            if c == '\n' || (c == EOF && self.at > self.chars.len()) {
                return Scanned { tok: Token::BadString, pos, lit: text };
            }
            if c == '\\' {
                let (next, at) = self.read();
                match next {
                    'n' => text.push('\n'),
                    '\\' => text.push('\\'),
                    '"' => text.push('"'),
                    '\'' => text.push('\''),
                    other => {
                        let lit = if other == EOF { "\\".to_owned() } else { format!("\\{other}") };
                        return Scanned { tok: Token::BadEscape, pos: at, lit };
                    }
                }
                continue;
            }
            text.push(c);
        }
    }

    /// A number: digits, with a fraction (`NUMBER`), else followed by unit
    /// letters (`DURATIONVAL`), else `INTEGER`.
    fn scan_number(&mut self) -> Scanned {
        let pos = self.pos();
        let mut text = String::new();
        let digits = |s: &mut Self, text: &mut String| {
            while s.peek().is_ascii_digit() {
                text.push(s.read().0);
            }
        };
        digits(self, &mut text);
        if self.peek() == '.' {
            self.at += 1;
            if self.peek().is_ascii_digit() {
                text.push('.');
                digits(self, &mut text);
            }
            return Scanned { tok: Token::Number, pos, lit: text };
        }
        let c = self.peek();
        if is_letter(c) || c == 'µ' {
            while is_letter(self.peek()) || self.peek() == 'µ' {
                text.push(self.read().0);
            }
            while is_letter(self.peek()) || self.peek() == 'µ' || self.peek().is_ascii_digit() {
                text.push(self.read().0);
            }
            return Scanned { tok: Token::Duration, pos, lit: text };
        }
        Scanned { tok: Token::Integer, pos, lit: text }
    }

    /// A regular expression between slashes, where the parser expects one
    /// (`\/` is a slash; other escapes pass through for the regex engine).
    pub fn scan_regex(&mut self) -> Scanned {
        let pos = self.before(self.at);
        if self.peek() != '/' {
            let (c, _) = self.read();
            if c == EOF {
                self.at = self.chars.len();
            }
            return Scanned { tok: Token::BadRegex, pos, lit: String::new() };
        }
        self.at += 1;
        let mut text = String::new();
        loop {
            let (c, _) = self.read();
            match c {
                '/' => return Scanned { tok: Token::Regex, pos, lit: text },
                '\n' => return Scanned { tok: Token::BadRegex, pos, lit: String::new() },
                EOF if self.at > self.chars.len() => {
                    return Scanned { tok: Token::BadRegex, pos, lit: String::new() };
                }
                '\\' => {
                    if self.peek() == '/' {
                        self.at += 1;
                        text.push('/');
                    } else {
                        text.push('\\');
                    }
                }
                c => text.push(c),
            }
        }
    }

    /// The next character, not consumed (`\0` at the end, which moves the end on).
    pub fn peek_char(&mut self) -> char {
        if self.at >= self.chars.len() {
            self.past_end = true;
        }
        self.peek()
    }

    /// Where scanning stands: for the parser to return to.
    pub fn mark(&self) -> Mark {
        Mark { at: self.at, eof_reads: self.eof_reads }
    }

    pub fn reset(&mut self, mark: Mark) {
        self.at = mark.at;
        self.eof_reads = mark.eof_reads;
    }
}

fn is_whitespace(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n')
}

fn is_letter(c: char) -> bool {
    c.is_ascii_alphabetic()
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &str) -> Vec<(Token, String)> {
        let mut s = Scanner::new(text);
        let mut out = Vec::new();
        loop {
            let t = s.scan();
            if t.tok == Token::Eof {
                return out;
            }
            if t.tok != Token::Ws {
                out.push((t.tok, t.lit));
            }
        }
    }

    fn kinds(text: &str) -> Vec<Token> {
        tokens(text).into_iter().map(|t| t.0).collect()
    }

    #[test]
    fn words_are_keywords_in_any_case_or_identifiers() {
        use Keyword::*;
        assert_eq!(
            kinds("select Value FROM cpu where a AND b or TRUE"),
            [
                Token::Keyword(SELECT),
                Token::Ident,
                Token::Keyword(FROM),
                Token::Ident,
                Token::Keyword(WHERE),
                Token::Ident,
                Token::And,
                Token::Ident,
                Token::Or,
                Token::True
            ]
        );
        assert_eq!(
            tokens("\"select\" _x1 \"a \\\"q\\\"\""),
            [(Token::Ident, "select".into()), (Token::Ident, "_x1".into()), (Token::Ident, "a \"q\"".into())]
        );
        assert_eq!(tokens("$host $\"a b\""), [(Token::BoundParam, "$host".into()), (Token::BoundParam, "$a b".into())]);
    }

    #[test]
    fn numbers_durations_and_strings() {
        assert_eq!(
            tokens("10 1.5 .5 10s 1h30m 5µ 100ms 3."),
            [
                (Token::Integer, "10".into()),
                (Token::Number, "1.5".into()),
                (Token::Number, ".5".into()),
                (Token::Duration, "10s".into()),
                (Token::Duration, "1h30m".into()),
                (Token::Duration, "5µ".into()),
                (Token::Duration, "100ms".into()),
                (Token::Number, "3".into()),
            ]
        );
        assert_eq!(tokens("'it\\'s' 'a\\nb'"), [(Token::Str, "it's".into()), (Token::Str, "a\nb".into())]);
        assert_eq!(tokens("'bad \\q'")[0], (Token::BadEscape, "\\q".into()));
        assert_eq!(tokens("'open")[0], (Token::BadString, "open".into()));
    }

    #[test]
    fn operators_and_comments() {
        assert_eq!(
            kinds("a >= 1 <> 2 != 3 =~ !~ :: -- to the end\n/* block\n */ , ; ( ) . % & | ^"),
            [
                Token::Ident,
                Token::Gte,
                Token::Integer,
                Token::Neq,
                Token::Integer,
                Token::Neq,
                Token::Integer,
                Token::EqRegex,
                Token::NeqRegex,
                Token::DoubleColon,
                Token::Comment,
                Token::Comment,
                Token::Comma,
                Token::Semicolon,
                Token::LParen,
                Token::RParen,
                Token::Dot,
                Token::Mod,
                Token::BitAnd,
                Token::BitOr,
                Token::BitXor
            ]
        );
        assert_eq!(tokens("/* never closed")[0].0, Token::Illegal);
        assert_eq!(tokens("#")[0], (Token::Illegal, "#".into()));
    }

    #[test]
    fn positions_are_zero_based_and_lines_count_newlines() {
        let mut s = Scanner::new("SELECT\r\n  x");
        assert_eq!(s.scan().pos, Pos { line: 0, char: 0 });
        assert_eq!(s.scan().tok, Token::Ws);
        let x = s.scan();
        assert_eq!((x.tok, x.pos), (Token::Ident, Pos { line: 1, char: 2 }));
        // An identifier running to the end reads it for good: InfluxDB then puts the end one further on.
        let end = s.scan();
        assert_eq!((end.tok, end.pos), (Token::Eof, Pos { line: 1, char: 4 }));
        let mut s = Scanner::new("a(");
        s.scan();
        s.scan();
        assert_eq!(s.scan().pos, Pos { line: 0, char: 2 });
        assert_eq!(s.scan().tok, Token::Eof, "the end stays the end");
    }

    #[test]
    fn regexes_are_scanned_on_request() {
        let mut s = Scanner::new("/cpu\\/[0-9]\\d+/ rest");
        let r = s.scan_regex();
        assert_eq!((r.tok, r.lit.as_str()), (Token::Regex, "cpu/[0-9]\\d+"));
        let mut s = Scanner::new("/open");
        assert_eq!(s.scan_regex().tok, Token::BadRegex);
        assert_eq!(s.scan().tok, Token::Eof);
    }
}

//! The tokens of InfluxQL and its keywords, named as InfluxDB names them in
//! its errors, with the binary operators' precedence.

use std::fmt;

/// A position: zero-based line and character.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: usize,
    pub char: usize,
}

macro_rules! keywords {
    ($($name:ident),* $(,)?) => {
        /// The reserved words (matched case-insensitively).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[allow(clippy::upper_case_acronyms)]
        pub enum Keyword { $($name),* }

        impl Keyword {
            /// The keyword as InfluxDB writes it: upper case.
            pub fn as_str(self) -> &'static str {
                match self { $(Keyword::$name => stringify!($name)),* }
            }

            /// The keyword spelled by an upper-case word.
            fn from_upper(word: &str) -> Option<Keyword> {
                match word { $(stringify!($name) => Some(Keyword::$name),)* _ => None }
            }
        }
    };
}

keywords!(
    ALL,
    ALTER,
    ANALYZE,
    ANY,
    AS,
    ASC,
    BEGIN,
    BY,
    CARDINALITY,
    CREATE,
    CONTINUOUS,
    DATABASE,
    DATABASES,
    DEFAULT,
    DELETE,
    DESC,
    DESTINATIONS,
    DIAGNOSTICS,
    DISTINCT,
    DROP,
    DURATION,
    END,
    EVERY,
    EXACT,
    EXPLAIN,
    FIELD,
    FOR,
    FROM,
    GRANT,
    GRANTS,
    GROUP,
    GROUPS,
    IN,
    INF,
    INSERT,
    INTO,
    KEY,
    KEYS,
    KILL,
    LIMIT,
    MEASUREMENT,
    MEASUREMENTS,
    NAME,
    OFFSET,
    ON,
    ORDER,
    PASSWORD,
    POLICY,
    POLICIES,
    PRIVILEGES,
    QUERIES,
    QUERY,
    READ,
    REPLICATION,
    RESAMPLE,
    RETENTION,
    REVOKE,
    SELECT,
    SERIES,
    SET,
    SHOW,
    SHARD,
    SHARDS,
    SLIMIT,
    SOFFSET,
    STATS,
    SUBSCRIPTION,
    SUBSCRIPTIONS,
    TAG,
    TO,
    USER,
    USERS,
    VALUES,
    VERBOSE,
    WHERE,
    WITH,
    WRITE,
);

impl Keyword {
    /// The keyword spelled by `word`, in any case.
    pub fn lookup(word: &str) -> Option<Keyword> {
        // No keyword is longer than SUBSCRIPTIONS.
        let mut upper = [0u8; 16];
        if word.len() > upper.len() || !word.bytes().all(|b| b.is_ascii_alphabetic()) {
            return None;
        }
        for (u, b) in upper.iter_mut().zip(word.bytes()) {
            *u = b.to_ascii_uppercase();
        }
        Keyword::from_upper(std::str::from_utf8(&upper[..word.len()]).ok()?)
    }
}

/// A token kind; its text (an identifier's name, a literal's digits) comes beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token {
    Illegal,
    Eof,
    Ws,
    Comment,
    Ident,
    BoundParam,
    Number,
    Integer,
    Duration,
    Str,
    BadString,
    BadEscape,
    True,
    False,
    Regex,
    BadRegex,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    BitAnd,
    BitOr,
    BitXor,
    And,
    Or,
    Eq,
    Neq,
    EqRegex,
    NeqRegex,
    Lt,
    Lte,
    Gt,
    Gte,
    LParen,
    RParen,
    Comma,
    Colon,
    DoubleColon,
    Semicolon,
    Dot,
    Keyword(Keyword),
}

impl Token {
    /// The token as InfluxDB names it in errors.
    pub fn as_str(self) -> &'static str {
        match self {
            Token::Illegal => "ILLEGAL",
            Token::Eof => "EOF",
            Token::Ws => "WS",
            Token::Comment => "COMMENT",
            Token::Ident => "IDENT",
            Token::BoundParam => "BOUNDPARAM",
            Token::Number => "NUMBER",
            Token::Integer => "INTEGER",
            Token::Duration => "DURATIONVAL",
            Token::Str => "STRING",
            Token::BadString => "BADSTRING",
            Token::BadEscape => "BADESCAPE",
            Token::True => "TRUE",
            Token::False => "FALSE",
            Token::Regex => "REGEX",
            Token::BadRegex => "BADREGEX",
            Token::Add => "+",
            Token::Sub => "-",
            Token::Mul => "*",
            Token::Div => "/",
            Token::Mod => "%",
            Token::BitAnd => "&",
            Token::BitOr => "|",
            Token::BitXor => "^",
            Token::And => "AND",
            Token::Or => "OR",
            Token::Eq => "=",
            Token::Neq => "!=",
            Token::EqRegex => "=~",
            Token::NeqRegex => "!~",
            Token::Lt => "<",
            Token::Lte => "<=",
            Token::Gt => ">",
            Token::Gte => ">=",
            Token::LParen => "(",
            Token::RParen => ")",
            Token::Comma => ",",
            Token::Colon => ":",
            Token::DoubleColon => "::",
            Token::Semicolon => ";",
            Token::Dot => ".",
            Token::Keyword(k) => k.as_str(),
        }
    }

    /// Whether a binary operator compares values or joins conditions
    /// (`=`, `<`, `=~`, ..., `AND`, `OR`): those that bind loosest.
    pub fn is_condition(self) -> bool {
        matches!(self.precedence(), 1..=3)
    }

    /// How tightly a binary operator binds (0: not one).
    pub fn precedence(self) -> u8 {
        match self {
            Token::Or => 1,
            Token::And => 2,
            Token::Eq
            | Token::Neq
            | Token::EqRegex
            | Token::NeqRegex
            | Token::Lt
            | Token::Lte
            | Token::Gt
            | Token::Gte => 3,
            Token::Add | Token::Sub | Token::BitOr | Token::BitXor => 4,
            Token::Mul | Token::Div | Token::Mod | Token::BitAnd => 5,
            _ => 0,
        }
    }

    /// A word that is a token of its own (keywords, and/or, true/false).
    pub(super) fn of_word(word: &str) -> Option<Token> {
        if word.eq_ignore_ascii_case("and") {
            Some(Token::And)
        } else if word.eq_ignore_ascii_case("or") {
            Some(Token::Or)
        } else if word.eq_ignore_ascii_case("true") {
            Some(Token::True)
        } else if word.eq_ignore_ascii_case("false") {
            Some(Token::False)
        } else {
            Keyword::lookup(word).map(Token::Keyword)
        }
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What InfluxDB shows for a token in an error: its text if it has one, else its name.
pub fn token_text(tok: Token, lit: &str) -> String {
    if lit.is_empty() { tok.as_str().to_owned() } else { lit.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_found_in_any_case_and_nothing_else_is() {
        for (word, want) in [
            ("select", Some(Keyword::SELECT)),
            ("SubScriptions", Some(Keyword::SUBSCRIPTIONS)),
            ("ON", Some(Keyword::ON)),
            ("selects", None),
            ("cpu", None),
            ("séléct", None),
            ("a_very_long_identifier_indeed", None),
        ] {
            assert_eq!(Keyword::lookup(word), want, "{word}");
        }
    }
}

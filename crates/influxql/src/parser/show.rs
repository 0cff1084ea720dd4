//! The `SHOW` statements: databases, retention policies, measurements, tag
//! keys and values, field keys, series, and the cardinalities.

use crate::ast::*;
use crate::lexer::{Keyword, Token};

use super::{PResult, ParseError, Parser};

impl Parser<'_> {
    pub(super) fn show(&mut self) -> PResult<Statement> {
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
                    Token::Keyword(KEY) => self.key_cardinality(CardinalityOf::TagKeys),
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
                    Token::Keyword(KEY) => self.key_cardinality(CardinalityOf::FieldKeys),
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

    /// `[EXACT] CARDINALITY ...` after `SHOW TAG KEY` or `SHOW FIELD KEY`.
    fn key_cardinality(&mut self, of: CardinalityOf) -> PResult<Statement> {
        let exact = self.keyword(Keyword::EXACT);
        let c = self.scan_ws();
        if c.tok != Token::Keyword(Keyword::CARDINALITY) {
            let expected: &[&str] = if exact { &["CARDINALITY"] } else { &["EXACT", "CARDINALITY"] };
            return Err(ParseError::expected(&c, expected));
        }
        self.cardinality(of, exact)
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

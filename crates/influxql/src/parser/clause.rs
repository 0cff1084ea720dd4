//! The clauses that several statements share: `FROM` sources (and the
//! segmented identifiers that name them), `WHERE`, `GROUP BY`, `ORDER BY`,
//! `LIMIT` and `OFFSET`.

use crate::ast::*;
use crate::lexer::{Keyword, Pos, Token};

use super::literal::quote_ident;
use super::{PResult, ParseError, Parser};

impl Parser<'_> {
    pub(super) fn sources(&mut self, subqueries: bool) -> PResult<Vec<Source>> {
        let mut out = vec![self.source(subqueries)?];
        while self.accept(Token::Comma) {
            out.push(self.source(subqueries)?);
        }
        Ok(out)
    }

    pub(super) fn source(&mut self, subqueries: bool) -> PResult<Source> {
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
    pub(super) fn segmented_idents(&mut self) -> PResult<Vec<String>> {
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

    pub(super) fn condition(&mut self) -> PResult<Option<Expr>> {
        if !self.keyword(Keyword::WHERE) {
            return Ok(None);
        }
        Ok(Some(self.expr()?))
    }

    pub(super) fn dimensions(&mut self) -> PResult<Vec<Expr>> {
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

    pub(super) fn optional_int(&mut self, k: Keyword) -> PResult<u64> {
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
    pub(super) fn order_by(&mut self) -> PResult<bool> {
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
}

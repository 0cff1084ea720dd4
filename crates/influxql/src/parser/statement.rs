//! A statement's leading keywords and what follows them: `SELECT`, `SHOW`,
//! `EXPLAIN`, `DELETE` and `DROP MEASUREMENT` are parsed in full; the
//! statements 2.x does not run (`CREATE`, `GRANT`, `ALTER`, `KILL`, ...) are
//! recognised by their keywords and skipped to the next `;`.

use crate::ast::*;
use crate::lexer::{Keyword, Pos, Token};

use super::{PResult, ParseError, Parser};

const TOP: &[&str] =
    &["SELECT", "DELETE", "SHOW", "CREATE", "DROP", "EXPLAIN", "GRANT", "REVOKE", "ALTER", "SET", "KILL"];

impl Parser<'_> {
    pub(super) fn statement(&mut self) -> PResult<Statement> {
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
    pub(super) fn tree(&mut self, branches: &[(&[Keyword], &'static str)]) -> PResult<&'static str> {
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
    pub(super) fn unsupported(&mut self, name: &str) -> PResult<Statement> {
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
}

//! `SELECT`: its fields, `INTO` target, `fill()` and `tz()` (the clauses
//! that it shares with other statements are in [`super::clause`]).

use crate::ast::*;
use crate::lexer::{Keyword, Token};

use super::expr::comparison_in;
use super::{PResult, ParseError, Parser};

impl Parser<'_> {
    pub(super) fn select(&mut self, subquery: bool) -> PResult<SelectStatement> {
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
}

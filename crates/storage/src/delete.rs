//! The `/api/v2/delete` predicate: `key = "value"` and `key != "value"` joined
//! with `AND`, as InfluxDB 2.7 parses it (InfluxQL tokens: a double-quoted or
//! bare identifier on either side). `OR`, regular expressions and single-quoted
//! values are refused with 2.7's messages.

use crate::series::SeriesKey;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// A tag key, or `_measurement`.
    pub key: String,
    pub equal: bool,
    pub value: String,
}

/// A parsed delete predicate: every condition must hold. Empty matches everything.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeletePredicate {
    pub conditions: Vec<Condition>,
}

/// Why a predicate was refused, and whether InfluxDB calls that "not implemented".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PredicateError {
    pub message: String,
    pub not_implemented: bool,
}

impl PredicateError {
    fn invalid(message: String) -> Self {
        Self { message, not_implemented: false }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Number(String),
    Op(&'static str),
    And,
    Or,
    LParen,
    RParen,
    Minus,
    Eof,
}

fn lex(s: &str) -> Result<Vec<(Tok, usize)>, PredicateError> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'"' | b'\'' => {
                let quote = c;
                let mut v = String::new();
                i += 1;
                loop {
                    match b.get(i) {
                        None => {
                            return Err(PredicateError::invalid(format!(
                                "bad tag value, unterminated quote at position {start}"
                            )));
                        }
                        Some(b'\\') if b.get(i + 1) == Some(&quote) || b.get(i + 1) == Some(&b'\\') => {
                            v.push(b[i + 1] as char);
                            i += 2;
                        }
                        Some(&q) if q == quote => {
                            i += 1;
                            break;
                        }
                        Some(_) => {
                            let ch = s[i..].chars().next().unwrap_or('\u{fffd}');
                            v.push(ch);
                            i += ch.len_utf8();
                        }
                    }
                }
                out.push((if quote == b'"' { Tok::Ident(v) } else { Tok::Str(v) }, start));
                continue;
            }
            b'=' if b.get(i + 1) == Some(&b'~') => {
                out.push((Tok::Op("=~"), start));
                i += 2;
            }
            b'!' if b.get(i + 1) == Some(&b'~') => {
                out.push((Tok::Op("!~"), start));
                i += 2;
            }
            b'!' if b.get(i + 1) == Some(&b'=') => {
                out.push((Tok::Op("!="), start));
                i += 2;
            }
            b'<' if b.get(i + 1) == Some(&b'>') => {
                out.push((Tok::Op("!="), start));
                i += 2;
            }
            b'=' => {
                out.push((Tok::Op("="), start));
                i += 1;
            }
            b'<' | b'>' => {
                let op = if b.get(i + 1) == Some(&b'=') {
                    i += 2;
                    if c == b'<' { "<=" } else { ">=" }
                } else {
                    i += 1;
                    if c == b'<' { "<" } else { ">" }
                };
                out.push((Tok::Op(op), start));
            }
            b'/' => {
                // A regex literal: only ever refused, after the operator before it.
                i += 1;
                while i < b.len() && b[i] != b'/' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i = (i + 1).min(b.len());
                out.push((Tok::Str(s[start..i].to_owned()), start));
            }
            b'(' => {
                out.push((Tok::LParen, start));
                i += 1;
            }
            b')' => {
                out.push((Tok::RParen, start));
                i += 1;
            }
            b'-' => {
                out.push((Tok::Minus, start));
                i += 1;
            }
            c if c.is_ascii_digit() || c == b'.' => {
                while b.get(i).is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'.') {
                    i += 1;
                }
                out.push((Tok::Number(s[start..i].to_owned()), start));
            }
            c if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] >= 0x80) {
                    i += 1;
                }
                let word = &s[start..i];
                let tok = match word.to_ascii_uppercase().as_str() {
                    "AND" => Tok::And,
                    "OR" => Tok::Or,
                    _ => Tok::Ident(word.to_owned()),
                };
                out.push((tok, start));
            }
            _ => {
                return Err(PredicateError::invalid(format!("bad logical expression, at position {start}")));
            }
        }
    }
    out.push((Tok::Eof, s.len()));
    Ok(out)
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn next(&mut self) -> (Tok, usize) {
        let t = self.toks[self.pos.min(self.toks.len() - 1)].clone();
        self.pos += 1;
        t
    }

    fn expr(&mut self, out: &mut Vec<Condition>) -> Result<(), PredicateError> {
        self.term(out)?;
        loop {
            match self.next() {
                (Tok::And, _) => self.term(out)?,
                (Tok::Or, p) => {
                    return Err(PredicateError::invalid(format!(
                        "the logical operator OR is not supported yet at position {p}"
                    )));
                }
                (Tok::RParen, _) if self.depth > 0 => {
                    self.depth -= 1;
                    return Ok(());
                }
                (Tok::RParen, _) => return Err(PredicateError::invalid("extra ) seen".into())),
                (Tok::Eof, _) if self.depth > 0 => {
                    return Err(PredicateError::invalid("extra ( seen".into()));
                }
                (Tok::Eof, _) => return Ok(()),
                (_, p) => {
                    return Err(PredicateError::invalid(format!("bad logical expression, at position {p}")));
                }
            }
        }
    }

    fn term(&mut self, out: &mut Vec<Condition>) -> Result<(), PredicateError> {
        let (tok, p) = self.next();
        let key = match tok {
            Tok::LParen => {
                self.depth += 1;
                return self.expr(out);
            }
            Tok::Ident(k) => k,
            _ => {
                return Err(PredicateError::invalid(format!("bad tag key, at position {p}")));
            }
        };
        let equal = match self.next() {
            (Tok::Op("="), _) => true,
            (Tok::Op("!="), _) => false,
            (Tok::Op(op @ ("=~" | "!~")), p) => {
                return Err(PredicateError::invalid(format!(
                    "operator: \"{op}\" at position: {p} is not supported yet"
                )));
            }
            (Tok::Op(op), p) => {
                return Err(PredicateError::invalid(format!("invalid operator \"{op}\" at position: {p}")));
            }
            (_, p) => {
                return Err(PredicateError::invalid(format!("invalid operator at position: {p}")));
            }
        };
        let mut value = String::new();
        loop {
            match self.next() {
                (Tok::Minus, _) => value.push('-'),
                (Tok::Ident(v) | Tok::Number(v), _) => {
                    value.push_str(&v);
                    break;
                }
                (Tok::Str(v), p) => {
                    return Err(PredicateError::invalid(format!("bad tag value: \"{v}\", at position {p}")));
                }
                (_, p) => {
                    return Err(PredicateError::invalid(format!("bad tag value: \"\", at position {p}")));
                }
            }
        }
        if key == "_field" {
            return Err(PredicateError { message: "delete by field is not supported".into(), not_implemented: true });
        }
        if matches!(key.as_str(), "_time" | "_value" | "_start" | "_stop") {
            return Err(PredicateError::invalid(format!("cannot delete by {key}")));
        }
        out.push(Condition { key, equal, value });
        Ok(())
    }
}

impl DeletePredicate {
    /// Parses the predicate text of a delete request; empty text matches all.
    pub fn parse(s: &str) -> Result<Self, PredicateError> {
        let mut conditions = Vec::new();
        if s.trim().is_empty() {
            return Ok(Self { conditions });
        }
        let mut p = Parser { toks: lex(s)?, pos: 0, depth: 0 };
        p.expr(&mut conditions)?;
        Ok(Self { conditions })
    }

    pub fn matches(&self, series: &SeriesKey) -> bool {
        self.conditions.iter().all(|c| {
            let v = if c.key == "_measurement" { Some(series.measurement.as_str()) } else { series.tag(&c.key) };
            (v.unwrap_or("") == c.value) == c.equal
        })
    }

    /// The text form, for the WAL; parses back to the same predicate.
    pub fn to_text(&self) -> String {
        self.conditions
            .iter()
            .map(|c| {
                let q = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
                format!("{}{}{}", q(&c.key), if c.equal { "=" } else { "!=" }, q(&c.value))
            })
            .collect::<Vec<_>>()
            .join(" AND ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_forms_parse() {
        let p = DeletePredicate::parse(r#"_measurement="sensorData" AND host != "prod-1.4" and (region=us)"#).unwrap();
        assert_eq!(p.conditions.len(), 3);
        assert!(!p.conditions[1].equal);
        assert_eq!(p.conditions[2].value, "us");
        assert_eq!(DeletePredicate::parse(&p.to_text()).unwrap(), p);
        let s = SeriesKey::new("sensorData", vec![("host".into(), "x".into()), ("region".into(), "us".into())]);
        assert!(p.matches(&s));
        assert!(DeletePredicate::parse("").unwrap().matches(&s));
    }

    #[test]
    fn what_influxdb_refuses_is_refused() {
        let err = |s: &str| DeletePredicate::parse(s).unwrap_err();
        assert_eq!(err(r#"a="b" OR c="d""#).message, "the logical operator OR is not supported yet at position 6");
        assert_eq!(err(r#"a=~/b/"#).message, "operator: \"=~\" at position: 1 is not supported yet");
        assert!(err("a='b'").message.starts_with("bad tag value"));
        assert!(err(r#"_field="x""#).not_implemented);
        assert!(err(r#"(a="b""#).message.contains("extra ("));
        assert!(err(r#"a="b")"#).message.contains("extra )"));
        assert!(err(r#"a > "b""#).message.starts_with("invalid operator"));
    }
}

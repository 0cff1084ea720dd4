//! Function signatures as the checker reads them: the type text a library
//! documents (`(<-tables: stream[A], n: int, ?offset: int) => stream[A]`)
//! parsed as far as the checker needs, and what the source shows of a type.

use std::collections::HashMap;
use std::sync::Arc;

/// What the source shows of a value's type.
#[derive(Debug, Clone, PartialEq)]
pub enum Ty {
    Unknown,
    Basic(&'static str),
    Array(Box<Ty>),
    Dict,
    Record(Option<Arc<HashMap<String, Ty>>>),
    Function(Arc<Signature>),
    Stream,
}

impl Ty {
    /// The type as Flux writes it, when the source shows all of it.
    pub fn known(&self) -> Option<String> {
        match self {
            Ty::Basic(b) => Some((*b).to_owned()),
            Ty::Array(el) => el.known().map(|e| format!("[{e}]")),
            _ => None,
        }
    }

    /// Whether a value of this type can never be one of `expected`.
    pub fn conflicts(&self, expected: &Ty) -> bool {
        match (self, expected) {
            (Ty::Unknown, _) | (_, Ty::Unknown) => false,
            (Ty::Basic(a), Ty::Basic(b)) => a != b,
            (Ty::Array(a), Ty::Array(b)) => a.conflicts(b),
            (Ty::Record(_), Ty::Record(_))
            | (Ty::Function(_), Ty::Function(_))
            | (Ty::Stream, Ty::Stream)
            | (Ty::Dict, Ty::Dict) => false,
            _ => true,
        }
    }
}

/// A function's parameters as far as they are known.
#[derive(Debug, PartialEq)]
pub struct Signature {
    pub params: Vec<Param>,
    /// Whether `params` is all of them with their requiredness (a signature or
    /// a definition), or only the names a builtin takes.
    pub complete: bool,
    pub returns: Ty,
}

#[derive(Debug, PartialEq)]
pub struct Param {
    pub name: String,
    pub required: bool,
    pub pipe: bool,
    pub ty: Ty,
    /// The type as the signature writes it.
    pub text: String,
}

impl Signature {
    pub fn param(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.name == name)
    }
}

/// Signatures by package path and function name, from lines of
/// `<package path>\t<function name>\t<signature>` (how a library documents
/// its functions); a line whose signature does not parse is left out.
pub fn signature_table(text: &'static str) -> HashMap<(&'static str, &'static str), Arc<Signature>> {
    let mut out = HashMap::new();
    for line in text.lines() {
        let mut cols = line.splitn(3, '\t');
        let (Some(pkg), Some(name), Some(sig)) = (cols.next(), cols.next(), cols.next()) else { continue };
        if let Some(s) = parse_signature(sig) {
            out.insert((pkg, name), Arc::new(s));
        }
    }
    out
}

/// Parses `(<-tables: stream[A], n: int, ?offset: int) => stream[A] where ...`.
pub fn parse_signature(text: &str) -> Option<Signature> {
    let text = text.trim();
    let close = matching(text, 0)?;
    let params_text = &text[1..close];
    let rest = text[close + 1..].trim_start().strip_prefix("=>")?.trim();
    let returns = split_top(rest, " where ").into_iter().next().unwrap_or(rest);
    let mut params = Vec::new();
    for p in split_top(params_text, ",") {
        let p = p.trim();
        if p.is_empty() {
            continue;
        }
        let (pipe, p) = match p.strip_prefix("<-") {
            Some(rest) => (true, rest),
            None => (false, p),
        };
        let (optional, p) = match p.strip_prefix('?') {
            Some(rest) => (true, rest),
            None => (false, p),
        };
        let (name, ty) = p.split_once(':')?;
        let ty = ty.trim();
        params.push(Param {
            name: name.trim().to_owned(),
            required: !optional,
            pipe,
            ty: type_of_text(ty),
            text: ty.to_owned(),
        });
    }
    Some(Signature { params, complete: true, returns: type_of_text(returns.trim()) })
}

/// The index of the bracket closing the one at `open`.
fn matching(text: &str, open: usize) -> Option<usize> {
    let mut depth = 0i32;
    for (i, c) in text.char_indices().skip_while(|(i, _)| *i < open) {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Splits at `sep` outside brackets.
fn split_top<'a>(text: &'a str, sep: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            b'=' if bytes.get(i + 1) == Some(&b'>') => {
                i += 2;
                continue;
            }
            _ if depth == 0 && text[i..].starts_with(sep) => {
                out.push(&text[start..i]);
                i += sep.len();
                start = i;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out.push(&text[start..]);
    out
}

/// The kind of value a signature's type text stands for; a type variable is unknown.
pub fn type_of_text(t: &str) -> Ty {
    const BASIC: [&str; 9] = ["int", "uint", "float", "string", "bool", "time", "duration", "regexp", "bytes"];
    if t.starts_with("stream[") {
        Ty::Stream
    } else if t.starts_with('[') {
        let inner = &t[1..t.len().saturating_sub(1)];
        if split_top(inner, ":").len() > 1 { Ty::Dict } else { Ty::Array(Box::new(type_of_text(inner.trim()))) }
    } else if t.starts_with('{') {
        Ty::Record(None)
    } else if t.starts_with('(') {
        parse_signature(t).map(|s| Ty::Function(Arc::new(s))).unwrap_or(Ty::Unknown)
    } else {
        BASIC.iter().find(|b| **b == t).map(|b| Ty::Basic(b)).unwrap_or(Ty::Unknown)
    }
}

impl Ty {
    /// The kind as Flux's completer names it (`invalid` for a parameter of any type).
    pub fn nature(&self) -> &'static str {
        match self {
            Ty::Unknown => "invalid",
            Ty::Basic(b) => b,
            Ty::Array(_) => "array",
            Ty::Dict => "dictionary",
            Ty::Record(_) => "object",
            Ty::Function(_) => "function",
            Ty::Stream => "stream",
        }
    }
}

//! The `strings` package.

use std::rc::Rc;

use crate::args::builtin;
use crate::args::package;
use crate::args::{int, string, strings};
use flux_runtime::error::{EvalError, EvalResult};
use flux_runtime::interp::Args;
use flux_runtime::value::Value;

fn s(v: impl Into<String>) -> EvalResult<Value> {
    Ok(Value::String(v.into()))
}

fn b(v: bool) -> EvalResult<Value> {
    Ok(Value::Bool(v))
}

fn array(items: impl IntoIterator<Item = String>) -> EvalResult<Value> {
    Ok(Value::Array(Rc::new(items.into_iter().map(Value::String).collect())))
}

/// A character offset as a byte offset into `v` (clamped).
fn byte_at(v: &str, chars: i64) -> usize {
    let chars = chars.max(0) as usize;
    v.char_indices().nth(chars).map_or(v.len(), |(i, _)| i)
}

fn title(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut at_word_start = true;
    for c in v.chars() {
        if at_word_start && c.is_alphabetic() {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        at_word_start = !c.is_alphanumeric() && c != '\'' && c != '_';
    }
    out
}

fn index(found: Option<usize>, v: &str) -> EvalResult<Value> {
    Ok(Value::Int(found.map_or(-1, |i| v[..i].chars().count() as i64)))
}

pub(super) fn package_value() -> Value {
    type F = fn(&mut flux_runtime::interp::Interp, &Args) -> EvalResult<Value>;
    let members: Vec<(&'static str, &'static [&'static str], F)> = vec![
        ("title", &["v"], |_, a| s(title(string(a, "v")?))),
        ("toUpper", &["v"], |_, a| s(string(a, "v")?.to_uppercase())),
        ("toLower", &["v"], |_, a| s(string(a, "v")?.to_lowercase())),
        ("toTitle", &["v"], |_, a| s(string(a, "v")?.to_uppercase())),
        ("trim", &["v", "cutset"], |_, a| {
            let cut = string(a, "cutset")?;
            s(string(a, "v")?.trim_matches(|c| cut.contains(c)))
        }),
        ("trimLeft", &["v", "cutset"], |_, a| {
            let cut = string(a, "cutset")?;
            s(string(a, "v")?.trim_start_matches(|c| cut.contains(c)))
        }),
        ("trimRight", &["v", "cutset"], |_, a| {
            let cut = string(a, "cutset")?;
            s(string(a, "v")?.trim_end_matches(|c| cut.contains(c)))
        }),
        ("trimSpace", &["v"], |_, a| s(string(a, "v")?.trim())),
        ("trimPrefix", &["v", "prefix"], |_, a| {
            let v = string(a, "v")?;
            s(v.strip_prefix(string(a, "prefix")?).unwrap_or(v))
        }),
        ("trimSuffix", &["v", "suffix"], |_, a| {
            let v = string(a, "v")?;
            s(v.strip_suffix(string(a, "suffix")?).unwrap_or(v))
        }),
        ("hasPrefix", &["v", "prefix"], |_, a| b(string(a, "v")?.starts_with(string(a, "prefix")?))),
        ("hasSuffix", &["v", "suffix"], |_, a| b(string(a, "v")?.ends_with(string(a, "suffix")?))),
        ("containsStr", &["v", "substr"], |_, a| b(string(a, "v")?.contains(string(a, "substr")?))),
        ("containsAny", &["v", "chars"], |_, a| {
            let chars = string(a, "chars")?;
            b(string(a, "v")?.chars().any(|c| chars.contains(c)))
        }),
        ("equalFold", &["v", "t"], |_, a| b(string(a, "v")?.to_lowercase() == string(a, "t")?.to_lowercase())),
        ("compare", &["v", "t"], |_, a| {
            Ok(Value::Int(match string(a, "v")?.cmp(string(a, "t")?) {
                std::cmp::Ordering::Less => -1,
                std::cmp::Ordering::Equal => 0,
                std::cmp::Ordering::Greater => 1,
            }))
        }),
        ("countStr", &["v", "substr"], |_, a| {
            let (v, sub) = (string(a, "v")?, string(a, "substr")?);
            Ok(Value::Int(if sub.is_empty() { v.chars().count() as i64 + 1 } else { v.matches(sub).count() as i64 }))
        }),
        ("index", &["v", "substr"], |_, a| {
            let v = string(a, "v")?;
            index(v.find(string(a, "substr")?), v)
        }),
        ("indexAny", &["v", "chars"], |_, a| {
            let (v, chars) = (string(a, "v")?, string(a, "chars")?);
            index(v.find(|c| chars.contains(c)), v)
        }),
        ("lastIndex", &["v", "substr"], |_, a| {
            let v = string(a, "v")?;
            index(v.rfind(string(a, "substr")?), v)
        }),
        ("lastIndexAny", &["v", "chars"], |_, a| {
            let (v, chars) = (string(a, "v")?, string(a, "chars")?);
            index(v.rfind(|c| chars.contains(c)), v)
        }),
        ("isDigit", &["v"], |_, a| b(string(a, "v")?.chars().next().is_some_and(|c| c.is_ascii_digit()))),
        ("isLetter", &["v"], |_, a| b(string(a, "v")?.chars().next().is_some_and(char::is_alphabetic))),
        ("isLower", &["v"], |_, a| b(string(a, "v")?.chars().next().is_some_and(char::is_lowercase))),
        ("isUpper", &["v"], |_, a| b(string(a, "v")?.chars().next().is_some_and(char::is_uppercase))),
        ("repeat", &["v", "i"], |_, a| {
            let n = int(a, "i")?;
            if n < 0 {
                return Err(EvalError::invalid("strings.repeat: negative count"));
            }
            s(string(a, "v")?.repeat(n as usize))
        }),
        ("replace", &["v", "t", "u", "i"], |_, a| {
            let (v, t, u, n) = (string(a, "v")?, string(a, "t")?, string(a, "u")?, int(a, "i")?);
            s(if n < 0 { v.replace(t, u) } else { v.replacen(t, u, n as usize) })
        }),
        ("replaceAll", &["v", "t", "u"], |_, a| s(string(a, "v")?.replace(string(a, "t")?, string(a, "u")?))),
        ("split", &["v", "t"], |_, a| {
            let (v, t) = (string(a, "v")?, string(a, "t")?);
            if t.is_empty() {
                return array(v.chars().map(String::from));
            }
            array(v.split(t).map(str::to_owned))
        }),
        ("splitAfter", &["v", "t"], |_, a| {
            let (v, t) = (string(a, "v")?, string(a, "t")?);
            array(v.split_inclusive(t).map(str::to_owned))
        }),
        ("splitN", &["v", "t", "i"], |_, a| {
            let (v, t, n) = (string(a, "v")?, string(a, "t")?, int(a, "i")?);
            array(split_n(v, t, n, false))
        }),
        ("splitAfterN", &["v", "t", "i"], |_, a| {
            let (v, t, n) = (string(a, "v")?, string(a, "t")?, int(a, "i")?);
            array(split_n(v, t, n, true))
        }),
        ("joinStr", &["arr", "v"], |_, a| s(strings(a, "arr")?.join(string(a, "v")?))),
        ("strlen", &["v"], |_, a| Ok(Value::Int(string(a, "v")?.chars().count() as i64))),
        ("substring", &["v", "start", "end"], |_, a| {
            let v = string(a, "v")?;
            let (start, end) = (byte_at(v, int(a, "start")?), byte_at(v, int(a, "end")?));
            s(if start < end { &v[start..end] } else { "" })
        }),
    ];
    package(members.into_iter().map(|(name, params, f)| (name, builtin(name, params, None, f))).collect())
}

/// Go's `SplitN` / `SplitAfterN`: at most `n` pieces (all when negative, none
/// when zero), the last holding the rest; an empty separator splits
/// characters; `after` keeps each separator on the piece before it.
fn split_n(v: &str, t: &str, n: i64, after: bool) -> Vec<String> {
    let limit = if n < 0 { usize::MAX } else { n as usize };
    let mut out = Vec::new();
    if limit == 0 {
        return out;
    }
    let mut rest = v;
    while out.len() + 1 < limit && !rest.is_empty() {
        let cut = if t.is_empty() {
            rest.chars().next().map(|c| (c.len_utf8(), 0))
        } else {
            rest.find(t).map(|i| (i, t.len()))
        };
        let Some((at, sep)) = cut else { break };
        let end = if t.is_empty() || after { at + sep } else { at };
        out.push(rest[..end].to_owned());
        rest = &rest[at + sep..];
    }
    if !(t.is_empty() && rest.is_empty()) || out.is_empty() {
        out.push(rest.to_owned());
    }
    out
}

//! InfluxQL's literal syntax outside the scanner: durations (`1h30m`)
//! read and written, and identifiers written back with the quotes they need.

use crate::lexer::Keyword;

/// InfluxQL's duration syntax (`1h30m`, `10s`, `5u`, `100ms`, `1w`, `15ns`): nanoseconds.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    let invalid = || "invalid duration".to_owned();
    let chars: Vec<char> = s.chars().collect();
    if chars.len() < 2 {
        return Err(invalid());
    }
    let mut i = 0;
    let negative = chars[0] == '-';
    if negative {
        i += 1;
    }
    let mut total: i64 = 0;
    while i < chars.len() {
        let start = i;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        if i >= chars.len() || i == start {
            return Err(invalid());
        }
        let digits: String = chars[start..i].iter().collect();
        let n: i64 = digits.parse().map_err(|_| invalid())?;
        let (unit, len, scale): (String, usize, i64) = match chars[i] {
            'n' if chars.get(i + 1) == Some(&'s') => ("ns".into(), 2, 1),
            'u' | 'µ' => (chars[i].to_string(), 1, time::MICROSECOND),
            'm' if chars.get(i + 1) == Some(&'s') => ("ms".into(), 2, time::MILLISECOND),
            'm' => ("m".into(), 1, time::MINUTE),
            's' => ("s".into(), 1, time::SECOND),
            'h' => ("h".into(), 1, time::HOUR),
            'd' => ("d".into(), 1, time::DAY),
            'w' => ("w".into(), 1, time::WEEK),
            _ => return Err(invalid()),
        };
        // Go's arithmetic wraps; a wrapped (negative) total is the overflow it reports.
        total = total.wrapping_add(n.wrapping_mul(scale));
        if total < 0 && !negative {
            return Err(format!("overflowed duration {n}{unit}: choose a smaller duration or INF"));
        }
        i += len;
    }
    Ok(if negative { total.wrapping_neg() } else { total })
}

/// A duration as InfluxQL writes it: the largest unit that divides it.
pub fn format_duration(ns: i64) -> String {
    const UNITS: [(i64, &str); 7] = [
        (time::WEEK, "w"),
        (time::DAY, "d"),
        (time::HOUR, "h"),
        (time::MINUTE, "m"),
        (time::SECOND, "s"),
        (time::MILLISECOND, "ms"),
        (time::MICROSECOND, "u"),
    ];
    if ns == 0 {
        return "0s".into();
    }
    for (size, unit) in UNITS {
        if ns % size == 0 {
            return format!("{}{unit}", ns / size);
        }
    }
    format!("{ns}ns")
}

/// An identifier as InfluxQL would write it, quoted where it must be.
pub fn quote_ident(segments: &[String]) -> String {
    let mut out = String::new();
    for (i, seg) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        let quote = needs_quotes(seg) || (!last && !seg.is_empty()) || ((i == 0 || last) && seg.is_empty());
        if quote {
            out.push('"');
        }
        out.push_str(&seg.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n"));
        if quote {
            out.push('"');
        }
        if !last {
            out.push('.');
        }
    }
    out
}

fn needs_quotes(ident: &str) -> bool {
    if Keyword::lookup(ident).is_some() || ["and", "or", "true", "false"].iter().any(|w| w.eq_ignore_ascii_case(ident))
    {
        return true;
    }
    ident.chars().enumerate().any(|(i, c)| {
        if i == 0 { !(c.is_ascii_alphabetic() || c == '_') } else { !(c.is_ascii_alphanumeric() || c == '_') }
    })
}

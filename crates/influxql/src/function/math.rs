//! InfluxQL's math functions: one value in (two for `pow`, `log` and
//! `atan2`), one value out, integers kept integral where InfluxQL keeps them.

use crate::value::V;

/// Whether a function maps one value (or two) to one.
pub(crate) fn is_math(name: &str) -> bool {
    matches!(
        name,
        "abs"
            | "ceil"
            | "floor"
            | "round"
            | "sqrt"
            | "pow"
            | "exp"
            | "ln"
            | "log"
            | "log2"
            | "log10"
            | "sin"
            | "cos"
            | "tan"
            | "asin"
            | "acos"
            | "atan"
            | "atan2"
    )
}

/// Applies a math function to its evaluated arguments.
pub(crate) fn math(name: &str, args: &[Option<V>]) -> Option<V> {
    let x = args.first()?.as_ref()?;
    let f = x.num()?;
    let integral = matches!(x, V::I(_) | V::U(_));
    let second = || args.get(1).and_then(|a| a.as_ref()).and_then(V::num);
    Some(match name {
        "abs" => match x {
            V::I(i) => V::I(i.wrapping_abs()),
            V::U(u) => V::U(*u),
            _ => V::F(f.abs()),
        },
        "ceil" | "floor" | "round" if integral => x.clone(),
        "ceil" => V::F(f.ceil()),
        "floor" => V::F(f.floor()),
        // Go rounds half away from zero, as Rust's `round` does.
        "round" => V::F(f.round()),
        "sqrt" => V::F(f.sqrt()),
        "pow" => V::F(f.powf(second()?)),
        "exp" => V::F(f.exp()),
        "ln" => V::F(f.ln()),
        "log" => V::F(f.ln() / second()?.ln()),
        "log2" => V::F(f.log2()),
        "log10" => V::F(f.log10()),
        "sin" => V::F(f.sin()),
        "cos" => V::F(f.cos()),
        "tan" => V::F(f.tan()),
        "asin" => V::F(f.asin()),
        "acos" => V::F(f.acos()),
        "atan" => V::F(f.atan()),
        "atan2" => V::F(f.atan2(second()?)),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn math_keeps_integers_integral_where_influxql_does() {
        assert_eq!(math("abs", &[Some(V::I(-3))]), Some(V::I(3)));
        assert_eq!(math("round", &[Some(V::F(2.5))]), Some(V::F(3.0)));
        assert_eq!(math("log", &[Some(V::F(100.0)), Some(V::I(10))]), Some(V::F(2.0)));
        assert_eq!(math("sqrt", &[None]), None);
    }
}

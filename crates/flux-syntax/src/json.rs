//! Flux's JSON syntax tree read back into source text: what a client sends as a
//! query's `extern` (a `File` of imports and option statements, as the
//! client libraries build it from their parameters) becomes Flux the parser
//! reads like any other. Every compound expression is written in parentheses,
//! so the text means exactly the tree, whatever the operators' precedence.

use std::fmt::Write as _;

use serde_json::Value;

/// The source text of a JSON `File` node (its imports, then its statements),
/// or what is wrong with the tree.
pub fn file_source(file: &Value) -> Result<String, String> {
    let mut out = String::new();
    // The client libraries leave the File's own type out.
    if !file.is_object() {
        return Err("extern must be a File object".into());
    }
    match file.get("type").and_then(Value::as_str) {
        None | Some("File") => {}
        Some(other) => return Err(format!("extern must be a File, not {other}")),
    }
    for import in list(file, "imports")? {
        let path = string_value(field(import, "path")?)?;
        out.push_str("import ");
        if let Some(alias) = import.get("as").filter(|a| !a.is_null()) {
            out.push_str(&identifier(alias)?);
            out.push(' ');
        }
        quote(&mut out, &path);
        out.push('\n');
    }
    for stmt in list(file, "body")? {
        statement(&mut out, stmt)?;
        out.push('\n');
    }
    Ok(out)
}

/// The source text of a query request's `params`: `option params = {...}`,
/// so that the query reads them as `params.name`. Strings, numbers,
/// booleans, lists and objects become Flux's literals, lists and records.
pub fn params_source(params: &serde_json::Map<String, Value>) -> Result<String, String> {
    let mut out = String::from("option params = ");
    param_record(&mut out, params)?;
    out.push('\n');
    Ok(out)
}

fn param_record(out: &mut String, fields: &serde_json::Map<String, Value>) -> Result<(), String> {
    out.push('{');
    separated(out, fields, |out, (key, value)| {
        quote(out, key);
        out.push_str(": ");
        param_value(out, value).map_err(|e| format!("params.{key}: {e}"))
    })?;
    out.push('}');
    Ok(())
}

fn param_value(out: &mut String, v: &Value) -> Result<(), String> {
    match v {
        Value::Null => return Err("null has no Flux value".into()),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) if n.is_i64() => {
            let i = n.as_i64().unwrap_or_default();
            let _ = if i < 0 { write!(out, "({i})") } else { write!(out, "{i}") };
        }
        Value::Number(n) if n.is_u64() => {
            let _ = write!(out, "uint(v: \"{n}\")");
        }
        Value::Number(n) => {
            let f = n.as_f64().ok_or("a number out of range")?;
            let _ = if f < 0.0 { write!(out, "({f:?})") } else { write!(out, "{f:?}") };
        }
        Value::String(s) => quote(out, s),
        Value::Array(items) => {
            out.push('[');
            separated(out, items, param_value)?;
            out.push(']');
        }
        Value::Object(fields) => param_record(out, fields)?,
    }
    Ok(())
}

/// Writes each of `items` with `write`, `", "` between them.
fn separated<T>(
    out: &mut String,
    items: impl IntoIterator<Item = T>,
    mut write: impl FnMut(&mut String, T) -> Result<(), String>,
) -> Result<(), String> {
    for (n, item) in items.into_iter().enumerate() {
        if n > 0 {
            out.push_str(", ");
        }
        write(out, item)?;
    }
    Ok(())
}

fn kind(node: &Value) -> Result<&str, String> {
    node.get("type").and_then(Value::as_str).ok_or_else(|| format!("a node without a type: {node}"))
}

fn field<'a>(node: &'a Value, name: &str) -> Result<&'a Value, String> {
    node.get(name).filter(|v| !v.is_null()).ok_or_else(|| format!("{} without {name}", kind(node).unwrap_or("node")))
}

fn list<'a>(node: &'a Value, name: &str) -> Result<&'a [Value], String> {
    match node.get(name) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(format!("{name} of {} must be a list", kind(node).unwrap_or("node"))),
    }
}

fn string_value(node: &Value) -> Result<String, String> {
    match field(node, "value")? {
        Value::String(s) => Ok(s.clone()),
        other => Err(format!("{} value must be a string, not {other}", kind(node)?)),
    }
}

fn identifier(node: &Value) -> Result<String, String> {
    let name = field(node, "name")?.as_str().ok_or("an identifier's name must be a string")?;
    let valid = name.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_alphanumeric() || c == '_');
    if !valid {
        return Err(format!("invalid identifier {name:?}"));
    }
    Ok(name.to_owned())
}

fn quote(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        if matches!(c, '"' | '\\' | '$') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
}

fn statement(out: &mut String, stmt: &Value) -> Result<(), String> {
    match kind(stmt)? {
        "OptionStatement" => {
            out.push_str("option ");
            assignment(out, field(stmt, "assignment")?)
        }
        "VariableAssignment" | "MemberAssignment" => assignment(out, stmt),
        "ExpressionStatement" => expression(out, field(stmt, "expression")?),
        "ReturnStatement" => {
            out.push_str("return ");
            expression(out, field(stmt, "argument")?)
        }
        other => Err(format!("unsupported statement {other}")),
    }
}

fn assignment(out: &mut String, a: &Value) -> Result<(), String> {
    match kind(a)? {
        "VariableAssignment" => out.push_str(&identifier(field(a, "id")?)?),
        "MemberAssignment" => expression(out, field(a, "member")?)?,
        other => return Err(format!("unsupported assignment {other}")),
    }
    out.push_str(" = ");
    expression(out, field(a, "init")?)
}

fn expression(out: &mut String, e: &Value) -> Result<(), String> {
    match kind(e)? {
        "Identifier" => out.push_str(&identifier(e)?),
        "StringLiteral" => quote(out, &string_value(e)?),
        "IntegerLiteral" | "UnsignedIntegerLiteral" => {
            let digits = match field(e, "value")? {
                Value::String(s) => s.clone(),
                Value::Number(n) if n.is_i64() || n.is_u64() => n.to_string(),
                other => return Err(format!("an integer literal's value must be digits, not {other}")),
            };
            let valid = !digits.is_empty() && digits.trim_start_matches('-').chars().all(|c| c.is_ascii_digit());
            if !valid {
                return Err(format!("invalid integer literal {digits:?}"));
            }
            if kind(e)? == "UnsignedIntegerLiteral" {
                let _ = write!(out, "uint(v: \"{digits}\")");
            } else if let Some(positive) = digits.strip_prefix('-') {
                let _ = write!(out, "(-{positive})");
            } else {
                out.push_str(&digits);
            }
        }
        "FloatLiteral" => {
            let f = field(e, "value")?.as_f64().ok_or("a float literal's value must be a number")?;
            let text = format!("{f:?}");
            match text.strip_prefix('-') {
                Some(positive) => {
                    let _ = write!(out, "(-{positive})");
                }
                None => out.push_str(&text),
            }
        }
        "BooleanLiteral" => {
            let b = field(e, "value")?.as_bool().ok_or("a boolean literal's value must be true or false")?;
            out.push_str(if b { "true" } else { "false" });
        }
        "DateTimeLiteral" => {
            let text = string_value(e)?;
            if time::rfc3339::parse(&text).is_none() {
                return Err(format!("invalid date-time literal {text:?}"));
            }
            out.push_str(&text);
        }
        "DurationLiteral" => {
            let values = list(e, "values")?;
            if values.is_empty() {
                return Err("a duration literal without values".into());
            }
            for v in values {
                let magnitude = field(v, "magnitude")?.as_i64().ok_or("a duration's magnitude must be an integer")?;
                let unit = field(v, "unit")?.as_str().ok_or("a duration's unit must be a string")?;
                if !matches!(unit, "y" | "mo" | "w" | "d" | "h" | "m" | "s" | "ms" | "us" | "µs" | "ns") {
                    return Err(format!("invalid duration unit {unit:?}"));
                }
                let _ = write!(out, "{magnitude}{unit}");
            }
        }
        "RegexpLiteral" => {
            out.push('/');
            for c in string_value(e)?.chars() {
                if c == '/' {
                    out.push('\\');
                }
                out.push(c);
            }
            out.push('/');
        }
        "PipeLiteral" => out.push_str("<-"),
        "ArrayExpression" => {
            out.push('[');
            separated(out, list(e, "elements")?, expression)?;
            out.push(']');
        }
        "DictExpression" => {
            let items = list(e, "elements")?;
            if items.is_empty() {
                out.push_str("[:]");
            } else {
                out.push('[');
                separated(out, items, |out, item| {
                    expression(out, field(item, "key")?)?;
                    out.push_str(": ");
                    expression(out, item.get("val").or_else(|| item.get("value")).ok_or("a dict item without val")?)
                })?;
                out.push(']');
            }
        }
        "ObjectExpression" => object(out, e)?,
        "MemberExpression" => {
            expression(out, field(e, "object")?)?;
            let property = field(e, "property")?;
            match kind(property)? {
                "Identifier" => {
                    out.push('.');
                    out.push_str(&identifier(property)?);
                }
                _ => {
                    out.push('[');
                    quote(out, &string_value(property)?);
                    out.push(']');
                }
            }
        }
        "IndexExpression" => {
            expression(out, field(e, "array")?)?;
            out.push('[');
            expression(out, field(e, "index")?)?;
            out.push(']');
        }
        "CallExpression" => call(out, e)?,
        "PipeExpression" => {
            out.push('(');
            expression(out, field(e, "argument")?)?;
            out.push_str(" |> ");
            call(out, field(e, "call")?)?;
            out.push(')');
        }
        "BinaryExpression" | "LogicalExpression" => {
            let op = field(e, "operator")?.as_str().ok_or("an operator must be a string")?;
            const OPERATORS: &[&str] =
                &["+", "-", "*", "/", "%", "^", "==", "!=", "<", "<=", ">", ">=", "=~", "!~", "and", "or"];
            if !OPERATORS.contains(&op) {
                return Err(format!("unknown operator {op:?}"));
            }
            out.push('(');
            expression(out, field(e, "left")?)?;
            let _ = write!(out, " {op} ");
            expression(out, field(e, "right")?)?;
            out.push(')');
        }
        "UnaryExpression" => {
            let op = field(e, "operator")?.as_str().ok_or("an operator must be a string")?;
            let written = match op {
                "-" | "+" => op.to_owned(),
                "not" | "exists" => format!("{op} "),
                other => return Err(format!("unknown operator {other:?}")),
            };
            out.push('(');
            out.push_str(&written);
            expression(out, field(e, "argument")?)?;
            out.push(')');
        }
        "ConditionalExpression" => {
            out.push_str("(if ");
            expression(out, field(e, "test")?)?;
            out.push_str(" then ");
            expression(out, field(e, "consequent")?)?;
            out.push_str(" else ");
            expression(out, field(e, "alternate")?)?;
            out.push(')');
        }
        "ParenExpression" => {
            out.push('(');
            expression(out, field(e, "expression")?)?;
            out.push(')');
        }
        "StringExpression" => {
            out.push('"');
            for part in list(e, "parts")? {
                match kind(part)? {
                    "TextPart" => {
                        let mut quoted = String::new();
                        quote(&mut quoted, &string_value(part)?);
                        out.push_str(&quoted[1..quoted.len() - 1]);
                    }
                    "InterpolatedPart" => {
                        out.push_str("${");
                        expression(out, field(part, "expression")?)?;
                        out.push('}');
                    }
                    other => return Err(format!("unsupported string part {other}")),
                }
            }
            out.push('"');
        }
        "FunctionExpression" => {
            out.push_str("((");
            separated(out, list(e, "params")?, |out, p| {
                out.push_str(&identifier(field(p, "key")?)?);
                property_value(out, p, "=")
            })?;
            out.push_str(") => ");
            let body = field(e, "body")?;
            if kind(body)? == "Block" {
                out.push_str("{\n");
                for stmt in list(body, "body")? {
                    statement(out, stmt)?;
                    out.push('\n');
                }
                out.push('}');
            } else {
                expression(out, body)?;
            }
            out.push(')');
        }
        other => return Err(format!("unsupported expression {other}")),
    }
    Ok(())
}

fn object(out: &mut String, e: &Value) -> Result<(), String> {
    out.push('{');
    if let Some(with) = e.get("with").filter(|w| !w.is_null()) {
        out.push_str(&identifier(with)?);
        out.push_str(" with ");
    }
    separated(out, list(e, "properties")?, |out, p| {
        let key = field(p, "key")?;
        match kind(key)? {
            "Identifier" => out.push_str(&identifier(key)?),
            _ => quote(out, &string_value(key)?),
        }
        property_value(out, p, ": ")
    })?;
    out.push('}');
    Ok(())
}

/// A property's value after `separator`, when it has one (a parameter's
/// default, a record field that is not a shorthand).
fn property_value(out: &mut String, p: &Value, separator: &str) -> Result<(), String> {
    match p.get("value").filter(|v| !v.is_null()) {
        Some(value) => {
            out.push_str(separator);
            expression(out, value)
        }
        None => Ok(()),
    }
}

fn call(out: &mut String, e: &Value) -> Result<(), String> {
    if kind(e)? != "CallExpression" {
        return Err(format!("a pipe must call a function, not {}", kind(e)?));
    }
    expression(out, field(e, "callee")?)?;
    out.push('(');
    match list(e, "arguments")? {
        [] => {}
        [args] if kind(args)? == "ObjectExpression" => {
            let mut text = String::new();
            object(&mut text, args)?;
            out.push_str(&text[1..text.len() - 1]);
        }
        _ => return Err("a call's arguments must be one object".into()),
    }
    out.push(')');
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lit(kind: &str, value: Value) -> Value {
        json!({"type": kind, "value": value})
    }

    fn option(name: &str, init: Value) -> Value {
        json!({"type": "OptionStatement", "assignment": {
            "type": "VariableAssignment", "id": {"type": "Identifier", "name": name}, "init": init}})
    }

    #[test]
    fn the_client_libraries_parameters_read_back_as_options() {
        let file = json!({"type": "File", "imports": [], "body": [
            option("s", lit("StringLiteral", json!("a \"b\" ${c}"))),
            option("i", lit("IntegerLiteral", json!("-7"))),
            option("f", lit("FloatLiteral", json!(1.5))),
            option("b", lit("BooleanLiteral", json!(true))),
            option("t", lit("DateTimeLiteral", json!("2021-03-20T15:59:10.607352000Z"))),
            option("d", json!({"type": "UnaryExpression", "operator": "-", "argument":
                {"type": "DurationLiteral", "values": [{"magnitude": 90, "unit": "us"}]}})),
            option("a", json!({"type": "ArrayExpression", "elements": [lit("IntegerLiteral", json!("1"))]})),
            option("c", json!({"type": "CallExpression", "callee": {"type": "Identifier", "name": "now"}})),
        ]});
        let text = file_source(&file).unwrap();
        assert_eq!(
            text,
            "option s = \"a \\\"b\\\" \\${c}\"\noption i = (-7)\noption f = 1.5\noption b = true\n\
             option t = 2021-03-20T15:59:10.607352000Z\noption d = (-90us)\noption a = [1]\noption c = now()\n"
        );
        crate::parse(&text).expect("the text parses");
    }

    #[test]
    fn a_member_option_and_its_import() {
        let file = json!({"imports": [{"type": "ImportDeclaration", "path": lit("StringLiteral", json!("profiler"))}],
            "body": [{"type": "OptionStatement", "assignment": {"type": "MemberAssignment",
                "member": {"type": "MemberExpression", "object": {"type": "Identifier", "name": "profiler"},
                           "property": {"type": "Identifier", "name": "enabledProfilers"}},
                "init": {"type": "ArrayExpression", "elements": [lit("StringLiteral", json!("query"))]}}}]});
        assert_eq!(
            file_source(&file).unwrap(),
            "import \"profiler\"\noption profiler.enabledProfilers = [\"query\"]\n"
        );
    }

    #[test]
    fn functions_dicts_and_records_read_back() {
        let ident = |n: &str| json!({"type": "Identifier", "name": n});
        let int = |v: &str| lit("IntegerLiteral", json!(v));
        let file = json!({"body": [
            option("f", json!({"type": "FunctionExpression",
                "params": [{"key": ident("x")}, {"key": ident("y"), "value": int("2")}],
                "body": {"type": "BinaryExpression", "operator": "+", "left": ident("x"), "right": ident("y")}})),
            option("d", json!({"type": "DictExpression", "elements": [
                {"key": lit("StringLiteral", json!("a")), "val": int("1")},
                {"key": lit("StringLiteral", json!("b")), "val": int("2")}]})),
            option("r", json!({"type": "ObjectExpression", "properties": [
                {"key": ident("a"), "value": int("1")}, {"key": lit("StringLiteral", json!("b c")), "value": int("2")}]})),
        ]});
        let text = file_source(&file).unwrap();
        assert_eq!(
            text,
            "option f = ((x, y=2) => (x + y))\noption d = [\"a\": 1, \"b\": 2]\noption r = {a: 1, \"b c\": 2}\n"
        );
        crate::parse(&text).expect("the text parses");
    }

    #[test]
    fn params_are_one_record_option() {
        let params = json!({"bucket": "b\"1", "n": -3, "f": 2.5, "on": true, "xs": [1, 2], "r": {"a b": "c"}});
        let text = params_source(params.as_object().unwrap()).unwrap();
        assert_eq!(
            text,
            "option params = {\"bucket\": \"b\\\"1\", \"f\": 2.5, \"n\": (-3), \"on\": true, \"r\": {\"a b\": \"c\"}, \"xs\": [1, 2]}\n"
        );
        crate::parse(&text).expect("the text parses");
        assert!(params_source(json!({"x": null}).as_object().unwrap()).is_err());
    }

    #[test]
    fn a_tree_that_is_not_flux_is_refused() {
        let bad = [
            json!({"type": "Query"}),
            json!({"type": "File", "body": [option("x y", lit("StringLiteral", json!("a")))]}),
            json!({"type": "File", "body": [option("x", lit("IntegerLiteral", json!("1; drop")))]}),
            json!({"type": "File", "body": [option("x", json!({"type": "BinaryExpression", "operator": ";",
                "left": lit("IntegerLiteral", json!("1")), "right": lit("IntegerLiteral", json!("2"))}))]}),
            json!({"type": "File", "body": "x"}),
        ];
        for b in bad {
            assert!(file_source(&b).is_err(), "{b}");
        }
    }
}

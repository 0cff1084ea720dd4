//! Flux values.

use std::fmt;
use std::rc::Rc;

use crate::duration::Duration;

use flux_syntax::ast::Expression;

/// A function value: a closure over its defining scope, or a builtin.
#[derive(Clone)]
pub enum Function {
    Closure {
        params: Vec<Param>,
        body: Rc<flux_syntax::ast::FunctionBody>,
        scope: crate::interp::Scope,
    },
    Builtin {
        name: &'static str,
        params: &'static [&'static str],
        /// The parameter that takes the piped value, if any.
        pipe: Option<&'static str>,
        call: crate::interp::BuiltinFn,
    },
}

#[derive(Debug, Clone)]
pub struct Param {
    pub name: String,
    pub default: Option<Rc<Expression>>,
    pub pipe: bool,
}

impl Function {
    /// `(a: A, ?b: B, <-tables: C) => D`, as Flux writes a function's type.
    fn type_string(&self) -> String {
        let vars = ('A'..='Z').map(String::from);
        let (params, result): (Vec<(String, bool, bool)>, Option<&'static str>) = match self {
            Function::Closure { params, body, .. } => (
                params.iter().map(|p| (p.name.clone(), p.default.is_some(), p.pipe)).collect(),
                match &**body {
                    flux_syntax::ast::FunctionBody::Expression(e) => literal_type(e),
                    flux_syntax::ast::FunctionBody::Block(_) => None,
                },
            ),
            Function::Builtin { params, pipe, .. } => (
                pipe.iter()
                    .map(|p| ((*p).to_owned(), false, true))
                    .chain(params.iter().map(|p| ((*p).to_owned(), true, false)))
                    .collect(),
                None,
            ),
        };
        let mut vars = vars;
        let params: Vec<String> = params
            .iter()
            .map(|(name, optional, pipe)| {
                let prefix = if *pipe {
                    "<-"
                } else if *optional {
                    "?"
                } else {
                    ""
                };
                format!("{prefix}{name}: {}", vars.next().unwrap_or_default())
            })
            .collect();
        let result = result.map_or_else(|| vars.next().unwrap_or_default(), str::to_owned);
        format!("({}) => {result}", params.join(", "))
    }
}

/// The type of an expression whose type its form alone shows.
fn literal_type(e: &Expression) -> Option<&'static str> {
    Some(match e {
        Expression::Identifier(id) if id.name == "true" || id.name == "false" => "bool",
        Expression::BooleanLiteral { .. } => "bool",
        Expression::IntegerLiteral { .. } => "int",
        Expression::FloatLiteral { .. } => "float",
        Expression::StringLiteral(_) | Expression::StringExpression { .. } => "string",
        Expression::DurationLiteral { .. } => "duration",
        Expression::DateTimeLiteral { .. } => "time",
        Expression::RegexpLiteral { .. } => "regexp",
        Expression::LogicalExpression { .. } => "bool",
        Expression::UnaryExpression { operator, .. } if operator == "not" || operator == "exists" => "bool",
        Expression::BinaryExpression { operator, .. }
            if matches!(operator.as_str(), "==" | "!=" | "<" | "<=" | ">" | ">=" | "=~" | "!~") =>
        {
            "bool"
        }
        Expression::ParenExpression { expression, .. } => return literal_type(expression),
        _ => return None,
    })
}

impl fmt::Debug for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Function::Closure { params, .. } => {
                write!(f, "({}) => ...", params.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", "))
            }
            Function::Builtin { name, .. } => write!(f, "builtin {name}"),
        }
    }
}

#[derive(Debug, Clone)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    String(String),
    /// Nanoseconds since the Unix epoch, UTC.
    Time(i64),
    Duration(Duration),
    Bytes(Vec<u8>),
    Regex(Rc<regex::Regex>),
    Array(Rc<Vec<Value>>),
    Record(Rc<Record>),
    Dict(Rc<Vec<(Value, Value)>>),
    Function(Rc<Function>),
    Stream(Rc<crate::stream::Stream>),
    /// `experimental/dynamic`: a value whose type is known only when it is
    /// read. Never wraps another dynamic; arrays and records inside it hold
    /// dynamic elements (see `Value::dynamic`).
    Dynamic(Rc<Value>),
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        use Value::*;
        match (self, other) {
            (Null, Null) => true,
            (Bool(a), Bool(b)) => a == b,
            (Int(a), Int(b)) => a == b,
            (UInt(a), UInt(b)) => a == b,
            (Float(a), Float(b)) => a == b,
            (String(a), String(b)) => a == b,
            (Time(a), Time(b)) => a == b,
            (Duration(a), Duration(b)) => a.signed() == b.signed(),
            (Bytes(a), Bytes(b)) => a == b,
            (Regex(a), Regex(b)) => a.as_str() == b.as_str(),
            (Array(a), Array(b)) => a == b,
            (Record(a), Record(b)) => a.same(b),
            (Dict(a), Dict(b)) => a == b,
            (Dynamic(a), Dynamic(b)) => a == b,
            _ => false,
        }
    }
}

/// A record: properties in the order they were written (`with` keeps the
/// extended record's order and adds new properties after it).
#[derive(Debug, Clone, Default)]
pub struct Record(Vec<(String, Value)>);

impl Record {
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Sets a property: in place if present, else after the others.
    pub fn insert(&mut self, key: String, v: Value) {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = v,
            None => self.0.push((key, v)),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Orders properties by name (a record made with `with` is ordered so in Flux).
    pub fn sort(&mut self) {
        self.0.sort_by(|a, b| a.0.cmp(&b.0));
    }

    /// Equal as Flux records are: the same properties with equal values, in any order.
    pub fn same(&self, other: &Record) -> bool {
        self.0.len() == other.0.len() && self.0.iter().all(|(k, v)| other.get(k) == Some(v))
    }
}

impl FromIterator<(String, Value)> for Record {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> Self {
        let mut r = Record::default();
        for (k, v) in iter {
            r.insert(k, v);
        }
        r
    }
}

impl Value {
    /// The type's name as Flux prints it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::UInt(_) => "uint",
            Value::Float(_) => "float",
            Value::String(_) => "string",
            Value::Time(_) => "time",
            Value::Duration(_) => "duration",
            Value::Bytes(_) => "bytes",
            Value::Regex(_) => "regexp",
            Value::Array(_) => "array",
            Value::Record(_) => "record",
            Value::Dict(_) => "dict",
            Value::Function(_) => "function",
            Value::Stream(_) => "stream",
            Value::Dynamic(_) => "dynamic",
        }
    }

    /// The value's type as Flux writes types (`int`, `[string]`,
    /// `{a: int}`, `() => bool`). Function results are known only where the
    /// body is a literal or a comparison; elsewhere they are a type variable,
    /// as are the types of parameters.
    pub fn type_string(&self) -> String {
        match self {
            Value::Array(items) => {
                format!("[{}]", items.first().map_or_else(|| "A".to_owned(), Value::type_string))
            }
            Value::Record(r) => {
                let mut fields: Vec<(&String, &Value)> = r.iter().collect();
                fields.sort_by(|a, b| a.0.cmp(b.0));
                let fields: Vec<String> = fields.iter().map(|(k, v)| format!("{k}: {}", v.type_string())).collect();
                format!("{{{}}}", fields.join(", "))
            }
            Value::Dict(d) => match d.first() {
                Some((k, v)) => format!("[{}: {}]", k.type_string(), v.type_string()),
                None => "[A: B]".to_owned(),
            },
            Value::Function(f) => f.type_string(),
            Value::Stream(_) => "stream[A]".to_owned(),
            v => v.type_name().to_owned(),
        }
    }

    /// Null, or a dynamic holding null (`exists` is false for both).
    pub fn is_null(&self) -> bool {
        match self {
            Value::Null => true,
            Value::Dynamic(inner) => matches!(**inner, Value::Null),
            _ => false,
        }
    }

    /// The value a dynamic holds, or the value itself.
    pub fn undynamic(&self) -> &Value {
        match self {
            Value::Dynamic(inner) => inner,
            v => v,
        }
    }

    /// Wraps a value as `dynamic.dynamic()` does: a dynamic stays as it is,
    /// arrays and records are wrapped element by element, anything else
    /// plainly.
    pub fn dynamic(v: Value) -> Value {
        match v {
            Value::Dynamic(_) => v,
            Value::Array(items) => {
                Value::Dynamic(Rc::new(Value::Array(Rc::new(items.iter().cloned().map(Value::dynamic).collect()))))
            }
            Value::Record(r) => {
                Value::Dynamic(Rc::new(Value::record(r.iter().map(|(k, v)| (k.clone(), Value::dynamic(v.clone()))))))
            }
            v => Value::Dynamic(Rc::new(v)),
        }
    }

    pub fn record(fields: impl IntoIterator<Item = (String, Value)>) -> Value {
        Value::Record(Rc::new(fields.into_iter().collect()))
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("<null>"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(n) => write!(f, "{n}"),
            Value::UInt(n) => write!(f, "{n}"),
            // As Go formats floats (strconv 'f', shortest): `+Inf`, `-Inf`, `NaN` included.
            Value::Float(x) if x.is_infinite() => f.write_str(if *x > 0.0 { "+Inf" } else { "-Inf" }),
            Value::Float(x) => write!(f, "{x}"),
            Value::String(s) => write!(f, "{s}"),
            Value::Time(t) => write!(f, "{}", time::rfc3339::format(*t, time::rfc3339::Fraction::Trimmed)),
            Value::Duration(d) => write!(f, "{}", crate::duration::format_duration(d)),
            Value::Bytes(b) => write!(f, "{b:?}"),
            Value::Regex(r) => write!(f, "/{}/", r.as_str()),
            Value::Array(a) => {
                write!(f, "[")?;
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{v}")?;
                }
                write!(f, "]")
            }
            Value::Record(r) => {
                write!(f, "{{")?;
                for (i, (k, v)) in r.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{k}: {v}")?;
                }
                write!(f, "}}")
            }
            Value::Dict(d) => {
                write!(f, "[")?;
                for (i, (k, v)) in d.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{k}: {v}")?;
                }
                write!(f, "]")
            }
            Value::Function(func) => write!(f, "{func:?}"),
            Value::Stream(_) => f.write_str("<stream>"),
            Value::Dynamic(inner) => write!(f, "dynamic({inner})"),
        }
    }
}

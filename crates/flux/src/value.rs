//! Flux values.

use std::fmt;
use std::rc::Rc;

use crate::ast::Expression;

/// A duration: months and nanoseconds, kept apart because a month's length
/// depends on when it is applied (SPEC: "Durations represent a length of time
/// dependent on specific instants").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Duration {
    pub months: i64,
    pub nanos: i64,
    pub negative: bool,
}

impl Duration {
    pub fn from_nanos(n: i64) -> Self {
        Self { months: 0, nanos: n.abs(), negative: n < 0 }
    }

    /// Signed months and nanoseconds.
    pub fn signed(&self) -> (i64, i64) {
        let s = if self.negative { -1 } else { 1 };
        (s * self.months, s * self.nanos)
    }
}

/// A function value: a closure over its defining scope, or a builtin.
#[derive(Clone)]
pub enum Function {
    Closure {
        params: Vec<Param>,
        body: Rc<crate::ast::FunctionBody>,
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
    Stream(Rc<crate::table::Stream>),
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
            Value::Time(t) => write!(f, "{}", crate::interp::format_time(*t)),
            Value::Duration(d) => write!(f, "{}", crate::interp::format_duration(d)),
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
        }
    }
}

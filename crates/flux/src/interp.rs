//! The evaluator: statements and expressions over a chain of scopes.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use crate::ast::{self, Expression, FunctionBody, PropertyKey, Statement, StringPart};
use crate::value::{Duration, Function, Param, Value};

/// A runtime error.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct EvalError {
    pub message: String,
}

pub type EvalResult<T> = Result<T, EvalError>;

fn err<T>(message: impl Into<String>) -> EvalResult<T> {
    Err(EvalError { message: message.into() })
}

/// A scope: its own names, then its parent's.
#[derive(Clone, Default)]
pub struct Scope(Rc<ScopeInner>);

impl std::fmt::Debug for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scope").field("names", &self.0.vars.borrow().len()).finish_non_exhaustive()
    }
}

#[derive(Default)]
struct ScopeInner {
    vars: RefCell<HashMap<String, Value>>,
    parent: Option<Scope>,
}

impl Scope {
    pub fn child(&self) -> Scope {
        Scope(Rc::new(ScopeInner { vars: RefCell::default(), parent: Some(self.clone()) }))
    }

    pub fn get(&self, name: &str) -> Option<Value> {
        if let Some(v) = self.0.vars.borrow().get(name) {
            return Some(v.clone());
        }
        self.0.parent.as_ref().and_then(|p| p.get(name))
    }

    /// This scope's own names as a record (a package made of a scope).
    pub fn record(&self) -> Value {
        self.record_where(|_| true)
    }

    /// The variables whose names pass `keep`, as a record.
    pub fn record_where(&self, keep: impl Fn(&str) -> bool) -> Value {
        let vars = self.0.vars.borrow();
        let mut names: Vec<&String> = vars.keys().filter(|k| keep(k)).collect();
        names.sort();
        Value::record(names.into_iter().map(|k| (k.clone(), vars[k].clone())))
    }

    pub fn set(&self, name: &str, v: Value) {
        self.0.vars.borrow_mut().insert(name.to_owned(), v);
    }
}

/// Arguments of a builtin: named, plus the piped-in value if any.
#[derive(Debug, Default, Clone)]
pub struct Args {
    pub named: BTreeMap<String, Value>,
}

impl Args {
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.named.get(name).filter(|v| !matches!(v, Value::Null))
    }

    pub fn required(&self, name: &str) -> EvalResult<&Value> {
        self.named.get(name).ok_or_else(|| EvalError { message: format!("missing required argument {name}") })
    }
}

pub type BuiltinFn = fn(&mut Interp, &Args) -> EvalResult<Value>;

impl std::fmt::Debug for Interp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interp").field("now", &self.now).field("results", &self.results.len()).finish_non_exhaustive()
    }
}

/// Evaluation state: the top scope and what builtins need from outside.
pub struct Interp {
    pub universe: Scope,
    /// `now()`: nanoseconds since the epoch.
    pub now: i64,
    /// Results yielded so far, by name.
    pub results: Vec<(String, Rc<crate::stream::Stream>)>,
    /// Streams of the program's top-level expression statements, in order.
    pub statements: Vec<Rc<crate::stream::Stream>>,
    /// Where `from` reads.
    pub source: Option<Rc<dyn crate::universe::Source>>,
    /// The query's memory and time account.
    pub(crate) budget: Rc<crate::limits::Budget>,
    /// The scopes of packages written in Flux, by import path: where
    /// `option pkg.name = …` sets a package's option.
    pub(crate) package_scopes: std::collections::HashMap<String, Scope>,
    /// The program's imports: name (or alias) to path.
    imported: std::collections::HashMap<String, String>,
}

impl Interp {
    pub fn new(now: i64) -> Self {
        let universe = Scope::default();
        crate::builtins::install(&universe);
        Self {
            universe,
            now,
            results: Vec::new(),
            statements: Vec::new(),
            source: None,
            budget: crate::limits::Budget::new(&crate::limits::Limits::default()),
            package_scopes: std::collections::HashMap::new(),
            imported: std::collections::HashMap::new(),
        }
    }

    /// Evaluates a package written in Flux: its imports, then its assignments
    /// and options, in a scope of its own; its names as a record.
    pub(crate) fn flux_package(&mut self, path: &str, src: &str) -> EvalResult<Value> {
        self.flux_package_over(path, src, Vec::new())
    }

    /// A package written in Flux over natives written in Rust (what Flux
    /// declares with `builtin`): `natives` are in the package's scope.
    pub(crate) fn flux_package_over(
        &mut self,
        path: &str,
        src: &str,
        natives: Vec<(&'static str, Value)>,
    ) -> EvalResult<Value> {
        let file = crate::parser::parse_file(src).map_err(|e| EvalError { message: format!("package {path}: {e}") })?;
        let scope = self.universe.child();
        for (name, v) in natives {
            scope.set(name, v);
        }
        let mut imported = Vec::new();
        for import in &file.imports {
            let p = &import.path.value;
            let name =
                import.alias.as_ref().map_or_else(|| p.rsplit('/').next().unwrap_or(p).to_owned(), |a| a.name.clone());
            let package = crate::packages::import(self, p)
                .ok_or_else(|| EvalError { message: format!("unknown import path: \"{p}\"") })??;
            scope.set(&name, package);
            imported.push(name);
        }
        for stmt in &file.body {
            match stmt {
                Statement::VariableAssignment(a)
                | Statement::OptionStatement { assignment: ast::Assignment::VariableAssignment(a), .. } => {
                    let v = self.eval(&scope, &a.init)?;
                    scope.set(&a.id.name, v);
                }
                _ => {}
            }
        }
        self.package_scopes.insert(path.to_owned(), scope.clone());
        // Its members: what it defines, not what it imports nor its `_private` helpers.
        Ok(scope.record_where(|k| !imported.iter().any(|i| i == k) && !k.starts_with('_')))
    }

    /// Runs a parsed file; returns the value of its last expression statement.
    pub fn run(&mut self, file: &ast::File) -> EvalResult<Value> {
        let scope = self.universe.child();
        for import in &file.imports {
            let path = &import.path.value;
            let name = match &import.alias {
                Some(alias) => alias.name.clone(),
                None => path.rsplit('/').next().unwrap_or(path).to_owned(),
            };
            let package = crate::packages::import(self, path)
                .ok_or_else(|| EvalError { message: format!("unknown import path: \"{path}\"") })??;
            scope.set(&name, package);
            self.imported.insert(name, path.clone());
        }
        let mut last = Value::Null;
        for stmt in &file.body {
            if let Some(v) = self.statement(&scope, stmt)? {
                if let (Statement::ExpressionStatement { .. }, Value::Stream(s)) = (stmt, &v) {
                    self.statements.push(Rc::clone(s));
                }
                last = v;
            }
        }
        Ok(last)
    }

    fn statement(&mut self, scope: &Scope, stmt: &Statement) -> EvalResult<Option<Value>> {
        match stmt {
            Statement::VariableAssignment(a) => {
                let v = self.eval(scope, &a.init)?;
                scope.set(&a.id.name, v);
                Ok(None)
            }
            Statement::OptionStatement { assignment, .. } => {
                if let ast::Assignment::VariableAssignment(a) = assignment {
                    let v = self.eval(scope, &a.init)?;
                    if a.id.name == "now"
                        && let Value::Function(_) = v
                    {
                        let t = self.call(&v, Args::default())?;
                        if let Value::Time(t) = t {
                            self.now = t;
                        }
                    }
                    self.universe.set(&a.id.name, v);
                } else if let ast::Assignment::MemberAssignment { member, init, .. } = assignment
                    && let Expression::Identifier(object) = member.object.as_ref()
                    && let ast::PropertyKey::Identifier(property) = &member.property
                    && let Some(package) =
                        self.imported.get(&object.name).and_then(|p| self.package_scopes.get(p)).cloned()
                {
                    // `option pkg.name = v`: the package's functions see the new value.
                    let v = self.eval(scope, init)?;
                    package.set(&property.name, v);
                }
                Ok(None)
            }
            Statement::ExpressionStatement { expression, .. } => Ok(Some(self.eval(scope, expression)?)),
            Statement::ReturnStatement { argument, .. } => Ok(Some(self.eval(scope, argument)?)),
            Statement::TestCaseStatement { .. } | Statement::BuiltinStatement { .. } => Ok(None),
        }
    }

    pub fn eval(&mut self, scope: &Scope, e: &Expression) -> EvalResult<Value> {
        match e {
            Expression::Identifier(id) => match id.name.as_str() {
                "null" => Ok(Value::Null),
                name => scope.get(name).ok_or_else(|| EvalError { message: format!("undefined identifier {name}") }),
            },
            Expression::IntegerLiteral { value, .. } => {
                value.parse().map(Value::Int).map_err(|_| EvalError { message: format!("invalid integer {value}") })
            }
            Expression::FloatLiteral { value, .. } => Ok(Value::Float(*value)),
            Expression::StringLiteral(s) => Ok(Value::String(s.value.clone())),
            Expression::BooleanLiteral { value, .. } => Ok(Value::Bool(*value)),
            Expression::DurationLiteral { values, .. } => Ok(Value::Duration(duration_of(values)?)),
            Expression::DateTimeLiteral { value, .. } => time::rfc3339::parse(value)
                .map(Value::Time)
                .ok_or_else(|| EvalError { message: format!("invalid time {value}") }),
            // A label is the name it stands for wherever a string is wanted.
            Expression::LabelLiteral { value, .. } => Ok(Value::String(value.clone())),
            Expression::RegexpLiteral { value, .. } => regex::Regex::new(value)
                .map(|r| Value::Regex(Rc::new(r)))
                .map_err(|e| EvalError { message: format!("invalid regular expression: {e}") }),
            Expression::PipeLiteral { .. } => err("the pipe literal <- is only a parameter default"),
            Expression::StringExpression { parts, .. } => {
                let mut out = String::new();
                for p in parts {
                    match p {
                        StringPart::TextPart { value, .. } => out.push_str(value),
                        StringPart::InterpolatedPart { expression, .. } => match self.eval(scope, expression)? {
                            Value::String(s) => out.push_str(&s),
                            Value::Null => {}
                            Value::Time(t) => time::rfc3339::write(&mut out, t, time::rfc3339::Fraction::Fixed),
                            v @ (Value::Int(_)
                            | Value::UInt(_)
                            | Value::Float(_)
                            | Value::Bool(_)
                            | Value::Duration(_)) => out.push_str(&v.to_string()),
                            v => return err(format!("cannot interpolate a {} into a string", v.type_name())),
                        },
                    }
                }
                Ok(Value::String(out))
            }
            Expression::ParenExpression { expression, .. } => self.eval(scope, expression),
            Expression::ArrayExpression { elements, .. } => {
                let vs = elements.iter().map(|x| self.eval(scope, x)).collect::<EvalResult<Vec<_>>>()?;
                Ok(Value::Array(Rc::new(vs)))
            }
            Expression::DictExpression { elements, .. } => {
                let mut out = Vec::with_capacity(elements.len());
                for item in elements {
                    out.push((self.eval(scope, &item.key)?, self.eval(scope, &item.val)?));
                }
                Ok(Value::Dict(Rc::new(out)))
            }
            Expression::ObjectExpression { with, properties, .. } => {
                let mut fields = match with {
                    Some(w) => match scope.get(&w.source.name) {
                        Some(Value::Record(r)) => (*r).clone(),
                        Some(v) => return err(format!("cannot extend a {} with properties", v.type_name())),
                        None => return err(format!("undefined identifier {}", w.source.name)),
                    },
                    None => crate::value::Record::default(),
                };
                for p in properties {
                    let key = key_name(&p.key);
                    let v = match &p.value {
                        Some(x) => self.eval(scope, x)?,
                        None => scope
                            .get(&key)
                            .ok_or_else(|| EvalError { message: format!("undefined identifier {key}") })?,
                    };
                    fields.insert(key, v);
                }
                if with.is_some() {
                    fields.sort();
                }
                Ok(Value::Record(Rc::new(fields)))
            }
            Expression::MemberExpression(m) => {
                let obj = self.eval(scope, &m.object)?;
                member(&obj, &key_name(&m.property))
            }
            Expression::IndexExpression { array, index, .. } => {
                let a = self.eval(scope, array)?;
                let i = self.eval(scope, index)?;
                match (a, i) {
                    (Value::Array(a), Value::Int(i)) => {
                        a.get(usize::try_from(i).unwrap_or(usize::MAX)).cloned().ok_or_else(|| EvalError {
                            message: format!("cannot access element {i} of array of length {}", a.len()),
                        })
                    }
                    (a, i) => err(format!("cannot index a {} with a {}", a.type_name(), i.type_name())),
                }
            }
            Expression::FunctionExpression { params, body, .. } => {
                let params = params
                    .iter()
                    .map(|p| Param {
                        name: key_name(&p.key),
                        pipe: matches!(p.value, Some(Expression::PipeLiteral { .. })),
                        default: p.value.clone().filter(|v| !matches!(v, Expression::PipeLiteral { .. })).map(Rc::new),
                    })
                    .collect();
                let _ = &scope;
                Ok(Value::Function(Rc::new(Function::Closure {
                    params,
                    body: Rc::new(body.clone()),
                    scope: scope.clone(),
                })))
            }
            Expression::CallExpression(call) => {
                let callee = self.eval(scope, &call.callee)?;
                let args = self.call_args(scope, &call.arguments, None)?;
                self.call(&callee, args)
            }
            Expression::PipeExpression { argument, call, .. } => {
                let piped = self.eval(scope, argument)?;
                let callee = self.eval(scope, &call.callee)?;
                let args = self.call_args(scope, &call.arguments, Some((&callee, piped)))?;
                self.call(&callee, args)
            }
            Expression::ConditionalExpression { test, consequent, alternate, .. } => match self.eval(scope, test)? {
                // A null test takes the else branch (SPEC: conditional expressions).
                Value::Bool(true) => self.eval(scope, consequent),
                Value::Bool(false) | Value::Null => self.eval(scope, alternate),
                v => err(format!("if needs a bool, got {}", v.type_name())),
            },
            Expression::LogicalExpression { operator, left, right, .. } => {
                let l = self.eval(scope, left)?;
                // Short-circuit where the left side decides.
                match (operator.as_str(), &l) {
                    ("and", Value::Bool(false)) => return Ok(Value::Bool(false)),
                    ("or", Value::Bool(true)) => return Ok(Value::Bool(true)),
                    _ => {}
                }
                let r = self.eval(scope, right)?;
                logical(operator, &l, &r)
            }
            Expression::UnaryExpression { operator, argument, .. } => {
                let v = self.eval(scope, argument)?;
                unary(operator, v)
            }
            Expression::BinaryExpression { operator, left, right, .. } => {
                let l = self.eval(scope, left)?;
                let r = self.eval(scope, right)?;
                binary(operator, l, r)
            }
        }
    }

    fn call_args(
        &mut self,
        scope: &Scope,
        arguments: &[Expression],
        piped: Option<(&Value, Value)>,
    ) -> EvalResult<Args> {
        let mut args = Args::default();
        if let Some(Expression::ObjectExpression { properties, .. }) = arguments.first() {
            for p in properties {
                let key = key_name(&p.key);
                let v = match &p.value {
                    Some(x) => self.eval(scope, x)?,
                    None => {
                        scope.get(&key).ok_or_else(|| EvalError { message: format!("undefined identifier {key}") })?
                    }
                };
                args.named.insert(key, v);
            }
        }
        if let Some((callee, v)) = piped {
            let pipe_param = match callee {
                Value::Function(f) => match f.as_ref() {
                    Function::Closure { params, .. } => params.iter().find(|p| p.pipe).map(|p| p.name.clone()),
                    Function::Builtin { pipe, .. } => pipe.map(str::to_owned),
                },
                _ => None,
            };
            let name =
                pipe_param.ok_or_else(|| EvalError { message: "function does not take a pipe argument".into() })?;
            args.named.insert(name, v);
        }
        Ok(args)
    }

    /// Calls a function value with named arguments (defaults fill the rest).
    pub fn call(&mut self, f: &Value, args: Args) -> EvalResult<Value> {
        let Value::Function(f) = f else {
            return err(format!("cannot call a {}", f.type_name()));
        };
        match f.as_ref() {
            Function::Builtin { name, params, pipe, call } => {
                for k in args.named.keys() {
                    if !params.contains(&k.as_str()) && Some(k.as_str()) != *pipe {
                        return err(format!("{name}: unknown argument {k}"));
                    }
                }
                call(self, &args)
            }
            Function::Closure { params, body, scope } => {
                // Row-by-row work is where a query can spend long between tables.
                self.budget.tick()?;
                let inner = scope.child();
                for k in args.named.keys() {
                    if !params.iter().any(|p| &p.name == k) {
                        return err(format!("unknown argument {k}"));
                    }
                }
                for p in params {
                    let v = match args.named.get(&p.name) {
                        Some(v) => v.clone(),
                        None => match &p.default {
                            Some(d) => self.eval(scope, d)?,
                            None => return err(format!("missing required argument {}", p.name)),
                        },
                    };
                    inner.set(&p.name, v);
                }
                match body.as_ref() {
                    FunctionBody::Expression(e) => self.eval(&inner, e),
                    FunctionBody::Block(b) => {
                        for stmt in &b.body {
                            if let Statement::ReturnStatement { argument, .. } = stmt {
                                return self.eval(&inner, argument);
                            }
                            self.statement(&inner, stmt)?;
                        }
                        err("function block has no return statement")
                    }
                }
            }
        }
    }
}

fn key_name(k: &PropertyKey) -> String {
    match k {
        PropertyKey::Identifier(i) => i.name.clone(),
        PropertyKey::StringLiteral(s) => s.value.clone(),
    }
}

/// `r.k`: a missing property of a record is null (SPEC: member expressions).
pub fn member(obj: &Value, key: &str) -> EvalResult<Value> {
    match obj {
        Value::Record(r) => Ok(r.get(key).cloned().unwrap_or(Value::Null)),
        // A dynamic record's missing property is a dynamic null; anything but
        // a record (a null too) has no properties.
        Value::Dynamic(inner) => match &**inner {
            Value::Record(r) => Ok(Value::dynamic(r.get(key).cloned().unwrap_or(Value::Null))),
            v => err(format!("cannot access property {key:?} on value of type {}", v.type_string())),
        },
        v => err(format!("cannot access property {key:?} on value of type {}", v.type_string())),
    }
}

/// A duration literal's text (`1h30m`, `-5m`, `1mo2w`), or `None`.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let (negative, mut rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let mut values = Vec::new();
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        let magnitude: i64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit =
            ["mo", "ms", "us", "µs", "ns", "y", "w", "d", "h", "m", "s"].into_iter().find(|u| rest.starts_with(u))?;
        rest = &rest[unit.len()..];
        values.push(ast::DurationValue { magnitude, unit: unit.to_owned() });
    }
    if values.is_empty() {
        return None;
    }
    let d = duration_of(&values).ok()?;
    Some(Duration { negative, ..d })
}

fn duration_of(values: &[ast::DurationValue]) -> EvalResult<Duration> {
    let mut d = Duration::default();
    for v in values {
        // Months and years have no fixed length: they are kept apart.
        let (months, nanos): (i64, i64) = match v.unit.as_str() {
            "y" => (12, 0),
            "mo" => (1, 0),
            u => match time::duration::unit_nanos(u) {
                Some(n) => (0, n),
                None => return err(format!("invalid duration unit {u}")),
            },
        };
        let overflow = || EvalError { message: "duration out of range".into() };
        d.months = v.magnitude.checked_mul(months).and_then(|m| d.months.checked_add(m)).ok_or_else(overflow)?;
        d.nanos = v.magnitude.checked_mul(nanos).and_then(|n| d.nanos.checked_add(n)).ok_or_else(overflow)?;
    }
    Ok(d)
}

/// Adds a (signed) duration to a time: months first, clamping the day to the
/// month's end, then nanoseconds (SPEC: durations).
pub fn add_duration(t: i64, d: &Duration, sign: i64) -> EvalResult<i64> {
    use chrono::{Datelike, Months, TimeZone};
    let (months, nanos) = d.signed();
    let (months, nanos) = (months * sign, nanos * sign);
    let mut t = t;
    if months != 0 {
        let dt = chrono::Utc.timestamp_nanos(t);
        let shifted = if months > 0 {
            dt.checked_add_months(Months::new(months as u32))
        } else {
            dt.checked_sub_months(Months::new((-months) as u32))
        };
        let shifted = shifted.ok_or_else(|| EvalError { message: "time out of range".into() })?;
        let _ = shifted.day();
        t = shifted.timestamp_nanos_opt().ok_or_else(|| EvalError { message: "time out of range".into() })?;
    }
    t.checked_add(nanos).ok_or_else(|| EvalError { message: "time out of range".into() })
}

pub fn format_duration(d: &Duration) -> String {
    if d.months == 0 && d.nanos == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    if d.negative {
        out.push('-');
    }
    let (y, mo) = (d.months / 12, d.months % 12);
    if y > 0 {
        out.push_str(&format!("{y}y"));
    }
    if mo > 0 {
        out.push_str(&format!("{mo}mo"));
    }
    let mut n = d.nanos;
    for (unit, size) in [
        ("w", time::WEEK),
        ("d", time::DAY),
        ("h", time::HOUR),
        ("m", time::MINUTE),
        ("s", time::SECOND),
        ("ms", time::MILLISECOND),
        ("us", time::MICROSECOND),
        ("ns", 1),
    ] {
        if n >= size {
            out.push_str(&format!("{}{unit}", n / size));
            n %= size;
        }
    }
    out
}

fn logical(op: &str, l: &Value, r: &Value) -> EvalResult<Value> {
    use Value::{Bool, Null};
    Ok(match (op, l, r) {
        ("and", Bool(a), Bool(b)) => Bool(*a && *b),
        ("and", Bool(false), Null) | ("and", Null, Bool(false)) => Bool(false),
        ("and", Null | Bool(true), Null | Bool(true)) => Null,
        ("or", Bool(a), Bool(b)) => Bool(*a || *b),
        ("or", Bool(true), Null) | ("or", Null, Bool(true)) => Bool(true),
        ("or", Null | Bool(false), Null | Bool(false)) => Null,
        _ => return err(format!("{op} needs bools, got {} and {}", l.type_name(), r.type_name())),
    })
}

fn unary(op: &str, v: Value) -> EvalResult<Value> {
    Ok(match (op, v) {
        ("exists", v) => Value::Bool(!v.is_null()),
        ("not", Value::Bool(b)) => Value::Bool(!b),
        ("not", Value::Null) => Value::Null,
        ("-", Value::Int(n)) => {
            Value::Int(n.checked_neg().ok_or_else(|| EvalError { message: "integer overflow".into() })?)
        }
        ("-", Value::Float(x)) => Value::Float(-x),
        ("-", Value::Duration(d)) => Value::Duration(Duration { negative: !d.negative, ..d }),
        ("-" | "+", Value::Null) => Value::Null,
        ("+", v @ (Value::Int(_) | Value::UInt(_) | Value::Float(_) | Value::Duration(_))) => v,
        (op, v) => return err(format!("invalid unary operator {op} for a {}", v.type_name())),
    })
}

fn compare<T: PartialOrd>(op: &str, a: T, b: T) -> Value {
    Value::Bool(match op {
        "==" => a == b,
        "!=" => a != b,
        "<" => a < b,
        "<=" => a <= b,
        ">" => a > b,
        _ => a >= b,
    })
}

pub fn binary(op: &str, l: Value, r: Value) -> EvalResult<Value> {
    use Value::*;
    if matches!(l, Null) || matches!(r, Null) {
        // Non-boolean operators with a null operand give null (SPEC: missing values).
        return Ok(Null);
    }
    let cmp = matches!(op, "==" | "!=" | "<" | "<=" | ">" | ">=");
    Ok(match (op, l, r) {
        ("=~", String(s), Regex(re)) => Bool(re.is_match(&s)),
        ("!~", String(s), Regex(re)) => Bool(!re.is_match(&s)),
        (op, Int(a), Int(b)) if cmp => compare(op, a, b),
        (op, UInt(a), UInt(b)) if cmp => compare(op, a, b),
        (op, Float(a), Float(b)) if cmp => compare(op, a, b),
        // Comparisons across numeric kinds compare values (Flux allows these).
        (op, Int(a), Float(b)) if cmp => compare(op, a as f64, b),
        (op, Float(a), Int(b)) if cmp => compare(op, a, b as f64),
        (op, UInt(a), Float(b)) if cmp => compare(op, a as f64, b),
        (op, Float(a), UInt(b)) if cmp => compare(op, a, b as f64),
        (op, Int(a), UInt(b)) if cmp => compare(op, i128::from(a), i128::from(b)),
        (op, UInt(a), Int(b)) if cmp => compare(op, i128::from(a), i128::from(b)),
        (op, String(a), String(b)) if cmp => compare(op, a, b),
        (op, Time(a), Time(b)) if cmp => compare(op, a, b),
        (op @ ("==" | "!="), Bool(a), Bool(b)) => compare(op, a, b),
        (op @ ("==" | "!="), Duration(a), Duration(b)) => compare(op, a.signed(), b.signed()),
        (op @ ("==" | "!="), a @ (Array(_) | Record(_) | Dict(_) | Bytes(_)), b) => Bool((a == b) == (op == "==")),
        ("+", Int(a), Int(b)) => Int(a.wrapping_add(b)),
        ("-", Int(a), Int(b)) => Int(a.wrapping_sub(b)),
        ("*", Int(a), Int(b)) => Int(a.wrapping_mul(b)),
        ("/", Int(_), Int(0)) | ("%", Int(_), Int(0)) => return err("cannot divide by zero"),
        ("/", Int(a), Int(b)) => Int(a.wrapping_div(b)),
        ("%", Int(a), Int(b)) => Int(a.wrapping_rem(b)),
        ("^", Int(a), Int(b)) => Float((a as f64).powf(b as f64)),
        ("+", UInt(a), UInt(b)) => UInt(a.wrapping_add(b)),
        ("-", UInt(a), UInt(b)) => UInt(a.wrapping_sub(b)),
        ("*", UInt(a), UInt(b)) => UInt(a.wrapping_mul(b)),
        ("/", UInt(_), UInt(0)) | ("%", UInt(_), UInt(0)) => return err("cannot divide by zero"),
        ("/", UInt(a), UInt(b)) => UInt(a / b),
        ("%", UInt(a), UInt(b)) => UInt(a % b),
        ("^", UInt(a), UInt(b)) => Float((a as f64).powf(b as f64)),
        ("+", Float(a), Float(b)) => Float(a + b),
        ("-", Float(a), Float(b)) => Float(a - b),
        ("*", Float(a), Float(b)) => Float(a * b),
        ("/", Float(a), Float(b)) => Float(a / b),
        ("%", Float(a), Float(b)) => Float(a % b),
        ("^", Float(a), Float(b)) => Float(a.powf(b)),
        ("^", Float(a), Int(b)) => Float(a.powf(b as f64)),
        ("+", String(a), String(b)) => String(a + &b),
        ("+", Time(t), Duration(d)) | ("+", Duration(d), Time(t)) => Time(add_duration(t, &d, 1)?),
        ("-", Time(t), Duration(d)) => Time(add_duration(t, &d, -1)?),
        ("-", Time(a), Time(b)) => Duration(crate::value::Duration::from_nanos(a.wrapping_sub(b))),
        ("*", Duration(d), Int(n)) | ("*", Int(n), Duration(d)) => {
            let neg = (n < 0) != d.negative;
            Duration(crate::value::Duration {
                months: d.months.saturating_mul(n.abs()),
                nanos: d.nanos.saturating_mul(n.abs()),
                negative: neg,
            })
        }
        (op, l, r) => {
            return err(format!("invalid binary operator {op} for types {} and {}", l.type_name(), r.type_name()));
        }
    })
}

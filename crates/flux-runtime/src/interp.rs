//! The evaluator: statements and expressions over a chain of scopes.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use std::sync::Arc;

use flux_syntax::ast::{self, Expression, FunctionBody, PropertyKey, Statement, StringPart};

use crate::error::{EvalError, EvalResult, err};
use crate::signature::Signature;
use crate::value::{Function, Param, Value};

/// What a program runs against: the universe, the packages it may import,
/// and the documented type of each function, which the checker holds
/// arguments against.
pub trait Library {
    /// Puts the universe's names (its functions and values) into `universe`.
    fn install_universe(&self, universe: &Scope);

    /// The package at `path` as a record of its members, or `None` when there
    /// is no such package. Packages written in Flux are evaluated by `interp`
    /// (see [`Interp::flux_package`]).
    fn import(&self, interp: &mut Interp, path: &str) -> Option<EvalResult<Value>>;

    /// The documented signature of function `name` of the package at
    /// `package` (`universe` for the universe), if the library has one.
    fn signature(&self, package: &str, name: &str) -> Option<Arc<Signature>>;
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
        self.named.get(name).ok_or_else(|| EvalError::invalid(format!("missing required argument {name}")))
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
    pub source: Option<Rc<dyn crate::source::Source>>,
    /// The query's memory and time account.
    pub budget: Rc<crate::limits::Budget>,
    /// The profiler's account of the plan, while one is asked for.
    pub profile: Option<Rc<crate::profile::Profile>>,
    /// The scopes of packages written in Flux, by import path: where
    /// `option pkg.name = …` sets a package's option.
    pub package_scopes: std::collections::HashMap<String, Scope>,
    /// The program's imports: name (or alias) to path.
    imported: std::collections::HashMap<String, String>,
    /// The standard library: the universe and what `import` finds.
    library: Rc<dyn Library>,
}

impl Interp {
    /// An interpreter whose universe and packages come from `library`.
    pub fn new(now: i64, library: Rc<dyn Library>) -> Self {
        let universe = Scope::default();
        library.install_universe(&universe);
        Self {
            library,
            universe,
            now,
            results: Vec::new(),
            statements: Vec::new(),
            source: None,
            budget: crate::limits::Budget::new(&crate::limits::Limits::default()),
            profile: None,
            package_scopes: std::collections::HashMap::new(),
            imported: std::collections::HashMap::new(),
        }
    }

    /// The library this interpreter runs against.
    pub fn library(&self) -> &Rc<dyn Library> {
        &self.library
    }

    /// The package at `path`, from the library.
    pub fn import(&mut self, path: &str) -> EvalResult<Value> {
        let library = Rc::clone(&self.library);
        library.import(self, path).ok_or_else(|| EvalError::invalid(format!("unknown import path: \"{path}\"")))?
    }

    /// Evaluates a package written in Flux: its imports, then its assignments
    /// and options, in a scope of its own; its names as a record.
    pub fn flux_package(&mut self, path: &str, src: &str) -> EvalResult<Value> {
        self.flux_package_over(path, src, Vec::new())
    }

    /// A package written in Flux over natives written in Rust (what Flux
    /// declares with `builtin`): `natives` are in the package's scope.
    pub fn flux_package_over(
        &mut self,
        path: &str,
        src: &str,
        natives: Vec<(&'static str, Value)>,
    ) -> EvalResult<Value> {
        let file = flux_syntax::parse_file(src).map_err(|e| EvalError::invalid(format!("package {path}: {e}")))?;
        let scope = self.universe.child();
        for (name, v) in natives {
            scope.set(name, v);
        }
        let mut imported = Vec::new();
        for import in &file.imports {
            let p = &import.path.value;
            let name =
                import.alias.as_ref().map_or_else(|| p.rsplit('/').next().unwrap_or(p).to_owned(), |a| a.name.clone());
            let package = self.import(p)?;
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
            let package = self.import(path)?;
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
                name => scope.get(name).ok_or_else(|| EvalError::invalid(format!("undefined identifier {name}"))),
            },
            Expression::IntegerLiteral { value, .. } => {
                value.parse().map(Value::Int).map_err(|_| EvalError::invalid(format!("invalid integer {value}")))
            }
            Expression::FloatLiteral { value, .. } => Ok(Value::Float(*value)),
            Expression::StringLiteral(s) => Ok(Value::String(s.value.clone())),
            Expression::BooleanLiteral { value, .. } => Ok(Value::Bool(*value)),
            Expression::DurationLiteral { values, .. } => Ok(Value::Duration(crate::duration::duration_of(values)?)),
            Expression::DateTimeLiteral { value, .. } => time::rfc3339::parse(value)
                .map(Value::Time)
                .ok_or_else(|| EvalError::invalid(format!("invalid time {value}"))),
            // A label is the name it stands for wherever a string is wanted.
            Expression::LabelLiteral { value, .. } => Ok(Value::String(value.clone())),
            Expression::RegexpLiteral { value, .. } => regex::Regex::new(value)
                .map(|r| Value::Regex(Rc::new(r)))
                .map_err(|e| EvalError::invalid(format!("invalid regular expression: {e}"))),
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
                        None => {
                            scope.get(&key).ok_or_else(|| EvalError::invalid(format!("undefined identifier {key}")))?
                        }
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
                crate::ops::member(&obj, &key_name(&m.property))
            }
            Expression::IndexExpression { array, index, .. } => {
                let a = self.eval(scope, array)?;
                let i = self.eval(scope, index)?;
                match (a, i) {
                    (Value::Array(a), Value::Int(i)) => {
                        a.get(usize::try_from(i).unwrap_or(usize::MAX)).cloned().ok_or_else(|| {
                            EvalError::invalid(format!("cannot access element {i} of array of length {}", a.len()))
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
                crate::ops::logical(operator, &l, &r)
            }
            Expression::UnaryExpression { operator, argument, .. } => {
                let v = self.eval(scope, argument)?;
                crate::ops::unary(operator, v)
            }
            Expression::BinaryExpression { operator, left, right, .. } => {
                let l = self.eval(scope, left)?;
                let r = self.eval(scope, right)?;
                crate::ops::binary(operator, l, r)
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
                    None => scope.get(&key).ok_or_else(|| EvalError::invalid(format!("undefined identifier {key}")))?,
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
            let name = pipe_param.ok_or_else(|| EvalError::invalid("function does not take a pipe argument"))?;
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

//! Checks a program before it runs, as Flux's semantic analysis does: every
//! name must be defined before it is used, every call must name only the
//! parameters its function has and give all that are required, and an argument
//! whose type is plain from the source must have the parameter's type. Each
//! error carries its position and reads as Flux writes it
//! (`error @2:17-2:18: undefined identifier y`).
//!
//! The standard library's parameters come from the signatures its
//! [`Library`] documents (see [`crate::signature`]); functions written in the
//! program are read from their definitions. Types
//! are followed as far as the source shows them: literals, arrays, records,
//! functions and the results of calls; anything else is taken on trust and
//! left to the run.

use std::collections::HashMap;
use std::fmt;
use std::rc::Rc;
use std::sync::Arc;

use flux_syntax::ast::{self, Expression, FunctionBody, PropertyKey, SourceLocation, Statement, StringPart};

use crate::interp::{Interp, Library};
use crate::signature::{Param, Signature, Ty};
use crate::value::{Function, Value};

/// One error found before running, with the span it concerns.
#[derive(Debug, Clone, PartialEq)]
pub struct SemanticError {
    pub location: SourceLocation,
    pub message: String,
}

impl fmt::Display for SemanticError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (s, e) = (self.location.start, self.location.end);
        write!(f, "error @{}:{}-{}:{}: {}", s.line, s.column, e.line, e.column, self.message)
    }
}

/// Several errors, written as Flux writes them: one after another, a blank line apart.
#[derive(Debug, Clone, PartialEq)]
pub struct SemanticErrors(pub Vec<SemanticError>);

impl fmt::Display for SemanticErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SemanticErrors {}

/// What a name is bound to while checking.
#[derive(Clone)]
struct Scope(Rc<ScopeInner>);

struct ScopeInner {
    names: std::cell::RefCell<HashMap<String, Ty>>,
    parent: Option<Scope>,
}

impl Scope {
    fn new(parent: Option<&Scope>) -> Scope {
        Scope(Rc::new(ScopeInner { names: Default::default(), parent: parent.cloned() }))
    }

    fn get(&self, name: &str) -> Option<Ty> {
        if let Some(t) = self.0.names.borrow().get(name) {
            return Some(t.clone());
        }
        self.0.parent.as_ref().and_then(|p| p.get(name))
    }

    fn set(&self, name: &str, ty: Ty) {
        self.0.names.borrow_mut().insert(name.to_owned(), ty);
    }
}

/// The universe's functions, sorted by name, each with its parameters and their
/// kinds as Flux's completer names them (`int`, `string`, `array`, `object`,
/// `function`, `stream`, ...; `invalid` for a parameter of any type): what
/// `GET /api/v2/query/suggestions` lists.
pub fn suggestions(library: Rc<dyn Library>) -> Vec<(String, Vec<(String, &'static str)>)> {
    let interp = Interp::new(0, Rc::clone(&library));
    let Value::Record(names) = interp.universe.record() else { return Vec::new() };
    let mut out: Vec<(String, Vec<(String, &'static str)>)> = names
        .iter()
        .filter_map(|(name, v)| match ty_of_value(library.as_ref(), "universe", name, v) {
            Ty::Function(sig) => {
                Some((name.clone(), sig.params.iter().map(|p| (p.name.clone(), p.ty.nature())).collect()))
            }
            _ => None,
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The type of a literal that `name` meets in arithmetic (`x + 1`: int), which
/// fixes the type `name` must have; `None` when the expression shows none.
fn literal_partner(e: &Expression, name: &str) -> Option<&'static str> {
    let literal = |e: &Expression| match e {
        Expression::IntegerLiteral { .. } => Some("int"),
        Expression::FloatLiteral { .. } => Some("float"),
        Expression::StringLiteral(_) => Some("string"),
        Expression::DurationLiteral { .. } => Some("duration"),
        _ => None,
    };
    let is_name = |e: &Expression| matches!(e, Expression::Identifier(id) if id.name == name);
    match e {
        Expression::BinaryExpression { operator, left, right, .. }
            if matches!(operator.as_str(), "+" | "-" | "*" | "/" | "%") =>
        {
            if is_name(left)
                && let Some(t) = literal(right)
            {
                return Some(t);
            }
            if is_name(right)
                && let Some(t) = literal(left)
            {
                return Some(t);
            }
            literal_partner(left, name).or_else(|| literal_partner(right, name))
        }
        Expression::BinaryExpression { left, right, .. } | Expression::LogicalExpression { left, right, .. } => {
            literal_partner(left, name).or_else(|| literal_partner(right, name))
        }
        Expression::ParenExpression { expression, .. } => literal_partner(expression, name),
        Expression::UnaryExpression { argument, .. } => literal_partner(argument, name),
        Expression::ConditionalExpression { test, consequent, alternate, .. } => literal_partner(test, name)
            .or_else(|| literal_partner(consequent, name))
            .or_else(|| literal_partner(alternate, name)),
        _ => None,
    }
}

/// What the checker knows of a runtime value from the standard library.
fn ty_of_value(library: &dyn Library, package: &str, name: &str, v: &Value) -> Ty {
    match v {
        Value::Function(f) => match f.as_ref() {
            Function::Builtin { params, pipe, .. } => match library.signature(package, name) {
                Some(sig) => Ty::Function(sig),
                None => Ty::Function(Arc::new(Signature {
                    params: params
                        .iter()
                        .map(|p| Param {
                            name: (*p).to_owned(),
                            required: false,
                            pipe: false,
                            ty: Ty::Unknown,
                            text: String::new(),
                        })
                        .chain(pipe.map(|p| Param {
                            name: p.to_owned(),
                            required: false,
                            pipe: true,
                            ty: Ty::Unknown,
                            text: String::new(),
                        }))
                        .collect(),
                    complete: false,
                    returns: Ty::Unknown,
                })),
            },
            Function::Closure { .. } => Ty::Unknown,
        },
        Value::Record(_) => Ty::Record(None),
        Value::Stream(_) => Ty::Stream,
        _ => Ty::Unknown,
    }
}

/// Checks a file against the universe and packages of `interp`.
pub fn check(interp: &mut Interp, file: &ast::File) -> Result<(), SemanticErrors> {
    let universe = Scope::new(None);
    let root = Scope::new(Some(&universe));
    let mut c = Checker { interp, universe, errors: Vec::new() };
    for import in &file.imports {
        let path = &import.path.value;
        let name = match &import.alias {
            Some(alias) => alias.name.clone(),
            None => path.rsplit('/').next().unwrap_or(path).to_owned(),
        };
        let library = Rc::clone(c.interp.library());
        let ty = match library.import(c.interp, path) {
            Some(Ok(Value::Record(members))) => {
                let members =
                    members.iter().map(|(k, v)| (k.clone(), ty_of_value(library.as_ref(), path, k, v))).collect();
                Ty::Record(Some(Arc::new(members)))
            }
            // An unknown path is reported when the program runs.
            _ => Ty::Unknown,
        };
        root.set(&name, ty);
    }
    for stmt in &file.body {
        c.statement(&root, stmt);
    }
    if c.errors.is_empty() { Ok(()) } else { Err(SemanticErrors(c.errors)) }
}

struct Checker<'a> {
    interp: &'a mut Interp,
    /// Universe names looked up so far.
    universe: Scope,
    errors: Vec<SemanticError>,
}

impl Checker<'_> {
    fn error(&mut self, location: &SourceLocation, message: String) {
        self.errors.push(SemanticError { location: location.clone(), message });
    }

    fn lookup(&mut self, scope: &Scope, name: &str) -> Option<Ty> {
        if let Some(t) = scope.get(name) {
            return Some(t);
        }
        let v = self.interp.universe.get(name)?;
        let ty = ty_of_value(self.interp.library().as_ref(), "universe", name, &v);
        self.universe.set(name, ty.clone());
        Some(ty)
    }

    fn statement(&mut self, scope: &Scope, stmt: &Statement) {
        match stmt {
            Statement::VariableAssignment(a) => {
                let ty = self.expr(scope, &a.init);
                scope.set(&a.id.name, ty);
            }
            Statement::OptionStatement { assignment, .. } => match assignment {
                ast::Assignment::VariableAssignment(a) => {
                    let ty = self.expr(scope, &a.init);
                    scope.set(&a.id.name, ty);
                }
                ast::Assignment::MemberAssignment { member, init, .. } => {
                    self.expr(scope, &member.object);
                    self.expr(scope, init);
                }
            },
            Statement::ExpressionStatement { expression, .. }
            | Statement::ReturnStatement { argument: expression, .. } => {
                self.expr(scope, expression);
            }
            Statement::TestCaseStatement { block, .. } => {
                self.block(scope, block);
            }
            Statement::BuiltinStatement { id, .. } => scope.set(&id.name, Ty::Unknown),
        }
    }

    fn block(&mut self, scope: &Scope, block: &ast::Block) -> Ty {
        let inner = Scope::new(Some(scope));
        let mut returns = Ty::Unknown;
        for stmt in &block.body {
            if let Statement::ReturnStatement { argument, .. } = stmt {
                returns = self.expr(&inner, argument);
            } else {
                self.statement(&inner, stmt);
            }
        }
        returns
    }

    fn expr(&mut self, scope: &Scope, e: &Expression) -> Ty {
        match e {
            Expression::Identifier(id) => {
                if id.name == "null" {
                    return Ty::Unknown;
                }
                match self.lookup(scope, &id.name) {
                    Some(t) => t,
                    None => {
                        self.error(&id.base.location, format!("undefined identifier {}", id.name));
                        Ty::Unknown
                    }
                }
            }
            Expression::IntegerLiteral { .. } => Ty::Basic("int"),
            Expression::FloatLiteral { .. } => Ty::Basic("float"),
            Expression::StringLiteral(_) => Ty::Basic("string"),
            Expression::BooleanLiteral { .. } => Ty::Basic("bool"),
            Expression::DurationLiteral { .. } => Ty::Basic("duration"),
            Expression::DateTimeLiteral { .. } => Ty::Basic("time"),
            Expression::RegexpLiteral { .. } => Ty::Basic("regexp"),
            Expression::LabelLiteral { .. } => Ty::Unknown,
            Expression::PipeLiteral { .. } => Ty::Unknown,
            Expression::StringExpression { parts, .. } => {
                for p in parts {
                    if let StringPart::InterpolatedPart { expression, .. } = p {
                        self.expr(scope, expression);
                    }
                }
                Ty::Basic("string")
            }
            Expression::ArrayExpression { elements, .. } => {
                let tys: Vec<Ty> = elements.iter().map(|el| self.expr(scope, el)).collect();
                let first = tys.first().cloned().unwrap_or(Ty::Unknown);
                Ty::Array(Box::new(if tys.iter().all(|t| *t == first) { first } else { Ty::Unknown }))
            }
            Expression::DictExpression { elements, .. } => {
                for item in elements {
                    self.expr(scope, &item.key);
                    self.expr(scope, &item.val);
                }
                Ty::Dict
            }
            Expression::ObjectExpression { with, properties, .. } => {
                if let Some(w) = with {
                    self.expr(scope, &Expression::Identifier(w.source.clone()));
                }
                for p in properties {
                    match (&p.value, &p.key) {
                        (Some(v), _) => {
                            self.expr(scope, v);
                        }
                        // `{a, b}` is `{a: a, b: b}`.
                        (None, PropertyKey::Identifier(id)) => {
                            self.expr(scope, &Expression::Identifier(id.clone()));
                        }
                        (None, PropertyKey::StringLiteral(_)) => {}
                    }
                }
                Ty::Record(None)
            }
            Expression::FunctionExpression { params, body, .. } => {
                let inner = Scope::new(Some(scope));
                let mut sig = Vec::new();
                for p in params {
                    let PropertyKey::Identifier(id) = &p.key else { continue };
                    let pipe = matches!(p.value, Some(Expression::PipeLiteral { .. }));
                    if let Some(default) = &p.value
                        && !pipe
                    {
                        self.expr(scope, default);
                    }
                    // A parameter's type is what its callers pass, which a default does not
                    // fix; the body fixes it where it does arithmetic with a literal.
                    inner.set(&id.name, Ty::Unknown);
                    let ty = match body {
                        FunctionBody::Expression(e) => literal_partner(e, &id.name),
                        FunctionBody::Block(_) => None,
                    };
                    sig.push(Param {
                        name: id.name.clone(),
                        required: p.value.is_none(),
                        pipe,
                        ty: ty.map_or(Ty::Unknown, Ty::Basic),
                        text: ty.unwrap_or_default().to_owned(),
                    });
                }
                let returns = match body {
                    FunctionBody::Expression(e) => self.expr(&inner, e),
                    FunctionBody::Block(b) => self.block(&inner, b),
                };
                Ty::Function(Arc::new(Signature { params: sig, complete: true, returns }))
            }
            Expression::LogicalExpression { left, right, .. } => {
                self.expr(scope, left);
                self.expr(scope, right);
                Ty::Basic("bool")
            }
            Expression::UnaryExpression { operator, argument, .. } => {
                let t = self.expr(scope, argument);
                match operator.as_str() {
                    "not" | "exists" => Ty::Basic("bool"),
                    _ => t,
                }
            }
            Expression::BinaryExpression { base, operator, left, right } => {
                let (l, r) = (self.expr(scope, left), self.expr(scope, right));
                match operator.as_str() {
                    "+" | "-" | "*" | "/" | "%" | "^" => {
                        if let (Some(a), Some(b)) = (l.known(), r.known())
                            && matches!((&l, &r), (Ty::Basic(_), Ty::Basic(_)))
                            && a != b
                        {
                            self.error(&base.location, format!("expected {a} but found {b}"));
                            return Ty::Unknown;
                        }
                        l
                    }
                    _ => Ty::Basic("bool"),
                }
            }
            Expression::ParenExpression { expression, .. } => self.expr(scope, expression),
            Expression::ConditionalExpression { test, consequent, alternate, .. } => {
                self.expr(scope, test);
                let (a, b) = (self.expr(scope, consequent), self.expr(scope, alternate));
                if a == b { a } else { Ty::Unknown }
            }
            Expression::IndexExpression { array, index, .. } => {
                let t = self.expr(scope, array);
                self.expr(scope, index);
                match t {
                    Ty::Array(el) => *el,
                    _ => Ty::Unknown,
                }
            }
            Expression::MemberExpression(m) => {
                let t = self.expr(scope, &m.object);
                let key = match &m.property {
                    PropertyKey::Identifier(id) => &id.name,
                    PropertyKey::StringLiteral(s) => &s.value,
                };
                match t {
                    Ty::Record(Some(members)) => members.get(key).cloned().unwrap_or(Ty::Unknown),
                    _ => Ty::Unknown,
                }
            }
            Expression::CallExpression(call) => self.call(scope, call, false),
            Expression::PipeExpression { argument, call, .. } => {
                self.expr(scope, argument);
                self.call(scope, call, true)
            }
        }
    }

    fn call(&mut self, scope: &Scope, call: &ast::CallExpression, piped: bool) -> Ty {
        let callee = self.expr(scope, &call.callee);
        let mut given: Vec<(&str, &Expression, Ty)> = Vec::new();
        for arg in &call.arguments {
            let Expression::ObjectExpression { properties, .. } = arg else {
                self.expr(scope, arg);
                continue;
            };
            for p in properties {
                let name = match &p.key {
                    PropertyKey::Identifier(id) => id.name.as_str(),
                    PropertyKey::StringLiteral(s) => s.value.as_str(),
                };
                let value = match &p.value {
                    Some(v) => v.clone(),
                    None => match &p.key {
                        PropertyKey::Identifier(id) => Expression::Identifier(id.clone()),
                        PropertyKey::StringLiteral(s) => Expression::StringLiteral(s.clone()),
                    },
                };
                let ty = self.expr(scope, &value);
                given.push((name, p.value.as_ref().unwrap_or(arg), ty));
            }
        }
        let Ty::Function(sig) = callee else { return Ty::Unknown };
        let missing: Vec<&Param> =
            sig.params.iter().filter(|p| p.required && !p.pipe && !given.iter().any(|(n, ..)| *n == p.name)).collect();
        for (name, value, ty) in &given {
            match sig.param(name) {
                None => {
                    let hint = match missing.as_slice() {
                        [] => String::new(),
                        [one] => format!(" (Expected `{}`)", one.name),
                        many => {
                            let names: Vec<String> = many.iter().map(|p| format!("`{}`", p.name)).collect();
                            let (last, rest) = names.split_last().unwrap_or((&names[0], &[]));
                            format!(" (Expected one of {} or {last})", rest.join(", "))
                        }
                    };
                    self.error(&value.base().location, format!("found unexpected argument {name}{hint}"));
                }
                Some(p) if ty.conflicts(&p.ty) && !p.text.is_empty() => {
                    if let Some(found) = ty.known() {
                        self.error(
                            &value.base().location,
                            format!("expected {} but found {found} (argument {name})", p.text),
                        );
                    }
                }
                Some(_) => {}
            }
        }
        if sig.complete {
            for p in &missing {
                self.error(&call.base.location, format!("missing required argument {}", p.name));
            }
            let pipe = sig.params.iter().find(|p| p.pipe);
            if let Some(p) = pipe
                && p.required
                && !piped
                && !given.iter().any(|(n, ..)| *n == p.name)
            {
                self.error(&call.base.location, "missing pipe argument".to_owned());
            }
        }
        sig.returns.clone()
    }
}

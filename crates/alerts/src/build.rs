//! Making and rewriting syntax trees: the nodes generated scripts are made
//! of (no source locations, so the formatter lays them out afresh), and a
//! walk over every expression of a parsed query, to rewrite it in place.

use flux_syntax::ast::{
    Assignment, Block, CallExpression, Expression, FunctionBody, Identifier, ImportDeclaration, MemberExpression,
    Property, PropertyKey, Statement, StringLiteral, VariableAssignment, WithSource,
};

pub(crate) fn ident(name: &str) -> Expression {
    Expression::Identifier(identifier(name))
}

fn identifier(name: &str) -> Identifier {
    Identifier { base: Default::default(), name: name.to_owned() }
}

pub(crate) fn string(s: &str) -> Expression {
    Expression::StringLiteral(string_literal(s))
}

fn string_literal(s: &str) -> StringLiteral {
    StringLiteral { base: Default::default(), value: s.to_owned() }
}

pub(crate) fn float(v: f64) -> Expression {
    Expression::FloatLiteral { base: Default::default(), value: v }
}

pub(crate) fn boolean(v: bool) -> Expression {
    Expression::BooleanLiteral { base: Default::default(), value: v }
}

/// `object["name"]`, as 2.7 writes every member it generates.
pub(crate) fn member(object: &str, name: &str) -> Expression {
    Expression::MemberExpression(MemberExpression {
        base: Default::default(),
        object: Box::new(ident(object)),
        property: PropertyKey::StringLiteral(string_literal(name)),
    })
}

pub(crate) fn binary(op: &str, left: Expression, right: Expression) -> Expression {
    Expression::BinaryExpression {
        base: Default::default(),
        operator: op.to_owned(),
        left: Box::new(left),
        right: Box::new(right),
    }
}

pub(crate) fn logical(op: &str, left: Expression, right: Expression) -> Expression {
    Expression::LogicalExpression {
        base: Default::default(),
        operator: op.to_owned(),
        left: Box::new(left),
        right: Box::new(right),
    }
}

pub(crate) fn negative(e: Expression) -> Expression {
    Expression::UnaryExpression { base: Default::default(), operator: "-".to_owned(), argument: Box::new(e) }
}

pub(crate) fn property(key: &str, value: Expression) -> Property {
    Property { base: Default::default(), key: PropertyKey::Identifier(identifier(key)), value: Some(value) }
}

pub(crate) fn object(properties: Vec<Property>) -> Expression {
    Expression::ObjectExpression { base: Default::default(), with: None, properties }
}

pub(crate) fn call_of(callee: Expression, args: Vec<Property>) -> CallExpression {
    CallExpression { base: Default::default(), callee: Box::new(callee), arguments: vec![object(args)] }
}

pub(crate) fn call(callee: Expression, args: Vec<Property>) -> Expression {
    Expression::CallExpression(call_of(callee, args))
}

/// `first |> calls[0] |> calls[1] ...`
pub(crate) fn pipe(first: Expression, calls: Vec<CallExpression>) -> Expression {
    calls.into_iter().fold(first, |argument, call| Expression::PipeExpression {
        base: Default::default(),
        argument: Box::new(argument),
        call,
    })
}

fn param_r() -> Vec<Property> {
    vec![Property { base: Default::default(), key: PropertyKey::Identifier(identifier("r")), value: None }]
}

/// `(r) => body`
pub(crate) fn function_of_r(body: Expression) -> Expression {
    Expression::FunctionExpression {
        base: Default::default(),
        params: param_r(),
        body: FunctionBody::Expression(Box::new(body)),
    }
}

/// `(r) => { statements }`
pub(crate) fn block_of_r(body: Vec<Statement>) -> Expression {
    Expression::FunctionExpression {
        base: Default::default(),
        params: param_r(),
        body: FunctionBody::Block(Block { base: Default::default(), body }),
    }
}

pub(crate) fn integer(n: i64) -> Expression {
    Expression::IntegerLiteral { base: Default::default(), value: n.to_string() }
}

/// `{r with props}`
pub(crate) fn r_with(properties: Vec<Property>) -> Expression {
    Expression::ObjectExpression {
        base: Default::default(),
        with: Some(WithSource { source: identifier("r") }),
        properties,
    }
}

/// A record field named by a string: `"Content-Type": v`.
pub(crate) fn quoted_property(key: &str, value: Expression) -> Property {
    Property { base: Default::default(), key: PropertyKey::StringLiteral(string_literal(key)), value: Some(value) }
}

pub(crate) fn array(elements: Vec<Expression>) -> Expression {
    Expression::ArrayExpression { base: Default::default(), elements }
}

pub(crate) fn conditional(test: Expression, consequent: Expression, alternate: Expression) -> Expression {
    Expression::ConditionalExpression {
        base: Default::default(),
        test: Box::new(test),
        consequent: Box::new(consequent),
        alternate: Box::new(alternate),
    }
}

pub(crate) fn return_statement(argument: Expression) -> Statement {
    Statement::ReturnStatement { base: Default::default(), argument }
}

pub(crate) fn define(name: &str, init: Expression) -> Statement {
    Statement::VariableAssignment(VariableAssignment { base: Default::default(), id: identifier(name), init })
}

pub(crate) fn option_task(properties: Vec<Property>) -> Statement {
    Statement::OptionStatement {
        base: Default::default(),
        assignment: Assignment::VariableAssignment(VariableAssignment {
            base: Default::default(),
            id: identifier("task"),
            init: object(properties),
        }),
    }
}

pub(crate) fn expression_statement(e: Expression) -> Statement {
    Statement::ExpressionStatement { base: Default::default(), expression: e }
}

pub(crate) fn imports(paths: &[&str]) -> Vec<ImportDeclaration> {
    paths.iter().map(|p| ImportDeclaration { base: Default::default(), alias: None, path: string_literal(p) }).collect()
}

/// The name a property key spells.
pub(crate) fn key_name(k: &PropertyKey) -> &str {
    match k {
        PropertyKey::Identifier(i) => &i.name,
        PropertyKey::StringLiteral(s) => &s.value,
    }
}

/// The call an expression makes, whether called or piped into.
pub(crate) fn call_in(e: &mut Expression) -> Option<&mut CallExpression> {
    match e {
        Expression::CallExpression(c) | Expression::PipeExpression { call: c, .. } => Some(c),
        _ => None,
    }
}

/// Whether a call's callee is the identifier `name`.
pub(crate) fn calls(c: &CallExpression, name: &str) -> bool {
    matches!(&*c.callee, Expression::Identifier(i) if i.name == name)
}

/// Calls `f` on every expression of the statements, outermost first; `f`
/// may replace the expression it is given, and the walk goes on into what
/// it put there.
pub(crate) fn each_expression(body: &mut [Statement], f: &mut dyn FnMut(&mut Expression)) {
    for s in body {
        statement(s, f);
    }
}

fn statement(s: &mut Statement, f: &mut dyn FnMut(&mut Expression)) {
    match s {
        Statement::ExpressionStatement { expression, .. } => walk(expression, f),
        Statement::VariableAssignment(v) => walk(&mut v.init, f),
        Statement::OptionStatement { assignment, .. } => match assignment {
            Assignment::VariableAssignment(v) => walk(&mut v.init, f),
            Assignment::MemberAssignment { init, .. } => walk(init, f),
        },
        Statement::ReturnStatement { argument, .. } => walk(argument, f),
        Statement::TestCaseStatement { block, .. } => each_expression(&mut block.body, f),
        Statement::BuiltinStatement { .. } => {}
    }
}

fn walk(e: &mut Expression, f: &mut dyn FnMut(&mut Expression)) {
    f(e);
    let props = |ps: &mut Vec<Property>, f: &mut dyn FnMut(&mut Expression)| {
        for p in ps.iter_mut() {
            if let Some(v) = &mut p.value {
                walk(v, f);
            }
        }
    };
    match e {
        Expression::ArrayExpression { elements, .. } => elements.iter_mut().for_each(|x| walk(x, f)),
        Expression::DictExpression { elements, .. } => {
            for item in elements {
                walk(&mut item.key, f);
                walk(&mut item.val, f);
            }
        }
        Expression::FunctionExpression { params, body, .. } => {
            props(params, f);
            match body {
                FunctionBody::Block(b) => each_expression(&mut b.body, f),
                FunctionBody::Expression(x) => walk(x, f),
            }
        }
        Expression::LogicalExpression { left, right, .. } | Expression::BinaryExpression { left, right, .. } => {
            walk(left, f);
            walk(right, f);
        }
        Expression::ObjectExpression { properties, .. } => props(properties, f),
        Expression::MemberExpression(m) => walk(&mut m.object, f),
        Expression::IndexExpression { array, index, .. } => {
            walk(array, f);
            walk(index, f);
        }
        Expression::UnaryExpression { argument, .. } => walk(argument, f),
        Expression::PipeExpression { argument, call, .. } => {
            walk(argument, f);
            call_args(call, f);
        }
        Expression::CallExpression(c) => call_args(c, f),
        Expression::ConditionalExpression { test, consequent, alternate, .. } => {
            walk(test, f);
            walk(consequent, f);
            walk(alternate, f);
        }
        Expression::StringExpression { parts, .. } => {
            for p in parts {
                if let flux_syntax::ast::StringPart::InterpolatedPart { expression, .. } = p {
                    walk(expression, f);
                }
            }
        }
        Expression::ParenExpression { expression, .. } => walk(expression, f),
        _ => {}
    }
}

fn call_args(c: &mut CallExpression, f: &mut dyn FnMut(&mut Expression)) {
    walk(&mut c.callee, f);
    for a in &mut c.arguments {
        walk(a, f);
    }
}

//! Syntax tree back to source text, laid out as Flux's own formatter lays it
//! out (`influx` and InfluxDB print generated scripts that way): four-space
//! indents, lines of at most 100 columns, a blank line between statements of
//! different kinds, lists of more than four items one per line with a
//! trailing comma, pipelines broken one call a line when they do not fit.
//!
//! The layout is a pretty-printing document ([`pretty`]): each construct
//! says where it may break, and the printer picks the first layout that fits.
//! A construct that opens with a prefix (`name =`, `(r) =>`, `{`) *hangs*: it
//! keeps as much of its prefix as fits on the line it starts on and indents
//! only what follows.

use pretty::RcDoc;

use crate::ast::{
    BaseNode, CallExpression, Expression, File, FunctionBody, ImportDeclaration, MemberExpression, Property,
    PropertyKey, Statement, StringLiteral, StringPart,
};

type Doc = RcDoc<'static, ()>;

const WIDTH: usize = 100;
const INDENT: isize = 4;
/// Lists longer than this are always one item a line.
const ONE_A_LINE: usize = 4;

/// A file as Flux's formatter prints it, ending with a newline.
pub fn file(f: &File) -> String {
    let mut doc = Doc::nil();
    if let Some(pkg) = &f.package {
        doc = doc.append(text(format!("package {}", pkg.name.name))).append(Doc::hardline());
        if !f.imports.is_empty() || !f.body.is_empty() {
            doc = doc.append(Doc::hardline()).append(Doc::hardline());
        }
    }
    doc = doc.append(Doc::intersperse(f.imports.iter().map(import), Doc::hardline()));
    if !f.imports.is_empty() && !f.body.is_empty() {
        doc = doc.append(Doc::hardline()).append(Doc::hardline());
    }
    doc = doc.append(statements(&f.body)).append(Doc::hardline());
    render(doc.group())
}

/// One expression as Flux's formatter prints it.
pub fn expression(e: &Expression) -> String {
    render(expr(e))
}

fn render(doc: Doc) -> String {
    let mut out = String::new();
    doc.render_fmt(WIDTH, &mut out).expect("formatting into a String cannot fail");
    // Lines holding only an indent are left empty.
    out.split('\n').map(str::trim_end).collect::<Vec<_>>().join("\n")
}

fn text(s: impl Into<String>) -> Doc {
    Doc::text(s.into())
}

fn is_multiline(b: &BaseNode) -> bool {
    b.location.end.line > b.location.start.line
}

/// A line break that, when the source spanned several lines, is always taken.
fn line_for(forced: bool) -> Doc {
    if forced { Doc::hardline() } else { Doc::line() }
}

fn line_empty_for(forced: bool) -> Doc {
    if forced { Doc::hardline() } else { Doc::line_() }
}

/// A layout that may not be broken: in the flat layout it is nothing, in the
/// broken one it fails, so the printer tries the next alternative.
fn only_flat() -> Doc {
    Doc::fail().flat_alt(Doc::nil())
}

/// Items separated by commas and `line`; a trailing comma when broken.
fn comma_list(items: Vec<Doc>, line: Doc) -> Doc {
    let trailing = if items.is_empty() { Doc::nil() } else { text(",").flat_alt(Doc::nil()) };
    Doc::intersperse(items.into_iter().map(Doc::group), text(",").append(line)).append(trailing)
}

/// An opening and closing pair around a comma list: `(open, body, close)`.
fn bracketed(open: &str, close: &str, items: Vec<Doc>) -> (Doc, Doc, Doc) {
    let forced = items.len() > ONE_A_LINE;
    let body = line_empty_for(forced).append(comma_list(items, line_for(forced)));
    (text(open), body, line_empty_for(forced).append(text(close)))
}

// ---- hanging ----

/// One level of a hanging construct: what opens and closes it, and whether
/// what it encloses is indented when the level itself starts a new line.
#[derive(Clone)]
struct Frame {
    open: Doc,
    close: Doc,
    indent: bool,
}

fn frame(open: Doc, close: Doc) -> Frame {
    Frame { open, close, indent: false }
}

fn indented(open: Doc, close: Doc) -> Frame {
    Frame { open, close, indent: true }
}

/// A construct that hangs: its frames, innermost first, around a body.
struct Hang {
    frames: Vec<Frame>,
    body: Doc,
}

impl Hang {
    fn plain(body: Doc) -> Self {
        Hang { frames: Vec::new(), body }
    }

    /// Puts `doc` before the outermost opening (or the body if none).
    fn prefix(&mut self, doc: Doc) {
        match self.frames.last_mut() {
            Some(f) => f.open = doc.append(f.open.clone()),
            None => self.body = doc.append(self.body.clone()),
        }
    }

    fn wrap(mut self, f: Frame) -> Self {
        self.frames.push(f);
        self
    }

    fn doc(self) -> Doc {
        let mut frames = self.frames;
        frames.reverse();
        hang(&frames, self.body)
    }
}

/// The alternatives of a hanging construct, most on its first line first:
/// the first `k` openings (outermost first) stay on the line they start on,
/// which they must fit; the rest open groups of their own around the body.
fn hang(frames: &[Frame], body: Doc) -> Doc {
    let mut alternatives = (1..=frames.len()).rev().map(|k| {
        let (kept, inner) = frames.split_at(k);
        let last = kept.len() == 1;
        let kept_open = Doc::concat(kept.iter().map(|f| f.open.clone()));
        let all_empty = kept.iter().all(|f| matches!(&*f.open, pretty::Doc::Nil));
        let guard = |when: bool| if when { only_flat() } else { Doc::nil() };
        let innermost = body
            .clone()
            .append(guard(!last && all_empty))
            .nest(INDENT)
            .append(Doc::concat(inner.iter().map(|f| f.close.clone())));
        let opened = inner.iter().rev().fold(innermost, |acc, f| {
            let d = f.open.clone().append(acc);
            if f.indent { d.nest(INDENT).group() } else { d.group() }
        });
        kept_open
            .append(guard(!last))
            .group()
            .append(opened.append(Doc::concat(kept.iter().map(|f| f.close.clone()))).group())
    });
    let first = alternatives.next();
    match first {
        None => body,
        Some(first) => alternatives.fold(first, Doc::union),
    }
}

// ---- statements ----

fn import(i: &ImportDeclaration) -> Doc {
    let alias = match &i.alias {
        Some(a) if !a.name.is_empty() => text(format!("{} ", a.name)),
        _ => Doc::nil(),
    };
    text("import ").append(alias).append(string_literal(&i.path).doc())
}

fn kind(s: &Statement) -> u8 {
    match s {
        Statement::ExpressionStatement { .. } => 0,
        Statement::VariableAssignment(_) => 1,
        Statement::OptionStatement { .. } => 2,
        Statement::ReturnStatement { .. } => 3,
        Statement::TestCaseStatement { .. } => 5,
        Statement::BuiltinStatement { .. } => 6,
    }
}

/// Statements a line each, with a blank line between statements of different
/// kinds and wherever the source had one.
fn statements(body: &[Statement]) -> Doc {
    let mut docs = Vec::with_capacity(body.len());
    let mut previous: Option<(u8, i64)> = None;
    for s in body {
        let loc = &s.base().location;
        let blank = previous.is_some_and(|(k, end)| i64::from(loc.start.line) - end > 1 || k != kind(s));
        let doc = statement(s);
        docs.push(if blank { Doc::hardline().append(doc) } else { doc });
        previous = Some((kind(s), i64::from(loc.end.line)));
    }
    Doc::intersperse(docs, Doc::hardline())
}

fn statement(s: &Statement) -> Doc {
    match s {
        Statement::ExpressionStatement { expression, .. } => expr(expression),
        Statement::VariableAssignment(v) => assignment(text(format!("{} =", v.id.name)), &v.init),
        Statement::OptionStatement { assignment: a, .. } => {
            let inner = match a {
                crate::ast::Assignment::VariableAssignment(v) => assignment(text(format!("{} =", v.id.name)), &v.init),
                crate::ast::Assignment::MemberAssignment { member: m, init, .. } => {
                    assignment(member(m).append(text(" =")), init)
                }
            };
            text("option ").append(inner)
        }
        Statement::ReturnStatement { argument, .. } => assignment(text("return"), argument),
        Statement::TestCaseStatement { id, extends, block, .. } => {
            let extends = extends.as_ref().map_or(Doc::nil(), |e| text(" extends ").append(string_literal(e).doc()));
            text(format!("testcase {}", id.name))
                .append(extends)
                .append(text(" "))
                .append(block_hang(&block.body).doc())
        }
        Statement::BuiltinStatement { id, ty, .. } => {
            text(format!("builtin {} : {}", id.name, ty.base.location.source))
        }
    }
    .group()
}

/// `prefix` then the value, hung: `name = value`, `return value`.
fn assignment(prefix: Doc, value: &Expression) -> Doc {
    let mut h = hang_expr(value);
    h.prefix(Doc::line());
    h.wrap(indented(prefix, Doc::nil())).doc()
}

fn block_hang(body: &[Statement]) -> Hang {
    Hang {
        frames: vec![frame(text("{"), Doc::hardline().append(text("}")))],
        body: Doc::hardline().append(statements(body)),
    }
}

// ---- expressions ----

fn expr(e: &Expression) -> Doc {
    match e {
        Expression::ArrayExpression { .. }
        | Expression::ObjectExpression { .. }
        | Expression::StringExpression { .. }
        | Expression::FunctionExpression { .. }
        | Expression::StringLiteral(_)
        | Expression::IndexExpression { .. } => hang_expr(e).doc(),
        Expression::Identifier(i) => text(i.name.clone()),
        Expression::DictExpression { base, elements } => {
            let inner = if elements.is_empty() {
                text(":")
            } else {
                let items =
                    elements.iter().map(|item| expr(&item.key).append(text(": ")).append(expr(&item.val))).collect();
                comma_list(items, line_for(is_multiline(base)))
            };
            text("[").append(Doc::line_().append(inner).nest(INDENT)).append(Doc::line_()).append(text("]"))
        }
        Expression::LogicalExpression { operator, left, right, .. }
        | Expression::BinaryExpression { operator, left, right, .. } => binary(e, left, operator, right),
        Expression::MemberExpression(m) => member(m),
        Expression::UnaryExpression { operator, argument, .. } => {
            let space = if matches!(operator.as_str(), "-" | "+") { "" } else { " " };
            text(format!("{operator}{space}")).append(child(e, argument, false))
        }
        Expression::PipeExpression { .. } => pipe(e),
        Expression::CallExpression(c) => call(c),
        Expression::ConditionalExpression { .. } => conditional(e),
        Expression::ParenExpression { expression, .. } => expr(expression),
        Expression::IntegerLiteral { value, .. } => text(value.clone()),
        Expression::FloatLiteral { base, value } => {
            if base.location.source.is_empty() {
                let mut s = format!("{value}");
                if !s.contains('.') {
                    s.push_str(".0");
                }
                text(s)
            } else {
                text(base.location.source.clone())
            }
        }
        Expression::DurationLiteral { values, .. } => {
            text(values.iter().map(|v| format!("{}{}", v.magnitude, v.unit)).collect::<String>())
        }
        Expression::BooleanLiteral { value, .. } => text(if *value { "true" } else { "false" }),
        Expression::DateTimeLiteral { base, value } => {
            text(if base.location.source.is_empty() { value.clone() } else { base.location.source.clone() })
        }
        Expression::RegexpLiteral { value, .. } => text(format!("/{}/", value.replace('/', "\\/"))),
        Expression::LabelLiteral { value, .. } => text(format!(".{value}")),
        Expression::PipeLiteral { .. } => text("<-"),
    }
    .group()
}

fn hang_expr(e: &Expression) -> Hang {
    match e {
        Expression::ArrayExpression { elements, .. } => {
            let (open, body, close) = bracketed("[", "]", elements.iter().map(expr).collect());
            Hang { frames: vec![frame(open, close), indented(Doc::nil(), Doc::nil())], body }
        }
        Expression::ObjectExpression { with, properties, .. } => {
            let forced = properties.len() > ONE_A_LINE;
            let start = match with {
                Some(w) => text(format!("{} with", w.source.name)).append(line_for(forced)).group(),
                None => line_empty_for(forced),
            };
            let body = start.append(comma_list(properties.iter().map(property).collect(), line_for(forced)));
            Hang { frames: vec![indented(text("{"), line_empty_for(forced).append(text("}")))], body }
        }
        Expression::StringExpression { parts, .. } => {
            Hang { frames: vec![indented(text("\""), text("\""))], body: Doc::concat(parts.iter().map(string_part)) }
        }
        Expression::FunctionExpression { params, body, .. } => function(params, body),
        Expression::StringLiteral(s) => string_literal(s),
        Expression::IndexExpression { array, index, .. } => {
            Hang { frames: vec![indented(child(e, array, false).append(text("[")), text("]"))], body: expr(index) }
        }
        _ => Hang::plain(expr(e)),
    }
}

fn string_literal(s: &StringLiteral) -> Hang {
    if s.base.location.source.is_empty() {
        Hang { frames: vec![indented(text("\""), text("\""))], body: text(escape(&s.value)) }
    } else {
        Hang::plain(text(s.base.location.source.clone()))
    }
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn string_part(p: &StringPart) -> Doc {
    match p {
        StringPart::TextPart { value, .. } => Doc::intersperse(
            value.split('\n').map(|s| text(escape(s))),
            // A newline in the text starts its next line at the margin.
            Doc::nesting(|indent| Doc::hardline().nest(-(indent as isize))),
        ),
        StringPart::InterpolatedPart { expression, .. } => text("${").append(expr(expression)).append(text("}")),
    }
}

fn key(k: &PropertyKey) -> Doc {
    match k {
        PropertyKey::Identifier(i) => text(i.name.clone()),
        PropertyKey::StringLiteral(s) => string_literal(s).doc(),
    }
}

/// `key: value` in a record or a call's arguments.
fn property(p: &Property) -> Doc {
    match &p.value {
        None => key(&p.key),
        Some(v) => {
            let mut h = hang_expr(v);
            h.prefix(Doc::line());
            h.wrap(indented(key(&p.key).append(text(":")), Doc::nil())).doc()
        }
    }
}

/// `(r, x=1) => body`.
fn function(params: &[Property], body: &FunctionBody) -> Hang {
    let forced = params.len() > ONE_A_LINE;
    let list = params
        .iter()
        .map(|p| match &p.value {
            None => key(&p.key),
            Some(v) => hang_expr(v).wrap(indented(key(&p.key).append(text("=")), Doc::nil())).doc(),
        })
        .collect();
    let head = text("(")
        .append(line_empty_for(forced).append(comma_list(list, line_for(forced))).nest(INDENT))
        .append(line_empty_for(forced))
        .append(text(")"))
        .append(Doc::softline())
        .append(text("=>"))
        .group();
    match body {
        FunctionBody::Expression(b) => {
            let b = strip_parens(b);
            let shown = match b {
                Expression::ObjectExpression { .. } => text("(").append(expr(b)).append(text(")")).group(),
                _ => expr(b),
            };
            Hang {
                frames: vec![frame(head, Doc::nil()), indented(Doc::nil(), Doc::nil())],
                body: Doc::line().append(shown),
            }
        }
        FunctionBody::Block(b) => {
            let mut h = block_hang(&b.body);
            h.prefix(Doc::line());
            h.wrap(indented(head, Doc::nil())).wrap(indented(Doc::nil(), Doc::nil()))
        }
    }
}

fn strip_parens(e: &Expression) -> &Expression {
    match e {
        Expression::ParenExpression { expression, .. } => strip_parens(expression),
        _ => e,
    }
}

fn member(m: &MemberExpression) -> Doc {
    let object = child_of(Parent::Member, &m.object);
    match &m.property {
        PropertyKey::Identifier(i) => object.append(text(format!(".{}", i.name))),
        PropertyKey::StringLiteral(s) => object.append(text("[")).append(string_literal(s).doc()).append(text("]")),
    }
}

fn call(c: &CallExpression) -> Doc {
    let callee = child_of(Parent::Call, &c.callee);
    let args = match c.arguments.as_slice() {
        [Expression::ObjectExpression { with, properties, .. }] => {
            let forced = properties.len() > ONE_A_LINE;
            let start = match with {
                Some(w) => text(format!("{} with", w.source.name)).append(line_for(forced)).group(),
                None => line_empty_for(forced),
            };
            let body = start.append(comma_list(properties.iter().map(property).collect(), line_for(forced)));
            text("(").append(hang(&[indented(Doc::nil(), line_empty_for(forced))], body)).append(text(")"))
        }
        other => {
            let (open, body, close) = bracketed("(", ")", other.iter().map(expr).collect());
            hang(&[indented(open, close)], body)
        }
    };
    callee.append(args).group()
}

/// `a |> f() |> g()`: the first operand, then each call on a line of its own
/// when the whole does not fit (always, when the source broke it).
fn pipe(e: &Expression) -> Doc {
    let forced = is_multiline(e.base());
    let mut calls = Vec::new();
    let mut at = e;
    while let Expression::PipeExpression { argument, call: c, .. } = at {
        calls.push(call(c).group());
        if !matches!(**argument, Expression::PipeExpression { .. }) {
            let first = child_of(Parent::Pipe, argument).group();
            let mut rest = Doc::nil();
            for (i, c) in calls.into_iter().rev().enumerate() {
                if i > 0 {
                    rest = rest.append(line_for(forced));
                }
                rest = rest.append(text("|> ").append(c).group());
            }
            return first.append(line_for(forced).append(rest).nest(INDENT)).group();
        }
        at = argument;
    }
    expr(e)
}

/// A chain of binary operators, each breakable on either side.
fn binary(e: &Expression, left: &Expression, op: &str, right: &Expression) -> Doc {
    let operator = |op: &str| Doc::line().append(text(op.to_owned())).append(Doc::line()).group();
    let first = child(e, left, false);
    let mut rest = Doc::nil();
    let (mut parent, mut op, mut rhs) = (e, op, right);
    loop {
        match rhs {
            Expression::BinaryExpression { operator: o, left: l, right: r, .. } => {
                rest = rest.append(operator(op)).append(child(rhs, l, false));
                parent = rhs;
                op = o;
                rhs = r;
            }
            _ => {
                rest = rest.append(operator(op)).append(child(parent, rhs, true));
                return first.append(rest.nest(INDENT)).group();
            }
        }
    }
}

fn conditional(e: &Expression) -> Doc {
    let Expression::ConditionalExpression { base, test, consequent, alternate } = e else { return expr(e) };
    let line = line_for(is_multiline(base));
    let mut doc = text("if ")
        .append(expr(test).nest(INDENT))
        .append(Doc::line())
        .append(text("then"))
        .group()
        .append(line.clone().append(expr(consequent)).nest(INDENT))
        .append(line.clone());
    let mut alt = &**alternate;
    while let Expression::ConditionalExpression { test, consequent, alternate, .. } = alt {
        doc = doc
            .append(text("else if "))
            .append(expr(test).nest(INDENT))
            .append(text(" then"))
            .append(line.clone().append(expr(consequent)).nest(INDENT))
            .append(line.clone());
        alt = alternate;
    }
    doc.append(text("else")).append(line.append(expr(alt)).nest(INDENT)).group()
}

// ---- parentheses ----

/// What holds a child expression, for its precedence.
#[derive(Clone, Copy)]
enum Parent {
    Call,
    Member,
    Pipe,
}

/// How tightly an expression binds (smaller binds tighter; 0 never needs
/// parentheses).
fn precedence(e: &Expression) -> u32 {
    match e {
        Expression::BinaryExpression { operator, .. }
        | Expression::LogicalExpression { operator, .. }
        | Expression::UnaryExpression { operator, .. } => operator_precedence(operator),
        Expression::FunctionExpression { .. } => 3,
        Expression::PipeExpression { .. } => 2,
        Expression::CallExpression(_) | Expression::MemberExpression(_) | Expression::IndexExpression { .. } => 1,
        Expression::ParenExpression { expression, .. } => precedence(expression),
        Expression::ConditionalExpression { .. } => 11,
        _ => 0,
    }
}

fn operator_precedence(op: &str) -> u32 {
    match op {
        "^" => 4,
        "*" | "/" | "%" => 5,
        "+" | "-" => 6,
        "<=" | "<" | ">=" | ">" | "==" | "!=" | "=~" | "!~" | "startswith" | "in" | "notempty" | "empty" => 7,
        "not" | "exists" => 8,
        "and" => 9,
        "or" => 10,
        _ => 0,
    }
}

/// A child in parentheses when the tree says it must have been written so:
/// looser than its parent, or as loose on the right.
fn parenthesized(parent: u32, child: u32, right: bool, doc: Doc) -> Doc {
    let needed = parent != 0 && child != 0 && (child > parent || (right && child == parent));
    if needed { text("(").append(doc).append(text(")")) } else { doc }
}

fn child(parent: &Expression, c: &Expression, right: bool) -> Doc {
    parenthesized(precedence(parent), precedence(c), right, expr(c))
}

/// A callee, a member's object or a pipeline's first operand (never on
/// the right of an operator).
fn child_of(parent: Parent, c: &Expression) -> Doc {
    let p = match parent {
        Parent::Call | Parent::Member => 1,
        Parent::Pipe => 2,
    };
    parenthesized(p, precedence(c), false, expr(c))
}

#[cfg(test)]
mod tests;

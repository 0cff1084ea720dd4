//! The syntax tree, serialized (serde) in the JSON shape Flux and InfluxDB use:
//! every node has `"type"` and `"location"`, names as in Flux's `ast` package.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct SourceLocation {
    pub start: Pos,
    pub end: Pos,
    /// The source text the node spans.
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct BaseNode {
    pub location: SourceLocation,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<Attribute>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attribute {
    #[serde(flatten)]
    pub base: BaseNode,
    pub name: String,
    pub params: Vec<AttributeParam>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttributeParam {
    #[serde(flatten)]
    pub base: BaseNode,
    pub value: Expression,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type")]
pub struct Package {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub path: String,
    pub package: String,
    pub files: Vec<File>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type")]
pub struct File {
    #[serde(flatten)]
    pub base: BaseNode,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    pub metadata: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package: Option<PackageClause>,
    pub imports: Vec<ImportDeclaration>,
    pub body: Vec<Statement>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type")]
pub struct PackageClause {
    #[serde(flatten)]
    pub base: BaseNode,
    pub name: Identifier,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type")]
pub struct ImportDeclaration {
    #[serde(flatten)]
    pub base: BaseNode,
    #[serde(rename = "as")]
    pub alias: Option<Identifier>,
    pub path: StringLiteral,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type")]
pub enum Statement {
    ExpressionStatement {
        #[serde(flatten)]
        base: BaseNode,
        expression: Expression,
    },
    VariableAssignment(VariableAssignment),
    OptionStatement {
        #[serde(flatten)]
        base: BaseNode,
        assignment: Assignment,
    },
    ReturnStatement {
        #[serde(flatten)]
        base: BaseNode,
        argument: Expression,
    },
    TestCaseStatement {
        #[serde(flatten)]
        base: BaseNode,
        id: Identifier,
        extends: Option<StringLiteral>,
        block: Block,
    },
    BuiltinStatement {
        #[serde(flatten)]
        base: BaseNode,
        id: Identifier,
        /// The type, as written (type expressions are not modelled yet).
        ty: TypeText,
    },
}

impl Statement {
    pub fn base(&self) -> &BaseNode {
        match self {
            Statement::ExpressionStatement { base, .. }
            | Statement::OptionStatement { base, .. }
            | Statement::ReturnStatement { base, .. }
            | Statement::TestCaseStatement { base, .. }
            | Statement::BuiltinStatement { base, .. } => base,
            Statement::VariableAssignment(v) => &v.base,
        }
    }
}

/// The text of a builtin's type expression.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type")]
pub struct TypeText {
    #[serde(flatten)]
    pub base: BaseNode,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VariableAssignment {
    #[serde(flatten)]
    pub base: BaseNode,
    pub id: Identifier,
    pub init: Expression,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type")]
pub enum Assignment {
    VariableAssignment(VariableAssignment),
    MemberAssignment {
        #[serde(flatten)]
        base: BaseNode,
        member: MemberExpression,
        init: Expression,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type")]
pub struct Block {
    #[serde(flatten)]
    pub base: BaseNode,
    pub body: Vec<Statement>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Identifier {
    #[serde(flatten)]
    pub base: BaseNode,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StringLiteral {
    #[serde(flatten)]
    pub base: BaseNode,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemberExpression {
    #[serde(flatten)]
    pub base: BaseNode,
    pub object: Box<Expression>,
    pub property: PropertyKey,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type")]
pub enum PropertyKey {
    Identifier(Identifier),
    StringLiteral(StringLiteral),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Property {
    #[serde(flatten)]
    pub base: BaseNode,
    pub key: PropertyKey,
    pub value: Option<Expression>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallExpression {
    #[serde(flatten)]
    pub base: BaseNode,
    pub callee: Box<Expression>,
    /// Flux passes all arguments as one record: zero or one `ObjectExpression`.
    pub arguments: Vec<Expression>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DictItem {
    pub key: Expression,
    pub val: Expression,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DurationValue {
    pub magnitude: i64,
    pub unit: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type")]
pub enum StringPart {
    TextPart {
        #[serde(flatten)]
        base: BaseNode,
        value: String,
    },
    InterpolatedPart {
        #[serde(flatten)]
        base: BaseNode,
        expression: Box<Expression>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum FunctionBody {
    Block(Block),
    Expression(Box<Expression>),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WithSource {
    pub source: Identifier,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type")]
pub enum Expression {
    Identifier(Identifier),
    ArrayExpression {
        #[serde(flatten)]
        base: BaseNode,
        elements: Vec<Expression>,
    },
    DictExpression {
        #[serde(flatten)]
        base: BaseNode,
        elements: Vec<DictItem>,
    },
    FunctionExpression {
        #[serde(flatten)]
        base: BaseNode,
        params: Vec<Property>,
        body: FunctionBody,
    },
    LogicalExpression {
        #[serde(flatten)]
        base: BaseNode,
        operator: String,
        left: Box<Expression>,
        right: Box<Expression>,
    },
    ObjectExpression {
        #[serde(flatten)]
        base: BaseNode,
        #[serde(skip_serializing_if = "Option::is_none")]
        with: Option<WithSource>,
        properties: Vec<Property>,
    },
    MemberExpression(MemberExpression),
    IndexExpression {
        #[serde(flatten)]
        base: BaseNode,
        array: Box<Expression>,
        index: Box<Expression>,
    },
    BinaryExpression {
        #[serde(flatten)]
        base: BaseNode,
        operator: String,
        left: Box<Expression>,
        right: Box<Expression>,
    },
    UnaryExpression {
        #[serde(flatten)]
        base: BaseNode,
        operator: String,
        argument: Box<Expression>,
    },
    PipeExpression {
        #[serde(flatten)]
        base: BaseNode,
        argument: Box<Expression>,
        call: CallExpression,
    },
    CallExpression(CallExpression),
    ConditionalExpression {
        #[serde(flatten)]
        base: BaseNode,
        test: Box<Expression>,
        consequent: Box<Expression>,
        alternate: Box<Expression>,
    },
    StringExpression {
        #[serde(flatten)]
        base: BaseNode,
        parts: Vec<StringPart>,
    },
    ParenExpression {
        #[serde(flatten)]
        base: BaseNode,
        expression: Box<Expression>,
    },
    IntegerLiteral {
        #[serde(flatten)]
        base: BaseNode,
        /// Flux writes 64-bit integers as JSON strings.
        value: String,
    },
    FloatLiteral {
        #[serde(flatten)]
        base: BaseNode,
        value: f64,
    },
    StringLiteral(StringLiteral),
    DurationLiteral {
        #[serde(flatten)]
        base: BaseNode,
        values: Vec<DurationValue>,
    },
    BooleanLiteral {
        #[serde(flatten)]
        base: BaseNode,
        value: bool,
    },
    DateTimeLiteral {
        #[serde(flatten)]
        base: BaseNode,
        value: String,
    },
    RegexpLiteral {
        #[serde(flatten)]
        base: BaseNode,
        value: String,
    },
    /// `.name` or `."any text"`: the name of a record field.
    LabelLiteral {
        #[serde(flatten)]
        base: BaseNode,
        value: String,
    },
    PipeLiteral {
        #[serde(flatten)]
        base: BaseNode,
    },
}

impl Expression {
    pub fn base(&self) -> &BaseNode {
        match self {
            Expression::Identifier(i) => &i.base,
            Expression::MemberExpression(m) => &m.base,
            Expression::CallExpression(c) => &c.base,
            Expression::StringLiteral(s) => &s.base,
            Expression::ArrayExpression { base, .. }
            | Expression::DictExpression { base, .. }
            | Expression::FunctionExpression { base, .. }
            | Expression::LogicalExpression { base, .. }
            | Expression::ObjectExpression { base, .. }
            | Expression::IndexExpression { base, .. }
            | Expression::BinaryExpression { base, .. }
            | Expression::UnaryExpression { base, .. }
            | Expression::PipeExpression { base, .. }
            | Expression::ConditionalExpression { base, .. }
            | Expression::StringExpression { base, .. }
            | Expression::ParenExpression { base, .. }
            | Expression::IntegerLiteral { base, .. }
            | Expression::FloatLiteral { base, .. }
            | Expression::DurationLiteral { base, .. }
            | Expression::BooleanLiteral { base, .. }
            | Expression::DateTimeLiteral { base, .. }
            | Expression::LabelLiteral { base, .. }
            | Expression::RegexpLiteral { base, .. }
            | Expression::PipeLiteral { base } => base,
        }
    }
}

//! The statements and expressions InfluxQL parses into.

use crate::lexer::Token;

/// A query: statements separated by semicolons.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub statements: Vec<Statement>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    Select(Box<SelectStatement>),
    /// `DELETE [FROM sources] [WHERE condition]`.
    Delete {
        sources: Vec<Source>,
        condition: Option<Expr>,
    },
    DropMeasurement {
        name: String,
    },
    ShowDatabases,
    ShowRetentionPolicies {
        database: Option<String>,
    },
    ShowMeasurements(ShowMeasurements),
    ShowTagKeys(ShowSchema),
    ShowTagValues(ShowTagValues),
    ShowFieldKeys(ShowSchema),
    ShowSeries(ShowSchema),
    /// The `SHOW ... CARDINALITY` statements.
    ShowCardinality(ShowCardinality),
    Explain {
        analyze: bool,
        verbose: bool,
        statement: Box<SelectStatement>,
    },
    /// A statement InfluxDB 2.x parses but does not run (`CREATE DATABASE`, ...): its name.
    Unsupported(String),
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct SelectStatement {
    pub fields: Vec<Field>,
    /// `INTO` (refused by 2.x, but parsed).
    pub target: Option<Measurement>,
    pub sources: Vec<Source>,
    pub condition: Option<Expr>,
    pub dimensions: Vec<Expr>,
    pub fill: Fill,
    /// `ORDER BY time DESC`.
    pub descending: bool,
    pub limit: u64,
    pub offset: u64,
    pub slimit: u64,
    pub soffset: u64,
    /// `tz('...')`.
    pub location: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub expr: Expr,
    pub alias: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub enum Fill {
    #[default]
    Null,
    None,
    Previous,
    Linear,
    Number(f64),
    Integer(i64),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    Measurement(Measurement),
    Subquery(Box<SelectStatement>),
}

/// `[db.[rp].]name` or `[db.[rp].]/regex/`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Measurement {
    pub database: String,
    pub retention_policy: String,
    pub name: String,
    pub regex: Option<String>,
}

/// The type a `::` cast asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataType {
    Float,
    Integer,
    Unsigned,
    String,
    Boolean,
    AnyField,
    Tag,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    VarRef {
        name: String,
        ty: Option<DataType>,
    },
    Call {
        name: String,
        args: Vec<Expr>,
    },
    /// `DISTINCT field` (without parentheses).
    Distinct(String),
    Number(f64),
    Integer(i64),
    Unsigned(u64),
    String(String),
    Boolean(bool),
    /// Nanoseconds.
    Duration(i64),
    Regex(String),
    /// `*`, `*::field`, `*::tag`.
    Wildcard(Option<DataType>),
    Binary {
        op: Token,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    Paren(Box<Expr>),
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ShowMeasurements {
    pub database: Option<String>,
    /// `WITH MEASUREMENT = name` or `=~ /regex/`.
    pub source: Option<Measurement>,
    pub condition: Option<Expr>,
    pub limit: u64,
    pub offset: u64,
}

/// `SHOW TAG KEYS`, `SHOW FIELD KEYS`, `SHOW SERIES`: `[ON db] [FROM sources] [WHERE] [LIMIT] [OFFSET]`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ShowSchema {
    pub database: Option<String>,
    pub sources: Vec<Source>,
    pub condition: Option<Expr>,
    pub limit: u64,
    pub offset: u64,
    pub slimit: u64,
    pub soffset: u64,
}

/// Which tag keys `SHOW TAG VALUES WITH KEY` names.
#[derive(Debug, Clone, PartialEq)]
pub enum TagKeys {
    Eq(String),
    Neq(String),
    In(Vec<String>),
    Regex(String),
    NotRegex(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ShowTagValues {
    pub database: Option<String>,
    pub sources: Vec<Source>,
    pub keys: TagKeys,
    pub condition: Option<Expr>,
    pub limit: u64,
    pub offset: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardinalityOf {
    Series,
    Measurements,
    TagKeys,
    TagValues,
    FieldKeys,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ShowCardinality {
    pub of: CardinalityOf,
    pub exact: bool,
    pub database: Option<String>,
    pub sources: Vec<Source>,
    pub condition: Option<Expr>,
    pub dimensions: Vec<Expr>,
    pub limit: u64,
    pub offset: u64,
    /// `SHOW TAG VALUES CARDINALITY WITH KEY ...`.
    pub keys: Option<TagKeys>,
}

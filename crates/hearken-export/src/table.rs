//! What every export is: a list of typed columns, then rows of values in that order.

use std::borrow::Cow;

/// The type of a column, the same in every format: CSV and JSON Lines write times as ISO 8601
/// UTC text (`2024-03-05T14:30:00Z`), Parquet as UTC microseconds (`TIMESTAMP(MICROS, UTC)`).
/// Every column may be empty (null).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// UTF-8 text (Parquet `BYTE_ARRAY` `STRING`).
    Text,
    /// 64-bit signed integer (Parquet `INT64`).
    Int,
    /// 64-bit float (Parquet `DOUBLE`).
    Float,
    /// `true` / `false` (Parquet `BOOLEAN`).
    Bool,
    /// A point in time, UTC, to the second.
    Time,
}

impl ColumnType {
    /// The name used in docs/formats.md.
    pub fn name(self) -> &'static str {
        match self {
            ColumnType::Text => "text",
            ColumnType::Int => "integer",
            ColumnType::Float => "float",
            ColumnType::Bool => "boolean",
            ColumnType::Time => "time",
        }
    }
}

/// One column of an export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub ty: ColumnType,
}

impl Column {
    pub fn new(name: impl Into<String>, ty: ColumnType) -> Column {
        Column {
            name: name.into(),
            ty,
        }
    }
}

/// One cell. A value's variant matches its column's type, or is `Null`.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Null,
    Text(Cow<'a, str>),
    Int(i64),
    /// Never NaN or infinite: those are written as `Null` (as JSON has no such numbers).
    Float(f64),
    Bool(bool),
    /// Unix seconds, UTC.
    Time(i64),
}

impl<'a> Value<'a> {
    pub fn text(v: Option<&'a str>) -> Value<'a> {
        v.map_or(Value::Null, |s| Value::Text(Cow::Borrowed(s)))
    }

    pub fn int(v: Option<i64>) -> Value<'a> {
        v.map_or(Value::Null, Value::Int)
    }

    pub fn float(v: Option<f64>) -> Value<'a> {
        match v {
            Some(x) if x.is_finite() => Value::Float(x),
            _ => Value::Null,
        }
    }

    pub fn time(v: Option<i64>) -> Value<'a> {
        v.map_or(Value::Null, Value::Time)
    }

    /// Whether this value may stand in a column of type `ty`.
    pub fn fits(&self, ty: ColumnType) -> bool {
        matches!(
            (self, ty),
            (Value::Null, _)
                | (Value::Text(_), ColumnType::Text)
                | (Value::Int(_), ColumnType::Int)
                | (Value::Float(_), ColumnType::Float)
                | (Value::Bool(_), ColumnType::Bool)
                | (Value::Time(_), ColumnType::Time)
        )
    }
}

/// A whole table in memory: what an analytic export is (a few hundred rows at most).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Value<'static>>>,
}

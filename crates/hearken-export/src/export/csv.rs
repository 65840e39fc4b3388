//! CSV as RFC 4180 says it: a header row, fields separated by commas, records ended by CRLF, a
//! field quoted (with its quotes doubled) when it holds a comma, a quote, a CR or an LF. UTF-8
//! without a byte-order mark. Empty field: no value. Times are ISO 8601 UTC, booleans `true` /
//! `false`, floats the shortest text that reads back as the same number (as JSON writes them: `0.0`,
//! `-17.5`, `1e-7`).
//!
//! Formula injection: a spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` (and, in
//! some, a tab or a CR) as a formula, so a signal text such as `=HYPERLINK(...)` could act when an
//! analyst opens the file. With [`CsvOptions::defuse_formulas`] (the default) such a text gets a
//! leading `'`, which spreadsheets show as text. Only text columns are touched: numbers (a
//! negative score) are written as they are.

use std::io::{BufWriter, Write};

use super::{CsvOptions, Exporter, check_row};
use crate::error::ExportError;
use crate::table::{Column, Value};
use crate::time::iso8601;

pub struct CsvExporter<W: Write> {
    out: BufWriter<W>,
    opts: CsvOptions,
    columns: Vec<Column>,
    buf: Vec<u8>,
}

impl<W: Write> CsvExporter<W> {
    pub fn new(out: W, opts: CsvOptions) -> CsvExporter<W> {
        CsvExporter {
            out: BufWriter::with_capacity(1 << 16, out),
            opts,
            columns: Vec::new(),
            buf: Vec::with_capacity(1024),
        }
    }
}

/// Whether a spreadsheet would take this text as a formula.
pub fn looks_like_formula(s: &str) -> bool {
    matches!(
        s.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    )
}

/// Appends one field, quoted when it must be.
fn field(buf: &mut Vec<u8>, s: &str) {
    if s.bytes().any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n')) {
        buf.push(b'"');
        for b in s.bytes() {
            if b == b'"' {
                buf.push(b'"');
            }
            buf.push(b);
        }
        buf.push(b'"');
    } else {
        buf.extend_from_slice(s.as_bytes());
    }
}

impl<W: Write> Exporter for CsvExporter<W> {
    fn begin(&mut self, columns: &[Column]) -> Result<(), ExportError> {
        self.columns = columns.to_vec();
        self.buf.clear();
        for (i, c) in columns.iter().enumerate() {
            if i > 0 {
                self.buf.push(b',');
            }
            field(&mut self.buf, &c.name);
        }
        self.buf.extend_from_slice(b"\r\n");
        self.out.write_all(&self.buf)?;
        Ok(())
    }

    fn row(&mut self, row: &[Value<'_>]) -> Result<(), ExportError> {
        check_row(&self.columns, row)?;
        let buf = &mut self.buf;
        buf.clear();
        for (i, v) in row.iter().enumerate() {
            if i > 0 {
                buf.push(b',');
            }
            match v {
                Value::Null => {}
                Value::Text(s) => {
                    if self.opts.defuse_formulas && looks_like_formula(s) {
                        let mut t = String::with_capacity(s.len() + 1);
                        t.push('\'');
                        t.push_str(s);
                        field(buf, &t);
                    } else {
                        field(buf, s);
                    }
                }
                Value::Int(n) => {
                    let _ = write!(buf, "{n}");
                }
                // The shortest text that reads back as the same number, as in JSON (`0.0`,
                // `1e-7`): a float column reads as floats.
                Value::Float(x) => serde_json::to_writer(&mut *buf, x)
                    .map_err(|e| ExportError::Internal(e.to_string()))?,
                Value::Bool(b) => buf.extend_from_slice(if *b { b"true" } else { b"false" }),
                Value::Time(t) => iso8601(*t, buf),
            }
        }
        buf.extend_from_slice(b"\r\n");
        self.out.write_all(buf)?;
        Ok(())
    }

    fn finish(&mut self) -> Result<(), ExportError> {
        self.out.flush()?;
        Ok(())
    }
}

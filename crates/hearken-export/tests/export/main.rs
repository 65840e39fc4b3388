//! Exports of a tiny fixed store (tests/data/store, its PROVENANCE.md): every dataset and
//! analytic pinned by snapshots in CSV and JSON Lines, CSV read back by an independent reader,
//! Parquet read back by the `parquet` crate's reader and compared with what DuckDB and pandas
//! read (tests/data/parquet_check.json, made by tools/reference/exports/check_parquet.py),
//! every filter against SQL, the data scope, and every refusal by its code.

#![allow(clippy::unwrap_used)]

mod analytics;
mod helpers;
mod parquet_check;
mod rows;

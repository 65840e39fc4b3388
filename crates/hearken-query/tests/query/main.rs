//! The query layer against a generated store.

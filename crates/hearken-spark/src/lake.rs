//! The lake's layout check, before a query reaches the cluster: `DIR/signals`, `DIR/surveys`
//! (and `DIR/case_events`) as `hearken export ... --format parquet --partition month` writes them,
//! `TABLE/month=YYYY-MM/part-NNNNN.parquet`. A table folder that is missing, a partition folder
//! without its file, or anything else in a table folder (another partitioning, a file that is not
//! Parquet) is refused with the path and what to do, rather than read as a smaller lake.

use std::path::{Path, PathBuf};

use crate::error::{Result, SparkError};

/// The tables of a lake, each the folder of one partitioned export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Signals,
    Surveys,
    CaseEvents,
}

impl Table {
    /// The folder name under the lake (`case_events` for `hearken export case-events`).
    pub fn folder(self) -> &'static str {
        match self {
            Table::Signals => "signals",
            Table::Surveys => "surveys",
            Table::CaseEvents => "case_events",
        }
    }

    fn export(self) -> &'static str {
        match self {
            Table::Signals => "signals",
            Table::Surveys => "surveys",
            Table::CaseEvents => "case-events",
        }
    }
}

/// A lake folder whose layout was checked.
#[derive(Debug, Clone)]
pub struct Lake {
    root: PathBuf,
}

impl Lake {
    /// The lake at `root` (its tables are checked when a query asks for them: [`Lake::table`]).
    pub fn open(root: &Path) -> Result<Lake> {
        if !root.is_dir() {
            return Err(SparkError::Lake(format!(
                "the lake {} is not a folder: export one with `hearken export signals --format parquet --partition month --out {}/signals` (and surveys)",
                root.display(),
                root.display()
            )));
        }
        let root = root.canonicalize().map_err(|e| {
            SparkError::Lake(format!("cannot read the lake {}: {e}", root.display()))
        })?;
        Ok(Lake { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The folder of `table`, after checking each of its partitions; returns the months found.
    pub fn table(&self, table: Table) -> Result<(PathBuf, Vec<String>)> {
        let dir = self.root.join(table.folder());
        let again = format!(
            "export it again with `hearken export {} --format parquet --partition month --out {}`",
            table.export(),
            dir.display()
        );
        if !dir.is_dir() {
            return Err(SparkError::Lake(format!(
                "the lake {} has no {}/ folder: {again}",
                self.root.display(),
                table.folder()
            )));
        }
        let mut months = Vec::new();
        for entry in read_dir(&dir)? {
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            let month = name.strip_prefix("month=").filter(|m| valid_month(m));
            let Some(month) = month.filter(|_| path.is_dir()) else {
                return Err(SparkError::Lake(format!(
                    "{} is not a month partition of a Hearken lake (month=YYYY-MM/): a foreign partition; remove it or {again}",
                    path.display()
                )));
            };
            let mut parts = 0;
            for file in read_dir(&path)? {
                let fname = file.file_name().to_string_lossy().into_owned();
                let fpath = file.path();
                if !is_part_name(&fname) || !fpath.is_file() {
                    return Err(SparkError::Lake(format!(
                        "{} is not a part file of a Hearken lake (part-NNNNN.parquet): a foreign file; remove it or {again}",
                        fpath.display()
                    )));
                }
                if !is_parquet(&fpath)? {
                    return Err(SparkError::Lake(format!(
                        "{} is not a Parquet file: {again}",
                        fpath.display()
                    )));
                }
                parts += 1;
            }
            if parts == 0 {
                return Err(SparkError::Lake(format!(
                    "{} holds no part-NNNNN.parquet file: the partition is missing; {again}",
                    path.display()
                )));
            }
            months.push(month.to_string());
        }
        if months.is_empty() {
            return Err(SparkError::Lake(format!(
                "{} holds no month partition: {again}",
                dir.display()
            )));
        }
        months.sort();
        Ok((dir, months))
    }
}

fn read_dir(dir: &Path) -> Result<Vec<std::fs::DirEntry>> {
    let mut out: Vec<std::fs::DirEntry> = std::fs::read_dir(dir)
        .and_then(|it| it.collect::<std::io::Result<Vec<_>>>())
        .map_err(|e| SparkError::Lake(format!("cannot read {}: {e}", dir.display())))?;
    out.sort_by_key(|e| e.file_name());
    Ok(out)
}

/// `YYYY-MM` with a month 01..=12, or Hive's folder for rows without a time.
fn valid_month(m: &str) -> bool {
    if m == "__HIVE_DEFAULT_PARTITION__" {
        return true;
    }
    let b = m.as_bytes();
    b.len() == 7
        && b[4] == b'-'
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[5..].iter().all(u8::is_ascii_digit)
        && matches!(m[5..].parse::<u32>(), Ok(1..=12))
}

fn is_part_name(name: &str) -> bool {
    name.strip_prefix("part-")
        .and_then(|r| r.strip_suffix(".parquet"))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit()))
}

/// A Parquet file starts and ends with `PAR1`.
fn is_parquet(path: &Path) -> Result<bool> {
    use std::io::{Read, Seek, SeekFrom};
    let err = |e: std::io::Error| SparkError::Lake(format!("cannot read {}: {e}", path.display()));
    let mut f = std::fs::File::open(path).map_err(err)?;
    let len = f.metadata().map_err(err)?.len();
    if len < 12 {
        return Ok(false);
    }
    let (mut head, mut tail) = ([0u8; 4], [0u8; 4]);
    f.read_exact(&mut head).map_err(err)?;
    f.seek(SeekFrom::End(-4)).map_err(err)?;
    f.read_exact(&mut tail).map_err(err)?;
    Ok(&head == b"PAR1" && &tail == b"PAR1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_and_part_names() {
        assert!(valid_month("2025-01"));
        assert!(valid_month("2025-12"));
        assert!(!valid_month("2025-13"));
        assert!(!valid_month("2025-1"));
        assert!(!valid_month("year=2025"));
        assert!(is_part_name("part-00000.parquet"));
        assert!(!is_part_name("part-.parquet"));
        assert!(!is_part_name("part-00000.csv"));
    }

    fn lake_with(files: &[(&str, &[u8])]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        for (path, bytes) in files {
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().expect("a parent")).expect("mkdir");
            std::fs::write(p, bytes).expect("write");
        }
        dir
    }

    const PQ: &[u8] = b"PAR1 not really a footer PAR1";

    #[test]
    fn a_good_layout_lists_its_months() {
        let d = lake_with(&[
            ("signals/month=2025-02/part-00000.parquet", PQ),
            ("signals/month=2025-01/part-00000.parquet", PQ),
        ]);
        let lake = Lake::open(d.path()).expect("lake");
        let (_, months) = lake.table(Table::Signals).expect("signals");
        assert_eq!(months, ["2025-01", "2025-02"]);
    }

    #[test]
    fn missing_and_foreign_partitions_are_refused() {
        type Files<'a> = &'a [(&'a str, &'a [u8])];
        let cases: &[(Files<'_>, &str)] = &[
            (
                &[("surveys/month=2025-01/part-00000.parquet", PQ)],
                "no signals/ folder",
            ),
            (
                &[
                    ("signals/month=2025-01/part-00000.parquet", PQ),
                    ("signals/month=2025-02/.keep", b""),
                ],
                "foreign file",
            ),
            (
                &[
                    ("signals/month=2025-01/part-00000.parquet", PQ),
                    ("signals/year=2025/part-00000.parquet", PQ),
                ],
                "foreign partition",
            ),
            (
                &[("signals/month=2025-01/part-00000.parquet", b"a,b\n1,2\n")],
                "not a Parquet file",
            ),
        ];
        for (files, want) in cases {
            let d = lake_with(files);
            let lake = Lake::open(d.path()).expect("lake");
            let err = lake.table(Table::Signals).expect_err("refused").to_string();
            assert!(err.contains(want), "{err}");
        }
        // A month folder left empty: the partition is missing.
        let d = lake_with(&[("signals/month=2025-01/part-00000.parquet", PQ)]);
        std::fs::create_dir_all(d.path().join("signals/month=2025-02")).expect("mkdir");
        let err = Lake::open(d.path())
            .expect("lake")
            .table(Table::Signals)
            .expect_err("refused")
            .to_string();
        assert!(err.contains("the partition is missing"), "{err}");
    }
}

//! What the Spark tests share: a cluster of their own on loopback (tools/spark/cluster.sh),
//! started for one test and stopped, each process by its recorded pid, when dropped; a
//! generated organisation imported into SQLite; its rows exported as the lake.

use std::path::{Path, PathBuf};
use std::process::Command;

use hearken_ingest::ReadOptions;
use hearken_model::RecordKind;
use hearken_query::Scope;
use hearken_store::Store;

/// The cluster of one test; stopped (each process by its recorded pid) when dropped.
pub struct Cluster {
    pub dir: tempfile::TempDir,
    pub script: PathBuf,
    pub engine: String,
    pub ui: String,
}

impl Cluster {
    pub fn folder(&self) -> PathBuf {
        self.dir.path().join("cluster")
    }

    /// The pid `cluster.sh` recorded for a process (`master`, `worker-1`, `connect` ...).
    pub fn pid(&self, name: &str) -> Option<u32> {
        std::fs::read_to_string(self.folder().join(format!("{name}.pid")))
            .ok()?
            .trim()
            .parse()
            .ok()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let out = Command::new("bash")
            .arg(&self.script)
            .arg("stop")
            .arg(self.folder())
            .output();
        if let Ok(o) = out
            && !o.status.success()
        {
            eprintln!(
                "stopping the Spark cluster: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
    }
}

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Starts a master, two workers and a Spark Connect server; `None` (after saying why) when
/// they cannot start, a failure where `HEARKEN_REQUIRE_SPARK=1`.
pub fn start() -> Option<Cluster> {
    let required = std::env::var("HEARKEN_REQUIRE_SPARK").as_deref() == Ok("1");
    let script = repo().join("tools/spark/cluster.sh");
    let dir = tempfile::tempdir().expect("temp dir");
    let out = Command::new("bash")
        .arg(&script)
        .arg("start")
        .arg(dir.path().join("cluster"))
        .env("HEARKEN_SPARK_WORKERS", "2")
        .output();
    let fail = |why: String| {
        if required {
            panic!("HEARKEN_REQUIRE_SPARK=1 but the Spark cluster did not start: {why}");
        }
        eprintln!(
            "skipped: the Spark cluster did not start ({why}); HEARKEN_REQUIRE_SPARK=1 makes this fail"
        );
    };
    let out = match out {
        Ok(o) => o,
        Err(e) => {
            fail(format!("cannot run bash: {e}"));
            return None;
        }
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let env = |name: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("export {name}=")))
            .map(str::to_string)
    };
    let (Some(engine), Some(ui)) = (env("HEARKEN_SPARK"), env("HEARKEN_SPARK_UI")) else {
        let _guard = Cluster {
            dir,
            script,
            engine: String::new(),
            ui: String::new(),
        };
        fail(String::from_utf8_lossy(&out.stderr).trim().to_string());
        return None;
    };
    eprintln!("{}", String::from_utf8_lossy(&out.stderr).trim());
    Some(Cluster {
        dir,
        script,
        engine: engine.replacen("sc://", "spark://", 1),
        ui,
    })
}

/// `hearken_gen`'s organisation of `customers` over `months` (seed `seed`) in a new SQLite store
/// `dir/org.db`, the files of `kinds` imported in batches of `batch` rows, each without a
/// quarantined row.
pub fn generated_store(
    dir: &Path,
    customers: u64,
    months: u32,
    seed: u64,
    kinds: &[RecordKind],
    batch: usize,
) -> (Store, PathBuf) {
    let data = dir.join("data");
    let cfg = hearken_gen::GenConfig {
        customers,
        months,
        seed,
        threads: 1,
        ..hearken_gen::GenConfig::default()
    };
    hearken_gen::generate(&cfg, &data, &|_| {}).expect("generate");
    let db = dir.join("org.db");
    let mut store = Store::open(&db).expect("open store");
    for &kind in kinds {
        let report = store
            .import_file(
                &data.join(kind.file_name()),
                &ReadOptions::new(kind),
                batch,
                &mut |_| {},
            )
            .expect("import");
        assert_eq!(report.counts.quarantined, 0, "{kind:?} imports cleanly");
    }
    (store, db)
}

/// The store's rows of `dataset` written into `dir` as `hearken export --format parquet
/// --partition month` writes them.
pub fn export(store: &Store, dataset: hearken_export::Dataset, dir: &Path) {
    let req = hearken_export::ExportRequest::Rows {
        dataset,
        filters: hearken_export::RowsRequest::default(),
    };
    hearken_export::prepare(store, &Scope::all(), &req)
        .expect("prepare export")
        .write_partitioned(
            store,
            hearken_export::Format::Parquet,
            hearken_export::Partition::Month,
            hearken_export::CsvOptions::default(),
            |value| {
                let part = dir.join(hearken_export::partition_dir(
                    hearken_export::Partition::Month,
                    value,
                ));
                std::fs::create_dir_all(&part)?;
                std::fs::File::create(
                    part.join(hearken_export::part_file(hearken_export::Format::Parquet)),
                )
            },
        )
        .expect("export the lake");
}

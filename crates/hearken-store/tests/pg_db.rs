//! A fresh PostgreSQL database per test on the server `HEARKEN_TEST_PG` names (.ci/run starts
//! one with tools/pg/cluster.sh), dropped when the test ends. Without the variable a test skips
//! with a printed reason, or fails where `HEARKEN_REQUIRE_PG=1`. One file for the PostgreSQL
//! tests of every crate (the store's, the query layer's, the CLI's), included with `#[path]`.

/// A fresh database on the test server, dropped with this value.
pub struct TestDb {
    admin: String,
    name: String,
    pub url: String,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&self.admin, postgres::NoTls) {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// A new empty database, or `None` (after saying why) when no server is configured.
pub fn test_db(test: &str) -> Option<TestDb> {
    let Ok(admin) = std::env::var("HEARKEN_TEST_PG") else {
        let message = "HEARKEN_TEST_PG is not set: start a server with `tools/pg/cluster.sh start DIR` and export the URL it prints";
        let required = std::env::var("HEARKEN_REQUIRE_PG").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "{message}; HEARKEN_REQUIRE_PG=1 makes this a failure"
        );
        eprintln!("SKIPPED {test}: {message}; set HEARKEN_REQUIRE_PG=1 to make this a failure");
        return None;
    };
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = format!(
        "hk_{}_{}_{n}",
        std::process::id(),
        test.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
    );
    let name: String = name.chars().take(60).collect();
    let mut c = postgres::Client::connect(&admin, postgres::NoTls)
        .unwrap_or_else(|e| panic!("HEARKEN_TEST_PG={admin}: {e}"));
    c.batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("create database");
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    Some(TestDb {
        url: format!("{base}/{name}"),
        admin,
        name,
    })
}

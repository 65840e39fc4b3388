//! `GenConfig::stationary`: nobody joins or churns during the window.

use hearken_gen::{GenConfig, Truth, generate};

use crate::helpers::read;

fn run(stationary: bool) -> (usize, usize, usize, Truth) {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let cfg = GenConfig {
        customers: 3_000,
        months: 4,
        seed: 9,
        stationary,
        threads: 2,
        ..GenConfig::default()
    };
    generate(&cfg, tmp.path(), &|_| {}).expect("the generator runs");
    let t = read(tmp.path(), "customers.csv");
    let (since, churned) = (t.col("customer_since"), t.col("churned_at"));
    // Dates are YYYY-MM-DD, so string order is time order.
    let joined = t
        .rows
        .iter()
        .filter(|r| r[since].as_str() >= "2025-01-01")
        .count();
    let gone = t.rows.iter().filter(|r| !r[churned].is_empty()).count();
    let text = std::fs::read_to_string(tmp.path().join("truth.json")).expect("truth.json");
    let truth = Truth::from_json(&text).expect("truth.json parses");
    (t.rows.len(), joined, gone, truth)
}

#[test]
fn a_stationary_organisation_has_nobody_joining_or_churning() {
    let (n, joined, gone, truth) = run(true);
    assert_eq!(n, 3_000);
    assert_eq!((joined, gone), (0, 0));
    assert!(truth.config.stationary);
    // The default organisation grows and loses customers, so the check above can fail.
    let (_, joined, gone, truth) = run(false);
    assert!(joined > 300 && gone > 30, "joined {joined}, churned {gone}");
    assert!(!truth.config.stationary);
}

//! Key drivers against statsmodels OLS and a brute-force (all orderings) Shapley decomposition.

use hearken_engine::Partial;
use hearken_engine::drivers::{self, DriverOptions, Target};

use crate::helpers::*;

#[test]
fn drivers_match_statsmodels_and_brute_force_shapley() {
    let exp = expected();
    let (frame, _, _) = surveys();
    let names: Vec<&str> = frame.aspects.iter().map(|a| a.0.as_str()).collect();
    let cols: Vec<&[f32]> = frame.aspects.iter().map(|a| a.1.as_slice()).collect();
    for (target, t) in [
        ("overall", Target::Rating(&frame.overall)),
        ("nps", Target::Score(&frame.nps)),
    ] {
        let w = &exp["drivers"][target];
        // Two chunks merged, as the CLI would run them on two cores.
        let mut m = drivers::moments(t, &cols, 0..500).unwrap();
        m.merge(&drivers::moments(t, &cols, 500..frame.len()).unwrap());
        let d = drivers::key_drivers(&m, &names, &DriverOptions::default()).unwrap();
        assert_eq!(d.n, u(&w["n"]), "{target}");
        close_opt(d.r2, &w["r2"], &format!("{target} r2"));
        close_opt(d.adj_r2, &w["adj_r2"], &format!("{target} adj r2"));
        let ic = d.intercept.as_ref().unwrap();
        for k in ["coef", "se", "t", "p_value", "low", "high"] {
            let got = match k {
                "coef" => ic.coef,
                "se" => ic.se,
                "t" => ic.t,
                "p_value" => ic.p_value,
                "low" => ic.low,
                _ => ic.high,
            };
            close(
                got,
                f(&w["intercept"][k]),
                &format!("{target} intercept {k}"),
            );
        }
        let mut shapley_sum = 0.0;
        for (got, want) in d.drivers.iter().zip(w["drivers"].as_array().unwrap()) {
            let what = format!("{target} {}", got.aspect);
            assert_eq!(got.aspect, want["aspect"].as_str().unwrap());
            let o = got.ols.as_ref().unwrap();
            close(o.coef, f(&want["ols"]["coef"]), &format!("{what} coef"));
            close(o.se, f(&want["ols"]["se"]), &format!("{what} se"));
            close(o.t, f(&want["ols"]["t"]), &format!("{what} t"));
            close(o.p_value, f(&want["ols"]["p_value"]), &format!("{what} p"));
            close(o.low, f(&want["ols"]["low"]), &format!("{what} low"));
            close(o.high, f(&want["ols"]["high"]), &format!("{what} high"));
            close_opt(got.shapley, &want["shapley"], &format!("{what} shapley"));
            close_opt(
                got.relative_weight,
                &want["relative_weight"],
                &format!("{what} rw"),
            );
            close_opt(got.correlation, &want["correlation"], &format!("{what} r"));
            shapley_sum += got.shapley.unwrap();
        }
        close(shapley_sum, d.r2.unwrap(), "shapley shares add up to R²");
        let s = d.service.unwrap();
        assert_eq!(s.aspect, "aspect_service");
        close(
            s.of_explained,
            f(&w["service_of_explained"]),
            "service share",
        );
    }
}

/// Internal KPIs beside the drivers: correlation and Fisher-z interval against
/// scipy.stats.pearsonr on the same float32 values, including unknowns and a constant KPI.
#[test]
fn kpi_links_match_scipy_pearsonr() {
    let exp = expected();
    let (frame, _, _) = surveys();
    let w = &exp["kpis"];
    let names = ["handle_hours", "events", "constant"];
    let cols: Vec<Vec<f32>> = names
        .iter()
        .map(|k| {
            w["values"][*k]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().map_or(f32::NAN, |x| x as f32))
                .collect()
        })
        .collect();
    let kpis: Vec<(&str, &[f32])> = names
        .iter()
        .zip(&cols)
        .map(|(n, c)| (*n, c.as_slice()))
        .collect();
    let links = drivers::kpi_links(
        Target::Rating(&frame.overall),
        &kpis,
        hearken_engine::Level::NINETY,
    )
    .unwrap();
    for link in &links {
        let want = &w["links"][&link.kpi];
        assert_eq!(link.n, u(&want["n"]), "{}", link.kpi);
        close_opt(link.correlation, &want["correlation"], &link.kpi);
        close_opt(link.low, &want["low"], &link.kpi);
        close_opt(link.high, &want["high"], &link.kpi);
    }
    assert!(
        links[2].correlation.is_none(),
        "a constant KPI has no correlation"
    );
    assert!(
        drivers::kpi_links(
            Target::Rating(&frame.overall[..3]),
            &kpis,
            hearken_engine::Level::NINETY
        )
        .is_err()
    );
}

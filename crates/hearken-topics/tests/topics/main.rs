//! hearken-topics against scikit-learn on banking77 and on reference metric values.

mod helpers;

use hearken_topics::{ThemeConfig, TrainConfig, discover_themes, evaluate, metrics, train};
use helpers::{f, labels, load, pairs, reference};

#[test]
fn metrics_agree_with_scikit_learn() {
    let r = reference();
    for case in r["metric_cases"].as_array().expect("metric cases") {
        let (a, b) = (labels(&case["a"]), labels(&case["b"]));
        let k = a.iter().chain(&b).max().map_or(0, |m| m + 1);
        let check = |name: &str, got: f64| {
            let want = f(&case[name]);
            assert!(
                (got - want).abs() < 1e-9,
                "{name}: {got} vs sklearn {want} for {case}"
            );
        };
        check("ari", metrics::adjusted_rand_index(&a, &b));
        check("nmi", metrics::normalized_mutual_info(&a, &b));
        check("accuracy", metrics::accuracy(&a, &b));
        check("macro_f1", metrics::macro_f1(&a, &b, k));
    }
    let c = &r["calibration_case"];
    let conf: Vec<f64> = c["confidence"].as_array().unwrap().iter().map(f).collect();
    let ok: Vec<bool> = c["correct"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v == true)
        .collect();
    let (_, ece) = metrics::calibration(&conf, &ok, 10);
    assert!((ece - f(&c["ece"])).abs() < 1e-9, "{ece} vs {}", c["ece"]);
}

#[test]
fn banking77_classifier_beats_scikit_learn_and_is_calibrated() {
    let r = reference();
    let sk = &r["classifier"];
    let train_rows = load("train.csv");
    let test_rows = load("test.csv");
    let model = train(&pairs(&train_rows), &TrainConfig::default()).expect("trains");
    let eval = evaluate(&model, &pairs(&test_rows));
    assert_eq!(eval.n, 3080);
    assert_eq!(eval.n_unknown(), 0);
    // The brief's target for the default configuration, and scikit-learn's figure.
    assert!(eval.accuracy >= 0.925, "accuracy {} < 0.925", eval.accuracy);
    assert!(
        eval.accuracy > f(&sk["accuracy"]),
        "accuracy {} <= sklearn {}",
        eval.accuracy,
        sk["accuracy"]
    );
    assert!(
        eval.macro_f1 > f(&sk["macro_f1"]),
        "macro-F1 {}",
        eval.macro_f1
    );
    // Calibrated: top probability within 6 points of the actual accuracy on average.
    assert!(eval.ece < 0.06, "ECE {}", eval.ece);
    assert!(eval.coverage > 0.9 && eval.accuracy_classified > eval.accuracy);
    assert_eq!(eval.per_class.len(), 77);
    assert!(eval.per_class.iter().all(|c| c.support == 40));

    // The saved model predicts exactly as the trained one.
    let loaded = hearken_topics::Model::from_bytes(&model.to_bytes()).expect("loads");
    assert_eq!(evaluate(&loaded, &pairs(&test_rows)), eval);

    // Unknown labels and empty texts are counted, not fatal.
    let mut odd = pairs(&test_rows[..100]);
    odd.push(("my card is late", "not_a_banking77_intent"));
    odd.push(("", "card_arrival"));
    let e = evaluate(&model, &odd);
    assert_eq!((e.n, e.n_unknown(), e.featureless), (101, 1, 1));
    assert_eq!(e.unknown_labels["not_a_banking77_intent"], 1);
}

#[test]
fn banking77_themes_beat_tf_idf_kmeans() {
    let r = reference();
    let sk = &r["themes"];
    let test_rows = load("test.csv");
    let texts: Vec<&str> = test_rows.iter().map(|(t, _)| t.as_str()).collect();
    let config = ThemeConfig {
        k: 77,
        ..ThemeConfig::default()
    };
    let themes = discover_themes(&texts, None, &config).expect("themes");
    let mut cluster = vec![usize::MAX; texts.len()];
    for (c, t) in themes.iter().enumerate() {
        assert!(
            (3..=5).contains(&t.key_phrases.len()),
            "{:?}",
            t.key_phrases
        );
        assert_eq!(t.size, t.members.len());
        for &m in &t.members {
            cluster[m] = c;
        }
    }
    let mut ids = std::collections::HashMap::new();
    let gold: Vec<usize> = test_rows
        .iter()
        .map(|(_, l)| {
            let n = ids.len();
            *ids.entry(l.as_str()).or_insert(n)
        })
        .collect();
    let ari = metrics::adjusted_rand_index(&gold, &cluster);
    let nmi = metrics::normalized_mutual_info(&gold, &cluster);
    assert!(ari >= f(&sk["ari"]), "ARI {ari} < sklearn {}", sk["ari"]);
    assert!(nmi >= f(&sk["nmi"]), "NMI {nmi} < sklearn {}", sk["nmi"]);
}

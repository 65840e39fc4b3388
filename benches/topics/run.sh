#!/usr/bin/env bash
# Hearken topics vs scikit-learn on banking77, same machine, same run.
#
#   bash benches/topics/run.sh [BANKING77_DIR]
#   (default: the vendored copy, crates/hearken-topics/tests/data/banking77)
#
# Builds the release example `topics_bench` of hearken-topics, runs it and
# tools/reference/topics/sklearn_baseline.py --bench (its own venv), and prints both sets of
# figures and the ratios: train time, one-core prediction throughput (wall and CPU time),
# accuracy, macro-F1, calibration error, and theme ARI/NMI against TF-IDF + KMeans at k=77.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DATA="${1:-$ROOT/crates/hearken-topics/tests/data/banking77}"
OUT="$ROOT/benches/out/topics"
mkdir -p "$OUT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
cargo build --release -q -p hearken-topics --example topics_bench --manifest-path "$ROOT/Cargo.toml"
# Alternate the two sides so that a change in machine load hits both alike.
python3 "$ROOT/tools/reference/topics/sklearn_baseline.py" --bench --data "$DATA" > "$OUT/sklearn.json"
"$CARGO_TARGET_DIR/release/examples/topics_bench" "$DATA" > "$OUT/hearken.json"
python3 - "$OUT/hearken.json" "$OUT/sklearn.json" <<'PY'
import json, sys
h = json.load(open(sys.argv[1])); s = json.load(open(sys.argv[2]))
hc, sc, ht, st = h["classifier"], s["classifier"], h["themes"], s["themes"]
rows = [
    ("accuracy (banking77 test)", hc["accuracy"], sc["accuracy"], "{:.4f}"),
    ("macro-F1", hc["macro_f1"], sc["macro_f1"], "{:.4f}"),
    ("ECE (10 bins)", hc["ece"], sc["ece"], "{:.4f}"),
    ("train seconds (wall)", hc["train_seconds"], sc["train_seconds"], "{:.2f}"),
    ("train CPU seconds, all threads", hc["train_cpu_seconds"], sc["train_cpu_seconds"], "{:.2f}"),
    ("predict texts/s, 1 core (wall)", hc["predict_per_second"], sc["predict_per_second"], "{:.0f}"),
    ("predict texts/s, 1 core (CPU time)", hc["predict_per_cpu_second"], sc["predict_per_cpu_second"], "{:.0f}"),
    ("  label+probability only (wall)", hc["predict_label_per_second"], sc["predict_per_second"], "{:.0f}"),
    ("  label+probability only (CPU time)", hc["predict_label_per_cpu_second"], sc["predict_per_cpu_second"], "{:.0f}"),
    ("themes ARI, k=77 (test set)", ht["ari"], st["ari"], "{:.4f}"),
    ("themes NMI, k=77 (test set)", ht["nmi"], st["nmi"], "{:.4f}"),
    ("themes seconds", ht["seconds"], st["seconds"], "{:.2f}"),
]
print(f"{'figure':38} {'hearken':>12} {'sklearn':>12}")
for name, a, b, f in rows:
    print(f"{name:38} {f.format(a):>12} {f.format(b):>12}")
print()
print(f"train speed-up            {sc['train_seconds'] / hc['train_seconds']:.1f}x")
print(f"prediction speed-up (wall) {hc['predict_per_second'] / sc['predict_per_second']:.1f}x")
print(f"prediction speed-up (CPU)  {hc['predict_per_cpu_second'] / sc['predict_per_cpu_second']:.1f}x")
print(f"label+probability speed-up (wall / CPU) "
      f"{hc['predict_label_per_second'] / sc['predict_per_second']:.1f}x / "
      f"{hc['predict_label_per_cpu_second'] / sc['predict_per_cpu_second']:.1f}x")
print(f"accuracy difference       {100 * (hc['accuracy'] - sc['accuracy']):+.2f} points")
print(f"themes ARI / NMI ratio    {ht['ari'] / st['ari']:.2f} / {ht['nmi'] / st['nmi']:.2f}")
print(f"sklearn {s['sklearn_version']}, model {hc['n_features']} features, {hc['model_bytes']} bytes")
PY

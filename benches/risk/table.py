#!/usr/bin/env python3
"""Prints the markdown tables of docs/validation.md ("Customers at risk") from a run's
results.json (benches/risk/run.py writes it to benches/out/risk/results.json).

    python3 benches/risk/table.py [benches/out/risk/results.json]
"""

import json
import statistics
import sys

path = sys.argv[1] if len(sys.argv) > 1 else "benches/out/risk/results.json"
results = json.load(open(path))

print("| organisation | horizon | customers | churners | Hearken model | Hearken rules | held-out (own split) "
      "| scikit-learn cv | scikit-learn past | model - cv [90% CI] | model - past [90% CI] | churners warned before as-of | oracle AUC |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
leads = []
for name, r in results.items():
    spec = r["spec"]
    label = f"{name} (seed {spec[1]}, {spec[2]:,} customers, {spec[3]} months{', ' + ' '.join(f'{k} {v}' for k, v in spec[4].items()) if spec[4] else ''}; as of {spec[5]})"
    for h in r["hearken"]["horizons"]:
        H = str(h["horizon_days"])
        p = r["peer"][H]
        d = r["paired"][H]
        held = (h.get("held_out") or {}).get("auc")
        f = lambda x: "-" if x is None else f"{x:.3f}"
        ci = lambda v: f"{v[0]:+.3f} [{v[1]:+.3f}, {v[2]:+.3f}]"
        print(f"| {label if H == '30' else ''} | {H} d | {h['customers']:,} | {h['churners']} | {f(h.get('model_auc'))} "
              f"| {f(h['rules_auc'])} | {f(held)} | {f(p['cv_auc'])} | {f(p['past_auc'])} | {ci(d['minus_cv'])} "
              f"| {ci(d['minus_past'])} | {p['churners_warned_before_as_of']:.2f} | {f(p['warning_oracle_auc'])} |")
        if "lead_time_model" in h:
            lm, lr = h["lead_time_model"], h["lead_time_rules"]
            leads.append((name, lm, lr))
print()
print("| organisation | churners after as-of (watched 60 d) | warned by the model | median lead (model) | quartiles | warned by the rules | median lead (rules) |")
print("|---|---|---|---|---|---|---|")
for name, lm, lr in leads:
    q = lm.get("quartile_days") or [None, None]
    print(f"| {name} | {lm['churners']} | {lm['warned']} | {lm['median_days']} d | {q[0]}-{q[1]} d | {lr['warned']} | {lr['median_days']} d |")
print()
print("median of the organisations' median lead times (model):",
      statistics.median([lm["median_days"] for _, lm, _ in leads if lm["median_days"] is not None]))

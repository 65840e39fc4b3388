"""Whether two runs of benches/spark gave the same partials.

    python3 compare.py REFERENCE_DIR OTHER_DIR

Each directory holds sentiment_by_segment.tsv, pareto_by_product.tsv and trends_week_topic.tsv
(sorted lines). Counts must be equal; the compound sums (the last column of the sentiment file,
sums of doubles in each engine's own order) within a relative 1e-9. Prints `same` or the first
difference and exits 1.
"""
import os
import sys

FILES = ["sentiment_by_segment.tsv", "pareto_by_product.tsv", "trends_week_topic.tsv"]


def main():
    a, b = sys.argv[1], sys.argv[2]
    for name in FILES:
        la = open(os.path.join(a, name)).read().splitlines()
        lb = open(os.path.join(b, name)).read().splitlines()
        if len(la) != len(lb):
            print(f"{name}: {len(la)} lines against {len(lb)}")
            sys.exit(1)
        for x, y in zip(la, lb):
            fx, fy = x.split("\t"), y.split("\t")
            if name == "sentiment_by_segment.tsv":
                sx, sy = float(fx.pop()), float(fy.pop())
                if abs(sx - sy) > 1e-9 * max(1.0, abs(sx)):
                    print(f"{name}: sum {sx!r} against {sy!r} in {x!r}")
                    sys.exit(1)
            if fx != fy:
                print(f"{name}: {x!r} against {y!r}")
                sys.exit(1)
    print("same")


if __name__ == "__main__":
    main()

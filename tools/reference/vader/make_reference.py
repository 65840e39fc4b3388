#!/usr/bin/env python3
"""Write the VADER reference fixture that hearken-text's tests compare against.

Runs Python vaderSentiment 3.3.2 (the independent implementation) on every text of the ICWSM-2014
ground truth (23,703 texts) plus a short list of edge cases below, and writes
crates/hearken-text/tests/data/vader_reference.jsonl.gz, one JSON object per text:

  {"set": "tweets", "id": "1", "text": "...",
   "json": "{\"neg\":0.0,\"neu\":0.508,\"pos\":0.492,\"compound\":0.4404}",
   "raw": ["0.0", "0.5081...", "0.4918...", "0.44036..."]}

"json" is `json.dumps(polarity_scores(text), separators=(",", ":"))`, i.e. Python's rounding and
float repr. "raw" is the same four numbers (neg, neu, pos, compound) before `round()`, as repr
strings, so the Rust test can also check that the unrounded doubles are bit-identical.

It also writes crates/hearken-text/tests/data/py_round_reference.tsv: `x TAB digits TAB
repr(round(x, digits))` for random doubles, exact binary ties and their neighbours, so the Rust
port of Python's round() and float repr is checked on its own.

And crates/hearken-text/tests/data/vader_constants.json: the module's word lists and constants
(NEGATE, BOOSTER_DICT, SPECIAL_CASES, B_INCR, B_DECR, C_INCR, N_SCALAR), which the Rust port
writes out by hand and the test checks against.

Usage (from the repo root; creates tools/reference/.venv-vader on first run):
    python3 tools/reference/vader/make_reference.py [--data DIR]

DIR holds icwsm2014_ground_truth/*_GroundTruth.txt; the default is the vendored copy in
tools/reference/vader/data (MIT, see its README.md).

Python 3.11 matters: from 3.12 on, sum() of floats uses compensated summation, which changes the
last bits of some raw sums (never seen to change a rounded score, but the raw check would notice).
"""
import argparse
import gzip
import json
import os
import subprocess
import sys
import venv

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
VENV = os.path.join(REPO, "tools", "reference", ".venv-vader")
DATA_OUT = os.path.join(REPO, "crates", "hearken-text", "tests", "data")
OUT = os.path.join(DATA_OUT, "vader_reference.jsonl.gz")
ROUND_OUT = os.path.join(DATA_OUT, "py_round_reference.tsv")
CONSTANTS_OUT = os.path.join(DATA_OUT, "vader_constants.json")
SETS = ["tweets", "movieReviewSnippets", "nytEditorialSnippets", "amazonReviewSnippets"]

# Inputs chosen to exercise every rule, including the odd corners of 3.3.2's behaviour. Only the
# inputs are written here; the expected scores come from running Python VADER on them.
EXTRA_CASES = [
    "",
    "   ",
    "!!!",
    "???",
    "?!?!",
    "...",
    "😁",
    "😁😁😁",
    "I love it😁so much",
    "© 2024 ACME®",
    "Catch utf-8 emoji such as 💘 and 💋 and 😁",
    "VADER is smart, handsome, and funny.",
    "VADER is smart, handsome, and funny!",
    "VADER is very smart, handsome, and funny.",
    "VADER is VERY SMART, handsome, and FUNNY.",
    "VADER is VERY SMART, handsome, and FUNNY!!!",
    "VADER is VERY SMART, uber handsome, and FRIGGIN FUNNY!!!",
    "VADER is not smart, handsome, nor funny.",
    "The book was good.",
    "At least it isn't a horrible book.",
    "The book was only kind of good.",
    "The plot was good, but the characters are uncompelling and the dialog is not great.",
    "Today SUX!",
    "Today only kinda sux! But I'll get by, lol",
    "Make sure you :) or :D today!",
    "Not bad at all",
    "Sentiment analysis has never been good.",
    "Sentiment analysis has never been this good!",
    "Most automated sentiment analysis tools are shit.",
    "With VADER, sentiment analysis is the shit!",
    "Other sentiment analysis tools can be quite bad.",
    "On the other hand, VADER is quite bad ass",
    "VADER is such a badass!",
    "Without a doubt, excellent idea.",
    "Roger Dodger is one of the most compelling variations on this theme.",
    "Roger Dodger is at least compelling as a variation on the theme.",
    "Roger Dodger is one of the least compelling variations on this theme.",
    "Not such a badass after all.",
    "Without a doubt, an excellent idea.",
    "least good",
    "the least good",
    "very least good",
    "no good",
    "no no good",
    "no problem",
    "no",
    "good no",
    "no or nor good",
    "no, or good",
    "it is not so good",
    "never so good",
    "never this good",
    "so very good",
    "this is so very good",
    "without doubt good",
    "without any doubt good",
    "the bomb",
    "bus stop",
    "yeah right",
    "kiss of death",
    "to die for",
    "beating heart",
    "you are the shit man",
    "it was kind of good",
    "kind of good",
    "sort of bad",
    "just enough good",
    "kind",
    "good but bad",
    "good good but good good",
    "great and good but bad and great",
    "but",
    "good BUT bad",
    "bad, but, good",
    "love love love but hate hate hate",
    "GOOD",
    "GOOD bad",
    "VERY good",
    "very GOOD",
    "VERY bad",
    "not VERY good",
    "I don't like it",
    "I dont like it",
    "isn't it lovely?",
    "is it good??",
    "is it good????",
    "good!!!!!!",
    "bad!!!!!!",
    "good bad",
    "\tgood\u3000bad\x1cgreat\x85fine\u2028nice ",
    "good\u00a0bad",
    "\u212aiss me",
    "ǅdog good",
    "ÉNORME good",
    "ΣΊΣΥΦΟΣ good",
    "a-ok :-) ;) :( :-(",
    "'good' \"bad\" (great)",
    "--good-- ...bad... ok!",
    "uh-uh that's not cool",
    "hardly good",
    "the shit",
    "I am NOT happy",
    "no more lies",
    "0.5 good 1/16",
    "(: :) :D :P xD XD",
]


def ensure_venv():
    """Re-run this script inside tools/reference/.venv-vader with vaderSentiment==3.3.2."""
    py = os.path.join(VENV, "bin", "python")
    if os.path.abspath(sys.prefix) == os.path.abspath(VENV):
        return
    if not os.path.exists(py):
        venv.create(VENV, with_pip=True)
        subprocess.check_call([py, "-m", "pip", "install", "-q", "vaderSentiment==3.3.2"])
    os.execv(py, [py, os.path.abspath(__file__)] + sys.argv[1:])


def read_ground_truth(data_dir):
    rows = []
    for name in SETS:
        path = os.path.join(data_dir, "icwsm2014_ground_truth", f"{name}_GroundTruth.txt")
        with open(path, encoding="utf-8", newline="") as f:
            lines = f.read().split("\n")
        for line in lines:
            line = line.rstrip("\r")
            if not line:
                continue
            ident, _mean, text = line.split("\t", 2)
            rows.append((name, ident, text))
    return rows


def round_cases():
    """Doubles that probe round(x, 3) and round(x, 4): random ones, exact ties, their neighbours."""
    import math
    import random

    rng = random.Random(2014)
    xs = [rng.uniform(-1.0, 1.0) for _ in range(3000)]
    xs += [rng.uniform(-1.0, 1.0) * 10.0 ** -rng.randint(1, 8) for _ in range(500)]
    # k/16 .. k/128 include exact binary ties at 3 and 4 decimals; odd k/2000 and k/20000 are
    # decimal halves whose doubles sit just above or below the tie.
    fractions = [(k, d) for d in (16, 32, 64, 128) for k in range(-d, d + 1)]
    fractions += [(rng.randrange(-1000, 1000) * 2 + 1, 2000) for _ in range(400)]
    fractions += [(rng.randrange(-10000, 10000) * 2 + 1, 20000) for _ in range(400)]
    for k, denominator in fractions:
        x = k / denominator
        xs += [x, math.nextafter(x, 2.0), math.nextafter(x, -2.0)]
    xs += [0.0, -0.0, 1.0, -1.0, 0.0005, 0.0015, 0.00005, -0.00005, 0.00004, -0.00004, 2.675,
           0.99995, -0.99995, 0.9995, 5e-324, -5e-324, 1e-300, 2.2250738585072014e-308]
    seen = set()
    for x in xs:
        key = (math.copysign(1.0, x), abs(x))
        if key in seen:
            continue
        seen.add(key)
        for digits in (3, 4):
            yield x, digits, round(x, digits)


def main():
    ensure_venv()
    import vaderSentiment
    import vaderSentiment.vaderSentiment as vs_module
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=os.path.join(HERE, "data"))
    args = parser.parse_args()

    rows = read_ground_truth(args.data)
    assert len(rows) == 23703, len(rows)
    rows += [("extra", str(i), text) for i, text in enumerate(EXTRA_CASES)]

    analyzer = SentimentIntensityAnalyzer()
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    # mtime=0 keeps the gzip bytes stable across runs.
    with open(OUT, "wb") as raw_file, gzip.GzipFile(
        filename="", mode="wb", fileobj=raw_file, mtime=0
    ) as gz:
        for name, ident, text in rows:
            scores = analyzer.polarity_scores(text)
            # The same call with round() as the identity gives the unrounded doubles: the module
            # looks `round` up in its globals before the builtins.
            vs_module.round = lambda x, _n: x
            try:
                raw = analyzer.polarity_scores(text)
            finally:
                del vs_module.round
            record = {
                "set": name,
                "id": ident,
                "text": text,
                "json": json.dumps(scores, separators=(",", ":")),
                "raw": [repr(float(raw[k])) for k in ("neg", "neu", "pos", "compound")],
            }
            gz.write((json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8"))
    constants = {
        name: getattr(vs_module, name)
        for name in ("NEGATE", "BOOSTER_DICT", "SPECIAL_CASES", "B_INCR", "B_DECR", "C_INCR",
                     "N_SCALAR")
    }
    with open(CONSTANTS_OUT, "w", encoding="utf-8", newline="\n") as f:
        json.dump(constants, f, indent=1, sort_keys=True)
        f.write("\n")
    with open(ROUND_OUT, "w", encoding="utf-8", newline="\n") as f:
        count = 0
        for x, digits, rounded in round_cases():
            f.write(f"{x!r}\t{digits}\t{rounded!r}\n")
            count += 1
    print(f"wrote {count} round() cases to {os.path.relpath(ROUND_OUT, REPO)}")
    print(f"wrote {len(rows)} texts to {os.path.relpath(OUT, REPO)} "
          f"(vaderSentiment {getattr(vaderSentiment, '__version__', '3.3.2')}, "
          f"Python {sys.version.split()[0]})")


if __name__ == "__main__":
    main()

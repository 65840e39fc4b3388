#!/usr/bin/env python3
"""Scores every text fragment of the hearken-gen catalogue with the Python VADER (the reference
implementation, vaderSentiment on PyPI) and writes tests/data/vader_phrases.json, which the Rust
tests read to check that positive phrases are clearly positive, negative ones clearly negative and
topic facts close to neutral. Rerun after editing data/phrases.txt or data/topics.txt:

    python3 crates/hearken-gen/tools/vader_phrases.py
"""
import json
import pathlib
import subprocess
import sys

CRATE = pathlib.Path(__file__).resolve().parent.parent
ROOT = CRATE.parent.parent
VENV = ROOT / "tools" / "reference" / ".venv-vader"
PIN = "vaderSentiment==3.3.2"


def ensure_venv():
    py = VENV / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", PIN], check=True)
    return py


def fragments():
    sections, cur = {}, None
    for line in (CRATE / "data" / "phrases.txt").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            cur = line[1:-1]
            sections[cur] = []
        else:
            sections[cur].append(line)
    aspects = [l.split("=", 1)[1] for l in sections.pop("aspect_words")]
    out = {}
    for name, lines in sections.items():
        for l in lines:
            if "{aspect}" in l:
                for a in aspects:
                    out[l.replace("{aspect}", a)] = name
            else:
                out[l] = name
    for line in (CRATE / "data" / "topics.txt").read_text().splitlines():
        for key in ("fact ", "ask ", "idea "):
            if line.startswith(key):
                out[line[len(key):]] = "topic_" + key.strip()
    return out


def main():
    if "--inner" not in sys.argv:
        py = ensure_venv()
        subprocess.run([str(py), __file__, "--inner"], check=True)
        return
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    sia = SentimentIntensityAnalyzer()
    frags = fragments()
    scores = {t: round(sia.polarity_scores(t)["compound"], 4) for t in sorted(frags)}
    dest = CRATE / "tests" / "data" / "vader_phrases.json"
    dest.write_text(json.dumps({"reference": PIN, "compound": scores}, indent=1, sort_keys=True) + "\n")
    for t in sorted(frags, key=lambda t: (frags[t], scores[t])):
        print(f"{frags[t]:>22} {scores[t]:+.3f}  {t}")


if __name__ == "__main__":
    main()

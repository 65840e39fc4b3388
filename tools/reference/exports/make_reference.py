#!/usr/bin/env python3
"""Expected figures for the real-export fixtures (crates/hearken-cli/tests/data/exports).

Reads every fixture independently of Hearken, with pandas (2.2.3) and explicit settings for each
file (encoding, separator, line terminator, decimal and thousands separators, header rows), applies
the analyst's rules written below (which rows are customer signals, which are skipped or routed,
which must be quarantined and why), and computes the figures Hearken reports: counts per
channel and kind, NPS and CSAT with n, net sentiment with Python vaderSentiment 3.3.2, top
customers by contacts, sums and means of a decimal-comma column. Writes expected.json beside the
fixtures; commit it. The Rust tests need no Python.

Line numbers are physical lines of the file (1 = the header) at the line where the record
starts, counted as an editor or `grep -n` counts them: every LF ends a line (in a CRLF file too,
where a quoted field may hold a bare LF); in a file whose lines end with a bare CR only, each CR.

Usage (from the repo root; creates tools/reference/.venv-exports on first run):
    python3 tools/reference/exports/make_reference.py
"""
import collections
import datetime as dt
import io
import json
import os
import re
import subprocess
import sys
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
DATA = os.path.join(REPO, "crates", "hearken-cli", "tests", "data", "exports")
VENV = os.path.join(REPO, "tools", "reference", ".venv-exports")
REQUIREMENTS = ["pandas==2.2.3", "numpy==2.2.6", "vaderSentiment==3.3.2", "openpyxl==3.1.5"]


def ensure_venv():
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV):
        return
    py = os.path.join(VENV, "bin", "python")
    if not os.path.exists(py):
        subprocess.check_call([sys.executable, "-m", "venv", VENV])
        subprocess.check_call([py, "-m", "pip", "install", "-q", *REQUIREMENTS])
    os.execv(py, [py, *sys.argv])


ensure_venv()

import pandas as pd  # noqa: E402
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer  # noqa: E402

VADER = SentimentIntensityAnalyzer()


def path(name):
    return os.path.join(DATA, name)


# What ends a physical line in an LF or CRLF file (see the module's docstring).
LF = b"\n"


def record_lines(data: bytes, terminator: bytes, quote=b'"'):
    """The physical line (1-based) on which each CSV record starts, RFC 4180 quoting, counting
    only `terminator` as a line break. Independent of any CSV library."""
    starts = []
    line = 1
    i = 0
    n = len(data)
    in_quotes = False
    at_record_start = True
    t = terminator
    while i < n:
        if at_record_start:
            starts.append(line)
            at_record_start = False
        c = data[i:i + 1]
        if in_quotes:
            if c == quote:
                if data[i + 1:i + 2] == quote:
                    i += 2
                    continue
                in_quotes = False
            elif data.startswith(t, i):
                line += 1
                i += len(t)
                continue
            i += 1
            continue
        if c == quote:
            in_quotes = True
            i += 1
            continue
        if data.startswith(t, i):
            line += 1
            i += len(t)
            at_record_start = True
            continue
        i += 1
    return starts


def sentiment(texts):
    """Net sentiment as Hearken defines it: 100 * (share of compound >= 0.05 - share of
    compound <= -0.05) over the texts that are not blank."""
    pos = neg = neu = 0
    total = 0.0
    for t in texts:
        if t is None or not str(t).strip():
            continue
        c = VADER.polarity_scores(str(t))["compound"]
        total += c
        if c >= 0.05:
            pos += 1
        elif c <= -0.05:
            neg += 1
        else:
            neu += 1
    n = pos + neg + neu
    return {
        "n": n, "positive": pos, "neutral": neu, "negative": neg,
        "net_sentiment": None if n == 0 else round(100.0 * (pos - neg) / n, 6),
        "mean_compound": None if n == 0 else round(total / n, 6),
    }


def counts(series):
    c = collections.Counter(series)
    return dict(sorted(c.items()))


def top(series, k=5):
    """The k most frequent values, ties broken by the value (ascending text)."""
    c = collections.Counter(series)
    ranked = sorted(c.items(), key=lambda kv: (-kv[1], str(kv[0])))
    return [{"id": str(v), "contacts": n} for v, n in ranked[:k]]


def read_str_csv(name, **kw):
    return pd.read_csv(path(name), dtype=str, keep_default_na=False, **kw)


# ---------------------------------------------------------------------------------------------

def zendesk_csv():
    name = "zendesk_tickets.csv"
    df = read_str_csv(name, encoding="utf-8", sep=",", lineterminator=None)
    lines = record_lines(open(path(name), "rb").read(), LF)[1:]
    assert len(lines) == len(df)
    df["line"] = lines
    own = "northwind-broadband.example"
    skip = df["Requester domain"] == own
    sig = df[~skip]
    channel = sig["Via"].map({"Web form": "web", "Mail": "email", "Chat": "chat",
                              "Phone call (incoming)": "phone", "Twitter": "social",
                              "Facebook post": "social", "Web service (API)": "other"})
    assert channel.notna().all()
    kind = sig["Ticket type"].map({"Question": "question", "Incident": "complaint",
                                   "Problem": "complaint", "Task": "request", "": "other"})
    assert kind.notna().all()
    sat = counts(sig["Satisfaction Score"])
    good, bad = sat.get("Good", 0), sat.get("Bad", 0)
    at = pd.to_datetime(sig["Created at"], format="%Y-%m-%d %H:%M:%S", utc=True)
    return {
        "kind": "signals", "mapping": "zendesk_tickets.toml",
        "read_with": {"encoding": "utf-8", "sep": ",", "line_terminator": "CRLF"},
        "rows_read": len(df),
        "signals": len(sig),
        "duplicates": 0,
        "skipped": {
            "count": int(skip.sum()),
            "rule": f"Requester domain = {own} (the organisation's own staff and monitoring)",
            "lines": [int(x) for x in df.loc[skip, "line"]],
        },
        "quarantined": {"count": 0, "entries": []},
        "figures": {
            "signals_per_channel": counts(channel),
            "signals_per_kind": counts(kind),
            "signals_per_topic": counts(sig["Contact reason [list]"]),
            "top_customers": top(sig["Requester id"]),
            "top_customers_without_the_filter": top(df["Requester id"]),
            "satisfaction_score": sat,
            "zendesk_satisfaction_percent": round(100.0 * good / (good + bad), 6),
            "first_at_utc": at.min().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "last_at_utc": at.max().strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
    }


def zendesk_json():
    name = "zendesk_tickets.json"
    df = pd.read_json(path(name), lines=True, dtype=False)
    channel = df["via"].map(lambda v: v["channel"]).map(
        {"web": "web", "email": "email", "chat": "chat", "voice": "phone", "twitter": "social",
         "api": "other"})
    assert channel.notna().all()
    kind = df["type"].map(lambda v: "other" if v is None or v != v else
                          {"question": "question", "incident": "complaint",
                           "problem": "complaint", "task": "request"}[v])
    first_comment = df["comments"].map(lambda cs: cs[0]["body"])
    assert (first_comment == df["description"]).all()
    customer_comments = [c["body"] for cs, rid in zip(df["comments"], df["requester_id"])
                         for c in cs if c["author_id"] == rid]
    return {
        "kind": "signals", "mapping": "zendesk_tickets_json.toml",
        "read_with": {"format": "NDJSON, one ticket object per line", "encoding": "utf-8"},
        "rows_read": len(df),
        "signals": len(df),
        "duplicates": 0,
        "skipped": {"count": 0, "rule": None, "lines": []},
        "quarantined": {"count": 0, "entries": []},
        "figures": {
            "signals_per_channel": counts(channel),
            "signals_per_kind": counts(kind),
            "signals_per_topic": counts(df["custom_fields"].map(
                lambda fs: next((f["value"] for f in fs if f["id"] == 360012001), None))
                .dropna()),
            "top_customers": top(df["requester_id"]),
            "sentiment_of_descriptions": sentiment(df["description"]),
            "sentiment_of_all_customer_comments": sentiment(customer_comments),
            "satisfaction_rating": counts(df["satisfaction_rating"].map(lambda s: s["score"])),
            "final_status": counts(df["status"]),
            "comments": int(df["comments"].map(len).sum()),
        },
    }


def zendesk_events():
    name = "zendesk_ticket_events.json"
    page = json.load(open(path(name), encoding="utf-8"))
    ev = pd.json_normalize(page["ticket_events"])
    children = [c for e in page["ticket_events"] for c in e["child_events"]]
    ch = pd.DataFrame(children)
    # The reader's documented rule (crates/hearken-eventlog/src/zendesk.rs): one case event per
    # update that changes the status, the assignee or the group, or adds a comment.
    def is_event(e):
        return any(("status" in c or "assignee_id" in c or "group_id" in c
                    or c.get("event_type") == "Comment") for c in e["child_events"])
    events = [e for e in page["ticket_events"] if is_event(e)]
    statuses = [c["status"] for c in children if "status" in c]
    # Transfers: an assignee change that replaces a previous assignee.
    transfers = sum(1 for c in children if "assignee_id" in c and c.get("previous_value"))
    final = {}
    for e in sorted(page["ticket_events"], key=lambda e: (e["timestamp"], e["id"])):
        for c in e["child_events"]:
            if "status" in c:
                final[e["ticket_id"]] = c["status"]
    return {
        "kind": "case-events (hearken flow, Zendesk ticket events)",
        "read_with": {"format": "one incremental ticket_events page object", "encoding": "utf-8"},
        "rows_read": len(ev),
        "cases": int(ev["ticket_id"].nunique()),
        "case_events": len(events),
        "quarantined": {"count": 0, "entries": []},
        "figures": {
            "child_events_per_type": counts(ch["event_type"]),
            "comments": int((ch["event_type"] == "Comment").sum()),
            "public_comments": int(((ch["event_type"] == "Comment") & (ch["public"] == True)).sum()),  # noqa: E712
            "status_values_set": counts(statuses),
            "assignee_transfers": transfers,
            "final_status_per_case": counts(final.values()),
            "first_at_utc": min(e["created_at"] for e in events),
            "last_at_utc": max(e["created_at"] for e in events),
        },
    }


def qualtrics():
    name = "qualtrics_nps_csat.csv"
    raw = open(path(name), "rb").read()
    assert raw.startswith(b"\xef\xbb\xbf")
    header = pd.read_csv(path(name), encoding="utf-8-sig", nrows=3, dtype=str, header=None)
    import_ids = [json.loads(x) for x in header.iloc[2]]
    tz = {d.get("timeZone") for d in import_ids if "timeZone" in d}
    assert tz == {"America/Denver"}, tz
    df = read_str_csv(name, encoding="utf-8-sig", sep=",", skiprows=[1, 2])
    lines = record_lines(raw, LF)[3:]
    assert len(lines) == len(df)
    df["line"] = lines
    preview = df["Status"] == "Survey Preview"
    resp = df[~preview]
    csat_points = {"Very dissatisfied": 1, "Dissatisfied": 2,
                   "Neither satisfied nor dissatisfied": 3, "Satisfied": 4, "Very satisfied": 5}
    assert all(v == "" or v in csat_points for v in resp["Q2"]), set(resp["Q2"])
    csat = resp["Q2"].map(lambda v: csat_points.get(v) if v else None)
    nps = resp["Q1"].map(lambda v: int(v) if v else None)
    no_score = nps.isna() & csat.isna()
    quarantine = resp[no_score]
    ok = resp[~no_score]
    n_nps = ok["Q1"].map(lambda v: int(v) if v else None).dropna().astype(int)
    prom, det = int((n_nps >= 9).sum()), int((n_nps <= 6).sum())
    pas = len(n_nps) - prom - det
    # The export's own group column agrees with the scores.
    groups = ok.loc[ok["Q1"] != "", "Q1_NPS_GROUP"]
    assert counts(groups) == {"Detractor": det, "Passive": pas, "Promoter": prom}
    c = ok["Q2"].map(lambda v: csat_points.get(v) if v else None).dropna().astype(int)
    recorded = pd.to_datetime(ok["RecordedDate"], format="%Y-%m-%d %H:%M:%S") \
        .dt.tz_localize("America/Denver").dt.tz_convert("UTC")
    return {
        "kind": "surveys", "mapping": "qualtrics_nps_csat.toml",
        "read_with": {"encoding": "utf-8-sig", "sep": ",", "line_terminator": "CRLF",
                      "header_rows": 3, "time_zone": "America/Denver (ImportId row)"},
        "rows_read": len(df),
        "responses": len(ok),
        "duplicates": 0,
        "skipped": {
            "count": int(preview.sum()),
            "rule": "Status = Survey Preview (staff previews, DistributionChannel = preview)",
            "lines": [int(x) for x in df.loc[preview, "line"]],
        },
        "quarantined": {
            "count": len(quarantine),
            "entries": [{"line": int(r.line), "field": "nps",
                         "reason": "no score at all (opened and left before the first question)"}
                        for r in quarantine.itertuples()],
        },
        "figures": {
            "nps": {"n": len(n_nps), "promoters": prom, "passives": pas, "detractors": det,
                    "score": round(100.0 * (prom - det) / len(n_nps), 6)},
            "csat": {"n": len(c), "satisfied": int((c >= 4).sum()),
                     "percent_satisfied": round(100.0 * (c >= 4).sum() / len(c), 6),
                     "mean": round(float(c.mean()), 6)},
            "comment_sentiment": sentiment(ok["Q3_TEXT"]),
            "responses_with_customer": int((ok["ExternalReference"] != "").sum()),
            "partial_responses_kept": int((ok["Finished"] == "False").sum()),
            "responses_per_month_utc": counts(recorded.dt.strftime("%Y-%m")),
            "first_at_utc": recorded.min().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "last_at_utc": recorded.max().strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
    }


def twitter():
    name = "twitter_support.csv"
    df = read_str_csv(name, encoding="utf-8", sep=",")
    lines = record_lines(open(path(name), "rb").read(), b"\n")[1:]
    assert len(lines) == len(df)
    df["line"] = lines
    at = pd.to_datetime(df["created_at"], format="%a %b %d %H:%M:%S %z %Y", utc=True)
    inbound = df["inbound"] == "True"
    assert set(df["inbound"]) == {"True", "False"}
    cust = df[inbound]
    brand = df[~inbound]
    addressed = cust["text"].map(lambda t: re.match(r"@(\w+)", t).group(1))
    roots = cust[cust["in_response_to_tweet_id"] == ""]
    return {
        "kind": "signals", "mapping": "twitter_support.toml",
        "read_with": {"encoding": "utf-8", "sep": ",", "line_terminator": "LF",
                      "date_format": "%a %b %d %H:%M:%S %z %Y"},
        "rows_read": len(df),
        "signals": len(cust),
        "duplicates": 0,
        "skipped": {
            "count": len(brand),
            "rule": "inbound = False: the brands' own replies; route to case events "
                    "(or skip), never customer signals",
            "lines": [int(x) for x in brand["line"]],
        },
        "quarantined": {"count": 0, "entries": []},
        "figures": {
            "customer_sentiment": sentiment(cust["text"]),
            "sentiment_of_every_row_the_wrong_figure": sentiment(df["text"]),
            "top_customers": top(cust["author_id"]),
            "top_authors_without_the_filter": top(df["author_id"]),
            "signals_per_brand_addressed": counts(addressed),
            "brand_replies_per_brand": counts(brand["author_id"]),
            "conversations": len(roots),
            "distinct_customers": int(cust["author_id"].nunique()),
            "first_at_utc": at.min().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "last_at_utc": at.max().strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
    }


def windows1252():
    name = "windows1252_contacts.csv"
    raw = open(path(name), "rb").read()
    try:
        raw.decode("utf-8")
        raise AssertionError("the fixture must not be valid UTF-8")
    except UnicodeDecodeError as e:
        first_bad = {"offset": e.start, "byte": f"0x{raw[e.start]:02X}"}
    df = read_str_csv(name, encoding="cp1252", sep=",")
    lines = record_lines(raw, LF)[1:]
    df["line"] = lines
    at = pd.to_datetime(df["Received"], format="%d/%m/%Y %H:%M", utc=True)
    channel = df["Channel"].map({"E-mail": "email", "Telephone": "phone", "Web form": "web",
                                 "Chat": "chat", "Shop": "in_person"})
    assert channel.notna().all()
    rows_with_high_bytes = [int(l) for l, t in zip(df["line"], df["Message"])
                            if any(ord(ch) > 127 for ch in t)]
    return {
        "kind": "signals", "mapping": "windows1252_contacts.toml",
        "read_with": {"encoding": "cp1252", "sep": ",", "line_terminator": "CRLF",
                      "dates": "day first, %d/%m/%Y %H:%M"},
        "first_non_utf8_byte": first_bad,
        "rows_read": len(df),
        "signals": len(df),
        "duplicates": 0,
        "skipped": {"count": 0, "rule": None, "lines": []},
        "quarantined": {"count": 0, "entries": []},
        "figures": {
            "signals_per_channel": counts(channel),
            "signals_per_kind": counts(df["Type"]),
            "sentiment": sentiment(df["Message"]),
            "texts_with_euro_sign": int(df["Message"].str.contains("€").sum()),
            "lines_whose_text_is_not_ascii": rows_with_high_bytes,
            "customer_names": sorted(set(df["Customer name"])),
            "text_of_first_row": df["Message"].iloc[0],
            "first_at_utc": at.min().strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
    }


GROUPED = re.compile(r"^\d{1,3}(\.\d{3})+(,\d+)?$")
PLAIN = re.compile(r"^\d+(,\d+)?$")


def european():
    name = "european_customers.csv"
    raw = open(path(name), "rb").read()
    df = read_str_csv(name, encoding="utf-8-sig", sep=";")
    df["line"] = record_lines(raw, LF)[1:]
    col = "Jahresumsatz (EUR)"
    entries = []
    bad = set()
    for idx, line, v, since_text in zip(df.index, df["line"], df[col], df["Kunde seit"]):
        if v and not (GROUPED.match(v) or PLAIN.match(v)):
            reason = ("uses ',' for thousands and '.' for decimals, but the mapping says "
                      "decimal ',' and thousands '.'" if re.match(r"^\d{1,3}(,\d{3})+\.\d+$", v)
                      else "a thousands group must have three digits")
            entries.append({"line": int(line), "field": "value_per_year", "value": v,
                            "reason": reason})
            bad.add(idx)
        since = pd.to_datetime(since_text, format="%d.%m.%Y", errors="coerce")
        if pd.isna(since):
            entries.append({"line": int(line), "field": "customer_since", "value": since_text,
                            "reason": "is not a date"})
            bad.add(idx)
    entries.sort(key=lambda e: e["line"])
    good = df.drop(index=sorted(bad))
    # pandas' own decimal/thousands parsing of the good rows, checked against the strict rule.
    parsed = pd.read_csv(io.StringIO(good.drop(columns=["line"]).to_csv(sep=";", index=False)),
                         sep=";", decimal=",", thousands=".")
    values = pd.to_numeric(parsed[col], errors="raise")
    strict = good[col].map(lambda v: float(v.replace(".", "").replace(",", ".")) if v else None)
    assert all((pd.isna(a) and pd.isna(b)) or abs(a - b) < 1e-9
               for a, b in zip(values, strict)), list(zip(values, strict))
    present = values.dropna()
    segment = good["Segment"].map({"Privat": "consumer", "Geschäft": "business",
                                   "Großkunde": "enterprise"})
    return {
        "kind": "customers", "mapping": "european_customers.toml",
        "read_with": {"encoding": "utf-8-sig", "sep": ";", "decimal": ",", "thousands": ".",
                      "line_terminator": "CRLF", "dates": "%d.%m.%Y"},
        "rows_read": len(df),
        "customers": len(good),
        "duplicates": 0,
        "skipped": {"count": 0, "rule": None, "lines": []},
        "quarantined": {"count": len(bad), "entries": entries},
        "figures": {
            "value_per_year": {"n": int(len(present)), "blank": int(values.isna().sum()),
                               "sum": round(float(present.sum()), 6),
                               "mean": round(float(present.mean()), 6),
                               "max": round(float(present.max()), 6),
                               "min": round(float(present.min()), 6)},
            "value_of_customer_DE-40112": float(strict[good["Kundennummer"] == "DE-40112"].iloc[0]),
            "customers_per_segment": counts(segment),
            "white_glove": int((good["Premium"] == "ja").sum()),
        },
    }


def old_mac():
    name = "old_mac_cr.csv"
    raw = open(path(name), "rb").read()
    assert b"\n" not in raw
    df = read_str_csv(name, encoding="utf-8", sep=",", lineterminator="\r")
    # pandas' C parser with lineterminator="\r" would also split the quoted CR: read the quoted
    # field with the csv module, which keeps it.
    import csv
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))
    header, body = rows[0], rows[1:]
    texts = [r[5] for r in body]
    cr_rows = [r[0] for r in body if "\r" in r[5]]
    return {
        "kind": "signals", "mapping": None,
        "read_with": {"encoding": "utf-8", "sep": ",", "line_terminator": "CR"},
        "rows_read": len(body),
        "signals": len(body),
        "pandas_rows_with_lineterminator_cr": len(df),
        "duplicates": 0,
        "skipped": {"count": 0, "rule": None, "lines": []},
        "quarantined": {"count": 0, "entries": []},
        "figures": {
            "signals_per_channel": counts(r[2] for r in body),
            "record_lines": record_lines(raw, b"\r")[1:],
            "texts_with_a_cr": {sid: t for sid, t in zip((r[0] for r in body), texts) if "\r" in t},
            "signal_ids": [r[0] for r in body],
            "cr_rows": cr_rows,
        },
    }


def bare_cr():
    name = "bare_cr_in_field.csv"
    raw = open(path(name), "rb").read()
    df = read_str_csv(name, encoding="utf-8", sep=",", lineterminator="\n")
    return {
        "kind": "signals", "mapping": None,
        "read_with": {"encoding": "utf-8", "sep": ",", "line_terminator": "LF",
                      "note": "the file's line ending is LF; a bare CR inside an unquoted field "
                              "is part of the field, never a record end"},
        "rows_read": len(df),
        "signals": len(df),
        "duplicates": 0,
        "skipped": {"count": 0, "rule": None, "lines": []},
        "quarantined": {"count": 0, "entries": []},
        "figures": {
            "record_lines": record_lines(raw, b"\n")[1:],
            "texts_with_a_cr": {r.signal_id: r.text for r in df.itertuples() if "\r" in r.text},
            "signals_per_channel": counts(df["channel"]),
        },
    }


def excel():
    name = "excel_workbook_renamed.csv"
    raw = open(path(name), "rb").read()
    assert raw[:4] == b"PK\x03\x04"
    names = zipfile.ZipFile(io.BytesIO(raw)).namelist()
    book = pd.read_excel(path(name), engine="openpyxl", sheet_name=None, dtype=str)
    return {
        "kind": "signals", "mapping": None,
        "expected": "a file-level error before any row: the file is an Excel workbook (.xlsx, a "
                    "zip archive), not CSV; it must say so and say to save it as CSV (UTF-8)",
        "rows_read": 0,
        "signals": 0,
        "quarantined": {"count": 0, "entries": []},
        "figures": {
            "magic": "PK\\x03\\x04",
            "has_xl_workbook_xml": "xl/workbook.xml" in names,
            "sheets": {k: len(v) for k, v in book.items()},
        },
    }


def cfpb():
    name = "cfpb_complaints.csv"
    df = read_str_csv(name, encoding="utf-8", sep=",")
    raw = open(path(name), "rb").read()
    df["line"] = record_lines(raw, b"\n")[1:]
    channel = df["Submitted via"].map({"Web": "web", "Web Referral": "web", "Referral": "other",
                                       "Phone": "phone", "Postal mail": "other", "Fax": "other",
                                       "Email": "email"})
    assert channel.notna().all()
    narr = df["Consumer complaint narrative"]
    at = pd.to_datetime(df["Date received"], format="%Y-%m-%d", utc=True)
    return {
        "kind": "signals", "mapping": "cfpb_complaints.toml",
        "read_with": {"encoding": "utf-8", "sep": ",", "line_terminator": "LF"},
        "rows_read": len(df),
        "signals": len(df),
        "duplicates": 0,
        "skipped": {"count": 0, "rule": None, "lines": []},
        "quarantined": {"count": 0, "entries": []},
        "figures": {
            "physical_lines": raw.count(b"\n"),
            "signals_per_channel": counts(channel),
            "signals_per_kind": {"complaint": len(df)},
            "top_products": top(df["Product"]),
            "top_issues": top(df["Issue"]),
            "top_companies": top(df["Company"]),
            "narratives": int((narr != "").sum()),
            "narratives_with_line_breaks": int(narr.str.contains("\n").sum()),
            "longest_narrative_chars": int(narr.str.len().max()),
            "narrative_sentiment": sentiment(narr),
            "first_at_utc": at.min().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "last_at_utc": at.max().strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
    }


def main():
    import vaderSentiment
    out = {
        "generated_by": "tools/reference/exports/make_reference.py",
        "pandas": pd.__version__,
        "vaderSentiment": "3.3.2",
        "python": sys.version.split()[0],
        "conventions": {
            "lines": "physical lines of the file, 1 = the first header line, at the record's "
                     "start, counted as an editor or grep -n counts them: every LF ends a line "
                     "(CRLF files too); in a file of bare CR line ends, every CR",
            "net_sentiment": "100 * (share of VADER compound >= 0.05 - share <= -0.05) over "
                             "non-blank texts; every fixture text is English",
            "top": "most contacts first, ties by id as text",
            "reconcile": "rows_read = stored + duplicates + quarantined + skipped",
        },
        "fixtures": {
            "zendesk_tickets.csv": zendesk_csv(),
            "zendesk_tickets.json": zendesk_json(),
            "zendesk_ticket_events.json": zendesk_events(),
            "qualtrics_nps_csat.csv": qualtrics(),
            "twitter_support.csv": twitter(),
            "windows1252_contacts.csv": windows1252(),
            "european_customers.csv": european(),
            "old_mac_cr.csv": old_mac(),
            "bare_cr_in_field.csv": bare_cr(),
            "excel_workbook_renamed.csv": excel(),
            "cfpb_complaints.csv": cfpb(),
        },
    }
    assert vaderSentiment  # the pinned version is installed by ensure_venv
    with open(path("expected.json"), "w", encoding="utf-8", newline="\n") as f:
        json.dump(out, f, indent=1, ensure_ascii=False, sort_keys=False)
        f.write("\n")
    print("wrote", os.path.relpath(path("expected.json"), REPO))


if __name__ == "__main__":
    main()

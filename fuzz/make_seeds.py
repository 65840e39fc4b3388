#!/usr/bin/env python3
"""Writes fuzz/seeds/<target>/ from the repository's test fixtures (run from anywhere; standard
library only). Each seed is at most 4 KiB (cut at a line end) so the fuzzer's inputs stay small.
The first byte of a row-reader seed selects the kind, the mapping and the file extension the
same way the targets do (fuzz/src/lib.rs)."""
import gzip
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SEEDS = os.path.join(HERE, "seeds")
EXPORTS = os.path.join(REPO, "crates", "hearken-cli", "tests", "data", "exports")
EVENTLOG = os.path.join(REPO, "crates", "hearken-eventlog", "tests", "data")
KINDS = ["customers", "products", "agents", "signals", "surveys", "case-events"]
LIMIT = 4096


def cut(data, limit=LIMIT):
    if len(data) <= limit:
        return data
    end = data.rfind(b"\n", 0, limit)
    return data[: end + 1] if end > 0 else data[:limit]


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def selector(kind, mapping, tsv=False):
    """A first byte that the targets read as (kind, mapping, extension)."""
    for b in range(256):
        if KINDS[b % 6] == kind and (b >> 3) % 5 == mapping and bool(b & 0x80) == tsv:
            return bytes([b])
    raise ValueError((kind, mapping, tsv))


def put(target, name, data):
    d = os.path.join(SEEDS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


CANONICAL = {
    "customers": b"customer_id,name,segment,persona,customer_since,value_per_year,white_glove,churned_at\n"
                 b"C1,Ann,smb,pragmatist,2020-01-01,1200.50,true,\nC2,Bob,enterprise,,2021-06-30,90000,no,2024-02-01\n",
    "products": b"product_id,name,category\nP1,Router,hardware\nP2,Fibre,subscription\n",
    "agents": b"agent_id,name,team\nA1,Cleo,billing\nA2,Dan,tech\n",
    "signals": b"signal_id,at,channel,kind,source,customer_id,product_id,case_id,agent_id,stage,topic,text\n"
               b"S1,2024-03-05T10:00:00Z,phone,complaint,customer,C1,P1,K1,A1,purchased,billing/double_charge,charged twice\n"
               b"S2,2024-03-06T11:00:00+01:00,e-mail,question,customer,C2,P2,,A2,implemented,,how do I\n"
               b"S3,2024-03-07,web,suggestion,employee,,,,A1,,,\"idea: a \"\"status\"\" page\"\n",
    "surveys": b"response_id,at,customer_id,product_id,case_id,agent_id,channel,nps,csat,ces,overall,aspect_service,aspect_price,comment\n"
               b"R1,2024-03-08,C1,P1,K1,A1,phone,9,5,6,8.5,9,7,great help\nR2,2024-03-09,C2,,,,,3,,,,,,\n",
    "case-events": b"event_id,case_id,at,activity,agent_id,team,text\n"
                   b"E1,K1,2024-03-05T10:00:00Z,new,A1,billing,\nE2,K1,2024-03-05T11:00:00Z,escalated,A2,tech,customer is angry\n",
}


def main():
    shutil.rmtree(SEEDS, ignore_errors=True)
    # Every input a fuzz run ever crashed on (fuzz/regressions/<target>/) stays a seed.
    regressions = os.path.join(HERE, "regressions")
    for target in sorted(os.listdir(regressions)) if os.path.isdir(regressions) else []:
        for name in sorted(os.listdir(os.path.join(regressions, target))):
            put(target, "regression-" + name, read(os.path.join(regressions, target, name)))
    # Row readers: the canonical files of every kind, and every export fixture.
    for kind, body in CANONICAL.items():
        put("csv_rows", f"canonical_{kind}", selector(kind, 0) + body)
        put("csv_rows", f"canonical_{kind}_semicolon",
            selector(kind, 1) + body.replace(b",", b";"))
        put("csv_rows", f"canonical_{kind}_tab", selector(kind, 3, True) + body.replace(b",", b"\t"))
    exports = {
        "zendesk_tickets.csv": ("signals", 0), "twitter_support.csv": ("signals", 2),
        "windows1252_contacts.csv": ("signals", 4), "european_customers.csv": ("customers", 1),
        "old_mac_cr.csv": ("signals", 0), "bare_cr_in_field.csv": ("signals", 0),
        "excel_workbook_renamed.csv": ("signals", 0), "cfpb_complaints.csv": ("signals", 0),
        "qualtrics_nps_csat.csv": ("surveys", 2),
    }
    for name, (kind, m) in exports.items():
        put("csv_rows", name, selector(kind, m) + cut(read(os.path.join(EXPORTS, name))))
    for name in ("running-example.csv", "helpdesk.events.csv.gz", "receipt.csv.gz"):
        put("csv_rows", name.split(".")[0] + "_events",
            selector("case-events", 0) + cut(read(os.path.join(EVENTLOG, name))))
    # JSON Lines.
    lines = read(os.path.join(EXPORTS, "zendesk_tickets.json")).split(b"\n")
    put("jsonl_rows", "zendesk_tickets", selector("signals", 0) + b"\n".join(lines[:1]) + b"\n")
    for kind, body in CANONICAL.items():
        rows = body.decode().split("\n")
        header = rows[0].split(",")
        out = []
        import csv, io, json
        for r in csv.reader(io.StringIO("\n".join(rows[1:]))):
            if r:
                out.append(json.dumps(dict(zip(header, r))))
        put("jsonl_rows", f"canonical_{kind}", selector(kind, 0) + ("\n".join(out) + "\n").encode())
    put("jsonl_rows", "aspects", selector("surveys", 0) +
        b'{"id":"R1","at":"2024-01-01","nps":9,"aspects":{"service":8,"price":7.5},"comment":null}\n')
    # Qualtrics: everything after the first header row.
    q = read(os.path.join(EXPORTS, "qualtrics_nps_csat.csv"))
    put("qualtrics_headers", "export", b"\x00" + cut(q[q.index(b"\n") + 1:]))
    put("qualtrics_headers", "export_bom", b"\x01" + cut(q[q.index(b"\n") + 1:]))
    put("qualtrics_headers", "no_question_row",
        b"\x00" + b"2024-02-20 09:00:00,2024-02-20 09:05:00,IP Address,,100,300,True,2024-02-20 09:05:00,R_1,,,,,,,email,EN,9,Promoter,Satisfied,ok\r\n")
    # Mapping files: the fixtures' and the README's.
    for name in sorted(os.listdir(EXPORTS)):
        if name.endswith(".toml"):
            put("mapping_toml", name, read(os.path.join(EXPORTS, name)))
    put("mapping_toml", "readme.toml", b'delimiter = ";"\ndate_order = "dmy"\ndate_format = "%d-%m-%Y %H:%M"\n'
        b'utc_offset_minutes = 60\n[columns]\nat = "Aangemaakt op"\ntext = "Omschrijving"\n'
        b'[aspects]\nservice = "Q5_1"\n[values.channel]\nTelefoon = "phone"\n[defaults]\nkind = "complaint"\n')
    # Dates and numbers.
    dates = ["2024-03-05", "2024-03-05T14:30:00Z", "2024-03-05T14:30:00.123+05:30", "2024-03-05 14:30",
             "25/03/2024", "03/04/2024", "25.03.2024", "25 Mar 2024", "Mar 25, 2024 10:00:00",
             "Tue, 05 Mar 2024 14:30:00 +0100", "Tue Oct 31 22:10:47 +0000 2017", "2024-02-30",
             "1709648400", "20240305143000", "9999-12-31T23:59:59Z", "0001-01-01", "-0001-01-01",
             "2024-W10-2", "24-03-05", "5 maart 2024"]
    for i, d in enumerate(dates):
        for sel in (0, 1, 2, 0x08 | 0x10 * (i % 7)):
            put("dates", f"d{i:02}_{sel:02x}", bytes([sel]) + d.encode())
    for i, n in enumerate(["10", " 0 ", "7,5", "7.5", "1.234,56", "1,234.56", "€1,200.50", "$ 12_000",
                           "1e3", "NaN", "inf", "-0", "0x10", "11", "-1", "5.0", "yes", "ja", ""]):
        put("numbers", f"n{i:02}", n.encode())
    # Event logs.
    put("xes", "running_example", b"\x00" + read(os.path.join(EVENTLOG, "running-example.xes")))
    put("xes", "running_example_partial", b"\x01" + read(os.path.join(EVENTLOG, "running-example.xes"))[:2500])
    for name in ("helpdesk.xes.gz", "receipt.xes.gz"):
        put("xes", name.split(".")[0], b"\x01" + cut(read(os.path.join(EVENTLOG, name))))
    put("zendesk_events", "eventlog_fixture", read(os.path.join(EVENTLOG, "zendesk_ticket_events.json")))
    put("zendesk_events", "export_page", cut(read(os.path.join(EXPORTS, "zendesk_ticket_events.json"))))
    ev = read(os.path.join(EVENTLOG, "zendesk_ticket_events.json"))
    import json
    page = json.loads(ev)
    put("zendesk_events", "array", json.dumps(page["ticket_events"][:3]).encode())
    put("zendesk_events", "jsonl", b"\n".join(json.dumps(e).encode() for e in page["ticket_events"][:3]) + b"\n")
    for name in ("running-example.csv", "helpdesk.events.csv.gz", "receipt.csv.gz"):
        put("eventlog_csv", name.split(".")[0], cut(read(os.path.join(EVENTLOG, name))))
    put("eventlog_csv", "canonical", CANONICAL["case-events"])
    total = sum(len(fs) for _, _, fs in os.walk(SEEDS))
    print(f"{total} seeds in {os.path.relpath(SEEDS, REPO)}")


if __name__ == "__main__":
    main()

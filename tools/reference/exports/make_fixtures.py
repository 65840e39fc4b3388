#!/usr/bin/env python3
"""Write the real-export fixtures of crates/hearken-cli/tests/data/exports.

Every file is in the exact shape of a real export (column names, header rows, value forms,
encodings, line endings) as public documentation or a public data set defines it; see
PROVENANCE.md beside the fixtures for the source of each shape. The rows are written here
(a fictional broadband and mobile provider, "Northwind", with example.com-style domains),
except cfpb_complaints.csv, which is a slice of real CFPB complaints (CC0) copied byte for
byte, field for field, from the project's data folder.

Deterministic: the same script writes the same bytes (fixed seeds, fixed workbook times).
The expected figures are NOT written here: tools/reference/exports/make_reference.py reads the
files back independently with pandas and writes expected.json.

Usage (from the repo root; creates tools/reference/.venv-exports on first run, for openpyxl):
    python3 tools/reference/exports/make_fixtures.py [--cfpb PATH/complaints_sample.csv.gz]

--cfpb is needed only to re-cut the CFPB slice; without it the committed slice is kept.
"""
import argparse
import csv
import datetime as dt
import gzip
import io
import json
import os
import random
import subprocess
import sys
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
OUT = os.path.join(REPO, "crates", "hearken-cli", "tests", "data", "exports")
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


def write_bytes(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def csv_text(rows, delimiter=",", lineterminator="\n"):
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator=lineterminator,
                   quoting=csv.QUOTE_MINIMAL)
    for r in rows:
        w.writerow(r)
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------
# The organisation: people, products, what customers write.

FIRST = ["Olivia", "Liam", "Emma", "Noah", "Ava", "Oliver", "Sophia", "Elijah", "Isabella",
         "James", "Mia", "Lucas", "Amelia", "Mason", "Harper", "Ethan", "Evelyn", "Logan",
         "Abigail", "Aiden", "Ella", "Jacob", "Grace", "Samuel", "Chloe", "Daniel", "Zoe",
         "Henry", "Nora", "Jack", "Leah", "Owen", "Hannah", "Ryan", "Aria", "Nathan"]
LAST = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
        "Wilson", "Anderson", "Taylor", "Thomas", "Moore", "Martin", "Jackson", "Thompson",
        "White", "Harris", "Clark", "Lewis", "Walker", "Young", "Allen", "King", "Wright",
        "Scott", "Green", "Baker", "Adams", "Nelson", "Hill", "Campbell"]
AGENTS = [("Priya Nair", 381001, "Tier 1"), ("Tom Becker", 381002, "Tier 1"),
          ("Ana Souza", 381003, "Billing"), ("Kofi Mensah", 381004, "Billing"),
          ("Lena Vogel", 381005, "Technical"), ("Marco Rossi", 381006, "Technical")]
GROUP_IDS = {"Tier 1": 360101, "Billing": 360102, "Technical": 360103}
STAFF = [("Rachel Ops", 381101), ("Dev Monitoring", 381102), ("Hiro Sales", 381103)]

# (topic, type, subject, description) written for these fixtures.
TICKETS = [
    ("billing", "incident", "Charged twice this month",
     "Hi, I was charged twice for my Fibre 500 plan this month. Please refund the second "
     "payment, this is the second time it happens and I am really annoyed."),
    ("billing", "question", "Question about my invoice",
     "Hello, my invoice shows a 'line rental' item I don't recognise. Can you explain what it "
     "is for?"),
    ("billing", "incident", "Direct debit failed although money was there",
     "My direct debit failed and now I have a late fee. There was enough money in my "
     "account. Please remove the fee."),
    ("billing", "question", "How do I get a VAT invoice?",
     "Could you send me an invoice with our VAT number on it? We use the line for our small "
     "office."),
    ("outage", "incident", "Internet down since this morning",
     "Our internet has been down since 7am. The router shows a red light. I work from home "
     "and this is costing me money!"),
    ("outage", "incident", "Connection drops every evening",
     "The connection drops every evening between 8 and 10pm. It is unusable for video calls. "
     "Very frustrating."),
    ("outage", "problem", "Whole street without service",
     "Nobody in our street has internet since the roadworks yesterday. When will it be "
     "fixed?"),
    ("speed", "incident", "Speed far below what I pay for",
     "I pay for 1000 Mbit but speed tests show 80 Mbit at best, wired. This is not what I "
     "signed up for."),
    ("speed", "question", "Which router settings for best wifi?",
     "Which channel should I use on the router to get better wifi upstairs? Thanks!"),
    ("installation", "question", "When is my installation appointment?",
     "I ordered Fibre 1000 two weeks ago and still have no installation date. Can you tell "
     "me when the engineer comes?"),
    ("installation", "incident", "Engineer did not show up",
     "I took a day off work and the engineer never came. Nobody called. Terrible service."),
    ("installation", "question", "Can I move the socket myself?",
     "Am I allowed to move the fibre socket to another room, or does an engineer have to do "
     "it?"),
    ("cancellation", "question", "How do I cancel my contract?",
     "I am moving abroad in June. How do I cancel and what does it cost?"),
    ("cancellation", "incident", "Still billed after cancelling",
     "I cancelled in March and got a confirmation, but you still took money in April. Please "
     "refund it."),
    ("mobile", "question", "Roaming charges in Spain",
     "Is roaming in Spain included in my SIM only plan or will I pay extra?"),
    ("mobile", "incident", "No signal at home",
     "Since last week I have no mobile signal at home at all. Friends on other networks are "
     "fine."),
    ("mobile", "question", "Transfer my number",
     "I want to keep my old number when I switch to you. What do I need to do?"),
    ("tv", "incident", "TV box keeps restarting",
     "The TV box restarts every few minutes, we can't watch anything. Already unplugged it "
     "twice."),
    ("tv", "question", "Add the sports package",
     "How can I add the sports package to my TV subscription, and from when is it active?"),
    ("compliment", "question", "Thank you Lena!",
     "Just wanted to say thanks to Lena from the technical team, she fixed our wifi in ten "
     "minutes. Great service!"),
]
INTERNAL = [
    ("Rachel Ops", "task", "Update the outage FAQ for the new region"),
    ("Dev Monitoring", "incident", "ALERT: packet loss above 5% on node AMS-3"),
    ("Hiro Sales", "task", "Prepare quote for 40-seat office line"),
    ("Dev Monitoring", "incident", "ALERT: DSLAM 12 unreachable"),
    ("Rachel Ops", "question", "Which macro do we use for roadworks outages?"),
    ("Dev Monitoring", "incident", "ALERT: RADIUS latency high"),
]


def person(rng, used):
    while True:
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        if name not in used:
            used.add(name)
            return name


# ---------------------------------------------------------------------------------------------
# Zendesk: CSV export (Admin Center > Account > Tools > Reports > CSV export)

ZENDESK_CSV_HEADER = [
    "Summation column", "Id", "Requester", "Requester id", "Requester external id",
    "Requester email", "Requester domain", "Submitter", "Assignee", "Group", "Subject", "Tags",
    "Status", "Priority", "Via", "Ticket type", "Created at", "Updated at", "Assigned at",
    "Organization", "Due date", "Initially assigned at", "Solved at", "Resolution time",
    "Satisfaction Score", "Group stations", "Assignee stations", "Reopens", "Replies",
    "First reply time in minutes", "First reply time in minutes within business hours",
    "First resolution time in minutes", "First resolution time in minutes within business hours",
    "Full resolution time in minutes", "Full resolution time in minutes within business hours",
    "Agent wait time in minutes", "Agent wait time in minutes within business hours",
    "Requester wait time in minutes", "Requester wait time in minutes within business hours",
    "On hold time in minutes", "On hold time in minutes within business hours",
    "Contact reason [list]", "Product [list]",
]
VIA_DISPLAY = ["Web form", "Web form", "Mail", "Mail", "Chat", "Phone call (incoming)",
               "Twitter", "Facebook post"]
PRODUCTS = ["Fibre 500", "Fibre 1000", "SIM only", "TV box", "Router"]
TOPIC_PRODUCT = {"billing": None, "outage": "Fibre 500", "speed": "Fibre 1000",
                 "installation": "Fibre 1000", "cancellation": None, "mobile": "SIM only",
                 "tv": "TV box", "compliment": "Router"}


def zendesk_csv(rng):
    used = set()
    customers = []
    for i in range(34):
        name = person(rng, used)
        cid = 390000000100 + i * 7
        email = name.lower().replace(" ", ".") + "@" + rng.choice(
            ["mail.example", "inbox.example", "post.example"])
        customers.append((name, cid, email))
    # A heavy tail: a few customers write often.
    weights = [12, 8, 6, 5, 4] + [2] * 9 + [1] * 20
    start = dt.datetime(2024, 3, 1, 8, 0, 0)
    rows = [ZENDESK_CSV_HEADER]
    internal_at = set(rng.sample(range(80), len(INTERNAL)))
    internal = iter(INTERNAL)
    t = start
    for k in range(80):
        tid = 5101 + k
        t = t + dt.timedelta(minutes=rng.randint(20, 700))
        created = t
        agent, agent_id, group = rng.choice(AGENTS)
        if k in internal_at:
            staff, ttype, subject = next(internal)
            sid = dict(STAFF)[staff]
            req_name, req_id = staff, sid
            req_email = staff.lower().replace(" ", ".") + "@northwind-broadband.example"
            via = "Web service (API)" if staff == "Dev Monitoring" else "Web form"
            topic, product, submitter = "", "", staff
        else:
            req_name, req_id, req_email = rng.choices(customers, weights=weights)[0]
            topic, ttype, subject, _ = rng.choice(TICKETS)
            via = rng.choice(VIA_DISPLAY)
            if k % 17 == 5:
                ttype = ""  # type not set by the agent
            product = TOPIC_PRODUCT[topic] or ""
            # An agent logs phone calls on the caller's behalf.
            submitter = agent if via == "Phone call (incoming)" else req_name
        status = rng.choices(["closed", "solved", "pending", "open", "new", "hold"],
                             weights=[40, 25, 10, 15, 5, 5])[0]
        updated = created + dt.timedelta(minutes=rng.randint(30, 4000))
        assigned = "" if status == "new" else fmt_z(created + dt.timedelta(minutes=rng.randint(5, 90)))
        solved_dt = updated if status in ("solved", "closed") else None
        first_reply = "" if status == "new" else str(rng.randint(4, 600))
        full_res = "" if solved_dt is None else str(int((solved_dt - created).total_seconds() // 60))
        sat = "Not Offered"
        if solved_dt is not None and not req_email.endswith("northwind-broadband.example"):
            sat = rng.choices(["Good", "Bad", "Offered", "Not Offered"], weights=[45, 15, 25, 15])[0]
        tags = " ".join(t for t in [topic, product.lower().replace(" ", "_") if product else "",
                                   "vip" if req_id in (customers[0][1], customers[1][1]) else ""] if t)
        prio = rng.choices(["Low", "Normal", "High", "Urgent"], weights=[15, 60, 20, 5])[0]
        rows.append([
            str(k + 1), str(tid), req_name, str(req_id), "", req_email, req_email.split("@")[1],
            submitter, "" if status == "new" else agent, group, subject, tags, status.capitalize(),
            prio, via, ttype.capitalize(), fmt_z(created), fmt_z(updated), assigned,
            "" if not req_email.endswith("northwind-broadband.example") else "Northwind",
            "", assigned, fmt_z(solved_dt) if solved_dt else "",
            str(round(int(full_res) / 60)) if full_res else "", sat,
            str(rng.randint(1, 2)), str(rng.randint(1, 3)), str(rng.choice([0, 0, 0, 1])),
            str(rng.randint(0, 4)), first_reply, first_reply, full_res, full_res, full_res,
            full_res, str(rng.randint(0, 300)), str(rng.randint(0, 200)),
            str(rng.randint(5, 900)), str(rng.randint(5, 600)), "0", "0",
            topic, product,
        ])
    # Zendesk's CSV export: UTF-8, comma, quoted where needed; CRLF like most exports from
    # web applications.
    return csv_text(rows, lineterminator="\r\n").encode("utf-8")


def fmt_z(t):
    return t.strftime("%Y-%m-%d %H:%M:%S") if t else ""


# ---------------------------------------------------------------------------------------------
# Zendesk: full JSON export of tickets (NDJSON, one ticket per line, with comments) and the
# incremental ticket-event export of the same tickets.

VIA_API = [("web", "Web form"), ("email", "Mail"), ("chat", "Chat"), ("voice", "Phone call (incoming)"),
           ("twitter", "Twitter"), ("web", "Web form"), ("email", "Mail")]
AGENT_REPLIES = [
    "Thanks for reaching out. I have looked into this and corrected it on our side.",
    "Sorry for the trouble! An engineer has checked the line and the fault is fixed now.",
    "I understand how annoying this is. I have refunded the amount, you will see it in 3-5 days.",
    "Thanks for your patience. Could you restart the router and tell us if the problem is back?",
    "Good news: your appointment is booked for Thursday between 8am and 12pm.",
]
CUSTOMER_FOLLOWUPS = [
    "Still not working, I restarted it three times.",
    "Thanks, that solved it!",
    "I have not received the refund yet.",
    "OK, Thursday works for me.",
    "This is the third time I have to write about this. Very disappointed.",
]


def zendesk_json(rng):
    used = set()
    customers = [(person(rng, used), 391000000200 + i * 11) for i in range(22)]
    weights = [6, 4, 3, 3] + [2] * 6 + [1] * 12
    t = dt.datetime(2024, 4, 2, 7, 30, 0, tzinfo=dt.timezone.utc)
    lines = []
    events = []
    ev_id = 9500000000001

    def next_ev():
        nonlocal ev_id
        ev_id += 10
        return ev_id

    for k in range(40):
        tid = 7201 + k
        t = t + dt.timedelta(minutes=rng.randint(15, 500))
        created = t
        name, rid = rng.choices(customers, weights=weights)[0]
        topic, ttype, subject, desc = rng.choice(TICKETS)
        if k % 9 == 3:
            desc = desc + "\n\nSent from my phone"
        channel, via_name = rng.choice(VIA_API)
        agent, aid, group = rng.choice(AGENTS)
        gid = GROUP_IDS[group]
        comments = []
        audits = []  # (time, updater, via, [child events])

        def comment(at, author, body, public=True):
            cid = next_ev()
            comments.append({
                "id": cid, "type": "Comment", "author_id": author, "body": body,
                "html_body": "<div class=\"zd-comment\"><p>" + body.replace("\n", "<br>") + "</p></div>",
                "plain_body": body, "public": public, "attachments": [], "audit_id": cid - 1,
                "via": {"channel": channel, "source": {"from": {}, "to": {}, "rel": None}},
                "created_at": iso(at),
            })
            return {"id": next_ev(), "via": via_name, "via_reference_id": None,
                    "comment_present": True, "comment_public": public, "event_type": "Comment",
                    "type": "Comment", "author_id": author, "body": body, "public": public,
                    "attachments": [], "audit_id": cid - 1}

        def change(field, value, previous, kind="Change"):
            e = {"id": next_ev(), "via": via_name, "via_reference_id": None, field: value,
                 "event_type": kind}
            if kind == "Change":
                e["previous_value"] = previous
            return e

        audits.append((created, rid, [comment(created, rid, desc), change("status", "new", None, "Create"),
                                      change("group_id", gid, None, "Create"),
                                      change("priority", "normal", None, "Create")]))
        at = created + dt.timedelta(minutes=rng.randint(10, 240))
        audits.append((at, aid, [change("assignee_id", aid, None), change("status", "open", "new"),
                                 comment(at, aid, rng.choice(AGENT_REPLIES))]))
        status, assignee, group_now = "open", aid, gid
        if rng.random() < 0.3:  # transferred to another team
            agent2, aid2, group2 = rng.choice([a for a in AGENTS if a[2] != group])
            at = at + dt.timedelta(minutes=rng.randint(30, 600))
            audits.append((at, aid, [change("group_id", GROUP_IDS[group2], str(group_now)),
                                     change("assignee_id", aid2, str(assignee)),
                                     comment(at, aid, "Passing this to the " + group2 + " team.", False)]))
            assignee, group_now = aid2, GROUP_IDS[group2]
        if rng.random() < 0.5:
            at = at + dt.timedelta(minutes=rng.randint(60, 1500))
            audits.append((at, assignee, [change("status", "pending", "open")]))
            at = at + dt.timedelta(minutes=rng.randint(60, 1500))
            audits.append((at, rid, [change("status", "open", "pending"),
                                     comment(at, rid, rng.choice(CUSTOMER_FOLLOWUPS))]))
            status = "open"
        final = rng.choices(["solved", "closed", "open"], weights=[45, 35, 20])[0]
        if final != "open":
            at = at + dt.timedelta(minutes=rng.randint(30, 2000))
            audits.append((at, assignee, [change("status", "solved", status),
                                          comment(at, assignee, "Marking this as solved. Reply if anything is left.")]))
            status = "solved"
            if final == "closed":
                at = at + dt.timedelta(days=4)
                # The automation closes solved tickets: via Rule, updater -1.
                audits.append((at, -1, [dict(change("status", "closed", "solved"), via="Rule",
                                             via_reference_id=360990001)]))
                status = "closed"
        sat = {"score": "unoffered"}
        if status in ("solved", "closed"):
            sat = {"score": rng.choices(["good", "bad", "offered"], weights=[55, 20, 25])[0]}
            if sat["score"] != "offered":
                sat.update({"id": 31000000 + tid, "comment": None, "reason": None})
        ticket = {
            "url": f"https://northwind.zendesk.com/api/v2/tickets/{tid}.json",
            "id": tid, "external_id": None,
            "via": {"channel": channel, "source": {"from": {}, "to": {}, "rel": None}},
            "created_at": iso(created), "updated_at": iso(at), "type": ttype or None,
            "subject": subject, "raw_subject": subject, "description": desc,
            "priority": "normal", "status": status, "recipient": "support@northwind-broadband.example",
            "requester_id": rid, "submitter_id": rid, "assignee_id": assignee,
            "organization_id": None, "group_id": group_now, "collaborator_ids": [],
            "follower_ids": [], "email_cc_ids": [], "forum_topic_id": None, "problem_id": None,
            "has_incidents": False, "is_public": True, "due_at": None,
            "tags": [topic] + (["vip"] if rid == customers[0][1] else []),
            "custom_fields": [{"id": 360012001, "value": topic}, {"id": 360012002, "value": None}],
            "satisfaction_rating": sat, "sharing_agreement_ids": [],
            "fields": [{"id": 360012001, "value": topic}, {"id": 360012002, "value": None}],
            "followup_ids": [], "ticket_form_id": 360000001, "brand_id": 360000002,
            "allow_channelback": False, "allow_attachments": True, "comments": comments,
        }
        lines.append(json.dumps(ticket, separators=(",", ":"), ensure_ascii=False))
        for when, updater, children in audits:
            aid_ = next_ev()
            events.append({
                "id": aid_, "ticket_id": tid, "timestamp": int(when.timestamp()),
                "created_at": iso(when), "updater_id": updater,
                "via": children[0].get("via", via_name), "event_type": "Audit",
                "merged_ticket_ids": [], "child_events": children,
            })
    events.sort(key=lambda e: (e["timestamp"], e["id"]))
    end = events[-1]["timestamp"] + 1
    page = {"ticket_events": events,
            "next_page": f"https://northwind.zendesk.com/api/v2/incremental/ticket_events.json?start_time={end}&include=comment_events",
            "count": len(events), "end_of_stream": True, "end_time": end}
    return ("\n".join(lines) + "\n").encode("utf-8"), (json.dumps(page, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def iso(t):
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------------------------
# Qualtrics: response export, CSV, "Use choice text", three header rows.

Q_HEADER = ["StartDate", "EndDate", "Status", "IPAddress", "Progress", "Duration (in seconds)",
            "Finished", "RecordedDate", "ResponseId", "RecipientLastName", "RecipientFirstName",
            "RecipientEmail", "ExternalReference", "LocationLatitude", "LocationLongitude",
            "DistributionChannel", "UserLanguage", "Q1", "Q1_NPS_GROUP", "Q2", "Q3_TEXT"]
Q_TEXT = ["Start Date", "End Date", "Response Type", "IP Address", "Progress",
          "Duration (in seconds)", "Finished", "Recorded Date", "Response ID",
          "Recipient Last Name", "Recipient First Name", "Recipient Email",
          "External Data Reference", "Location Latitude", "Location Longitude",
          "Distribution Channel", "User Language",
          "How likely is it that you would recommend Northwind to a friend or colleague?",
          "How likely is it that you would recommend Northwind to a friend or colleague? - Group",
          "Overall, how satisfied are you with the support you received?",
          "What is the main reason for your score?"]
TZ = "America/Denver"  # Qualtrics' default account time zone
Q_IMPORT = ['{"ImportId":"startDate","timeZone":"%s"}' % TZ, '{"ImportId":"endDate","timeZone":"%s"}' % TZ,
            '{"ImportId":"status"}', '{"ImportId":"ipAddress"}', '{"ImportId":"progress"}',
            '{"ImportId":"duration"}', '{"ImportId":"finished"}',
            '{"ImportId":"recordedDate","timeZone":"%s"}' % TZ, '{"ImportId":"_recordId"}',
            '{"ImportId":"recipientLastName"}', '{"ImportId":"recipientFirstName"}',
            '{"ImportId":"recipientEmail"}', '{"ImportId":"externalDataReference"}',
            '{"ImportId":"locationLatitude"}', '{"ImportId":"locationLongitude"}',
            '{"ImportId":"distributionChannel"}', '{"ImportId":"userLanguage"}',
            '{"ImportId":"QID1"}', '{"ImportId":"QID1_NPS_GROUP"}', '{"ImportId":"QID2"}',
            '{"ImportId":"QID3_TEXT"}']
CSAT_TEXT = ["Very dissatisfied", "Dissatisfied", "Neither satisfied nor dissatisfied",
             "Satisfied", "Very satisfied"]
REASONS = {
    "promoter": ["Fast and friendly help, the agent solved it on the first call.",
                 "Reliable connection and good value for money.",
                 "Lena from support was great, thank you!",
                 "Installation was quick and the engineer was very professional.",
                 "Everything works, no complaints.",
                 "Great speed, and the app makes it easy to see my bills."],
    "passive": ["Service is ok but the price went up again.",
                "It took a while, but in the end the problem was fixed.",
                "Fine, nothing special.",
                "Wifi could be better upstairs, otherwise good."],
    "detractor": ["I was on hold for 45 minutes and then the call dropped. Awful.",
                  "Charged twice and still waiting for my refund after three weeks.",
                  "The internet drops every evening and nobody fixes it.",
                  "Engineer didn't show up, I wasted a day off.",
                  "Too expensive for what you get, and support is useless.",
                  "Promised a call back, never happened.\nI will switch provider."],
}


def denver(y, m, d, hh, mm, ss):
    """Wall-clock time in America/Denver for a UTC instant is not needed: we write local
    times directly, as Qualtrics does in the account's zone."""
    return dt.datetime(y, m, d, hh, mm, ss)


def qualtrics(rng):
    used = set()
    rows = [Q_HEADER, Q_TEXT, Q_IMPORT]
    # 128 responses from 2024-02-20 to 2024-04-05 local (America/Denver, DST from 2024-03-10),
    # plus three survey previews by staff; some partial responses; one response just before
    # midnight on 31 March local, which is 1 April in UTC.
    local = dt.datetime(2024, 2, 20, 9, 0, 0)
    preview_at = {10, 61, 99}
    n = 0
    k = 0
    while n < 128:
        k += 1
        local = local + dt.timedelta(minutes=rng.randint(200, 700))
        if n == 100:
            local = dt.datetime(2024, 3, 31, 23, 41, 7)
        dur = rng.randint(35, 900)
        start = local - dt.timedelta(seconds=dur)
        if k in preview_at:
            rows.append([fmt_q(start), fmt_q(local), "Survey Preview", "", "100", str(dur),
                         "True", fmt_q(local), "R_" + rid(rng), "", "", "", "", "", "",
                         "preview", "EN", "10", "Promoter", "Very satisfied",
                         "test test - please ignore"])
            continue
        n += 1
        first, last = person(rng, used).split(" ")
        email = f"{first.lower()}.{last.lower()}@mail.example"
        via_email = rng.random() < 0.8
        ext = f"C-{10000 + rng.randint(1, 400)}" if via_email else ""
        r = rng.random()
        nps = rng.choices(range(11), weights=[2, 1, 2, 3, 3, 6, 8, 12, 16, 20, 17])[0]
        group = "Promoter" if nps >= 9 else "Passive" if nps >= 7 else "Detractor"
        csat_base = {"Promoter": [0, 0, 1, 5, 10], "Passive": [0, 1, 4, 8, 2],
                     "Detractor": [6, 6, 3, 1, 0]}[group]
        csat = CSAT_TEXT[rng.choices(range(5), weights=csat_base)[0]]
        reason = rng.choice(REASONS[group.lower()]) if rng.random() < 0.75 else ""
        finished, progress = "True", "100"
        if r < 0.05:  # answered the NPS question, then left
            finished, progress, csat, reason = "False", str(rng.choice([33, 50, 67])), "", ""
        elif r < 0.07:  # opened and left before the first question
            finished, progress, nps, group, csat, reason = "False", "0", None, "", "", ""
        rows.append([
            fmt_q(start), fmt_q(local), "IP Address", f"203.0.113.{rng.randint(1, 254)}",
            progress, str(dur), finished, fmt_q(local), "R_" + rid(rng),
            last if via_email else "", first if via_email else "", email if via_email else "",
            ext, f"{rng.uniform(39.5, 40.1):.4f}", f"{rng.uniform(-105.3, -104.7):.4f}",
            "email" if via_email else "anonymous", "EN",
            "" if nps is None else str(nps), group, csat, reason,
        ])
    # Qualtrics CSV: UTF-8 with BOM, comma, CRLF.
    return b"\xef\xbb\xbf" + csv_text(rows, lineterminator="\r\n").encode("utf-8")


def fmt_q(t):
    return t.strftime("%Y-%m-%d %H:%M:%S")


def rid(rng):
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(rng.choice(alphabet) for _ in range(15))


# ---------------------------------------------------------------------------------------------
# Twitter/X customer support export in the shape of Kaggle's "Customer Support on Twitter"
# (twcs.csv): customers' tweets and the brands' replies interleaved.

OPENERS = {
    "NorthwindCares": [
        "my internet has been down for 3 hours now, any ETA?",
        "why am I paying for 1Gb when I get 50Mb?? ridiculous",
        "charged twice this month, please sort it out",
        "engineer was supposed to come today and didn't show up. again.",
        "is there an outage in Leeds? nothing works",
        "thank you for fixing my connection so quickly, great job!",
        "your router keeps rebooting every hour, it's driving me mad",
        "how do I change the wifi password on the new router?",
        "been on hold for 40 minutes... is anyone there?",
        "love the new app, much easier to pay my bill :)",
        "still waiting for my refund from last month",
        "the tv box freezes every evening during the news",
    ],
    "NorthwindMobile": [
        "no signal at all in the city centre since yesterday",
        "can I use my plan in France without extra charges?",
        "my number transfer has been pending for a week, what is going on",
        "data isn't working after the update, help",
        "thanks for the quick help with my SIM swap!",
        "got a bill for roaming although I never left the country. not happy",
        "5G keeps dropping to 3G in my area, is that normal?",
        "how do I get a PUK code? phone is locked",
    ],
}
BRAND_REPLIES = [
    "Sorry to hear that! Can you DM us your account number so we can take a look?",
    "Hi there, we're checking this for you now. Could you send us a DM with your postcode?",
    "Thanks for letting us know. There's a known fault in your area, engineers are on it: https://t.co/Nw8kQ2xZ1a",
    "We're really sorry about this. We've sent you a DM so we can sort it out.",
    "Glad to hear it! Let us know if there's anything else we can help with.",
    "Happy to help! Here is how: https://t.co/k3L0pQr7Yd",
    "Apologies for the wait. Please follow and DM us, we'll get this fixed.",
]
FOLLOWUPS = [
    "DM sent",
    "done, sent you a DM",
    "still nothing. this is the worst service ever",
    "thanks, it works again!",
    "ok thanks",
    "that link doesn't help at all",
    "3rd time I message you about this and still no fix",
    "great, thanks for the quick answer",
]


def twitter(rng):
    # (tweet_id, author_id, inbound, created_at, text, response_tweet_id, in_response_to_tweet_id)
    customers = [str(rng.randint(110000, 899999)) for _ in range(60)]
    weights = [9, 7, 5, 4, 3, 3] + [2] * 14 + [1] * 40
    conversations = []
    t0 = dt.datetime(2017, 10, 30, 6, 0, 0, tzinfo=dt.timezone.utc)
    for c in range(95):
        brand = "NorthwindCares" if rng.random() < 0.65 else "NorthwindMobile"
        cust = rng.choices(customers, weights=weights)[0]
        start = t0 + dt.timedelta(minutes=rng.randint(0, 60 * 24 * 3))
        turns = []  # (author, inbound, minutes after start, text)
        opener = rng.choice(OPENERS[brand])
        if rng.random() < 0.08:
            opener = opener + "\nfed up."
        turns.append((cust, True, 0, f"@{brand} {opener}"))
        m = 0
        r = rng.random()
        if r < 0.12:
            pass  # no answer
        else:
            m += rng.randint(2, 90)
            sig = rng.choice(["^JS", "^AK", "/MR", "-TB"])
            reply = rng.choice(BRAND_REPLIES)
            if len(reply) > 110 and rng.random() < 0.5:
                # A long answer split into two tweets, "1/2" and "2/2".
                turns.append((brand, False, m, f"@{cust} 1/2 {reply} {sig}"))
                m += 1
                turns.append((brand, False, m, f"@{cust} 2/2 We're here 24/7 if you need us. {sig}"))
            else:
                turns.append((brand, False, m, f"@{cust} {reply} {sig}"))
            if rng.random() < 0.55:
                m += rng.randint(3, 240)
                turns.append((cust, True, m, f"@{brand} {rng.choice(FOLLOWUPS)}"))
                if rng.random() < 0.6:
                    m += rng.randint(2, 60)
                    turns.append((brand, False, m, f"@{cust} {rng.choice(BRAND_REPLIES)} {sig}"))
        conversations.append((start, turns))
    # Tweet ids: consecutive within a conversation, conversations in random order, as twcs's
    # ids group conversations without following time.
    order = list(range(len(conversations)))
    rng.shuffle(order)
    rows = []
    next_id = 1
    for ci in order:
        start, turns = conversations[ci]
        ids = list(range(next_id, next_id + len(turns)))
        next_id += len(turns)
        # Each turn answers the one before it, except the second part of a two-part answer,
        # which answers the same tweet as the first part.
        parents = [None]
        for j in range(1, len(turns)):
            parents.append(parents[j - 1] if " 2/2 " in turns[j][3] else j - 1)
        for j, (author, inbound, minutes, text) in enumerate(turns):
            parent = None if parents[j] is None else ids[parents[j]]
            children = [ids[i] for i in range(len(turns)) if parents[i] == j]
            when = start + dt.timedelta(minutes=minutes, seconds=rng.randint(0, 59))
            rows.append([str(ids[j]), author, "True" if inbound else "False",
                         when.strftime("%a %b %d %H:%M:%S +0000 %Y"), text,
                         ",".join(str(x) for x in children),
                         "" if parent is None else str(parent)])
    header = ["tweet_id", "author_id", "inbound", "created_at", "text", "response_tweet_id",
              "in_response_to_tweet_id"]
    return csv_text([header] + rows).encode("utf-8")


# ---------------------------------------------------------------------------------------------
# A contact log saved by Excel on Windows as "CSV (Comma delimited)": Windows-1252, CRLF.

W_NAMES = ["François Lefèvre", "Jürgen Müller", "Søren Ørsted", "Zoë Brontë", "José Núñez",
           "Åsa Ångström", "Chloé Dubois", "Björn Sæther", "Inês Conceição", "Mañuel Peña",
           "Renée Côté", "Anaïs Rœmer", "Grégoire Légaré", "Šárka Novák", "Małgorzata Wójcik",
           "Ştefan Ionescu"]
W_TEXTS = [
    ("complaint", "I was charged €49.99 twice this month – please refund the second payment."),
    ("complaint", "The “unlimited” plan stopped working after 20 GB… that’s not unlimited."),
    ("question", "Can I pay the €120 installation fee in three instalments?"),
    ("compliment", "Thank you! The engineer was friendly and everything works perfectly."),
    ("complaint", "Third outage this week – I can’t work from home like this."),
    ("question", "What does the “line rental – €9” item on my invoice mean?"),
    ("request", "Please send my invoices to my new address in Besançon."),
    ("complaint", "You promised a call back on Monday; nobody called. Very disappointing."),
    ("compliment", "Great service from Zoë in the shop, she sorted my SIM in 5 minutes."),
    ("question", "Is the €15 discount still valid if I upgrade to Fibre 1000?"),
]


def windows1252(rng):
    # Only names whose every letter exists in Windows-1252 (ł, ş, ř do not): the file is what
    # Excel would write, and Excel would have replaced the others with '?'.
    names = [n for n in W_NAMES if can_cp1252(n)]
    rows = [["Ticket", "Received", "Channel", "Type", "Customer", "Customer name", "Subject",
             "Message"]]
    t = dt.datetime(2024, 5, 6, 8, 12)
    for k in range(42):
        t = t + dt.timedelta(minutes=rng.randint(30, 400))
        name = rng.choice(names)
        kind, text = rng.choice(W_TEXTS)
        channel = rng.choice(["E-mail", "Telephone", "Web form", "Chat", "Shop"])
        rows.append([f"T-{3100 + k}", t.strftime("%d/%m/%Y %H:%M"), channel, kind,
                     f"K{700 + names.index(name)}", name, text[:40].rstrip(), text])
    return csv_text(rows, lineterminator="\r\n").encode("cp1252")


def can_cp1252(s):
    try:
        s.encode("cp1252")
        return True
    except UnicodeEncodeError:
        return False


# ---------------------------------------------------------------------------------------------
# A customer list saved by Excel in a German locale as "CSV UTF-8": BOM, ';', decimal comma,
# thousands dot, dd.mm.yyyy dates, CRLF.

def european(rng):
    rows = [["Kundennummer", "Name", "Segment", "Kunde seit", "Jahresumsatz (EUR)", "Premium"]]
    used = set()
    values = ["1.234,56", "12.500,00", "980,5", "0,99", "1.250.000,00", "45.000", "7.500",
              "320", "2.999,90", "18.250,75", "", "610,00", "1.234", "99.999,99", "5,5"]
    bad = {7: ("Jahresumsatz (EUR)", "1,234.56"), 19: ("Jahresumsatz (EUR)", "1.23"),
           31: ("Kunde seit", "31.02.2023")}
    for k in range(48):
        name = person(rng, used)
        segment = rng.choice(["Privat", "Privat", "Geschäft", "Großkunde"])
        since = dt.date(2015, 1, 1) + dt.timedelta(days=rng.randint(0, 3200))
        value = values[k % len(values)] if k < 30 else rng.choice(values)
        row = {"Kundennummer": f"DE-{40100 + k}", "Name": name, "Segment": segment,
               "Kunde seit": since.strftime("%d.%m.%Y"), "Jahresumsatz (EUR)": value,
               "Premium": rng.choice(["ja", "nein", "nein"])}
        if k in bad:
            col, v = bad[k]
            row[col] = v
        rows.append([row[h] for h in rows[0]])
    return b"\xef\xbb\xbf" + csv_text(rows, delimiter=";", lineterminator="\r\n").encode("utf-8")


# ---------------------------------------------------------------------------------------------
# Bare carriage returns.

CR_TEXTS = [
    "Router light is orange, no internet.",
    "Please call me back after 5pm.",
    "Thanks, all good now!",
    "Bill is higher than last month, why?",
    "The app crashes when I open my invoices.",
    "Great help from the shop team today.",
    "Wifi is slow in the evening.",
    "I want to upgrade to Fibre 1000.",
]


def old_mac(rng):
    """Saved as "CSV (Macintosh)" by old Excel for Mac: every line ends with a bare CR. One
    quoted text holds a CR of its own (a line break typed in the cell)."""
    rows = [["signal_id", "at", "channel", "kind", "customer_id", "text"]]
    t = dt.datetime(2024, 6, 3, 9, 0)
    for k in range(16):
        t = t + dt.timedelta(minutes=rng.randint(20, 300))
        text = CR_TEXTS[k % len(CR_TEXTS)]
        if k == 9:
            text = "Two things:\rthe bill is wrong, and the router is slow."
        rows.append([f"M{k + 1}", t.strftime("%Y-%m-%d %H:%M"), rng.choice(["email", "phone", "web"]),
                     rng.choice(["complaint", "question", "request"]), f"C{200 + k % 7}", text])
    return csv_text(rows, lineterminator="\r").encode("utf-8")


def bare_cr_in_field(rng):
    """LF line endings; one unquoted text holds a bare CR (pasted from an old Mac mail), which
    is part of the field: the file's line ending is LF."""
    rows = []
    t = dt.datetime(2024, 6, 10, 9, 0)
    lines = ["signal_id,at,channel,kind,customer_id,text"]
    for k in range(12):
        t = t + dt.timedelta(minutes=rng.randint(20, 300))
        text = CR_TEXTS[(k * 3) % len(CR_TEXTS)].replace(",", "")
        if k == 4:
            text = "The modem restarts at night\rand again in the morning"
        if k == 8:
            text = "Sorry for the second message\ryou can ignore the first one"
        lines.append(f"B{k + 1},{t.strftime('%Y-%m-%dT%H:%M:%SZ')},"
                     f"{rng.choice(['email', 'chat', 'web'])},{rng.choice(['complaint', 'question'])},"
                     f"C{300 + k % 5},{text}")
    del rows
    return ("\n".join(lines) + "\n").encode("utf-8")


# ---------------------------------------------------------------------------------------------
# An Excel workbook renamed to .csv.

def excel_workbook(rng):
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "signals"
    ws.append(["signal_id", "at", "channel", "kind", "customer_id", "text"])
    t = dt.datetime(2024, 7, 1, 9, 0)
    for k in range(20):
        t = t + dt.timedelta(minutes=rng.randint(20, 300))
        ws.append([f"X{k + 1}", t, rng.choice(["email", "phone", "web"]),
                   rng.choice(["complaint", "question"]), f"C{400 + k % 6}",
                   CR_TEXTS[k % len(CR_TEXTS)]])
    fixed = dt.datetime(2024, 7, 2, 12, 0, 0)
    wb.properties.created = fixed
    wb.properties.modified = fixed
    wb.properties.creator = "Northwind support"
    buf = io.BytesIO()
    wb.save(buf)
    # openpyxl stamps each zip entry with the current time: rewrite the archive with a fixed
    # time so the bytes do not change from run to run.
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            data = src.read(info.filename)
            # docProps/core.xml still carries modified = now on some versions: pin it.
            if info.filename == "docProps/core.xml":
                data = pin_core_times(data)
            zi = zipfile.ZipInfo(info.filename, date_time=(2024, 7, 2, 12, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, data)
    return out.getvalue()


def pin_core_times(data):
    import re
    text = data.decode("utf-8")
    text = re.sub(r"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)",
                  r"\g<1>2024-07-02T12:00:00Z\g<3>", text)
    return text.encode("utf-8")


# ---------------------------------------------------------------------------------------------
# CFPB: a slice of real complaints (CC0).

CFPB_HEADER = ["Date received", "Product", "Sub-product", "Issue", "Sub-issue",
               "Consumer complaint narrative", "Company public response", "Company", "State",
               "ZIP code", "Tags", "Consumer consent provided?", "Submitted via",
               "Date sent to company", "Company response to consumer", "Timely response?",
               "Consumer disputed?", "Complaint ID"]


def cfpb(path):
    """300 rows: 200 with a narrative (120 of them with line breaks inside, 80 without;
    narratives up to 3,000 characters) and 100 without, spread over the channels that
    `Submitted via` holds. Chosen with a fixed seed; written in the source's own order (by date
    received, then id) with the source's quoting rules (RFC 4180, LF)."""
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == CFPB_HEADER, rows[0]
    body = rows[1:]
    rng = random.Random(20240601)
    nar = [r for r in body if r[5] and len(r[5]) <= 3000]
    with_nl = [r for r in nar if "\n" in r[5]]
    without_nl = [r for r in nar if "\n" not in r[5]]
    picked = rng.sample(with_nl, 120) + rng.sample(without_nl, 80)
    quota = {"Referral": 25, "Phone": 25, "Postal mail": 20, "Fax": 12, "Email": 8,
             "Web Referral": 5, "Web": 5}
    for via, n in quota.items():
        pool = [r for r in body if not r[5] and r[12] == via]
        picked += rng.sample(pool, min(n, len(pool)))
    picked.sort(key=lambda r: (r[0], int(r[17])))
    ids = {r[17] for r in picked}
    return csv_text([CFPB_HEADER] + picked).encode("utf-8"), ids


def cfpb_sources(path, ids):
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    keep = [rows[0]] + [r for r in rows[1:] if r[0] in ids]
    return csv_text(keep).encode("utf-8")


def main():
    ensure_venv()
    ap = argparse.ArgumentParser()
    ap.add_argument("--cfpb", help="complaints_sample.csv.gz of the project's data folder")
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    write_bytes("zendesk_tickets.csv", zendesk_csv(random.Random(1)))
    tickets, events = zendesk_json(random.Random(2))
    write_bytes("zendesk_tickets.json", tickets)
    write_bytes("zendesk_ticket_events.json", events)
    write_bytes("qualtrics_nps_csat.csv", qualtrics(random.Random(3)))
    write_bytes("twitter_support.csv", twitter(random.Random(4)))
    write_bytes("windows1252_contacts.csv", windows1252(random.Random(5)))
    write_bytes("european_customers.csv", european(random.Random(6)))
    write_bytes("old_mac_cr.csv", old_mac(random.Random(7)))
    write_bytes("bare_cr_in_field.csv", bare_cr_in_field(random.Random(8)))
    write_bytes("excel_workbook_renamed.csv", excel_workbook(random.Random(9)))
    if args.cfpb:
        data, ids = cfpb(args.cfpb)
        write_bytes("cfpb_complaints.csv", data)
        sources = args.cfpb.replace(".csv.gz", ".sources.csv.gz")
        if os.path.exists(sources):
            write_bytes("cfpb_complaints.sources.csv", cfpb_sources(sources, ids))
    print("fixtures written to", os.path.relpath(OUT, REPO))


if __name__ == "__main__":
    main()

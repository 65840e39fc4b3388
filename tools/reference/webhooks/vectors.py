#!/usr/bin/env python3
"""Reference signatures for Hearken's webhook verification (crates/hearken-server/src/webhooks/verify.rs),
computed with Python's standard library (hmac, hashlib, base64): an implementation independent of
the Rust code under test.

    python3 tools/reference/webhooks/vectors.py > crates/hearken-server/tests/data/webhooks/reference-vectors.json

Standard Webhooks (standardwebhooks.com, spec v1.0.0): v1 = base64(HMAC-SHA256(key, f"{id}.{ts}.{body}")),
key = base64-decode of the secret after "whsec_".
Zendesk (developer.zendesk.com/documentation/webhooks/verifying/): base64(HMAC-SHA256(secret, timestamp + body)),
the secret's text as the key, the timestamp header's text as sent.

Only the standard library is used, so no virtualenv is needed.
"""
import base64
import hashlib
import hmac
import json
from datetime import datetime


def standard(secret: str, msg_id: str, ts: int, body: str) -> dict:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{ts}.{body}".encode("utf-8"), hashlib.sha256).digest()
    return {
        "secret": secret,
        "id": msg_id,
        "timestamp": ts,
        "body": body,
        "signature": "v1," + base64.b64encode(mac).decode("ascii"),
    }


def zendesk(secret: str, timestamp: str, body: str) -> dict:
    mac = hmac.new(secret.encode("utf-8"), (timestamp + body).encode("utf-8"), hashlib.sha256).digest()
    unix = int(datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp())
    return {
        "secret": secret,
        "timestamp": timestamp,
        "unix": unix,
        "body": body,
        "signature": base64.b64encode(mac).decode("ascii"),
    }


def main() -> None:
    key32 = base64.b64encode(bytes(range(32))).decode("ascii")
    key64 = base64.b64encode(hashlib.sha512(b"hearken").digest()).decode("ascii")
    out = {
        "about": "Computed by tools/reference/webhooks/vectors.py with Python's hmac/hashlib/base64.",
        "standard": [
            standard("whsec_" + key32, "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", 1674087231,
                     '{"type":"contact.created","timestamp":"2022-11-03T20:26:10.344522Z","data":{"id":"1f81eb52-5198-4599-803e-771906343485"}}'),
            standard("whsec_" + key64, "evt_01", 1735689600,
                     '{"signal_id":"S1","text":"Le routeur ne marche plus \u00e0 18h \u2013 \u00e9norme panne \U0001F621"}'),
            standard("whsec_" + key32, "a.b.c", 1700000000, "line one\nline two\r\n"),
            standard("whsec_" + key64, "msg_empty", 1700000300, ""),
        ],
        "zendesk": [
            # The test secret Zendesk's documentation uses in its verification example.
            zendesk("dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ==", "2021-03-25T05:09:27Z",
                    '{"ticket":{"id":35436,"subject":"Help, my printer is on fire!","status":"new"}}'),
            zendesk("HRkRd4BeOAoUkfZr-mhauJT64rvBASlJRoIyPsd3zeA=", "2021-07-25T10:00:00Z", '{"say": "hello"}'),
            zendesk("dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ==", "2024-12-31T23:59:59Z",
                    '{"detail":{"id":"1","description":"Caf\u00e9 \u2013 r\u00e9siliation"}}'),
        ],
    }
    print(json.dumps(out, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()

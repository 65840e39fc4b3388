#!/usr/bin/env bash
# Schemathesis against the served OpenAPI document: starts `hearken serve` on a small demo store
# with an admin token, and checks that no request gets a 5xx and that every answer matches the
# schema the document declares for it (status code, content type, body).
#
#   tools/api/schemathesis.sh            # builds the debug binary if needed
#   HEARKEN_BIN=target/release/hearken tools/api/schemathesis.sh
#
# Own virtualenv (tools/api/.venv, git-ignored) with Schemathesis pinned from PyPI. Exits non-zero
# on any failure. Everything runs on loopback; the run is bounded by --max-examples and a time
# budget. Requests may take up to the server's own limit (request_timeout_secs = 30, then 503):
# the analytics of a debug build on a busy machine can take more than Schemathesis' default 10 s.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)

SCHEMATHESIS_VERSION=4.32.5
MAX_EXAMPLES=${MAX_EXAMPLES:-50}
MAX_TIME=${MAX_TIME:-150}

if ! command -v python3 >/dev/null; then
    echo "tools/api/schemathesis.sh: python3 is required (apt-get install python3 python3-venv)" >&2
    exit 1
fi
venv=tools/api/.venv
if [ ! -x "$venv/bin/schemathesis" ] || ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

bin=${HEARKEN_BIN:-}
if [ -z "$bin" ]; then
    cargo build --quiet --locked -p hearken-cli --bin hearken
    bin=${CARGO_TARGET_DIR:-$root/target}/debug/hearken
fi

work=$(mktemp -d)
server_pid=
cleanup() {
    if [ -n "$server_pid" ]; then
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

export HEARKEN_DB=$work/api.db
(cd "$work" && "$bin" demo --customers 300 --months 2 --out "$work/demo" >/dev/null)
token=$("$bin" tokens create --name schemathesis --role admin 2>/dev/null | head -1)
# A viewer token too, so revoking something other than the token in use is possible.
"$bin" tokens create --name other --role viewer >/dev/null 2>&1
# An inbound webhook, so that deliveries reach signature checking (no signature: 401).
"$bin" webhooks add tickets --format standard --kind signals >/dev/null 2>&1

# `serve` logs one line per request by default.
NO_COLOR=1 "$bin" serve --bind 127.0.0.1:0 >"$work/stdout" 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 1 100); do
    if grep -q '^listening on http://' "$work/stdout" 2>/dev/null; then break; fi
    sleep 0.1
done
base=$(sed -n 's/^listening on \(http:\/\/.*\)$/\1/p' "$work/stdout" | head -1)
if [ -z "$base" ]; then
    echo "the server did not start:" >&2
    cat "$work/server.log" >&2
    exit 1
fi
echo "schemathesis $SCHEMATHESIS_VERSION against $base/api/openapi.json (at most $MAX_EXAMPLES examples per operation and phase, $MAX_TIME s)"

status=0
# Run from the temporary directory: Schemathesis keeps a cache in ./.schemathesis.
(cd "$work" && "$root/$venv/bin/schemathesis" run "$base/api/openapi.json" \
    --header "Authorization: Bearer $token" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --max-examples "$MAX_EXAMPLES" \
    --seed 1 \
    --workers 1 \
    --max-time "$MAX_TIME" \
    --request-timeout 35 \
    --suppress-health-check too_slow) 2>&1 | tee "$work/schemathesis.out" \
    || status=$?

if grep -q 'ERROR\|panicked' "$work/server.log"; then
    echo "the server logged an error or a panic:" >&2
    grep -n 'ERROR\|panicked' "$work/server.log" | head -20 >&2
    status=1
fi
if [ "$status" -eq 0 ]; then
    passed=$(grep -Eo '[0-9]+ generated, [0-9]+ passed' "$work/schemathesis.out" | tail -1 | sed 's/.* \([0-9]*\) passed/\1/' || echo 0)
    echo "schemathesis: $passed passed, 0 failed"
fi
exit $status

#!/usr/bin/env bash
# Makes the test-only TLS files of the outbox's SMTP tests (tests/cli/outbox_tls.rs): a private
# certificate authority and a server certificate it signed for 127.0.0.1 and localhost, valid
# for 100 years so the committed files do not expire. The keys protect nothing: they exist only
# so that a real SMTP server on loopback can speak STARTTLS to the outbox in the tests.
#
#   crates/hearken-cli/tests/data/tls/make.sh     # rewrites ca.pem, server.pem, server.key
set -euo pipefail
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
openssl req -x509 -newkey rsa:2048 -nodes -days 36500 -subj "/CN=Hearken test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$work/ca.key" -out ca.pem 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout "$work/server.key" -out "$work/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' > "$work/ext"
openssl x509 -req -in "$work/server.csr" -CA ca.pem -CAkey "$work/ca.key" -CAcreateserial \
    -days 36500 -extfile "$work/ext" -out server.pem 2>/dev/null
# PKCS#8, which rustls-pemfile reads.
openssl pkcs8 -topk8 -nocrypt -in "$work/server.key" -out server.key
echo "wrote ca.pem, server.pem, server.key"

#!/usr/bin/env bash
# examples/demo.sh BUILD_DIR: sign and encrypt a statement to Bob with
# `sealpost send`, show its structure, and decrypt it with openssl as Bob.
set -euo pipefail
BUILD_DIR=$(cd "${1:-build}" && pwd)
SRC=$(cd "$(dirname "$0")/.." && pwd)
SEALPOST="$BUILD_DIR/bin/sealpost"
DEMO=$(mktemp -d /tmp/sealpost-demo.XXXXXX)
trap 'rm -rf "$DEMO"' EXIT
step() { printf '\n==> %s\n' "$*"; }

step "making demo keys (a CA, Alice the sender, Bob the recipient)"
"$SRC/tests/pki/make_pki.sh" "$DEMO/pki"
mkdir -p "$DEMO/store"
cp "$DEMO/pki/users/bob@example.com.crt" "$DEMO/store/"

step "a plain statement from Alice to Bob"
cat >"$DEMO/statement.eml" <<'MAIL'
From: Example Bank <alice@example.com>
To: Bob <bob@example.com>
Subject: Your November statement
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Dear Bob, your balance is 1,234.56 EUR.
MAIL
cat "$DEMO/statement.eml"

step "sealpost send --sign: signed by Alice, encrypted to Bob (his certificate is in the store)"
"$SEALPOST" send --sign --store "$DEMO/store" --keys "$DEMO/pki/keys" --out-dir "$DEMO/outbox" "$DEMO/statement.eml"
out=$(ls "$DEMO"/outbox/*.eml)

step "what went out ($out)"
sed -e '/^X-/d' "$out" | "$SEALPOST" show -

step "Bob decrypts it with openssl cms and verifies Alice's signature"
sed -e '/^X-Sender: /d' -e '/^X-Receiver: /d' "$out" |
  openssl cms -decrypt -recip "$DEMO/pki/users/bob@example.com.crt" -inkey "$DEMO/pki/users/bob@example.com.pem" |
  openssl cms -verify -CAfile "$DEMO/pki/ca/root.crt" | tee "$DEMO/plain.txt"
grep -q '1,234.56 EUR' "$DEMO/plain.txt"
step "demo passed"

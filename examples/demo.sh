#!/usr/bin/env bash
# examples/demo.sh [BUILD_DIR]: the whole loop (issue 13) in one process.
#   1. demo keys: a CA, Alice (the bank's signing identity), Bob, a DKIM key
#   2. a statement to Bob, who has no certificate: it leaves signed, not
#      encrypted, and `serve` invites Bob (a signed invitation)
#   3. Bob answers with a DKIM-signed, S/MIME-signed mail; the inbound relay
#      posts it to the collector webhook of the same `sealpost serve`
#   4. the collector stores Bob's certificate and serve sends him an
#      encrypted, signed confirmation
#   5. the next statement to Bob is encrypted; Bob decrypts the confirmation
#      and the statement with openssl cms
# Exits non-zero, naming the step, if any step fails.
set -euo pipefail
BUILD_DIR=$(cd "${1:-build}" && pwd)
SRC=$(cd "$(dirname "$0")/.." && pwd)
SEALPOST="$BUILD_DIR/bin/sealpost"
[ -x "$SEALPOST" ] || { echo "demo: $SEALPOST not built (run scripts/build)" >&2; exit 1; }
DEMO=$(mktemp -d /tmp/sealpost-demo.XXXXXX)
SERVER_PID=""
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; rm -rf "$DEMO"; }
trap cleanup EXIT
if [ -t 1 ]; then BOLD=$'\033[1m' PLAIN=$'\033[0m'; else BOLD="" PLAIN=""; fi
fail() { printf '\ndemo FAILED: %s\n' "$*" >&2; exit 1; }
step() { printf '\n%s==> %s%s\n' "$BOLD" "$*" "$PLAIN"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

step "1. demo keys: a CA, Alice (sender identity), Bob (recipient), a DKIM key for example.com"
"$SRC/tests/pki/make_pki.sh" "$DEMO/pki" >/dev/null
PKI="$DEMO/pki"
openssl x509 -in "$PKI/users/bob@example.com.crt" -noout -subject -ext subjectAltName | sed 's/^/    /'

step "2. (prepared for later) Bob's answer to secureme@example.net: S/MIME-signed by his mail client, DKIM-signed by his provider"
printf 'From: Bob <bob@example.com>\r\nTo: secureme@example.net\r\nSubject: please encrypt my statements\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello, here is my certificate.\r\n' >"$DEMO/bob-plain.eml"
"$SEALPOST" send -q --sign-detached --encrypt never --keys "$PKI/keys" "$DEMO/bob-plain.eml" >"$DEMO/bob-smime.eml"
dkimsign sel example.com "$PKI/dkim/example.com.key" <"$DEMO/bob-smime.eml" >"$DEMO/bob-signed.eml"
"$SEALPOST" show "$DEMO/bob-signed.eml" | grep -E '^(From|DKIM-Signature)|multipart/signed|pkcs7-signature|address' | cut -c1-110 | sed 's/^/    /'

step "3. sealpost serve: SMTP listener + collector plugin + invitations, one certificate store (empty), outbox relay"
SMTP_PORT=$(free_port); HTTP_PORT=$(free_port)
cat >"$DEMO/sealpost.ini" <<INI
[store]
dir = $DEMO/store
[sender]
keys-dir = $PKI/keys
sign = opaque
encrypt = auto
[relay]
out-dir = $DEMO/outbox
[admin]
listen =
[serve]
listen = 127.0.0.1:$SMTP_PORT
[invite]
enabled = yes
collect-address = secureme@example.net
from = alice@example.com
confirm = yes
run-every = 1s
[plugins]
load = collector
[collector]
listen = 127.0.0.1:$HTTP_PORT
token = demo-token
trusted-certs = $PKI/ca/bundle.crt
dkim-keys = $PKI/dkim/keys.txt
INI
"$SEALPOST" serve --config "$DEMO/sealpost.ini" 2>"$DEMO/serve.stderr" &
SERVER_PID=$!
for _ in $(seq 100); do grep -q 'serve: ready' "$DEMO/serve.stderr" 2>/dev/null && break; sleep 0.1; done
grep -q 'serve: ready' "$DEMO/serve.stderr" || { cat "$DEMO/serve.stderr"; fail "serve did not start"; }
grep -E 'collector: webhook listening|serve: ready|invite: invitations every' "$DEMO/serve.stderr" | cut -c25- | sed 's/^/    /'
[ -z "$(ls "$DEMO/store")" ] && echo "    store: (empty)"

# wait_log PATTERN: until serve logged it (10 s), else fail.
wait_log() { for _ in $(seq 100); do grep -Eq -- "$1" "$DEMO/serve.stderr" && return 0; sleep 0.1; done; fail "serve never logged /$1/"; }
statement() { # N: the application injects statement N to Bob over SMTP
  printf 'From: Example Bank <alice@example.com>\r\nTo: Bob <bob@example.com>\r\nSubject: Your statement no. %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nDear Bob, statement %s: your balance is 1,234.56 EUR.\r\n' "$1" "$1" >"$DEMO/statement$1.eml"
  curl -s --url "smtp://127.0.0.1:$SMTP_PORT" --mail-from alice@example.com --mail-rcpt bob@example.com \
    --upload-file "$DEMO/statement$1.eml" -v 2>&1 | grep -E '^< 250 2.0.0|^< [45]' | sed 's/^/    /'
}
# outbox_file PATTERN: the newest outbox file to Bob whose text matches PATTERN.
outbox_file() { local f; f=$(grep -l -E -- "$1" $(grep -l '^X-Receiver: <bob@example.com>' "$DEMO"/outbox/*.eml) 2>/dev/null | tail -1); [ -n "$f" ] || fail "no outbox file to Bob matching /$1/"; echo "$f"; }
decrypt() { # FILE OUT: Bob decrypts with openssl cms and verifies Alice's signature
  sed -e '/^X-Sender: /d' -e '/^X-Receiver: /d' "$1" | openssl cms -decrypt -recip "$PKI/users/bob@example.com.crt" \
    -inkey "$PKI/users/bob@example.com.pem" >"$2.inner" || fail "Bob cannot decrypt $1"
  openssl cms -verify -CAfile "$PKI/ca/root.crt" <"$2.inner" 2>"$2.verify" >"$2" || fail "Alice's signature does not verify"
  sed 's/^/    /' "$2.verify"
}

step "4. statement 1 to Bob, who has no certificate yet: it leaves signed, not encrypted"
statement 1
wait_log 'bob@example.com: not encrypted: no certificate collected'
grep -E '\| (bob@example.com: not encrypted|copy 1/1)' "$DEMO/serve.stderr" | sed -n 1,2p | cut -c25- | sed 's/^/    /'
s1=$(outbox_file 'Your statement no. 1')
grep -q 'smime-type=enveloped-data' "$s1" && fail "statement 1 was encrypted without a certificate?"

step "5. serve invites Bob: a signed invitation naming the collection address"
wait_log 'invite: sent invitation to bob@example.com'
inv=$(outbox_file '^Auto-Submitted: auto-generated')
grep -E '^(From|To|Subject|Auto-Submitted|Message-ID):' "$inv" | sed 's/^/    /'
sed -e '/^X-Sender: /d' -e '/^X-Receiver: /d' "$inv" | openssl cms -verify -CAfile "$PKI/ca/root.crt" 2>/dev/null \
  | grep -E 'secureme@example.net' | sed -n 1,2p | sed 's/^/    /' || fail "the invitation does not verify or name the address"

step "6. Bob answers (the mail of step 2); the inbound relay posts it to the webhook"
python3 - "$DEMO/bob-signed.eml" >"$DEMO/batch.json" <<'PY'
import json, sys
raw = open(sys.argv[1], encoding="utf-8").read()
print(json.dumps([{"msys": {"relay_message": {
    "msg_from": "bob@example.com", "rcpt_to": "secureme@example.net", "friendly_from": "bob@example.com",
    "protocol": "smtp", "customer_id": "1", "webhook_id": "demo",
    "content": {"email_rfc822": raw, "email_rfc822_is_base64": False}}}}]))
PY
code=$(curl -s -o "$DEMO/response" -w '%{http_code}' -H 'Content-Type: application/json' \
  -H 'X-MessageSystems-Webhook-Token: demo-token' -H 'X-MessageSystems-Batch-ID: demo-batch-1' \
  --data-binary @"$DEMO/batch.json" "http://127.0.0.1:$HTTP_PORT/")
echo "    HTTP $code $(cat "$DEMO/response")"
[ "$code" = 200 ] || fail "the webhook answered $code"
[ -f "$DEMO/store/bob@example.com.crt" ] || fail "Bob's certificate was not stored"
{ grep -E 'verdict|stored' "$DEMO/serve.stderr" | grep 'bob@example.com' | cut -c25- | cut -c1-150 | sed 's/^/    /'; } || true

step "7. the collector stored it, and serve sent Bob a confirmation: encrypted to that certificate, signed"
wait_log 'confirmation sent via outbox'
conf=$(outbox_file 'smime-type=enveloped-data')
decrypt "$conf" "$DEMO/confirmation.txt"
grep -E 'received and stored|valid until' "$DEMO/confirmation.txt" | sed 's/^/    /'
grep -q 'stored your e-mail certificate' "$DEMO/confirmation.txt" || fail "the confirmation does not say so"

step "8. statement 2 to Bob: now encrypted"
statement 2
wait_log 'bob@example.com: certificate found, will encrypt'
s2=$(outbox_file 'Your statement no. 2')
grep -q 'smime-type=enveloped-data' "$s2" || fail "statement 2 was not encrypted"
decrypt "$s2" "$DEMO/plain.txt"
sed 's/^/    /' "$DEMO/plain.txt"
grep -q 'statement 2: your balance is 1,234.56 EUR' "$DEMO/plain.txt" || fail "statement 2 did not decrypt to its text"

step "9. sealpost certs report"
"$SEALPOST" certs report --store "$DEMO/store" | sed -n '1,7p' | sed 's/^/    /'

step "10. stop the server (SIGTERM: finish, stop plugins, exit 0)"
kill -TERM "$SERVER_PID"; wait "$SERVER_PID"; rc=$?; SERVER_PID=""
grep -E 'serve: stopped' "$DEMO/serve.stderr" | cut -c25- | sed 's/^/    /'
[ "$rc" = 0 ] || fail "serve exited $rc"
printf '\n%sdemo passed%s: no certificate -> invited -> collected -> confirmed encrypted -> the next statement encrypted.\n' "$BOLD" "$PLAIN"

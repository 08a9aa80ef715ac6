#!/usr/bin/env bash
# examples/demo.sh [BUILD_DIR]: the whole story in one process.
#   1. demo keys: a CA, Alice (the application's signing identity), Bob, a DKIM key
#   2. Bob sends one DKIM-signed, S/MIME-signed mail; the inbound relay posts it
#      to the collector webhook of a running `sealpost serve`
#   3. the collector verifies it and stores Bob's certificate
#   4. the application injects a plain mail to Bob over SMTP into the same process
#   5. it leaves signed and encrypted; Bob decrypts it with openssl
# Exits non-zero if any step fails.
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
step() { printf '\n%s==> %s%s\n' "$BOLD" "$*" "$PLAIN"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

step "1. demo keys: a CA, Alice (sender identity), Bob (recipient), a DKIM key for example.com"
"$SRC/tests/pki/make_pki.sh" "$DEMO/pki" >/dev/null
PKI="$DEMO/pki"
openssl x509 -in "$PKI/users/bob@example.com.crt" -noout -subject -ext subjectAltName | sed 's/^/    /'

step "2. Bob's mail to secureme@example.net: S/MIME-signed by his mail client, DKIM-signed by his provider"
printf 'From: Bob <bob@example.com>\r\nTo: secureme@example.net\r\nSubject: please encrypt my statements\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello, here is my certificate.\r\n' >"$DEMO/bob-plain.eml"
"$SEALPOST" send -q --sign-detached --encrypt never --keys "$PKI/keys" "$DEMO/bob-plain.eml" >"$DEMO/bob-smime.eml"
dkimsign sel example.com "$PKI/dkim/example.com.key" <"$DEMO/bob-smime.eml" >"$DEMO/bob-signed.eml"
"$SEALPOST" show "$DEMO/bob-signed.eml" | grep -E '^(From|DKIM-Signature)|multipart/signed|pkcs7-signature|address' | cut -c1-110 | sed 's/^/    /'

step "3. sealpost serve: SMTP listener + collector plugin, one certificate store (empty), outbox relay"
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
[serve]
listen = 127.0.0.1:$SMTP_PORT
[admin]
listen = 127.0.0.1:0
[plugins]
load = collector
[collector]
listen = 127.0.0.1:$HTTP_PORT
token = demo-token
trusted-certs = $PKI/ca/bundle.crt
dkim-keys = $PKI/dkim/keys.txt
[log]
file = $DEMO/sealpost.log
INI
"$SEALPOST" serve --config "$DEMO/sealpost.ini" 2>"$DEMO/serve.stderr" &
SERVER_PID=$!
for _ in $(seq 100); do grep -q 'serve: ready' "$DEMO/serve.stderr" 2>/dev/null && break; sleep 0.1; done
grep -q 'serve: ready' "$DEMO/serve.stderr" || { cat "$DEMO/serve.stderr"; exit 1; }
grep -E 'collector: webhook listening|serve: ready' "$DEMO/serve.stderr" | cut -c25- | sed 's/^/    /'
ls "$DEMO/store" | sed 's/^/    store: /'; [ -z "$(ls "$DEMO/store")" ] && echo "    store: (empty)"

step "4. the inbound relay posts Bob's mail to the webhook (a batch of one)"
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
[ "$code" = 200 ]

step "5. what the collector logged"
sed -n '/Request from/,/batch done/p' "$DEMO/serve.stderr" | cut -c25- | cut -c1-150 | sed 's/^/    /'
[ -f "$DEMO/store/bob@example.com.crt" ] || { echo "demo: Bob's certificate was not stored" >&2; exit 1; }

step "6. the stored certificate (sealpost certs show)"
"$SEALPOST" certs show --store "$DEMO/store" bob@example.com 2>/dev/null | head -20 | sed 's/^/    /'

step "7. the application injects a plain statement to Bob over SMTP, into the same process"
printf 'From: Example Bank <alice@example.com>\r\nTo: Bob <bob@example.com>\r\nSubject: Your November statement\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nDear Bob, your balance is 1,234.56 EUR.\r\n' >"$DEMO/statement.eml"
curl -s --url "smtp://127.0.0.1:$SMTP_PORT" --mail-from alice@example.com --mail-rcpt bob@example.com \
  --upload-file "$DEMO/statement.eml" -v 2>&1 | grep -E '^< 250 2.0.0|^< [45]' | sed 's/^/    /'
grep -E '\| (bob@example.com: certificate found|copy 1/1|delivered)' "$DEMO/serve.stderr" | cut -c25- | sed 's/^/    /'

step "8. the outbox holds an enveloped-data message"
out=$(ls "$DEMO"/outbox/*.eml)
sed -e '/^X-Sender: /d' -e '/^X-Receiver: /d' "$out" >"$DEMO/sent.eml"
head -3 "$out" | sed 's/^/    /'
"$SEALPOST" show "$DEMO/sent.eml" | sed -n '/^$/,$p' | sed 's/^/    /'
grep -q 'smime-type=enveloped-data' "$DEMO/sent.eml"

step "9. Bob decrypts it with openssl cms -decrypt (and verifies Alice's signature)"
openssl cms -decrypt -recip "$PKI/users/bob@example.com.crt" -inkey "$PKI/users/bob@example.com.pem" <"$DEMO/sent.eml" >"$DEMO/inner.eml"
openssl cms -verify -CAfile "$PKI/ca/root.crt" <"$DEMO/inner.eml" 2>"$DEMO/verify.err" >"$DEMO/plain.txt"
sed 's/^/    /' "$DEMO/verify.err"; sed 's/^/    /' "$DEMO/plain.txt"
grep -q '1,234.56 EUR' "$DEMO/plain.txt"

step "10. stop the server (SIGTERM: finish, stop plugins, exit 0)"
kill -TERM "$SERVER_PID"; wait "$SERVER_PID"; rc=$?; SERVER_PID=""
grep -E 'plugins: stopped|serve: stopped' "$DEMO/serve.stderr" | cut -c25- | sed 's/^/    /'
[ "$rc" = 0 ]
printf '\n%sdemo passed%s: a certificate collected from inbound mail was used by the very next send, in one process.\n' "$BOLD" "$PLAIN"

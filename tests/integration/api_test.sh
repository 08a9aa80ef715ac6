#!/usr/bin/env bash
# api_test.sh: `sealpost send --api` against tests/servers/transmissions_api.py,
# a loopback stand-in for the transmissions endpoint (auth header, JSON
# shape, 200 with results, 401, 400/422 with errors, scripted 429/503).
# Asserts on the requests it logged (Authorization, JSON, recipients per
# split copy, campaign_id, options), on retries, on exit codes and the API's
# error messages in the log, on keep-alive across a batch, and that the API
# key is never logged.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/../servers/servers.sh"

STORE="$WORK/store"; cp -r "$PKI/store" "$STORE"
KEYS="$WORK/keys"; cp -a "$PKI/keys" "$KEYS"
KEY='key-Quokka-0815-secret'
LOGS="$WORK/all-logs"; : >"$LOGS"
export SPARKPOST_API_KEY="$KEY"
# Fast back-off for the tests: 10 ms, 20 ms, 40 ms...
CONF="$WORK/sealpost.ini"; printf '[api]\nretry-delay = 10\nretries = 3\n' >"$CONF"
send() { "$SEALPOST" send --config "$CONF" --store "$STORE" --keys "$KEYS" "$@"; }
keep_log() { cat "$WORK/err" >>"$LOGS"; }
# q EXPR: evaluates EXPR over the request log (rs: all requests, ts: the POSTed bodies)
q() { "$PY" -c '
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ts = [r["body"] for r in rs]
print(eval(sys.argv[2]))' "$API_LOG" "$1"; }
decrypt() { openssl cms -decrypt -recip "$PKI/users/$2.crt" -inkey "$PKI/users/$2.pem" -in "$1" 2>"$WORK/decrypt.err"; }
verify() { openssl cms -verify -CAfile "$PKI/ca/root.crt" -purpose smimesign 2>"$WORK/verify.err"; }

make_mail "$WORK/m1.eml" "Alice <alice@example.com>" "Bob <bob@example.com>"

case_ "a signed, encrypted copy: Authorization, JSON shape, tracking off, transactional, campaign; bob decrypts"
start_api ok --key "$KEY"
run_expect 0 send --sign --api "$API_URL" --campaign statements-2026 "$WORK/m1.eml"
keep_log
assert_eq 1 "$(q 'len(rs)')" "requests"
assert_eq "POST /api/v1/transmissions" "$(q 'rs[0]["method"] + " " + rs[0]["path"]')" "request line"
assert_eq "$KEY" "$(q 'rs[0]["headers"]["authorization"]')" "Authorization header"
assert_eq "application/json" "$(q 'rs[0]["headers"]["content-type"]')" "Content-Type"
assert_eq "statements-2026" "$(q 'ts[0]["campaign_id"]')" "campaign_id"
assert_eq "[('bob@example.com', 'Bob')]" "$(q '[(r["address"]["email"], r["address"]["name"]) for r in ts[0]["recipients"]]')" "recipients"
assert_eq "[('click_tracking', False), ('open_tracking', False), ('transactional', True)]" "$(q 'sorted(ts[0]["options"].items())')" "options"
assert_eq 200 "$(q 'rs[0]["status"]')" "status"
q 'ts[0]["content"]["email_rfc822"]' >"$WORK/got.eml"
decrypt "$WORK/got.eml" bob@example.com | verify >"$WORK/content" || die "bob cannot decrypt/verify what the API got: $(cat "$WORK/decrypt.err" "$WORK/verify.err")"
assert_file_contains "$WORK/content" 'Hello from the test suite.'
assert_file_contains "$WORK/err" 'delivered .* via api: transmission [0-9]+: 1 of 1 recipients accepted'
assert_file_contains "$WORK/err" 'api: http://127.0.0.1:[0-9]+ campaign=statements-2026 retries=3 key=\*\*\*\*\*\*\*\*'
stop_servers

case_ "split copies: one transmission per copy with its own recipients; default campaign sealpost"
start_api split --key "$KEY"
make_mail "$WORK/m2.eml" "alice@example.com" "Bob <bob@example.com>, Dave <dave@example.org>, frank@example.org" "Bcc: carol@example.net"
run_expect 0 send --api "$API_URL" "$WORK/m2.eml"
assert_eq 4 "$(q 'len(rs)')" "transmissions (the Bcc recipient has its own)"
assert_eq "[['bob@example.com'], ['carol@example.net'], ['dave@example.org'], ['frank@example.org']]" \
  "$(q 'sorted(sorted(r["address"]["email"] for r in t["recipients"]) for t in ts)')" "recipients per copy"
assert_eq "{'sealpost'}" "$(q 'set(t["campaign_id"] for t in ts)')" "campaign"
assert_eq "False" "$(q 'any("Bcc:" in t["content"]["email_rfc822"] for t in ts)')" "Bcc removed"
stop_servers

case_ "HTTPS with a certificate the system bundle does not trust: exit 69 at once (no retries), naming the fix"
TLS="$WORK/tls"; mkdir -p "$TLS"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TLS/api.key" -out "$TLS/api.crt" -days 2 -subj "/CN=127.0.0.1" \
  -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null
start_api tls --key "$KEY" --tls-cert "$TLS/api.crt" --tls-key "$TLS/api.key"
run_expect 69 send --api "https://${API_URL#http://}" --encrypt never "$WORK/m1.eml"
assert_file_contains "$WORK/err" "API server's certificate cannot be verified"
assert_file_lacks "$WORK/err" 'retrying in'
assert_file_contains "$WORK/err" '0 delivered, 0 partial, 0 deferred, 1 rejected'
assert_eq 0 "$(q 'len(rs)')" "requests that reached the API"
stop_servers

case_ "a batch keeps one connection alive"
start_api batch --key "$KEY"
for i in 1 2 3 4; do make_mail "$WORK/b$i.eml" "alice@example.com" "bob@example.com"; done
run_expect 0 send --api "$API_URL" "$WORK"/b?.eml
assert_eq 4 "$(q 'len(rs)')" "transmissions"
assert_eq 1 "$(q 'len(set(r["conn"] for r in rs))')" "connections"
assert_file_contains "$WORK/err" '4 delivered, 0 partial, 0 deferred, 0 rejected'
stop_servers

case_ "--track turns tracking on for a copy that is neither signed nor encrypted"
start_api track --key "$KEY"
run_expect 0 send --api "$API_URL" --track --encrypt never "$WORK/m1.eml"
assert_eq "[('click_tracking', True), ('open_tracking', True), ('transactional', True)]" "$(q 'sorted(ts[0]["options"].items())')" "options"
stop_servers

case_ "--track is refused with signing, with --encrypt always, and when a copy would be encrypted (64)"
start_api refuse --key "$KEY"
run_expect 64 send --api "$API_URL" --track --sign "$WORK/m1.eml"
assert_file_contains "$WORK/err" 'track.*sign.*break the signature'
run_expect 64 send --api "$API_URL" --track --sign-detached --encrypt never "$WORK/m1.eml"
run_expect 64 send --api "$API_URL" --track --encrypt always "$WORK/m1.eml"
run_expect 64 send --api "$API_URL" --track "$WORK/m1.eml"
assert_file_contains "$WORK/err" 'encrypted body cannot be tracked'
assert_eq 0 "$(q 'len(rs)')" "requests sent"
stop_servers

case_ "429 twice, then success: retried with back-off, delivered, exit 0"
start_api r429 --key "$KEY" --fail-first 2 --fail-status 429
run_expect 0 send --api "$API_URL" "$WORK/m1.eml"
assert_eq "[429, 429, 200]" "$(q '[r["status"] for r in rs]')" "statuses"
assert_eq 1 "$(q 'len(set(json.dumps(t, sort_keys=True) for t in ts))')" "the same body each time"
assert_file_contains "$WORK/err" 'attempt 1/4: HTTP 429: Too many requests'
stop_servers

case_ "503 three times, then success"
start_api r503 --key "$KEY" --fail-first 3 --fail-status 503
run_expect 0 send --api "$API_URL" "$WORK/m1.eml"
assert_eq "[503, 503, 503, 200]" "$(q '[r["status"] for r in rs]')" "statuses"
stop_servers

case_ "503 for ever: 1 + retries attempts, then exit 75 with the message"
start_api down --key "$KEY" --always 503
run_expect 75 send --api "$API_URL" "$WORK/m1.eml"
assert_eq 4 "$(q 'len(rs)')" "attempts"
assert_file_contains "$WORK/err" 'HTTP 503: scripted failure.*after 4 attempts'
assert_file_contains "$WORK/err" '0 delivered, 0 partial, 1 deferred, 0 rejected'
stop_servers

case_ "a wrong key: 401, exit 69, the API's message, no retry"
start_api auth --key "$KEY"
SPARKPOST_API_KEY=wrong-key run_expect 69 send --api "$API_URL" "$WORK/m1.eml"
keep_log
assert_eq 1 "$(q 'len(rs)')" "requests"
assert_file_contains "$WORK/err" 'HTTP 401: Unauthorized\.'
stop_servers

case_ "400 with errors: exit 69 and the message and description"
start_api invalid --key "$KEY" --invalid bob@example.com
run_expect 69 send --api "$API_URL" "$WORK/m1.eml"
assert_file_contains "$WORK/err" 'HTTP 400: invalid data format/type: Invalid recipient address bob@example.com \(code 1300\)'
assert_file_contains "$WORK/err" '0 delivered, 0 partial, 0 deferred, 1 rejected'
stop_servers

case_ "fewer recipients accepted than sent: partial, exit 69"
start_api partial --key "$KEY" --suppress frank@example.org
make_mail "$WORK/p.eml" "alice@example.com" "frank@example.org, grace@example.org"
run_expect 69 send --api "$API_URL" "$WORK/p.eml"
assert_file_contains "$WORK/err" '1 of 2 recipients accepted'
assert_file_contains "$WORK/err" '0 delivered, 1 partial, 0 deferred, 0 rejected'
stop_servers

case_ "the original's environment: SPARKPOST_HOST as a bare host:port is accepted (https then) and [api] key"
run_expect 78 env -u SPARKPOST_API_KEY "$SEALPOST" send --api env --store "$STORE" "$WORK/m1.eml"
assert_file_contains "$WORK/err" 'SPARKPOST_API_KEY'
start_api env --key "from-config-$KEY"
printf '[api]\nkey = from-config-%s\nretry-delay = 10\n[relay]\napi = %s\n' "$KEY" "$API_URL" >"$WORK/key.ini"
run_expect 0 env -u SPARKPOST_API_KEY "$SEALPOST" send --config "$WORK/key.ini" --store "$STORE" "$WORK/m1.eml"
assert_eq "from-config-$KEY" "$(q 'rs[0]["headers"]["authorization"]')" "key from [api] key"
# A bare host means https: this plain-http server then sees a TLS handshake, not a request.
SPARKPOST_HOST="${API_URL#http://}" run_expect 75 send --api env "$WORK/m1.eml"
assert_file_contains "$WORK/err" "api: https://127.0.0.1:[0-9]+ "
stop_servers

case_ "a closed port: exit 75 after the retries"
port=$(free_port)
run_expect 75 send --api "http://127.0.0.1:$port" "$WORK/m1.eml"
assert_file_contains "$WORK/err" "(Couldn't connect|Failed to connect).*after 4 attempts"

case_ "the API key never reached a log line"
keep_log
assert_file_lacks "$LOGS" "$KEY"

finish

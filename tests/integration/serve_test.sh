#!/usr/bin/env bash
# serve_test.sh: `sealpost serve` as one process: the plugin loader's error
# exits (with the test plugins of tests/plugins), the collector's webhook
# over real HTTP (every status and message, 413, keep-alive, base64, batch
# redelivery, 100 concurrent posts), the SMTP listener byte by byte with a
# raw-socket client (tests/integration/smtp_probe.py: pipelining,
# dot-stuffing, bare LF, 552, 500, 503, 451 when the upstream is down,
# STARTTLS, the allow-list), SIGHUP and SIGTERM, and the same-process
# promise: a certificate posted to the webhook encrypts the very next mail
# injected over SMTP, without a restart.
#
# Every server listens on port 0; the ports are read from its log. Nothing
# waits on a fixed delay except bounded polling for a log line.
source "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
PROBE="$SEALPOST_SOURCE_DIR/tests/integration/smtp_probe.py"
TEST_PLUGINS="${SEALPOST_TEST_PLUGINS:-$SEALPOST_BUILD_DIR/test-plugins}"
TOKEN='t0ken-Zebra'
FX="$SEALPOST_BUILD_DIR/collect-fixtures"
"$PY" "$SEALPOST_SOURCE_DIR/tests/fixtures/make_collect_fixtures.py" "$PKI" "$FX"

cleanup() {
  kill_serves
  rm -rf "$WORK"
}
trap cleanup EXIT
[ -n "${KEEP_WORK:-}" ] && trap 'kill_serves; echo "kept $WORK"' EXIT

# write_config NAME [extra INI lines...]: $WORK/NAME.ini with a fresh store
# $WORK/NAME/store and outbox $WORK/NAME/outbox; extra lines are appended.
write_config() {
  local name=$1; shift
  mkdir -p "$WORK/$name"
  {
    printf '[store]\ndir = %s\n' "$WORK/$name/store"
    printf '[relay]\nout-dir = %s\n' "$WORK/$name/outbox"
    printf '[admin]\nlisten = 127.0.0.1:0\n'  # never the default port: tests run in parallel
    printf '[serve]\nlisten = 127.0.0.1:0\nthreads = 4\n'
    local line; for line in "$@"; do printf '%s\n' "$line"; done
  } >"$WORK/$name.ini"
}

# collector_ini: the [plugins] and [collector] lines for the collector plugin.
collector_ini=(
  "[plugins]" "load = collector"
  "[collector]" "listen = 127.0.0.1:0" "token = $TOKEN" "trusted-certs = $PKI/ca/bundle.crt"
  "dkim-keys = $PKI/dkim/keys.txt" "max-body = 256k"
)

# probe PORT CHUNK...: a raw SMTP conversation (smtp_probe.py); the replies
# in $WORK/probe.out, REPLY_CODES the final reply codes in order.
probe() {
  local rc=0
  "$PY" "$PROBE" "$@" >"$WORK/probe.out" || rc=$?
  [ "$rc" == 0 ] || { cat "$WORK/probe.out" >&2; die "smtp_probe.py exited $rc"; }
  REPLY_CODES=$(grep -oE '^[0-9]{3} ' "$WORK/probe.out" | tr -d ' ' | xargs)
}

# wait_for_file FILE: until it exists (10 s).
wait_for_file() {
  local i
  for i in $(seq 200); do [ -e "$1" ] && return 0; sleep 0.05; done
  die "timed out waiting for $1"
}

# http METHOD PATH [curl options...]: one request to the webhook; sets CODE
# and leaves the response body in $WORK/resp, the headers in $WORK/resp.h.
http() {
  local method=$1 path=$2; shift 2
  CODE=$(curl -sS -X "$method" -o "$WORK/resp" -D "$WORK/resp.h" -w '%{http_code}' "$@" "http://127.0.0.1:$WEB_PORT$path")
}
# post FILE [curl options...]: a well-formed webhook POST of FILE.
post() {
  local file=$1; shift
  http POST / -H 'Content-Type: application/json' -H "X-MessageSystems-Webhook-Token: $TOKEN" \
    --data-binary "@$file" "$@"
}
assert_response() { # CODE BODY
  assert_eq "$1" "$CODE" "HTTP status"
  assert_eq "$2" "$(cat "$WORK/resp")" "response body"
}

# make_batch OUT BASE64(0|1) EML...: an inbound relay batch, one relay_message per file.
make_batch() {
  "$PY" - "$@" <<'EOF'
import base64, json, sys
out, b64 = sys.argv[1], sys.argv[2] == "1"
batch = []
for path in sys.argv[3:]:
    raw = open(path, "rb").read()
    batch.append({"msys": {"relay_message": {
        "msg_from": "sender@example.com", "rcpt_to": "secureme@inbound.example.com", "protocol": "smtp",
        "content": {"email_rfc822": base64.b64encode(raw).decode() if b64 else raw.decode("utf-8"),
                    "email_rfc822_is_base64": b64, "subject": "hi"}}}})
json.dump(batch, open(out, "w"))
EOF
}

# decoded_body FILE: the body of an outbox file (envelope lines skipped),
# transfer-decoded, line ends as LF.
decoded_body() {
  "$PY" - "$1" <<'EOF'
import email, email.policy, sys
raw = b"".join(l for l in open(sys.argv[1], "rb") if not l.startswith((b"X-Sender: ", b"X-Receiver: ")))
msg = email.message_from_bytes(raw, policy=email.policy.compat32)
sys.stdout.write(msg.get_payload(decode=True).decode("utf-8").replace("\r\n", "\n"))
EOF
}
fingerprint() { openssl x509 -in "$1" -noout -fingerprint -sha256 | cut -d= -f2; }
outbox_count() { find "$1" -maxdepth 1 -name '*.eml' 2>/dev/null | wc -l; }
newest_outbox() { ls "$1"/*.eml | sort | tail -1; }

# A self-signed server certificate for STARTTLS on 127.0.0.1.
TLS="$WORK/tls"; mkdir -p "$TLS"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TLS/server.key" -out "$TLS/server.crt" -days 2 \
  -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null

###########################################################################
# Plugin load errors
###########################################################################
write_config plugins
PLUG=(--plugins-dir "$TEST_PLUGINS")

case_ "a plugin whose file is missing: exit 78, the message names the file"
run_expect 78 "$SEALPOST" serve -c "$WORK/plugins.ini" "${PLUG[@]}" --load nosuch
assert_file_contains "$WORK/err" "plugin nosuch: no file $TEST_PLUGINS/libsealpost_nosuch_plugin.so"

case_ "a plugin built for another ABI version: exit 78"
run_expect 78 "$SEALPOST" serve -c "$WORK/plugins.ini" "${PLUG[@]}" --load badabi
assert_file_contains "$WORK/err" "plugin badabi: ABI version mismatch: plugin has [0-9]+, host needs [0-9]+ \\(rebuild the plugin\\)"
assert_file_lacks "$WORK/err" "start must never be called"

case_ "a shared object without the sealpost symbols: exit 78"
run_expect 78 "$SEALPOST" serve -c "$WORK/plugins.ini" "${PLUG[@]}" --load nosymbol
assert_file_contains "$WORK/err" "libsealpost_nosymbol_plugin.so has no symbol sealpost_plugin_abi"
run_expect 78 "$SEALPOST" serve -c "$WORK/plugins.ini" "${PLUG[@]}" --load nofactory
assert_file_contains "$WORK/err" "libsealpost_nofactory_plugin.so has no symbol sealpost_plugin_create"

case_ "a plugin whose start() throws: exit 70 naming it, and the process ends"
run_expect 70 "$SEALPOST" serve -c "$WORK/plugins.ini" "${PLUG[@]}" --load throwing
assert_file_contains "$WORK/err" "plugin throwing: start failed: test plugin refuses to start"

case_ "a bad [collector] setting makes start() fail as a configuration error: exit 78 naming the key"
write_config badconf "${collector_ini[@]}" "dkim = sometimes"
run_expect 78 "$SEALPOST" serve -c "$WORK/badconf.ini"
assert_file_contains "$WORK/err" "plugin collector: start failed: config: \[collector\] dkim = 'sometimes'"

case_ "a good plugin listed before a failing one is loaded, the failing one still stops the host"
run_expect 78 "$SEALPOST" serve -c "$WORK/plugins.ini" --load "collector, nosuch"
assert_file_contains "$WORK/err" "libsealpost_nosuch_plugin.so"

case_ "a plugin name that could be a path is refused"
run_expect 78 "$SEALPOST" serve -c "$WORK/plugins.ini" "${PLUG[@]}" --load "../x"
assert_file_contains "$WORK/err" "is not a plugin name"

###########################################################################
# The webhook over HTTP (server "web": collector + outbox, default plugin dir)
###########################################################################
write_config web "max-message-size = 64k" "${collector_ini[@]}"
start_serve web --log-file "$WORK/web.log"
WEB_PID=$PID
STORE="$WORK/web/store"
make_batch "$WORK/alice-b64.json" 1 "$FX/valid-detached.eml"
make_batch "$WORK/alice-raw.json" 0 "$FX/valid-detached.eml"
make_batch "$WORK/bob.json" 0 "$FX/valid-opaque.eml"
echo '[]' >"$WORK/empty.json"

case_ "GET /healthz answers 200"
http GET /healthz
assert_response 200 '{"status":"ok"}'

case_ "HEAD /healthz: the headers without a body, so the keep-alive connection stays in step"
"$PY" - "$WEB_PORT" <<'EOF' || die "HEAD then GET on one connection"
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
c.request("HEAD", "/healthz")
r = c.getresponse()
assert r.status == 200 and r.read() == b"" and r.getheader("Content-Length") == "15", (r.status, r.headers)
c.request("GET", "/healthz")   # on the same connection: fails if a body followed the HEAD answer
r = c.getresponse()
assert r.status == 200 and r.read() == b'{"status":"ok"}', r.status
c.request("HEAD", "/")
r = c.getresponse()
assert r.status == 405 and r.read() == b"", r.status
c.request("GET", "/healthz")
assert c.getresponse().status == 200
EOF

case_ "other paths are 404, other methods 405 with Allow: POST"
http POST /webhook -H 'Content-Type: application/json' -H "X-MessageSystems-Webhook-Token: $TOKEN" --data-binary '[]'
assert_response 404 '{"message":"Not Found"}'
http GET /
assert_response 405 '{"message":"Method Not Allowed"}'
assert_file_contains "$WORK/resp.h" '^[Aa]llow: POST'
http PUT / -H 'Content-Type: application/json' --data-binary '[]'
assert_response 405 '{"message":"Method Not Allowed"}'

case_ "a missing or wrong Content-Type is 400 with the original's message"
http POST / -H 'Content-Type:' -H "X-MessageSystems-Webhook-Token: $TOKEN" --data-binary '[]'
assert_response 400 '{"message":"Unknown Content-Type in request headers"}'
http POST / -H 'Content-Type: text/plain' -H "X-MessageSystems-Webhook-Token: $TOKEN" --data-binary '[]'
assert_response 400 '{"message":"Unknown Content-Type in request headers"}'
assert_file_contains "$WORK/resp.h" '^[Cc]ontent-[Tt]ype: application/json'

case_ "a missing or wrong token is 401 with the original's message, nothing stored"
http POST / -H 'Content-Type: application/json' --data-binary "@$WORK/alice-raw.json"
assert_response 401 '{"message":"Invalid X-MessageSystems-Webhook-Token in request headers"}'
http POST / -H 'Content-Type: application/json' -H 'X-MessageSystems-Webhook-Token: t0ken-Zebr' \
  --data-binary "@$WORK/alice-raw.json"
assert_response 401 '{"message":"Invalid X-MessageSystems-Webhook-Token in request headers"}'
assert_missing "$STORE/alice@example.com.crt"

case_ "malformed JSON is 400"
post /dev/stdin <<<'[{"msys":'
assert_response 400 '{"message":"Malformed JSON in request body"}'

case_ "Content-Type with a charset is accepted; an empty batch is 200"
post "$WORK/empty.json" -H 'Content-Type: application/json; charset=utf-8'
assert_response 200 '{"message":"ok"}'

case_ "a body over max-body is 413 and the server keeps serving"
head -c 300000 /dev/zero | tr '\0' ' ' >"$WORK/big.json"
post "$WORK/big.json"
assert_response 413 '{"message":"Request body too large"}'
http GET /healthz
assert_eq 200 "$CODE" "healthz after a 413"

case_ "keep-alive: two requests on one connection"
conns=$(curl -sS -o /dev/null -o /dev/null -w '%{http_code} %{num_connects}\n' \
  "http://127.0.0.1:$WEB_PORT/healthz" "http://127.0.0.1:$WEB_PORT/healthz")
assert_eq $'200 1\n200 0' "$conns" "status and new connections per request"

case_ "email_rfc822_is_base64=true: the decoded mail is collected"
post "$WORK/alice-b64.json"
assert_response 200 '{"message":"ok"}'
assert_exists "$STORE/alice@example.com.crt"
assert_eq "$(fingerprint "$PKI/users/alice@example.com.crt")" "$(fingerprint "$STORE/alice@example.com.crt")" "alice's fingerprint"
assert_file_contains "$WORK/web.err" '\| message 1: .*\(was base64\)'
assert_file_contains "$STORE/alice@example.com.json" '"source": "webhook"'

case_ "a batch id delivered again is answered 200 and not processed"
post "$WORK/bob.json" -H 'X-MessageSystems-Batch-ID: batch-7f3a'
assert_response 200 '{"message":"ok"}'
assert_exists "$STORE/bob@example.com.crt"
rm "$STORE/bob@example.com.crt" "$STORE/bob@example.com.json"
post "$WORK/bob.json" -H 'X-MessageSystems-Batch-ID: batch-7f3a'
assert_response 200 '{"message":"ok"}'
assert_missing "$STORE/bob@example.com.crt"
assert_file_contains "$WORK/web.err" 'batch batch-7f3a already processed: not processed again'
assert_file_contains "$STORE/.webhook-batch-ids" '^batch-7f3a$'
post "$WORK/bob.json" -H 'X-MessageSystems-Batch-ID: batch-7f3b'
assert_exists "$STORE/bob@example.com.crt"

case_ "the webhook log lines carry the '| ' prefix"
assert_file_contains "$WORK/web.err" 'Request from 127\.0\.0\.1:[0-9]+, method=POST, path=/'
assert_file_contains "$WORK/web.err" '\| batch done: 1 message\(s\), 1 accepted, 0 rejected'

###########################################################################
# SMTP listener conformance (same server: outbox transport, no TLS here)
###########################################################################
OUTBOX="$WORK/web/outbox"

case_ "pipelined EHLO/MAIL/RCPT/DATA in one write; dot-stuffed lines arrive unstuffed"
printf 'From: app@example.com\r\nTo: carol@example.net\r\nSubject: dots\r\nMessage-ID: <dots@example.com>\r\n\r\n..leading dot\r\n...two dots\r\n..\r\nmid.dle\r\nlast\r\n.\r\nQUIT\r\n' \
  >"$WORK/dots.data"
probe "$SMTP_PORT" 'EHLO probe.test\r\nMAIL FROM:<app@example.com>\r\nRCPT TO:<carol@example.net>\r\nDATA\r\n' \
  "@$WORK/dots.data"
assert_eq "220 250 250 250 354 250 221" "$REPLY_CODES" "reply codes"
assert_file_contains "$WORK/probe.out" '^250-PIPELINING$'
assert_file_lacks "$WORK/probe.out" 'STARTTLS'
assert_eq 1 "$(outbox_count "$OUTBOX")" "outbox files"
F=$(newest_outbox "$OUTBOX")
assert_file_contains "$F" '^X-Sender: <app@example.com>'
assert_file_contains "$F" '^X-Receiver: <carol@example.net>'
# The pipeline may re-encode the text (quoted-printable turns a lone "." into
# "=2E"); what counts is the decoded body.
assert_eq $'.leading dot\n..two dots\n.\nmid.dle\nlast' "$(decoded_body "$F")" "relayed body, decoded"

case_ "bare LF line ends in the data: 554, the connection is closed, nothing is relayed"
printf 'EHLO lf.test\nMAIL FROM:<app@example.com>\nRCPT TO:<carol@example.net>\nDATA\nFrom: app@example.com\nTo: carol@example.net\nSubject: lf\nMessage-ID: <lf@example.com>\n\nline one\n..dot\n.\nQUIT\n' \
  >"$WORK/lf.data"
probe "$SMTP_PORT" "@$WORK/lf.data"
assert_eq "220 250 250 250 354 554" "$REPLY_CODES" "reply codes"
assert_file_contains "$WORK/probe.out" '^554 5\.5\.2 bare LF in message data'
assert_eq 1 "$(outbox_count "$OUTBOX")" "outbox files"

case_ "SMTP smuggling (\\n.\\r\\n, \\r\\n.\\n, \\n.\\n, bare CR): 554, neither message is relayed"
for sep in '\n.\r\n' '\r\n.\n' '\n.\n' '\r.\r\n'; do
  printf "From: app@example.com\r\nTo: carol@example.net\r\nSubject: first\r\n\r\nfirst${sep}MAIL FROM:<admin@bank.example>\r\nRCPT TO:<carol@example.net>\r\nDATA\r\nFrom: admin@bank.example\r\nSubject: smuggled\r\n\r\nsmuggled\r\n.\r\nQUIT\r\n" \
    >"$WORK/smuggle.data"
  probe "$SMTP_PORT" 'EHLO s.test\r\nMAIL FROM:<app@example.com>\r\nRCPT TO:<carol@example.net>\r\nDATA\r\n' "@$WORK/smuggle.data"
  assert_eq "220 250 250 250 354 554" "$REPLY_CODES" "reply codes for separator $sep"
  assert_eq 1 "$(outbox_count "$OUTBOX")" "outbox files after separator $sep"
done
assert_eq "" "$(grep -l 'smuggled' "$OUTBOX"/*.eml || true)" "outbox files with the smuggled message"

case_ "an oversize message gets 552 after the data, nothing is relayed, the session goes on"
{
  printf 'From: app@example.com\r\nTo: carol@example.net\r\nSubject: big\r\n\r\n'
  line=$(printf '%076d' 0)
  for i in $(seq 1600); do printf '%s\r\n' "$line"; done
  printf '.\r\nNOOP\r\nQUIT\r\n'
} >"$WORK/big.data"
probe "$SMTP_PORT" 'EHLO big.test\r\nMAIL FROM:<app@example.com>\r\nRCPT TO:<carol@example.net>\r\nDATA\r\n' \
  "@$WORK/big.data"
assert_eq "220 250 250 250 354 552 250 221" "$REPLY_CODES" "reply codes"
assert_file_contains "$WORK/probe.out" '^552 5\.3\.4 message size exceeds the limit of 65536$'
assert_eq 1 "$(outbox_count "$OUTBOX")" "outbox files"

case_ "MAIL with SIZE= over the limit gets 552"
probe "$SMTP_PORT" 'EHLO s.test\r\nMAIL FROM:<app@example.com> SIZE=70000\r\nMAIL FROM:<app@example.com> SIZE=100\r\nQUIT\r\n'
assert_eq "220 250 552 250 221" "$REPLY_CODES" "reply codes"

case_ "an unknown command gets 500, commands out of sequence 503"
probe "$SMTP_PORT" 'MAIL FROM:<app@example.com>\r\nXYZZY\r\nEHLO u.test\r\nRCPT TO:<carol@example.net>\r\nDATA\r\nQUIT\r\n'
assert_eq "220 503 500 250 503 503 221" "$REPLY_CODES" "reply codes"

case_ "STARTTLS is refused when no certificate is configured"
probe "$SMTP_PORT" 'EHLO t.test\r\nSTARTTLS\r\nQUIT\r\n'
assert_file_contains "$WORK/probe.out" '^502 '

case_ "SIGHUP reopens the log file"
LOGF=$(ls "$WORK"/web_*.log)
assert_file_contains "$LOGF" 'serve: ready'
mv "$LOGF" "$WORK/web-rotated.log"
kill -HUP "$WEB_PID"
wait_for_log "$LOGF" 'serve: SIGHUP: log file reopened'
probe "$SMTP_PORT" 'QUIT\r\n'
wait_for_log "$LOGF" 'smtp: 127\.0\.0\.1:[0-9]+: connected'
assert_file_lacks "$WORK/web-rotated.log" 'SIGHUP: log file reopened'
kill -0 "$WEB_PID" || die "serve died on SIGHUP"

case_ "SIGTERM: a message half sent is finished and accepted, an idle client is told 421, exit 0"
# Client 1 is in the middle of DATA when the signal comes; it sends the rest
# only once the server has logged the signal. Client 2 is idle.
"$PY" - "$SMTP_PORT" "$WORK/busy.ready" "$WORK/busy.go" >"$WORK/busy.out" <<'EOF' &
import os, socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=15)
f = s.makefile("rb")
f.readline()
s.sendall(b"EHLO busy.test\r\nMAIL FROM:<app@example.com>\r\nRCPT TO:<carol@example.net>\r\nDATA\r\n")
while not f.readline().startswith(b"354 "):
    pass
s.sendall(b"From: app@example.com\r\nTo: carol@example.net\r\nSubject: in flight\r\n\r\nfirst half\r\n")
open(sys.argv[2], "w").close()
for _ in range(200):
    if os.path.exists(sys.argv[3]):
        break
    time.sleep(0.05)
s.sendall(b"second half\r\n.\r\n")
for line in f:
    print(line.decode().rstrip(), flush=True)
EOF
BUSY=$!
"$PY" - "$SMTP_PORT" "$WORK/idle.ready" >"$WORK/idle.out" <<'EOF' &
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=15)
f = s.makefile("rb")
f.readline()
s.sendall(b"EHLO idle.test\r\n")
while not f.readline().startswith(b"250 "):
    pass
open(sys.argv[2], "w").close()
for line in f:
    print(line.decode().rstrip(), flush=True)
EOF
IDLE=$!
wait_for_file "$WORK/busy.ready"
wait_for_file "$WORK/idle.ready"
before=$(outbox_count "$OUTBOX")
kill -TERM "$WEB_PID"
wait_for_log "$LOGF" 'serve: signal 15: no new connections'
touch "$WORK/busy.go"
wait "$IDLE" || die "idle client failed"
wait "$BUSY" || die "busy client failed"
wait_serve web "$WEB_PID"
assert_file_contains "$WORK/idle.out" '^421 '
assert_eq "250 421" "$(grep -oE '^[0-9]{3} ' "$WORK/busy.out" | tr -d ' ' | xargs)" "replies after the data"
assert_eq $((before + 1)) "$(outbox_count "$OUTBOX")" "outbox files"
assert_file_contains "$(newest_outbox "$OUTBOX")" '^second half'
assert_file_contains "$LOGF" 'plugins: stopped collector'
assert_file_contains "$LOGF" 'serve: stopped$'

###########################################################################
# STARTTLS, the allow-list, the upstream down
###########################################################################
case_ "STARTTLS with [serve] tls-cert/tls-key: offered, handshake, offered no more, mail accepted"
write_config tls "tls-cert = $TLS/server.crt" "tls-key = $TLS/server.key" \
  "${collector_ini[@]}" "tls-cert = $TLS/server.crt" "tls-key = $TLS/server.key"
start_serve tls
TLS_PID=$PID
"$PY" - "$SMTP_PORT" "$TLS/server.crt" <<'EOF' || die "smtplib STARTTLS session failed"
import smtplib, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=15) as s:
    s.ehlo("tls.test")
    assert s.has_extn("starttls"), "STARTTLS not offered"
    s.starttls(context=ctx)
    s.ehlo("tls.test")
    assert not s.has_extn("starttls"), "STARTTLS offered again inside TLS"
    s.sendmail("app@example.com", ["carol@example.net"],
               b"From: app@example.com\r\nTo: carol@example.net\r\nSubject: over tls\r\n\r\nsecret\r\n")
EOF
assert_eq 1 "$(outbox_count "$WORK/tls/outbox")" "outbox files"
assert_file_contains "$WORK/tls.err" 'smtp: 127\.0\.0\.1:[0-9]+: TLS started'
assert_file_contains "$WORK/tls.err" 'SMTP on 127\.0\.0\.1:[0-9]+ \(STARTTLS\)'

case_ "commands sent in plaintext behind STARTTLS are not executed (RFC 3207 section 6)"
probe "$SMTP_PORT" 'EHLO inject.test\r\nSTARTTLS\r\nMAIL FROM:<evil@example.com>\r\n'
assert_eq "220 250 220" "$REPLY_CODES" "reply codes"
assert_file_lacks "$WORK/probe.out" 'sender OK'

case_ "the collector over HTTPS with [collector] tls-cert/tls-key"
assert_file_contains "$WORK/tls.err" 'collector: webhook listening on https://127\.0\.0\.1:'
CODE=$(curl -sS --cacert "$TLS/server.crt" -o "$WORK/resp" -w '%{http_code}' "https://127.0.0.1:$WEB_PORT/healthz")
assert_response 200 '{"status":"ok"}'
CODE=$(curl -sS --cacert "$TLS/server.crt" -o "$WORK/resp" -w '%{http_code}' -H 'Content-Type: application/json' \
  -H "X-MessageSystems-Webhook-Token: $TOKEN" --data-binary "@$WORK/alice-raw.json" "https://127.0.0.1:$WEB_PORT/")
assert_response 200 '{"message":"ok"}'
assert_exists "$WORK/tls/store/alice@example.com.crt"
stop_serve tls "$TLS_PID"

case_ "a client outside [serve] allow is refused with 554"
write_config allow "allow = 10.0.0.0/8"
start_serve allow
ALLOW_PID=$PID
probe "$SMTP_PORT" 'EHLO a.test\r\nQUIT\r\n'
assert_eq "554 5.7.1 not allowed to connect" "$(cat "$WORK/probe.out")" "the only reply"
assert_file_contains "$WORK/allow.err" 'smtp: 127\.0\.0\.1:[0-9]+: refused, not in \[serve\] allow \(10\.0\.0\.0/8\)'
stop_serve allow "$ALLOW_PID"

case_ "the upstream relay is down: 451, nothing written, the session goes on"
CLOSED=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
mkdir -p "$WORK/down"
printf '[store]\ndir = %s\n[serve]\nlisten = 127.0.0.1:0\nthreads = 2\n[smtp]\ntimeout = 5\n[admin]\nlisten =\n' "$WORK/down/store" >"$WORK/down.ini"
start_serve down --smtp "smtp://127.0.0.1:$CLOSED"
DOWN_PID=$PID
printf 'From: app@example.com\r\nTo: carol@example.net\r\nSubject: down\r\n\r\nretry me\r\n.\r\nRSET\r\nQUIT\r\n' >"$WORK/down.data"
probe "$SMTP_PORT" 'EHLO d.test\r\nMAIL FROM:<app@example.com>\r\nRCPT TO:<carol@example.net>\r\nDATA\r\n' \
  "@$WORK/down.data"
assert_eq "220 250 250 250 354 451 250 221" "$REPLY_CODES" "reply codes"
assert_file_contains "$WORK/probe.out" '^451 4\.'
assert_eq "" "$(find "$WORK/down" -type f)" "files written by a server whose upstream is down"
stop_serve down "$DOWN_PID"

###########################################################################
# 100 concurrent posts (server "conc": 8 threads, a fresh store)
###########################################################################
write_config conc "${collector_ini[@]}"
sed -i 's/^threads = 4$/threads = 8/' "$WORK/conc.ini"
start_serve conc
CONC_PID=$PID
CSTORE="$WORK/conc/store"
make_batch "$WORK/bob-new.json" 0 "$FX/bob-new.eml"
make_batch "$WORK/bob-old.json" 0 "$FX/bob-old.eml"
make_batch "$WORK/dave.json" 0 "$FX/ec-signer.eml"
make_batch "$WORK/split.json" 0 "$FX/split-sign-enc.eml"
# concurrent LISTFILE: posts each file named in LISTFILE, 100 at once; every answer must be 200.
concurrent() {
  xargs -P 100 -I{} curl -sS -o /dev/null -w '%{http_code}\n' -H 'Content-Type: application/json' \
    -H "X-MessageSystems-Webhook-Token: $TOKEN" --data-binary @{} "http://127.0.0.1:$WEB_PORT/" <"$1" >"$WORK/codes"
  assert_eq "100 200" "$(sort "$WORK/codes" | uniq -c | xargs)" "answers to 100 concurrent posts"
}
# no_torn_files DIR: every .crt parses, every .json parses, no temporary files.
no_torn_files() {
  local f
  for f in "$1"/*.crt; do openssl x509 -in "$f" -noout 2>/dev/null || die "torn certificate $f"; done
  for f in "$1"/*.json; do "$PY" -c 'import json,sys; json.load(open(sys.argv[1]))' "$f" || die "torn metadata $f"; done
  # .history/<address>/ holds the certificates that are no longer current.
  assert_eq "" "$(find "$1" -mindepth 1 ! -name '*.crt' ! -name '*.json' ! -name .webhook-batch-ids \
    ! \( -type d \( -path "$1/.history" -o -path "$1/.history/*" \) \))" "stray files in the store"
}

case_ "100 concurrent posts for the same address: no torn files, the certificate that expires latest wins"
for i in $(seq 50); do echo "$WORK/bob-old.json"; echo "$WORK/bob-new.json"; done | shuf >"$WORK/list"
concurrent "$WORK/list"
no_torn_files "$CSTORE"
assert_eq "bob@example.com.crt" "$(cd "$CSTORE" && ls *.crt | xargs)" "certificates stored"
assert_eq "$(fingerprint "$PKI/users/bob@example.com.crt")" "$(fingerprint "$CSTORE/bob@example.com.crt")" "bob's certificate is the newer one"

case_ "100 concurrent posts for different addresses: no torn files, each address has its own certificate"
for i in $(seq 25); do printf '%s\n' "$WORK/alice-raw.json" "$WORK/dave.json" "$WORK/split.json" "$WORK/bob-old.json"; done \
  | shuf >"$WORK/list"
concurrent "$WORK/list"
no_torn_files "$CSTORE"
assert_eq "alice@example.com.crt bob@example.com.crt dave@example.org.crt split@example.com.crt" \
  "$(cd "$CSTORE" && ls *.crt | xargs)" "certificates stored"
assert_eq "$(fingerprint "$PKI/users/alice@example.com.crt")" "$(fingerprint "$CSTORE/alice@example.com.crt")" "alice"
assert_eq "$(fingerprint "$PKI/users/dave@example.org.crt")" "$(fingerprint "$CSTORE/dave@example.org.crt")" "dave"
assert_eq "$(fingerprint "$PKI/users/split@example.com.enc.crt")" "$(fingerprint "$CSTORE/split@example.com.crt")" "split (encryption certificate)"
assert_eq "$(fingerprint "$PKI/users/bob@example.com.crt")" "$(fingerprint "$CSTORE/bob@example.com.crt")" "bob still the newer one"

case_ "20 concurrent SMTP clients: every message accepted and relayed once"
"$PY" - "$SMTP_PORT" <<'EOF' || die "concurrent SMTP injection failed"
import smtplib, sys
from concurrent.futures import ThreadPoolExecutor
def send(i):
    with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30) as s:
        msg = f"From: app@example.com\r\nTo: carol@example.net\r\nSubject: n{i}\r\nMessage-ID: <n{i}@example.com>\r\n\r\nnumber {i}\r\n"
        return s.sendmail("app@example.com", ["carol@example.net"], msg.encode())
with ThreadPoolExecutor(20) as pool:
    assert all(r == {} for r in pool.map(send, range(20)))
EOF
assert_eq 20 "$(outbox_count "$WORK/conc/outbox")" "outbox files"
assert_eq 20 "$(cat "$WORK"/conc/outbox/*.eml | grep -E '^Message-ID: <n[0-9]+@example.com>' | sort -u | wc -l)" "distinct messages"
stop_serve conc "$CONC_PID"

###########################################################################
# The same-process promise
###########################################################################
case_ "same process: a certificate posted to the webhook encrypts the next mail injected over SMTP"
write_config e2e "${collector_ini[@]}"
start_serve e2e
E2E_PID=$PID
E2E_OUT="$WORK/e2e/outbox"
[ -z "$(ls -A "$WORK/e2e/store" 2>/dev/null | grep -v '^\.webhook-batch-ids$')" ] || die "the store is not empty at start"
make_mail "$WORK/plain.eml" app@example.com alice@example.com
inject() {
  "$PY" - "$SMTP_PORT" "$WORK/plain.eml" <<'EOF' || die "SMTP injection failed"
import smtplib, sys
with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30) as s:
    refused = s.sendmail("app@example.com", ["alice@example.com"], open(sys.argv[2], "rb").read())
    assert not refused, refused
EOF
}
inject
assert_eq 1 "$(outbox_count "$E2E_OUT")" "outbox files after the first mail"
FIRST=$(newest_outbox "$E2E_OUT")
assert_file_lacks "$FIRST" 'application/(x-)?pkcs7-mime'
assert_file_contains "$FIRST" '^Hello from the test suite\.'
assert_file_contains "$WORK/e2e.err" 'alice@example.com'

post "$WORK/alice-raw.json"
assert_response 200 '{"message":"ok"}'
assert_exists "$WORK/e2e/store/alice@example.com.crt"

inject
assert_eq 2 "$(outbox_count "$E2E_OUT")" "outbox files after the second mail"
SECOND=$(newest_outbox "$E2E_OUT")
[ "$SECOND" != "$FIRST" ] || die "no new outbox file"
assert_file_contains "$SECOND" 'smime-type="?enveloped-data'
assert_file_lacks "$SECOND" 'Hello from the test suite'
strip_envelope "$SECOND" >"$WORK/second.eml"
openssl cms -decrypt -recip "$PKI/users/alice@example.com.crt" -inkey "$PKI/users/alice@example.com.pem" \
  -in "$WORK/second.eml" -out "$WORK/second.txt" 2>"$WORK/decrypt.err" || { cat "$WORK/decrypt.err" >&2; die "decrypt"; }
assert_file_contains "$WORK/second.txt" $'^Hello from the test suite\\.\r?$'
assert_file_contains "$WORK/second.txt" $'^Second line\\.\r?$'
kill -0 "$E2E_PID" || die "the server is gone"
assert_eq 1 "$(grep -c 'serve: ready' "$WORK/e2e.err")" "starts of the server"
assert_eq 1 "$(grep -c 'plugins: loaded collector' "$WORK/e2e.err")" "loads of the plugin"
stop_serve e2e "$E2E_PID"

case_ "serve: an envelope recipient not in To/Cc (a Bcc) gets a copy of its own; the To copy does not name it"
write_config bcc
mkdir -p "$WORK/bcc/store"; cp "$PKI/store/bob@example.com.crt" "$PKI/store/carol@example.net.crt" "$WORK/bcc/store/"
start_serve bcc
BCC_PID=$PID
make_mail "$WORK/bcc.eml" app@example.com bob@example.com
"$PY" - "$SMTP_PORT" "$WORK/bcc.eml" <<'EOF' || die "SMTP injection failed"
import smtplib, sys
with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30) as s:
    refused = s.sendmail("app@example.com", ["bob@example.com", "carol@example.net"], open(sys.argv[2], "rb").read())
    assert not refused, refused
EOF
assert_eq 2 "$(outbox_count "$WORK/bcc/outbox")" "copies"
to_copy=$(grep -l '^X-Receiver: <bob@example.com>' "$WORK"/bcc/outbox/*.eml)
bcc_copy=$(grep -l '^X-Receiver: <carol@example.net>' "$WORK"/bcc/outbox/*.eml)
[ "$to_copy" != "$bcc_copy" ] || die "bob and carol share a copy"
strip_envelope "$to_copy" | openssl cms -cmsout -print >"$WORK/bcc-to.print" 2>&1 || die "openssl cannot print the To copy"
assert_eq 1 "$(grep -c 'd.ktri:' "$WORK/bcc-to.print")" "RecipientInfos in the To copy"
carol_serial=$(openssl x509 -in "$PKI/users/carol@example.net.crt" -noout -serial | cut -d= -f2)
grep -qi "$carol_serial" "$WORK/bcc-to.print" && die "the To copy names carol's certificate"
strip_envelope "$bcc_copy" | openssl cms -decrypt -recip "$PKI/users/carol@example.net.crt" \
  -inkey "$PKI/users/carol@example.net.pem" >"$WORK/bcc-carol.txt" 2>"$WORK/decrypt.err" || die "carol cannot read her copy"
assert_file_contains "$WORK/bcc-carol.txt" 'Hello from the test suite'
stop_serve bcc "$BCC_PID"

finish

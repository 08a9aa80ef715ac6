#!/usr/bin/env bash
# serve_hardening_test.sh: `sealpost serve` under attack, load, crash and
# shutdown, against real peers on loopback: the webhook refuses to start
# without a token (78) and listens on loopback by default; an
# unauthenticated client announcing a huge body is answered 401 without the
# body being read (memory stays flat); deeply nested JSON is 400 at once;
# kill -9 in the middle of a 400-message batch, restart, redeliver: every
# certificate is stored; kill -9 during a batch's group commit leaves only
# whole files and no 200; connection caps (SMTP 421, HTTP 503); descriptor
# exhaustion (ulimit -n) without spinning or flooding the log; the shutdown
# deadline cuts a client dribbling DATA with 421; a recipient refused 550 by
# the upstream (python3-aiosmtpd) after 250 gets the sender a DSN.
#
# Every server listens on port 0; ports are read from the logs. Nothing
# waits on a fixed delay except bounded polling; CPU and log-line counts
# are the outcome asserted under load, never wall-clock speed.
source "$(dirname "$0")/lib.sh"
source "$SEALPOST_SOURCE_DIR/tests/servers/servers.sh"

PY=/usr/bin/python3
PROBE="$SEALPOST_SOURCE_DIR/tests/integration/smtp_probe.py"
TOKEN='t0ken-Zebra'
FX="$SEALPOST_BUILD_DIR/collect-fixtures"
"$PY" "$SEALPOST_SOURCE_DIR/tests/fixtures/make_collect_fixtures.py" "$PKI" "$FX"

cleanup() {
  kill_serves
  stop_servers
  rm -rf "$WORK"
}
trap cleanup EXIT

# write_config NAME [extra INI lines...]: $WORK/NAME.ini, store and outbox under $WORK/NAME.
write_config() {
  local name=$1; shift
  mkdir -p "$WORK/$name"
  {
    printf '[store]\ndir = %s\n' "$WORK/$name/store"
    printf '[relay]\nout-dir = %s\n' "$WORK/$name/outbox"
    printf '[admin]\nlisten =\n[serve]\nlisten = 127.0.0.1:0\nthreads = 2\n'
    local line; for line in "$@"; do printf '%s\n' "$line"; done
  } >"$WORK/$name.ini"
}
collector_ini=(
  "[plugins]" "load = collector"
  "[collector]" "listen = 127.0.0.1:0" "token = $TOKEN" "trusted-certs = $PKI/ca/bundle.crt"
  "dkim-keys = $PKI/dkim/keys.txt"
)

# cpu_ticks PID: user + system CPU time of the process so far, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
post() {
  local file=$1; shift
  CODE=$(curl -sS -o "$WORK/resp" -w '%{http_code}' -H 'Content-Type: application/json' \
    -H "X-MessageSystems-Webhook-Token: $TOKEN" --data-binary "@$file" "$@" "http://127.0.0.1:$WEB_PORT/")
}
# make_batch OUT EML...: one relay_message per file (raw, not base64).
make_batch() {
  "$PY" - "$@" <<'EOF'
import json, sys
batch = [{"msys": {"relay_message": {"msg_from": "s@example.com", "rcpt_to": "in@inbound.example.com",
          "content": {"email_rfc822": open(p, "rb").read().decode(), "email_rfc822_is_base64": False}}}}
         for p in sys.argv[2:]]
json.dump(batch, open(sys.argv[1], "w"))
EOF
}
fingerprint() { openssl x509 -in "$1" -noout -fingerprint -sha256 | cut -d= -f2; }

###########################################################################
# The webhook's token and default address
###########################################################################
case_ "the webhook without a token refuses to start: exit 78 naming both ways out"
write_config notoken "[plugins]" "load = collector" "[collector]" "listen = 127.0.0.1:0"
run_expect 78 "$SEALPOST" serve -c "$WORK/notoken.ini"
assert_file_contains "$WORK/err" 'set \[collector\] token'
assert_file_contains "$WORK/err" 'allow-no-token = yes'
assert_file_lacks "$WORK/err" 'serve: ready'

case_ "allow-no-token = yes starts it (with a warning); an unknown value is a configuration error"
write_config opentoken "[plugins]" "load = collector" "[collector]" "listen = 127.0.0.1:0" "allow-no-token = yes"
start_serve opentoken
assert_file_contains "$WORK/opentoken.err" 'no webhook token configured and allow-no-token = yes: any client may post'
CODE=$(curl -sS -o "$WORK/resp" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary '[]' "http://127.0.0.1:$WEB_PORT/")
assert_eq 200 "$CODE" "an open webhook accepts a post without a token"
stop_serve opentoken "$PID"
write_config badflag "[plugins]" "load = collector" "[collector]" "listen = 127.0.0.1:0" "allow-no-token = maybe"
run_expect 78 "$SEALPOST" serve -c "$WORK/badflag.ini"
assert_file_contains "$WORK/err" "allow-no-token = 'maybe': expected yes or no"

case_ "without [collector] listen the webhook listens on 127.0.0.1:8855, not on every interface"
if "$PY" -c 'import socket; s=socket.socket(); s.bind(("0.0.0.0", 8855))' 2>/dev/null; then
  write_config deflisten "[plugins]" "load = collector" "[collector]" "token = $TOKEN"
  start_serve deflisten
  assert_file_contains "$WORK/deflisten.err" 'webhook listening on http://127\.0\.0\.1:8855,'
  stop_serve deflisten "$PID"
else
  echo "(port 8855 is in use on this machine: default-address case skipped)"
fi

###########################################################################
# Memory and time before authentication
###########################################################################
write_config web "${collector_ini[@]}" "max-body = 64M"
start_serve web
WEB_PID=$PID

case_ "40 unauthenticated clients announcing 50 MB bodies: each gets 401 without sending the body; memory stays flat"
rss_before=$(rss_kb "$WEB_PID")
"$PY" - "$WEB_PORT" >"$WORK/unauth.out" <<'EOF' || die "unauthenticated flood client failed"
import socket, sys, time
port = int(sys.argv[1])
socks = []
for i in range(40):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    token = b"" if i % 2 else b"X-MessageSystems-Webhook-Token: wrong\r\n"
    s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + token +
              b"Content-Length: 52428800\r\n\r\n" + b"[" * 65536)
    socks.append(s)
for s in socks:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    status = data.split(b"\r\n", 1)[0].decode()
    print(status)
    # The server closes: the rest of the announced body is never read.
    s.settimeout(10)
    try:
        while s.recv(65536):
            pass
        print("closed")
    except ConnectionResetError:
        print("closed")
EOF
assert_eq "40" "$(grep -c '^HTTP/1.1 401 Unauthorized$' "$WORK/unauth.out")" "401 answers"
assert_eq "40" "$(grep -c '^closed$' "$WORK/unauth.out")" "connections closed by the server"
rss_after=$(rss_kb "$WEB_PID")
[ $((rss_after - rss_before)) -lt 65536 ] || die "RSS grew by $((rss_after - rss_before)) kB for unauthenticated clients"
assert_file_contains "$WORK/web.err" '401: invalid webhook token'
assert_file_contains "$WORK/web.err" 'refused before the body was read'

case_ "an authenticated request announcing more than max-body is 413 before the body"
"$PY" - "$WEB_PORT" "$TOKEN" >"$WORK/big.out" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-MessageSystems-Webhook-Token: " +
          sys.argv[2].encode() + b"\r\nContent-Length: 1073741824\r\n\r\n")
print(s.recv(4096).split(b"\r\n", 1)[0].decode())
EOF
assert_eq "HTTP/1.1 413 Payload Too Large" "$(cat "$WORK/big.out")" "status line"

case_ "a JSON body nested 200000 deep is 400 at once and the server keeps serving"
"$PY" -c 'import sys; sys.stdout.write("[" * 200000)' >"$WORK/deep.json"
t0=$(cpu_ticks "$WEB_PID")
post "$WORK/deep.json"
assert_eq 400 "$CODE" "HTTP status"
assert_eq '{"message":"Malformed JSON in request body"}' "$(cat "$WORK/resp")" "body"
assert_file_contains "$WORK/web.err" 'nested deeper than 64 levels'
[ $(( $(cpu_ticks "$WEB_PID") - t0 )) -lt 100 ] || die "parsing the deep document cost more than 1 s of CPU"
CODE=$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$WEB_PORT/healthz")
assert_eq 200 "$CODE" "healthz after the deep document"

case_ "base64 with padding in the middle is refused for that message, with the reason in the log"
"$PY" - "$FX/valid-detached.eml" >"$WORK/b64bad.json" <<'EOF'
import base64, json, sys
good = base64.b64encode(open(sys.argv[1], "rb").read()).decode()
print(json.dumps([{"msys": {"relay_message": {"content": {"email_rfc822": "QQ==" + good, "email_rfc822_is_base64": True}}}}]))
EOF
post "$WORK/b64bad.json"
assert_eq 200 "$CODE" "HTTP status"
assert_missing "$WORK/web/store/alice@example.com.crt"
assert_file_contains "$WORK/web.err" 'message 1: email_rfc822 is not valid base64: .*data after the final padding at offset 4'
stop_serve web "$WEB_PID"

###########################################################################
# kill -9 in the middle of a batch
###########################################################################
case_ "kill -9 in the middle of a 400-message batch; after a restart the redelivered batch is processed"
write_config crash "${collector_ini[@]}" "max-body = 64M"
start_serve crash
CRASH_PID=$PID
# 396 messages that verify but store nothing new (Alice, already current
# after the first), then four addresses only the end of the batch holds.
files=("$FX/valid-detached.eml")
for i in $(seq 395); do files+=("$FX/valid-detached.eml"); done
files+=("$FX/valid-opaque.eml" "$FX/ec-signer.eml" "$FX/split-sign-enc.eml" "$FX/bob-new.eml")
make_batch "$WORK/big-batch.json" "${files[@]}"
curl -sS -o /dev/null --max-time 120 -H 'Content-Type: application/json' -H "X-MessageSystems-Webhook-Token: $TOKEN" \
  -H 'X-MessageSystems-Batch-ID: crash-batch-1' --data-binary "@$WORK/big-batch.json" "http://127.0.0.1:$WEB_PORT/" \
  >/dev/null 2>&1 &
CURL=$!
wait_for_log "$WORK/crash.err" '\| message 20: '
kill -KILL "$CRASH_PID"
wait "$CRASH_PID" 2>/dev/null || true
wait "$CURL" 2>/dev/null || true
grep -q '| message 400: ' "$WORK/crash.err" && die "the batch finished before the kill: the case proves nothing"
assert_missing "$WORK/crash/store/bob@example.com.crt"
[ ! -e "$WORK/crash/store/.webhook-batch-ids" ] || assert_file_lacks "$WORK/crash/store/.webhook-batch-ids" 'crash-batch-1'
mv "$WORK/crash.err" "$WORK/crash-1.err"
start_serve crash
CRASH_PID=$PID
post "$WORK/big-batch.json" -H 'X-MessageSystems-Batch-ID: crash-batch-1' --max-time 300
assert_eq 200 "$CODE" "HTTP status of the redelivery"
assert_file_lacks "$WORK/crash.err" 'already processed'
assert_file_contains "$WORK/crash.err" '\| batch done: 400 message\(s\)'
for a in alice@example.com bob@example.com dave@example.org split@example.com; do
  assert_exists "$WORK/crash/store/$a.crt"
done
assert_eq "$(fingerprint "$PKI/users/bob@example.com.crt")" "$(fingerprint "$WORK/crash/store/bob@example.com.crt")" "bob"
assert_file_contains "$WORK/crash/store/.webhook-batch-ids" '^crash-batch-1$'
# and now, fully processed, it is not processed a third time
post "$WORK/big-batch.json" -H 'X-MessageSystems-Batch-ID: crash-batch-1'
assert_eq 200 "$CODE" "HTTP status of a third delivery"
assert_file_contains "$WORK/crash.err" 'batch crash-batch-1 already processed'
stop_serve crash "$CRASH_PID"

case_ "group commit: kill -9 while a batch of 120 new certificates is being stored leaves only whole files; the redelivery stores all"
# 120 messages, each from its own address with its own certificate: the
# webhook stores them in groups (put_batch), each durable before the 200.
"$PY" "$SEALPOST_SOURCE_DIR/bench/gen_collect.py" "$PKI" "$WORK/gc-fixtures" 120 120 >/dev/null
GC_BATCH="$WORK/gc-fixtures/batch-00000.json"
write_config gc "${collector_ini[@]}" "max-body = 64M"
start_serve gc
GC_PID=$PID
curl -sS -o "$WORK/gc.resp" -w '%{http_code}' --max-time 120 -H 'Content-Type: application/json' \
  -H "X-MessageSystems-Webhook-Token: $TOKEN" -H 'X-MessageSystems-Batch-ID: gc-batch-1' \
  --data-binary "@$GC_BATCH" "http://127.0.0.1:$WEB_PORT/" >"$WORK/gc.code" 2>/dev/null &
CURL=$!
# The moment the first certificate of the batch appears: the group commit is
# renaming (or has just renamed) its files; kill the server there.
for i in $(seq 2000); do
  compgen -G "$WORK/gc/store/c*@example.com.crt" >/dev/null && break
  sleep 0.005
done
kill -KILL "$GC_PID"
wait "$GC_PID" 2>/dev/null || true
wait "$CURL" 2>/dev/null || true
grep -q '| batch done: ' "$WORK/gc.err" && die "the batch finished before the kill: the case proves nothing"
[ "$(cat "$WORK/gc.code" 2>/dev/null)" != 200 ] || die "a 200 was sent for a batch that was not fully stored"
[ ! -e "$WORK/gc/store/.webhook-batch-ids" ] || assert_file_lacks "$WORK/gc/store/.webhook-batch-ids" 'gc-batch-1'
visible=0
for crt in "$WORK"/gc/store/c*@example.com.crt; do
  [ -e "$crt" ] || continue
  visible=$((visible + 1))
  # whole: openssl reads it, and its metadata (renamed before it) names it
  fp=$(fingerprint "$crt" | tr -d : | tr 'A-F' 'a-f') || die "$crt is not a whole certificate"
  assert_eq "$fp" "$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["fingerprint"])' "${crt%.crt}.json")" \
    "metadata of $(basename "$crt")"
done
echo "  ($visible of 120 certificates visible at the kill)"
mv "$WORK/gc.err" "$WORK/gc-1.err"
start_serve gc
GC_PID=$PID
post "$GC_BATCH" -H 'X-MessageSystems-Batch-ID: gc-batch-1' --max-time 300
assert_eq 200 "$CODE" "HTTP status of the redelivery"
assert_file_contains "$WORK/gc.err" '\| batch done: 120 message\(s\), 120 accepted'
assert_eq 120 "$(ls "$WORK"/gc/store/c*@example.com.crt | wc -l)" "certificates stored"
assert_eq 120 "$(ls "$WORK"/gc/store/c*@example.com.json | wc -l)" "metadata files stored"
assert_file_contains "$WORK/gc/store/.webhook-batch-ids" '^gc-batch-1$'
stop_serve gc "$GC_PID"

case_ "the webhook's work runs on the worker pool: with one io thread, SMTP greets while a big batch is processed"
write_config onethread "${collector_ini[@]}" "max-body = 64M"
sed -i 's/^threads = 2$/threads = 1/' "$WORK/onethread.ini"
start_serve onethread
ONE_PID=$PID
curl -sS -o /dev/null --max-time 300 -H 'Content-Type: application/json' -H "X-MessageSystems-Webhook-Token: $TOKEN" \
  --data-binary "@$WORK/big-batch.json" "http://127.0.0.1:$WEB_PORT/" >/dev/null 2>&1 &
CURL=$!
wait_for_log "$WORK/onethread.err" '\| message 20: '
probe_out=$("$PY" "$PROBE" "$SMTP_PORT" 'QUIT\r\n')
assert_text_contains "$probe_out" '^220 '
grep -q 'batch done' "$WORK/onethread.err" && die "the batch ended before the SMTP greeting: the case proves nothing"
wait "$CURL" || die "the batch post failed"
assert_file_contains "$WORK/onethread.err" '\| batch done: 400 message\(s\)'
stop_serve onethread "$ONE_PID"

###########################################################################
# Connection caps and descriptor exhaustion
###########################################################################
case_ "over [serve] and [collector] max-connections: SMTP 421 4.7.0, HTTP 503; the log stays short"
write_config cap "max-connections = 5" "${collector_ini[@]}" "max-connections = 5"
start_serve cap
CAP_PID=$PID
t0=$(cpu_ticks "$CAP_PID")
"$PY" - "$SMTP_PORT" "$WEB_PORT" >"$WORK/cap.out" <<'EOF' || die "cap client failed"
import socket, sys
smtp, web = int(sys.argv[1]), int(sys.argv[2])
held = []
for _ in range(5):
    s = socket.create_connection(("127.0.0.1", smtp), timeout=10)
    assert s.recv(1024).startswith(b"220 "), "a session under the cap is greeted"
    held.append(s)
    h = socket.create_connection(("127.0.0.1", web), timeout=10)
    held.append(h)
import time
time.sleep(0.3)  # the HTTP server registers its sessions on its own threads
for _ in range(200):
    s = socket.create_connection(("127.0.0.1", smtp), timeout=10)
    print("smtp", s.recv(1024).decode().strip())
    s.close()
for _ in range(200):
    h = socket.create_connection(("127.0.0.1", web), timeout=10)
    try:
        h.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        print("http", h.recv(4096).split(b"\r\n", 1)[0].decode())
    except ConnectionResetError:
        print("http RESET")
    h.close()
for s in held:
    s.close()
EOF
assert_eq 200 "$(grep -c '^smtp 421 4\.7\.0 too many connections' "$WORK/cap.out")" "SMTP refusals"
assert_eq 200 "$(grep -c '^http HTTP/1.1 503 Service Unavailable$' "$WORK/cap.out")" "HTTP refusals"
n=$(grep -c 'connection(s) refused' "$WORK/cap.err" || true)
[ "$n" -le 6 ] || die "$n log lines for 400 refused connections"
# The held connections are gone: both listeners serve again.
sleep 0.2
probe_out=$("$PY" "$PROBE" "$SMTP_PORT" 'QUIT\r\n')
assert_text_contains "$probe_out" '^220 '
CODE=$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$WEB_PORT/healthz")
assert_eq 200 "$CODE" "healthz once under the cap again"
stop_serve cap "$CAP_PID"

case_ "descriptors exhausted (ulimit -n 64): no spinning, a short log, and service resumes"
write_config fds "max-connections = 1000" "${collector_ini[@]}" "max-connections = 1000"
SERVE_ULIMIT_N=64 start_serve fds
FDS_PID=$PID
"$PY" - "$SMTP_PORT" "$WEB_PORT" "$WORK/fds.held" "$WORK/fds.release" <<'EOF' &
import os, socket, sys, time
smtp, web = int(sys.argv[1]), int(sys.argv[2])
held = []
for i in range(150):
    try:
        held.append(socket.create_connection(("127.0.0.1", smtp if i % 2 else web), timeout=5))
    except OSError:
        pass
open(sys.argv[3], "w").close()
while not os.path.exists(sys.argv[4]):
    time.sleep(0.05)
for s in held:
    s.close()
EOF
FLOOD=$!
for i in $(seq 200); do [ -e "$WORK/fds.held" ] && break; sleep 0.05; done
wait_for_log "$WORK/fds.err" 'accept failed: Too many open files'
t0=$(cpu_ticks "$FDS_PID")
sleep 3
used=$(( $(cpu_ticks "$FDS_PID") - t0 ))
[ "$used" -lt 60 ] || die "the server used $used CPU ticks in 3 s while descriptors were exhausted (spinning)"
n=$(grep -c 'accept failed' "$WORK/fds.err" || true)
[ "$n" -le 6 ] || die "$n 'accept failed' log lines in about 3 s"
touch "$WORK/fds.release"
wait "$FLOOD" || true
sleep 1.5   # the listeners try again within 1 s of a failure
probe_out=$("$PY" "$PROBE" "$SMTP_PORT" 'QUIT\r\n')
assert_text_contains "$probe_out" '^220 '
CODE=$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$WEB_PORT/healthz")
assert_eq 200 "$CODE" "healthz after the descriptors came back"
kill -0 "$FDS_PID" || die "serve died"
stop_serve fds "$FDS_PID"

###########################################################################
# The shutdown deadline
###########################################################################
case_ "SIGTERM with [serve] shutdown-timeout = 2: a client dribbling DATA gets 421 and the process exits 0"
write_config dribble "shutdown-timeout = 2"
start_serve dribble
DRIB_PID=$PID
"$PY" - "$SMTP_PORT" "$WORK/dribble.ready" >"$WORK/dribble.out" <<'EOF' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
f = s.makefile("rb")
f.readline()
s.sendall(b"EHLO slow.test\r\nMAIL FROM:<app@example.com>\r\nRCPT TO:<carol@example.net>\r\nDATA\r\n")
while not f.readline().startswith(b"354 "):
    pass
s.sendall(b"From: app@example.com\r\nTo: carol@example.net\r\nSubject: slow\r\n\r\n")
open(sys.argv[2], "w").close()
s.setblocking(False)
got = b""
for i in range(600):   # one line every 0.1 s for up to 60 s, never the final dot
    try:
        s.sendall(b"still typing %d\r\n" % i)
    except OSError:
        break
    try:
        chunk = s.recv(4096)
        if not chunk:
            break
        got += chunk
    except BlockingIOError:
        pass
    except OSError:
        break
    time.sleep(0.1)
print(got.decode(errors="replace").strip())
EOF
CLIENT=$!
for i in $(seq 200); do [ -e "$WORK/dribble.ready" ] && break; sleep 0.05; done
sleep 0.5
kill -TERM "$DRIB_PID"
t_start=$(date +%s)
rc=0; wait "$DRIB_PID" || rc=$?
t_end=$(date +%s)
assert_eq 0 "$rc" "exit code after SIGTERM"
[ $((t_end - t_start)) -le 15 ] || die "the process took $((t_end - t_start)) s to exit with a 2 s deadline"
wait "$CLIENT" || true
assert_file_contains "$WORK/dribble.out" '^421 '
assert_file_contains "$WORK/dribble.err" 'shutdown deadline reached: closing 1 session'
assert_file_contains "$WORK/dribble.err" 'still sending DATA at the shutdown deadline: 421, closing'
assert_eq 0 "$(find "$WORK/dribble/outbox" -name '*.eml' 2>/dev/null | wc -l)" "outbox files"
assert_file_contains "$WORK/dribble.err" 'serve: stopped$'

###########################################################################
# DSN after partial acceptance (python3-aiosmtpd upstream)
###########################################################################
case_ "one of two recipients refused 550 upstream: the client gets 250 and the sender gets a DSN with the upstream's reply"
start_smtp upstream --reject-rcpt bob@example.net=550
write_config dsn "[smtp]" "timeout = 10" "starttls = off"
start_serve dsn --smtp "smtp://127.0.0.1:$SMTP_PORT_NOW"
DSN_PID=$PID
"$PY" - "$SMTP_PORT" >"$WORK/dsn.client" <<'EOF' || die "client failed"
import smtplib, sys
with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30) as s:
    s.ehlo("client.test")
    s.mail("app@example.com")
    assert s.rcpt("alice@example.net")[0] == 250
    assert s.rcpt("bob@example.net")[0] == 250
    code, text = s.data(b"From: app@example.com\r\nTo: alice@example.net, bob@example.net\r\nSubject: monthly statement\r\n"
                        b"Message-ID: <dsn-test@example.com>\r\n\r\nhello\r\n")
    print(code, text.decode())
EOF
assert_file_contains "$WORK/dsn.client" '^250 '
wait_for_lines "$TRANSCRIPT" '"type": "message"' 2
jl "$TRANSCRIPT" '[r for r in rs if r["type"] == "message"][0]["rcpt_tos"]' >"$WORK/first.rcpt"
assert_eq "['alice@example.net']" "$(cat "$WORK/first.rcpt")" "recipients the upstream accepted"
jl "$TRANSCRIPT" '[r for r in rs if r["type"] == "message"][1]["mail_from"]' >"$WORK/dsn.from"
assert_eq "<>" "$(cat "$WORK/dsn.from")" "the DSN's reverse-path (null; aiosmtpd records it as <>)"
jl "$TRANSCRIPT" '[r for r in rs if r["type"] == "message"][1]["rcpt_tos"]' >"$WORK/dsn.to"
assert_eq "['app@example.com']" "$(cat "$WORK/dsn.to")" "the DSN goes to the envelope sender"
jl "$TRANSCRIPT" '[r for r in rs if r["type"] == "message"][1]["data"]' >"$WORK/dsn.eml"
assert_file_contains "$WORK/dsn.eml" 'Content-Type: multipart/report; report-type=delivery-status'
assert_file_contains "$WORK/dsn.eml" '^Content-Type: message/delivery-status'
assert_file_contains "$WORK/dsn.eml" '^Final-Recipient: rfc822; bob@example.net'
assert_file_contains "$WORK/dsn.eml" '^Action: failed'
assert_file_contains "$WORK/dsn.eml" '^Status: 5\.1\.1'
assert_file_contains "$WORK/dsn.eml" '^Diagnostic-Code: smtp; 550 5\.1\.1 Mailbox unavailable: no such user'
assert_file_contains "$WORK/dsn.eml" '^Content-Type: text/rfc822-headers'
assert_file_contains "$WORK/dsn.eml" '^Subject: monthly statement'
assert_file_lacks "$WORK/dsn.eml" 'Final-Recipient: rfc822; alice@example.net'
# The DSN parses as a report for an independent MIME parser (Python's email).
"$PY" - "$WORK/dsn.eml" <<'EOF' || die "the DSN is not a well-formed multipart/report"
import email, sys
m = email.message_from_string(open(sys.argv[1]).read())
assert m.get_content_type() == "multipart/report", m.get_content_type()
assert m.get_param("report-type") == "delivery-status"
types = [p.get_content_type() for p in m.get_payload()]
assert types == ["text/plain", "message/delivery-status", "text/rfc822-headers"], types
EOF
assert_file_contains "$WORK/dsn.err" '1 recipient\(s\) refused upstream: DSN sent to <app@example.com>'

case_ "a message with a null sender: 250, no DSN (never a bounce to a bounce), an error in the log"
"$PY" - "$SMTP_PORT" <<'EOF' || die "client failed"
import smtplib, sys
with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30) as s:
    refused = s.sendmail("", ["alice@example.net", "bob@example.net"],
                         b"From: mailer@example.com\r\nTo: alice@example.net\r\nSubject: bounce\r\n\r\nx\r\n")
    assert refused == {}, refused
EOF
wait_for_lines "$TRANSCRIPT" '"type": "message"' 3
sleep 0.5
assert_eq 3 "$(grep -c '"type": "message"' "$TRANSCRIPT")" "upstream messages (no DSN for the null sender)"
assert_file_contains "$WORK/dsn.err" 'refused upstream after others were accepted; no DSN: the sender is null'
stop_serve dsn "$DSN_PID"

finish

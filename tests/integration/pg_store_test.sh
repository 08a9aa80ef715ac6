#!/usr/bin/env bash
# pg_store_test.sh: the postgres store with real processes on the real
# server ctest started (tests/pg/pg_server.sh; PGHOST/PGUSER in the
# environment): `sealpost store init`; two `sealpost serve` nodes on one
# database: a certificate posted to node A's webhook encrypts the next mail
# injected into node B over SMTP; the same batch id posted to A then B is
# processed once; a database that cannot be reached at start is exit 75;
# concurrent puts for one address from both nodes end with the
# later-expiring one current and whole records; `store migrate` files ->
# postgres -> files gives identical `certs list`, and a second run copies
# nothing; a database (a server of its own) stopped and restarted under
# load: 451 and 5xx while it is down, every mail answered 250 in the outbox
# and encrypted, every batch answered 200 stored, and both reconnect.
source "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
: "${PGHOST:?set by ctest: the socket directory of the test server}"
TOKEN='t0ken-Zebra'
FX="$SEALPOST_BUILD_DIR/collect-fixtures"
"$PY" "$SEALPOST_SOURCE_DIR/tests/fixtures/make_collect_fixtures.py" "$PKI" "$FX"
DB="pg_store_$$"
URL="host=$PGHOST user=${PGUSER:-sealpost} dbname=$DB"

cleanup() {
  kill_serves
  psql -q -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
psql -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null

# write_config NAME [extra INI lines...]: a node on the shared database.
write_config() {
  local name=$1; shift
  mkdir -p "$WORK/$name"
  {
    printf '[store]\nbackend = postgres\nurl = %s\n' "$URL"
    printf '[relay]\nout-dir = %s\n' "$WORK/$name/outbox"
    printf '[admin]\nlisten =\n[serve]\nlisten = 127.0.0.1:0\nthreads = 4\n'
    printf '[plugins]\nload = collector\n'
    printf '[collector]\nlisten = 127.0.0.1:0\ntoken = %s\ntrusted-certs = %s\ndkim-keys = %s\n' \
      "$TOKEN" "$PKI/ca/bundle.crt" "$PKI/dkim/keys.txt"
    local line; for line in "$@"; do printf '%s\n' "$line"; done
  } >"$WORK/$name.ini"
}

# post PORT FILE [BATCH-ID]: sets CODE.
post() {
  local port=$1 file=$2 id=${3:-}
  local hdr=()
  [ -n "$id" ] && hdr=(-H "X-MessageSystems-Batch-ID: $id")
  CODE=$(curl -sS -o "$WORK/resp" -w '%{http_code}' -H 'Content-Type: application/json' \
    -H "X-MessageSystems-Webhook-Token: $TOKEN" "${hdr[@]}" --data-binary "@$file" "http://127.0.0.1:$port/")
}
make_batch() {
  "$PY" - "$@" <<'EOF'
import json, sys
out = sys.argv[1]
batch = [{"msys": {"relay_message": {"msg_from": "sender@example.com", "rcpt_to": "secureme@inbound.example.com",
          "protocol": "smtp", "content": {"email_rfc822": open(p, "rb").read().decode("utf-8"),
          "email_rfc822_is_base64": False, "subject": "hi"}}}} for p in sys.argv[2:]]
json.dump(batch, open(out, "w"))
EOF
}
# inject PORT: one plain mail to alice@example.com over SMTP.
inject() {
  "$PY" - "$1" "$WORK/plain.eml" <<'EOF' || die "SMTP injection failed"
import smtplib, sys
with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30) as s:
    refused = s.sendmail("app@example.com", ["alice@example.com"], open(sys.argv[2], "rb").read())
    assert not refused, refused
EOF
}
outbox_count() { find "$1" -maxdepth 1 -name '*.eml' 2>/dev/null | wc -l; }
newest_outbox() { ls "$1"/*.eml | sort | tail -1; }

case_ "a database without a schema: serve refuses (78) and names store init"
write_config a
run_expect 78 "$SEALPOST" serve -c "$WORK/a.ini"
assert_file_contains "$WORK/err" 'sealpost store init'

case_ "store init creates the schema, and a second run finds it"
run_expect 0 "$SEALPOST" store init --url "$URL"
assert_file_contains "$WORK/out" 'schema version 2 created'
run_expect 0 "$SEALPOST" store init --url "$URL"
assert_file_contains "$WORK/out" 'schema version 2 already there'

case_ "a database that cannot be reached at start: exit 75 with the connection error, for serve and send"
write_config down
sed -i "s|^url = .*|url = host=$WORK/nonexistent dbname=x connect_timeout=2|" "$WORK/down.ini"
run_expect 75 "$SEALPOST" serve -c "$WORK/down.ini"
assert_file_contains "$WORK/err" 'cannot connect'
make_mail "$WORK/plain.eml" app@example.com alice@example.com
run_expect 75 "$SEALPOST" send -c "$WORK/down.ini" --encrypt always "$WORK/plain.eml"
assert_file_contains "$WORK/err" 'cannot connect'

case_ "two nodes, one database: a certificate posted to node A encrypts node B's next mail"
write_config a
write_config b
start_serve a; A_PID=$PID; A_WEB=$WEB_PORT
start_serve b; B_PID=$PID; B_SMTP=$SMTP_PORT; B_WEB=$WEB_PORT
inject "$B_SMTP"
assert_eq 1 "$(outbox_count "$WORK/b/outbox")" "B's outbox after the first mail"
FIRST=$(newest_outbox "$WORK/b/outbox")
assert_file_lacks "$FIRST" 'application/(x-)?pkcs7-mime'   # no certificate yet (and B has looked alice up)
make_batch "$WORK/alice.json" "$FX/valid-detached.eml"
post "$A_WEB" "$WORK/alice.json" batch-0001
assert_eq 200 "$CODE" "node A's answer"
inject "$B_SMTP"
assert_eq 2 "$(outbox_count "$WORK/b/outbox")" "B's outbox after the second mail"
SECOND=$(newest_outbox "$WORK/b/outbox")
assert_file_contains "$SECOND" 'smime-type="?enveloped-data'
assert_file_lacks "$SECOND" 'Hello from the test suite'
sed -e '/^X-Sender: /d' -e '/^X-Receiver: /d' "$SECOND" >"$WORK/second.eml"
openssl cms -decrypt -recip "$PKI/users/alice@example.com.crt" -inkey "$PKI/users/alice@example.com.pem" \
  -in "$WORK/second.eml" -out "$WORK/second.txt" 2>"$WORK/decrypt.err" || { cat "$WORK/decrypt.err" >&2; die "decrypt"; }
assert_file_contains "$WORK/second.txt" $'^Hello from the test suite\\.\r?$'

case_ "the same batch id posted to A then B is processed once"
assert_eq 1 "$(grep -c 'collect: webhook message 1 of batch batch-0001' "$WORK/a.err")" "A processed it"
post "$B_WEB" "$WORK/alice.json" batch-0001
assert_eq 200 "$CODE" "node B's answer to the redelivery"
assert_file_contains "$WORK/b.err" 'batch batch-0001 already processed'
assert_eq 0 "$(grep -c 'collect: webhook message 1 of batch batch-0001' "$WORK/b.err")" "B processed it"
assert_eq 1 "$(psql -At -d "$DB" -c "SELECT count(*) FROM sealpost_webhook_batches WHERE id = 'batch-0001'")" "batch rows"
case_ "concurrent puts for one address from both nodes: the later-expiring one ends current, nothing torn"
make_batch "$WORK/bob-old.json" "$FX/bob-old.eml"
make_batch "$WORK/bob-new.json" "$FX/bob-new.eml"
# post_bg PORT FILE ID OUT: a webhook POST in the background, its status in
# OUT; BG_PID is its process.
post_bg() {
  curl -sS -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    -H "X-MessageSystems-Webhook-Token: $TOKEN" -H "X-MessageSystems-Batch-ID: $3" \
    --data-binary "@$2" "http://127.0.0.1:$1/" >"$4" &
  BG_PID=$!
}
BOB="address = 'bob@example.com'"
for round in 1 2 3 4 5 6; do
  # Start from nothing each round (and tell both nodes, as a put would).
  psql -q -d "$DB" -c "DELETE FROM sealpost_certificates WHERE $BOB" \
    -c "SELECT pg_notify('sealpost_store', 'bob@example.com')" >/dev/null
  if (( round % 2 )); then OLD_TO=$A_WEB NEW_TO=$B_WEB; else OLD_TO=$B_WEB NEW_TO=$A_WEB; fi
  post_bg "$OLD_TO" "$WORK/bob-old.json" "race-$round-old" "$WORK/code-old"; P1=$BG_PID
  post_bg "$NEW_TO" "$WORK/bob-new.json" "race-$round-new" "$WORK/code-new"; P2=$BG_PID
  wait "$P1" "$P2" || true
  assert_eq 200 "$(cat "$WORK/code-old")" "round $round: the answer to the older certificate's batch"
  assert_eq 200 "$(cat "$WORK/code-new")" "round $round: the answer to the newer certificate's batch"
  assert_eq "2 1 1 2" "$(psql -At -F' ' -d "$DB" -c "SELECT count(*),
      count(*) FILTER (WHERE status = 'current'),
      count(*) FILTER (WHERE status = 'current' AND not_after = (SELECT max(not_after) FROM sealpost_certificates WHERE $BOB)),
      count(*) FILTER (WHERE metadata->>'fingerprint' = fingerprint AND metadata->>'message_id' <> ''
                       AND pem LIKE '-----BEGIN CERTIFICATE-----%')
    FROM sealpost_certificates WHERE $BOB")" \
    "round $round: rows, current, current is the later-expiring, whole records"
done
# Both nodes, and a third process, see the later-expiring one.
run_expect 0 "$SEALPOST" certs -c "$WORK/b.ini" history bob@example.com
assert_eq 1 "$(grep -c '	current	' "$WORK/out")" "current certificates in B's history"
NEW_FP=$(psql -At -d "$DB" -c "SELECT fingerprint FROM sealpost_certificates WHERE $BOB AND status = 'current'")
assert_file_contains "$WORK/out" "$NEW_FP"
stop_serve a "$A_PID"
stop_serve b "$B_PID"

case_ "certs list/history/check on the postgres store"
run_expect 0 "$SEALPOST" certs -c "$WORK/a.ini" list
assert_file_contains "$WORK/out" '^alice@example\.com	[0-9A-F:a-f]+	'
run_expect 0 "$SEALPOST" certs -c "$WORK/a.ini" check alice@example.com
run_expect 0 "$SEALPOST" certs -c "$WORK/a.ini" history alice@example.com
assert_file_contains "$WORK/out" '	current	'

case_ "migrate files -> postgres -> files: identical listings; a second run copies nothing"
SRC="$WORK/files-src"
mkdir -p "$SRC"
cp "$PKI/store/"*.crt "$SRC/"
run_expect 0 "$SEALPOST" certs --store "$SRC" list
cp "$WORK/out" "$WORK/list-src"
DB2="${DB}_m"
psql -q -d postgres -c "DROP DATABASE IF EXISTS $DB2" -c "CREATE DATABASE $DB2" >/dev/null
URL2="host=$PGHOST user=${PGUSER:-sealpost} dbname=$DB2"
run_expect 0 "$SEALPOST" store migrate --from "files:$SRC" --to "postgres:$URL2"
N=$(grep -vc "^#" "$WORK/list-src")  # lines but the header
assert_file_contains "$WORK/out" "$N address\\(es\\), $N certificate\\(s\\) copied, 0 already there"
run_expect 0 "$SEALPOST" store migrate --from "files:$SRC" --to "postgres:$URL2"
assert_file_contains "$WORK/out" "0 certificate\\(s\\) copied, $N already there"
printf '[store]\nbackend = postgres\nurl = %s\n' "$URL2" >"$WORK/m.ini"
run_expect 0 "$SEALPOST" certs -c "$WORK/m.ini" list
assert_eq "$(cat "$WORK/list-src")" "$(cat "$WORK/out")" "certs list on postgres"
run_expect 0 "$SEALPOST" store migrate --from "postgres:$URL2" --to "files:$WORK/files-back"
run_expect 0 "$SEALPOST" certs --store "$WORK/files-back" list
assert_eq "$(cat "$WORK/list-src")" "$(cat "$WORK/out")" "certs list after the round trip"
for f in "$WORK/files-back/"*.crt; do openssl x509 -in "$f" -noout || die "unreadable $f"; done
psql -q -d postgres -c "DROP DATABASE IF EXISTS $DB2 WITH (FORCE)" >/dev/null

case_ "the database stopped and restarted under load: 451 and 5xx while down, nothing acknowledged and lost, reconnected after"
# A server of this case's own (the shared one keeps serving the other tests).
PGR="/tmp/sealpost-pgr-$$"
PG_SERVER="$SEALPOST_SOURCE_DIR/tests/pg/pg_server.sh"
"$PG_SERVER" start "$PGR" >/dev/null
trap '"$PG_SERVER" stop "$PGR" >/dev/null 2>&1 || true; cleanup' EXIT
URL="host=$PGR user=sealpost dbname=sealpost_test"
run_expect 0 "$SEALPOST" store init --url "$URL"
write_config r
start_serve r; R_PID=$PID; R_SMTP=$SMTP_PORT; R_WEB=$WEB_PORT
make_batch "$WORK/alice.json" "$FX/valid-detached.eml"
post "$R_WEB" "$WORK/alice.json" restart-alice
assert_eq 200 "$CODE" "alice's certificate before the load"
for f in bob-new ec-signer certs-only; do make_batch "$WORK/load-$f.json" "$FX/$f.eml"; done
# The load: SMTP mail to alice (who has a certificate) and webhook batches,
# each with an id of its own, for 12 s; every answer is recorded. The
# database goes away 2.5 s in and comes back 3 s later.
cat >"$WORK/load.py" <<'PYEOF'
import json, smtplib, sys, threading, time, urllib.request, urllib.error
smtp_port, web_port, token, seconds, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), sys.argv[5]
batches = sys.argv[6:]
end = time.time() + seconds
res = {"smtp": [], "web": []}
def smtp():
    i = 0
    while time.time() < end:
        i += 1
        mid = f"<load-{i}@example.com>"
        msg = (f"From: app@example.com\r\nTo: alice@example.com\r\nSubject: load {i}\r\nMessage-ID: {mid}\r\n"
               f"MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nLoad message {i}.\r\n").encode()
        try:
            with smtplib.SMTP("127.0.0.1", smtp_port, timeout=30) as s:
                s.sendmail("app@example.com", ["alice@example.com"], msg)
                code = 250
        except smtplib.SMTPResponseException as e:
            code = e.smtp_code
        except smtplib.SMTPRecipientsRefused as e:
            code = list(e.recipients.values())[0][0]
        except Exception as e:
            code = repr(e)
        res["smtp"].append([mid, code, time.time()])
        time.sleep(0.02)
def web():
    i = 0
    while time.time() < end:
        i += 1
        path = batches[i % len(batches)]
        req = urllib.request.Request(f"http://127.0.0.1:{web_port}/", data=open(path, "rb").read(), method="POST",
                                     headers={"Content-Type": "application/json", "X-MessageSystems-Webhook-Token": token,
                                              "X-MessageSystems-Batch-ID": f"load-{i}"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                code = r.status
        except urllib.error.HTTPError as e:
            code = e.code
        except Exception as e:
            code = repr(e)
        res["web"].append([f"load-{i}", path, code, time.time()])
        time.sleep(0.05)
ts = [threading.Thread(target=f) for f in (smtp, web)]
for t in ts: t.start()
for t in ts: t.join()
json.dump(res, open(out, "w"))
PYEOF
"$PY" "$WORK/load.py" "$R_SMTP" "$R_WEB" "$TOKEN" 12 "$WORK/load-result.json" "$WORK"/load-*.json &
LOAD_PID=$!
sleep 2.5
"$PG_SERVER" pause "$PGR"
sleep 3
"$PG_SERVER" resume "$PGR"
date +%s.%N >"$WORK/up-at"
wait "$LOAD_PID" || die "the load generator failed"
"$PY" - "$WORK/load-result.json" "$WORK/r/outbox" "$(cat "$WORK/up-at")" >"$WORK/acked" <<'PYEOF' || die "see above"
import glob, json, sys
res, outbox, up_at = json.load(open(sys.argv[1])), sys.argv[2], float(sys.argv[3])
smtp, web = res["smtp"], res["web"]
count = lambda xs: {str(c): xs.count(c) for c in set(xs)}
print("smtp answers:", count([x[1] for x in smtp]), file=sys.stderr)
print("webhook answers:", count([x[2] for x in web]), file=sys.stderr)
bad = [x for x in smtp if x[1] not in (250, 451)] + [x for x in web if x[2] not in (200, 500, 503)]
assert not bad, f"answers other than 250/451 and 200/5xx: {bad[:5]}"
assert any(x[1] == 451 for x in smtp), "no 451 while the database was down"
assert any(x[2] in (500, 503) for x in web), "no 5xx from the webhook while the database was down"
# Reconnected: mail and batches accepted again after the restart.
assert any(x[1] == 250 and x[2] > up_at for x in smtp), "no 250 after the database came back"
assert any(x[2] == 200 and x[3] > up_at for x in web), "no 200 from the webhook after the database came back"
# Nothing acknowledged and lost: every mail answered 250 is in the outbox, encrypted.
files = {}
for f in glob.glob(outbox + "/*.eml"):
    text = open(f, errors="replace").read()
    for line in text.splitlines():
        if line.lower().startswith("message-id:"):
            files[line.split(":", 1)[1].strip()] = text
            break
missing = [x[0] for x in smtp if x[1] == 250 and x[0] not in files]
assert not missing, f"answered 250, not in the outbox: {missing[:5]}"
clear = [m for m, t in files.items() if "enveloped-data" not in t]
assert not clear, f"sent without encryption: {clear[:5]}"
# The addresses of the batches answered 200, for the check below.
who = {"bob-new": "bob@example.com", "ec-signer": "dave@example.org", "certs-only": "carol@example.net"}
for x in web:
    if x[2] == 200:
        print(next(a for k, a in who.items() if f"load-{k}.json" in x[1]))
PYEOF
# Every batch answered 200 has its certificate stored.
[ -s "$WORK/acked" ] || die "no batch was acknowledged"
for a in $(sort -u "$WORK/acked"); do
  assert_eq 1 "$(psql -At -h "$PGR" -d sealpost_test -c "SELECT count(*) FROM sealpost_certificates WHERE address = '$a' AND status = 'current'")" \
    "a current certificate for $a (a batch of it was answered 200)"
done
assert_file_contains "$WORK/r.err" 'lost the change listener'
assert_file_contains "$WORK/r.err" 'listening again'
stop_serve r "$R_PID"
"$PG_SERVER" stop "$PGR"

finish

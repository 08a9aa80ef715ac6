#!/usr/bin/env bash
# pg_store_test.sh: the postgres store with real processes on the real
# server ctest started (tests/pg/pg_server.sh; PGHOST/PGUSER in the
# environment): `sealpost store init`; two `sealpost serve` nodes on one
# database: a certificate posted to node A's webhook encrypts the next mail
# injected into node B over SMTP; the same batch id posted to A then B is
# processed once; a database that cannot be reached at start is exit 75;
# `store migrate` files -> postgres -> files gives identical `certs list`,
# and a second run copies nothing.
source "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
: "${PGHOST:?set by ctest: the socket directory of the test server}"
TOKEN='t0ken-Zebra'
FX="$SEALPOST_BUILD_DIR/collect-fixtures"
"$PY" "$SEALPOST_SOURCE_DIR/tests/fixtures/make_collect_fixtures.py" "$PKI" "$FX"
DB="pg_store_$$"
URL="host=$PGHOST user=${PGUSER:-sealpost} dbname=$DB"

SERVE_PIDS=()
cleanup() {
  local pid
  for pid in "${SERVE_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
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

# start_serve NAME: sets PID, SMTP_PORT, WEB_PORT.
start_serve() {
  local name=$1; shift
  rm -f "$WORK/$name.err"
  "$SEALPOST" serve -c "$WORK/$name.ini" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
  PID=$!
  SERVE_PIDS+=("$PID")
  local i
  for i in $(seq 400); do
    grep -qs 'serve: ready' "$WORK/$name.err" && break
    if ! kill -0 "$PID" 2>/dev/null; then cat "$WORK/$name.err" >&2; die "serve $name exited while starting"; fi
    sleep 0.05
  done
  grep -q 'serve: ready' "$WORK/$name.err" || { cat "$WORK/$name.err" >&2; die "serve $name: not ready in 20 s"; }
  SMTP_PORT=$(grep -oE 'SMTP on 127\.0\.0\.1:[0-9]+' "$WORK/$name.err" | head -1 | sed 's/.*://')
  WEB_PORT=$(grep -oE 'webhook listening on https?://127\.0\.0\.1:[0-9]+' "$WORK/$name.err" | head -1 | sed 's/.*://')
  [ -n "$SMTP_PORT" ] && [ -n "$WEB_PORT" ] || die "serve $name: no ports in the log"
}
stop_serve() {
  local name=$1 pid=$2 rc=0
  kill -TERM "$pid"
  wait "$pid" || rc=$?
  [ "$rc" == 0 ] || { tail -20 "$WORK/$name.err" >&2; die "serve $name: exit code after SIGTERM: expected 0, got $rc"; }
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
N=$(wc -l <"$WORK/list-src")
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

finish

#!/usr/bin/env bash
# pg_invite_test.sh: the invitation ledger on the postgres backend, shared
# by two nodes (two configurations with their own outboxes on one
# database, each run a process of its own): `send` on node A records the
# wanted recipients; `sealpost invite` on A invites them and on B (and on A
# again: a restart) invites nobody within the interval; max-per-day counts
# the invitations of both nodes; two nodes running at once never invite an
# address twice; `certs report` on either node sees the same ledger.
source "$(dirname "$0")/lib.sh"

: "${PGHOST:?set by ctest: the socket directory of the test server}"
DB="pg_invite_$$"
URL="host=$PGHOST user=${PGUSER:-sealpost} dbname=$DB"
cleanup() {
  psql -q -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
psql -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null

SERVICE=alice@example.com
write_config() { # NAME [extra lines...]
  local name=$1; shift
  mkdir -p "$WORK/$name/outbox"
  {
    printf '[store]\nbackend = postgres\nurl = %s\ncreate-schema = yes\n' "$URL"
    printf '[relay]\nout-dir = %s\n' "$WORK/$name/outbox"
    printf '[sender]\nkeys-dir = %s\n' "$PKI/keys"
    printf '[invite]\nenabled = yes\ncollect-address = secureme@inbound.example.com\nfrom = %s\nrenew-before = 0s\n' "$SERVICE"
    local line; for line in "$@"; do printf '%s\n' "$line"; done
  } >"$WORK/$name.ini"
}
outbox_count() { find "$1" -maxdepth 1 -name '*.eml' 2>/dev/null | wc -l; }

run_expect 0 "$SEALPOST" store init --url "$URL"
assert_file_contains "$WORK/out" 'schema version 2 created'
psql -q -d "$DB" -tA -c "SELECT max(version) FROM sealpost_schema" >"$WORK/v"
assert_eq 2 "$(cat "$WORK/v")" "schema version"

case_ "send on node A records the wanted recipients in the shared ledger"
write_config a
write_config b
make_mail "$WORK/m1.eml" "$SERVICE" "frank@example.org, zed@example.net, yves@example.net"
run_expect 0 "$SEALPOST" send -c "$WORK/a.ini" --sign "$WORK/m1.eml"
rm -f "$WORK"/a/outbox/*.eml
run_expect 0 "$SEALPOST" certs -c "$WORK/b.ini" report
assert_file_contains "$WORK/out" '^wanted: 3$'

case_ "node A invites; node B and node A again (a restart) invite nobody within the interval"
run_expect 0 "$SEALPOST" invite -c "$WORK/a.ini"
assert_eq 3 "$(grep -c '^sent invitation to ' "$WORK/out")" "invitations from A"
run_expect 0 "$SEALPOST" invite -c "$WORK/b.ini"
assert_eq "" "$(cat "$WORK/out")" "output of B"
run_expect 0 "$SEALPOST" invite -c "$WORK/a.ini"
assert_eq "" "$(cat "$WORK/out")" "output of A restarted"
assert_eq 3 "$(outbox_count "$WORK/a/outbox")" "A's outbox"
assert_eq 0 "$(outbox_count "$WORK/b/outbox")" "B's outbox"
run_expect 0 "$SEALPOST" certs -c "$WORK/b.ini" report
assert_file_contains "$WORK/out" '^invited: 3$'

case_ "max-per-day counts both nodes' invitations"
write_config c "max-per-day = 2"
write_config d "max-per-day = 2"
psql -q -d "$DB" -c "DELETE FROM sealpost_invitations" >/dev/null
make_mail "$WORK/m2.eml" "$SERVICE" "p1@example.org, p2@example.org, p3@example.org"
run_expect 0 "$SEALPOST" send -c "$WORK/c.ini" --sign "$WORK/m2.eml"
rm -f "$WORK"/c/outbox/*.eml
run_expect 0 "$SEALPOST" invite -c "$WORK/c.ini" --limit 1
assert_eq 1 "$(grep -c '^sent ' "$WORK/out")" "sent by C"
run_expect 0 "$SEALPOST" invite -c "$WORK/d.ini"
assert_eq 1 "$(grep -c '^sent ' "$WORK/out")" "sent by D"
assert_file_contains "$WORK/out" '^max-per-day \(2\) reached$'
run_expect 0 "$SEALPOST" invite -c "$WORK/c.ini"
assert_file_lacks "$WORK/out" '^sent '

case_ "two nodes at once never invite one address twice"
psql -q -d "$DB" -c "DELETE FROM sealpost_invitations" >/dev/null
make_mail "$WORK/m3.eml" "$SERVICE" "r1@example.org, r2@example.org, r3@example.org, r4@example.org, r5@example.org"
run_expect 0 "$SEALPOST" send -c "$WORK/a.ini" --sign "$WORK/m3.eml"
rm -f "$WORK"/a/outbox/*.eml "$WORK"/b/outbox/*.eml
"$SEALPOST" invite -c "$WORK/a.ini" >"$WORK/ra" 2>"$WORK/ra.err" &
pa=$!
"$SEALPOST" invite -c "$WORK/b.ini" >"$WORK/rb" 2>"$WORK/rb.err" &
pb=$!
wait "$pa" || die "invite on A failed: $(cat "$WORK/ra.err")"
wait "$pb" || die "invite on B failed: $(cat "$WORK/rb.err")"
cat "$WORK/ra" "$WORK/rb" | grep '^sent ' | sort >"$WORK/both"
assert_eq 5 "$(wc -l <"$WORK/both")" "invitations sent by both nodes"
assert_eq 5 "$(sort -u "$WORK/both" | wc -l)" "distinct addresses invited"
assert_eq 5 "$(( $(outbox_count "$WORK/a/outbox") + $(outbox_count "$WORK/b/outbox") ))" "outbox files of both nodes"

finish

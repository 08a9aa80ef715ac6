#!/usr/bin/env bash
# outbox_test.sh: an outbox sealpost cannot create files in is a permanent
# configuration problem, not "retry later": `send` exits 73 (EX_CANTCREAT)
# before it reads any message, naming the directory and the fix; `serve`
# exits 73 at start instead of answering 451 with a local path to every
# client. Deterministic as root: a path through a regular file (ENOTDIR),
# and a directory another user cannot write (run as uid 65534 with setpriv).
source "$(dirname "$0")/lib.sh"

make_mail "$WORK/m.eml" "alice@example.com" "bob@example.com"
: >"$WORK/a-file"

case_ "send: an outbox under a regular file exits 73 with the fix, nothing else happens"
run_expect 73 "$SEALPOST" send --encrypt never --out-dir "$WORK/a-file/outbox" "$WORK/m.eml"
assert_file_contains "$WORK/err" 'outbox .*a-file/outbox cannot be created: Not a directory'
assert_file_contains "$WORK/err" 'write access to .*, or set another --out-dir / \[relay\] out-dir'
"$SEALPOST" send --help | grep '^  73  cannot create output' >/dev/null || die "--help does not list exit 73"

case_ "send: an outbox the user cannot write exits 73"
mkdir -p "$WORK/pub"; chmod 755 "$WORK" "$WORK/pub"; cp "$WORK/m.eml" "$WORK/pub/m.eml"; chmod 644 "$WORK/pub/m.eml"
mkdir -m 755 "$WORK/pub/outbox"
if [ "$(id -u)" = 0 ]; then as_other=(setpriv --reuid=65534 --regid=65534 --clear-groups); else as_other=(); chmod 555 "$WORK/pub/outbox"; fi
run_expect 73 "${as_other[@]}" "$SEALPOST" send --encrypt never --out-dir "$WORK/pub/outbox" "$WORK/pub/m.eml"
assert_file_contains "$WORK/err" 'outbox .*pub/outbox is not writable: Permission denied'
[ -z "$(ls -A "$WORK/pub/outbox")" ] || die "something was left in the outbox"

case_ "send: a writable outbox still works (0)"
run_expect 0 "$SEALPOST" send --encrypt never --out-dir "$WORK/ok" "$WORK/m.eml"
assert_eq 1 "$(ls "$WORK/ok" | wc -l)" "outbox files"
[ -z "$(ls -A "$WORK/ok" | grep '^\.' | grep -vx '.tmp' || true)" ] || die "the probe file was left behind"
[ -z "$(ls -A "$WORK/ok/.tmp" 2>/dev/null)" ] || die "a temporary was left in the outbox's .tmp"

case_ "temporaries a crashed writer left are removed when the outbox is opened, never a message"
mkdir -p "$WORK/ok/.tmp"
( exit 0 ) & deadpid=$!; wait $deadpid
printf 'partial' >"$WORK/ok/.tmp/.x.eml.tmp.$deadpid.7"; touch -d '10 minutes ago' "$WORK/ok/.tmp/.x.eml.tmp.$deadpid.7"
printf 'partial' >"$WORK/ok/.y.eml.tmp.$deadpid.8"; touch -d '10 minutes ago' "$WORK/ok/.y.eml.tmp.$deadpid.8"
run_expect 0 "$SEALPOST" send --encrypt never --out-dir "$WORK/ok" "$WORK/m.eml"
assert_missing "$WORK/ok/.tmp/.x.eml.tmp.$deadpid.7"; assert_missing "$WORK/ok/.y.eml.tmp.$deadpid.8"
assert_file_contains "$WORK/err" 'outbox: removed 2 temporaries left by a crashed writer'
assert_eq 2 "$(ls "$WORK/ok"/*.eml | wc -l)" "outbox messages"

case_ "serve: an unwritable outbox stops it at start with exit 73 (no 451 to clients)"
printf '[store]\ndir = %s\n[relay]\nout-dir = %s\n[serve]\nlisten = 127.0.0.1:0\nthreads = 1\n[admin]\nlisten =\n' \
  "$WORK/store" "$WORK/a-file/outbox" >"$WORK/serve.ini"
run_expect 73 timeout 30 "$SEALPOST" serve -c "$WORK/serve.ini"
assert_file_contains "$WORK/err" 'outbox .*a-file/outbox cannot be created'
assert_file_lacks "$WORK/err" 'ready: SMTP'

finish

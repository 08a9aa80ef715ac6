# lib.sh: shared helpers for the integration test scripts (sourced).
# Each script runs `sealpost` ($SEALPOST) against the test PKI ($SEALPOST_PKI)
# in its own temporary directory, and asserts on outcomes: files written,
# decrypted text, exit codes, log lines. The first failed assertion ends the
# script with a message naming the case.
set -euo pipefail

: "${SEALPOST:?set by ctest: path to the sealpost binary}"
: "${SEALPOST_PKI:?set by ctest: the generated test PKI}"
PKI="$SEALPOST_PKI"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/sealpost-test.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
CASE="(setup)"
FAILED=0

case_() { CASE="$*"; echo "--- $CASE"; }
die() { echo "FAIL [$CASE]: $*" >&2; exit 1; }

# assert_eq EXPECTED ACTUAL [what]
assert_eq() { [ "$1" == "$2" ] || die "${3:-value}: expected '$1', got '$2'"; }
# assert_contains FILE_OR_TEXT PATTERN (grep -E on a file when it exists)
assert_file_contains() { grep -Eq -- "$2" "$1" || { echo "--- $1:" >&2; head -c 3000 "$1" >&2; die "$1 does not match /$2/"; }; }
assert_file_lacks() { ! grep -Eq -- "$2" "$1" || die "$1 unexpectedly matches /$2/"; }
assert_text_contains() { grep -Eq -- "$2" <<<"$1" || die "text does not match /$2/: $(head -c 2000 <<<"$1")"; }
assert_exists() { [ -e "$1" ] || die "missing file $1"; }
assert_missing() { [ ! -e "$1" ] || die "file should not exist: $1"; }

# run_expect CODE CMD...: runs CMD, stdout to $WORK/out, stderr to $WORK/err,
# asserts its exit code.
run_expect() {
  local want=$1; shift
  set +e
  "$@" >"$WORK/out" 2>"$WORK/err"
  local got=$?
  set -e
  if [ "$got" != "$want" ]; then
    echo "--- stderr:" >&2; head -c 4000 "$WORK/err" >&2
    die "exit code of '$*': expected $want, got $got"
  fi
}

# A message file: make_mail PATH FROM TO [extra header lines...] (body from stdin or default)
make_mail() {
  local path=$1 from=$2 to=$3; shift 3
  {
    printf 'From: %s\r\nTo: %s\r\nSubject: test %s\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\nMessage-ID: <%s@example.com>\r\n' \
      "$from" "$to" "$(basename "$path")" "$(basename "$path" .eml).$RANDOM"
    for h in "$@"; do printf '%s\r\n' "$h"; done
    printf 'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello from the test suite.\r\nSecond line.\r\n'
  } >"$path"
}

# Strip pickup-directory envelope lines (X-Sender/X-Receiver) from an outbox file.
strip_envelope() { sed -e '/^X-Sender: /d' -e '/^X-Receiver: /d' "$1"; }

finish() { echo "PASS: $(basename "$0")"; }

# --- `sealpost serve` in the background (serve_test, serve_hardening_test,
# pg_store_test) ---------------------------------------------------------------
# SERVE_PIDS holds every server started; a script's EXIT trap calls
# kill_serves for what is still running.
SERVE_PIDS=()
kill_serves() {
  local pid
  for pid in ${SERVE_PIDS[@]+"${SERVE_PIDS[@]}"}; do kill -KILL "$pid" 2>/dev/null || true; done
}

# start_serve NAME [serve options...]: `sealpost serve -c $WORK/NAME.ini` in
# the background, its stdout and stderr in $WORK/NAME.out and $WORK/NAME.err;
# waits (20 s) for "serve: ready". Sets PID, SMTP_PORT and, when the
# collector plugin runs, WEB_PORT (else empty). SERVE_ULIMIT_N, when set, is
# the process's descriptor limit.
start_serve() {
  local name=$1; shift
  rm -f "$WORK/$name.err"   # never read a previous run's "ready"
  if [ -n "${SERVE_ULIMIT_N:-}" ]; then
    (ulimit -n "$SERVE_ULIMIT_N" && exec "$SEALPOST" serve -c "$WORK/$name.ini" "$@") >"$WORK/$name.out" 2>"$WORK/$name.err" &
  else
    "$SEALPOST" serve -c "$WORK/$name.ini" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
  fi
  PID=$!
  SERVE_PIDS+=("$PID")
  local i
  for i in $(seq 400); do
    grep -qs 'serve: ready' "$WORK/$name.err" && break
    if ! kill -0 "$PID" 2>/dev/null; then cat "$WORK/$name.err" >&2; die "serve $name exited while starting"; fi
    sleep 0.05
  done
  grep -q 'serve: ready' "$WORK/$name.err" || { cat "$WORK/$name.err" >&2; die "serve $name: not ready in 20 s"; }
  SMTP_PORT=$(grep -oE 'SMTP on 127\.0\.0\.1:[0-9]+' "$WORK/$name.err" | sed -n 1p | sed 's/.*://')
  WEB_PORT=$(grep -oE 'webhook listening on https?://127\.0\.0\.1:[0-9]+' "$WORK/$name.err" | sed -n 1p | sed 's/.*://' || true)
  [ -n "$SMTP_PORT" ] || die "serve $name: no SMTP port in the log"
}

# stop_serve NAME PID: SIGTERM, then the exit code must be 0 and the log must
# end with "serve: stopped". wait_serve NAME PID: the same for a server
# already signalled (a second SIGTERM could land after the server dropped its
# handler on the way out and kill it: 143).
stop_serve() {
  kill -TERM "$2"
  wait_serve "$@"
}
wait_serve() {
  local name=$1 pid=$2 rc=0
  wait "$pid" || rc=$?
  [ "$rc" == 0 ] || { tail -20 "$WORK/$name.err" >&2; die "serve $name: exit code after SIGTERM: expected 0, got $rc"; }
  assert_file_contains "$WORK/$name.err" 'serve: stopped$'
}

# wait_for_log FILE PATTERN: until FILE has a line matching PATTERN (20 s).
wait_for_log() {
  local i
  for i in $(seq 400); do grep -Eq -- "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
  die "timed out waiting for /$2/ in $1"
}

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

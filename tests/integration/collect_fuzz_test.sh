#!/usr/bin/env bash
# collect_fuzz_test.sh: short libFuzzer runs (SEALPOST_FUZZ_SECONDS, default
# 25 s in all) of the four targets: collect_message() with DKIM ignored and
# with DKIM verified from the test key file, the SMTP state machine, the
# webhook handler, and the send path (prepare, sign, encrypt, read back by
# OpenSSL), seeded with the collector fixtures. A long run of one
# target: scripts/fuzz TARGET SECONDS. Skips cleanly (PASS
# with a SKIP line) when clang++ or its fuzzer runtime is not installed.
# The first run builds the target into the build tree (a few minutes on
# two CPUs); later runs reuse it until a source changes.
source "$(dirname "$0")/lib.sh"

case_ "build the fuzz targets"
set +e
for t in collect_fuzz smtp_fuzz webhook_fuzz send_fuzz; do
  "$SEALPOST_SOURCE_DIR/tests/fuzz/build_fuzz.sh" "$SEALPOST_BUILD_DIR/fuzz" "$t"
  rc=$?
  [ "$rc" = 0 ] || break
done
set -e
if [ "$rc" = 77 ]; then echo "SKIP: no clang++ with libFuzzer"; finish; exit 0; fi
[ "$rc" = 0 ] || die "fuzz target did not build (exit $rc)"

FX="$SEALPOST_BUILD_DIR/collect-fixtures"
/usr/bin/python3 "$SEALPOST_SOURCE_DIR/tests/fixtures/make_collect_fixtures.py" "$PKI" "$FX"
SECONDS_EACH=$(( ${SEALPOST_FUZZ_SECONDS:-25} / 5 )); [ "$SECONDS_EACH" -ge 3 ] || SECONDS_EACH=3

# fuzz TARGET CORPUS [ENV=VALUE...]: runs one target, keeps artifacts on failure.
fuzz() {
  local target=$1 corpus=$2; shift 2
  case_ "fuzz $target $* for $SECONDS_EACH s"
  set +e
  env SEALPOST_FUZZ_BUNDLE="$PKI/ca/bundle.crt" SEALPOST_FUZZ_PKI="$PKI" "$@" "$SEALPOST_BUILD_DIR/fuzz/$target" \
    -max_total_time="$SECONDS_EACH" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
    -artifact_prefix="$WORK/" "$corpus" >"$WORK/fuzz.log" 2>&1
  local rc=$?
  set -e
  if [ "$rc" != 0 ]; then
    tail -60 "$WORK/fuzz.log" >&2
    for a in "$WORK"/crash-* "$WORK"/leak-* "$WORK"/timeout-* "$WORK"/oom-*; do
      [ -e "$a" ] && cp "$a" "$SEALPOST_BUILD_DIR/fuzz/" && echo "artifact kept: $SEALPOST_BUILD_DIR/fuzz/$(basename "$a")" >&2
    done
    die "the fuzzer found a problem in $target (exit $rc)"
  fi
  assert_file_contains "$WORK/fuzz.log" "Done [0-9]+ runs"
}

mkdir -p "$WORK/mail" "$WORK/smtp" "$WORK/webhook"
cp "$FX"/*.eml "$WORK/mail/"
# Inputs that once failed (leak, crash) run first, as regression tests.
cp "$SEALPOST_SOURCE_DIR"/tests/fuzz/regressions/*.eml "$WORK/mail/"
printf 'EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nSubject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n' >"$WORK/smtp/session"
printf 'EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nx\n.\r\nMAIL FROM:<e@f>\r\n' >"$WORK/smtp/smuggle"
python3 - "$FX" "$WORK/webhook" <<'PY'
import base64, json, pathlib, sys
fx, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
for i, f in enumerate(sorted(fx.glob("*.eml"))[:20]):
    raw = f.read_bytes()
    item = {"msys": {"relay_message": {"content": {"email_rfc822": base64.b64encode(raw).decode(), "email_rfc822_is_base64": True}, "msg_from": "x@example.com"}}}
    (out / f"batch{i}.json").write_text(json.dumps([item]))
PY
fuzz collect_fuzz "$WORK/mail"
fuzz collect_fuzz "$WORK/mail" SEALPOST_FUZZ_DKIM_KEYS="$PKI/dkim/keys.txt"
fuzz smtp_fuzz "$WORK/smtp"
fuzz webhook_fuzz "$WORK/webhook"
cp "$SEALPOST_SOURCE_DIR"/tests/fuzz/seeds/*.eml "$WORK/mail/"
fuzz send_fuzz "$WORK/mail"
finish

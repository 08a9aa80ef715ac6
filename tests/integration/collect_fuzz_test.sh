#!/usr/bin/env bash
# collect_fuzz_test.sh: a short libFuzzer run (about 20 s) of
# collect_message() seeded with the collector fixtures. Skips cleanly (PASS
# with a SKIP line) when clang++ or its fuzzer runtime is not installed.
# The first run builds the target into the build tree (a few minutes on
# two CPUs); later runs reuse it until a source changes.
source "$(dirname "$0")/lib.sh"

case_ "build the fuzz target"
set +e
"$SEALPOST_SOURCE_DIR/tests/fuzz/build_fuzz.sh" "$SEALPOST_BUILD_DIR/fuzz"
rc=$?
set -e
if [ "$rc" = 77 ]; then echo "SKIP: no clang++ with libFuzzer"; finish; exit 0; fi
[ "$rc" = 0 ] || die "fuzz target did not build (exit $rc)"

case_ "fuzz collect_message for ${SEALPOST_FUZZ_SECONDS:-20} s"
FX="$SEALPOST_BUILD_DIR/collect-fixtures"
/usr/bin/python3 "$SEALPOST_SOURCE_DIR/tests/fixtures/make_collect_fixtures.py" "$PKI" "$FX"
mkdir -p "$WORK/corpus"
cp "$FX"/*.eml "$WORK/corpus/"
# Inputs that once failed (leak, crash) run first, as regression tests.
cp "$SEALPOST_SOURCE_DIR"/tests/fuzz/regressions/*.eml "$WORK/corpus/"
set +e
SEALPOST_FUZZ_BUNDLE="$PKI/ca/bundle.crt" "$SEALPOST_BUILD_DIR/fuzz/collect_fuzz" \
  -max_total_time="${SEALPOST_FUZZ_SECONDS:-20}" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
  -artifact_prefix="$WORK/" "$WORK/corpus" >"$WORK/fuzz.log" 2>&1
rc=$?
set -e
if [ "$rc" != 0 ]; then
  tail -60 "$WORK/fuzz.log" >&2
  for a in "$WORK"/crash-* "$WORK"/leak-* "$WORK"/timeout-* "$WORK"/oom-*; do
    [ -e "$a" ] && cp "$a" "$SEALPOST_BUILD_DIR/fuzz/" && echo "artifact kept: $SEALPOST_BUILD_DIR/fuzz/$(basename "$a")" >&2
  done
  die "the fuzzer found a problem (exit $rc)"
fi
assert_file_contains "$WORK/fuzz.log" "Done [0-9]+ runs"
finish

#!/usr/bin/env bash
# bench_smoke_test.sh [BUILD_DIR] -- `scripts/bench --quick` still runs against
# the already-built tree: installs nothing, builds nothing, writes its report
# under BUILD_DIR/bench-quick (not BENCHMARKS.md). Skips (exit 0) when the
# benchmark tools (wrk, gnuplot, smtp-sink) or the bench binaries are absent.
# Under ctest: BUILD_DIR from $SEALPOST_BUILD_DIR, the test PKI from $SEALPOST_PKI.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:-${SEALPOST_BUILD_DIR:-$ROOT/build}}" && pwd)

for tool in wrk gnuplot smtp-sink smtp-source openssl; do
  if ! command -v "$tool" >/dev/null; then
    echo "SKIP: $tool not installed (scripts/bench installs it; CI does not need it)"
    exit 0
  fi
done
if ! /usr/bin/python3 -c 'import dkim, cryptography' 2>/dev/null; then
  echo "SKIP: python3-dkim or python3-cryptography not installed"
  exit 0
fi
for b in bin/sealpost bin/pipeline_bench bin/store_lookup_bench bin/pg_store_bench; do
  if [ ! -x "$BUILD/$b" ]; then
    echo "SKIP: $BUILD/$b not built (configure with -DSEALPOST_BENCH=ON)"
    exit 0
  fi
done

# The pg section starts a PostgreSQL server of its own (Debian's postgresql).
sections=()
if [ ! -x /usr/lib/postgresql/15/bin/initdb ]; then
  echo "note: postgresql not installed: the pg section is left out"
  sections=(--only send,collect,smtp,store)
fi

CACHE=$(mktemp -d)
trap 'rm -rf "$CACHE"' EXIT
# Reuse the test PKI when ctest made one (make_pki.sh returns at once then).
[ -n "${SEALPOST_PKI:-}" ] && [ -e "$SEALPOST_PKI/.done" ] && ln -s "$SEALPOST_PKI" "$CACHE/pki"
start=$(date +%s)
SEALPOST_BENCH_CACHE=$CACHE "$ROOT/scripts/bench" --quick --no-install --no-build --build-dir "$BUILD" \
  --out "$CACHE/out" ${sections[@]+"${sections[@]}"} >"$CACHE/stdout" 2>"$CACHE/stderr" || {
  echo "FAIL: scripts/bench --quick exited $?"; tail -30 "$CACHE/stderr"; exit 1; }
elapsed=$(( $(date +%s) - start ))
for f in "$CACHE/out/BENCHMARKS.md" "$CACHE/out/results.json" "$CACHE/out/throughput_vs_size.png"; do
  [ -s "$f" ] || { echo "FAIL: $f missing"; exit 1; }
done
grep -q '^## Targets' "$CACHE/out/BENCHMARKS.md" || { echo "FAIL: no targets table"; exit 1; }
grep -q 'Targets:' "$CACHE/stdout" || { echo "FAIL: no table on stdout"; exit 1; }
if [ ${#sections[@]} -eq 0 ]; then
  grep -q '^### 5. Certificate store on PostgreSQL' "$CACHE/out/BENCHMARKS.md" || { echo "FAIL: no pg section"; exit 1; }
fi
echo "PASS: scripts/bench --quick in ${elapsed} s"

#!/usr/bin/env bash
# build_fuzz.sh OUTDIR -- builds OUTDIR/collect_fuzz (libFuzzer + ASan +
# UBSan, clang++) from the collector and the core sources it needs. Skips
# the rebuild when the binary is newer than every source. Exits 77 when
# clang++ or the fuzzer runtime is missing (callers treat it as a skip).
set -euo pipefail
OUT=${1:?usage: build_fuzz.sh OUTDIR}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
CXX=${FUZZ_CXX:-$(command -v clang++ || command -v clang++-14 || true)}
[[ -n $CXX ]] || { echo "build_fuzz: clang++ not found" >&2; exit 77; }
mkdir -p "$OUT"
BIN=$OUT/collect_fuzz

# Only the core files the collector uses: the rest of shared/ may be
# mid-change and is not under test here.
CORE=(address atomic_file cert_info cert_store config errors log mime mime_prescan)
SOURCES=("$SRC"/collector/*.cpp "$SRC/tests/fuzz/collect_fuzz.cpp")
for c in "${CORE[@]}"; do SOURCES+=("$SRC/shared/$c.cpp"); done

if [[ -x $BIN ]]; then
    stale=0
    for f in "${SOURCES[@]}" "$SRC"/collector/*.hpp "$SRC"/shared/*.hpp; do
        [[ $f -nt $BIN ]] && { stale=1; break; }
    done
    [[ $stale == 0 ]] && exit 0
fi

# Probe for the fuzzer runtime (libclang-rt-dev).
echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' >"$OUT/probe.cpp"
if ! "$CXX" -fsanitize=fuzzer "$OUT/probe.cpp" -o "$OUT/probe" 2>/dev/null; then
    echo "build_fuzz: $CXX cannot link -fsanitize=fuzzer (install libclang-rt-dev)" >&2
    exit 77
fi
rm -f "$OUT/probe" "$OUT/probe.cpp"

PKGS="gmime-3.0 opendkim libpsl libidn2 inih openssl"
FLAGS=(-std=c++20 -g -O1 -fno-omit-frame-pointer -DSPDLOG_FMT_EXTERNAL=1 -I"$SRC/shared" -I"$SRC/collector")
# shellcheck disable=SC2207
FLAGS+=($(pkg-config --cflags $PKGS))
# Objects in parallel (one compiler per CPU); only the target gets the
# fuzzer's main, everything gets coverage and the sanitizers.
export CXX OUT
objs=()
for f in "${SOURCES[@]}"; do objs+=("$OUT/obj/$(basename "$f" .cpp).o"); done
mkdir -p "$OUT/obj"
printf '%s\n' "${SOURCES[@]}" | xargs -P "$(nproc)" -I{} sh -c \
    '"$CXX" "$@" -fsanitize=fuzzer-no-link,address,undefined -c "{}" -o "$OUT/obj/$(basename "{}" .cpp).o"' \
    sh "${FLAGS[@]}"
# shellcheck disable=SC2046
"$CXX" -fsanitize=fuzzer,address,undefined "${objs[@]}" -o "$BIN.tmp" \
    $(pkg-config --libs $PKGS) -lspdlog -lfmt -lpthread
mv "$BIN.tmp" "$BIN"
echo "build_fuzz: built $BIN"

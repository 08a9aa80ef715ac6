#!/usr/bin/env bash
# build_fuzz.sh OUTDIR [TARGET] -- builds OUTDIR/TARGET (libFuzzer + ASan +
# UBSan, clang++) from the sources it needs. Targets:
#   collect_fuzz  collect_message(): MIME, DKIM (with a key file), CMS, chain
#   smtp_fuzz     the SMTP server state machine (sender/serve/smtp_protocol)
#   webhook_fuzz  the webhook request handler (JSON, base64, batch ids)
#   send_fuzz     prepare_message, then sign + encrypt read back by OpenSSL;
#                 the canonical path against the GMime path
# Skips the rebuild when the binary is newer than every source. Exits 77 when
# clang++ or the fuzzer runtime is missing (callers treat it as a skip).
set -euo pipefail
OUT=${1:?usage: build_fuzz.sh OUTDIR [collect_fuzz|smtp_fuzz|webhook_fuzz|send_fuzz]}
TARGET=${2:-collect_fuzz}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
CXX=${FUZZ_CXX:-$(command -v clang++ || command -v clang++-14 || true)}
[[ -n $CXX ]] || { echo "build_fuzz: clang++ not found" >&2; exit 77; }
mkdir -p "$OUT"
BIN=$OUT/$TARGET

# The whole core for the collector targets (a list of files would miss the
# next one the collector calls); the SMTP state machine needs two.
CORE=("$SRC"/shared/*.cpp)
case $TARGET in
  collect_fuzz) SOURCES=("$SRC"/collector/*.cpp) ;;
  smtp_fuzz) SOURCES=("$SRC/sender/serve/smtp_protocol.cpp"); CORE=("$SRC/shared/errors.cpp" "$SRC/shared/log.cpp") ;;
  webhook_fuzz) SOURCES=("$SRC"/collector/*.cpp "$SRC"/collector/plugin/{webhook_handler,bounded_json,strict_base64}.cpp) ;;
  send_fuzz) SOURCES=("$SRC"/sender/lib/{prepared_message,canonical_mime,entity_splice,header_encode,transfer_encode,smime_build,smime_attributes,signed_data_template,enveloped_data,der_splice,cms_content_sink,base64_writer,aes_cbc_base64,cipher}.cpp) ;;
  *) echo "build_fuzz: unknown target $TARGET" >&2; exit 64 ;;
esac
SOURCES+=("$SRC/tests/fuzz/$TARGET.cpp")
SOURCES+=("${CORE[@]}")

if [[ -x $BIN ]]; then
    stale=0
    for f in "${SOURCES[@]}" "$SRC"/collector/*.hpp "$SRC"/collector/plugin/*.hpp "$SRC"/sender/serve/*.hpp "$SRC"/sender/lib/*.hpp "$SRC"/shared/*.hpp "$SRC"/shared/*.inc; do
        [[ $f -nt $BIN ]] && { stale=1; break; }
    done
    [[ $stale == 0 ]] && exit 0
fi

# Headers changed since the objects were built: rebuild every object.
newest_header=$(ls -t "$SRC"/collector/*.hpp "$SRC"/collector/plugin/*.hpp "$SRC"/sender/serve/*.hpp "$SRC"/sender/lib/*.hpp "$SRC"/shared/*.hpp "$SRC"/shared/*.inc | sed -n 1p)
[[ -e $OUT/.headers && $OUT/.headers -nt $newest_header ]] || { rm -rf "$OUT/obj"; touch "$OUT/.headers"; }

# Probe for the fuzzer runtime (libclang-rt-dev).
echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' >"$OUT/probe.cpp"
if ! "$CXX" -fsanitize=fuzzer "$OUT/probe.cpp" -o "$OUT/probe" 2>/dev/null; then
    echo "build_fuzz: $CXX cannot link -fsanitize=fuzzer (install libclang-rt-dev)" >&2
    exit 77
fi
rm -f "$OUT/probe" "$OUT/probe.cpp"

PKGS="gmime-3.0 opendkim libpsl libidn2 inih openssl libcurl libpq"
FLAGS=(-std=c++20 -g -O1 -fno-omit-frame-pointer -DSPDLOG_FMT_EXTERNAL=1 -I"$SRC/shared" -I"$SRC/collector"
       -I"$SRC/collector/plugin" -I"$SRC/sender/serve" -I"$SRC/sender/lib")
# shellcheck disable=SC2207
FLAGS+=($(pkg-config --cflags $PKGS))
# Objects in parallel (one compiler per CPU); only the target gets the
# fuzzer's main, everything gets coverage and the sanitizers.
export CXX OUT
objs=()
for f in "${SOURCES[@]}"; do objs+=("$OUT/obj/$(basename "$f" .cpp).o"); done
mkdir -p "$OUT/obj"
# Objects are shared between targets; each is rebuilt when its source is newer.
printf '%s\n' "${SOURCES[@]}" | xargs -P "$(nproc)" -I{} sh -c \
    'o="$OUT/obj/$(basename "{}" .cpp).o"; [ "$o" -nt "{}" ] && [ "$o" -nt "$OUT/.headers" ] || "$CXX" "$@" -fsanitize=fuzzer-no-link,address,undefined -c "{}" -o "$o"' \
    sh "${FLAGS[@]}"
# shellcheck disable=SC2046
"$CXX" -fsanitize=fuzzer,address,undefined "${objs[@]}" -o "$BIN.tmp" \
    $(pkg-config --libs $PKGS) -lboost_program_options -lspdlog -lfmt -lresolv -lpthread
mv "$BIN.tmp" "$BIN"
echo "build_fuzz: built $BIN"

#!/usr/bin/env bash
# collect_cli_test.sh: `sealpost collect` and `sealpost certs` end to end on
# the generated fixtures: verdict lines, exit codes, the stored bytes, the
# log lines with the "| " prefix, configuration keys and the store views.
source "$(dirname "$0")/lib.sh"

FX="$SEALPOST_BUILD_DIR/collect-fixtures"
/usr/bin/python3 "$SEALPOST_SOURCE_DIR/tests/fixtures/make_collect_fixtures.py" "$PKI" "$FX"
STORE="$WORK/store"
COMMON=(--store "$STORE" --trusted-certs "$PKI/ca/bundle.crt" --dkim-keys "$PKI/dkim/keys.txt")

case_ "a valid detached mail stores the sender's certificate, byte for byte PEM"
run_expect 0 "$SEALPOST" collect "${COMMON[@]}" "$FX/valid-detached.eml"
assert_file_contains "$WORK/out" "^$FX/valid-detached.eml: stored alice@example.com sha256=[0-9a-f]{64}$"
assert_eq "$(openssl x509 -in "$PKI/users/alice@example.com.crt")" "$(cat "$STORE/alice@example.com.crt")" "stored PEM"
assert_eq "$(openssl x509 -in "$PKI/users/alice@example.com.crt" -noout -fingerprint -sha256 | tr -d : | cut -d= -f2 | tr A-F a-f)" \
  "$(grep -o 'sha256=[0-9a-f]*' "$WORK/out" | cut -d= -f2)" "fingerprint on the verdict line"
openssl verify -CAfile "$PKI/ca/bundle.crt" -untrusted "$PKI/ca/chain.crt" "$STORE/alice@example.com.crt" >/dev/null \
  || die "stored certificate does not verify"
assert_file_contains "$WORK/err" "collect: $FX/valid-detached.eml"
assert_file_contains "$WORK/err" '\| from=alice@example.com,DKIM passed \(d=example.com s=sel'
assert_file_contains "$WORK/err" '\| Certificate \(signer\): subject=.*addresses=\[alice@example.com\].*serial=.*not_after=.*key=RSA-2048 sha256='
assert_file_contains "$WORK/err" '\| signer chain passed'
assert_file_contains "$WORK/err" '\| verdict: stored \(stored\): alice@example.com'
assert_file_contains "$STORE/alice@example.com.json" '"source": "collect"'

case_ "the same mail again is already current, exit 0, file untouched"
before=$(stat -c '%i %Y' "$STORE/alice@example.com.crt")
run_expect 0 "$SEALPOST" collect "${COMMON[@]}" "$FX/valid-detached.eml"
assert_file_contains "$WORK/out" "already-current alice@example.com"
assert_eq "$before" "$(stat -c '%i %Y' "$STORE/alice@example.com.crt")" "inode and mtime"

case_ "several files: one line each, exit 65 when any is rejected, a summary"
run_expect 65 "$SEALPOST" collect "${COMMON[@]}" "$FX/valid-opaque.eml" "$FX/no-dkim.eml" "$FX/corrupted-signature.eml"
assert_eq 3 "$(wc -l <"$WORK/out")" "verdict lines"
assert_file_contains "$WORK/out" "valid-opaque.eml: stored bob@example.com"
assert_file_contains "$WORK/out" "no-dkim.eml: rejected \(dkim-failed\): no DKIM signature"
assert_file_contains "$WORK/out" "corrupted-signature.eml: rejected \(signature-invalid\)"
assert_file_contains "$WORK/err" "collect: 3 files: 1 stored, 0 already current, 2 rejected"
assert_file_contains "$WORK/err" '\| verdict: rejected \(signature-invalid\)'

case_ "an older certificate replayed after a newer one is ignored with a log line"
run_expect 0 "$SEALPOST" collect "${COMMON[@]}" "$FX/bob-old.eml"
assert_file_contains "$WORK/out" "older certificate ignored"

case_ "a changed certificate is logged at warning level with both fingerprints"
S2="$WORK/store2"
run_expect 0 "$SEALPOST" collect --store "$S2" --trusted-certs "$PKI/ca/bundle.crt" --dkim-keys "$PKI/dkim/keys.txt" \
  "$FX/bob-old.eml" "$FX/bob-new.eml"
assert_file_contains "$WORK/err" ' WARN +[0-9A-F]{10}: \| certificate for bob@example.com changed: old sha256=[0-9a-f]{64} new sha256=[0-9a-f]{64}'
assert_file_contains "$WORK/out" "bob-new.eml: stored bob@example.com .*replaced"

case_ "a message from stdin"
run_expect 0 "$SEALPOST" collect "${COMMON[@]}" - <"$FX/ec-signer.eml"
assert_file_contains "$WORK/out" "^-: stored dave@example.org"

case_ "dkim=ignore warns on every message"
run_expect 0 "$SEALPOST" collect "${COMMON[@]}" --dkim ignore "$FX/no-dkim.eml" "$FX/no-dkim.eml"
assert_eq 2 "$(grep -c '| DKIM not checked (dkim=ignore)' "$WORK/err")" "per-message DKIM warnings"

case_ "relaxed alignment and --at from the configuration file"
cat >"$WORK/sealpost.ini" <<INI
[collector]
store = $WORK/store3
trusted-certs = $PKI/ca/bundle.crt
dkim-keys = $PKI/dkim/keys.txt
dkim-alignment = relaxed
at = 2020-06-01T00:00:00Z
INI
run_expect 0 "$SEALPOST" collect -c "$WORK/sealpost.ini" "$FX/expired.eml"
assert_file_contains "$WORK/out" "stored expired@example.com"
run_expect 0 "$SEALPOST" collect -c "$WORK/sealpost.ini" --at 2027-06-01 "$FX/subdomain-dkim.eml"
assert_file_contains "$WORK/out" "stored alice@example.com"

case_ "the original's [webapp] keys are accepted"
printf '[webapp]\nuser-certs-dir = %s\ntrusted-certs = %s\n' "$WORK/store4" "$PKI/ca/bundle.crt" >"$WORK/webapp.ini"
run_expect 0 "$SEALPOST" collect -c "$WORK/webapp.ini" --dkim-keys "$PKI/dkim/keys.txt" "$FX/valid-detached.eml"
assert_exists "$WORK/store4/alice@example.com.crt"

case_ "a path trick in From writes nothing anywhere"
run_expect 65 "$SEALPOST" collect --store "$WORK/store5" --trusted-certs "$PKI/ca/bundle.crt" --dkim ignore \
  "$FX/from-path-trick.eml"
assert_file_contains "$WORK/out" "rejected \(bad-from\)"
assert_eq "" "$(find "$WORK" -name '*x@example.com*')" "files named after the trick"
assert_eq "" "$(ls -A "$WORK/store5")" "store5 content"

case_ "usage, configuration and missing-file exit codes"
run_expect 64 "$SEALPOST" collect "${COMMON[@]}"
run_expect 64 "$SEALPOST" collect --no-such-flag x.eml
run_expect 78 "$SEALPOST" collect "${COMMON[@]}" --dkim maybe "$FX/valid-detached.eml"
run_expect 78 "$SEALPOST" collect "${COMMON[@]}" --at yesterday "$FX/valid-detached.eml"
run_expect 78 "$SEALPOST" collect --store "$STORE" --trusted-certs /nonexistent.pem "$FX/valid-detached.eml"
run_expect 78 "$SEALPOST" collect --trusted-certs "$PKI/ca/bundle.crt" "$FX/valid-detached.eml"
run_expect 66 "$SEALPOST" collect "${COMMON[@]}" "$WORK/nonexistent.eml"
assert_file_contains "$WORK/out" "nonexistent.eml: missing"
run_expect 0 "$SEALPOST" collect --help
assert_file_contains "$WORK/out" "--dkim-alignment"

case_ "collect runs through the plugin boundary: without the plugin there is no collect (exit 69)"
mkdir -p "$WORK/noplugin/bin" "$WORK/noplugin/lib"
cp "$SEALPOST" "$WORK/noplugin/bin/sealpost"
cp -a "$(dirname "$SEALPOST")/../lib/"libsealpost_core.so* "$WORK/noplugin/lib/"
run_expect 69 "$WORK/noplugin/bin/sealpost" collect "${COMMON[@]}" "$FX/valid-detached.eml"
assert_file_contains "$WORK/err" "no collector plugin"
run_expect 0 "$WORK/noplugin/bin/sealpost" --help
assert_file_contains "$WORK/out" "collect"
! ldd "$SEALPOST" | grep libsealpost_collector >/dev/null || die "the host links the collector library"

case_ "two keys naming different stores are a configuration error naming both"
printf '[store]\ndir = %s\n[collector]\nstore = %s\n' "$WORK/a" "$WORK/b" >"$WORK/two.ini"
run_expect 78 "$SEALPOST" collect --config "$WORK/two.ini" --trusted-certs "$PKI/ca/bundle.crt" "$FX/valid-detached.eml"
assert_file_contains "$WORK/err" "\[store\] dir = .* and \[collector\] store = "
assert_missing "$WORK/a"; assert_missing "$WORK/b"

case_ "a message over max-message-size"
run_expect 65 "$SEALPOST" collect "${COMMON[@]}" --max-message-size 2k "$FX/valid-detached.eml"
assert_file_contains "$WORK/out" "rejected \(too-large\)"

case_ "certs list shows every collected address with its origin"
run_expect 0 "$SEALPOST" certs --store "$STORE" list
assert_file_contains "$WORK/out" $'^alice@example.com\t[0-9a-f]{64}\t20[0-9-]+T[0-9:]+Z\tcollect\t'
assert_file_contains "$WORK/out" $'^bob@example.com\t'
assert_file_contains "$WORK/out" $'^dave@example.org\t'

case_ "certs show prints the certificate and its evidence"
run_expect 0 "$SEALPOST" certs --store "$STORE" show ALICE@example.com
assert_file_contains "$WORK/out" '"message_id": "detached-alice.example.com@example.com"'
assert_file_contains "$WORK/out" '"capabilities": \['
assert_file_contains "$WORK/out" 'BEGIN CERTIFICATE'
run_expect 66 "$SEALPOST" certs --store "$STORE" show nobody@example.com

case_ "certs check says whether and why not"
run_expect 0 "$SEALPOST" certs --store "$STORE" check alice@example.com dave@example.org
assert_file_contains "$WORK/out" "^alice@example.com: ok sha256="
run_expect 65 "$SEALPOST" certs --store "$STORE" check alice@example.com nobody@example.com
assert_file_contains "$WORK/out" "^nobody@example.com: cannot encrypt: no certificate collected"
run_expect 65 "$SEALPOST" certs --store "$WORK/store3" check expired@example.com
assert_file_contains "$WORK/out" "^expired@example.com: cannot encrypt: certificate expired"
run_expect 0 "$SEALPOST" certs --store "$WORK/store3" --at 2020-06-01T00:00:00Z check expired@example.com

case_ "certs list: a header, and the expired entry marked (judged at --at)"
run_expect 0 "$SEALPOST" certs --store "$WORK/store3" list
assert_eq $'# address\tsha256\tnot-after\tsource\tcollected\tstatus' "$(head -1 "$WORK/out")" "the header line"
assert_file_contains "$WORK/out" $'^expired@example.com\t[0-9a-f]{64}\t.*\texpired$'
assert_file_contains "$WORK/out" $'^alice@example.com\t.*\tcurrent$'
run_expect 0 "$SEALPOST" certs --store "$WORK/store3" --at 2020-06-01T00:00:00Z list
assert_file_contains "$WORK/out" $'^expired@example.com\t.*\tcurrent$'
run_expect 0 "$SEALPOST" certs --store "$STORE" list
assert_file_lacks "$WORK/out" $'\texpired$'
cp "$PKI/users/signonly@example.com.crt" "$WORK/store3/"
run_expect 65 "$SEALPOST" certs --store "$WORK/store3" check signonly@example.com
assert_file_contains "$WORK/out" "cannot encrypt: certificate cannot encrypt"
run_expect 64 "$SEALPOST" certs --store "$STORE" frobnicate

finish

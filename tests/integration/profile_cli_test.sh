#!/usr/bin/env bash
# profile_cli_test.sh: the certificate profile (issue 12) through `sealpost
# collect` and `sealpost certs check`: verdict lines and exit codes, the
# suspicious-usage log line, [collector] profile = strict from the
# configuration, and a weak certificate already in the store that `certs
# check` refuses, saying why.
source "$(dirname "$0")/lib.sh"

FX="$SEALPOST_BUILD_DIR/collect-fixtures"
/usr/bin/python3 "$SEALPOST_SOURCE_DIR/tests/fixtures/make_collect_fixtures.py" "$PKI" "$FX"
STORE="$WORK/store"
COMMON=(--store "$STORE" --trusted-certs "$PKI/ca/bundle.crt" --dkim-keys "$PKI/dkim/keys.txt")

case_ "weak keys and weak algorithms are rejected with their reason codes, nothing stored"
run_expect 65 "$SEALPOST" collect "${COMMON[@]}" "$FX/weak-key-rsa1024.eml" "$FX/sha1-message-digest.eml" \
  "$FX/sha1-intermediate.eml"
assert_file_contains "$WORK/out" "weak-key-rsa1024.eml: rejected \(weak-key\): RSA-1024 key"
assert_file_contains "$WORK/out" "sha1-message-digest.eml: rejected \(weak-algorithm\): message signed with digest SHA1"
assert_file_contains "$WORK/out" "sha1-intermediate.eml: rejected \(weak-algorithm\): certificate signed with SHA1"
assert_missing "$STORE/weak1024@example.com.crt"
assert_missing "$STORE/sha1inter@example.com.crt"

case_ "serverAuth beside emailProtection is stored and logged as suspicious"
run_expect 0 "$SEALPOST" collect "${COMMON[@]}" "$FX/eku-also-server-auth.eml"
assert_file_contains "$WORK/out" "stored tlsboth@example.com"
assert_file_contains "$WORK/err" "WARN .*\| suspicious: certificate for tlsboth@example.com also allows serverAuth"

case_ "profile = strict from the configuration: subject emailAddress only is refused; standard accepts it"
printf '[collector]\nprofile = strict\n' >"$WORK/strict.ini"
run_expect 65 "$SEALPOST" collect -c "$WORK/strict.ini" "${COMMON[@]}" "$FX/legacy-subject-email.eml"
assert_file_contains "$WORK/out" "rejected \(address-mismatch\): profile strict: legacy@example.com is not in a subjectAltName"
run_expect 0 "$SEALPOST" collect "${COMMON[@]}" "$FX/legacy-subject-email.eml"
assert_file_contains "$WORK/out" "stored legacy@example.com"
printf '[collector]\nprofile = lenient\n' >"$WORK/bad.ini"
run_expect 78 "$SEALPOST" collect -c "$WORK/bad.ini" "${COMMON[@]}" "$FX/valid-detached.eml"

case_ "a weak certificate already in the store: certs check refuses it and says why"
cp "$PKI/users/weak1024@example.com.crt" "$PKI/users/caleaf@example.com.crt" "$STORE/"
run_expect 65 "$SEALPOST" certs --store "$STORE" check weak1024@example.com caleaf@example.com legacy@example.com
assert_file_contains "$WORK/out" "^weak1024@example.com: cannot encrypt: certificate refused \(weak-key\): RSA-1024 key"
assert_file_contains "$WORK/out" "^caleaf@example.com: cannot encrypt: certificate refused \(purpose\): end-entity certificate has basicConstraints CA:TRUE"
assert_file_contains "$WORK/out" "^legacy@example.com: ok sha256="

finish

#!/usr/bin/env bash
# signer_test.sh: the signing identity as recipients see it. Full-chain
# certificate files (leaf then intermediates) put the intermediates into the
# signature, so `openssl cms -verify -CAfile root` alone verifies; the chain
# is built at identity load and a warning names a missing issuer; the signed
# attributes announce a modern SMIMECapabilities list (no DES, no RC2) and
# the encryption key preference (RFC 5751 and Microsoft); encrypted private
# keys never prompt; the key file is opened once, without following links.
source "$(dirname "$0")/lib.sh"

KEYS="$WORK/keys"; mkdir -m 700 "$KEYS"
A=alice@example.com
send() { "$SEALPOST" send --keys "$KEYS" --encrypt never "$@"; }
verify_root_only() { openssl cms -verify -CAfile "$PKI/ca/root.crt" -purpose smimesign 2>"$WORK/verify.err"; }
fresh_keys() {
  rm -rf "$KEYS"; mkdir -m 700 "$KEYS"
  cp -p "$PKI/users/$A.pem" "$KEYS/$A.pem"; chmod 600 "$KEYS/$A.pem"
  cp -p "$PKI/users/$A.crt" "$KEYS/$A.crt"
}
make_mail "$WORK/m.eml" "Alice <$A>" "bob@example.com"
printf '[sender]\ntrusted-certs = %s\n' "$PKI/ca/root.crt" >"$WORK/root.ini"

case_ "a full-chain .crt (leaf then intermediate): the signature carries the intermediate; -CAfile root verifies"
fresh_keys
cat "$PKI/users/$A.crt" "$PKI/ca/inter.crt" >"$KEYS/$A.crt"
for mode in --sign --sign-detached; do
  run_expect 0 send $mode --config "$WORK/root.ini" "$WORK/m.eml"
  verify_root_only <"$WORK/out" >"$WORK/content" || die "$mode: does not verify with the root alone: $(cat "$WORK/verify.err")"
  assert_file_contains "$WORK/content" 'Hello from the test suite.'
  assert_file_lacks "$WORK/err" 'cannot build'
done
openssl cms -cmsout -print <"$WORK/out" >"$WORK/print" 2>&1 || die "openssl cannot print the signature"
assert_file_contains "$WORK/print" 'CN ?= ?Sealpost Test Intermediate CA'

case_ "a .chain.pem is still accepted, and a duplicate intermediate is included once"
fresh_keys
cp "$PKI/ca/inter.crt" "$KEYS/$A.chain.pem"
run_expect 0 send --sign --config "$WORK/root.ini" "$WORK/m.eml"
verify_root_only <"$WORK/out" >/dev/null || die "does not verify: $(cat "$WORK/verify.err")"
cat "$PKI/users/$A.crt" "$PKI/ca/inter.crt" >"$KEYS/$A.crt"
run_expect 0 send --sign --config "$WORK/root.ini" "$WORK/m.eml"
openssl cms -cmsout -print <"$WORK/out" >"$WORK/print"
assert_eq 1 "$(grep -Ec 'subject: .*CN ?= ?Sealpost Test Intermediate CA' "$WORK/print")" "intermediates in the signature"

case_ "the chain cannot be built: a warning names the missing issuer (the signature still goes out)"
fresh_keys
run_expect 0 send --sign --config "$WORK/root.ini" "$WORK/m.eml"
assert_file_contains "$WORK/err" "$A: cannot build the signer's chain to a trust anchor in .*root.crt: issuer '.*Sealpost Test Intermediate CA' of '.*CN ?= ?alice' is missing"
verify_root_only <"$WORK/out" >/dev/null && die "a leaf-only signature verified: the test is wrong"
# System bundle (no trusted-certs): the test root is not in it.
cat "$PKI/users/$A.crt" "$PKI/ca/inter.crt" >"$KEYS/$A.crt"
run_expect 0 send --sign "$WORK/m.eml"
assert_file_contains "$WORK/err" "cannot build the signer's chain to a trust anchor in the system bundle: issuer '.*Sealpost Test Root CA' of '.*Sealpost Test Intermediate CA' is missing"
printf '[sender]\ntrusted-certs = %s\n' "$WORK/nonexistent.crt" >"$WORK/bad.ini"
run_expect 78 send --sign --config "$WORK/bad.ini" "$WORK/m.eml"
assert_file_contains "$WORK/err" 'trusted-certs: cannot read .*nonexistent.crt'

case_ "signed attributes: AES capabilities only (no DES, no RC2), encryption key preference for the signer"
fresh_keys
cp "$PKI/ca/inter.crt" "$KEYS/$A.chain.pem"
serial=$(openssl x509 -in "$PKI/users/$A.crt" -noout -serial | cut -d= -f2)
for mode in --sign --sign-detached; do
  run_expect 0 send $mode "$WORK/m.eml"
  openssl cms -cmsout -print <"$WORK/out" >"$WORK/print" 2>&1 || die "openssl cannot print"
  assert_file_contains "$WORK/print" 'S/MIME Capabilities'
  assert_file_contains "$WORK/print" 'OBJECT +:aes-256-cbc'
  assert_file_contains "$WORK/print" 'OBJECT +:aes-128-cbc'
  grep -Eqi 'des-|rc2|desx' "$WORK/print" && die "DES or RC2 announced: $(grep -Ei 'des-|rc2|desx' "$WORK/print")"
  assert_file_lacks "$WORK/print" '(gcm|GCM)'
  grep -A16 '1\.2\.840\.113549\.1\.9\.16\.2\.11' "$WORK/print" >"$WORK/eskp" || die "no SMIMEEncryptionKeyPreference: $(grep object: "$WORK/print")"
  assert_file_contains "$WORK/eskp" 'cont \[ 0 \]'
  grep -Eqi "INTEGER +:0*$serial" "$WORK/eskp" || die "key preference does not name the signer's serial $serial"
  grep -A16 '1\.3\.6\.1\.4\.1\.311\.16\.4' "$WORK/print" >"$WORK/mskp" || die "no Microsoft encryption key preference"
  grep -Eqi "INTEGER +:0*$serial" "$WORK/mskp" || die "Microsoft key preference does not name the signer's serial"
  verify_root_only <"$WORK/out" >/dev/null || die "$mode: does not verify: $(cat "$WORK/verify.err")"
done
printf '[sender]\nannounce-gcm = true\n' >"$WORK/gcm.ini"
run_expect 0 send --sign --config "$WORK/gcm.ini" "$WORK/m.eml"
openssl cms -cmsout -print <"$WORK/out" >"$WORK/print"
assert_file_contains "$WORK/print" 'OBJECT +:aes-256-gcm'
assert_file_contains "$WORK/print" 'OBJECT +:aes-128-gcm'
assert_file_contains "$WORK/print" 'OBJECT +:aes-256-cbc'
case_ "NSS cmsutil verifies a signature carrying the new attributes"
if command -v cmsutil >/dev/null && [ -d "$PKI/nss/bob" ]; then
  python3 -c '
import sys, email
sys.stdout.buffer.write(email.message_from_bytes(open(sys.argv[1],"rb").read()).get_payload(decode=True))' "$WORK/out" >"$WORK/signed.der"
  cmsutil -D -d "sql:$PKI/nss/bob" -i "$WORK/signed.der" -h 1 >"$WORK/nss-hdr" 2>&1 || die "cmsutil: $(cat "$WORK/nss-hdr")"
  assert_file_contains "$WORK/nss-hdr" 'signer0.status=GoodSignature'
fi

case_ "an encrypted private key never prompts: fails fast without a terminal, naming the fix"
fresh_keys
cp "$PKI/ca/inter.crt" "$KEYS/$A.chain.pem"
openssl pkcs8 -topk8 -v2 aes-256-cbc -in "$PKI/users/$A.pem" -passout pass:s3cret-pass -out "$KEYS/$A.pem"
chmod 600 "$KEYS/$A.pem"
run_expect 78 timeout 20 setsid -w "$SEALPOST" send --keys "$KEYS" --encrypt never --sign "$WORK/m.eml" </dev/null
assert_file_contains "$WORK/err" "key .*$A.pem is encrypted: set \[sender\] key-passphrase-file"
[ ! -s "$WORK/out" ] || die "something was written"

case_ "the passphrase comes from [sender] key-passphrase-file, checked like the key"
printf 's3cret-pass\n' >"$WORK/pass"; chmod 644 "$WORK/pass"
printf '[sender]\nkey-passphrase-file = %s\n' "$WORK/pass" >"$WORK/pass.ini"
run_expect 77 timeout 20 setsid -w "$SEALPOST" send --keys "$KEYS" --encrypt never --sign --config "$WORK/pass.ini" "$WORK/m.eml" </dev/null
assert_file_contains "$WORK/err" 'key passphrase file .*pass is accessible by group or others; run: chmod 600'
chmod 600 "$WORK/pass"
run_expect 0 timeout 20 setsid -w "$SEALPOST" send --keys "$KEYS" --encrypt never --sign --config "$WORK/pass.ini" "$WORK/m.eml" </dev/null
verify_root_only <"$WORK/out" >"$WORK/content" || die "signed with the decrypted key does not verify: $(cat "$WORK/verify.err")"
assert_file_contains "$WORK/content" 'Hello from the test suite.'
printf 'wrong\n' >"$WORK/pass"
run_expect 78 timeout 20 setsid -w "$SEALPOST" send --keys "$KEYS" --encrypt never --sign --config "$WORK/pass.ini" "$WORK/m.eml" </dev/null
assert_file_contains "$WORK/err" "cannot be decrypted with the passphrase in .*pass"

case_ "the key file: a symbolic link is refused (77), a 0644 key exits 77, another owner exits 77"
fresh_keys
mkdir -m 700 "$WORK/elsewhere"; mv "$KEYS/$A.pem" "$WORK/elsewhere/$A.pem"
ln -s "$WORK/elsewhere/$A.pem" "$KEYS/$A.pem"
run_expect 77 send --sign "$WORK/m.eml"
assert_file_contains "$WORK/err" 'private key .*alice@example.com.pem is a symbolic link; refused'
rm "$KEYS/$A.pem"; mv "$WORK/elsewhere/$A.pem" "$KEYS/$A.pem"
chmod 644 "$KEYS/$A.pem"
run_expect 77 send --sign "$WORK/m.eml"
assert_file_contains "$WORK/err" 'chmod 600'
chmod 600 "$KEYS/$A.pem"
if [ "$(id -u)" = 0 ]; then
  chown 65534 "$KEYS/$A.pem"
  run_expect 77 send --sign "$WORK/m.eml"
  assert_file_contains "$WORK/err" 'is owned by uid 65534, not by the user running sealpost'
  chown 0 "$KEYS/$A.pem"
fi
run_expect 0 send --sign "$WORK/m.eml"

finish

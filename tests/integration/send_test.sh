#!/usr/bin/env bash
# send_test.sh: `sealpost send` end to end, checked by independent S/MIME
# implementations: openssl cms (decrypt for every recipient, verify every
# signature against the test root) and NSS cmsutil (Thunderbird's library)
# for RSA recipients; gpgsm as well for a large message.
source "$(dirname "$0")/lib.sh"

STORE="$WORK/store"; cp -r "$PKI/store" "$STORE"
KEYS="$WORK/keys"; cp -a "$PKI/keys" "$KEYS"
OUT="$WORK/outbox"
send() { "$SEALPOST" send --store "$STORE" --keys "$KEYS" "$@"; }
outbox_files() { ls "$OUT"/*.eml 2>/dev/null | sort; }
reset_outbox() { rm -rf "$OUT"; }

# decrypt FILE USER -> prints the decrypted entity
decrypt() { strip_envelope "$1" | openssl cms -decrypt -recip "$PKI/users/$2.crt" -inkey "$PKI/users/$2.pem" 2>"$WORK/decrypt.err"; }
# verify: reads an S/MIME entity (opaque or multipart/signed) on stdin, prints the signed content
verify() { openssl cms -verify -CAfile "$PKI/ca/root.crt" -purpose smimesign 2>"$WORK/verify.err"; }
# decode_text: MIME entity on stdin -> the decoded text of its first text part (python email, independent of sealpost)
decode_text() { python3 -c '
import sys, email
from email import policy
m = email.message_from_bytes(sys.stdin.buffer.read(), policy=policy.compat32)
for p in m.walk():
    if p.get_content_maintype() == "text":
        sys.stdout.buffer.write(p.get_payload(decode=True)); break
'; }

case_ "opaque signature, encrypted to an RSA recipient: openssl decrypts and verifies"
reset_outbox
make_mail "$WORK/m1.eml" "Alice <alice@example.com>" "Bob <bob@example.com>"
run_expect 0 send --sign --out-dir "$OUT" "$WORK/m1.eml"
files=($(outbox_files)); assert_eq 1 "${#files[@]}" "outbox files"
f=${files[0]}
assert_file_contains "$f" '^X-Sender: <alice@example.com>'
assert_file_contains "$f" '^X-Receiver: <bob@example.com>'
assert_file_contains "$f" 'smime-type=enveloped-data'
assert_file_contains "$f" '^Subject: test m1.eml'
decrypt "$f" bob@example.com >"$WORK/inner" || die "bob cannot decrypt: $(cat "$WORK/decrypt.err")"
assert_file_contains "$WORK/inner" 'smime-type=signed-data'
verify <"$WORK/inner" >"$WORK/content" || die "signature does not verify: $(cat "$WORK/verify.err")"
assert_file_contains "$WORK/content" 'Hello from the test suite.'
decrypt "$f" carol@example.net >/dev/null && die "carol could decrypt a copy not meant for her"

case_ "NSS cmsutil decrypts the RSA copy and verifies the signature inside"
if command -v cmsutil >/dev/null && [ -d "$PKI/nss/bob" ]; then
  strip_envelope "$f" | python3 -c '
import sys, email, base64
m = email.message_from_bytes(sys.stdin.buffer.read())
sys.stdout.buffer.write(m.get_payload(decode=True))' >"$WORK/env.der"
  cmsutil -D -d "sql:$PKI/nss/bob" -i "$WORK/env.der" -o "$WORK/nss-inner" 2>"$WORK/nss.err" || die "cmsutil cannot decrypt: $(cat "$WORK/nss.err")"
  assert_file_contains "$WORK/nss-inner" 'smime-type=signed-data'
  python3 -c '
import sys, email
m = email.message_from_bytes(open(sys.argv[1],"rb").read())
sys.stdout.buffer.write(m.get_payload(decode=True))' "$WORK/nss-inner" >"$WORK/signed.der"
  cmsutil -D -d "sql:$PKI/nss/bob" -i "$WORK/signed.der" -h 1 >"$WORK/nss-hdr" 2>&1 || die "cmsutil cannot decode the signature: $(cat "$WORK/nss-hdr")"
  assert_file_contains "$WORK/nss-hdr" 'signer0.status=GoodSignature'
  assert_file_contains "$WORK/nss-hdr" 'Hello from the test suite.'
else
  die "cmsutil (libnss3-tools) or the NSS test database is missing"
fi

case_ "a 200 KB message (the envelope's AES and base64 run in one loop, over many 3.6 KB pieces): openssl, NSS cmsutil and gpgsm decrypt the same entity"
reset_outbox
{
  printf 'From: Alice <alice@example.com>\r\nTo: Bob <bob@example.com>\r\nSubject: big\r\nMIME-Version: 1.0\r\n'
  printf 'Content-Type: text/plain; charset=us-ascii\r\n\r\n'
  for i in $(seq 1 3000); do printf 'Statement line %05d: 2026-11-27 transfer of 1,234.56 EUR to account 42\r\n' "$i"; done
} >"$WORK/big.eml"
run_expect 0 send --sign --out-dir "$OUT" "$WORK/big.eml"
f=$(outbox_files)
decrypt "$f" bob@example.com >"$WORK/big.openssl" || die "openssl cannot decrypt: $(cat "$WORK/decrypt.err")"
verify <"$WORK/big.openssl" >"$WORK/big.content" || die "signature does not verify: $(cat "$WORK/verify.err")"
assert_file_contains "$WORK/big.content" 'Statement line 03000: '
strip_envelope "$f" | python3 -c '
import sys, email
sys.stdout.buffer.write(email.message_from_bytes(sys.stdin.buffer.read()).get_payload(decode=True))' >"$WORK/big.der"
cmsutil -D -d "sql:$PKI/nss/bob" -i "$WORK/big.der" -o "$WORK/big.nss" 2>"$WORK/nss.err" || die "cmsutil cannot decrypt: $(cat "$WORK/nss.err")"
cmp -s "$WORK/big.openssl" "$WORK/big.nss" || die "NSS decrypts other bytes than openssl"
command -v gpgsm >/dev/null || die "gpgsm is missing (scripts/setup installs it)"
export GNUPGHOME="$WORK/gnupg"; mkdir -m 700 -p "$GNUPGHOME"
echo allow-loopback-pinentry >"$GNUPGHOME/gpg-agent.conf"
# gpgsm 2.2 reads neither PBES2 nor RC2 bags: the key in 3DES, the certificate in clear.
openssl pkcs12 -export -inkey "$PKI/users/bob@example.com.pem" -in "$PKI/users/bob@example.com.crt" \
  -keypbe PBE-SHA1-3DES -certpbe NONE -macalg sha1 -passout pass:test -out "$WORK/bob-gpgsm.p12"
gpgsm_() { printf 'test\n' | timeout 60 gpgsm --batch --pinentry-mode loopback --passphrase-fd 0 --disable-crl-checks "$@"; }
gpgsm_ --import "$WORK/bob-gpgsm.p12" >/dev/null 2>"$WORK/gpgsm.err" || die "gpgsm cannot import bob's key: $(cat "$WORK/gpgsm.err")"
gpgsm_ --decrypt "$WORK/big.der" >"$WORK/big.gpgsm" 2>"$WORK/gpgsm.err" || die "gpgsm cannot decrypt: $(cat "$WORK/gpgsm.err")"
gpgconf --kill gpg-agent 2>/dev/null || true
unset GNUPGHOME
cmp -s "$WORK/big.openssl" "$WORK/big.gpgsm" || die "gpgsm decrypts other bytes than openssl"

case_ "detached signature: multipart/signed with micalg=sha-256 verifies with openssl"
reset_outbox
run_expect 0 send --sign-detached --encrypt never --out-dir "$OUT" "$WORK/m1.eml"
f=$(outbox_files)
assert_file_contains "$f" 'multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256'
strip_envelope "$f" | verify >"$WORK/content" || die "detached signature does not verify: $(cat "$WORK/verify.err")"
assert_file_contains "$WORK/content" 'Hello from the test suite.'

case_ "NSS cmsutil verifies the detached signature over the signed part"
python3 - "$f" "$WORK" <<'PY'
import sys, email, re
raw = open(sys.argv[1], "rb").read()
raw = b"".join(l for l in raw.splitlines(True) if not l.startswith((b"X-Sender:", b"X-Receiver:")))
m = email.message_from_bytes(raw)
boundary = m.get_boundary().encode()
parts = raw.split(b"--" + boundary)
signed = parts[1][2:-2]  # strip the CRLF after the boundary line and before the next
open(sys.argv[2] + "/detached.content", "wb").write(signed)
sig = m.get_payload()[1].get_payload(decode=True)
open(sys.argv[2] + "/detached.p7s", "wb").write(sig)
PY
cmsutil -D -d "sql:$PKI/nss/carol" -i "$WORK/detached.p7s" -c "$WORK/detached.content" -h 1 >"$WORK/nss-hdr" 2>&1 || die "cmsutil: $(cat "$WORK/nss-hdr")"
assert_file_contains "$WORK/nss-hdr" 'signer0.status=GoodSignature'

for cipher in aes-256-cbc aes-128-gcm aes-256-gcm; do
  case_ "cipher $cipher: bob decrypts with openssl, show names the structure"
  reset_outbox
  run_expect 0 send --sign --cipher "$cipher" --out-dir "$OUT" "$WORK/m1.eml"
  f=$(outbox_files)
  decrypt "$f" bob@example.com | verify >"$WORK/content" || die "$cipher: decrypt/verify failed: $(cat "$WORK/decrypt.err" "$WORK/verify.err")"
  assert_file_contains "$WORK/content" 'Hello from the test suite.'
  strip_envelope "$f" | "$SEALPOST" show - >"$WORK/show" || die "show failed"
  case $cipher in
    *gcm) assert_file_contains "$WORK/show" 'AuthEnvelopedData'; assert_file_contains "$f" 'smime-type=authEnveloped-data';;
    *) assert_file_contains "$WORK/show" 'EnvelopedData \(encrypted\)';;
  esac
  want=$(sed 's/aes-\([0-9]*\)-\(cbc\|gcm\)/AES-\1-\U\2/' <<<"$cipher"); [ "$cipher" = aes-256-gcm ] && want="id-aes256-GCM"; [ "$cipher" = aes-128-gcm ] && want="id-aes128-GCM"
  assert_file_contains "$WORK/show" "content encryption: $want"
  assert_file_contains "$WORK/show" 'recipient 1 \(key transport, RSA\): issuer .*CN ?= ?Sealpost Test Intermediate'
  decrypt "$f" bob@example.com | "$SEALPOST" show - >"$WORK/show-inner" || die "show of the decrypted entity failed"
  assert_file_contains "$WORK/show-inner" 'signer 1: digest (sha256|SHA256)'
  assert_file_contains "$WORK/show-inner" 'address alice@example.com'
done

case_ "cipher from recorded capabilities: AES-256-GCM only when every recipient of the copy announced it"
reset_outbox
fp=$(openssl x509 -in "$STORE/bob@example.com.crt" -outform DER | sha256sum | cut -d' ' -f1)
printf '{"fingerprint":"%s","capabilities":["id-aes256-GCM","AES-256-CBC"]}\n' "$fp" >"$STORE/bob@example.com.json"
run_expect 0 send --sign --out-dir "$OUT" "$WORK/m1.eml"
assert_file_contains "$(outbox_files)" 'smime-type=authEnveloped-data'
decrypt "$(outbox_files)" bob@example.com | verify >/dev/null || die "bob cannot read the GCM copy"
reset_outbox
make_mail "$WORK/m1b.eml" "alice@example.com" "bob@example.com, carol@example.net"
run_expect 0 send --sign --out-dir "$OUT" "$WORK/m1b.eml"
assert_file_contains "$(outbox_files)" 'smime-type=enveloped-data'
strip_envelope "$(outbox_files)" | "$SEALPOST" show - | grep 'content encryption: AES-256-CBC' >/dev/null || die "mixed copy is not CBC"
reset_outbox
run_expect 0 send --sign --cipher aes-256-cbc --out-dir "$OUT" "$WORK/m1.eml"
assert_file_contains "$(outbox_files)" 'smime-type=enveloped-data'
rm "$STORE/bob@example.com.json"

case_ "RSA and EC recipients get separate copies by default; each decrypts its own"
reset_outbox
make_mail "$WORK/m2.eml" "alice@example.com" "bob@example.com, Dave <dave@example.org>"
run_expect 0 send --sign --out-dir "$OUT" "$WORK/m2.eml"
files=($(outbox_files)); assert_eq 2 "${#files[@]}" "copies"
rsa=$(grep -l '^X-Receiver: <bob@example.com>' "${files[@]}"); ec=$(grep -l '^X-Receiver: <dave@example.org>' "${files[@]}")
[ "$rsa" != "$ec" ] || die "bob and dave share a copy"
decrypt "$rsa" bob@example.com | verify >/dev/null || die "bob's copy"
decrypt "$ec" dave@example.org | verify >/dev/null || die "dave's copy: $(cat "$WORK/decrypt.err")"
decrypt "$rsa" dave@example.org >/dev/null && die "dave can read the RSA copy"
command -v cmsutil >/dev/null && { strip_envelope "$rsa" | python3 -c '
import sys, email
sys.stdout.buffer.write(email.message_from_bytes(sys.stdin.buffer.read()).get_payload(decode=True))' >"$WORK/rsa.der"
  cmsutil -D -d "sql:$PKI/nss/bob" -i "$WORK/rsa.der" -o /dev/null 2>"$WORK/nss.err" || die "NSS cannot read the RSA-only copy: $(cat "$WORK/nss.err")"; }

case_ "--mix-key-types puts both in one envelope"
reset_outbox
run_expect 0 send --sign --mix-key-types --out-dir "$OUT" "$WORK/m2.eml"
files=($(outbox_files)); assert_eq 1 "${#files[@]}" "copies"
decrypt "${files[0]}" bob@example.com >/dev/null || die "bob"
decrypt "${files[0]}" dave@example.org >/dev/null || die "dave"

case_ "auto with partial coverage: two copies, right envelopes, plain copy still signed"
reset_outbox
make_mail "$WORK/m3.eml" "alice@example.com" "bob@example.com, nocert@example.net"
run_expect 0 send --sign-detached --out-dir "$OUT" "$WORK/m3.eml"
files=($(outbox_files)); assert_eq 2 "${#files[@]}" "copies"
enc=$(grep -l 'enveloped-data' "${files[@]}"); plain=$(grep -L 'enveloped-data' "${files[@]}")
assert_file_contains "$enc" '^X-Receiver: <bob@example.com>'; assert_file_lacks "$enc" '^X-Receiver: <nocert@example.net>'
assert_file_contains "$plain" '^X-Receiver: <nocert@example.net>'; assert_file_lacks "$plain" '^X-Receiver: <bob@example.com>'
strip_envelope "$plain" | verify >/dev/null || die "plain copy signature"
assert_file_contains "$WORK/err" 'nocert@example.net: not encrypted: no certificate collected'

case_ "expired and signing-only certificates are not used"
reset_outbox
make_mail "$WORK/m4.eml" "alice@example.com" "expired@example.com, signonly@example.com"
run_expect 0 send --out-dir "$OUT" "$WORK/m4.eml"
assert_file_contains "$WORK/err" 'expired@example.com: not encrypted: certificate expired'
assert_file_contains "$WORK/err" 'signonly@example.com: not encrypted: certificate cannot encrypt'
assert_file_lacks "$(outbox_files)" 'enveloped-data'

case_ "encrypt=always with a missing certificate: error names them, nothing written"
reset_outbox
run_expect 65 send --sign --encrypt always --out-dir "$OUT" "$WORK/m3.eml"
assert_file_contains "$WORK/err" 'nocert@example.net \(no certificate collected\)'
[ -z "$(outbox_files)" ] || die "something was written"

case_ "Bcc is removed from every copy; each Bcc recipient gets a copy of its own"
reset_outbox
make_mail "$WORK/m5.eml" "alice@example.com" "bob@example.com" "Cc: frank@example.org" "Bcc: carol@example.net, hidden@example.org"
run_expect 0 send --sign --out-dir "$OUT" "$WORK/m5.eml"
files=($(outbox_files)); assert_eq 4 "${#files[@]}" "copies (bob, frank, carol, hidden)"
for f in "${files[@]}"; do assert_file_lacks "$f" '^Bcc:'; assert_eq 1 "$(grep -c '^X-Receiver:' "$f")" "recipients in $f"; done
to=$(grep -l '^X-Receiver: <bob@example.com>' "${files[@]}")
bcc=$(grep -l '^X-Receiver: <carol@example.net>' "${files[@]}")
decrypt "$bcc" carol@example.net | verify >"$WORK/content" || die "carol cannot read her copy"
assert_file_lacks "$WORK/content" '^Bcc:'
decrypt "$to" bob@example.com | verify >/dev/null || die "bob cannot read his copy"
decrypt "$to" carol@example.net >/dev/null && die "carol can decrypt the To copy"
# The To copy's RecipientInfos must not name carol's certificate (issuer + serial).
strip_envelope "$to" | openssl cms -cmsout -print >"$WORK/to.print" 2>&1 || die "openssl cannot print the To copy"
carol_serial=$(openssl x509 -in "$PKI/users/carol@example.net.crt" -noout -serial | cut -d= -f2)
bob_serial=$(openssl x509 -in "$PKI/users/bob@example.com.crt" -noout -serial | cut -d= -f2)
grep -qi "serialNumber: 0x0*$bob_serial" "$WORK/to.print" || die "bob's serial not found in the To copy's RecipientInfos (print format changed?)"
grep -qi "$carol_serial" "$WORK/to.print" && die "the To copy's RecipientInfos name carol's certificate (serial $carol_serial)"
assert_eq 1 "$(grep -c 'd.ktri:' "$WORK/to.print")" "RecipientInfos in the To copy"
strip_envelope "$bcc" | openssl cms -cmsout -print >"$WORK/bcc.print" 2>&1
assert_eq 1 "$(grep -c 'd.ktri:' "$WORK/bcc.print")" "RecipientInfos in the Bcc copy"
grep -qi "$bob_serial" "$WORK/bcc.print" && die "the Bcc copy names bob's certificate"
plain=$(grep -l '^X-Receiver: <hidden@example.org>' "${files[@]}")
assert_file_lacks "$plain" 'enveloped-data'
for f in "${files[@]}"; do strip_envelope "$f" | grep 'hidden@example.org\|carol@example.net' >/dev/null && die "a Bcc address leaked into $f"; done
strip_envelope "$plain" | verify >/dev/null || die "the plain Bcc copy's signature"
"$SEALPOST" send --help | grep 'each Bcc recipient gets a copy of its own' >/dev/null || die "--help does not say how Bcc is handled"

case_ "8-bit UTF-8 body with trailing spaces and a From line survives sign and verify"
reset_outbox
printf 'From: alice@example.com\nTo: bob@example.com\nSubject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nGrüße aus Köln  \nFrom the statement department\n.\nend with tab\t\n' >"$WORK/m6.eml"
printf 'Grüße aus Köln  \r\nFrom the statement department\r\n.\r\nend with tab\t\r\n' >"$WORK/m6.expected"
for mode in --sign --sign-detached; do
  reset_outbox
  run_expect 0 send $mode --encrypt never --out-dir "$OUT" "$WORK/m6.eml"
  f=$(outbox_files)
  assert_file_lacks "$f" '^From the'
  LC_ALL=C grep -q -P '[\x80-\xff]' "$f" && die "$mode: 8-bit bytes left in the output"
  strip_envelope "$f" | verify >"$WORK/content" || die "$mode: verify: $(cat "$WORK/verify.err")"
  decode_text <"$WORK/content" >"$WORK/decoded"
  cmp -s "$WORK/decoded" "$WORK/m6.expected" || die "$mode: decoded text differs: $(od -c "$WORK/decoded" | sed -n 1,10p)"
done

case_ "raw 8-bit UTF-8 in From and Subject: RFC 2047 on the way out, 7-bit headers that decode back"
reset_outbox
subject='Kontoauszug für März – Grüße aus Köln, a subject long enough to need folding when it is encoded'
printf 'From: Jürgen Müller <alice@example.com>\nTo: Zoë <bob@example.com>\nSubject: %s\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\nHallo\n' "$subject" >"$WORK/m8.eml"
run_expect 0 send --sign --out-dir "$OUT" "$WORK/m8.eml"
f=$(outbox_files)
LC_ALL=C grep -q -P '[\x80-\xff]' "$f" && die "8-bit bytes left in the output: $(LC_ALL=C grep -a -P '[\x80-\xff]' "$f" | sed -n 1,3p)"
assert_file_contains "$f" '^X-Receiver: <bob@example.com>'
strip_envelope "$f" | python3 -c '
import sys, email
from email.header import decode_header, make_header
m = email.message_from_bytes(sys.stdin.buffer.read())
for h in ("From", "To", "Subject"):
    print(h + ": " + str(make_header(decode_header(m[h]))).replace("\r\n", "").replace("\n", ""))
' >"$WORK/headers"
grep -qxF "Subject: $subject" "$WORK/headers" || die "Subject does not decode back: $(cat "$WORK/headers")"
grep -qxF 'From: Jürgen Müller <alice@example.com>' "$WORK/headers" || die "From does not decode back: $(cat "$WORK/headers")"
grep -qxF 'To: Zoë <bob@example.com>' "$WORK/headers" || die "To does not decode back: $(cat "$WORK/headers")"
decrypt "$f" bob@example.com | verify >/dev/null || die "bob cannot read it"
awk '/^\r?$/{exit} {print}' "$f" | awk 'length($0) > 998 {bad=1} END {exit bad}' || die "a header line is longer than 998 characters"

case_ "output uses CRLF throughout"
f=$(outbox_files)
[ "$(strip_envelope "$f" | grep -c $'[^\r]$' || true)" = 0 ] || die "bare LF line in output"

case_ "standard output: one copy goes there; a split needs an outbox"
run_expect 0 send --sign "$WORK/m1.eml"
assert_file_contains "$WORK/out" 'smime-type=enveloped-data'
run_expect 64 send --sign "$WORK/m3.eml"
assert_file_contains "$WORK/err" 'splits into 2 copies'

case_ "bad input gives the documented exit codes and a clear message"
reset_outbox
: >"$WORK/empty.eml"
run_expect 65 send --out-dir "$OUT" "$WORK/empty.eml"; assert_file_contains "$WORK/err" 'empty message'
head -c 3000 /dev/urandom >"$WORK/junk.eml"
run_expect 65 send --out-dir "$OUT" "$WORK/junk.eml"
printf 'To: bob@example.com\r\nSubject: x\r\n\r\nbody\r\n' >"$WORK/nofrom.eml"
run_expect 65 send --out-dir "$OUT" "$WORK/nofrom.eml"; assert_file_contains "$WORK/err" 'no From: header'
printf 'From: a@example.com, b@example.com\r\nTo: bob@example.com\r\n\r\nbody\r\n' >"$WORK/twofrom.eml"
run_expect 65 send --out-dir "$OUT" "$WORK/twofrom.eml"; assert_file_contains "$WORK/err" 'exactly one'
run_expect 66 send --out-dir "$OUT" "$WORK/does-not-exist.eml"; assert_file_contains "$WORK/err" 'no such file'
# Named once: the message's first line names the file, its error line does not again.
assert_eq 1 "$(grep -o 'does-not-exist\.eml' "$WORK/err" | wc -l)" "times the missing file is named"
[ -z "$(outbox_files)" ] || die "bad input produced output"

case_ "errors name their command once: never 'certs: certs: ...' nor 'store: store migrate: ...'"
: >"$WORK/all.err"
run_expect 64 "$SEALPOST" certs --store "$STORE"; cat "$WORK/err" >>"$WORK/all.err"
assert_file_contains "$WORK/err" 'ERROR certs: give list'
run_expect 64 "$SEALPOST" certs --store "$STORE" list extra@example.com; cat "$WORK/err" >>"$WORK/all.err"
assert_file_contains "$WORK/err" 'ERROR certs list takes no address'
run_expect 78 "$SEALPOST" store migrate --from "files:$WORK/nonexistent" --to "files:$WORK/m"; cat "$WORK/err" >>"$WORK/all.err"
assert_file_contains "$WORK/err" 'ERROR store migrate: .*: no such directory'
run_expect 66 "$SEALPOST" show "$WORK/does-not-exist.eml"; cat "$WORK/err" >>"$WORK/all.err"
assert_file_contains "$WORK/err" 'ERROR show: [^ ]*does-not-exist\.eml: no such file'
assert_file_lacks "$WORK/all.err" '(certs|store|send|show|collect|serve): (certs|store|send|show|collect|serve)[: ]'

case_ "a key file readable by others is refused (77); a missing key is a config error (78)"
chmod 644 "$KEYS/alice@example.com.pem"
run_expect 77 send --sign --out-dir "$OUT" "$WORK/m1.eml"; assert_file_contains "$WORK/err" 'chmod 600'
chmod 600 "$KEYS/alice@example.com.pem"
make_mail "$WORK/m7.eml" "carol@example.net" "bob@example.com"
run_expect 78 send --sign --out-dir "$OUT" "$WORK/m7.eml"; assert_file_contains "$WORK/err" 'no private key'
[ -z "$(outbox_files)" ] || die "failed signing produced output"

case_ "never plaintext because of the configuration: typos, a missing store, no store (exit 78)"
reset_outbox
make_mail "$WORK/cfg.eml" alice@example.com bob@example.com
printf '[store]\ndirectory = %s\n' "$STORE" >"$WORK/typo-key.ini"
run_expect 78 "$SEALPOST" send --config "$WORK/typo-key.ini" --out-dir "$OUT" "$WORK/cfg.eml"
assert_file_contains "$WORK/err" "typo-key.ini:2: unknown key 'directory' in section \[store\] \(did you mean 'dir'\?\)"
printf '[stroe]\ndir = %s\n' "$STORE" >"$WORK/typo-section.ini"
run_expect 78 "$SEALPOST" send --config "$WORK/typo-section.ini" --out-dir "$OUT" "$WORK/cfg.eml"
assert_file_contains "$WORK/err" "unknown section \[stroe\] \(did you mean \[store\]\?\)"
run_expect 78 "$SEALPOST" send --store "$WORK/no-such-dir" --out-dir "$OUT" "$WORK/cfg.eml"
assert_file_contains "$WORK/err" "no-such-dir: no such directory"
run_expect 78 "$SEALPOST" send --out-dir "$OUT" "$WORK/cfg.eml"
assert_file_contains "$WORK/err" "set encrypt = never"
printf '[store]\ndir = %s\n[collector]\nstore = %s\n' "$STORE" "$WORK/other" >"$WORK/two-stores.ini"
run_expect 78 "$SEALPOST" send --config "$WORK/two-stores.ini" --out-dir "$OUT" "$WORK/cfg.eml"
assert_file_contains "$WORK/err" "\[store\] dir = .* and \[collector\] store = .* name different certificate stores"
assert_eq "" "$(outbox_files)" "nothing was sent"
run_expect 0 "$SEALPOST" send --encrypt never --out-dir "$OUT" "$WORK/cfg.eml"
assert_file_contains "$WORK/err" "encrypt=never"
[ "$(outbox_files | wc -l)" = 1 ] || die "--encrypt never without a store sends one plain copy"

case_ "show verifies what it shows: good with the signer and the root, BAD when tampered, no chain without the anchor"
reset_outbox
run_expect 0 send --sign --encrypt never --out-dir "$OUT" "$WORK/cfg.eml"
strip_envelope "$(outbox_files)" >"$WORK/opaque.eml"
run_expect 0 "$SEALPOST" show --trusted-certs "$PKI/ca/root.crt" "$WORK/opaque.eml"
assert_file_contains "$WORK/out" 'signature good, signer alice@example.com, chain to .*Root'
reset_outbox
run_expect 0 send --sign-detached --encrypt never --out-dir "$OUT" "$WORK/cfg.eml"
strip_envelope "$(outbox_files)" >"$WORK/detached.eml"
run_expect 0 "$SEALPOST" show --trusted-certs "$PKI/ca/root.crt" "$WORK/detached.eml"
assert_file_contains "$WORK/out" 'signature good, signer alice@example.com, chain to .*Root'
sed 's/Hello from the test suite/Hello from the attacker!!/' "$WORK/detached.eml" >"$WORK/tampered.eml"
run_expect 0 "$SEALPOST" show --trusted-certs "$PKI/ca/root.crt" "$WORK/tampered.eml"
assert_file_contains "$WORK/out" 'signature BAD'
assert_file_lacks "$WORK/out" 'signature good'
run_expect 0 "$SEALPOST" show "$WORK/detached.eml"
assert_file_contains "$WORK/out" 'signature good, signer alice@example.com, but no chain to a trusted root'
run_expect 64 "$SEALPOST" show </dev/null
assert_file_contains "$WORK/err" 'usage: sealpost show'

case_ "every line of one message carries the same id"
reset_outbox
run_expect 0 send --sign --out-dir "$OUT" "$WORK/cfg.eml"
id=$(grep -oE '[0-9A-F]{10}: send: ' "$WORK/err" | sed -n 1p | cut -c1-10)
[ -n "$id" ] || die "no id on the opening line"
assert_file_contains "$WORK/err" "$id: \| from=alice@example.com"
assert_file_contains "$WORK/err" "$id: \| delivered"

case_ "a batch: one file per copy, names sort in send order, summary line"
reset_outbox
for i in 1 2 3 4 5; do make_mail "$WORK/b$i.eml" "alice@example.com" "bob@example.com" "X-Seq: $i"; done
run_expect 0 send --sign -j 2 --out-dir "$OUT" "$WORK"/b[1-5].eml
assert_eq 5 "$(outbox_files | wc -l)" "batch outbox files"
assert_file_contains "$WORK/err" 'summary: 5 messages, 5 copies, 5 encrypted, 5 signed, 0 failed'
run_expect 0 send --out-dir "$OUT" --encrypt never "$WORK"/b1.eml "$WORK"/b2.eml
last2=$(outbox_files | tail -2)
grep -q 'X-Seq: 1' $(head -1 <<<"$last2") || die "outbox names do not sort in send order"

finish

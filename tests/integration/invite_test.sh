#!/usr/bin/env bash
# invite_test.sh: closing the loop (issue 13) with the real binary on the
# files backend: `send` with encrypt=auto records recipients without a
# certificate; `sealpost invite` sends them signed, not encrypted
# invitations (Auto-Submitted, their own Message-ID) through an outbox and
# a real SMTP peer (python3-aiosmtpd), never twice within the interval
# (also across a restart: the next process), never more than max-per-day,
# never to excluded addresses; a renewal invitation for an expiring
# certificate; template placeholders, and a broken template is exit 78 at
# start for invite, send and serve; `certs report`; a [domain] encrypt =
# always refuses its recipient without a certificate while the others of
# the message are delivered (send: exit 69; serve: 250 and a DSN); serve
# records wanted recipients and invites them in the background; and the
# collector's confirmation is encrypted to the certificate just collected:
# openssl cms and NSS cmsutil decrypt it with the collected key.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/../servers/servers.sh"

TOKEN='t0ken-Zebra'
FX="$SEALPOST_BUILD_DIR/collect-fixtures"
"$PY" "$SEALPOST_SOURCE_DIR/tests/fixtures/make_collect_fixtures.py" "$PKI" "$FX"

SERVE_PIDS=()
cleanup() {
  local pid
  for pid in "${SERVE_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  stop_servers
  rm -rf "$WORK"
}
trap cleanup EXIT

SERVICE=alice@example.com   # the service identity that signs invitations ($PKI/keys)
COLLECT=secureme@inbound.example.com

# write_config NAME [extra INI lines...]: $WORK/NAME.ini, a fresh copy of the
# test store in $WORK/NAME/store, outbox $WORK/NAME/outbox.
write_config() {
  local name=$1; shift
  rm -rf "$WORK/$name"; mkdir -p "$WORK/$name/outbox"
  cp -r "$PKI/store" "$WORK/$name/store"
  rm -f "$WORK/$name/store/signonly@example.com.crt"   # (it would get a renewal invitation too)
  {
    printf '[store]\ndir = %s\n' "$WORK/$name/store"
    printf '[relay]\nout-dir = %s\n' "$WORK/$name/outbox"
    printf '[sender]\nkeys-dir = %s\n' "$PKI/keys"
    printf '[admin]\nlisten =\n'
    local line; for line in "$@"; do printf '%s\n' "$line"; done
  } >"$WORK/$name.ini"
}
invite_ini=("[invite]" "enabled = yes" "collect-address = $COLLECT" "from = $SERVICE")
outbox_count() { find "$1" -maxdepth 1 -name '*.eml' 2>/dev/null | wc -l; }
# to_file OUTBOX ADDRESS: the outbox file addressed to ADDRESS (X-Receiver).
to_file() { grep -l "^X-Receiver: <$2>" "$1"/*.eml | sed -n 1p; }
# verify FILE: the signature checked against the test root; prints the
# signed text, transfer-decoded (every text/plain part).
verify() {
  strip_envelope "$1" | openssl cms -verify -CAfile "$PKI/ca/root.crt" -purpose smimesign 2>"$WORK/verify.err" \
    >"$WORK/verified.eml" || return 1
  "$PY" -c '
import email, sys
m = email.message_from_bytes(open(sys.argv[1], "rb").read())
for p in m.walk():
    if p.get_content_type() == "text/plain":
        sys.stdout.write(p.get_payload(decode=True).decode("utf-8").replace("\r\n", "\n"))' "$WORK/verified.eml"
}

###########################################################################
case_ "send with encrypt=auto and [invite] enabled records who had no usable certificate"
write_config a "${invite_ini[@]}" "renew-before = 0s"
make_mail "$WORK/m1.eml" "$SERVICE" "bob@example.com, frank@example.org, zed@example.net, expired@example.com"
run_expect 0 "$SEALPOST" send -c "$WORK/a.ini" --sign "$WORK/m1.eml"
assert_file_contains "$WORK/a/store/.invite/ledger.json" '"frank@example.org"'
run_expect 0 "$SEALPOST" certs -c "$WORK/a.ini" report
assert_file_contains "$WORK/out" '^wanted: 3$'
assert_file_contains "$WORK/out" '^  frank@example\.org	no-certificate	since '
assert_file_contains "$WORK/out" '^  expired@example\.com	expiring	'
assert_file_contains "$WORK/out" '^invited: 0$'
assert_file_lacks "$WORK/out" '^  bob@example\.com	no-certificate'

case_ "without [invite] enabled nothing is recorded"
write_config off
run_expect 0 "$SEALPOST" send -c "$WORK/off.ini" "$WORK/m1.eml" --out-dir "$WORK/off/outbox"
assert_missing "$WORK/off/store/.invite"

case_ "invite --dry-run lists and sends nothing"
rm -f "$WORK"/a/outbox/*.eml
run_expect 0 "$SEALPOST" invite -c "$WORK/a.ini" --dry-run
assert_file_contains "$WORK/out" '^would send invitation to frank@example\.org \(no-certificate\)$'
assert_file_contains "$WORK/out" '^would send renewal invitation to expired@example\.com \(expiring\)$'
assert_eq 0 "$(outbox_count "$WORK/a/outbox")" "outbox files after --dry-run"
run_expect 0 "$SEALPOST" certs -c "$WORK/a.ini" report
assert_file_contains "$WORK/out" '^invited: 0$'

case_ "invite sends signed, not encrypted invitations with Auto-Submitted and a Message-ID of their own"
run_expect 0 "$SEALPOST" invite -c "$WORK/a.ini"
assert_file_contains "$WORK/out" '^sent invitation to frank@example\.org \(no-certificate\)$'
assert_file_contains "$WORK/out" '^sent invitation to zed@example\.net \(no-certificate\)$'
assert_file_contains "$WORK/out" '^sent renewal invitation to expired@example\.com \(expiring\)$'
assert_file_lacks "$WORK/out" 'bob@example\.com'
assert_eq 3 "$(outbox_count "$WORK/a/outbox")" "invitations in the outbox"
f=$(to_file "$WORK/a/outbox" frank@example.org)
assert_file_contains "$f" '^Auto-Submitted: auto-generated'
assert_file_contains "$f" '^Content-Type: multipart/signed; protocol="application/pkcs7-signature"'
assert_file_lacks "$f" 'pkcs7-mime; smime-type=enveloped-data'
assert_file_contains "$f" '^From: <alice@example\.com>'
assert_file_contains "$f" '^Subject: Please send us a signed e-mail'
verify "$f" >"$WORK/inv.txt" || die "the invitation does not verify: $(cat "$WORK/verify.err")"
assert_file_contains "$WORK/inv.txt" 'secureme@inbound\.example\.com'
assert_file_contains "$WORK/inv.txt" 'frank@example\.org'
ids=$(grep -h '^Message-ID:' "$WORK"/a/outbox/*.eml | sort -u | wc -l)
assert_eq 3 "$ids" "distinct Message-IDs"
e=$(to_file "$WORK/a/outbox" expired@example.com)
assert_file_contains "$e" '^Subject: Your e-mail certificate needs renewing'
verify "$e" >"$WORK/renew.txt" || die "the renewal does not verify: $(cat "$WORK/verify.err")"
assert_file_contains "$WORK/renew.txt" 'That certificate expired on [0-9]{4}-[0-9]{2}-[0-9]{2}'

case_ "the interval holds across a restart: the next run sends nothing"
run_expect 0 "$SEALPOST" invite -c "$WORK/a.ini"
assert_eq "" "$(cat "$WORK/out")" "output of the second run"
assert_eq 3 "$(outbox_count "$WORK/a/outbox")" "invitations in the outbox"
run_expect 0 "$SEALPOST" certs -c "$WORK/a.ini" report
assert_file_contains "$WORK/out" '^invited: 3$'
assert_file_contains "$WORK/out" '^  frank@example\.org	no-certificate	last .*	1x$'

case_ "max-per-day: two of three, then nothing more that day"
write_config b "${invite_ini[@]}" "renew-before = 0s" "max-per-day = 2"
run_expect 0 "$SEALPOST" send -c "$WORK/b.ini" --sign "$WORK/m1.eml"
rm -f "$WORK"/b/outbox/*.eml
run_expect 0 "$SEALPOST" invite -c "$WORK/b.ini"
assert_eq 2 "$(grep -c '^sent ' "$WORK/out")" "invitations sent"
assert_file_contains "$WORK/out" '^max-per-day \(2\) reached$'
run_expect 0 "$SEALPOST" invite -c "$WORK/b.ini"
assert_file_lacks "$WORK/out" '^sent '
assert_eq 2 "$(outbox_count "$WORK/b/outbox")" "invitations in the outbox"

case_ "--limit sends at most N"
write_config lim "${invite_ini[@]}" "renew-before = 0s"
run_expect 0 "$SEALPOST" send -c "$WORK/lim.ini" --sign "$WORK/m1.eml"
rm -f "$WORK"/lim/outbox/*.eml
run_expect 0 "$SEALPOST" invite -c "$WORK/lim.ini" --limit 1
assert_eq 1 "$(grep -c '^sent ' "$WORK/out")" "invitations sent with --limit 1"

case_ "exclude (an address, a domain) and [domain] invite = no are never invited"
write_config x "${invite_ini[@]}" "renew-before = 0s" "exclude = expired@example.com, @example.org" \
  "[domain example.net]" "invite = no"
run_expect 0 "$SEALPOST" send -c "$WORK/x.ini" --sign "$WORK/m1.eml"
rm -f "$WORK"/x/outbox/*.eml
run_expect 0 "$SEALPOST" invite -c "$WORK/x.ini"
assert_eq "" "$(cat "$WORK/out")" "nobody invited"
assert_eq 0 "$(outbox_count "$WORK/x/outbox")" "outbox files"

case_ "renewal invitation for a certificate that expires within renew-before"
write_config r "${invite_ini[@]}" "renew-before = 36500d" "exclude = @example.net, expired@example.com, signonly@example.com"
run_expect 0 "$SEALPOST" invite -c "$WORK/r.ini"
assert_file_contains "$WORK/out" '^sent renewal invitation to bob@example\.com \(expiring\)$'
b=$(to_file "$WORK/r/outbox" bob@example.com)
verify "$b" >"$WORK/renew-bob.txt" || die "the renewal does not verify: $(cat "$WORK/verify.err")"
na=$(openssl x509 -in "$PKI/store/bob@example.com.crt" -noout -enddate | cut -d= -f2)
assert_file_contains "$WORK/renew-bob.txt" "That certificate expires on $(date -u -d "$na" +%Y-%m-%d)"

case_ "template placeholders are filled in"
cat >"$WORK/my.tmpl" <<'T'
Subject: Certificate for {address} please
X-Reason: {reason}

Dear customer at {domain},
send a signed mail to {collect_address}; we sign as {from}. {{braces}} stay.
T
write_config t "${invite_ini[@]}" "renew-before = 0s" "template = $WORK/my.tmpl"
make_mail "$WORK/m2.eml" "$SERVICE" "frank@example.org"
run_expect 0 "$SEALPOST" send -c "$WORK/t.ini" --sign "$WORK/m2.eml"
rm -f "$WORK"/t/outbox/*.eml
run_expect 0 "$SEALPOST" invite -c "$WORK/t.ini"
f=$(to_file "$WORK/t/outbox" frank@example.org)
assert_file_contains "$f" '^Subject: Certificate for frank@example\.org please'
assert_file_contains "$f" '^X-Reason: no-certificate'
verify "$f" >"$WORK/t.txt" || die "does not verify: $(cat "$WORK/verify.err")"
assert_file_contains "$WORK/t.txt" '^Dear customer at example\.org,'
assert_file_contains "$WORK/t.txt" 'send a signed mail to secureme@inbound\.example\.com; we sign as alice@example\.com\. \{braces\} stay\.'

case_ "a broken template is exit 78 at start, for invite, send and serve, naming the file and line"
printf 'Subject: hi\n\nHello {adress}\n' >"$WORK/bad.tmpl"
write_config bad "${invite_ini[@]}" "template = $WORK/bad.tmpl" "[serve]" "listen = 127.0.0.1:0"
run_expect 78 "$SEALPOST" invite -c "$WORK/bad.ini"
assert_file_contains "$WORK/err" "bad\.tmpl:3: unknown placeholder \{adress\}"
run_expect 78 "$SEALPOST" send -c "$WORK/bad.ini" "$WORK/m2.eml"
assert_file_contains "$WORK/err" 'unknown placeholder \{adress\}'
assert_eq 0 "$(outbox_count "$WORK/bad/outbox")" "nothing sent with a broken [invite]"
run_expect 78 "$SEALPOST" serve -c "$WORK/bad.ini"
assert_file_contains "$WORK/err" 'unknown placeholder \{adress\}'
write_config bad2 "[invite]" "enabled = yes" "from = $SERVICE"
run_expect 78 "$SEALPOST" invite -c "$WORK/bad2.ini"
assert_file_contains "$WORK/err" 'collect-address is required'
write_config bad3 "${invite_ini[@]}" "intervall = 3d"
run_expect 78 "$SEALPOST" invite -c "$WORK/bad3.ini"
assert_file_contains "$WORK/err" "did you mean 'interval'"

case_ "invitations through a real SMTP peer (aiosmtpd)"
start_smtp peer
write_config s "${invite_ini[@]}" "renew-before = 0s" "[smtp]" "starttls = off" "timeout = 10"
make_mail "$WORK/m3.eml" "$SERVICE" "frank@example.org"
run_expect 0 "$SEALPOST" send -c "$WORK/s.ini" --sign "$WORK/m3.eml"
run_expect 0 "$SEALPOST" invite -c "$WORK/s.ini" --smtp "smtp://127.0.0.1:$SMTP_PORT_NOW"
assert_file_contains "$WORK/out" '^sent invitation to frank@example\.org'
wait_for_lines "$TRANSCRIPT" '"type": "message"' 1
jl "$TRANSCRIPT" '[r for r in rs if r["type"] == "message"][0]["rcpt_tos"]' >"$WORK/s.rcpt"
assert_eq "['frank@example.org']" "$(cat "$WORK/s.rcpt")" "the invitation's envelope recipient"
jl "$TRANSCRIPT" '[r for r in rs if r["type"] == "message"][0]["data"]' >"$WORK/s.eml"
assert_file_contains "$WORK/s.eml" '^Auto-Submitted: auto-generated'
openssl cms -verify -CAfile "$PKI/ca/root.crt" -purpose smimesign -in "$WORK/s.eml" >/dev/null 2>"$WORK/verify.err" \
  || die "the invitation received over SMTP does not verify: $(cat "$WORK/verify.err")"

case_ "[domain] encrypt = always: send refuses that recipient without a certificate, delivers the others (exit 69)"
write_config pol "[domain example.org]" "encrypt = always"
make_mail "$WORK/m4.eml" "$SERVICE" "bob@example.com, frank@example.org, dave@example.org, zed@example.net"
run_expect 69 "$SEALPOST" send -c "$WORK/pol.ini" --sign "$WORK/m4.eml"
assert_file_contains "$WORK/err" 'frank@example\.org: refused: encrypt=always \(\[domain example\.org\]\) and no usable certificate'
assert_eq 3 "$(outbox_count "$WORK/pol/outbox")" "copies delivered (encrypted: bob (RSA), dave (EC); not encrypted: zed)"
assert_eq "" "$(grep -l '^X-Receiver: <frank@example.org>' "$WORK"/pol/outbox/*.eml || true)" "a copy to frank"
enc=$(to_file "$WORK/pol/outbox" dave@example.org)
assert_file_contains "$enc" 'smime-type=enveloped-data'
strip_envelope "$enc" | openssl cms -decrypt -recip "$PKI/users/dave@example.org.crt" -inkey "$PKI/users/dave@example.org.pem" \
  >/dev/null 2>"$WORK/dec.err" || die "dave cannot decrypt: $(cat "$WORK/dec.err")"
assert_file_lacks "$(to_file "$WORK/pol/outbox" zed@example.net)" 'enveloped-data'

###########################################################################
# serve: SMTP with the per-domain policy, wanted recorded and invited in the
# background, and the collector's confirmation.
start_serve() {
  local name=$1; shift
  rm -f "$WORK/$name.err"
  "$SEALPOST" serve -c "$WORK/$name.ini" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
  PID=$!
  SERVE_PIDS+=("$PID")
  local i
  for i in $(seq 400); do
    grep -qs 'serve: ready' "$WORK/$name.err" && break
    if ! kill -0 "$PID" 2>/dev/null; then cat "$WORK/$name.err" >&2; die "serve $name exited while starting"; fi
    sleep 0.05
  done
  grep -q 'serve: ready' "$WORK/$name.err" || { cat "$WORK/$name.err" >&2; die "serve $name: not ready in 20 s"; }
  SMTP_PORT=$(grep -oE 'SMTP on 127\.0\.0\.1:[0-9]+' "$WORK/$name.err" | sed -n 1p | sed 's/.*://')
  WEB_PORT=$(grep -oE 'webhook listening on https?://127\.0\.0\.1:[0-9]+' "$WORK/$name.err" | sed -n 1p | sed 's/.*://' || true)
}
wait_for_log() {
  local i
  for i in $(seq 300); do grep -Eq -- "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
  die "timed out waiting for /$2/ in $1"
}
smtp_send() { # PORT FROM RCPT... : one message over SMTP, prints "code text"
  "$PY" - "$@" <<'PYEOF'
import smtplib, sys
port, frm, rcpts = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
    s.ehlo("client.test")
    s.mail(frm)
    for r in rcpts:
        assert s.rcpt(r)[0] == 250, r
    code, text = s.data(("From: " + frm + "\r\nTo: " + ", ".join(rcpts) + "\r\nSubject: statement\r\n"
                         "Message-ID: <inv-%d@example.com>\r\n\r\nYour statement.\r\n" % port).encode())
    print(code, text.decode())
PYEOF
}

case_ "serve: [domain] encrypt = always refuses one recipient: 250, the others delivered, a DSN names the refused one"
write_config sp "[serve]" "listen = 127.0.0.1:0" "threads = 2" "[domain example.org]" "encrypt = always"
start_serve sp
SP_PID=$PID
smtp_send "$SMTP_PORT" app@example.com bob@example.com frank@example.org >"$WORK/sp.client" || die "client failed"
assert_file_contains "$WORK/sp.client" '^250 '
for i in $(seq 100); do [ "$(outbox_count "$WORK/sp/outbox")" -ge 2 ] && break; sleep 0.1; done
assert_eq 2 "$(outbox_count "$WORK/sp/outbox")" "outbox files (bob's encrypted copy and the DSN)"
dsn=$(grep -l '^Final-Recipient: rfc822; frank@example.org' "$WORK"/sp/outbox/*.eml || true)
[ -n "$dsn" ] || die "no DSN naming frank@example.org"
assert_file_contains "$dsn" '^X-Receiver: <app@example\.com>'
assert_file_contains "$dsn" 'refused by policy: encrypt=always'
assert_file_contains "$WORK/sp.err" 'frank@example\.org: refused: encrypt=always'
kill -TERM "$SP_PID"; wait "$SP_PID" || die "serve sp: exit code after SIGTERM"

case_ "serve records wanted recipients and invites them in the background"
write_config bg "${invite_ini[@]}" "renew-before = 0s" "run-every = 1s" "[serve]" "listen = 127.0.0.1:0" "threads = 2"
start_serve bg
BG_PID=$PID
smtp_send "$SMTP_PORT" app@example.com zed@example.net >"$WORK/bg.client" || die "client failed"
assert_file_contains "$WORK/bg.client" '^250 '
wait_for_log "$WORK/bg.err" 'invite: sent invitation to zed@example\.net \(no-certificate\)'
inv=$(grep -l '^Auto-Submitted: auto-generated' $(grep -l '^X-Receiver: <zed@example.net>' "$WORK"/bg/outbox/*.eml) | sed -n 1p || true)
[ -n "$inv" ] || die "no invitation to zed in the outbox"
sleep 2.5
assert_eq 1 "$(grep -c 'invite: sent invitation to zed@example.net' "$WORK/bg.err")" "invitations to zed (interval)"
kill -TERM "$BG_PID"; wait "$BG_PID" || die "serve bg: exit code after SIGTERM"
start_serve bg
BG_PID=$PID
sleep 2.5
assert_eq 0 "$(grep -c 'invite: sent invitation' "$WORK/bg.err")" "invitations after a restart (interval)"
kill -TERM "$BG_PID"; wait "$BG_PID" || die "serve bg: exit code after SIGTERM"

case_ "bob is invited, the collector stores his certificate, serve sends him a confirmation encrypted to it"
write_config cf "${invite_ini[@]}" "confirm = yes" "renew-before = 0s" "run-every = 1s" \
  "[serve]" "listen = 127.0.0.1:0" "threads = 2" \
  "[plugins]" "load = collector" \
  "[collector]" "listen = 127.0.0.1:0" "token = $TOKEN" "trusted-certs = $PKI/ca/bundle.crt" "dkim-keys = $PKI/dkim/keys.txt"
rm -f "$WORK/cf/store/bob@example.com."*
start_serve cf
CF_PID=$PID
smtp_send "$SMTP_PORT" app@example.com bob@example.com >"$WORK/cf.client" || die "client failed"
assert_file_contains "$WORK/cf.client" '^250 '
wait_for_log "$WORK/cf.err" 'invite: sent invitation to bob@example\.com \(no-certificate\)'
"$PY" - "$WORK/bob.json" "$FX/valid-opaque.eml" <<'PYEOF'
import base64, json, sys
raw = open(sys.argv[2], "rb").read()
json.dump([{"msys": {"relay_message": {"msg_from": "bob@example.com", "rcpt_to": "secureme@inbound.example.com",
    "protocol": "smtp", "content": {"email_rfc822": base64.b64encode(raw).decode(), "email_rfc822_is_base64": True,
    "subject": "hi"}}}}], open(sys.argv[1], "w"))
PYEOF
code=$(curl -sS -o "$WORK/resp" -w '%{http_code}' -H 'Content-Type: application/json' \
  -H "X-MessageSystems-Webhook-Token: $TOKEN" --data-binary "@$WORK/bob.json" "http://127.0.0.1:$WEB_PORT/")
assert_eq 200 "$code" "webhook status"
assert_exists "$WORK/cf/store/bob@example.com.crt"
wait_for_log "$WORK/cf.err" 'confirmation sent via outbox'
c=$(grep -l 'smime-type=enveloped-data' $(grep -l '^X-Receiver: <bob@example.com>' "$WORK"/cf/outbox/*.eml) | sed -n 1p || true)
[ -n "$c" ] || die "no encrypted confirmation to bob in the outbox"
assert_file_contains "$c" 'smime-type=enveloped-data'
assert_file_contains "$c" '^Auto-Submitted: auto-generated'
strip_envelope "$c" | openssl cms -decrypt -recip "$PKI/users/bob@example.com.crt" -inkey "$PKI/users/bob@example.com.pem" \
  >"$WORK/conf.signed" 2>"$WORK/dec.err" || die "openssl cannot decrypt the confirmation: $(cat "$WORK/dec.err")"
openssl cms -verify -CAfile "$PKI/ca/root.crt" -purpose smimesign -in "$WORK/conf.signed" >"$WORK/conf.txt" 2>"$WORK/verify.err" \
  || die "the confirmation's signature does not verify: $(cat "$WORK/verify.err")"
assert_file_contains "$WORK/conf.txt" 'we have received and stored your e-mail certificate for bob@example\.com'
if command -v cmsutil >/dev/null && [ -d "$PKI/nss/bob" ]; then
  strip_envelope "$c" | "$PY" -c '
import sys, email
m = email.message_from_bytes(sys.stdin.buffer.read())
sys.stdout.buffer.write(m.get_payload(decode=True))' >"$WORK/conf.der"
  cmsutil -D -d "sql:$PKI/nss/bob" -i "$WORK/conf.der" -o "$WORK/conf.nss" 2>"$WORK/nss.err" \
    || die "NSS cmsutil cannot decrypt the confirmation: $(cat "$WORK/nss.err")"
  assert_file_contains "$WORK/conf.nss" 'multipart/signed'
  assert_file_contains "$WORK/conf.nss" 'stored your e-mail certificate'
else
  die "NSS cmsutil or the NSS database for bob is missing"
fi
kill -TERM "$CF_PID"; wait "$CF_PID" || die "serve cf: exit code after SIGTERM"
run_expect 0 "$SEALPOST" certs -c "$WORK/cf.ini" report
assert_file_contains "$WORK/out" '^collected after invitation: 1 \(50% of 2 invited\)$'  # bob; expired@example.com is invited, not collected
assert_file_contains "$WORK/out" '^  bob@example\.com	invited .*	collected '

finish

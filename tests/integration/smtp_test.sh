#!/usr/bin/env bash
# smtp_test.sh: `sealpost send --smtp` against real SMTP servers on loopback:
# tests/servers/smtp_server.py (aiosmtpd: STARTTLS, implicit TLS, AUTH
# PLAIN/LOGIN, scripted 421/451/550, a JSON-lines transcript of what it
# received) and Postfix's smtp-sink. Asserts on what the server received
# (envelope per split copy, TLS, AUTH, connections per batch), that what
# arrived decrypts and verifies with openssl, and on exit codes and the
# reply text in the log. The password must never appear in any log.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/../servers/servers.sh"

STORE="$WORK/store"; cp -r "$PKI/store" "$STORE"
KEYS="$WORK/keys"; cp -a "$PKI/keys" "$KEYS"
PASSWORD='pw-Zebra-4711'
# What AUTH PLAIN would carry on the wire: must not be logged either.
PLAIN_B64=$(printf '\0alice\0%s' "$PASSWORD" | base64 -w0)
LOGS="$WORK/all-logs"; : >"$LOGS"
send() { "$SEALPOST" send --store "$STORE" --keys "$KEYS" "$@"; }
keep_log() { cat "$WORK/err" >>"$LOGS"; }

# A CA and a server certificate for 127.0.0.1 / localhost.
TLS="$WORK/tls"; mkdir -p "$TLS"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TLS/ca.key" -out "$TLS/ca.crt" -days 2 \
  -subj "/CN=Sealpost Test SMTP CA" -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout "$TLS/server.key" -out "$TLS/server.csr" -subj "/CN=localhost" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$TLS/ext"
openssl x509 -req -in "$TLS/server.csr" -CA "$TLS/ca.crt" -CAkey "$TLS/ca.key" -CAcreateserial \
  -out "$TLS/server.crt" -days 2 -extfile "$TLS/ext" 2>/dev/null
TLS_OPTS=(--cert "$TLS/server.crt" --key "$TLS/server.key")

# decrypt_data FILE USER: the DATA of a transcript record (file) decrypted for USER
decrypt() { openssl cms -decrypt -recip "$PKI/users/$2.crt" -inkey "$PKI/users/$2.pem" -in "$1" 2>"$WORK/decrypt.err"; }
verify() { openssl cms -verify -CAfile "$PKI/ca/root.crt" -purpose smimesign 2>"$WORK/verify.err"; }
# message_data N FILE: writes the data of the N-th message record (0-based) to FILE
message_data() { "$PY" -c '
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ms = [r for r in rs if r["type"] == "message"]
open(sys.argv[3], "wb").write(ms[int(sys.argv[2])]["data"].encode("latin-1"))' "$TRANSCRIPT" "$1" "$2"; }
# conn_count: connection records that carried at least one command
conn_count() { jl "$TRANSCRIPT" 'len([r for r in rs if r["type"] == "connection"])'; }
msg_count() { jl "$TRANSCRIPT" 'len([r for r in rs if r["type"] == "message"])'; }

case_ "STARTTLS and AUTH PLAIN: the server sees TLS, the user, the envelope; bob decrypts and verifies"
start_smtp tls "${TLS_OPTS[@]}" --user "alice:$PASSWORD" --auth-mechanism PLAIN --auth-required
make_mail "$WORK/m1.eml" "Alice <alice@example.com>" "Bob <bob@example.com>"
SMTP_PASSWORD="$PASSWORD" run_expect 0 send --sign --smtp "smtp://127.0.0.1:$SMTP_PORT_NOW" --smtp-user alice \
  --ca-file "$TLS/ca.crt" --helo client.example.com --log-file "$WORK/send.log" "$WORK/m1.eml"
keep_log; cat "$WORK"/send*.log >>"$LOGS"
ls "$WORK"/send*.log >/dev/null 2>&1 || die "no log file written"
wait_for_lines "$TRANSCRIPT" '"type": "message"' 1
assert_eq True "$(jl "$TRANSCRIPT" '[r for r in rs if r["type"]=="message"][0]["tls"]')" "TLS active for the message"
assert_eq alice "$(jl "$TRANSCRIPT" '[r for r in rs if r["type"]=="message"][0]["auth"]')" "authenticated user"
assert_eq client.example.com "$(jl "$TRANSCRIPT" '[r for r in rs if r["type"]=="message"][0]["ehlo"]')" "EHLO name"
assert_eq alice@example.com "$(jl "$TRANSCRIPT" '[r for r in rs if r["type"]=="message"][0]["mail_from"]')" "MAIL FROM"
assert_eq "['bob@example.com']" "$(jl "$TRANSCRIPT" '[r for r in rs if r["type"]=="message"][0]["rcpt_tos"]')" "RCPT TO"
message_data 0 "$WORK/got.eml"
decrypt "$WORK/got.eml" bob@example.com >"$WORK/inner" || die "bob cannot decrypt what arrived: $(cat "$WORK/decrypt.err")"
verify <"$WORK/inner" >"$WORK/content" || die "signature does not verify: $(cat "$WORK/verify.err")"
assert_file_contains "$WORK/content" 'Hello from the test suite.'
assert_file_lacks "$WORK/got.eml" '^Bcc:'
assert_file_contains "$WORK/err" 'smtp: relay smtp://127.0.0.1:[0-9]+ starttls=auto .*user=alice password=\*\*\*\*\*\*\*\*'
assert_file_contains "$WORK/err" 'bob@example.com: accepted 250'
assert_file_contains "$WORK/err" 'tls=starttls, auth=alice: end of data: 250 2.0.0 OK: queued as'
wait_for_lines "$TRANSCRIPT" '"type": "connection"' 1
assert_eq "['EHLO', 'STARTTLS', 'EHLO', 'AUTH', 'MAIL', 'RCPT', 'DATA', 'QUIT']" \
  "$(jl "$TRANSCRIPT" '[r for r in rs if r["type"]=="connection"][0]["commands"]')" "commands on the connection"
stop_servers

case_ "the original's environment: SMTP_HOST, SMTP_PORT, SMTP_USER, SMTP_PASSWORD; AUTH LOGIN"
start_smtp env "${TLS_OPTS[@]}" --user "alice:$PASSWORD" --auth-mechanism LOGIN --auth-required
SMTP_HOST=127.0.0.1 SMTP_PORT=$SMTP_PORT_NOW SMTP_USER=alice SMTP_PASSWORD="$PASSWORD" \
  run_expect 0 send --smtp env --ca-file "$TLS/ca.crt" --verbose "$WORK/m1.eml"
keep_log
wait_for_lines "$TRANSCRIPT" '"type": "connection"' 1
assert_eq alice "$(jl "$TRANSCRIPT" '[r for r in rs if r["type"]=="message"][0]["auth"]')" "user from SMTP_USER"
assert_eq True "$(jl "$TRANSCRIPT" '"AUTH" in [r for r in rs if r["type"]=="connection"][0]["commands"]')" "AUTH used"
assert_file_contains "$WORK/err" 'AUTH LOGIN'
stop_servers

case_ "a wrong password: 535 from the server, exit 69, the password still never logged"
start_smtp badpw "${TLS_OPTS[@]}" --user "alice:$PASSWORD"
SMTP_PASSWORD="wrong-$PASSWORD" run_expect 69 send --smtp "smtp://127.0.0.1:$SMTP_PORT_NOW" --smtp-user alice \
  --ca-file "$TLS/ca.crt" --verbose "$WORK/m1.eml"
keep_log
assert_file_contains "$WORK/err" '535 5.7.8 Authentication credentials invalid'
stop_servers

case_ "split copies go with their own envelopes: RSA pair, EC, and the one without a certificate"
start_smtp split "${TLS_OPTS[@]}"
make_mail "$WORK/m2.eml" "Alice <alice@example.com>" "Bob <bob@example.com>, carol@example.net, Dave <dave@example.org>, frank@example.org"
run_expect 0 send --sign --smtp "smtp://127.0.0.1:$SMTP_PORT_NOW" --ca-file "$TLS/ca.crt" "$WORK/m2.eml"
wait_for_lines "$TRANSCRIPT" '"type": "message"' 3
assert_eq 3 "$(msg_count)" "copies received"
envelopes=$(jl "$TRANSCRIPT" 'sorted(sorted(r["rcpt_tos"]) for r in rs if r["type"]=="message")')
assert_eq "[['bob@example.com', 'carol@example.net'], ['dave@example.org'], ['frank@example.org']]" "$envelopes" "envelopes"
for i in 0 1 2; do
  message_data $i "$WORK/copy$i.eml"
  rcpts=$(jl "$TRANSCRIPT" "sorted([r for r in rs if r['type']=='message'][$i]['rcpt_tos'])")
  case $rcpts in
    *bob*) decrypt "$WORK/copy$i.eml" bob@example.com | verify >/dev/null || die "bob's copy"
           decrypt "$WORK/copy$i.eml" carol@example.net | verify >/dev/null || die "carol's copy"
           decrypt "$WORK/copy$i.eml" dave@example.org >/dev/null && die "dave reads the RSA copy";;
    *dave*) decrypt "$WORK/copy$i.eml" dave@example.org | verify >/dev/null || die "dave's copy: $(cat "$WORK/decrypt.err")";;
    *frank*) assert_file_lacks "$WORK/copy$i.eml" 'enveloped-data'
             verify <"$WORK/copy$i.eml" >"$WORK/content" || die "frank's signed copy does not verify"
             assert_file_contains "$WORK/content" 'Hello from the test suite.';;
  esac
done
assert_eq 1 "$(jl "$TRANSCRIPT" 'len(set(r["conn"] for r in rs if r["type"]=="message"))')" "connections for the 3 copies"
stop_servers

case_ "a batch of 6 files rides one connection, and no transaction is left open (no RSET needed)"
start_smtp batch "${TLS_OPTS[@]}"
for i in 1 2 3 4 5 6; do make_mail "$WORK/b$i.eml" "alice@example.com" "bob@example.com"; done
run_expect 0 send --smtp "smtp://127.0.0.1:$SMTP_PORT_NOW" --ca-file "$TLS/ca.crt" "$WORK"/b?.eml
assert_file_contains "$WORK/err" 'summary: 6 messages, 6 copies, 6 encrypted.*6 delivered, 0 partial, 0 deferred, 0 rejected'
wait_for_lines "$TRANSCRIPT" '"type": "connection"' 1
assert_eq 6 "$(msg_count)" "messages"
assert_eq 1 "$(conn_count)" "connections"
# Every MAIL starts a fresh transaction: it follows the greeting/EHLO/AUTH or a finished DATA.
assert_eq "True" "$(jl "$TRANSCRIPT" 'all(c[i-1] in ("EHLO","AUTH","DATA","RSET") for r in rs if r["type"]=="connection" for c in [r["commands"]] for i in range(len(c)) if c[i]=="MAIL")')" "clean transactions"
assert_file_contains "$WORK/err" 'connection 1 \(reused\), message 6 on it'
stop_servers

case_ "--connections 2 spreads a batch over exactly two connections"
start_smtp two "${TLS_OPTS[@]}"
for i in 1 2 3 4 5 6 7 8; do make_mail "$WORK/c$i.eml" "alice@example.com" "bob@example.com"; done
run_expect 0 send --smtp "smtp://127.0.0.1:$SMTP_PORT_NOW" --ca-file "$TLS/ca.crt" --connections 2 "$WORK"/c?.eml
wait_for_lines "$TRANSCRIPT" '"type": "connection"' 2
assert_eq 8 "$(msg_count)" "messages"
assert_eq 2 "$(conn_count)" "connections"
assert_eq 2 "$(jl "$TRANSCRIPT" 'len(set(r["conn"] for r in rs if r["type"]=="message"))')" "connections that carried messages"
stop_servers

case_ "smtps:// (implicit TLS): no STARTTLS, TLS from the first byte"
start_smtp smtps "${TLS_OPTS[@]}" --implicit-tls
run_expect 0 send --smtp "smtps://127.0.0.1:$SMTP_PORT_NOW" --ca-file "$TLS/ca.crt" "$WORK/m1.eml"
wait_for_lines "$TRANSCRIPT" '"type": "connection"' 1
assert_eq True "$(jl "$TRANSCRIPT" '[r for r in rs if r["type"]=="message"][0]["tls"]')" "TLS"
assert_eq False "$(jl "$TRANSCRIPT" '"STARTTLS" in [r for r in rs if r["type"]=="connection"][0]["commands"]')" "no STARTTLS"
stop_servers

case_ "the server's certificate is verified by default: unknown CA -> 69 (not 75: retrying cannot help), naming --ca-file / [smtp] ca-file, nothing delivered"
start_smtp untrusted "${TLS_OPTS[@]}"
run_expect 69 send --encrypt never --smtp "smtp://127.0.0.1:$SMTP_PORT_NOW" "$WORK/m1.eml"
assert_file_contains "$WORK/err" 'certificate cannot be verified: set --ca-file / \[smtp\] ca-file'
assert_file_contains "$WORK/err" '0 delivered, 0 partial, 0 deferred, 1 rejected'
# The wrong CA file (the S/MIME test root) fails the same way.
run_expect 69 send --encrypt never --smtp "smtp://127.0.0.1:$SMTP_PORT_NOW" --ca-file "$PKI/ca/root.crt" "$WORK/m1.eml"
assert_file_contains "$WORK/err" 'set --ca-file / \[smtp\] ca-file'
assert_eq 0 "$(msg_count)" "messages received over an unverified connection"
run_expect 0 send --encrypt never --smtp "smtp://127.0.0.1:$SMTP_PORT_NOW" --ca-file "$TLS/ca.crt" "$WORK/m1.eml"
stop_servers

case_ "--starttls required against a server without TLS -> 75; auto sends in the clear"
start_smtp plain
run_expect 75 send --smtp "smtp://127.0.0.1:$SMTP_PORT_NOW" --starttls required "$WORK/m1.eml"
assert_file_contains "$WORK/err" 'SSL'
run_expect 0 send --smtp "smtp://127.0.0.1:$SMTP_PORT_NOW" "$WORK/m1.eml"
wait_for_lines "$TRANSCRIPT" '"type": "message"' 1
assert_eq False "$(jl "$TRANSCRIPT" '[r for r in rs if r["type"]=="message"][0]["tls"]')" "no TLS offered, none used"
stop_servers

case_ "421 at MAIL: exit 75 with the server's text; the next file reconnects"
start_smtp r421 --fail MAIL=421 --fail-nth 2
run_expect 75 send --smtp "smtp://127.0.0.1:$SMTP_PORT_NOW" "$WORK/b1.eml" "$WORK/b2.eml" "$WORK/b3.eml"
assert_file_contains "$WORK/err" 'MAIL FROM:<alice@example.com>: 421 4.3.2 Service not available'
assert_file_contains "$WORK/err" '1 delivered|2 delivered'
assert_file_contains "$WORK/err" '2 delivered, 0 partial, 1 deferred, 0 rejected'
wait_for_lines "$TRANSCRIPT" '"type": "connection"' 2
assert_eq "[1, 2]" "$(jl "$TRANSCRIPT" 'sorted(r["conn"] for r in rs if r["type"]=="message")')" "connections carrying messages 1 and 3"
stop_servers

case_ "451 at RCPT: exit 75 with the reply text"
start_smtp r451 --fail RCPT=451
run_expect 75 send --smtp "smtp://127.0.0.1:$SMTP_PORT_NOW" "$WORK/m1.eml"
assert_file_contains "$WORK/err" 'bob@example.com: refused 451 4.3.0 Local error in processing'
stop_servers

case_ "550 at DATA: exit 69 with the reply text"
start_smtp r550 --fail DATA=550
run_expect 69 send --smtp "smtp://127.0.0.1:$SMTP_PORT_NOW" "$WORK/m1.eml"
assert_file_contains "$WORK/err" 'end of data: 550 5.1.1'
assert_file_contains "$WORK/err" '0 delivered, 0 partial, 0 deferred, 1 rejected'
stop_servers

case_ "550 at MAIL: exit 69"
start_smtp m550 --fail MAIL=554
run_expect 69 send --smtp "smtp://127.0.0.1:$SMTP_PORT_NOW" "$WORK/m1.eml"
assert_file_contains "$WORK/err" 'MAIL FROM:<alice@example.com>: 554 5.7.1'
stop_servers

case_ "partial acceptance: reported per recipient; 550 -> 69, 451 -> 75; only the accepted got it"
start_smtp partial --reject-rcpt nobody@example.net=550 --reject-rcpt later@example.net=451
make_mail "$WORK/p1.eml" "alice@example.com" "bob@example.com, nobody@example.net"
run_expect 69 send --encrypt never --smtp "smtp://127.0.0.1:$SMTP_PORT_NOW" "$WORK/p1.eml"
assert_file_contains "$WORK/err" 'bob@example.com: accepted 250'
assert_file_contains "$WORK/err" 'nobody@example.net: refused 550 5.1.1 Mailbox unavailable'
assert_file_contains "$WORK/err" 'partly delivered'
assert_file_contains "$WORK/err" '0 delivered, 1 partial, 0 deferred, 0 rejected'
wait_for_lines "$TRANSCRIPT" '"type": "message"' 1
assert_eq "['bob@example.com']" "$(jl "$TRANSCRIPT" '[r for r in rs if r["type"]=="message"][0]["rcpt_tos"]')" "accepted recipients"
make_mail "$WORK/p2.eml" "alice@example.com" "bob@example.com, later@example.net"
run_expect 75 send --encrypt never --smtp "smtp://127.0.0.1:$SMTP_PORT_NOW" "$WORK/p2.eml"
assert_file_contains "$WORK/err" 'later@example.net: refused 451'
stop_servers

case_ "a closed port: exit 75 and the connection error"
port=$(free_port)
run_expect 75 send --smtp "smtp://127.0.0.1:$port" "$WORK/m1.eml"
assert_file_contains "$WORK/err" "(Couldn't connect|Failed to connect)"

case_ "a server that drops every connection after one message: each next message reconnects"
start_smtp drop --drop-after 1
run_expect 0 send --smtp "smtp://127.0.0.1:$SMTP_PORT_NOW" "$WORK/b1.eml" "$WORK/b2.eml" "$WORK/b3.eml"
wait_for_lines "$TRANSCRIPT" '"type": "connection"' 3
assert_eq 3 "$(msg_count)" "messages"
stop_servers

case_ "Postfix smtp-sink: a batch on one connection, envelopes as dumped; a drop at end of data -> 75"
SINK=$(command -v smtp-sink || echo /usr/sbin/smtp-sink)
[ -x "$SINK" ] || die "smtp-sink (package postfix) is missing"
chmod 711 "$WORK"; mkdir -m 777 "$WORK/sink"
sink_user=(); [ "$(id -u)" = 0 ] && sink_user=(-u nobody)
port=$(free_port)
"$SINK" "${sink_user[@]}" -d "$WORK/sink/%M." "127.0.0.1:$port" 10 2>"$WORK/sink.err" & SERVER_PIDS+=($!)
for i in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
run_expect 0 send --encrypt never --smtp "smtp://127.0.0.1:$port" "$WORK/p1.eml" "$WORK/b1.eml" "$WORK/b2.eml"
assert_eq 3 "$(ls "$WORK/sink" | wc -l)" "dumped messages"
assert_eq 1 "$(grep -l '^X-Rcpt-Args: <nobody@example.net>' "$WORK"/sink/* | wc -l)" "nobody's envelope"
assert_eq 3 "$(grep -l '^X-Mail-Args: <alice@example.com>' "$WORK"/sink/* | wc -l)" "MAIL FROM in every dump"
assert_file_contains "$WORK/err" 'connection 1 \(reused\), message 3 on it'
stop_servers
port=$(free_port)
"$SINK" "${sink_user[@]}" -q . "127.0.0.1:$port" 10 2>"$WORK/sink.err" & SERVER_PIDS+=($!)
for i in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
run_expect 75 send --encrypt never --smtp "smtp://127.0.0.1:$port" "$WORK/b1.eml"
stop_servers

case_ "--track is for the API only, and --connections must be sane"
run_expect 64 send --smtp "smtp://127.0.0.1:25" --track --encrypt never "$WORK/m1.eml"
assert_file_contains "$WORK/err" 'track'
run_expect 64 send --smtp "smtp://127.0.0.1:25" --connections 0 "$WORK/m1.eml"
run_expect 78 send --smtp "smtp://user:pw@127.0.0.1:25" "$WORK/m1.eml"
assert_file_contains "$WORK/err" 'no credentials in the URL'
run_expect 78 send --smtp "smtp://127.0.0.1:25" --starttls sometimes "$WORK/m1.eml"

case_ "the password never reached a log line"
cat "$WORK"/*.server.err >>"$LOGS" 2>/dev/null || true
assert_file_lacks "$LOGS" "$PASSWORD"
assert_file_lacks "$LOGS" "$PLAIN_B64"
assert_file_lacks "$LOGS" "$(printf '%s' "$PASSWORD" | base64 -w0)"

finish

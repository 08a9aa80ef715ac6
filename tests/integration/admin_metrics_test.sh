#!/usr/bin/env bash
# admin_metrics_test.sh: `sealpost serve` with the collector plugin and the
# admin listener. A known sequence (two certificates collected over the
# webhook, one mail rejected by the collector, one webhook request with a
# wrong token, three messages over SMTP: RSA, EC, no certificate) and then
# /metrics parsed by a real Prometheus text parser (python3-prometheus-
# client's text_string_to_metric_families) with every counter's value
# checked; every admin endpoint over HTTP with curl, with and without the
# token; `certs check` gives the same answer as /v1/recipients; DELETE
# forgets the files and is logged with the client; a non-loopback admin
# listener without a token is exit 78.
source "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
"$PY" -c 'import prometheus_client' 2>/dev/null || die "python3-prometheus-client is missing (scripts/setup installs it)"
TOKEN='t0ken-Zebra'
ADMIN_TOKEN='adm1n-Okapi-7'
FX="$SEALPOST_BUILD_DIR/collect-fixtures"
"$PY" "$SEALPOST_SOURCE_DIR/tests/fixtures/make_collect_fixtures.py" "$PKI" "$FX"

SERVE_PID=
cleanup() { [ -n "$SERVE_PID" ] && kill -KILL "$SERVE_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

mkdir -p "$WORK/store" "$WORK/outbox"
cat >"$WORK/serve.ini" <<INI
[store]
dir = $WORK/store
[relay]
out-dir = $WORK/outbox
[serve]
listen = 127.0.0.1:0
threads = 2
[plugins]
load = collector
[collector]
listen = 127.0.0.1:0
token = $TOKEN
trusted-certs = $PKI/ca/bundle.crt
dkim-keys = $PKI/dkim/keys.txt
[admin]
listen = 127.0.0.1:0
token = $ADMIN_TOKEN
INI

"$SEALPOST" serve -c "$WORK/serve.ini" >"$WORK/serve.out" 2>"$WORK/serve.err" &
SERVE_PID=$!
for i in $(seq 400); do
  grep -qs 'serve: ready' "$WORK/serve.err" && break
  kill -0 "$SERVE_PID" 2>/dev/null || { cat "$WORK/serve.err" >&2; die "serve exited while starting"; }
  sleep 0.05
done
grep -q 'serve: ready' "$WORK/serve.err" || die "serve not ready in 20 s"
SMTP_PORT=$(grep -oE 'SMTP on 127\.0\.0\.1:[0-9]+' "$WORK/serve.err" | sed -n 1p | sed 's/.*://')
WEB_PORT=$(grep -oE 'webhook listening on http://127\.0\.0\.1:[0-9]+' "$WORK/serve.err" | sed -n 1p | sed 's/.*://')
ADMIN_PORT=$(grep -oE 'admin API and metrics on 127\.0\.0\.1:[0-9]+' "$WORK/serve.err" | sed -n 1p | sed 's/.*://')
[ -n "$SMTP_PORT" ] && [ -n "$WEB_PORT" ] && [ -n "$ADMIN_PORT" ] || die "ports missing from the log"

# admin METHOD PATH [curl options...]: CODE and $WORK/resp
admin() {
  local method=$1 path=$2; shift 2
  CODE=$(curl -sS -X "$method" -o "$WORK/resp" -w '%{http_code}' "$@" "http://127.0.0.1:$ADMIN_PORT$path")
}
auth=(-H "Authorization: Bearer $ADMIN_TOKEN")
jq_() { "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {"d": d}))' "$WORK/resp" "$1"; }

make_batch() {
  "$PY" - "$@" <<'PYEOF'
import json, sys
out = sys.argv[1]
json.dump([{"msys": {"relay_message": {"msg_from": "x@example.com", "rcpt_to": "in@example.com",
            "content": {"email_rfc822": open(p, "rb").read().decode("utf-8")}}}} for p in sys.argv[2:]], open(out, "w"))
PYEOF
}
post() {
  CODE=$(curl -sS -o "$WORK/resp" -w '%{http_code}' -H 'Content-Type: application/json' \
    -H "X-MessageSystems-Webhook-Token: $2" --data-binary "@$1" "http://127.0.0.1:$WEB_PORT/")
}

case_ "the known sequence: collect two (RSA alice, EC dave), one rejected, one bad token; send three"
make_batch "$WORK/two.json" "$FX/valid-detached.eml" "$FX/ec-signer.eml"
make_batch "$WORK/nodkim.json" "$FX/no-dkim.eml"
post "$WORK/two.json" "$TOKEN";      assert_eq 200 "$CODE" "webhook status"
post "$WORK/nodkim.json" "$TOKEN";   assert_eq 200 "$CODE" "webhook status"
post "$WORK/two.json" "wrong";       assert_eq 401 "$CODE" "webhook status, wrong token"
assert_exists "$WORK/store/alice@example.com.crt"
assert_exists "$WORK/store/dave@example.org.crt"
"$PY" - "$SMTP_PORT" <<'PYEOF' || die "SMTP injection failed"
import smtplib, sys
with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30) as s:
    for to in ["alice@example.com", "dave@example.org", "carol@example.net"]:
        refused = s.sendmail("app@example.com", [to],
            f"From: app@example.com\r\nTo: {to}\r\nSubject: statement\r\n\r\nYour statement.\r\n".encode())
        assert not refused, refused
PYEOF
assert_eq 3 "$(ls "$WORK/outbox" | wc -l)" "copies in the outbox"

case_ "/metrics: 401 without or with a wrong token"
admin GET /metrics;                                         assert_eq 401 "$CODE" "no token"
assert_file_contains "$WORK/resp" '"error"'
admin GET /metrics -H "Authorization: Bearer nope";         assert_eq 401 "$CODE" "wrong token"

case_ "/metrics: every counter's value after the sequence (prometheus_client's parser)"
admin GET /metrics "${auth[@]}"; assert_eq 200 "$CODE" "status"
cp "$WORK/resp" "$WORK/metrics.txt"
VERSION=$("$SEALPOST" --version | awk '{print $2}')
"$PY" - "$WORK/metrics.txt" "$VERSION" <<'PYEOF' || die "metric values differ (see above)"
import sys
from prometheus_client.parser import text_string_to_metric_families
text, version = open(sys.argv[1]).read(), sys.argv[2]
samples = {}
for fam in text_string_to_metric_families(text):
    for s in fam.samples:
        samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
def v(name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0)
expect = [
    (v("sealpost_build_info", version=version), 1),
    (v("sealpost_collector_verdicts_total", verdict="stored", reason="none"), 2),
    (v("sealpost_collector_verdicts_total", verdict="rejected", reason="dkim-failed"), 1),
    (v("sealpost_webhook_requests_total", status="200"), 2),
    (v("sealpost_webhook_requests_total", status="401"), 1),
    (v("sealpost_webhook_request_seconds_count"), 2),  # the 401 is answered from the headers, before the handler
    (v("sealpost_smtp_messages_total", result="accepted", reason="delivered"), 3),
    (v("sealpost_smtp_reply_seconds_count", result="accepted"), 3),
    (v("sealpost_smtp_reply_seconds_bucket", result="accepted", le="+Inf"), 3),
    (v("sealpost_copies_total", kind="encrypted-rsa", outcome="accepted"), 1),
    (v("sealpost_copies_total", kind="encrypted-ec", outcome="accepted"), 1),
    (v("sealpost_copies_total", kind="plain", outcome="accepted"), 1),
    (v("sealpost_transport_delivery_seconds_count", transport="outbox"), 3),
    (v("sealpost_store_certificates", status="valid"), 2),
    (v("sealpost_store_certificates", status="expired"), 0),
    (v("sealpost_store_certificates_expiring", within="30d"), 0),
    (v("sealpost_admin_requests_total", status="401"), 2),
]
bad = [(i, got, want) for i, (got, want) in enumerate(expect) if got != want]
for i, got, want in bad: print(f"expectation {i}: got {got}, want {want}", file=sys.stderr)
# nothing counted that the sequence did not do
extra = [k for k, val in samples.items() if k[0] in ("sealpost_copies_total", "sealpost_smtp_messages_total") and val and
         k not in {("sealpost_copies_total", (("kind", kd), ("outcome", "accepted"))) for kd in ("encrypted-rsa", "encrypted-ec", "plain")} |
         {("sealpost_smtp_messages_total", (("reason", "delivered"), ("result", "accepted")))}]
for k in extra: print("unexpected sample", k, file=sys.stderr)
sys.exit(1 if bad or extra else 0)
PYEOF

case_ "GET /v1/recipients: can encrypt (RSA, EC) and why not; the same answer as certs check"
admin GET /v1/recipients/alice@example.com;  assert_eq 401 "$CODE" "no token"
admin GET /v1/recipients/Alice@Example.com "${auth[@]}"; assert_eq 200 "$CODE" "status"
assert_eq True "$(jq_ 'd["can_encrypt"]')" "can_encrypt"
assert_eq rsa "$(jq_ 'd["certificate"]["key_type"]')" "key type"
assert_eq aes-256-cbc "$(jq_ 'd["cipher"]')" "cipher"
FP=$(openssl x509 -in "$WORK/store/alice@example.com.crt" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr A-F a-f)
assert_eq "$FP" "$(jq_ 'd["certificate"]["fingerprint"]')" "fingerprint"
admin GET /v1/recipients/dave%40example.org "${auth[@]}"
assert_eq ec "$(jq_ 'd["certificate"]["key_type"]')" "key type"
admin GET /v1/recipients/carol@example.net "${auth[@]}"; assert_eq 200 "$CODE" "status"
assert_eq "False no-certificate" "$(jq_ 'd["can_encrypt"], d["reason"]' | tr -d '(),'"'")" "why not"
"$SEALPOST" certs check --store "$WORK/store" carol@example.net alice@example.com >"$WORK/check.out" || true
assert_file_contains "$WORK/check.out" '^carol@example.net: cannot encrypt: no certificate collected \[no-certificate\]$'
assert_file_contains "$WORK/check.out" "^alice@example.com: ok sha256=$FP "
admin GET '/v1/recipients/..%2Fetc' "${auth[@]}"; assert_eq 400 "$CODE" "bad address"

case_ "GET /v1/certificates (all, ?expiring=30d) and /v1/certificates/{address}"
admin GET /v1/certificates;                       assert_eq 401 "$CODE" "no token"
admin GET /v1/certificates "${auth[@]}";          assert_eq 200 "$CODE" "status"
assert_eq "2 alice@example.com dave@example.org" "$(jq_ '" ".join([str(d["count"])] + [c["address"] for c in d["certificates"]])')" "list"
admin GET '/v1/certificates?expiring=30d' "${auth[@]}"; assert_eq 200 "$CODE" "status"
assert_eq 0 "$(jq_ 'd["count"]')" "expiring within 30 days"
admin GET /v1/certificates/dave@example.org;      assert_eq 401 "$CODE" "no token"
admin GET /v1/certificates/dave@example.org "${auth[@]}"; assert_eq 200 "$CODE" "status"
assert_eq webhook "$(jq_ 'd["evidence"]["source"]')" "evidence source"
admin GET /v1/certificates/nobody@example.com "${auth[@]}"; assert_eq 404 "$CODE" "unknown address"

case_ "404 unknown paths, 405 wrong methods, bounds before authentication"
admin GET /v1/nothing "${auth[@]}";               assert_eq 404 "$CODE" "unknown path"
assert_file_contains "$WORK/resp" '"error": "not found"'
admin POST /v1/certificates "${auth[@]}";         assert_eq 405 "$CODE" "POST"
admin GET /metrics -H "X-Big: $(head -c 9000 /dev/zero | tr '\0' a)"; assert_eq 431 "$CODE" "huge header, no token"
admin POST /metrics --data-binary "@$WORK/two.json"; assert_eq 413 "$CODE" "body over 4 KiB, no token"

case_ "DELETE /v1/certificates/{address}: 401 without the token, forgets with it, logged with the client"
admin DELETE /v1/certificates/dave@example.org;   assert_eq 401 "$CODE" "no token"
assert_exists "$WORK/store/dave@example.org.crt"
admin DELETE /v1/certificates/dave@example.org "${auth[@]}"; assert_eq 200 "$CODE" "status"
assert_missing "$WORK/store/dave@example.org.crt"
assert_missing "$WORK/store/dave@example.org.json"
assert_file_contains "$WORK/serve.err" 'admin: 127\.0\.0\.1:[0-9]+ forgot the certificate of dave@example\.org \(sha256=[0-9a-f]{64}\)'
admin DELETE /v1/certificates/dave@example.org "${auth[@]}"; assert_eq 404 "$CODE" "again"
admin GET /v1/recipients/dave@example.org "${auth[@]}"
assert_eq no-certificate "$(jq_ 'd["reason"]')" "after forgetting"
admin GET /metrics "${auth[@]}"
assert_file_contains "$WORK/resp" '^sealpost_store_certificates\{status="valid"\} 1$'

case_ "SIGTERM: exit 0"
kill -TERM "$SERVE_PID"; rc=0; wait "$SERVE_PID" || rc=$?; SERVE_PID=
assert_eq 0 "$rc" "exit code"

case_ "a non-loopback admin listener without a token: exit 78 before anything listens"
sed -e 's/^listen = 127.0.0.1:0$/&/' -e '/^\[admin\]/,$d' "$WORK/serve.ini" >"$WORK/open.ini"
printf '[admin]\nlisten = 0.0.0.0:0\n' >>"$WORK/open.ini"
run_expect 78 "$SEALPOST" serve -c "$WORK/open.ini"
assert_file_contains "$WORK/err" 'not a loopback address: set \[admin\] token'
assert_file_lacks "$WORK/err" 'serve: ready'

case_ "an unknown [admin] key is a configuration error"
printf '[store]\ndir = %s\n[admin]\ntokn = x\n' "$WORK/store" >"$WORK/typo.ini"
run_expect 78 "$SEALPOST" serve -c "$WORK/typo.ini"
assert_file_contains "$WORK/err" "unknown key 'tokn' in section \[admin\] \(did you mean 'token'\?\)"

finish

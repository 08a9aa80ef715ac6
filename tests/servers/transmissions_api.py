#!/usr/bin/python3
"""transmissions_api.py: a local stand-in for the transmissions API
(SparkPost / Momentum, POST /api/v1/transmissions) as its public
documentation describes it, for sealpost's integration tests.

- HTTP/1.1 with keep-alive (ThreadingHTTPServer); one handler per TCP
  connection, so the log's "conn" tells how many connections a batch used.
- Authorization must equal --key: else 401 {"errors":[{"message":"Unauthorized."}]}.
- Content-Type must be application/json and the body the documented shape
  (recipients[].address as {"email","name"} or a string, content.email_rfc822
  a string, campaign_id a string of at most 64 bytes, options booleans):
  else 400 or 422 with errors[].message/description/code.
- 200 {"results":{"total_rejected_recipients":R,"total_accepted_recipients":A,"id":"..."}}
  where recipients whose address is given with --suppress count as rejected.
- Scripted: --fail-first K --fail-status 429|503 answers the first K
  transmissions with that status (429 with Retry-After: 0); --always STATUS
  answers every request with STATUS.
- Every request is logged as one JSON line to --log: conn, method, path,
  headers (names lower-cased), body (parsed JSON, or raw text), status.
Binds port 0 on 127.0.0.1 and writes the port to --port-file.
"""
import argparse
import itertools
import json
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ARGS = None
LOCK = threading.Lock()
COUNTER = {"requests": 0, "transmissions": 0}
CONN_IDS = itertools.count(1)
TX_IDS = itertools.count(84000000000000001)


def log_record(rec):
    with LOCK:
        with open(ARGS.log, "a") as f:
            f.write(json.dumps(rec) + "\n")


def err(message, description=None, code=None):
    e = {"message": message}
    if description:
        e["description"] = description
    if code:
        e["code"] = code
    return {"errors": [e]}


def validate(body):
    """Returns (status, error document) or None when the body is acceptable."""
    if not isinstance(body, dict):
        return 400, err("invalid data format/type", "Request body is not a JSON object", "1300")
    rcpts = body.get("recipients")
    if not isinstance(rcpts, list) or not rcpts:
        return 400, err("required field is missing", "recipients is a required field", "1400")
    for r in rcpts:
        addr = r.get("address") if isinstance(r, dict) else None
        email = addr.get("email") if isinstance(addr, dict) else addr
        if not isinstance(email, str) or "@" not in email:
            return 422, err("Invalid recipient", "Recipient address is invalid", "1902")
        if isinstance(addr, dict) and "name" in addr and not isinstance(addr["name"], str):
            return 400, err("invalid data format/type", "address.name must be a string", "1300")
    content = body.get("content")
    if not isinstance(content, dict) or not isinstance(content.get("email_rfc822"), str) or not content["email_rfc822"]:
        return 400, err("required field is missing", "content.email_rfc822 is a required field", "1400")
    camp = body.get("campaign_id")
    if camp is not None and (not isinstance(camp, str) or len(camp.encode()) > 64):
        return 400, err("invalid data format/type", "campaign_id must be a string of at most 64 bytes", "1300")
    opts = body.get("options", {})
    if not isinstance(opts, dict):
        return 400, err("invalid data format/type", "options must be an object", "1300")
    for k in ("open_tracking", "click_tracking", "transactional"):
        if k in opts and not isinstance(opts[k], bool):
            return 400, err("invalid data format/type", "options.%s must be a boolean" % k, "1300")
    for email in ARGS.invalid:
        if any(email == ((r["address"]["email"] if isinstance(r["address"], dict) else r["address"])) for r in rcpts):
            return 400, err("invalid data format/type", "Invalid recipient address %s" % email, "1300")
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        self.conn_id = next(CONN_IDS)

    def log_message(self, fmt, *args):  # quiet: the JSON log is the record
        pass

    def reply(self, status, doc, extra_headers=()):
        data = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in extra_headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.handle_any(b"")

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.handle_any(self.rfile.read(length))

    def handle_any(self, raw):
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("latin-1")
        status, doc, extra = self.decide(headers, body)
        log_record({"conn": self.conn_id, "method": self.command, "path": self.path,
                    "headers": headers, "body": body, "status": status})
        self.reply(status, doc, extra)

    def decide(self, headers, body):
        with LOCK:
            COUNTER["requests"] += 1
        if self.path != "/api/v1/transmissions":
            return 404, err("resource not found"), ()
        if self.command != "POST":
            return 405, err("method not allowed"), ()
        if headers.get("authorization") != ARGS.key:
            return 401, err("Unauthorized."), ()
        if ARGS.always:
            return ARGS.always, err("scripted failure", "status %d on every request" % ARGS.always), ()
        with LOCK:
            COUNTER["transmissions"] += 1
            n = COUNTER["transmissions"]
        if n <= ARGS.fail_first:
            extra = (("Retry-After", "0"),) if ARGS.fail_status == 429 else ()
            msg = "Too many requests" if ARGS.fail_status == 429 else "Service Unavailable"
            return ARGS.fail_status, err(msg, "scripted failure %d of %d" % (n, ARGS.fail_first)), extra
        if not headers.get("content-type", "").startswith("application/json"):
            return 400, err("invalid data format/type", "Content-Type must be application/json", "1300"), ()
        bad = validate(body)
        if bad:
            return bad[0], bad[1], ()
        emails = [(r["address"]["email"] if isinstance(r["address"], dict) else r["address"]) for r in body["recipients"]]
        rejected = sum(1 for e in emails if e in ARGS.suppress)
        return 200, {"results": {"total_rejected_recipients": rejected,
                                 "total_accepted_recipients": len(emails) - rejected,
                                 "id": str(next(TX_IDS))}}, ()


def main():
    global ARGS
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--fail-first", type=int, default=0)
    ap.add_argument("--fail-status", type=int, default=503)
    ap.add_argument("--always", type=int, default=0)
    ap.add_argument("--suppress", action="append", default=[], help="recipient counted as rejected")
    ap.add_argument("--invalid", action="append", default=[], help="recipient answered with 400")
    ap.add_argument("--tls-cert", help="serve HTTPS with this certificate (PEM)")
    ap.add_argument("--tls-key", help="the certificate's key (PEM)")
    ARGS = ap.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    if ARGS.tls_cert:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(ARGS.tls_cert, ARGS.tls_key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    with open(ARGS.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(ARGS.port_file + ".tmp", ARGS.port_file)
    signal.signal(signal.SIGTERM, lambda *a: threading.Thread(target=server.shutdown).start())
    server.serve_forever(poll_interval=0.05)
    server.server_close()


if __name__ == "__main__":
    sys.exit(main())

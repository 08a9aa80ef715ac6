#!/usr/bin/python3
"""smtp_server.py: a real SMTP server (aiosmtpd) for sealpost's integration
tests, on loopback. Supports STARTTLS (--cert/--key), implicit TLS
(--implicit-tls), AUTH PLAIN/LOGIN (--user NAME:PASSWORD), and scripted
failures. Writes a JSON-lines transcript (--transcript FILE):

  {"type": "message", "conn": 1, "seq": 1, "ehlo": "...", "tls": true,
   "auth": "alice", "mail_from": "...", "rcpt_tos": [...], "data": "..."}
      one per accepted DATA
  {"type": "connection", "conn": 1, "peer": "127.0.0.1:50000", "tls": true,
   "auth": "alice", "ehlo": "...", "commands": ["EHLO", "STARTTLS", ...]}
      one per connection, when it closes (commands in order; AUTH arguments
      are never recorded)

Binds port 0 and writes the chosen port to --port-file once listening.
Scripted replies:
  --reject-rcpt ADDR=CODE   RCPT TO ADDR answered CODE (e.g. 550, 451)
  --fail STAGE=CODE         every MAIL, RCPT or DATA answered CODE; 421
                            closes the connection after the reply
  --fail-nth N              apply --fail only to the N-th transaction
                            (counted over the server's life, from 1)
  --drop-after N            close the connection, without a word, after
                            N messages on it (an MTA's idle/reuse limit)
Ends on SIGTERM.
"""
import argparse
import warnings
import asyncio
import json
import signal
import ssl
import sys

warnings.simplefilter("ignore")  # aiosmtpd 1.4 warns about its own login_data
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

TEXTS = {
    421: "4.3.2 Service not available, closing transmission channel",
    450: "4.2.0 Mailbox unavailable",
    451: "4.3.0 Local error in processing, try again later",
    452: "4.3.1 Insufficient system storage",
    550: "5.1.1 Mailbox unavailable: no such user",
    552: "5.3.4 Message size exceeds fixed limit",
    554: "5.7.1 Transaction failed: policy rejection",
}


def reply(code):
    return "%d %s" % (code, TEXTS.get(code, "scripted reply"))


class State:
    def __init__(self, args):
        self.args = args
        self.conn_seq = 0
        self.msg_seq = 0
        self.txn_seq = 0  # MAIL commands seen
        self.out = open(args.transcript, "a", buffering=1)
        self.reject_rcpt = {}
        for spec in args.reject_rcpt:
            addr, code = spec.rsplit("=", 1)
            self.reject_rcpt[addr.lower()] = int(code)
        self.fail = {}
        for spec in args.fail:
            stage, code = spec.split("=", 1)
            self.fail[stage.upper()] = int(code)
        self.users = {}
        for spec in args.user:
            name, password = spec.split(":", 1)
            self.users[name] = password

    def write(self, record):
        self.out.write(json.dumps(record) + "\n")

    def failure(self, stage):
        code = self.fail.get(stage)
        if code is None:
            return None
        if self.args.fail_nth and self.txn_seq != self.args.fail_nth:
            return None
        return code


class Handler:
    def __init__(self, state):
        self.state = state

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.state.txn_seq += 1
        code = self.state.failure("MAIL")
        if code:
            server.close_after = code == 421
            return reply(code)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        code = self.state.reject_rcpt.get(address.lower()) or self.state.failure("RCPT")
        if code:
            server.close_after = code == 421
            return reply(code)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        code = self.state.failure("DATA")
        if code:
            server.close_after = code == 421
            return reply(code)
        self.state.msg_seq += 1
        self.state.write({
            "type": "message", "conn": server.conn_id, "seq": self.state.msg_seq,
            "ehlo": session.host_name, "tls": server.tls_active(), "auth": server.authenticated_user(),
            "mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos),
            "mail_options": list(envelope.mail_options),
            "data": envelope.content.decode("latin-1"),
        })
        server.messages += 1
        if self.state.args.drop_after and server.messages >= self.state.args.drop_after:
            server.close_after = True
        return "250 2.0.0 OK: queued as T%05d" % self.state.msg_seq


VERBS = ["HELO", "EHLO", "STARTTLS", "AUTH", "MAIL", "RCPT", "DATA", "RSET", "NOOP", "QUIT", "VRFY"]


class RecordingSMTP(SMTP):
    """Records every command per connection; closes after a scripted 421."""

    def __init__(self, state, *a, **kw):
        super().__init__(*a, **kw)
        self.state = state
        state.conn_seq += 1
        self.conn_id = state.conn_seq
        self.commands = []
        self.close_after = False
        self.messages = 0
        self.implicit_tls = False
        self.last_ehlo = None
        self._peer = None
        self._auth_user = None
        self._written = False

    def tls_active(self):
        return self.implicit_tls or self._tls_protocol is not None

    def authenticated_user(self):
        return self._auth_user

    def connection_made(self, transport):
        first = self.transport is None
        super().connection_made(transport)
        if first:
            peer = transport.get_extra_info("peername")
            self._peer = "%s:%s" % (peer[0], peer[1]) if peer else "?"
            self.implicit_tls = transport.get_extra_info("sslcontext") is not None

    def connection_lost(self, error):
        if not self._written:
            self._written = True
            self.state.write({
                "type": "connection", "conn": self.conn_id, "peer": self._peer,
                "tls": self.tls_active(), "auth": self._auth_user, "ehlo": self.last_ehlo,
                "commands": self.commands,
            })
        super().connection_lost(error)


def _wrap(verb):
    base = getattr(SMTP, "smtp_" + verb)

    async def method(self, arg):
        self.commands.append(verb)
        if verb in ("EHLO", "HELO"):
            self.last_ehlo = arg
        await base(self, arg)
        if self.session and self.session.authenticated and self._auth_user is None:
            data = getattr(self.session, "auth_data", None)
            if isinstance(data, LoginPassword):
                self._auth_user = data.login.decode("utf-8", "replace")
        if self.close_after and self.transport is not None:
            self.transport.close()

    return method


for _verb in VERBS:
    setattr(RecordingSMTP, "smtp_" + _verb, _wrap(_verb))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--transcript", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--implicit-tls", action="store_true")
    ap.add_argument("--require-starttls", action="store_true")
    ap.add_argument("--user", action="append", default=[], help="NAME:PASSWORD accepted for AUTH")
    ap.add_argument("--auth-mechanism", action="append", default=[], help="offer only these (PLAIN, LOGIN)")
    ap.add_argument("--auth-required", action="store_true")
    ap.add_argument("--reject-rcpt", action="append", default=[])
    ap.add_argument("--fail", action="append", default=[])
    ap.add_argument("--fail-nth", type=int, default=0)
    ap.add_argument("--drop-after", type=int, default=0)
    args = ap.parse_args()
    state = State(args)

    tls = None
    if args.cert:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(args.cert, args.key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user = auth_data.login.decode("utf-8", "replace")
        password = auth_data.password.decode("utf-8", "replace")
        ok = state.users.get(user) == password
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    excluded = []
    if args.auth_mechanism:
        excluded = [m for m in ("PLAIN", "LOGIN") if m not in [x.upper() for x in args.auth_mechanism]]

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    def factory():
        return RecordingSMTP(
            state, Handler(state), hostname="mx.test.example.net", loop=loop,
            tls_context=None if args.implicit_tls else tls,
            require_starttls=args.require_starttls,
            authenticator=authenticator if state.users else None,
            auth_required=args.auth_required, auth_require_tls=True,
            auth_exclude_mechanism=excluded, decode_data=False)

    server = loop.run_until_complete(
        loop.create_server(factory, "127.0.0.1", 0, ssl=tls if args.implicit_tls else None))
    port = server.sockets[0].getsockname()[1]
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(port))
    import os
    os.rename(args.port_file + ".tmp", args.port_file)
    loop.add_signal_handler(signal.SIGTERM, loop.stop)
    loop.add_signal_handler(signal.SIGINT, loop.stop)
    loop.run_forever()
    server.close()
    state.out.close()


if __name__ == "__main__":
    sys.exit(main())

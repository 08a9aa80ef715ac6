#!/usr/bin/python3
"""smtp_probe.py: a raw-socket SMTP client for serve_test.sh, so the test
controls every byte on the wire (pipelining, bare LF, dot-stuffing) instead
of trusting smtplib to do it right.

usage: smtp_probe.py PORT CHUNK [CHUNK...]

Reads the greeting, then sends each CHUNK with one sendall(). Between
chunks it reads replies until a "354 " line (the server is ready for the
data) or any final 4xx/5xx line; after the last chunk it reads until the
server closes the connection. A CHUNK is literal text with \\r, \\n and
\\t escapes, or @FILE for the bytes of FILE. Prints every reply line
received, in order, one per line (CR removed). Exits 2 on a timeout.
"""
import re
import socket
import sys

TIMEOUT = 10


def chunk_bytes(arg):
    if arg.startswith("@"):
        with open(arg[1:], "rb") as f:
            return f.read()
    return arg.replace("\\r", "\r").replace("\\n", "\n").replace("\\t", "\t").encode("latin-1")


def main():
    port = int(sys.argv[1])
    chunks = [chunk_bytes(a) for a in sys.argv[2:]]
    sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    buf = b""
    out = []

    def read_lines(stop):
        nonlocal buf
        while True:
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                text = line.rstrip(b"\r").decode("latin-1")
                out.append(text)
                print(text, flush=True)
                if stop and stop(text):
                    return True
            try:
                data = sock.recv(65536)
            except socket.timeout:
                print("TIMEOUT", flush=True)
                sys.exit(2)
            except ConnectionResetError:
                print("RESET", flush=True)
                return False
            if not data:
                return False
            buf += data

    # The greeting (or a refusal: a 554 and the server closes).
    if not read_lines(lambda t: re.match(r"^\d{3} ", t)):
        return
    if out[-1].startswith("554"):
        read_lines(None)
        return
    for i, c in enumerate(chunks):
        try:
            sock.sendall(c)
        except (BrokenPipeError, ConnectionResetError):
            print("RESET", flush=True)
            return
        if i + 1 < len(chunks):
            if not read_lines(lambda t: t.startswith("354 ") or re.match(r"^[45]\d\d ", t)):
                return
    read_lines(None)


if __name__ == "__main__":
    main()

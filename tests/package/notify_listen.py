#!/usr/bin/env python3
"""notify_listen.py SOCKET OUT: a stand-in for systemd's notification socket.

Binds a unix datagram socket at SOCKET (mode 0777, so the service user can
send), and appends every datagram it receives to OUT, one per line, until
killed. The package test points NOTIFY_SOCKET at it to check that
`sealpost serve` says READY=1 and STOPPING=1 (sd_notify, Type=notify)."""
import os
import socket
import sys

path, out = sys.argv[1], sys.argv[2]
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(path)
os.chmod(path, 0o777)
with open(out, "a", buffering=1) as f:
    f.write("listening\n")
    while True:
        data = sock.recv(4096)
        f.write(data.decode(errors="replace").replace("\n", " ") + "\n")

#!/usr/bin/env python3
"""inject.py HOST PORT FROM TO: send one message over SMTP with smtplib;
prints the server's reply to DATA and exits 0 only on 250."""
import smtplib
import sys
from email.message import EmailMessage

host, port, sender, rcpt = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
msg = EmailMessage()
msg["From"] = sender
msg["To"] = rcpt
msg["Subject"] = "package test"
msg["Message-ID"] = "<package-test@example.org>"
msg.set_content("Hello from the installed package.\n")
with smtplib.SMTP(host, port, timeout=30) as s:
    s.ehlo("package-test")
    s.mail(sender)
    s.rcpt(rcpt)
    code, reply = s.data(msg.as_bytes())
    print(code, reply.decode(errors="replace"))
    sys.exit(0 if code == 250 else 1)

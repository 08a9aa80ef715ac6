#!/usr/bin/env python3
"""bench/gen_statement.py: deterministic test messages for the send benchmark.

Two kinds, each about SIZE bytes in all (headers included):

  statement  a realistic account statement: multipart/mixed holding a
             multipart/alternative (text/plain and text/html, 7bit, lines
             under 76 columns) and a base64 PDF attachment (76-column lines);
             roughly 10 % text, 20 % HTML, 70 % attachment
  text       a single text/plain part (the original benchmark message)

The same (kind, size, index) always gives the same bytes (the PDF's content
comes from random.Random seeded with them), so runs and machines compare.

  gen_statement.py KIND SIZE COUNT DIR [FROM TO]   writes DIR/m000000.eml ...
  gen_statement.py KIND SIZE - FILE [FROM TO]      writes one message (index 0)
"""
import base64
import os
import random
import sys

CRLF = "\r\n"


def _headers(frm, to, subject, mid):
    return (f"From: Bench Bank <{frm}>{CRLF}To: <{to}>{CRLF}Subject: {subject}{CRLF}"
            f"Date: Tue, 24 Nov 2026 10:00:00 +0000{CRLF}Message-ID: <{mid}>{CRLF}MIME-Version: 1.0{CRLF}")


def text_message(frm, to, size, i=0):
    head = (_headers(frm, to, f"statement {i}", f"bench-{size}-{i}@example.com") +
            f"Content-Type: text/plain; charset=us-ascii{CRLF}Content-Transfer-Encoding: 7bit{CRLF}{CRLF}")
    line = "Statement line, amounts and dates: 0123456789 ABCDEFGHIJ abcdefghij"
    body, n, k = [], len(head), 0
    while n < size:
        s = f"{line} {k % 1000}{CRLF}"
        body.append(s)
        n += len(s)
        k += 1
    return head + "".join(body)


def _text_lines(budget, i):
    out, n, k = [], 0, 0
    out.append(f"Dear customer,{CRLF}{CRLF}your statement for account DE89 3704 0044 0532 {i:04d} 00 "
               f"is attached.{CRLF}{CRLF}")
    n = len(out[0])
    while n < budget:
        s = (f"2026-11-{k % 28 + 1:02d}  Card payment {k:05d} Merchant {k * 7919 % 100000:05d}"
             f"  {(k * 37) % 9000 + 100:>6d}.{k % 100:02d} EUR{CRLF}")
        out.append(s)
        n += len(s)
        k += 1
    return "".join(out)


def _html_lines(budget, i):
    head = (f"<!DOCTYPE html>{CRLF}<html><head><meta charset=\"us-ascii\">{CRLF}"
            f"<title>Statement {i}</title></head>{CRLF}<body><table class=\"statement\">{CRLF}")
    tail = f"</table>{CRLF}<p>Kind regards, Bench Bank</p></body></html>{CRLF}"
    out, n, k = [head], len(head) + len(tail), 0
    while n < budget:
        s = (f"<tr><td>2026-11-{k % 28 + 1:02d}</td><td>Payment {k:05d}</td>"
             f"<td class=a>{(k * 37) % 9000 + 100}.{k % 100:02d}</td></tr>{CRLF}")
        out.append(s)
        n += len(s)
        k += 1
    out.append(tail)
    return "".join(out)


def _pdf_bytes(n, seed):
    rng = random.Random(seed)
    head = (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Length " + str(n).encode() +
            b" /Filter /FlateDecode >>\nstream\n")
    tail = b"\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    body = rng.randbytes(max(0, n - len(head) - len(tail)))  # compressed streams look random
    return head + body + tail


def _b64_lines(data):
    s = base64.b64encode(data).decode()
    return "".join(s[k:k + 76] + CRLF for k in range(0, len(s), 76))


def statement_message(frm, to, size, i=0):
    mixed, alt = f"=_bench_mixed_{size}_{i}", f"=_bench_alt_{size}_{i}"
    head = (_headers(frm, to, f"Your statement {i}", f"stmt-{size}-{i}@example.com") +
            f"Content-Type: multipart/mixed; boundary=\"{mixed}\"{CRLF}{CRLF}"
            f"This is a multi-part message in MIME format.{CRLF}")
    text = _text_lines(max(200, size // 10), i)
    html = _html_lines(max(400, size // 5), i)
    parts = (f"--{mixed}{CRLF}Content-Type: multipart/alternative; boundary=\"{alt}\"{CRLF}{CRLF}"
             f"--{alt}{CRLF}Content-Type: text/plain; charset=us-ascii{CRLF}"
             f"Content-Transfer-Encoding: 7bit{CRLF}{CRLF}{text}"
             f"--{alt}{CRLF}Content-Type: text/html; charset=us-ascii{CRLF}"
             f"Content-Transfer-Encoding: 7bit{CRLF}{CRLF}{html}"
             f"--{alt}--{CRLF}"
             f"--{mixed}{CRLF}Content-Type: application/pdf; name=\"statement-{i}.pdf\"{CRLF}"
             f"Content-Transfer-Encoding: base64{CRLF}"
             f"Content-Disposition: attachment; filename=\"statement-{i}.pdf\"{CRLF}{CRLF}")
    end = f"--{mixed}--{CRLF}"
    room = size - len(head) - len(parts) - len(end)
    # base64 with CRLF every 76 characters: 78 bytes out per 57 in.
    pdf = _pdf_bytes(max(600, room * 57 // 78), (size << 20) ^ i)
    return head + parts + _b64_lines(pdf) + end


def make(kind, frm, to, size, i=0):
    return (statement_message if kind == "statement" else text_message)(frm, to, size, i)


def write_dir(kind, size, count, d, frm="alice@example.com", to="bob@example.com"):
    """DIR holding COUNT messages (made once; reused when complete). Returns the sorted file list."""
    os.makedirs(d, exist_ok=True)
    names = [os.path.join(d, f"m{k:06d}.eml") for k in range(count)]
    for k, name in enumerate(names):
        if not os.path.exists(name):
            with open(name + ".tmp", "w", newline="") as f:
                f.write(make(kind, frm, to, size, k))
            os.rename(name + ".tmp", name)
    return names


def main():
    if len(sys.argv) not in (5, 7) or sys.argv[1] not in ("statement", "text"):
        sys.exit(__doc__)
    kind, size, count, dest = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    frm, to = (sys.argv[5], sys.argv[6]) if len(sys.argv) == 7 else ("alice@example.com", "bob@example.com")
    if count == "-":
        with open(dest, "w", newline="") as f:
            f.write(make(kind, frm, to, size, 0))
    else:
        write_dir(kind, size, int(count), dest, frm, to)


if __name__ == "__main__":
    main()

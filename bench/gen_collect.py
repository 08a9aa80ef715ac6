#!/usr/bin/python3
# gen_collect.py PKI OUTDIR COUNT [BATCH] -- webhook batches for the collector
# benchmark: COUNT DKIM-signed (example.com, selector "sel"), S/MIME-signed
# (detached, SHA-256, certificates included) mails, each from its own address
# c<NNNNNN>@example.com with its own certificate issued by the test PKI's
# intermediate CA (tests/pki/make_pki.sh). The user key is shared: the cost
# of collecting does not depend on which key a certificate holds.
# Writes OUTDIR/batch-<NNNNN>.json (JSON arrays of BATCH relay_message items,
# the webhook's body) and OUTDIR/.done (COUNT, BATCH, the PKI's stamp) last; exits at
# once when OUTDIR/.done already says the same. Uses /usr/bin/python3 for
# Debian's python3-dkim and python3-cryptography.
import datetime
import json
import os
import sys

import dkim
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

if len(sys.argv) not in (4, 5):
    sys.exit("usage: gen_collect.py PKI OUTDIR COUNT [BATCH]")
PKI, OUT, COUNT = sys.argv[1], sys.argv[2], int(sys.argv[3])
BATCH = int(sys.argv[4]) if len(sys.argv) == 5 else 10
# The fixtures are signed with the PKI's keys (DKIM, CA): remade when the
# PKI was (its .done holds the script's hash), as well as on another size.
pki_done = os.path.join(PKI, ".done")
pki_stamp = open(pki_done).read().strip() if os.path.exists(pki_done) else "?"
stamp = f"{COUNT} {BATCH} {pki_stamp}\n"
done = os.path.join(OUT, ".done")
if os.path.exists(done) and open(done).read() == stamp:
    sys.exit(0)
os.makedirs(OUT, exist_ok=True)
for f in os.listdir(OUT):
    os.unlink(os.path.join(OUT, f))


def load(path):
    return open(os.path.join(PKI, path), "rb").read()


ca_cert = x509.load_pem_x509_certificate(load("ca/inter.crt"))
ca_key = serialization.load_pem_private_key(load("ca/inter.key"), None)
dkim_key = load("dkim/example.com.key")
user_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
now = datetime.datetime.now(datetime.timezone.utc)
ski = x509.SubjectKeyIdentifier.from_public_key(user_key.public_key())
aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key())


def issue(addr):
    b = (x509.CertificateBuilder()
         .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Sealpost Bench"),
                                  x509.NameAttribute(NameOID.COMMON_NAME, addr.split("@")[0])]))
         .issuer_name(ca_cert.subject).public_key(user_key.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=825))
         .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
         .add_extension(x509.KeyUsage(True, False, True, False, False, False, False, False, False), critical=True)
         .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
         .add_extension(ski, critical=False).add_extension(aki, critical=False)
         .add_extension(x509.SubjectAlternativeName([x509.RFC822Name(addr)]), critical=False))
    return b.sign(ca_key, hashes.SHA256())


ENTITY = (b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n"
          b"Hello, please encrypt mail to me from now on.\r\n")
BOUNDARY = b"----=_sealpost_bench_boundary"


def mail(i):
    addr = f"c{i:06d}@example.com"
    cert = issue(addr)
    der = (pkcs7.PKCS7SignatureBuilder().set_data(ENTITY).add_signer(cert, user_key, hashes.SHA256())
           .add_certificate(ca_cert)
           .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary]))
    import base64
    s = base64.b64encode(der).decode()
    b64 = ("\r\n".join(s[j:j + 76] for j in range(0, len(s), 76)) + "\r\n").encode()
    head = "\r\n".join([f"From: {addr}", "To: secureme@inbound.example.com", f"Subject: bench {i}",
                        "Date: Tue, 24 Nov 2026 10:00:00 +0000", f"Message-ID: <bench-{i}@example.com>",
                        "MIME-Version: 1.0",
                        f'Content-Type: multipart/signed; protocol="application/pkcs7-signature"; '
                        f'micalg=sha-256; boundary="{BOUNDARY.decode()}"']).encode() + b"\r\n"
    msg = (head + b"\r\nThis is an S/MIME signed message\r\n\r\n--" + BOUNDARY + b"\r\n" + ENTITY +
           b"\r\n--" + BOUNDARY + b"\r\nContent-Type: application/pkcs7-signature; name=\"smime.p7s\"\r\n"
           b"Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"smime.p7s\"\r\n\r\n" +
           b64 + b"\r\n--" + BOUNDARY + b"--\r\n")
    sig = dkim.sign(msg, b"sel", b"example.com", dkim_key,
                    include_headers=[b"from", b"to", b"subject", b"date", b"message-id", b"mime-version",
                                     b"content-type"])
    msg = sig.replace(b"\n", b"\r\n").replace(b"\r\r\n", b"\r\n") + msg
    return {"msys": {"relay_message": {"content": {"email_rfc822": msg.decode(), "email_rfc822_is_base64": False},
                                       "msg_from": addr, "rcpt_to": "secureme@inbound.example.com",
                                       "friendly_from": addr}}}


items = []
nbatch = 0
for i in range(COUNT):
    items.append(mail(i))
    if len(items) == BATCH or i == COUNT - 1:
        with open(os.path.join(OUT, f"batch-{nbatch:05d}.json"), "w") as f:
            json.dump(items, f)
        nbatch += 1
        items = []
with open(done, "w") as f:
    f.write(stamp)

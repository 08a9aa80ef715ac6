#!/usr/bin/env python3
# gen_store.py CERT.crt DIR COUNT -- a certificate store of COUNT entries
# r<NNNNNNN>@bench.example.crt for the store-scale benchmark. Every entry is a
# hard link to one of a few copies of CERT (lookup cost does not depend on the
# certificate; links keep 1,000,000 entries to directory entries, not 4 GB).
# Idempotent: DIR/.done holds COUNT when complete.
import os
import shutil
import sys

if len(sys.argv) != 4:
    sys.exit("usage: gen_store.py CERT.crt DIR COUNT")
cert, out, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
done = os.path.join(out, ".done")
if os.path.exists(done) and open(done).read().strip() == str(count):
    sys.exit(0)
os.makedirs(out, exist_ok=True)
src_dir = out + ".src"
os.makedirs(src_dir, exist_ok=True)
PER_SOURCE = 50000  # ext4 allows 65,000 links per inode
sources = []
for k in range((count + PER_SOURCE - 1) // PER_SOURCE):
    s = os.path.join(src_dir, f"src{k}.crt")
    if not os.path.exists(s):
        shutil.copyfile(cert, s)
    sources.append(s)
for i in range(count):
    name = os.path.join(out, f"r{i:07d}@bench.example.crt")
    try:
        os.link(sources[i // PER_SOURCE], name)
    except FileExistsError:
        pass
with open(done, "w") as f:
    f.write(f"{count}\n")

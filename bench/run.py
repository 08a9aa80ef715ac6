#!/usr/bin/env python3
"""bench/run.py: the sealpost benchmark suite (run it through scripts/bench).

Measures, in one run, each subject beside a reference the same run measures,
and reports ratios (absolute rates on a shared machine drift):

  send     `sealpost send` from and to tmpfs (-j 1, -j 2) and SendPipeline
           in-process, on statements (text + HTML + PDF) and one-part text of
           10 KB, 100 KB, 1 MB, as a % of the per-message limit the primitives
           allow (RSA-2048 sign + public op, SHA-256, AES-256-CBC, base64 rates
           measured in the same run: send_limit_s); peak RSS per worker
  collect  `sealpost serve` + collector plugin under wrk, against a durable
           atomic file-write loop on the same disk
  smtp     `sealpost send --smtp` into Postfix smtp-sink, against smtp-source
  store    CertStore lookups at 100,000 and 1,000,000 certificates, against
           a bare stat() of the same files
  pg       the postgres store backend (a PostgreSQL 15 server of its own,
           tests/pg/pg_server.sh), against the files backend in the same run:
           lookups with a warm index, new certificates/s through the webhook,
           and the time from a put on one node to its use on another

Every figure is the median over --runs repetitions; each repetition measures
the reference and the subject back to back. Writes a table to stdout,
results.json, PNG plots (gnuplot) and BENCHMARKS.md.
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
PY_SYSTEM = "/usr/bin/python3"  # Debian's python3-dkim and python3-cryptography


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def run(cmd, **kw):
    kw.setdefault("check", True)
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    kw.setdefault("text", True)
    try:
        return subprocess.run(cmd, **kw)
    except subprocess.CalledProcessError as e:
        sys.exit(f"bench: command failed: {' '.join(map(str, cmd)) if isinstance(cmd, list) else cmd}\n"
                 f"{(e.stderr or '')[-3000:]}")


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=20.0, proc=None):
    t = time.monotonic()
    while time.monotonic() - t < timeout:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return time.monotonic() - t
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"nothing listens on {port} after {timeout} s")


def stop(proc):
    if proc and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def machine_info():
    model = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", open("/proc/meminfo").read()).group(1))
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, AttributeError):
        pass
    fs = run(["df", "--output=fstype,source", ROOT], check=False).stdout.split()[-2:]
    return {
        "cores": os.cpu_count(), "cpu": model, "memory": mem, "kernel": platform.release(),
        "os": (re.search(r'PRETTY_NAME="([^"]+)"', open("/etc/os-release").read()) or [None, "?"])[1],
        "openssl": run(["openssl", "version"]).stdout.strip(),
        "filesystem": " ".join(fs), "loadavg_at_start": open("/proc/loadavg").read().split()[:3],
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


# ------------------------------------------------------------------ fixtures --

def make_message(frm, to, size, i=0):
    head = (f"From: Bench <{frm}>\r\nTo: <{to}>\r\nSubject: statement {i}\r\n"
            f"Date: Tue, 24 Nov 2026 10:00:00 +0000\r\nMessage-ID: <bench-{size}-{i}@example.com>\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n"
            "Content-Transfer-Encoding: 7bit\r\n\r\n")
    line = "Statement line, amounts and dates: 0123456789 ABCDEFGHIJ abcdefghij"
    body, k = [], 0
    n = len(head)
    while n < size:
        s = f"{line} {k % 1000}\r\n"
        body.append(s)
        n += len(s)
        k += 1
    return head + "".join(body)


def message_dir(work, frm, to, size, count):
    d = os.path.join(work, f"msgs-{size}-{count}")
    if not os.path.isdir(d):
        os.makedirs(d)
        for i in range(count):
            with open(os.path.join(d, f"m{i:06d}.eml"), "w", newline="") as f:
                f.write(make_message(frm, to, size, i))
    return d, sorted(os.path.join(d, f) for f in os.listdir(d))


# --------------------------------------------------------------- references --

def durable_write_loop(directory, count):
    """The ceiling for storing certificates: temp file, write, fsync, rename, fsync dir."""
    os.makedirs(directory, exist_ok=True)
    data = b"-----BEGIN CERTIFICATE-----\n" + b"A" * 1400 + b"\n-----END CERTIFICATE-----\n"
    dfd = os.open(directory, os.O_RDONLY)
    t = time.monotonic()
    for i in range(count):
        tmp = os.path.join(directory, f".tmp{i}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.write(fd, data)
        os.fsync(fd)
        os.close(fd)
        os.rename(tmp, os.path.join(directory, f"f{i}.crt"))
        os.fsync(dfd)
    dt = time.monotonic() - t
    os.close(dfd)
    shutil.rmtree(directory)
    return count / dt


# ------------------------------------------------------- send: the limit --

def run_rusage(cmd, capture=False):
    """Runs cmd; returns (its stdout or None, its peak RSS in KiB, its user + system CPU seconds),
    from wait4. Started by /usr/bin/time, not by this process: Linux carries the
    high-water RSS of the forking process's memory into the child's ru_maxrss at
    exec, so a child forked from this 25 MB Python reported at least 25 MB."""
    timed = os.access("/usr/bin/time", os.X_OK)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile(mode="r") as peak:
        argv = ["/usr/bin/time", "-f", "%M", "-o", peak.name, "--"] + cmd if timed else cmd
        p = subprocess.Popen(argv, stdout=out if capture else subprocess.DEVNULL, stderr=err)
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        if p.returncode != 0:
            err.seek(0)
            sys.exit(f"bench: command failed ({p.returncode}): {' '.join(cmd[:8])} ...\n"
                     f"{err.read().decode(errors='replace')[-3000:]}")
        out.seek(0)
        # time's own ru_maxrss has the same inheritance; the figure it writes is its child's.
        rss = int(peak.read().split()[-1]) if timed else ru.ru_maxrss
        return (out.read().decode() if capture else None), rss, ru.ru_utime + ru.ru_stime


def massif_peak_kb(cmd, work):
    """The peak of live heap (useful + allocator overhead, KiB) valgrind's massif sees in cmd:
    what the code holds at once, which RSS (every heap page ever touched) only bounds."""
    out = os.path.join(work, f"massif-{time.monotonic_ns()}.out")
    run(["valgrind", "--tool=massif", f"--massif-out-file={out}"] + cmd)
    peak = 0
    cur = {}
    for line in open(out):
        k, _, v = line.strip().partition("=")
        if k in ("mem_heap_B", "mem_heap_extra_B"):
            cur[k] = int(v)
            if len(cur) == 2:
                peak = max(peak, sum(cur.values()))
                cur = {}
    os.unlink(out)
    return peak / 1024


def openssl_speed_rsa(seconds=1):
    out = run(["openssl", "speed", "-seconds", str(seconds), "rsa2048"]).stdout
    m = re.search(r"^rsa\s+2048 bits\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)", out, re.M)
    if not m:
        sys.exit("bench: cannot parse openssl speed output:\n" + out)
    return float(m.group(1)), float(m.group(2))


def openssl_speed_evp(alg, seconds=1, block=16384):
    """Bytes/s of `openssl speed -evp ALG -bytes BLOCK` (its figures are in 1000s of bytes/s)."""
    out = run(["openssl", "speed", "-seconds", str(seconds), "-evp", alg, "-bytes", str(block)]).stdout
    m = re.search(r"^\S+\s+([\d.]+)k\s*$", out.strip().splitlines()[-1])
    if not m:
        sys.exit(f"bench: cannot parse openssl speed -evp {alg} output:\n" + out)
    return float(m.group(1)) * 1000


def send_primitives(bindir, quick=False):
    """The rates the limit is made of, measured now."""
    sign, verify = openssl_speed_rsa(1)
    b64 = json.loads(run([os.path.join(bindir, "pipeline_bench"), "--base64", str(4 << 20),
                          "--seconds", "0.3" if quick else "1"]).stdout)
    return {"rsa_sign": sign, "rsa_public": verify, "sha256_Bps": openssl_speed_evp("sha256"),
            "aes_Bps": openssl_speed_evp("aes-256-cbc"), "base64_evp_Bps": b64["evp_encodeblock_Bps"],
            "base64_sealpost_Bps": b64["sealpost_base64_lines_Bps"],
            # The faster encoder sets the limit: the pipeline's own never flatters it.
            "base64_Bps": max(b64["evp_encodeblock_Bps"], b64["sealpost_base64_lines_Bps"])}


def io_floor(bindir, files, outbox, tmpfs):
    """The file system's own CPU per message, which the limit leaves out: read each input,
    write and rename an output as large as send's (the mean of what it just wrote), no
    fsync, on the same tmpfs (io_floor_bench: the syscalls alone, no sealpost code)."""
    outs = [os.path.join(outbox, f) for f in os.listdir(outbox) if f.endswith(".eml")]
    out_bytes = int(statistics.mean(os.path.getsize(f) for f in outs))
    d = tempfile.mkdtemp(prefix="sealpost-bench-iofloor.", dir=tmpfs)
    try:
        r = json.loads(run([os.path.join(bindir, "io_floor_bench"), "--in-dir", os.path.dirname(files[0]), "--out-dir", d,
                            "--out-bytes", str(out_bytes)]).stdout)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    return {"io_read_s": r["read_cpu_s_per_msg"], "io_write_s": r["write_cpu_s_per_msg"], "out_bytes": out_bytes}


def send_limit_s(p, size):
    """Per-message time the primitives allow, one thread, one recipient: one RSA-2048
    signature, one RSA public-key operation, SHA-256 over S, AES-256-CBC over 1.35 S,
    base64 over 2.35 S (the signed entity and the envelope)."""
    return (1 / p["rsa_sign"] + 1 / p["rsa_public"] + size / p["sha256_Bps"] + 1.35 * size / p["aes_Bps"]
            + 2.35 * size / p["base64_Bps"])


def send_limit_stitched_s(p, size):
    """The same without the envelope's base64 (1.35 S): sealpost encodes the ciphertext between
    the AES-CBC blocks (sender/lib/aes_cbc_base64), in cycles the CBC chain leaves idle, so that
    term no longer adds. What the primitives allow as sealpost runs them, a bound send can meet."""
    return send_limit_s(p, size) - 1.35 * size / p["base64_Bps"]


def send_summary(reps, sizes, kinds, count, seconds, tmpfs):
    """Medians over repetitions; every share of the limit is taken per repetition."""
    res = {"prim": {k: med([r["prim"][k] for r in reps]) for k in reps[0]["prim"]},
           "loadavg": [r["loadavg"] for r in reps], "rss_base_kb": med([r["rss_base_kb"] for r in reps]),
           "counts": count, "pipeline_seconds": seconds, "outbox_fs": tmpfs, "cases": {}}
    for kind in kinds:
        for size in sizes:
            key = f"{kind}-{size}"
            cs = [(r, r["cases"][key]) for r in reps]
            row = {k: med([c[k] for _, c in cs]) for k in cs[0][1]}
            row["kind"], row["size"] = kind, size
            row["limit_ms"] = med([send_limit_s(r["prim"], c["bytes"]) * 1e3 for r, c in cs])
            row["limit_stitched_ms"] = med([send_limit_stitched_s(r["prim"], c["bytes"]) * 1e3 for r, c in cs])
            for x in ("pipeline_1", "send_1"):
                row[f"{x}_stitched_pct"] = med([send_limit_stitched_s(r["prim"], c["bytes"]) / c[f"{x}_cpu_s"] * 100
                                                for r, c in cs])
            for x in ("pipeline_1", "send_1"):
                # Wall clock: messages/s x limit. CPU: limit / CPU seconds per message (openssl
                # speed's rates are per user-CPU second too), which a loaded machine does not skew.
                row[f"{x}_pct"] = med([c[x] * send_limit_s(r["prim"], c["bytes"]) * 100 for r, c in cs])
                row[f"{x}_cpu_pct"] = med([send_limit_s(r["prim"], c["bytes"]) / c[f"{x}_cpu_s"] * 100 for r, c in cs])
            # Beside the limit, what the file system costs send anyway (io_floor): the share of
            # limit + floor that send reaches, and the floor's size against the limit.
            row["io_floor_ms"] = med([(c["io_read_s"] + c["io_write_s"]) * 1e3 for _, c in cs])
            row["send_1_io_pct"] = med([(send_limit_s(r["prim"], c["bytes"]) + c["io_read_s"] + c["io_write_s"])
                                        / c["send_1_cpu_s"] * 100 for r, c in cs])
            for x in ("pipeline", "send"):
                row[f"{x}_2_cpu_eff"] = med([c[f"{x}_1_cpu_s"] / c[f"{x}_2_cpu_s"] for _, c in cs])
            for x in ("pipeline", "send"):
                row[f"{x}_2_vs_1"] = med([c[f"{x}_2"] / c[f"{x}_1"] for _, c in cs])
                row[f"{x}_2_pct"] = med([c[f"{x}_2"] / 2 * send_limit_s(r["prim"], c["bytes"]) * 100 for r, c in cs])
            # Peak memory per worker: the process's peak less its footprint on a small message.
            for j in (1, 2):
                per = med([max(0, c[f"send_{j}_rss_kb"] - r["rss_base_kb"]) / j for r, c in cs])
                row[f"send_{j}_worker_kb"] = per
                row[f"send_{j}_worker_x"] = per * 1024 / row["bytes"]
            res["cases"][key] = row
    return res


def send_verdicts(s):
    out = []
    cases = s["cases"]
    for size, goal in ((10240, 60), (102400, 70), (1048576, 70)):
        r = cases.get(f"statement-{size}")
        if r:
            out.append((f"send, 1 thread, statements of {size // 1024} KB, no fsync: >= {goal} % of the limit",
                        f"{r['send_1_cpu_pct']:.0f} % by CPU time ({r['send_1_cpu_s'] * 1e3:.2f} ms/msg against "
                        f"{r['limit_ms']:.2f}); by wall clock {r['send_1_pct']:.0f} % ({fmt(r['send_1'])} msg/s); "
                        f"pipeline in-process {r['pipeline_1_cpu_pct']:.0f} %" +
                        (f"; reading and writing the files alone costs {r['io_floor_ms']:.2f} ms "
                         f"({r['io_floor_ms'] / r['limit_ms'] * 100:.0f} % of the limit), and send reaches "
                         f"{r['send_1_io_pct']:.0f} % of limit + that floor" if "io_floor_ms" in r else "") +
                        (f"; against the limit without the envelope's base64 ({r['limit_stitched_ms']:.2f} ms: "
                         f"sealpost runs it inside the AES-CBC chain) send reaches {r['send_1_stitched_pct']:.0f} %, "
                         f"the pipeline {r['pipeline_1_stitched_pct']:.0f} %" if "limit_stitched_ms" in r else ""),
                        r["send_1_cpu_pct"] >= goal))
    sts = [r for r in cases.values() if r["kind"] == "statement"]
    if sts:
        worst = min(sts, key=lambda r: r["send_2_vs_1"])
        out.append(("send, 2 threads >= 1.8x 1 thread (statements, every size; wall clock)",
                    ", ".join(f"{r['send_2_vs_1']:.2f}x at {r['size'] // 1024} KB" for r in sts) +
                    " (CPU per message -j1 / -j2: " +
                    ", ".join(f"{r['send_2_cpu_eff']:.2f}" for r in sts) +
                    f"; load average {', '.join(f'{x:.1f}' for x in s['loadavg'])} on 2 cores)",
                    worst["send_2_vs_1"] >= 1.8))
        big = max(sts, key=lambda r: r["size"])
        out.append((f"send, peak memory per worker a small multiple (<= 8x) of the message size "
                    f"({big['size'] // 1024} KB statements)",
                    f"{big['send_1_worker_kb'] / 1024:.1f} MB = {big['send_1_worker_x']:.1f}x (-j 1), "
                    f"{big['send_2_worker_kb'] / 1024:.1f} MB = {big['send_2_worker_x']:.1f}x per worker (-j 2)" +
                    (f"; live heap at the peak (massif) {s['live_heap']['live_kb'] / 1024:.1f} MB = "
                     f"{s['live_heap']['live_kb'] * 1024 / big['bytes']:.1f}x" if s.get("live_heap") else ""),
                    max(big["send_1_worker_x"], big["send_2_worker_x"]) <= 8))
    return out


def io_floor_cells(r):
    """The file system floor's two table cells (results from before it was measured have none)."""
    if "io_floor_ms" not in r:
        return "not measured | not measured"
    return (f"{r['io_floor_ms']:.2f} ({r['io_floor_ms'] / r['limit_ms'] * 100:.0f} %) | "
            f"{r['send_1_io_pct']:.0f} %")


def send_table(s):
    p = s["prim"]
    lines = ["### 1. Sign + encrypt against the cryptographic limit (RSA-2048 signer, one RSA-2048 recipient)\n",
             "Limit per message of S bytes, one thread = 1/sign + 1/public + S/sha256 + 1.35 S/aes + 2.35 S/base64, "
             "with this run's rates: `openssl speed rsa2048` "
             f"**{p['rsa_sign']:,.0f} signs/s**, **{p['rsa_public']:,.0f} public-key ops/s**; "
             f"`openssl speed -evp sha256 -bytes 16384` **{p['sha256_Bps'] / 1e6:,.0f} MB/s**; "
             f"`openssl speed -evp aes-256-cbc -bytes 16384` **{p['aes_Bps'] / 1e6:,.0f} MB/s**; base64 on a 4 MiB "
             f"buffer (`pipeline_bench --base64`): OpenSSL's EVP_EncodeBlock {p['base64_evp_Bps'] / 1e6:,.0f} MB/s, "
             f"sealpost's encoder {p['base64_sealpost_Bps'] / 1e6:,.0f} MB/s; the faster, "
             f"**{p['base64_Bps'] / 1e6:,.0f} MB/s**, sets the limit. Load average during the repetitions: "
             f"{', '.join(f'{x:.1f}' for x in s['loadavg'])} (2 cores, shared).\n",
             "`openssl speed` divides by user CPU time (its default), so the limit is CPU time per message; "
             "**% of limit** compares it with the CPU time (user + system, from wait4/getrusage) "
             "`send` or the pipeline spent per message, which other processes on the machine do not skew. "
             "The wall-clock % (messages/s x limit) is shown beside it.\n",
             "**file system floor** (`io_floor_bench`): the CPU that reading the input and writing and renaming "
             "an output of send's size costs on the same tmpfs with no sealpost code running, which the limit "
             "leaves out; **% of limit + floor** is (limit + floor) / send's CPU, the share of what the "
             "primitives and the file system together allow.\n",
             "The limit adds its terms as if each primitive ran after the other. sealpost encodes the envelope's "
             "base64 between the AES-CBC blocks (`sender/lib/aes_cbc_base64`), in the cycles CBC's chain of "
             "dependent rounds leaves idle, so that term (1.35 S/base64) no longer adds and the in-process "
             "pipeline can pass 100 %; each verdict also gives the share of the limit without it, the bound "
             "that remains.\n",
             "| message | size | limit ms/msg | send -j1 CPU ms/msg | **send -j1 % of limit** | file system floor ms/msg "
             "(% of limit) | send -j1 % of limit + floor | send -j1 msg/s (wall %) | "
             "send -j2 msg/s | send -j2 / -j1 (wall) | CPU/msg -j1 / -j2 | pipeline 1 thr % of limit (wall %) | "
             "pipeline 2 thr / 1 (wall) | peak RSS per worker -j1 | -j2 |",
             "|" + "---|" * 15]
    for r in s["cases"].values():
        lines.append(
            f"| {r['kind']} | {r['bytes'] / 1024:,.0f} KB | {r['limit_ms']:.2f} | {r['send_1_cpu_s'] * 1e3:.2f} | "
            f"**{r['send_1_cpu_pct']:.0f} %** | {io_floor_cells(r)} | {fmt(r['send_1'])} ({r['send_1_pct']:.0f} %) | "
            f"{fmt(r['send_2'])} | "
            f"{r['send_2_vs_1']:.2f}x | {r['send_2_cpu_eff']:.2f} | {r['pipeline_1_cpu_pct']:.0f} % "
            f"({r['pipeline_1_pct']:.0f} %) | {r['pipeline_2_vs_1']:.2f}x | "
            f"{r['send_1_worker_kb'] / 1024:.1f} MB ({r['send_1_worker_x']:.1f}x) | "
            f"{r['send_2_worker_kb'] / 1024:.1f} MB ({r['send_2_worker_x']:.1f}x) |")
    lines.append(f"\n`send`: `sealpost send -q --sign --encrypt always --no-fsync -j N` from inputs and to an "
                 f"outbox on {s['outbox_fs']} (tmpfs), whole process (start-up included), { {int(k): v for k, v in s['counts'].items()} } messages per size; "
                 f"pipeline: `pipeline_bench --files` (SendPipeline::process in-process, no I/O), "
                 f"{s['pipeline_seconds']} s per case. Statements: text + HTML + base64 PDF "
                 "(bench/gen_statement.py, deterministic). Peak RSS per worker: the process's peak RSS "
                 f"less its peak on one 2 KB message ({s['rss_base_kb'] / 1024:.1f} MB), divided by the "
                 "workers; in parentheses as a multiple of the message size.\n")
    return "\n".join(lines)


def send_plots(s, outdir):
    """throughput_vs_size.png: every figure as a % of the limit against the size."""
    dat = os.path.join(outdir, "send.dat")
    with open(dat, "w") as f:
        f.write("# size_kb send1_cpu% send1_wall% pipe1_cpu% send2_wall%/2\n")
        for kind in ("statement", "text"):
            for r in s["cases"].values():
                if r["kind"] == kind:
                    f.write(f"{r['bytes'] / 1024:.1f} {r['send_1_cpu_pct']:.2f} {r['send_1_pct']:.2f} "
                            f"{r['pipeline_1_cpu_pct']:.2f} {r['send_2_pct']:.2f}\n")
            f.write("\n\n")
    png = os.path.join(outdir, "throughput_vs_size.png")
    gp = f"""set terminal pngcairo size 900,560 noenhanced
set output '{png}'
set title 'sign + encrypt as % of the per-message limit (CPU time; wall clock dashed)'
set xlabel 'message size (KB)'
set ylabel '% of the limit'
set logscale x
set yrange [0:*]
set key outside right
set grid
plot '{dat}' i 0 u 1:2 w lp t 'send -j1, statements', '' i 0 u 1:3 w lp dt 2 t 'send -j1, statements, wall', \\
     '' i 0 u 1:4 w lp t 'pipeline 1 thr, statements', '' i 1 u 1:2 w lp t 'send -j1, text', \\
     '' i 1 u 1:4 w lp t 'pipeline 1 thr, text', 70 w l dt 2 t 'target 70 %', 60 w l dt 3 t 'target 60 % (10 KB)'
"""
    return [png] if run(["gnuplot"], input=gp, check=False).returncode == 0 else []


# ---------------------------------------------------------------- sections --

class Suite:
    def __init__(self, a):
        self.a = a
        self.bin = os.path.join(a.build_dir, "bin")
        self.sealpost = os.path.join(self.bin, "sealpost")
        self.cache = a.cache
        self.work = tempfile.mkdtemp(prefix="sealpost-bench.", dir=a.work_root)
        self.pki = os.path.join(self.cache, "pki")
        self.res = {"machine": machine_info(), "quick": a.quick, "runs": a.runs, "command": a.command}
        q = a.quick
        self.sizes = [2048, 10240] if q else [2048, 10240, 102400, 1048576]
        self.threads = [1, 2]

    def ensure_pki(self):
        os.makedirs(self.cache, exist_ok=True)
        run([os.path.join(ROOT, "tests/pki/make_pki.sh"), self.pki])

    # 1. sign + encrypt against the cryptographic limit (issue 14) -------------
    def send_section(self):
        """`sealpost send` (outbox on tmpfs, no fsync; -j 1 and -j 2) and the in-process
        pipeline, on realistic statements and one-part text, each as a share of the
        per-message limit the primitives allow (send_limit_s), all measured in this run."""
        a, pki = self.a, self.pki
        frm, to = "alice@example.com", "bob@example.com"
        keys, store = f"{pki}/keys", f"{pki}/store"
        sizes = [10240] if a.quick else [10240, 102400, 1048576]
        kinds = ["statement", "text"]
        count = {10240: 40, 102400: 20, 1048576: 8} if a.quick else {10240: 2000, 102400: 1000, 1048576: 200}
        seconds = 0.3 if a.quick else 1.0
        tmpfs = "/dev/shm" if os.access("/dev/shm", os.W_OK) else self.work
        outbox = tempfile.mkdtemp(prefix="sealpost-bench-outbox.", dir=tmpfs)
        sys.path.insert(0, BENCH)
        import gen_statement
        inputs = {}
        for kind in kinds:
            for size in sizes:
                d = os.path.join(self.cache, f"send-{kind}-{size}")
                inputs[(kind, size)] = gen_statement.write_dir(kind, size, count[size], d, frm, to)
        small = gen_statement.write_dir("text", 2048, 1, os.path.join(self.cache, "send-text-2048"), frm, to)
        # The inputs are read from tmpfs too, like the outbox is written to it:
        # the page cache of this VM's disk is reclaimed within minutes (DAMON),
        # and a cold 1 MB input then cost `send` 0.3 ms of the kernel's CPU in
        # readahead and the block layer, the disk's cost and not sealpost's.
        inputs_dir = tempfile.mkdtemp(prefix="sealpost-bench-inputs.", dir=tmpfs)
        for key, files in list(inputs.items()):
            d = os.path.join(inputs_dir, f"{key[0]}-{key[1]}")
            os.makedirs(d)
            inputs[key] = [shutil.copy(f, d) for f in files]
        send = [self.sealpost, "send", "-q", "--sign", "--encrypt", "always", "--store", store, "--keys", keys,
                "--out-dir", outbox, "--no-fsync"]
        pipe = [os.path.join(self.bin, "pipeline_bench"), "--keys", keys, "--store", store, "--from", frm,
                "--to", to, "--seconds", str(seconds), "--runs", "1"]
        reps = []
        try:
            for r in range(a.runs):
                log(f"send: repetition {r + 1}/{a.runs} (load average {os.getloadavg()[0]:.1f})")
                rep = {"loadavg": os.getloadavg()[0], "prim": send_primitives(self.bin, quick=a.quick), "cases": {}}
                # The process's own footprint: one small message.
                _, rep["rss_base_kb"], _ = run_rusage(send + small)
                for (kind, size), files in inputs.items():
                    c = {"bytes": statistics.mean(os.path.getsize(f) for f in files[:20])}
                    for j in (1, 2):
                        out = run_rusage(pipe + ["--files", files[0], "--threads", str(j)], capture=True)
                        pj = json.loads(out[0].strip().splitlines()[-1])
                        c[f"pipeline_{j}"], c[f"pipeline_{j}_cpu_s"] = pj["msgs_per_s"], pj["cpu_s_per_msg"]
                        c[f"pipeline_{j}_rss_kb"] = out[1]
                    for j in (1, 2):
                        shutil.rmtree(outbox)
                        os.makedirs(outbox)
                        t = time.monotonic()
                        _, rss, cpu = run_rusage(send + ["-j", str(j)] + files)
                        dt = time.monotonic() - t
                        n = len([f for f in os.listdir(outbox) if f.endswith(".eml")])
                        if n != len(files):
                            sys.exit(f"bench: send wrote {n} of {len(files)} messages")
                        c[f"send_{j}"] = len(files) / dt
                        c[f"send_{j}_rss_kb"] = rss
                        c[f"send_{j}_cpu_s"] = cpu / len(files)
                        if j == 1:
                            c.update(io_floor(self.bin, files, outbox, tmpfs))
                    rep["cases"][f"{kind}-{size}"] = c
                reps.append(rep)
            # The live heap at the peak (massif), 4 messages of the largest statement
            # less one small message's: deterministic, where RSS depends on the heap's holes.
            live = None
            if shutil.which("valgrind"):
                big = max(sizes)
                shutil.rmtree(outbox)
                os.makedirs(outbox)
                base = massif_peak_kb(send + ["-j", "1"] + small, self.work)
                peak = massif_peak_kb(send + ["-j", "1"] + inputs[("statement", big)][:4], self.work)
                live = {"size": big, "live_kb": max(0.0, peak - base), "base_kb": base}
            else:
                log("send: no valgrind: the live heap at the peak is not measured (scripts/bench installs it)")
        finally:
            shutil.rmtree(outbox, ignore_errors=True)
            shutil.rmtree(inputs_dir, ignore_errors=True)
        self.res["send"] = send_summary(reps, sizes, kinds, count, seconds, tmpfs)
        self.res["send"]["live_heap"] = live

    # 2. collector ------------------------------------------------------------
    def serve_config(self, store, port, smtp_port):
        cfg = os.path.join(self.work, "serve.ini")
        pki = self.pki
        with open(cfg, "w") as f:
            f.write(f"[serve]\nlisten = 127.0.0.1:{smtp_port}\nthreads = 2\n[admin]\nlisten = 127.0.0.1:0\n"
                    f"[store]\ndir = {store}\n[relay]\nout-dir = {self.work}/relay-out\n"
                    # what serve's SMTP relay does with the latency probe's
                    # messages: sign (alice) and encrypt (bob, in the store)
                    f"[sender]\nkeys-dir = {pki}/keys\nsign = opaque\nencrypt = always\n"
                    f"trusted-certs = {pki}/ca/bundle.crt\n"
                    f"[plugins]\nload = collector\n"
                    f"[collector]\nlisten = 127.0.0.1:{port}\ntoken = bench-token\n"
                    f"trusted-certs = {pki}/ca/bundle.crt\ndkim-keys = {pki}/dkim/keys.txt\n")
        return cfg

    def start_serve(self, store):
        port, smtp_port = free_port(), free_port()
        cfg = self.serve_config(store, port, smtp_port)
        # bob's certificate, for the SMTP relay's encryption (never a collected address)
        os.makedirs(store, exist_ok=True)
        for ext in (".crt", ".json"):
            src = os.path.join(self.pki, "store", "bob@example.com" + ext)
            if os.path.exists(src):
                shutil.copy(src, os.path.join(store, "bob@example.com" + ext))
        logf = open(os.path.join(self.work, "serve.log"), "a")
        proc = subprocess.Popen([self.sealpost, "serve", "-q", "--config", cfg], stdout=logf, stderr=logf)
        startup = wait_port(port, proc=proc)
        wait_port(smtp_port, proc=proc)
        self.smtp_port = smtp_port
        return proc, port, startup

    def wrk(self, port, batches_dir, nbatches, seconds, loop, rate=0, conns=8, threads=1, background=False):
        result = os.path.join(self.work, f"wrk-{port}-{time.monotonic_ns()}.json")
        env = dict(os.environ, BENCH_DIR=batches_dir, BENCH_BATCHES=str(nbatches), BENCH_THREADS=str(threads),
                   BENCH_TOKEN="bench-token", BENCH_LOOP="1" if loop else "0", BENCH_RATE=str(rate),
                   BENCH_RESULT=result)
        cmd = ["wrk", "-t", str(threads), "-c", str(conns), "-d", f"{seconds}s", "--timeout", "10s",
               "-s", os.path.join(BENCH, "webhook.lua"), f"http://127.0.0.1:{port}/"]
        if background:
            p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            return p, result
        run(cmd, env=env)
        return json.load(open(result))

    def smtp_reply_times(self, port, seconds, max_messages=100000):
        """Reply times of serve's SMTP listener for a 10 KB message, one client on
        one connection: from the end of DATA (the final ".") to the 250."""
        msg = make_message("alice@example.com", "bob@example.com", 10240).replace("\r\n.", "\r\n..")
        data = msg.encode() + b"\r\n.\r\n"
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        f = s.makefile("rb")

        def reply():
            while True:
                line = f.readline()
                if not line:
                    raise RuntimeError("SMTP connection closed")
                if line[3:4] != b"-":
                    return line

        reply()
        s.sendall(b"EHLO bench.example.com\r\n")
        reply()
        times = []
        t_end = time.monotonic() + seconds
        while time.monotonic() < t_end and len(times) < max_messages:
            s.sendall(b"MAIL FROM:<alice@example.com>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\n")
            for _ in range(3):
                line = reply()
            if not line.startswith(b"354"):
                raise RuntimeError(f"SMTP: DATA refused: {line!r}")
            s.sendall(data[:-5])
            t = time.monotonic()
            s.sendall(data[-5:])
            line = reply()
            times.append(time.monotonic() - t)
            if not line.startswith(b"250"):
                raise RuntimeError(f"SMTP: message refused: {line!r}")
        s.sendall(b"QUIT\r\n")
        s.close()
        times.sort()
        pct = lambda q: times[min(len(times) - 1, int(q * len(times)))] * 1e3
        return {"messages": len(times), "p50_ms": pct(0.50), "p99_ms": pct(0.99), "max_ms": times[-1] * 1e3}

    @staticmethod
    def cpu_s(pid):
        """user + system CPU seconds of the process (and its threads) so far."""
        f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")

    @staticmethod
    def rss_kb(pid):
        st = open(f"/proc/{pid}/status").read()
        return {k: int(re.search(rf"{k}:\s+(\d+)", st).group(1)) for k in ("VmRSS", "VmHWM")}

    def collect_section(self):
        a = self.a
        count, batch = (200, 10) if a.quick else (6000, 10)
        fixtures = os.path.join(self.cache, f"collect-{count}")
        log(f"collect: fixtures ({count} signed mails, cached in {fixtures})")
        run([PY_SYSTEM, os.path.join(BENCH, "gen_collect.py"), self.pki, fixtures, str(count), str(batch)])
        nb = len([f for f in os.listdir(fixtures) if f.startswith("batch-")])
        seconds = 1 if a.quick else 5
        lat_seconds = 2 if a.quick else 8
        reps = []
        for r in range(a.runs):
            log(f"collect: repetition {r + 1}/{a.runs}")
            rep = {"loadavg": float(open("/proc/loadavg").read().split()[0]),
                   "durable_writes_per_s": durable_write_loop(os.path.join(self.work, "fsync-loop"),
                                                              100 if a.quick else 600)}
            # (a) every message a new certificate: a fresh store, each batch posted once.
            # Each repetition has its own, all removed after the section: without
            # a journal ext4 skips every inode freed in the last 30 s one by one
            # when it allocates (recently_deleted()), so a store of 12,000 files
            # removed just before would make the next one's creates pay for it.
            store = os.path.join(self.work, f"collect-store-{r}")
            proc, port, startup = self.start_serve(store)
            try:
                cpu0 = self.cpu_s(proc.pid)
                w = self.wrk(port, fixtures, nb, seconds, loop=False)
                cpu_a = self.cpu_s(proc.pid) - cpu0
                stored = len([f for f in os.listdir(store) if f.endswith(".crt") and f.startswith("c")])
                rss = self.rss_kb(proc.pid)
            finally:
                stop(proc)
            # Each batch posted once: the work may end before -d; what was in
            # flight when wrk stopped is stored but never answered, so the rate
            # counts the certificates acknowledged (200) in the answered span.
            dur = w["active_us"] / 1e6
            acked = min(stored, w["answered"] * batch)
            rep["a"] = {"requests_per_s": w["requests"] / dur, "new_certs_per_s": acked / dur, "stored": stored,
                        "p50_ms": w["p50_us"] / 1e3, "p99_ms": w["p99_us"] / 1e3, "rss_mb": rss["VmHWM"] / 1024,
                        "errors": w["err_status"] + w["err_timeout"] + w["err_read"], "serve_startup_s": startup,
                        # serve's own CPU time per certificate: what the rate would be
                        # on two otherwise idle cores, were the disk not the bound
                        "cpu_ms_per_cert": cpu_a * 1e3 / max(1, stored)}
            # The durable-write loop again right after (a): the disk's rate in
            # the same minute; (a) is reported against the mean of both.
            rep["durable_writes_per_s_after"] = durable_write_loop(os.path.join(self.work, "fsync-loop"),
                                                                   100 if a.quick else 600)
            # (b) reposts only the batches (a) stored (less those possibly in
            # flight when it stopped), so every certificate is already current.
            nb_b = max(1, min(nb, stored // batch - 8))
            rep["b_batches"] = nb_b
            proc, port, _ = self.start_serve(store)
            try:
                # (c) first, collector idle: the SMTP listener's reply time.
                rep["smtp_idle"] = self.smtp_reply_times(self.smtp_port, lat_seconds)
                # (b) every message an already-current certificate, as fast as it goes.
                cpu0 = self.cpu_s(proc.pid)
                w = self.wrk(port, fixtures, nb_b, seconds, loop=True)
                cpu_b = self.cpu_s(proc.pid) - cpu0
                dur = w["duration_us"] / 1e6
                rep["b"] = {"requests_per_s": w["requests"] / dur, "msgs_per_s": w["requests"] * batch / dur,
                            "p50_ms": w["p50_us"] / 1e3, "p99_ms": w["p99_us"] / 1e3,
                            "errors": w["err_status"] + w["err_timeout"] + w["err_read"],
                            # serve's CPU time per message, and the rate two idle cores give at that cost
                            "cpu_ms_per_msg": cpu_b * 1e3 / max(1, w["requests"] * batch),
                            "msgs_per_cpu_s_x2": 2 * w["requests"] * batch / max(1e-9, cpu_b)}
                # (c) the collector saturated (the (b) load, as fast as it goes)
                # while the SMTP listener is probed.
                p, result = self.wrk(port, fixtures, nb_b, lat_seconds + 2, loop=True, background=True)
                time.sleep(1)
                rep["smtp_busy"] = self.smtp_reply_times(self.smtp_port, lat_seconds)
                p.wait()
                w = json.load(open(result))
                rep["smtp_busy"]["collector_msgs_per_s"] = w["requests"] * batch / (w["duration_us"] / 1e6)
                rep["smtp_busy"]["ratio_p99_vs_idle"] = rep["smtp_busy"]["p99_ms"] / rep["smtp_idle"]["p99_ms"]
                # (b) paced at 500 requests/s (5,000 messages/s in batches of 10): latency.
                w = self.wrk(port, fixtures, nb_b, seconds, loop=True, rate=500, conns=16)
                dur = w["duration_us"] / 1e6
                rep["b500"] = {"requests_per_s": w["requests"] / dur, "msgs_per_s": w["requests"] * batch / dur,
                               "p50_ms": w["p50_us"] / 1e3, "p99_ms": w["p99_us"] / 1e3,
                               "errors": w["err_status"] + w["err_timeout"] + w["err_read"]}
                rep["b"]["rss_mb"] = self.rss_kb(proc.pid)["VmHWM"] / 1024
            finally:
                stop(proc)
            ref = (rep["durable_writes_per_s"] + rep["durable_writes_per_s_after"]) / 2
            rep["a"]["ratio_vs_durable_write"] = rep["a"]["new_certs_per_s"] / ref
            log(f"collect: (a) {rep['a']['new_certs_per_s']:.0f} new certs/s ({rep['a']['ratio_vs_durable_write']:.2f}x "
                f"the durable-write loop's {ref:.0f}/s), (b) {rep['b']['msgs_per_s']:.0f} msgs/s, SMTP p99 "
                f"{rep['smtp_idle']['p99_ms']:.1f} ms idle, {rep['smtp_busy']['p99_ms']:.1f} ms with the collector "
                f"saturated, load {rep['loadavg']}")
            reps.append(rep)
        res = {"durable_writes_per_s": med([(r["durable_writes_per_s"] + r["durable_writes_per_s_after"]) / 2
                                            for r in reps]),
               "batch": batch, "fixtures": count, "seconds": seconds, "lat_seconds": lat_seconds,
               "loadavg": med([r["loadavg"] for r in reps])}
        res["b_batches"] = med([r["b_batches"] for r in reps])
        for case in ("a", "b", "b500", "smtp_idle", "smtp_busy"):
            res[case] = {k: med([r[case][k] for r in reps]) for k in reps[0][case]}
        res["runs"] = [{"a_new_certs_per_s": r["a"]["new_certs_per_s"], "a_cpu_ms_per_cert": r["a"]["cpu_ms_per_cert"],
                        "b_cpu_ms_per_msg": r["b"]["cpu_ms_per_msg"],
                        "a_ratio_vs_durable_write": r["a"]["ratio_vs_durable_write"],
                        "b_msgs_per_s": r["b"]["msgs_per_s"], "smtp_idle_p99_ms": r["smtp_idle"]["p99_ms"],
                        "smtp_busy_p99_ms": r["smtp_busy"]["p99_ms"],
                        "smtp_ratio": r["smtp_busy"]["ratio_p99_vs_idle"], "loadavg": r["loadavg"]} for r in reps]
        for r in range(a.runs):
            shutil.rmtree(os.path.join(self.work, f"collect-store-{r}"), ignore_errors=True)
        self.res["collect"] = res

    # 3. SMTP injection -------------------------------------------------------
    def smtp_section(self):
        a = self.a
        count = 300 if a.quick else 10000
        size = 10240
        frm, to = "alice@example.com", "bob@example.net"
        d, files = message_dir(self.work, frm, to, size, count)
        reps = []
        for r in range(a.runs):
            log(f"smtp: repetition {r + 1}/{a.runs}")
            port = free_port()
            sink = subprocess.Popen(["smtp-sink", "-u", "nobody", f"127.0.0.1:{port}", "256"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                wait_port(port, proc=sink)
                rep = {}
                for conns in (1, 4):
                    t = time.monotonic()
                    run(["smtp-source", "-s", str(conns), "-m", str(count), "-l", str(size), "-M", "localhost",
                         "-f", frm, "-t", to, f"127.0.0.1:{port}"])
                    rep[f"smtp_source_{conns}"] = count / (time.monotonic() - t)
                    t = time.monotonic()
                    run([self.sealpost, "send", "-q", "--encrypt", "never", "--store", f"{self.pki}/store",
                         "--smtp", f"smtp://127.0.0.1:{port}", "--starttls", "off", "--helo", "localhost",
                         "--connections", str(conns), "-j", str(conns)] + files)
                    rep[f"send_{conns}"] = count / (time.monotonic() - t)
                    rep[f"ratio_{conns}"] = rep[f"send_{conns}"] / rep[f"smtp_source_{conns}"]
            finally:
                stop(sink)
            reps.append(rep)
        self.res["smtp"] = {k: med([r[k] for r in reps]) for k in reps[0]}
        self.res["smtp"].update({"messages": count, "size": size})

    # 4. store scale ----------------------------------------------------------
    def store_section(self):
        a = self.a
        counts = [2000] if a.quick else [100000, 1000000]
        cert = f"{self.pki}/store/bob@example.com.crt"
        res = {}
        for n in counts:
            d = os.path.join(self.cache, f"store-{n}")
            log(f"store: {n} certificates in {d} (generated once)")
            run([sys.executable, os.path.join(BENCH, "gen_store.py"), cert, d, str(n)])
            sample = 1000 if a.quick else 20000
            reps = []
            for r in range(a.runs):
                out = run([os.path.join(self.bin, "store_lookup_bench"), "--store", d, "--count", str(n),
                           "--sample", str(sample), "--rounds", "5" if a.quick else "10", "--list", "1",
                           "--seed", str(r + 1)]).stdout
                j = json.loads(out)
                # Whole process: `sealpost send` of one message encrypted from this store.
                msgdir = os.path.join(self.work, f"store-msg-{n}")
                os.makedirs(msgdir, exist_ok=True)
                m = os.path.join(msgdir, "one.eml")
                with open(m, "w", newline="") as f:
                    f.write(make_message("alice@example.com", f"r{n // 2:07d}@bench.example", 10240))
                outbox = os.path.join(self.work, "store-outbox")
                shutil.rmtree(outbox, ignore_errors=True)
                os.makedirs(outbox)
                t = time.monotonic()
                run([self.sealpost, "send", "-q", "--encrypt", "always", "--store", d, "--out-dir", outbox, m])
                j["send_one_s"] = time.monotonic() - t
                t = time.monotonic()
                run([self.sealpost, "send", "-q", "--encrypt", "always", "--store", f"{self.pki}/store",
                     "--out-dir", outbox, make_small(msgdir)])
                j["send_one_small_store_s"] = time.monotonic() - t
                j["ratio_warm_vs_stat"] = j["warm_us"] / j["stat_us"]
                j["ratio_send_one_vs_small_store"] = j["send_one_s"] / j["send_one_small_store_s"]
                reps.append(j)
            res[str(n)] = {k: med([r[k] for r in reps]) for k in reps[0]}
        self.res["store"] = res

    # 5. postgres store (issue 11) --------------------------------------------
    # Its own server, started here and stopped at the end; a fresh database
    # per repetition. Each figure beside the files backend's, same run.
    def pg_psql(self, pgdir, db, sql):
        return run(["psql", "-X", "-At", "-h", pgdir, "-U", "sealpost", "-d", db, "-c", sql]).stdout.strip()

    def pg_webhook_new_certs(self, store_ini, count_stored, fixtures, nb, seconds, batch):
        """(a) of the collect section on one backend: every message a new
        certificate, each batch posted once; new certificates stored/s."""
        port, smtp_port = free_port(), free_port()
        cfg = os.path.join(self.work, "pg-serve.ini")
        with open(cfg, "w") as f:
            f.write(f"[admin]\nlisten =\n[serve]\nlisten = 127.0.0.1:{smtp_port}\nthreads = 2\n{store_ini}"
                    f"[relay]\nout-dir = {self.work}/pg-relay-out\n[plugins]\nload = collector\n"
                    f"[collector]\nlisten = 127.0.0.1:{port}\ntoken = bench-token\n"
                    f"trusted-certs = {self.pki}/ca/bundle.crt\ndkim-keys = {self.pki}/dkim/keys.txt\n")
        logf = open(os.path.join(self.work, "pg-serve.log"), "a")
        proc = subprocess.Popen([self.sealpost, "serve", "-q", "--config", cfg], stdout=logf, stderr=logf)
        try:
            wait_port(port, proc=proc)
            w = self.wrk(port, fixtures, nb, seconds, loop=False)
            stored = count_stored()
        finally:
            stop(proc)
        dur = w["active_us"] / 1e6  # each batch posted once: see collect_section's (a)
        return {"new_certs_per_s": min(stored, w["answered"] * batch) / dur, "stored": stored, "p50_ms": w["p50_us"] / 1e3,
                "p99_ms": w["p99_us"] / 1e3, "errors": w["err_status"] + w["err_timeout"] + w["err_read"]}

    def pg_section(self):
        a = self.a
        n = 2000 if a.quick else 20000
        count, batch = (200, 10) if a.quick else (6000, 10)
        seconds = 1 if a.quick else 5
        puts = 30 if a.quick else 300
        files_store = os.path.join(self.cache, f"store-{n}")
        log(f"pg: {n} certificates in {files_store} (generated once)")
        run([sys.executable, os.path.join(BENCH, "gen_store.py"), f"{self.pki}/store/bob@example.com.crt",
             files_store, str(n)])
        fixtures = os.path.join(self.cache, f"collect-{count}")
        run([PY_SYSTEM, os.path.join(BENCH, "gen_collect.py"), self.pki, fixtures, str(count), str(batch)])
        nb = len([f for f in os.listdir(fixtures) if f.startswith("batch-")])
        pgdir = f"/tmp/sealpost-bench-pg-{os.getpid()}"
        server = os.path.join(ROOT, "tests/pg/pg_server.sh")
        log(f"pg: PostgreSQL 15 in {pgdir}")
        t = time.monotonic()
        # Durable commits, as in production (the tests' server runs without fsync).
        run([server, "start", pgdir], env=dict(os.environ, SEALPOST_PG_FSYNC="on"))
        started_s = time.monotonic() - t
        reps = []
        try:
            for r in range(a.runs):
                log(f"pg: repetition {r + 1}/{a.runs}")
                rep = {}
                db = f"bench_{r}"
                self.pg_psql(pgdir, "postgres", f"DROP DATABASE IF EXISTS {db}")
                self.pg_psql(pgdir, "postgres", f"CREATE DATABASE {db}")
                url = f"host={pgdir} user=sealpost dbname={db}"
                run([self.sealpost, "store", "init", "--url", url])
                t = time.monotonic()
                run([self.sealpost, "store", "migrate", "--from", f"files:{files_store}", "--to", f"postgres:{url}"])
                rep["migrate_per_s"] = n / (time.monotonic() - t)
                # Lookups, both backends in one process, the same addresses.
                j = json.loads(run([os.path.join(self.bin, "pg_store_bench"), "--mode", "lookups", "--url", url,
                                    "--files", files_store, "--count", str(n), "--sample", str(min(n, 2000)),
                                    "--rounds", "5" if a.quick else "20", "--seed", str(r + 1)]).stdout)
                rep.update(j)
                rep["ratio_pg_warm_vs_files"] = j["pg_warm_us"] / j["files_warm_us"]
                # The time from a put on one node to its use on the other.
                j = json.loads(run([os.path.join(self.bin, "pg_store_bench"), "--mode", "propagation",
                                    "--url", url, "--cert", f"{self.pki}/store/bob@example.com.crt",
                                    "--puts", str(puts)]).stdout)
                rep.update(j)
                # New certificates through the webhook: files, then postgres (fresh stores).
                fstore = os.path.join(self.work, "pg-files-store")
                shutil.rmtree(fstore, ignore_errors=True)
                rep["files_webhook"] = self.pg_webhook_new_certs(
                    f"[store]\ndir = {fstore}\n",
                    lambda: len([f for f in os.listdir(fstore) if f.endswith(".crt")]), fixtures, nb, seconds, batch)
                wdb = f"bench_w{r}"
                self.pg_psql(pgdir, "postgres", f"DROP DATABASE IF EXISTS {wdb}")
                self.pg_psql(pgdir, "postgres", f"CREATE DATABASE {wdb}")
                rep["pg_webhook"] = self.pg_webhook_new_certs(
                    f"[store]\nbackend = postgres\nurl = host={pgdir} user=sealpost dbname={wdb}\n"
                    f"create-schema = yes\n",
                    lambda: int(self.pg_psql(pgdir, wdb, "SELECT count(*) FROM sealpost_certificates "
                                                         "WHERE status = 'current'")), fixtures, nb, seconds, batch)
                rep["ratio_pg_webhook_vs_files"] = (rep["pg_webhook"]["new_certs_per_s"] /
                                                    max(rep["files_webhook"]["new_certs_per_s"], 1e-9))
                shutil.rmtree(fstore, ignore_errors=True)
                reps.append(rep)
        finally:
            run([server, "stop", pgdir], check=False)
        res = {"certificates": n, "puts": puts, "seconds": seconds, "fixtures": count, "server_start_s": started_s}
        for k, v in reps[0].items():
            if isinstance(v, dict):
                res[k] = {kk: med([r[k][kk] for r in reps]) for kk in v}
            else:
                res[k] = med([r[k] for r in reps])
        self.res["pg"] = res


def make_small(msgdir):
    m = os.path.join(msgdir, "small.eml")
    with open(m, "w", newline="") as f:
        f.write(make_message("alice@example.com", "bob@example.com", 10240))
    return m


# ------------------------------------------------------------------- report --

def fmt(x, nd=0):
    if x is None:
        return "n/a"
    if isinstance(x, float) and nd == 0 and abs(x) < 10:
        return f"{x:.2f}"
    return f"{x:,.{nd}f}"


def verdicts(res):
    """(target, figure, met?) for each target of issue 6."""
    out = []
    s = res.get("send")
    if s and "cases" in s:
        out += send_verdicts(s)
    c = res.get("collect")
    if c:
        out.append(("Collector (a) >= 1,500 new certificates stored/s (batches of 10, durable before the 200)",
                    f"{c['a']['new_certs_per_s']:,.0f}/s ({c['a']['ratio_vs_durable_write']:.2f}x the "
                    f"durable-write loop's {c['durable_writes_per_s']:,.0f} writes/s in the same run)",
                    c["a"]["new_certs_per_s"] >= 1500))
        cpu_rate = c["b"].get("msgs_per_cpu_s_x2")
        out.append(("Collector (b) already current >= 4,400 messages/s (2x the 2,200/s before issue 14)",
                    f"{c['b']['msgs_per_s']:,.0f} messages/s measured at load {c['loadavg']:.1f}"
                    + (f"; serve's CPU cost {c['b']['cpu_ms_per_msg']:.2f} ms/message = {cpu_rate:,.0f}/s on two "
                       f"idle cores" if cpu_rate else ""), c["b"]["msgs_per_s"] >= 4400))
        out.append(("Collector (b) p99 < 20 ms at 500 requests/s",
                    f"p99 {c['b500']['p99_ms']:.1f} ms at {c['b500']['requests_per_s']:.0f} requests/s",
                    c["b500"]["p99_ms"] < 20 and c["b500"]["requests_per_s"] >= 450))
        if "smtp_busy" in c:
            i, b = c["smtp_idle"], c["smtp_busy"]
            out.append(("SMTP listener p99 reply (10 KB) with the collector saturated <= 2x idle",
                        f"{b['p99_ms']:.1f} ms saturated ({b['collector_msgs_per_s']:,.0f} collector msgs/s) vs "
                        f"{i['p99_ms']:.1f} ms idle: {b['ratio_p99_vs_idle']:.2f}x",
                        b["ratio_p99_vs_idle"] <= 2))
        rss = max(c["a"]["rss_mb"], c["b"]["rss_mb"])
        out.append(("Collector RSS < 200 MB under load", f"{rss:.0f} MB peak", rss < 200))
    m = res.get("smtp")
    if m:
        out.append(("SMTP, 4 connections, >= 80 % of smtp-source", f"{m['ratio_4'] * 100:.0f} %",
                    m["ratio_4"] >= 0.8))
    st = res.get("store")
    if st:
        big = st[max(st, key=int)]
        n = int(max(st, key=int))
        # The steady state: an indexed address and a missing one. The first
        # lookup of an address in a process (read + PEM parse) is shown too.
        out.append((f"Store lookup < 10 us at {n:,}", f"{big['warm_us']:.1f} us indexed, {big['missing_us']:.1f} us "
                    f"missing ({1e6 / big['warm_us']:,.0f} lookups/s); first touch of an address "
                    f"{big['cold_us']:.0f} us, once per process", big["warm_us"] < 10 and big["missing_us"] < 10))
        start = big["construct_us"] / 1e6 + big["first_lookup_us"] / 1e6
        out.append((f"Store start-up < 2 s at {n:,}", f"{start * 1e3:.2f} ms in-process; `send` of one message "
                    f"{big['send_one_s']:.2f} s", start < 2 and big["send_one_s"] < 2))
    out += pg_verdicts(res)
    return out


def pg_verdicts(res):
    """The targets of issue 11 (the pg section)."""
    p = res.get("pg")
    if not p:
        return []
    fw, pw = p["files_webhook"], p["pg_webhook"]
    return [
        ("postgres lookups with a warm index within 2x of the files backend",
         f"{p['pg_warm_us']:.2f} us vs {p['files_warm_us']:.2f} us ({p['ratio_pg_warm_vs_files']:.2f}x; "
         f"{1e6 / p['pg_warm_us']:,.0f} vs {1e6 / p['files_warm_us']:,.0f} lookups/s)",
         p["ratio_pg_warm_vs_files"] <= 2),
        ("postgres new certificates/s through the webhook >= the files backend's",
         f"{pw['new_certs_per_s']:,.0f}/s vs {fw['new_certs_per_s']:,.0f}/s "
         f"({p['ratio_pg_webhook_vs_files']:.2f}x)", p["ratio_pg_webhook_vs_files"] >= 1),
        ("put on one node to its use on another < 50 ms p99 (loopback)",
         f"p99 {p['seen_p99_ms']:.2f} ms, p50 {p['seen_p50_ms']:.2f} ms over {p['puts']:.0f} puts",
         p["seen_p99_ms"] < 50),
    ]


def pg_table(res):
    p = res.get("pg")
    if not p:
        return ""
    fw, pw = p["files_webhook"], p["pg_webhook"]
    return "\n".join([
        f"### 5. Certificate store on PostgreSQL (a PostgreSQL 15 server of the run's own, unix socket)\n",
        f"{p['certificates']:,.0f} certificates, copied from a files store by `sealpost store migrate` "
        f"({p['migrate_per_s']:,.0f} certificates/s). Both backends measured in one process over the same "
        "random addresses, page cache and database cache warm.\n",
        "| backend | construct | lookup, first | lookup, indexed | lookups/s indexed | lookup, missing (remembered) |",
        "|---|---|---|---|---|---|",
        f"| files | {p['files_construct_us']:.0f} us | {p['files_cold_us']:.1f} us | {p['files_warm_us']:.2f} us | "
        f"{1e6 / p['files_warm_us']:,.0f} | {p['files_missing_us']:.2f} us |",
        f"| postgres | {p['pg_construct_us']:.0f} us | {p['pg_cold_us']:.1f} us | {p['pg_warm_us']:.2f} us | "
        f"{1e6 / p['pg_warm_us']:,.0f} | {p['pg_missing_us']:.2f} us |",
        "",
        f"Webhook, every message a new certificate (batches of 10 posted once, {p['seconds']:.0f} s, wrk):\n",
        "| backend | new certs/s | p50 ms | p99 ms | errors |",
        "|---|---|---|---|---|",
        f"| files | {fmt(fw['new_certs_per_s'])} | {fw['p50_ms']:.1f} | {fw['p99_ms']:.1f} | {fw['errors']:.0f} |",
        f"| postgres | {fmt(pw['new_certs_per_s'])} | {pw['p50_ms']:.1f} | {pw['p99_ms']:.1f} | {pw['errors']:.0f} |",
        "",
        f"Put on node A to a lookup on node B that finds it (two store objects, each with its own connections "
        f"and LISTEN connection; {p['puts']:.0f} new addresses): p50 {p['seen_p50_ms']:.2f} ms, "
        f"p99 {p['seen_p99_ms']:.2f} ms, max {p['seen_max_ms']:.2f} ms; the put itself p50 {p['put_p50_ms']:.2f} ms, "
        f"p99 {p['put_p99_ms']:.2f} ms.\n",
    ])


def table(res):
    lines = []
    s = res.get("send")
    if s and "cases" in s:
        lines.append(send_table(s))
    c = res.get("collect")
    if c:
        lines.append("### 2. Collector over HTTP (`sealpost serve`, collector plugin, wrk on loopback)\n")
        lines.append(f"Reference: durable atomic file write loop (write, fsync, rename, fsync dir) on the same "
                     f"disk = **{c['durable_writes_per_s']:,.0f} writes/s**. Batches of {c['batch']} DKIM- and "
                     f"S/MIME-signed messages; {c['seconds']} s per case.\n")
        lines.append("| case | requests/s | messages/s | new certs/s | p50 ms | p99 ms | peak RSS MB | errors |")
        lines.append("|---|---|---|---|---|---|---|---|")
        A, B, P = c["a"], c["b"], c["b500"]
        lines.append(f"| (a) new certificate each | {fmt(A['requests_per_s'], 1)} | "
                     f"{fmt(A['requests_per_s'] * c['batch'])} | {fmt(A['new_certs_per_s'])} "
                     f"({A['ratio_vs_durable_write']:.2f}x ref) | {A['p50_ms']:.1f} | {A['p99_ms']:.1f} | "
                     f"{A['rss_mb']:.0f} | {A['errors']:.0f} |")
        lines.append(f"| (b) already current, max | {fmt(B['requests_per_s'], 1)} | {fmt(B['msgs_per_s'])} | - | "
                     f"{B['p50_ms']:.1f} | {B['p99_ms']:.1f} | {B['rss_mb']:.0f} | {B['errors']:.0f} |")
        lines.append(f"| (b) paced at 500 req/s | {fmt(P['requests_per_s'], 1)} | {fmt(P['msgs_per_s'])} | - | "
                     f"{P['p50_ms']:.1f} | {P['p99_ms']:.1f} | - | {P['errors']:.0f} |")
        lines.append("")
        if "smtp_busy" in c:
            I, Bz = c["smtp_idle"], c["smtp_busy"]
            lines.append(f"SMTP listener of the same `serve` (one client, one connection, 10 KB messages signed "
                         f"and encrypted to the outbox; reply time from the final \".\" to the 250, "
                         f"{c['lat_seconds']} s each):\n")
            lines.append("| collector | SMTP messages | p50 ms | p99 ms | max ms | p99 / idle p99 | collector msgs/s |")
            lines.append("|---|---|---|---|---|---|---|")
            lines.append(f"| idle | {I['messages']:.0f} | {I['p50_ms']:.1f} | {I['p99_ms']:.1f} | {I['max_ms']:.1f} "
                         f"| 1.00x | 0 |")
            lines.append(f"| saturated ((b) load, max rate) | {Bz['messages']:.0f} | {Bz['p50_ms']:.1f} | "
                         f"{Bz['p99_ms']:.1f} | {Bz['max_ms']:.1f} | {Bz['ratio_p99_vs_idle']:.2f}x | "
                         f"{fmt(Bz['collector_msgs_per_s'])} |")
            lines.append("")
        if c.get("runs"):
            lines.append(f"Per repetition (median above; load average {c['loadavg']:.1f} at the start, median):\n")
            lines.append("| run | (a) new certs/s | (a) / durable-write loop | (a) serve CPU ms/cert | (b) msgs/s | "
                         "(b) serve CPU ms/msg | SMTP p99 idle ms | SMTP p99 saturated ms | ratio | load avg |")
            lines.append("|---|---|---|---|---|---|---|---|---|---|")
            for i_, r_ in enumerate(c["runs"]):
                lines.append(f"| {i_ + 1} | {fmt(r_['a_new_certs_per_s'])} | {r_['a_ratio_vs_durable_write']:.2f}x | "
                             f"{r_.get('a_cpu_ms_per_cert', float('nan')):.2f} | "
                             f"{fmt(r_['b_msgs_per_s'])} | {r_.get('b_cpu_ms_per_msg', float('nan')):.2f} | "
                             f"{r_['smtp_idle_p99_ms']:.1f} | {r_['smtp_busy_p99_ms']:.1f} | "
                             f"{r_['smtp_ratio']:.2f}x | {r_['loadavg']:.1f} |")
            lines.append("")
    m = res.get("smtp")
    if m:
        lines.append(f"### 3. SMTP injection ({m['messages']:,} messages of {m['size'] // 1024} KB into "
                     "Postfix smtp-sink on loopback)\n")
        lines.append("| connections | smtp-source msgs/s | sealpost send msgs/s | send / smtp-source |")
        lines.append("|---|---|---|---|")
        for c_ in (1, 4):
            lines.append(f"| {c_} | {fmt(m[f'smtp_source_{c_}'])} | {fmt(m[f'send_{c_}'])} | "
                         f"{m[f'ratio_{c_}'] * 100:.0f} % |")
        lines.append("")
    st = res.get("store")
    if st:
        lines.append("### 4. Certificate store scale\n")
        lines.append("| certificates | construct | first lookup | lookup, indexed | lookup, first touch | "
                     "lookup, missing | bare stat() (ref) | indexed / stat | `certs list` read | "
                     "`send` 1 msg | `send` 1 msg, 6-cert store |")
        lines.append("|" + "---|" * 11)
        for n, r in st.items():
            lines.append(f"| {int(n):,} | {r['construct_us']:.0f} us | {r['first_lookup_us']:.0f} us | "
                         f"{r['warm_us']:.2f} us | {r['cold_us']:.1f} us | {r['missing_us']:.2f} us | "
                         f"{r['stat_us']:.2f} us | {r['ratio_warm_vs_stat']:.2f}x | {r['list_s']:.2f} s | "
                         f"{r['send_one_s'] * 1e3:.0f} ms | {r['send_one_small_store_s'] * 1e3:.0f} ms |")
        lines.append("\nLookups/s = 1 / the per-lookup time. 'Indexed': an address already looked up once "
                     "(one stat() plus the index); 'first touch': the first lookup of an address in this process "
                     "(stat, read, parse the PEM); page cache warm in both.\n")
    lines.append(pg_table(res))
    return "\n".join(lines)


def plots(res, outdir):
    if not shutil.which("gnuplot"):
        log("gnuplot not found: no plots")
        return []
    made = []
    s = res.get("send")
    if s and "cases" in s:
        made += send_plots(s, outdir)
    return made


def write_report(res, outdir, md_path, pngs):
    m = res["machine"]
    v = verdicts(res)
    rel = lambda p: os.path.relpath(p, os.path.dirname(md_path))
    parts = ["# sealpost benchmarks\n",
             "Generated by `scripts/bench` (bench/run.py); do not edit by hand: the analysis comes from "
             "bench/ANALYSIS.md. Every figure is the median of "
             f"{res['runs']} run(s); every ratio is taken against a reference measured in the same run.\n",
             f"- Reproduce: `{res['command']}`",
             f"- Machine: {m['cores']} cores, {m['cpu']}, {m['memory']}, {m['os']}, kernel {m['kernel']}, "
             f"{m['openssl']}, filesystem {m['filesystem']}",
             f"- Date: {m['date']}; load average at start {' '.join(m['loadavg_at_start'])} "
             "(a shared machine: compare ratios, not absolute rates)" +
             "".join(f"\n- Section `{k}`: from the run of {d} (not re-run by `--only`)"
                     for k, d in res.get("carried_over", {}).items()) + "\n",
             *[f"- Section(s) {', '.join(p['sections'])} re-run on {p['date']} by `{p['command']}`, load average at "
               f"start {' '.join(p['loadavg_at_start'])}" for p in res.get("partial_runs", [])],
             "",
             "## Targets\n", "| target | measured | verdict |", "|---|---|---|"]
    for t, fig, ok in v:
        parts.append(f"| {t} | {fig} | {'met' if ok else '**missed**'} |")
    parts += ["", "## Results\n", table(res)]
    if pngs:
        parts.append("## Plots\n")
        for p in pngs:
            parts.append(f"![{os.path.basename(p)}]({rel(p)})\n")
    analysis = os.path.join(BENCH, "ANALYSIS.md")
    if os.path.exists(analysis) and not res["quick"]:
        parts += ["", open(analysis).read()]
    with open(md_path, "w") as f:
        f.write("\n".join(parts) + "\n")
    return v


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--quick", action="store_true", help="tiny sizes, one run (a smoke test)")
    ap.add_argument("--runs", type=int, default=None, help="repetitions (default 3, --quick 1)")
    ap.add_argument("--only", default="send,collect,smtp,store,pg", help="comma-separated sections")
    ap.add_argument("--cache", default=os.environ.get("SEALPOST_BENCH_CACHE", "/var/cache/sealpost-bench"
                                                      if os.access("/var/cache", os.W_OK) else
                                                      os.path.expanduser("~/.cache/sealpost-bench")))
    ap.add_argument("--out", default=None, help="directory for results.json and plots "
                    "(default bench/results; --quick: BUILD_DIR/bench-quick)")
    ap.add_argument("--md", default=None, help="report file (default BENCHMARKS.md; --quick: in --out)")
    ap.add_argument("--work-root", default=None)
    ap.add_argument("--command", default="scripts/bench")
    ap.add_argument("--report-only", action="store_true", help="rewrite the report from --out/results.json")
    ap.add_argument("--update", action="store_true", help="with --only: keep the other sections' figures from "
                    "--out/results.json (the report says which sections ran when)")
    a = ap.parse_args()
    a.build_dir = os.path.abspath(a.build_dir)
    if a.runs is None:
        a.runs = 1 if a.quick else 3
    if a.out is None:
        a.out = os.path.join(a.build_dir, "bench-quick") if a.quick else os.path.join(BENCH, "results")
    if a.md is None:
        a.md = os.path.join(a.out, "BENCHMARKS.md") if a.quick else os.path.join(ROOT, "BENCHMARKS.md")
    os.makedirs(a.out, exist_ok=True)
    if a.report_only:
        res = json.load(open(os.path.join(a.out, "results.json")))
        write_report(res, a.out, a.md, plots(res, a.out))
        print(f"Report: {a.md}")
        return
    suite = Suite(a)
    t0 = time.monotonic()
    try:
        suite.ensure_pki()
        for section in a.only.split(","):
            getattr(suite, f"{section}_section")()
    finally:
        shutil.rmtree(suite.work, ignore_errors=True)
    suite.res["elapsed_s"] = time.monotonic() - t0
    if a.update:
        # The sections run now replace theirs in the previous results.
        base = json.load(open(os.path.join(a.out, "results.json")))
        ran = a.only.split(",")
        base.update({k: suite.res[k] for k in ran if k in suite.res})
        for k in ran:  # re-run now: no longer carried over from an older run
            base.get("carried_over", {}).pop(k, None)
        base.setdefault("partial_runs", []).append({"sections": ran, "command": a.command,
                                                    "date": suite.res["machine"]["date"],
                                                    "loadavg_at_start": suite.res["machine"]["loadavg_at_start"]})
        suite.res = base
    # --only: the sections not run keep their figures from the previous full report.
    prev_path = os.path.join(a.out, "results.json")
    if not a.quick and os.path.exists(prev_path):
        prev = json.load(open(prev_path))
        for sec in ("send", "collect", "smtp", "store", "pg"):
            if sec not in suite.res and sec in prev:
                suite.res[sec] = prev[sec]
                suite.res.setdefault("carried_over", {})[sec] = \
                    prev.get("carried_over", {}).get(sec) or prev["machine"]["date"]
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump(suite.res, f, indent=1)
    pngs = plots(suite.res, a.out)
    v = write_report(suite.res, a.out, a.md, pngs)
    print(table(suite.res))
    print("\nTargets:")
    for t, fig, ok in v:
        print(f"  [{'met' if ok else 'MISSED'}] {t}: {fig}")
    print(f"\nReport: {a.md}  ({suite.res['elapsed_s']:.0f} s)")


if __name__ == "__main__":
    main()

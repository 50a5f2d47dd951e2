#!/usr/bin/env bash
# CGI requests answered while slow bodies trickle: SLOW connections each
# send `POST /cgi-bin/slow.sh` with `Content-Length: 1048576` and then 1 KiB
# every TRICKLE seconds, while one client asks for `GET /cgi-bin/fast.sh`
# one request after the other for RUN seconds. Prints how many of those
# were answered 200 and 503, and what became of the slow bodies. One
# worker, default --cgi-max-procs (32 per core). About RUN + 5 s.
#
#   bash ci/bench-cgi-slow-bodies.sh [path/to/h1serve ...]
#   SLOW=64 TRICKLE=20 RUN=40 bash ci/bench-cgi-slow-bodies.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bins=("$@")
if [ ${#bins[@]} -eq 0 ]; then
    cargo build --release -q -p h1serve
    bins=(target/release/h1serve)
fi
exec python3 - "${bins[@]}" <<'PY'
import os, socket, subprocess, sys, tempfile, threading, time

SLOW = int(os.environ.get("SLOW", "64"))
TRICKLE = float(os.environ.get("TRICKLE", "20"))
RUN = float(os.environ.get("RUN", "40"))

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def status_of(raw, port):
    c = socket.create_connection(("127.0.0.1", port), timeout=5)
    c.sendall(raw)
    buf = b""
    while b"\r\n" not in buf:
        chunk = c.recv(4096)
        if not chunk:
            break
        buf += chunk
    c.close()
    return int(buf.split(b" ", 2)[1]) if buf.startswith(b"HTTP/1.1 ") else 0

def run(bin):
    base = tempfile.mkdtemp(prefix="h1serve-slow-bodies-")
    cgi = os.path.join(base, "cgi"); os.makedirs(cgi)
    for name, body in [("fast.sh", "printf 'Content-Type: text/plain\\n\\nfast\\n'"),
                       ("slow.sh", "wc -c; printf 'Content-Type: text/plain\\n\\nslow\\n'")]:
        p = os.path.join(cgi, name)
        with open(p, "w") as f:
            f.write("#!/bin/sh\n" + body + "\n")
        os.chmod(p, 0o755)
    port = free_port()
    server = subprocess.Popen([bin, "--listen", f"127.0.0.1:{port}", "--workers", "1",
                               "--cgi-dir", cgi, "--max-body", "2m"], stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close(); break
        except OSError:
            time.sleep(0.05)
    slow_fate = {}
    stop = time.time() + RUN
    def trickle(n):
        c = socket.create_connection(("127.0.0.1", port), timeout=1)
        c.sendall(b"POST /cgi-bin/slow.sh HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n")
        started = time.time()
        next_at = started
        while time.time() < stop:
            if time.time() >= next_at:
                try:
                    c.sendall(b"x" * 1024)
                except OSError:
                    pass
                next_at += TRICKLE
            try:
                got = c.recv(4096)
                if got:
                    slow_fate[n] = (got.split(b" ", 2)[1].decode(), time.time() - started)
                    break
            except socket.timeout:
                pass
            except OSError:
                slow_fate[n] = ("reset", time.time() - started); break
        c.close()
    threads = [threading.Thread(target=trickle, args=(n,)) for n in range(SLOW)]
    for t in threads: t.start()
    time.sleep(1)
    counts = {}
    while time.time() < stop:
        s = status_of(b"GET /cgi-bin/fast.sh HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", port)
        counts[s] = counts.get(s, 0) + 1
        time.sleep(0.05)
    for t in threads: t.join()
    server.terminate(); server.wait(timeout=15)
    fates = {}
    for st, at in slow_fate.values():
        fates.setdefault(st, []).append(at)
    fate = "; ".join(f"{len(v)} answered {k} after {min(v):.0f}-{max(v):.0f} s" for k, v in sorted(fates.items()))
    still = SLOW - len(slow_fate)
    print(f"{bin}: while {SLOW} bodies trickled 1 KiB every {TRICKLE:g} s for {RUN:g} s, "
          f"GET /cgi-bin/fast.sh: {counts.get(200, 0)} x 200, {counts.get(503, 0)} x 503"
          + "".join(f", {n} x {s}" for s, n in sorted(counts.items()) if s not in (200, 503))
          + f"; slow bodies: {fate or 'none answered'}" + (f"; {still} still trickling at the end" if still else ""))

for b in sys.argv[1:]:
    run(b)
PY

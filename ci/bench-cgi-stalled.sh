#!/usr/bin/env bash
# Memory per stalled CGI request body (issue 17, fault 1): CLIENTS
# connections each send all but the last byte of a BODY-byte POST to a CGI
# script and stall; prints h1serve's RSS (one worker, /proc/PID/status)
# before, with all of them stalled, and after they have gone, and the
# growth per stalled client.
#
#   bash ci/bench-cgi-stalled.sh               # 1,000 clients, 1 MiB each
#   bash ci/bench-cgi-stalled.sh 200 65536
#   H1SERVE_BIN=/tmp/old/h1serve bash ci/bench-cgi-stalled.sh   # another build (A/B)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${H1SERVE_BIN:-}
if [ -z "$bin" ]; then
    cargo build --release -q -p h1serve
    bin=target/release/h1serve
fi
exec python3 - "$bin" "${1:-1000}" "${2:-1048576}" <<'PY'
import os, socket, subprocess, sys, tempfile, time
binary, clients, body = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
d = tempfile.mkdtemp(prefix="h1serve-cgi-stalled-")
os.makedirs(d + "/cgi")
with open(d + "/cgi/wc.sh", "w") as f:
    f.write('#!/bin/sh\nprintf "Content-Type: text/plain\\n\\n"\nwc -c\n')
os.chmod(d + "/cgi/wc.sh", 0o755)
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
p = subprocess.Popen([binary, "--listen", f"127.0.0.1:{port}", "--workers", "1",
                      "--cgi-dir", d + "/cgi", "--max-body", str(2 * body),
                      "--cgi-max-procs", str(clients + 16),
                      "--max-connections", str(clients + 64)],
                     stderr=subprocess.DEVNULL)

def rss():
    for line in open(f"/proc/{p.pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])

def settle():
    # Until the server has read what was sent: its RSS stops moving.
    last = rss()
    for _ in range(100):
        time.sleep(0.1)
        now = rss()
        if abs(now - last) < 128:
            return now
        last = now
    return last

try:
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close(); break
        except OSError:
            time.sleep(0.05)
    else:
        sys.exit("bench-cgi-stalled: h1serve did not start")
    before = settle()
    head = (f"POST /cgi-bin/wc.sh HTTP/1.1\r\nHost: t\r\n"
            f"Content-Length: {body}\r\n\r\n").encode()
    data = b"x" * (body - 1)
    conns = []
    t0 = time.time()
    for _ in range(clients):
        c = socket.create_connection(("127.0.0.1", port), timeout=60)
        c.sendall(head + data)
        conns.append(c)
    stalled = settle()
    # One of them finishes: the script gets the whole body.
    last = conns.pop()
    last.sendall(b"x")
    reply = b""
    while b"\r\n\r\n" not in reply or not reply.rstrip().endswith(b"0"):
        chunk = last.recv(65536)
        if not chunk:
            break
        reply += chunk
    status = reply.split(b"\r\n")[0].decode()
    counted = reply.split(b"\r\n\r\n", 1)[1].split(b"\r\n")[1].decode().strip()
    for c in conns:
        c.close()
    last.close()
    time.sleep(1)
    gone = settle()
    per = (stalled - before) / clients
    print(f"{clients} stalled CGI bodies of {body} bytes ({time.time() - t0:.1f} s to send)")
    print(f"RSS before {before} KiB, stalled {stalled} KiB (+{stalled - before} KiB, "
          f"{per:.1f} KiB per client), after they closed {gone} KiB")
    print(f"the finished one: {status}, script counted {counted} bytes on stdin")
finally:
    p.terminate(); p.wait()
PY

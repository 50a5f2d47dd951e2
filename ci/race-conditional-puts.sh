#!/usr/bin/env bash
# Lost updates out of N racing conditional PUTs. For each of ROUNDS names,
# RACERS clients send `PUT` with `If-None-Match: *` (create only if absent):
# each sends its head and all of its body but the last byte, then all send
# their last byte at once, so every precondition is checked while the
# others are in flight. Then the same with `If-Match: <current ETag>`
# (update only what I read). Exactly one PUT per round may succeed; every
# further success is an update lost. A few seconds; one worker.
#
#   bash ci/race-conditional-puts.sh [path/to/h1serve ...]
#   ROUNDS=200 RACERS=4 bash ci/race-conditional-puts.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bins=("$@")
if [ ${#bins[@]} -eq 0 ]; then
    cargo build --release -q -p h1serve
    bins=(target/release/h1serve)
fi
exec python3 - "${bins[@]}" <<'PY'
import os, re, socket, subprocess, sys, tempfile, time

ROUNDS = int(os.environ.get("ROUNDS", "200"))
RACERS = int(os.environ.get("RACERS", "4"))

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def response(c):
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = c.recv(65536)
        if not chunk:
            break
        buf += chunk
    return buf

def race(port, path, field):
    conns = []
    for i in range(RACERS):
        body = f"racer {i}".encode()
        c = socket.create_connection(("127.0.0.1", port), timeout=10)
        c.sendall(f"PUT {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n{field}\r\n".encode()
                  + body[:-1])
        conns.append((c, body[-1:]))
    time.sleep(0.02)
    for c, last in conns:
        c.sendall(last)
    statuses = []
    for c, _ in conns:
        head = response(c)
        statuses.append(int(head.split(b" ", 2)[1]))
        c.close()
    return statuses

def etag(port, path):
    c = socket.create_connection(("127.0.0.1", port), timeout=10)
    c.sendall(f"HEAD {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    head = response(c).decode()
    c.close()
    return re.search(r"(?im)^etag: (\S+)", head).group(1)

def run(bin):
    base = tempfile.mkdtemp(prefix="h1serve-race-")
    up = os.path.join(base, "up"); os.makedirs(up)
    port = free_port()
    server = subprocess.Popen([bin, "--listen", f"127.0.0.1:{port}", "--workers", "1",
                               "--upload-dir", up], stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close(); break
        except OSError:
            time.sleep(0.05)
    lost_create, lost_update, other = 0, 0, []
    for r in range(ROUNDS):
        path = f"/race-{r}.txt"
        s = race(port, path, "If-None-Match: *\r\n")
        ok = sum(1 for x in s if x in (201, 204))
        lost_create += max(ok - 1, 0)
        other += [x for x in s if x not in (201, 204, 412)]
        s = race(port, path, f"If-Match: {etag(port, path)}\r\n")
        ok = sum(1 for x in s if x == 204)
        lost_update += max(ok - 1, 0)
        other += [x for x in s if x not in (204, 412)]
    server.terminate(); server.wait(timeout=15)
    print(f"{bin}: {ROUNDS} rounds of {RACERS} racing PUTs each way: "
          f"If-None-Match: * lost updates {lost_create}, If-Match: <ETag> lost updates {lost_update} "
          f"(of {ROUNDS * (RACERS - 1)} possible each)" + (f"; unexpected statuses {sorted(set(other))}" if other else ""))

for b in sys.argv[1:]:
    run(b)
PY

#!/usr/bin/env bash
# Soak: h1serve (release) under a bounded mix of keep-alive GETs, pipelined
# requests, uploads (PUT/GET/DELETE), CGI, conditional requests and errors
# (bad heads, 404, 405, aborted uploads), on loopback, for SOAK_SECONDS
# (default 60; CI runs 20). Prints RSS and open descriptors after a warm-up
# and at the end, and fails when either grows past its bound, when a response
# is wrong, or when a script is left behind. During the run the access and
# error logs are moved away and SIGUSR1 sent (as logrotate does), every
# SOAK_ROTATE_EVERY seconds (default 5): no request may fail, and new log
# files must appear at the configured paths and get lines.
#
#   SOAK_SECONDS=300 bash ci/soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${SOAK_SECONDS:-60}"
cargo build --release -q -p h1serve
python3 - "$seconds" <<'PY'
import os, re, signal, socket, subprocess, sys, tempfile, threading, time

SECONDS = int(sys.argv[1])
RSS_BOUND_KIB = 8 * 1024     # growth allowed after the warm-up
FD_BOUND = 16                # growth allowed after the warm-up

ROTATE_EVERY = float(os.environ.get("SOAK_ROTATE_EVERY", "5"))

base = tempfile.mkdtemp(prefix="h1serve-soak-")
access_log, error_log = os.path.join(base, "access.log"), os.path.join(base, "error.log")
root, up, cgi = (os.path.join(base, d) for d in ("root", "up", "cgi"))
for d in (root, up, cgi):
    os.makedirs(d)
open(os.path.join(root, "index.html"), "w").write("<p>soak</p>\n" * 100)
open(os.path.join(root, "small.txt"), "w").write("hello\n")
script = os.path.join(cgi, "echo.sh")
open(script, "w").write("#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\n'\ncat\necho \"$QUERY_STRING\" >&2\n")
os.chmod(script, 0o755)

s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
server = subprocess.Popen(
    ["target/release/h1serve", "--listen", f"127.0.0.1:{port}", "--root", root,
     "--upload-dir", up, "--cgi-dir", cgi, "--workers", "2", "--max-body", "1m",
     "--access-log", access_log, "--error-log", error_log],
    stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)

def wait_up():
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit("soak: h1serve did not start")

def rss_kib():
    for line in open(f"/proc/{server.pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0

def fds():
    return len(os.listdir(f"/proc/{server.pid}/fd"))

def exchange(raw, responses=1, timeout=5.0):
    """Sends raw bytes on a new connection; returns the status codes read."""
    c = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    c.sendall(raw)
    buf, statuses = b"", []
    try:
        while len(statuses) < responses:
            chunk = c.recv(65536)
            if not chunk:
                break
            buf += chunk
            statuses = [int(m) for m in re.findall(rb"(?:^|\n)HTTP/1\.1 (\d{3}) ", buf)]
    finally:
        c.close()
    return statuses

errors, counts, lock = [], {"requests": 0}, threading.Lock()

def check(name, got, want):
    with lock:
        counts["requests"] += len(want)
        if got != want:
            errors.append(f"{name}: got {got}, want {want}")

def worker(n, stop_at):
    try:
        work(n, stop_at)
    except Exception as e:  # a timeout or a reset is a finding, not a crash
        with lock:
            errors.append(f"worker {n}: {type(e).__name__}: {e}")

def work(n, stop_at):
    i = 0
    h = b"Host: soak\r\n"
    while time.time() < stop_at and len(errors) < 10:
        i += 1
        name = f"/w{n}-{i % 7}.bin".encode()
        body = b"x" * (i % 5000 + 1)
        step = i % 10
        if step == 0:
            got = exchange(b"GET / HTTP/1.1\r\n" + h + b"\r\nGET /small.txt HTTP/1.1\r\n" + h + b"\r\n", 2)
            check("keep-alive GETs", got, [200, 200])
        elif step == 1:
            got = exchange((b"GET /small.txt HTTP/1.1\r\n" + h + b"\r\n") * 8, 8)
            check("pipelined", got, [200] * 8)
        elif step == 2:
            got = exchange(b"PUT " + name + b" HTTP/1.1\r\n" + h + b"Content-Length: %d\r\n\r\n" % len(body) + body)
            check("PUT (201 or 204)", [201 if s == 204 else s for s in got], [201])
        elif step == 3:
            got = exchange(b"GET " + name + b" HTTP/1.1\r\n" + h + b"\r\n")
            check("GET an upload (200, or 404 once deleted)", [200 if s == 404 else s for s in got], [200])
        elif step == 4:
            got = exchange(b"POST /cgi-bin/echo.sh?q=%d HTTP/1.1\r\n" % i + h + b"Content-Length: 5\r\n\r\nhello")
            check("CGI", got, [200])
        elif step == 5:
            check("bad head", exchange(b"GET / HTTP/1.1\r\nHost : soak\r\n\r\n"), [400])
        elif step == 6:
            got = exchange(b"GET /nope HTTP/1.1\r\n" + h + b"\r\nPOST /small.txt HTTP/1.1\r\n" + h + b"Content-Length: 0\r\n\r\n", 2)
            check("404 then 405", got, [404, 405])
        elif step == 7:
            # an upload abandoned half way: nothing may be left behind
            c = socket.create_connection(("127.0.0.1", port), timeout=5)
            c.sendall(b"PUT /abandoned.bin HTTP/1.1\r\n" + h + b"Content-Length: 100000\r\n\r\n" + b"y" * 1000)
            c.close()
        elif step == 8:
            got = exchange(b"DELETE " + name + b" HTTP/1.1\r\n" + h + b"\r\n")
            check("DELETE (204 or 404)", [204 if s == 404 else s for s in got], [204])
        else:
            check("If-None-Match *", exchange(b"GET /small.txt HTTP/1.1\r\n" + h + b"If-None-Match: *\r\n\r\n"), [304])

rotations = {"done": 0}

def rotate(stop_at):
    """Moves the logs away and sends SIGUSR1; the new files must get lines."""
    n = 0
    while time.time() + ROTATE_EVERY < stop_at and len(errors) < 10:
        time.sleep(ROTATE_EVERY)
        n += 1
        os.rename(access_log, f"{access_log}.{n}")
        os.rename(error_log, f"{error_log}.{n}")
        server.send_signal(signal.SIGUSR1)
        deadline = time.time() + 3
        while time.time() < deadline:
            fresh = [open(p).read() if os.path.exists(p) else "" for p in (access_log, error_log)]
            if fresh[0].count("\n") > 0 and "logs reopened" in fresh[1]:
                rotations["done"] += 1
                break
            time.sleep(0.1)
        else:
            with lock:
                errors.append(f"rotation {n}: no new log lines within 3 s after SIGUSR1")

wait_up()
warm = time.time() + min(5, SECONDS / 4)
threads = [threading.Thread(target=worker, args=(n, warm)) for n in range(4)]
for t in threads: t.start()
for t in threads: t.join()
rss0, fd0 = rss_kib(), fds()
stop = time.time() + SECONDS
threads = [threading.Thread(target=worker, args=(n, stop)) for n in range(4)]
threads.append(threading.Thread(target=rotate, args=(stop,)))
for t in threads: t.start()
for t in threads: t.join()
time.sleep(0.5)  # let abandoned uploads and scripts be cleaned up
rss1, fd1 = rss_kib(), fds()
leftovers = [f for f in os.listdir(up) if f.startswith(".h1serve-tmp-")]
server.terminate()
server.wait(timeout=15)
print(f"soak: {counts['requests']} requests in {SECONDS} s (after a warm-up); "
      f"RSS {rss0} KiB -> {rss1} KiB (bound +{RSS_BOUND_KIB}); open fds {fd0} -> {fd1} (bound +{FD_BOUND}); "
      f"temporary files left: {len(leftovers)}; logs rotated with SIGUSR1: {rotations['done']}")
problems = list(errors)
if rss1 - rss0 > RSS_BOUND_KIB:
    problems.append(f"RSS grew by {rss1 - rss0} KiB")
if fd1 - fd0 > FD_BOUND:
    problems.append(f"open descriptors grew by {fd1 - fd0}")
if leftovers:
    problems.append(f"temporary upload files left: {leftovers}")
if SECONDS > 2 * ROTATE_EVERY and rotations["done"] == 0:
    problems.append("the logs were never rotated")
if server.returncode != 0:
    problems.append(f"h1serve exited with {server.returncode} after SIGTERM")
if counts["requests"] == 0:
    problems.append("no request was made")
if problems:
    print("soak: FAILED\n  " + "\n  ".join(problems))
    sys.exit(1)
print("soak: ok")
PY

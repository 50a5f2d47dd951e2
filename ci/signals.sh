#!/usr/bin/env bash
# The signals operators send, against h1serve builds (the arguments;
# default target/release/h1serve), one worker each:
#  1. seconds from SIGTERM to exit while h1serve's stderr is a pipe that
#     is full and never read (given up after 10 s);
#  2. HUP, USR1, then QUIT, each sent while a 100 MB download (read at
#     20 MB/s) and an upload (half sent) are in flight: is the server still
#     there, how many bytes did the download get, is a temporary upload
#     file left behind. About 25 s per build.
#
#   bash ci/signals.sh [path/to/h1serve ...]
set -euo pipefail
cd "$(dirname "$0")/.."
bins=("$@")
if [ ${#bins[@]} -eq 0 ]; then
    cargo build --release -q -p h1serve
    bins=(target/release/h1serve)
fi
exec python3 - "${bins[@]}" <<'PY'
import os, signal, socket, subprocess, sys, tempfile, threading, time

BIG = 100 * 1000 * 1000

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def wait_up(port, proc):
    for _ in range(200):
        if proc.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close(); return True
        except OSError:
            time.sleep(0.05)
    return False

def full_stderr(bin, root):
    r, w = os.pipe()
    port = free_port()
    p = subprocess.Popen([bin, "--listen", f"127.0.0.1:{port}", "--workers", "1", "--root", root],
                         stderr=w)
    wait_up(port, p)
    time.sleep(0.3)
    os.read(r, 65536)  # the "listening on" line
    # Fill the pipe to its capacity (F_GETPIPE_SZ) with blocking writes: it
    # is empty now, so they complete. (O_NONBLOCK on our end would be on the
    # server's too: they share the open file description.)
    import fcntl
    size = fcntl.fcntl(w, 1032)
    os.write(w, b"x" * size)
    os.close(w)
    sent = time.time()
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout=10)
        took = f"{time.time() - sent:.2f} s (exit status {p.returncode})"
    except subprocess.TimeoutExpired:
        took = "did not exit within 10 s"
        p.kill(); p.wait()
    os.close(r)
    print(f"{bin}: SIGTERM to exit with a full stderr pipe: {took}")

def download(port, out):
    c = socket.create_connection(("127.0.0.1", port), timeout=10)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    c.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    got = 0
    while True:
        try:
            chunk = c.recv(65536)
        except OSError:
            break
        if not chunk:
            break
        got += len(chunk)
        time.sleep(len(chunk) / 20e6)  # about 20 MB/s
    out.append(got)

def one_signal(bin, root, sig):
    up = tempfile.mkdtemp(prefix="h1serve-signals-up-")
    port = free_port()
    p = subprocess.Popen([bin, "--listen", f"127.0.0.1:{port}", "--workers", "1", "--root", root,
                          "--upload-dir", up, "--max-body", "10m"], stderr=subprocess.DEVNULL)
    wait_up(port, p)
    got = []
    t = threading.Thread(target=download, args=(port, got)); t.start()
    upload = socket.create_connection(("127.0.0.1", port), timeout=10)
    upload.sendall(b"PUT /up.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n" + b"u" * 1000000)
    time.sleep(1)
    p.send_signal(sig)
    time.sleep(0.5)
    alive = p.poll() is None
    upload.close()
    t.join(timeout=30)
    time.sleep(0.3)
    left = [f for f in os.listdir(up) if f.startswith(".h1serve-tmp-")]
    if sig == signal.SIGQUIT:
        try:
            p.wait(timeout=15)
            end = f"exited with status {p.returncode}"
        except subprocess.TimeoutExpired:
            end = "still running 15 s after QUIT"
    else:
        end = ("still serving" if alive and p.poll() is None else f"killed (status {p.returncode})")
    if p.poll() is None:
        p.terminate(); p.wait(timeout=15)
    body = max(got[0] - 300, 0) if got else 0
    print(f"{bin}: SIG{signal.Signals(sig).name[3:]} during a 100 MB download: {end}; "
          f"download got {body / 1e6:.1f} MB of 100.0; temporary upload files left: {len(left)}")

root = tempfile.mkdtemp(prefix="h1serve-signals-")
with open(os.path.join(root, "big.bin"), "wb") as f:
    f.truncate(BIG)
for b in sys.argv[1:]:
    full_stderr(b, root)
    for sig in (signal.SIGHUP, signal.SIGUSR1, signal.SIGQUIT):
        one_signal(b, root, sig)
PY

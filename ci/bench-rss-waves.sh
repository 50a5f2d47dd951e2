#!/usr/bin/env bash
# Memory given back after waves of connections while others stay open:
# h1serve (one worker) and nginx (one worker, ci/nginx/bench.conf) in the
# same run. HELD keep-alive connections stay open throughout; each of WAVES
# waves opens WAVE_CONNS connections that each get a response and then send
# a partial head (so each holds a read buffer), then closes them all. RSS of
# the serving process (nginx: its worker) before, at the peak of each wave,
# and 2 s after it. About 30 s with the defaults.
#
#   bash ci/bench-rss-waves.sh [path/to/h1serve ...]
#   WAVES=5 WAVE_CONNS=3000 HELD=80 bash ci/bench-rss-waves.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bins=("$@")
if [ ${#bins[@]} -eq 0 ]; then
    cargo build --release -q -p h1serve
    bins=(target/release/h1serve)
fi
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
exec python3 - "$NGINX" "$(pwd)/ci/nginx/bench.conf" "${bins[@]}" <<'PY'
import os, resource, socket, subprocess, sys, tempfile, time

NGINX, CONF, BINS = sys.argv[1], sys.argv[2], sys.argv[3:]
WAVES = int(os.environ.get("WAVES", "5"))
WAVE_CONNS = int(os.environ.get("WAVE_CONNS", "3000"))
HELD = int(os.environ.get("HELD", "80"))
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

tmp = tempfile.mkdtemp(prefix="h1serve-rss-waves-")
root = os.path.join(tmp, "root")
os.makedirs(root)
os.chmod(tmp, 0o755)  # nginx's worker runs as another user
with open(os.path.join(root, "f.txt"), "w") as f:
    f.write("x" * 4096)
REQ = b"GET /f.txt HTTP/1.1\r\nHost: x\r\n\r\n"
PARTIAL = b"GET /f.txt HTTP/1.1\r\nHost: x\r\nUser-Agent: wave\r\n"

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def wait_port(port, proc):
    for _ in range(200):
        if proc.poll() is not None:
            sys.exit(f"bench-rss-waves: server exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close(); return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"bench-rss-waves: nothing listening on {port}")

def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])

def get(s):
    s.sendall(REQ)
    buf = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            raise OSError(f"closed after {buf[:60]!r}")
        buf += chunk
        i = buf.find(b"\r\n\r\n")
        if i >= 0 and len(buf) >= i + 4 + 4096:
            if not buf.startswith(b"HTTP/1.1 200"):
                raise OSError(f"unexpected answer {buf[:40]!r}")
            return

def start(name, bin=None):
    port = free_port()
    if name == "nginx":
        prefix = os.path.join(tmp, "nginx")
        for d in ["logs", "tmp"]:
            os.makedirs(os.path.join(prefix, d), exist_ok=True)
        conf = open(CONF).read().replace("__PORT__", str(port)).replace("__ROOT__", root) \
            .replace("__WORKERS__", "1")
        path = os.path.join(prefix, "bench.conf")
        open(path, "w").write(conf)
        p = subprocess.Popen([NGINX, "-p", prefix, "-c", path, "-e",
                              os.path.join(prefix, "logs/error.log"), "-g", "daemon off;"],
                             stderr=subprocess.DEVNULL)
        wait_port(port, p)
        pid = int(open(f"/proc/{p.pid}/task/{p.pid}/children").read().split()[0])
    else:
        p = subprocess.Popen([bin, "--listen", f"127.0.0.1:{port}", "--workers", "1", "--root", root],
                             stderr=subprocess.DEVNULL)
        wait_port(port, p)
        pid = p.pid
    return p, port, pid

def run(name, bin=None):
    p, port, pid = start(name, bin)
    try:
        held = [socket.create_connection(("127.0.0.1", port)) for _ in range(HELD)]
        for s in held:
            get(s)
        time.sleep(0.5)
        base = rss_kib(pid)
        peaks, afters = [], []
        for _ in range(WAVES):
            wave = []
            for _ in range(WAVE_CONNS):
                s = socket.create_connection(("127.0.0.1", port))
                get(s)
                s.sendall(PARTIAL)
                wave.append(s)
            time.sleep(0.3)
            peaks.append(rss_kib(pid))
            for s in wave:
                s.close()
            time.sleep(2)
            afters.append(rss_kib(pid))
        for s in held:
            get(s)  # the held connections still work
        label = name if bin is None else f"{name} ({bin})"
        print(f"{label}: RSS {base / 1024:.1f} MB with {HELD} held; peaks "
              + ", ".join(f"{k / 1024:.1f}" for k in peaks) + " MB; 2 s after each wave "
              + ", ".join(f"{k / 1024:.1f}" for k in afters) + f" MB; last {afters[-1] / 1024:.1f} MB "
              f"({(afters[-1] - base) / 1024:+.1f} MB over the start)")
        for s in held:
            s.close()
    finally:
        p.terminate()
        p.wait(timeout=15)

print(f"{WAVES} waves of {WAVE_CONNS} connections (a response, then a partial head each), "
      f"{HELD} keep-alive connections held throughout; one worker each")
for b in BINS:
    run("h1serve", b)
run("nginx")
PY

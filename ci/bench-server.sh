#!/usr/bin/env bash
# h1serve against a tuned nginx (ci/nginx/bench.conf), measured in the same
# run in alternating rounds with wrk on loopback.
#
# Pinning on a 2-core machine: each server runs ONE worker pinned to CPU 0
# (taskset -c 0) and wrk runs one thread pinned to CPU 1 (taskset -c 1), so
# the client never steals the server's core. Server CPU time per request is
# read from /proc/PID/stat (utime+stime) before and after each run, divided by
# the requests wrk counted: wrk is near its own limit on tiny responses, so
# req/s alone understates the difference.
#
# Scenarios: a 13-byte file, a 4 KiB file and a 1 MiB file at 50 and 256
# connections, and the 13-byte file pipelined 16 requests per write (wrk Lua
# script). Then memory: N idle keep-alive connections (each answered once),
# RSS growth per connection for both servers, and every connection answered
# again afterwards.
#
#   bash ci/bench-server.sh                     # 3 rounds x 5 s, 10,000 idle connections
#   BENCH_QUICK=1 bash ci/bench-server.sh       # CI smoke: 1 round x 1 s, 3 scenarios, 1,000 connections
#   BENCH_ROUNDS=5 BENCH_DURATION=10 bash ci/bench-server.sh
#   BENCH_ONLY=4KiB BENCH_IDLE_CONNS=0 bash ci/bench-server.sh   # one file size, no memory test
#   BENCH_ONLY=none bash ci/bench-server.sh     # memory tests only
#   H1SERVE_BIN=/tmp/old/h1serve bash ci/bench-server.sh   # another build (A/B)
#
# The memory tests: idle keep-alive connections, then as many connections
# each holding a partial head (a slowloris wave), RSS per connection during
# the wave and RSS once they are gone.
#
# Prints tables; never fails on figures (it is a smoke in CI). Exits non-zero
# only when a server cannot be started or answers wrongly.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in wrk /usr/sbin/nginx taskset python3; do
  if ! command -v "$tool" >/dev/null; then
    echo "bench-server: $tool not found; skipping (install wrk and nginx, see ci/setup.sh)"
    exit 0
  fi
done
# H1SERVE_BIN=path: measure that binary instead (an A/B of two builds).
bin=${H1SERVE_BIN:-}
if [ -z "$bin" ]; then
  cargo build -q -p h1serve --release
  bin=target/release/h1serve
fi
exec python3 - "$bin" "$(pwd)/ci/nginx/bench.conf" <<'PY'
import os, re, resource, shutil, signal, socket, statistics, subprocess, sys, tempfile, time

H1SERVE, CONF = sys.argv[1], sys.argv[2]
QUICK = os.environ.get("BENCH_QUICK") == "1"
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "1" if QUICK else "3"))
DURATION = int(os.environ.get("BENCH_DURATION", "1" if QUICK else "5"))
IDLE = int(os.environ.get("BENCH_IDLE_CONNS", "1000" if QUICK else "10000"))
SERVER_CPU, CLIENT_CPU = "0", "1"
TICK = os.sysconf("SC_CLK_TCK")

soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

tmp = tempfile.mkdtemp(prefix="h1bench-")
os.chmod(tmp, 0o755)
root = os.path.join(tmp, "root")
os.mkdir(root)
os.chmod(root, 0o755)
files = {"13B": ("f13.txt", b"hello, world\n"), "4KiB": ("f4k.bin", os.urandom(4096)),
         "1MiB": ("f1m.bin", os.urandom(1 << 20))}
for name, data in files.values():
    with open(os.path.join(root, name), "wb") as f:
        f.write(data)
    os.chmod(os.path.join(root, name), 0o644)
lua = os.path.join(tmp, "pipeline16.lua")
with open(lua, "w") as f:
    f.write('init = function(args)\n  local r = {}\n  for i = 1, 16 do r[i] = wrk.format(nil, "/f13.txt") end\n'
            '  req = table.concat(r)\nend\nrequest = function() return req end\n')

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p

def wait_port(port, proc):
    deadline = time.time() + 10
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit(f"bench-server: server exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"bench-server: nothing listening on {port}")

procs = []

def start_h1serve():
    port = free_port()
    p = subprocess.Popen(["taskset", "-c", SERVER_CPU, H1SERVE, "--listen", f"127.0.0.1:{port}",
                          "--workers", "1", "--root", root], stderr=subprocess.DEVNULL)
    procs.append(p)
    wait_port(port, p)
    return {"name": "h1serve", "port": port, "proc": p, "pid": p.pid}

def start_nginx():
    port = free_port()
    prefix = os.path.join(tmp, "nginx")
    for d in ["logs", "tmp"]:
        os.makedirs(os.path.join(prefix, d), exist_ok=True)
    conf = open(CONF).read().replace("__PORT__", str(port)).replace("__ROOT__", root) \
        .replace("__WORKERS__", "1")
    path = os.path.join(prefix, "bench.conf")
    open(path, "w").write(conf)
    p = subprocess.Popen(["taskset", "-c", SERVER_CPU, "/usr/sbin/nginx", "-p", prefix, "-c", path,
                          "-e", os.path.join(prefix, "logs/error.log"), "-g", "daemon off;"],
                         stderr=subprocess.DEVNULL)
    procs.append(p)
    wait_port(port, p)
    children = open(f"/proc/{p.pid}/task/{p.pid}/children").read().split()
    if not children:
        sys.exit("bench-server: nginx has no worker")
    return {"name": "nginx", "port": port, "proc": p, "pid": int(children[0])}

def cpu_ticks(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])

def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0

def to_ms(v, unit):
    return float(v) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

def wrk(server, path, conns, pipelined):
    cmd = ["taskset", "-c", CLIENT_CPU, "wrk", "-t1", f"-c{conns}", f"-d{DURATION}s", "--latency",
           "--timeout", "5s"]
    if pipelined:
        cmd += ["-s", lua]
    cmd.append(f"http://127.0.0.1:{server['port']}{path}")
    before = cpu_ticks(server["pid"])
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=DURATION + 30).stdout
    after = cpu_ticks(server["pid"])
    reqs = int(re.search(r"(\d+) requests in", out).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = to_ms(*re.search(r"50%\s+([\d.]+)(us|ms|s)", out).groups())
    p99 = to_ms(*re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups())
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    if bad:
        print(f"  ! {server['name']} {path}: {bad.group(1)} non-2xx responses")
    if errors:
        print(f"  ! {server['name']} {path}: socket errors {errors.group(1)}")
    cpu_us = (after - before) * 1e6 / TICK / max(reqs, 1)
    return {"rps": rps, "p50": p50, "p99": p99, "cpu": cpu_us}

scenarios = [("13B", 50, False), ("13B", 256, False), ("4KiB", 50, False), ("4KiB", 256, False),
             ("1MiB", 50, False), ("1MiB", 256, False), ("13B", 256, True)]
if QUICK:
    scenarios = [("13B", 50, False), ("1MiB", 50, False), ("13B", 256, True)]
ONLY = os.environ.get("BENCH_ONLY")  # e.g. BENCH_ONLY=4KiB: scenarios of that size only
if ONLY:
    scenarios = [s for s in scenarios if s[0] == ONLY]

try:
    servers = [start_h1serve(), start_nginx()]
    # Correctness first: both must serve the files byte for byte.
    for s in servers:
        for key, (name, data) in files.items():
            c = socket.create_connection(("127.0.0.1", s["port"]), timeout=5)
            c.sendall(f"GET /{name} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            got = b""
            while True:
                b = c.recv(1 << 20)
                if not b:
                    break
                got += b
            c.close()
            if not got.startswith(b"HTTP/1.1 200") or not got.endswith(data):
                sys.exit(f"bench-server: {s['name']} served /{name} wrongly")
    print(f"h1serve vs nginx {subprocess.run(['/usr/sbin/nginx', '-v'], capture_output=True, text=True).stderr.strip()}: "
          f"1 worker each on CPU {SERVER_CPU}, wrk -t1 on CPU {CLIENT_CPU}, "
          f"{ROUNDS} round(s) x {DURATION} s, median of rounds")
    results = {}
    for r in range(ROUNDS):
        for sc in scenarios:
            order = servers if r % 2 == 0 else servers[::-1]
            for s in order:
                path = "/" + files[sc[0]][0]
                results.setdefault((sc, s["name"]), []).append(wrk(s, path, sc[1], sc[2]))
    hdr = f"{'scenario':<22} {'server':<8} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'CPU us/req':>11} {'req/s ratio':>12} {'CPU ratio':>10}"
    print(hdr)
    print("-" * len(hdr))
    for sc in scenarios:
        label = f"{sc[0]} c{sc[1]}" + (" pipe x16" if sc[2] else "")
        med = {}
        for name in ["h1serve", "nginx"]:
            runs = results[(sc, name)]
            med[name] = {k: statistics.median(x[k] for x in runs) for k in runs[0]}
        for name in ["h1serve", "nginx"]:
            m = med[name]
            ratio = cpu_ratio = ""
            if name == "h1serve":
                ratio = f"{m['rps'] / med['nginx']['rps']:.2f}x"
                cpu_ratio = f"{m['cpu'] / med['nginx']['cpu']:.2f}x" if med['nginx']['cpu'] else "-"
            print(f"{label:<22} {name:<8} {m['rps']:>10.0f} {m['p50']:>8.2f} {m['p99']:>8.2f} {m['cpu']:>11.2f} {ratio:>12} {cpu_ratio:>10}")

    # Memory: IDLE keep-alive connections, each answered once, then held idle.
    if IDLE <= 0:
        sys.exit(0)
    print(f"\nidle keep-alive connections: {IDLE} per server")
    req = b"GET /f13.txt HTTP/1.1\r\nHost: x\r\n\r\n"
    for s in servers:
        pid = s["pid"]
        warm = [socket.create_connection(("127.0.0.1", s["port"]), timeout=5) for _ in range(50)]
        for c in warm:
            c.sendall(req); c.recv(4096); c.close()
        time.sleep(0.3)
        before = rss_kib(pid)
        conns = []
        for _ in range(IDLE):
            c = socket.create_connection(("127.0.0.1", s["port"]), timeout=5)
            c.sendall(req)
            if not c.recv(4096).startswith(b"HTTP/1.1 200"):
                sys.exit(f"bench-server: {s['name']} did not answer")
            conns.append(c)
        time.sleep(0.5)
        after = rss_kib(pid)
        answered = 0
        for c in conns:
            c.sendall(req)
            try:
                if c.recv(4096).startswith(b"HTTP/1.1 200"):
                    answered += 1
            except OSError:
                pass
        for c in conns:
            c.close()
        growth = (after - before) / IDLE
        print(f"{s['name']:<8} RSS {before} KiB -> {after} KiB: {growth:.2f} KiB per idle connection "
              f"({after / IDLE:.2f} KiB all-in); answered again: {answered}/{IDLE}")
        time.sleep(0.5)
    # Memory: a slowloris wave: IDLE connections each holding a partial head,
    # then all closed. RSS per connection during the wave, and after it.
    print(f"\npartial-head connections (slowloris wave): {IDLE} per server")
    partial = b"GET /f13.txt HTTP/1.1\r\nHost: x\r\nUser-Agent: slow\r\nX-Wait: "
    for s in servers:
        pid = s["pid"]
        before = rss_kib(pid)
        conns = []
        for _ in range(IDLE):
            c = socket.create_connection(("127.0.0.1", s["port"]), timeout=5)
            c.sendall(partial)
            conns.append(c)
        time.sleep(1.0)
        during = rss_kib(pid)
        for c in conns:
            c.close()
        time.sleep(1.5)
        after = rss_kib(pid)
        print(f"{s['name']:<8} RSS {before} KiB -> {during} KiB during the wave: "
              f"{(during - before) / IDLE:.2f} KiB per partial head; {after} KiB after it "
              f"({(after - before) / max(before, 1) * 100:+.0f}% of before)")
finally:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
    shutil.rmtree(tmp, ignore_errors=True)
PY

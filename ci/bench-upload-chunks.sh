#!/usr/bin/env bash
# Server CPU for an upload sent as 1-byte chunks (issue 17, fault 7): h1serve
# (release, one worker) on loopback takes a chunked PUT of BYTES one-byte
# chunks; prints the server's CPU time for it (from /proc/PID/stat).
#
#   bash ci/bench-upload-chunks.sh            # 8 MiB
#   bash ci/bench-upload-chunks.sh 1048576
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p h1serve
exec python3 - target/release/h1serve "${1:-8388608}" <<'PY'
import os, socket, subprocess, sys, tempfile, time
binary, n = sys.argv[1], int(sys.argv[2])
d = tempfile.mkdtemp(prefix="h1serve-chunks-")
os.makedirs(d + "/up"); os.makedirs(d + "/root")
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
p = subprocess.Popen([binary, "--listen", f"127.0.0.1:{port}", "--root", d + "/root",
                      "--upload-dir", d + "/up", "--max-body", "1g", "--workers", "1"],
                     stderr=subprocess.DEVNULL)
try:
    for _ in range(200):
        try:
            c = socket.create_connection(("127.0.0.1", port), timeout=60); break
        except OSError:
            time.sleep(0.05)
    else:
        sys.exit("bench-upload-chunks: h1serve did not start")
    def cpu():
        f = open(f"/proc/{p.pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
    c0 = cpu()
    c.sendall(b"PUT /one.bin HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
    piece = b"1\r\nx\r\n" * 65536
    for _ in range(n // 65536):
        c.sendall(piece)
    c.sendall(b"1\r\nx\r\n" * (n % 65536) + b"0\r\n\r\n")
    status = c.recv(4096).split(b"\r\n")[0].decode()
    size = os.path.getsize(d + "/up/one.bin")
    print(f"{status}: {size} bytes as 1-byte chunks, server CPU {cpu() - c0:.2f} s")
finally:
    p.terminate(); p.wait()
PY

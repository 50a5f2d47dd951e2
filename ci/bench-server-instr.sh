#!/usr/bin/env bash
# A steadier A/B than wall-clock CPU on a noisy machine:
#   bash ci/bench-server-instr.sh /tmp/old/h1serve target/release/h1serve
set -euo pipefail
cd "$(dirname "$0")/.."
# User-space instructions per request (callgrind) of h1serve builds (the arguments;
# default target/release/h1serve): one keep-alive
# connection, N sequential GETs; (Ir(N2) - Ir(N1)) / (N2 - N1) cancels startup and shutdown.
d=$(mktemp -d); trap 'rm -rf "$d"' EXIT; printf 'hello, world\n' > $d/f13.txt; head -c 4096 /dev/urandom > $d/f4k.bin
run() { # bin file n
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  out=/tmp/cg.out.$$
  valgrind --tool=callgrind --callgrind-out-file=$out $1 --listen 127.0.0.1:$port --root $d --workers 1 2>/dev/null &
  pid=$!
  python3 - $port $2 $3 <<'PY'
import socket, sys, time
port, f, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
for _ in range(300):
    try:
        s = socket.create_connection(("127.0.0.1", port)); break
    except OSError: time.sleep(0.05)
req = f"GET /{f} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
buf = b""
for i in range(n):
    s.sendall(req)
    while True:
        j = buf.find(b"\r\n\r\n")
        if j >= 0:
            head = buf[:j].decode()
            cl = int([l.split(":")[1] for l in head.split("\r\n") if l.lower().startswith("content-length")][0])
            if len(buf) >= j + 4 + cl:
                buf = buf[j + 4 + cl:]; break
        buf += s.recv(65536)
s.close()
PY
  kill -TERM $pid; wait $pid 2>/dev/null || true
  grep -E "^(summary|totals):" $out | head -1 | awk '{print $2}'
  rm -f $out
}
bins=("$@"); [ ${#bins[@]} -gt 0 ] || { cargo build --release -q -p h1serve; bins=(target/release/h1serve); }
for bin in "${bins[@]}"; do
  for f in f13.txt f4k.bin; do
    a=$(run "$bin" $f 2000); b=$(run "$bin" $f 12000)
    python3 -c "print('$bin $f: {:,.0f} instructions per request (user space)'.format(($b-$a)/10000))"
  done
done

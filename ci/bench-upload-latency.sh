#!/usr/bin/env bash
# Other clients' GET latency while 64 MiB PUTs run in a loop (issue 17,
# fault 10): h1serve (release, ONE worker, so uploads and GETs share it)
# with --upload-dir on the disk under TMPDIR; wrk measures GET p50/p99 of a
# small file for SECONDS, first idle, then with a PUT loop (curl) running.
#
#   bash ci/bench-upload-latency.sh                      # target/release/h1serve, 10 s
#   SECONDS_EACH=5 bash ci/bench-upload-latency.sh path/to/other/h1serve
set -euo pipefail
cd "$(dirname "$0")/.."
binary=${1:-}
if [ -z "$binary" ]; then
  cargo build --release -q -p h1serve
  binary=target/release/h1serve
fi
secs=${SECONDS_EACH:-10}
d=$(mktemp -d "${TMPDIR:-/tmp}/h1serve-uplat.XXXXXX")
mkdir -p "$d/root" "$d/up"
printf 'hello\n' > "$d/root/hello.txt"
head -c $((64 << 20)) /dev/urandom > "$d/body.bin"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$binary" --listen "127.0.0.1:$port" --root "$d/root" --upload-dir "$d/up" --max-body 128m --workers 1 2>/dev/null &
server=$!
loop=
cleanup() {
  [ -n "$loop" ] && kill "$loop" 2>/dev/null || true
  kill "$server" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$d"
}
trap cleanup EXIT
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/hello.txt" && break; sleep 0.05; done
measure() {
  wrk -t1 -c4 -d"${secs}s" --latency "http://127.0.0.1:$port/hello.txt" |
    awk -v what="$1" '/^ +50%/{p50=$2} /^ +99%/{p99=$2} /Requests\/sec/{rps=$2} END{printf "%-22s GET p50 %8s  p99 %8s  %10s req/s\n", what, p50, p99, rps}'
}
measure "idle"
(
  i=0
  end=$(( $(date +%s) + secs + 5 ))
  while [ "$(date +%s)" -lt "$end" ]; do
    curl -s -o /dev/null -T "$d/body.bin" "http://127.0.0.1:$port/up-$i.bin"
    rm -f "$d/up/up-$i.bin"
    i=$((i + 1))
  done
  echo "$i" > "$d/puts"
) &
loop=$!
sleep 1
measure "during 64 MiB PUTs"
wait "$loop" 2>/dev/null || true
loop=
echo "PUTs completed in the loop: $(cat "$d/puts" 2>/dev/null || echo ?)"

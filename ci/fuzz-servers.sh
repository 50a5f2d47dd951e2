#!/usr/bin/env bash
# h1spec fuzz against h1serve, nginx, Apache and lighttpd (one after the
# other, FUZZ_WIRE_TIME each, default 10m), then --differential across all
# four (FUZZ_DIFF_TIME, default 5m) and nginx as a reverse proxy in front of
# h1spec's echo origin (FUZZ_PROXY_TIME, default 2m). JSON summaries and
# case files go to target/fuzz-servers/; prints the table docs/fuzzing.md quotes.
# Not run by CI (it needs Apache and lighttpd, and time); CI runs
# ci/fuzz-wire.sh.
#
#   FUZZ_WIRE_TIME=1m FUZZ_DIFF_TIME=1m FUZZ_PROXY_TIME=30s bash ci/fuzz-servers.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p h1spec -p h1serve
h1spec=target/release/h1spec
out=target/fuzz-servers
rm -rf "$out"
mkdir -p "$out"
root=$(mktemp -d /tmp/h1spec-fuzz-servers.XXXXXX)
trap 'rm -rf "$root"' EXIT
printf '<!doctype html><title>h1spec</title><p>fuzz target\n' > "$root/index.html"
wire=${FUZZ_WIRE_TIME:-10m}
h1serve="target/release/h1serve --listen 127.0.0.1:{port} --root $root"
run() {
  local name=$1; shift
  set +e
  "$h1spec" fuzz "$@" --max-findings 200 --format json --out "$out/$name-cases" > "$out/$name.json" 2> "$out/$name.log"
  echo "$name: exit $?"
  set -e
}
run h1serve --spawn "$h1serve" --target-profile conformance/targets/h1serve.toml --duration "$wire"
run nginx --spawn 'bash ci/nginx/run.sh {port}' --target-profile ci/nginx/target.toml --duration "$wire"
run apache --spawn 'bash ci/apache/run.sh {port}' --duration "$wire"
run lighttpd --spawn 'bash ci/lighttpd/run.sh {port}' --duration "$wire"
run differential --differential "h1serve=spawn:$h1serve" 'nginx=spawn:bash ci/nginx/run.sh {port}' \
  'apache=spawn:bash ci/apache/run.sh {port}' 'lighttpd=spawn:bash ci/lighttpd/run.sh {port}' \
  --duration "${FUZZ_DIFF_TIME:-5m}"
run nginx-proxy --spawn 'bash ci/nginx/run-proxy.sh {port} {origin_port}' --origin-listen 127.0.0.1:0 \
  --wait 300 --duration "${FUZZ_PROXY_TIME:-2m}"
python3 - "$out" <<'PY'
import json, os, sys
out = sys.argv[1]
print("| target | time | inputs | inputs/s | findings by class | lenient (not findings) |")
print("|---|---:|---:|---:|---|---|")
for name in ["h1serve", "nginx", "apache", "lighttpd", "differential", "nginx-proxy"]:
    try:
        d = json.load(open(os.path.join(out, name + ".json")))
    except Exception as e:
        print(f"| {name} | run failed: {e} | | | | |"); continue
    classes = ", ".join(f"{c} {n}" for c, n in d["by_class"].items()) or "none"
    lenient = ", ".join(f"{k} ×{v}" for k, v in d["lenient"].items()) or "—"
    print(f"| {name} | {d['seconds']:.0f} s | {d['inputs']:,} | {d['inputs']/max(d['seconds'],1e-3):,.0f} | {classes} | {lenient} |")
for name in ["h1serve", "nginx", "apache", "lighttpd", "differential", "nginx-proxy"]:
    try:
        d = json.load(open(os.path.join(out, name + ".json")))
    except Exception:
        continue
    print(f"\n{name}:")
    for f in d["findings"]:
        print(f"  {f['signature']}: {f['detail'][:140]}\n      '{f['bytes'][:160]}'")
PY

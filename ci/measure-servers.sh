#!/usr/bin/env bash
# h1spec (--should; rfc profile, or PROFILE=strict) against nginx, Apache, lighttpd, Python's
# http.server and h1serve, one after the other; writes a JSON report per
# server to target/conformance/servers/ and prints a table of the results.
# Not run by CI (it needs Apache and lighttpd); record baselines from it with
#   cp target/conformance/servers/{nginx,apache,lighttpd}.json conformance/baselines/
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p h1spec -p h1serve
h1spec=target/release/h1spec
profile=${PROFILE:-rfc}
out=target/conformance/servers
[ "$profile" = rfc ] || out="$out-$profile"
mkdir -p "$out"
root=$(mktemp -d /tmp/h1spec-measure.XXXXXX)
trap 'rm -rf "$root"' EXIT
printf '<!doctype html><title>h1spec</title><p>h1spec conformance target\n' > "$root/index.html"
run() {
  local name=$1; shift
  set +e
  "$h1spec" "$@" --should --profile "$profile" --color never --format json > "$out/$name.json" 2> "$out/$name.log"
  local rc=$?
  set -e
  echo "$name: exit $rc"
}
run nginx --spawn 'bash ci/nginx/run.sh {port}' --target-profile ci/nginx/target.toml
run apache --spawn 'bash ci/apache/run.sh {port}' --nocontent /empty
run lighttpd --spawn 'bash ci/lighttpd/run.sh {port}' --nocontent /empty
run python --spawn 'bash ci/python/run.sh {port}'
run h1serve --spawn "target/release/h1serve --listen 127.0.0.1:{port} --root $root --max-uri 8192 --max-head 16384 --max-body 1048576" \
  --target-profile conformance/targets/h1serve.toml
python3 - "$out" <<'PY'
import json, sys, os
out = sys.argv[1]
print(f"| server ({os.environ.get('PROFILE', 'rfc')} profile, `--should`) | passed | failed (MUST / SHOULD / MAY) | n/a |")
print("|---|---:|---|---:|")
for name in ["nginx", "apache", "lighttpd", "python", "h1serve"]:
    p = os.path.join(out, name + ".json")
    try:
        d = json.load(open(p))
    except Exception as e:
        print(f"| {name} | run failed: {e} | | |"); continue
    s = d["summary"]; f = s["failed_by_level"]
    print(f"| {name} | {s['passed']} | {s['failed']} ({f.get('MUST',0)} / {f.get('SHOULD',0)} / {f.get('MAY',0)}) | {s['not_applicable']} |")
PY

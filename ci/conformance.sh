#!/usr/bin/env bash
# h1spec against our server and against nginx.
#
# * h1serve: zero MUST failures (SHOULD and MAY cases run and are reported, not gated).
# * nginx: no regressions against conformance/baselines/nginx.json (nginx has
#   known deviations; the baseline records them, and cases nginx starts to
#   pass are reported as newly passing).
#
# Each target is started by `h1spec --spawn` on a free loopback port and
# stopped by its process id when the run ends. Reports in JUnit form go to
# target/conformance/ for CI systems that read them.
set -euo pipefail
cd "$(dirname "$0")/.."

bash ci/setup.sh

echo "conformance: building h1spec (release)"
cargo build --release -q -p h1spec
h1spec=target/release/h1spec
out=target/conformance
mkdir -p "$out"
status=0

# --- h1serve ---------------------------------------------------------------
if cargo build --release -q -p h1serve 2>"$out/h1serve-build.log" && [ -x target/release/h1serve ]; then
  root=$(mktemp -d /tmp/h1spec-h1serve.XXXXXX)
  trap 'rm -rf "$root"' EXIT
  printf '<!doctype html><title>h1spec</title><p>h1spec conformance target\n' > "$root/index.html"
  echo "conformance: h1spec against h1serve (gate: zero MUST failures)"
  set +e
  "$h1spec" --spawn "target/release/h1serve --listen 127.0.0.1:{port} --root $root --max-uri 8192 --max-head 16384 --max-body 1048576" \
    --target-profile conformance/targets/h1serve.toml --should --gate MUST --color never --write-baseline "$out/h1serve.json" --junit "$out/h1serve.junit.xml"
  rc=$?
  set -e
  case $rc in
    0) echo "conformance: h1serve: no MUST failures" ;;
    1) echo "conformance: h1serve has MUST failures (above)"; status=1 ;;
    *) echo "conformance: h1serve run could not complete (exit $rc)"; status=1 ;;
  esac
else
  echo "conformance: SKIPPED h1serve: it does not build yet (see $out/h1serve-build.log)"
fi

# --- nginx -----------------------------------------------------------------
if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
  echo "conformance: h1spec against nginx (gate: no regressions against conformance/baselines/nginx.json)"
  set +e
  "$h1spec" --spawn 'bash ci/nginx/run.sh {port}' --target-profile ci/nginx/target.toml \
    --should --color never --baseline conformance/baselines/nginx.json \
    --write-baseline "$out/nginx.json" --junit "$out/nginx.junit.xml"
  rc=$?
  set -e
  case $rc in
    0) echo "conformance: nginx matches its baseline" ;;
    1) echo "conformance: nginx regressed against its baseline (above)"; status=1 ;;
    *) echo "conformance: nginx run could not complete (exit $rc)"; status=1 ;;
  esac
else
  echo "conformance: nginx not installed and ci/setup.sh could not install it"
  status=1
fi

# --- stable verdicts ---------------------------------------------------------
# The same suite against the same server gives the same verdict for every
# case: each target runs once more, and any case whose verdict changed fails.
same_verdicts() {  # same_verdicts NAME FIRST.json SECOND.json
  python3 - "$@" <<'PY'
import json, sys
name, a, b = sys.argv[1:4]
va = {r["id"]: r["verdict"] for r in json.load(open(a))["results"]}
vb = {r["id"]: r["verdict"] for r in json.load(open(b))["results"]}
changed = sorted(i for i in va.keys() | vb.keys() if va.get(i) != vb.get(i))
for i in changed:
    print(f"conformance: {name}: {i}: {va.get(i)} then {vb.get(i)}")
print(f"conformance: {name}: {len(va)} verdicts, {len(changed)} changed between two runs")
sys.exit(1 if changed else 0)
PY
}
if [ -f "$out/h1serve.json" ]; then
  "$h1spec" --spawn "target/release/h1serve --listen 127.0.0.1:{port} --root $root --max-uri 8192 --max-head 16384 --max-body 1048576" \
    --target-profile conformance/targets/h1serve.toml --should --color never --format json > "$out/h1serve-again.json" 2>/dev/null || true
  same_verdicts h1serve "$out/h1serve.json" "$out/h1serve-again.json" || status=1
fi
if [ -f "$out/nginx.json" ]; then
  "$h1spec" --spawn 'bash ci/nginx/run.sh {port}' --target-profile ci/nginx/target.toml \
    --should --color never --format json > "$out/nginx-again.json" 2>/dev/null || true
  same_verdicts nginx "$out/nginx.json" "$out/nginx-again.json" || status=1
fi

exit $status

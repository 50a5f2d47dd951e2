#!/usr/bin/env bash
# `h1spec fuzz` smoke: fuzz h1serve over the wire (no finding allowed), and a
# mock with a known smuggling bug (the fuzzer must find it). Bounded in time.
#
#   WIRE_SECONDS=600 bash ci/fuzz-wire.sh     # a longer run against h1serve
#
# Findings against h1serve are written as case files to
# target/fuzz-wire/h1serve/ (replay: h1spec --cases DIR --no-builtin ...).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${WIRE_SECONDS:-20}"

cargo build --release -q -p h1spec -p h1serve
h1spec=target/release/h1spec
out=target/fuzz-wire
rm -rf "$out"
mkdir -p "$out"
root=$(mktemp -d /tmp/h1spec-fuzz-wire.XXXXXX)
trap 'rm -rf "$root"' EXIT
printf '<!doctype html><title>h1spec</title><p>fuzz target\n' > "$root/index.html"

echo "fuzz-wire: h1spec fuzz against h1serve for ${seconds}s (no finding allowed)"
set +e
"$h1spec" fuzz --spawn "target/release/h1serve --listen 127.0.0.1:{port} --root $root" \
  --target-profile conformance/targets/h1serve.toml --duration "${seconds}s" --out "$out/h1serve"
rc=$?
set -e
if [ $rc -ne 0 ]; then
  echo "fuzz-wire: h1spec fuzz against h1serve exited $rc (findings above, case files in $out/h1serve)"
  exit 1
fi

echo "fuzz-wire: h1spec fuzz against the mock with --bug cl-over-te (must be found)"
set +e
"$h1spec" fuzz --spawn "$h1spec mock --listen 127.0.0.1:{port} --bug cl-over-te" --post /echo \
  --duration 10s --max-findings 1 --format json > "$out/mock.json"
rc=$?
set -e
if [ $rc -ne 1 ] || ! grep -q '"signature": "desync:' "$out/mock.json"; then
  echo "fuzz-wire: the fuzzer did not find the mock's cl-over-te bug (exit $rc):"
  cat "$out/mock.json"
  exit 1
fi
echo "fuzz-wire: found it: $(grep -m1 '"signature"' "$out/mock.json" | tr -s ' ')"

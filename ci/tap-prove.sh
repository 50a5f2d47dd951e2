#!/usr/bin/env bash
# h1spec's TAP output read by Perl's `prove` (TAP::Harness), the consumer most
# CI systems use: a run with failures (the mock with a bug) must parse without
# "Parse errors" or YAMLish complaints, and prove must see the failures.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v prove >/dev/null || bash ci/setup.sh
cargo build --release -q -p h1spec
h1spec=target/release/h1spec
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
set +e
"$h1spec" --spawn "$h1spec mock --listen 127.0.0.1:{port} --bug ignore-connection-close --bug head-body" \
  --only persistence,bodiless,chunked --should --wait 300 --format tap > "$out/run.tap"
rc=$?
set -e
[ "$rc" = 1 ] || { echo "tap-prove: expected h1spec to exit 1 (failures), got $rc"; exit 1; }
# prove runs "tests"; --exec cat makes each file its own TAP stream.
set +e
prove --exec cat -v "$out/run.tap" > "$out/prove.txt" 2>&1
prc=$?
set -e
if grep -qiE "parse errors|yamlish|unsupported" "$out/prove.txt"; then
  echo "tap-prove: prove could not parse h1spec's TAP:"; grep -iE -B2 -A5 "parse errors|yamlish|unsupported" "$out/prove.txt" | head -40
  exit 1
fi
fails=$(grep -c '^not ok' "$out/run.tap")
grep -q "Failed $fails/" "$out/prove.txt" || { echo "tap-prove: prove did not report the $fails failures"; tail -20 "$out/prove.txt"; exit 1; }
[ "$prc" != 0 ] || { echo "tap-prove: prove passed a run with failures"; exit 1; }
# The line README.md gives, TAP through a pipe: prove must see the failures
# there too (`prove -e cat -` would read test names from stdin instead).
set +e
"$h1spec" --spawn "$h1spec mock --listen 127.0.0.1:{port} --bug ignore-connection-close --bug head-body" \
  --only persistence,bodiless,chunked --should --wait 300 --format tap 2>/dev/null | prove -e cat /dev/stdin > "$out/pipe.txt" 2>&1
pipe_rc=$?
set -e
[ "$pipe_rc" != 0 ] && grep -q "Failed $fails/" "$out/pipe.txt" || { echo "tap-prove: 'h1spec ... --format tap | prove -e cat /dev/stdin' did not report the $fails failures"; tail -20 "$out/pipe.txt"; exit 1; }
echo "tap-prove: prove parsed $(grep -c '^\(not \)\?ok' "$out/run.tap") results, $fails failures, no parse errors"

#!/usr/bin/env bash
# The GitHub Action (action.yml) run here as GitHub runs it: the same
# INPUT_* variables action.yml passes, GITHUB_ACTION_PATH at this checkout,
# GITHUB_OUTPUT / GITHUB_STEP_SUMMARY / GITHUB_PATH / RUNNER_TEMP in a
# temporary folder. Four runs, the gate both ways on both servers:
#
#   nginx    with its baseline                      -> gate passes (exit-code 0)
#   nginx    --gate MUST, no baseline               -> gate fails  (its MUST deviations)
#   h1serve  --gate MUST                            -> gate passes
#   h1serve  whose --max-uri drifted from what its
#            target profile declares, --gate MUST   -> gate fails  (limits.declared-uri-over)
#
# The first run installs h1spec with cargo install into RUNNER_TEMP, as on a
# fresh runner; the others find it on the PATH (GITHUB_PATH), as later steps
# of a job do. Needs nginx (ci/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
bash ci/setup.sh >/dev/null
cargo build --release -q -p h1serve
h1serve=$repo/target/release/h1serve

tmp=$(mktemp -d "${TMPDIR:-/tmp}/h1spec-action-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export GITHUB_ACTION_PATH=$repo RUNNER_TEMP=$tmp/runner GITHUB_PATH=$tmp/path
mkdir -p "$RUNNER_TEMP" "$tmp/www"
: >"$GITHUB_PATH"
echo '<!doctype html><title>t</title><p>action test' >"$tmp/www/index.html"
# Build where ci/newcomer.sh builds, so a warm machine does not rebuild the dependencies.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$repo/target/newcomer/build}
# A runner has no h1spec: leave out any on this machine's PATH.
base_path=$(tr ":" "\n" <<<"$PATH" | grep -v "^$repo/target" | paste -sd: -)
[ -z "$(PATH=$base_path command -v h1spec)" ] || { echo "action-test: h1spec is on the PATH outside this checkout; remove it for a fresh-runner run" >&2; exit 1; }

# The INPUT_* names action.yml passes are the ones the script reads.
yml=$(grep -oE 'INPUT_[A-Z_]+' action.yml | sort -u)
sh=$(grep -oE 'INPUT_[A-Z_]+' ci/action/h1spec-action.sh | sort -u)
[ "$yml" = "$sh" ] || { echo "action-test: action.yml passes [$(echo $yml)], the script reads [$(echo $sh)]" >&2; exit 1; }

# action.yml is valid YAML (where PyYAML is there to say so).
if python3 -c 'import yaml' 2>/dev/null; then
  python3 -c 'import sys, yaml; d = yaml.safe_load(open("action.yml")); assert d["runs"]["using"] == "composite"' \
    || { echo "action-test: action.yml does not parse" >&2; exit 1; }
fi

status=0
run() {  # run NAME WANT-EXIT [INPUT_X=value ...]
  local name=$1 want=$2; shift 2
  local dir=$tmp/$name
  mkdir -p "$dir"
  (
    cd "$dir"
    unset INPUT_SERVER_COMMAND INPUT_TARGET INPUT_GATE INPUT_BASELINE INPUT_TARGET_PROFILE INPUT_ARGS
    export INPUT_SHOULD=true INPUT_JUNIT=h1spec-junit.xml INPUT_REPORT=h1spec-report.json
    export GITHUB_OUTPUT=$dir/output GITHUB_STEP_SUMMARY=$dir/summary.md
    for kv in "$@"; do export "${kv?}"; done
    PATH=$(paste -sd: "$GITHUB_PATH"):$base_path bash "$repo/ci/action/h1spec-action.sh" >"$dir/log" 2>&1
  ) || { echo "action-test: $name: the step itself failed (it must not)"; tail -20 "$dir/log"; status=1; return; }
  local got
  got=$(sed -n 's/^exit-code=//p' "$dir/output")
  if [ "$got" != "$want" ]; then
    echo "action-test: $name: exit-code $got, wanted $want"; tail -30 "$dir/log"; status=1; return
  fi
  grep -q "<testsuite" "$dir/h1spec-junit.xml" || { echo "action-test: $name: no JUnit report"; status=1; return; }
  [ -s "$dir/h1spec-report.json" ] || { echo "action-test: $name: no JSON report"; status=1; return; }
  grep -q "^### h1spec" "$dir/summary.md" || { echo "action-test: $name: no step summary"; status=1; return; }
  echo "action-test: $name: exit-code $got as wanted; $(sed -n 's/^summary=//p' "$dir/output"); $(sed -n 3p "$dir/summary.md" | cut -c1-60)"
}

start=$(date +%s)
run nginx-baseline 0 \
  "INPUT_SERVER_COMMAND=bash $repo/ci/nginx/run.sh {port}" \
  "INPUT_TARGET_PROFILE=$repo/ci/nginx/target.toml" \
  "INPUT_BASELINE=$repo/conformance/baselines/nginx.json"
grep -q "installing h1spec" "$tmp/nginx-baseline/log" || { echo "action-test: the first run did not install h1spec"; status=1; }
run nginx-gate-must 1 \
  "INPUT_SERVER_COMMAND=bash $repo/ci/nginx/run.sh {port}" \
  "INPUT_TARGET_PROFILE=$repo/ci/nginx/target.toml" \
  "INPUT_GATE=MUST"
run h1serve-gate-must 0 \
  "INPUT_SERVER_COMMAND=$h1serve --listen 127.0.0.1:{port} --root $tmp/www --max-uri 8192 --max-head 16384 --max-body 1m" \
  "INPUT_TARGET_PROFILE=$repo/conformance/targets/h1serve.toml" \
  "INPUT_GATE=MUST"
grep -q "installing h1spec" "$tmp/h1serve-gate-must/log" && { echo "action-test: a later run installed h1spec again"; status=1; }
run h1serve-drifted-limit 1 \
  "INPUT_SERVER_COMMAND=$h1serve --listen 127.0.0.1:{port} --root $tmp/www --max-uri 16384 --max-head 16384 --max-body 1m" \
  "INPUT_TARGET_PROFILE=$repo/conformance/targets/h1serve.toml" \
  "INPUT_GATE=MUST"
grep -q "limits.declared-uri-over" "$tmp/h1serve-drifted-limit/summary.md" || { echo "action-test: the drifted limit is not what failed"; cat "$tmp/h1serve-drifted-limit/summary.md"; status=1; }
echo "action-test: done in $(( $(date +%s) - start ))s, status $status"
exit $status

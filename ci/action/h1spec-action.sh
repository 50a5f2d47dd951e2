#!/usr/bin/env bash
# The step of the GitHub Action in action.yml: install h1spec from the
# action's own checkout, run it against the server, write the outputs and the
# run-page summary. It never fails the step itself: the exit code goes to
# the `exit-code` output, and action.yml's last step exits with it, after
# the reports are uploaded.
#
# Inputs come as INPUT_* variables (action.yml's `env:`); GitHub provides
# GITHUB_ACTION_PATH, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY and RUNNER_TEMP.
# ci/action-test.sh sets the same and runs this script here.
set -euo pipefail

action=${GITHUB_ACTION_PATH:?GITHUB_ACTION_PATH is not set (run by action.yml)}
out=${GITHUB_OUTPUT:-/dev/null}
summary=${GITHUB_STEP_SUMMARY:-/dev/null}
junit=${INPUT_JUNIT:-h1spec-junit.xml}
report=${INPUT_REPORT:-h1spec-report.json}

finish() {  # finish CODE SUMMARY-LINE
  {
    echo "exit-code=$1"
    echo "summary=$2"
    echo "junit=$junit"
    echo "report=$report"
  } >>"$out"
  echo "h1spec-action: exit $1: $2"
  exit 0
}

# --- install: h1spec of this action's version, unless it is on the PATH ---
want=$(sed -n 's/^version = "\(.*\)"/\1/p' "$action/conformance/Cargo.toml" | head -1)
have=$(h1spec --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ]; then
  root=${RUNNER_TEMP:-${TMPDIR:-/tmp}}/h1spec-action
  echo "h1spec-action: installing h1spec $want (cargo install --locked --path $action/conformance)"
  if ! cargo install --locked --quiet --path "$action/conformance" --root "$root"; then
    finish 2 "could not install h1spec"
  fi
  export PATH=$root/bin:$PATH
  [ -n "${GITHUB_PATH:-}" ] && echo "$root/bin" >>"$GITHUB_PATH"
fi

# --- run ---------------------------------------------------------------------
args=()
if [ -n "${INPUT_SERVER_COMMAND:-}" ] && [ -n "${INPUT_TARGET:-}" ]; then
  finish 2 "give server-command or target, not both"
elif [ -n "${INPUT_SERVER_COMMAND:-}" ]; then
  args+=(--spawn "$INPUT_SERVER_COMMAND")
elif [ -n "${INPUT_TARGET:-}" ]; then
  args+=("$INPUT_TARGET")
else
  finish 2 "give server-command (a command with {port}) or target (HOST:PORT)"
fi
[ "${INPUT_SHOULD:-true}" = true ] && args+=(--should)
[ -n "${INPUT_GATE:-}" ] && args+=(--gate "$INPUT_GATE")
[ -n "${INPUT_BASELINE:-}" ] && args+=(--baseline "$INPUT_BASELINE")
[ -n "${INPUT_TARGET_PROFILE:-}" ] && args+=(--target-profile "$INPUT_TARGET_PROFILE")
# shellcheck disable=SC2206 # extra arguments are split on spaces, as documented
[ -n "${INPUT_ARGS:-}" ] && args+=(${INPUT_ARGS})
args+=(--color never --junit "$junit" --write-baseline "$report")

log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "h1spec-action: h1spec ${args[*]}"
set +e
h1spec "${args[@]}" | tee "$log"
code=${PIPESTATUS[0]}
set -e
line=$(grep -E '^[0-9]+ cases: ' "$log" | tail -1 | sed 's/ ([0-9]* of the failures are [^)]*)//')
[ -n "$line" ] || line=$(tail -1 "$log")

# --- summary on the run page -------------------------------------------------
{
  echo "### h1spec: HTTP/1.1 conformance"
  echo
  case $code in
    0) echo "**Gate passed**${INPUT_GATE:+ (levels: $INPUT_GATE)}${INPUT_BASELINE:+ (no regressions against \`$INPUT_BASELINE\`)}: $line" ;;
    1) echo "**Gate failed**${INPUT_GATE:+ (levels: $INPUT_GATE)}${INPUT_BASELINE:+ (regressions against \`$INPUT_BASELINE\`)}: $line" ;;
    *) echo "**h1spec could not run** (exit $code): $line" ;;
  esac
  if [ -s "$report" ]; then
    python3 - "$report" <<'PY' || true
import json, sys
r = json.load(open(sys.argv[1]))
fails = [x for x in r.get("results", []) if x.get("verdict") == "fail"]
if fails:
    print()
    print("| level | case | observed |")
    print("|---|---|---|")
    for x in fails[:50]:
        observed = str(x.get("observed", "")).replace("|", "\\|")
        print(f"| {x.get('level', '')} | `{x['id']}` | {observed} |")
    if len(fails) > 50:
        print(f"\n... and {len(fails) - 50} more in the JUnit report")
PY
  fi
} >>"$summary"

finish "$code" "$line"

#!/usr/bin/env bash
# Fuzz smoke: every cargo-fuzz target for a bounded time, starting from the
# committed seeds in corpus/fuzz/<target>/ (fuzz/corpus links there), with the
# HTTP dictionary. Fails on any crash, panic or finding.
#
#   FUZZ_SECONDS=60 bash ci/fuzz-smoke.sh            # all targets, 60 s each
#   FUZZ_SECONDS=10 bash ci/fuzz-smoke.sh chunked    # one target
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${FUZZ_SECONDS:-60}"

if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "fuzz-smoke: a nightly toolchain is needed (rustup toolchain install nightly)" >&2
  exit 1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz-smoke: installing cargo-fuzz"
  cargo install --locked cargo-fuzz
fi

cd fuzz
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo +nightly fuzz list)
fi
cargo +nightly fuzz build
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  log=$(mktemp)
  if cargo +nightly fuzz run "$t" -- -max_total_time="$seconds" -dict=http.dict -print_final_stats=1 >"$log" 2>&1; then
    runs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' || echo '?')
    cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -1 | grep -Eo '[0-9]+' || echo '?')
    echo "fuzz-smoke: $t ok: $runs runs in ${seconds}s, cov $cov"
    rm -f "$log"
  else
    echo "fuzz-smoke: $t FAILED; log follows" >&2
    tail -60 "$log" >&2
    echo "fuzz-smoke: reproduce with: cd fuzz && cargo +nightly fuzz run $t artifacts/$t/<crash file>" >&2
    exit 1
  fi
done

#!/usr/bin/env bash
# A newcomer's path, from a fresh clone: README.md's install lines put
# h1serve and h1spec on the PATH, and its first-screen commands work as
# written, `cargo +nightly fuzz run parser` at the root included. Every
# command run here is first looked up, character for character, in the
# clone's README.md, so the README and this check cannot drift apart.
#
#   bash ci/newcomer.sh
#
# Clones the committed HEAD of this repository into a temporary folder and
# installs into a temporary root. Builds go to target/newcomer/ of this
# checkout (kept between runs, so dependencies are built once; the three
# crates of the clone are always rebuilt). Needs nightly and cargo-fuzz for
# the fuzz step (ci/fuzz-smoke.sh installs it), curl, and prove for the TAP
# line (ci/setup.sh). A warm run takes about 3 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
work=$(mktemp -d "${TMPDIR:-/tmp}/h1kit-newcomer.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
start=$(date +%s)
say() { echo "newcomer: $* ($(( $(date +%s) - start ))s)"; }
fail() { echo "newcomer: FAILED: $*" >&2; exit 1; }

git clone -q "$repo" "$work/h1kit"
clone=$work/h1kit
readme=$clone/README.md

# Runs a README line exactly as written (bash -c), from the clone's root,
# after checking that README.md has the line.
from_readme() {
  grep -qxF -- "$1" "$readme" || fail "README.md no longer has the line: $1"
}

export CARGO_INSTALL_ROOT=$work/root
export CARGO_TARGET_DIR=$repo/target/newcomer/build
export PATH=$CARGO_INSTALL_ROOT/bin:$PATH
cd "$clone"

# --- Install -----------------------------------------------------------------
for line in "cargo install --locked --path server" "cargo install --locked --path conformance"; do
  from_readme "$line"
  bash -c "$line" 2>&1 | tail -2
done
for tool in h1serve h1spec; do
  [ "$(command -v $tool)" = "$CARGO_INSTALL_ROOT/bin/$tool" ] || fail "$tool is not on the PATH from the install root"
  $tool --help >/dev/null || fail "$tool --help"
done
say "install: h1serve and h1spec on the PATH, --help works"

# --- Parse -------------------------------------------------------------------
line="printf 'GET / HTTP/1.1\\r\\nHost: example.com\\r\\n\\r\\n' | cargo run -q -p h1parse --example parse"
from_readme "$line"
out=$(bash -c "$line")
grep -q "^method   GET" <<<"$out" && grep -q "^field    Host: example.com" <<<"$out" || fail "parse printed: $out"
say "parse: $(wc -l <<<"$out") lines, method GET"

# --- Serve -------------------------------------------------------------------
free() { python3 -c 'import socket,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.close()' "$1" 2>/dev/null; }
serve() {  # serve LINE PORT: start the README line, GET / on PORT, stop it
  local line=$1 port=$2
  from_readme "$line"
  if ! free "$port"; then
    say "serve: port $port is taken on this machine; \`$line\` not started (its line is in README.md)"
    return
  fi
  bash -c "exec $line" >"$work/serve.log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  local status=""
  for _ in $(seq 50); do
    status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/" || true)
    [ "$status" = 200 ] && break
    sleep 0.1
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true
  [ "$status" = 200 ] || { cat "$work/serve.log" >&2; fail "\`$line\`: GET / on port $port gave '$status'"; }
  say "serve: \`$line\` answered GET / with 200"
}
serve "h1serve" 8080
line="mkdir -p public && echo '<h1>hello</h1>' > public/index.html"
from_readme "$line"
bash -c "$line"
serve "h1serve --root public --listen 127.0.0.1:8000 --access-log -" 8000

# --- Judge -------------------------------------------------------------------
line="h1spec --spawn 'h1serve --listen 127.0.0.1:{port}'"
from_readme "$line"
rc=0; bash -c "$line" >"$work/judge.txt" 2>&1 || rc=$?
[ "$rc" = 0 ] || { tail -30 "$work/judge.txt" >&2; fail "\`$line\` exited $rc"; }
say "judge: $(tail -1 "$work/judge.txt")"
line="h1spec --spawn 'h1serve --listen 127.0.0.1:{port}' --format tap | prove -e cat /dev/stdin"
from_readme "$line"
if command -v prove >/dev/null; then
  bash -c "set -o pipefail; $line" >"$work/tap.txt" 2>&1 || { tail -20 "$work/tap.txt" >&2; fail "\`$line\`"; }
  grep -q "^Result: PASS" "$work/tap.txt" || fail "prove did not pass: $(tail -3 "$work/tap.txt")"
  say "judge: TAP through prove: $(grep -E '^Files=' "$work/tap.txt" | cut -d, -f1-2)"
else
  say "judge: prove is not installed; TAP line not run (ci/setup.sh installs it)"
fi

# --- Fuzz --------------------------------------------------------------------
line="cargo +nightly fuzz run parser"
from_readme "$line"
# The README's line, bounded: libFuzzer takes its options after `--`.
CARGO_TARGET_DIR=$repo/target/newcomer/fuzz bash -c "$line -- -max_total_time=5" >"$work/fuzz.txt" 2>&1 \
  || { tail -30 "$work/fuzz.txt" >&2; fail "\`$line\` from the clone's root"; }
grep -q "^Done [0-9]* runs" "$work/fuzz.txt" || fail "\`$line\` did not fuzz: $(tail -5 "$work/fuzz.txt")"
say "fuzz: \`$line\` from the root: $(grep '^Done' "$work/fuzz.txt")"
line="h1spec fuzz --spawn 'h1serve --listen 127.0.0.1:{port}' --duration 30s"
from_readme "$line"
# Bounded to 5 s here; the line as written runs 30 s.
bash -c "${line/30s/5s}" >"$work/wire.txt" 2>&1 || { tail -20 "$work/wire.txt" >&2; fail "\`$line\`"; }
grep -q "^no findings" "$work/wire.txt" || fail "h1spec fuzz against h1serve: $(tail -5 "$work/wire.txt")"
say "fuzz: $(grep -m1 '^h1spec fuzz:' "$work/wire.txt"); no findings"

say "done: a fresh clone installs, and its README's first commands work"

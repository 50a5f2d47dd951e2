#!/usr/bin/env bash
# Format, lints and the test suite: the gate every change passes.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all --check
cargo clippy --workspace --all-targets -- -D warnings
cargo test --workspace

#!/usr/bin/env bash
# Runs Python's http.server (the standard library's, HTTP/1.0 by default) in
# the foreground on 127.0.0.1:$1, serving a fresh folder. For `h1spec --spawn`.
set -euo pipefail
port=$1
root=$(mktemp -d /tmp/h1spec-python.XXXXXX)
printf '<!doctype html><title>h1spec</title><p>h1spec conformance target\n' > "$root/index.html"
trap 'kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$root"' EXIT TERM INT
python3 -m http.server --bind 127.0.0.1 --directory "$root" "$port" 2>/dev/null &
pid=$!
wait "$pid"

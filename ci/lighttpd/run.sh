#!/usr/bin/env bash
# Runs lighttpd in the foreground on 127.0.0.1:$1 with
# ci/lighttpd/conformance.conf in a fresh prefix. For `h1spec --spawn`.
set -euo pipefail
port=$1
here=$(cd "$(dirname "$0")" && pwd)
prefix=$(mktemp -d /tmp/h1spec-lighttpd.XXXXXX)
mkdir -p "$prefix"/{logs,html}
chmod 755 "$prefix" "$prefix/html"
chmod 777 "$prefix/logs"
printf '<!doctype html><title>h1spec</title><p>h1spec conformance target\n' > "$prefix/html/index.html"
sed "s|__PORT__|$port|; s|__PREFIX__|$prefix|g" "$here/conformance.conf" > "$prefix/lighttpd.conf"
trap 'kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$prefix"' EXIT TERM INT
/usr/sbin/lighttpd -D -f "$prefix/lighttpd.conf" &
pid=$!
wait "$pid"

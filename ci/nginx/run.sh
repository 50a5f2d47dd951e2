#!/usr/bin/env bash
# Runs nginx in the foreground on 127.0.0.1:$1 with ci/nginx/conformance.conf
# in a fresh prefix directory. Meant for `h1spec --spawn`, which stops it by
# process group. Usage: ci/nginx/run.sh PORT
set -euo pipefail
port=$1
here=$(cd "$(dirname "$0")" && pwd)
prefix=$(mktemp -d /tmp/h1spec-nginx.XXXXXX)
mkdir -p "$prefix"/{conf,logs,html,tmp}
chmod 755 "$prefix" "$prefix/html"
chmod 777 "$prefix/tmp"
printf '<!doctype html><title>h1spec</title><p>h1spec conformance target\n' > "$prefix/html/index.html"
sed "s/__PORT__/$port/" "$here/conformance.conf" > "$prefix/conf/nginx.conf"
trap 'kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$prefix"' EXIT TERM INT
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
"$NGINX" -p "$prefix" -c conf/nginx.conf -g 'daemon off;' &
pid=$!
wait "$pid"

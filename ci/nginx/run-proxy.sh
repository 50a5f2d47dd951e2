#!/usr/bin/env bash
# Runs nginx as a reverse proxy on 127.0.0.1:$1 forwarding to
# 127.0.0.1:$2 (h1spec's echo origin), with ci/nginx/proxy.conf in a fresh
# prefix. For `h1spec fuzz --spawn 'bash ci/nginx/run-proxy.sh {port}
# {origin_port}' --origin-listen 127.0.0.1:0`.
set -euo pipefail
port=$1
origin=$2
here=$(cd "$(dirname "$0")" && pwd)
prefix=$(mktemp -d /tmp/h1spec-nginx-proxy.XXXXXX)
mkdir -p "$prefix"/{conf,logs,tmp}
chmod 755 "$prefix"
chmod 777 "$prefix/tmp"
sed "s/__PORT__/$port/; s/__ORIGIN__/$origin/" "$here/proxy.conf" > "$prefix/conf/nginx.conf"
trap 'kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$prefix"' EXIT TERM INT
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
"$NGINX" -p "$prefix" -c conf/nginx.conf -g 'daemon off;' &
pid=$!
wait "$pid"

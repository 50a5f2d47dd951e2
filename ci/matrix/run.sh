#!/usr/bin/env bash
# Runs one server of the verdict matrix in the foreground on 127.0.0.1:PORT,
# with the matrix application in one of its two variants (ci/matrix/README.md):
#   GET|HEAD /          200, a small HTML page
#   POST /echo          200, the request body back (nginx: "ok", see its config)
#   GET|HEAD /nocontent 204
#   another method on one of these routes: 404 (variant 404), or the body read
#     and 405 with Allow (variant 405); any other path: 404
# For `h1spec --spawn 'bash ci/matrix/run.sh SERVER VARIANT {port}'`, which stops
# it by process group; temp folders are removed on exit, and the server is
# stopped by its own pid.
# Usage: ci/matrix/run.sh SERVER VARIANT PORT
#   SERVER: nginx apache lighttpd python node go h1serve php uvicorn
#   VARIANT: 404 405
# Environment: H1SERVE (default target/release/h1serve), NGINX, PYTHON,
# GOCACHE/GOPATH (default under /tmp/h1spec-matrix-go).
set -euo pipefail
if [ $# -ne 3 ]; then
  echo "usage: $0 SERVER VARIANT PORT" >&2
  exit 2
fi
server=$1 variant=$2 port=$3
case $variant in
  404|405) ;;
  *) echo "run.sh: VARIANT is 404 or 405, not '$variant'" >&2; exit 2 ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
PYTHON=${PYTHON:-python3}

tmp=$(mktemp -d "/tmp/h1spec-matrix-$server.XXXXXX")
chmod 755 "$tmp"
pid=""
cleanup() {
  if [ -n "$pid" ]; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

page() { # DIR: the page as DIR/index.html
  mkdir -p "$1"
  chmod 755 "$1"
  printf '<!doctype html><title>h1spec</title><p>h1spec matrix app\n' > "$1/index.html"
}
cgi() { # FILE: the CGI script with the variant filled in
  sed "s/__VARIANT__/$variant/" "$here/cgi/app.sh" > "$1"
  chmod 755 "$1"
}

case $server in
  nginx)
    mkdir -p "$tmp"/{conf,logs,tmp}
    chmod 777 "$tmp/tmp"
    page "$tmp/html"
    if [ "$variant" = 405 ]; then
      get='add_header Allow "GET, HEAD" always; return 405;'
      post='add_header Allow "POST" always; return 405;'
    else
      get='return 404;' post='return 404;'
    fi
    sed "s/__PORT__/$port/; s/__VARIANT_GET__/$get/; s/__VARIANT_POST__/$post/" \
      "$here/nginx/nginx.conf" > "$tmp/conf/nginx.conf"
    NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
    "$NGINX" -p "$tmp" -c conf/nginx.conf -g 'daemon off;' &
    ;;
  apache)
    mkdir -p "$tmp"/{logs,cgi-bin}
    chmod 755 "$tmp/cgi-bin"
    page "$tmp/html"
    cgi "$tmp/cgi-bin/app.cgi"
    sed "s|__PORT__|$port|; s|__PREFIX__|$tmp|g" "$here/apache/httpd.conf" > "$tmp/httpd.conf"
    /usr/sbin/apache2 -f "$tmp/httpd.conf" -DFOREGROUND &
    ;;
  lighttpd)
    mkdir -p "$tmp/logs"
    chmod 777 "$tmp/logs"
    page "$tmp/html"
    cgi "$tmp/html/app.cgi"
    sed "s|__PORT__|$port|; s|__PREFIX__|$tmp|g" "$here/lighttpd/lighttpd.conf" > "$tmp/lighttpd.conf"
    /usr/sbin/lighttpd -D -f "$tmp/lighttpd.conf" &
    ;;
  python)
    "$PYTHON" "$here/python/app.py" "$port" "$variant" &
    ;;
  node)
    node "$here/node/app.js" "$port" "$variant" &
    ;;
  go)
    # Standard library only; the build cache is kept between runs (a warm
    # build takes about a second), nothing is fetched.
    export GOCACHE=${GOCACHE:-/tmp/h1spec-matrix-go/cache} GOPATH=${GOPATH:-/tmp/h1spec-matrix-go/path}
    export GOPROXY=off GO111MODULE=on
    (cd "$here/go" && go build -o "$tmp/app" main.go)
    "$tmp/app" "$port" "$variant" &
    ;;
  h1serve)
    # h1serve serves files and CGI under /cgi-bin/ only: POST goes to
    # /cgi-bin/echo and the 204 to /cgi-bin/nocontent (the same script under
    # two names), and other methods on / get h1serve's own 405 with Allow in
    # both variants (see ci/matrix/README.md).
    H1SERVE=${H1SERVE:-$repo/target/release/h1serve}
    page "$tmp/www"
    mkdir -p "$tmp/cgi"
    cgi "$tmp/cgi/echo"
    cgi "$tmp/cgi/nocontent"
    "$H1SERVE" --listen "127.0.0.1:$port" --root "$tmp/www" --cgi-dir "$tmp/cgi" &
    ;;
  php)
    # The built-in server logs every connection to stderr: dropped.
    MATRIX_VARIANT=$variant php -d display_errors=stderr -S "127.0.0.1:$port" -t "$tmp" \
      "$here/php/router.php" 2>/dev/null &
    ;;
  uvicorn)
    # The pure-Python h11 parser (--http h11), not httptools.
    MATRIX_VARIANT=$variant "$PYTHON" -m uvicorn --app-dir "$here/uvicorn" app:app \
      --host 127.0.0.1 --port "$port" --http h11 --lifespan off --no-access-log --log-level warning &
    ;;
  *)
    echo "run.sh: unknown server '$server' (nginx apache lighttpd python node go h1serve php uvicorn)" >&2
    exit 2
    ;;
esac
pid=$!
wait "$pid"

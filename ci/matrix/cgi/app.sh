#!/bin/sh
# The matrix application's dynamic routes as a CGI/1.1 script (RFC 3875),
# for Apache, lighttpd and h1serve (ci/matrix/README.md). run.sh copies it
# with __VARIANT__ filled in (404 or 405). The route is PATH_INFO (Apache and
# lighttpd rewrite /echo to /app.cgi/echo), else the script's own name
# (h1serve: /cgi-bin/echo, /cgi-bin/nocontent).
variant=__VARIANT__
route=${PATH_INFO:-/${SCRIPT_NAME##*/}}
case $route in
  /) allow="GET, HEAD" ;;
  /echo) allow="POST" ;;
  /nocontent) allow="GET, HEAD" ;;
  *) allow="" ;;
esac

# The whole body: CONTENT_LENGTH octets, or to EOF when the server gives no
# length (a chunked body some servers pass on decoded).
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
if [ -n "${CONTENT_LENGTH:-}" ]; then
  head -c "$CONTENT_LENGTH" > "$tmp"
else
  cat > "$tmp"
fi

answer() { # STATUS TEXT [ALLOW]
  [ -n "${3:-}" ] && printf 'Allow: %s\n' "$3"
  printf 'Status: %s\nContent-Type: text/plain\nContent-Length: %d\n\n%s\n' "$1" $((${#2} + 1)) "$2"
}

if [ -z "$allow" ]; then
  answer "404 Not Found" "not found"
  exit 0
fi
case ", $allow," in
  *", $REQUEST_METHOD,"*) ;;
  *)
    if [ "$variant" = 405 ]; then
      answer "405 Method Not Allowed" "method not allowed" "$allow"
    else
      answer "404 Not Found" "not found"
    fi
    exit 0 ;;
esac
case $route in
  /nocontent) printf 'Status: 204 No Content\n\n' ;;
  /echo)
    printf 'Status: 200 OK\nContent-Type: application/octet-stream\nContent-Length: %d\n\n' "$(wc -c < "$tmp")"
    cat "$tmp" ;;
  /) printf 'Status: 200 OK\nContent-Type: text/html\n\n<!doctype html><title>h1spec</title><p>h1spec matrix app\n' ;;
esac

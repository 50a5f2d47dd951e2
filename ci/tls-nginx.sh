#!/usr/bin/env bash
# h1spec over TLS against nginx: the same nginx serves the same content on a
# plain port and on a TLS port (a certificate made here by a throwaway CA),
# h1spec runs every case (SHOULD included) against both, and the verdicts
# must be the same case by case. The cases tagged `transport` in the case
# files (`h1spec --list --only transport`) are about the transport itself:
# their verdict may differ over TLS, for the reason their case file and
# docs/conformance.md ("Over TLS") give.
#
# Prints a table of the cases whose verdicts differ; exits 1 if any case
# not tagged `transport` differs, 2 if a run could not complete.
# Usage: bash ci/tls-nginx.sh   (about 40 s)
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
if [ ${#need[@]} -gt 0 ]; then
  echo "tls-nginx: installing ${need[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}

# The debug build: a run's time is the target's waits, not h1spec's CPU, and
# the workspace tests have built it already.
echo "tls-nginx: building h1spec"
cargo build -q -p h1spec
h1spec=target/debug/h1spec
out=target/tls-nginx
mkdir -p "$out"

work=$(mktemp -d /tmp/h1spec-tls-nginx.XXXXXX)
nginx_pid=""
cleanup() {
  if [ -n "$nginx_pid" ]; then
    kill -TERM "$nginx_pid" 2>/dev/null || true
    wait "$nginx_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# A CA, and a server certificate it signs for localhost and 127.0.0.1 (not
# self-signed: a CA certificate cannot also be the server's, for rustls).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj "/CN=h1spec tls-nginx CA" -keyout "$work/ca.key" -out "$work/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -subj "/CN=localhost" -keyout "$work/server.key" -out "$work/server.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n' > "$work/ext"
openssl x509 -req -in "$work/server.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" \
  -CAcreateserial -days 2 -extfile "$work/ext" -out "$work/server.pem" 2>/dev/null

# Two free loopback ports, held together so that they differ.
read -r plain_port tls_port < <(python3 -c '
import socket
a, b = socket.socket(), socket.socket()
a.bind(("127.0.0.1", 0)); b.bind(("127.0.0.1", 0))
print(a.getsockname()[1], b.getsockname()[1])')

# ci/nginx/conformance.conf's server, twice: plain and with ssl.
mkdir -p "$work"/{conf,logs,html,tmp}
chmod 755 "$work" "$work/html"
chmod 777 "$work/tmp"
printf '<!doctype html><title>h1spec</title><p>h1spec conformance target\n' > "$work/html/index.html"
site='server_name localhost;
        root html;
        location = /echo { return 200 "ok\n"; }
        location = /empty { return 204; }'
cat > "$work/conf/nginx.conf" <<EOF
worker_processes 1;
pid nginx.pid;
error_log logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path tmp/body;
    proxy_temp_path tmp/proxy;
    fastcgi_temp_path tmp/fastcgi;
    uwsgi_temp_path tmp/uwsgi;
    scgi_temp_path tmp/scgi;
    server {
        listen 127.0.0.1:$plain_port;
        $site
    }
    server {
        listen 127.0.0.1:$tls_port ssl;
        ssl_certificate $work/server.pem;
        ssl_certificate_key $work/server.key;
        $site
    }
}
EOF
"$NGINX" -p "$work" -c conf/nginx.conf -g 'daemon off;' &
nginx_pid=$!
up=0
for _ in $(seq 1 50); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$plain_port") 2>/dev/null && (exec 3<>"/dev/tcp/127.0.0.1/$tls_port") 2>/dev/null; then
    up=1
    break
  fi
  sleep 0.1
done
if [ "$up" != 1 ]; then
  echo "tls-nginx: nginx did not start"; cat "$work/logs/error.log" || true
  exit 2
fi
echo "tls-nginx: $("$NGINX" -v 2>&1), plain on $plain_port, TLS on $tls_port"

# One run after the other: at once, on a loaded machine, a case that waits
# for an immediate answer (the Expect cases) could miss it for want of CPU.
common=(--target-profile ci/nginx/target.toml --should --color never --format json)
run_both() {  # run_both SUFFIX [h1spec options...]: $out/plain$SUFFIX.json, $out/tls$SUFFIX.json
  local suffix=$1; shift
  local rc
  for side in plain tls; do
    set +e
    if [ "$side" = plain ]; then
      "$h1spec" "127.0.0.1:$plain_port" "${common[@]}" "$@" > "$out/plain$suffix.json" 2> "$out/plain$suffix.err"
    else
      "$h1spec" "https://localhost:$tls_port" --cacert "$work/ca.pem" "${common[@]}" "$@" > "$out/tls$suffix.json" 2> "$out/tls$suffix.err"
    fi
    rc=$?
    set -e
    if [ "$rc" -gt 1 ]; then
      echo "tls-nginx: the $side run could not complete (exit $rc):"; cat "$out/$side$suffix.err"
      exit 2
    fi
  done
}
started=$(date +%s)
run_both ""
echo "tls-nginx: both runs took $(( $(date +%s) - started )) s"

"$h1spec" --list --only transport --should --format json > "$out/transport.json"
"$h1spec" --list --should --format json > "$out/cases.json"
# compare PLAIN.json TLS.json: prints the table, writes the case ids that
# differ and are not transport cases to $out/differ.txt; exits 1 if a result
# that is no case (a response check, a preflight rule) differs.
compare() {
  python3 - "$1" "$2" "$out/transport.json" "$out/differ.txt" "$out/cases.json" <<'PY'
import json, sys

# The cases about the transport (tagged `transport`): their verdict may
# legitimately differ over TLS.
TRANSPORT = {c["id"]: c["title"] for c in json.load(open(sys.argv[3]))}

def verdicts(path):
    return {r["id"]: (r["verdict"], r.get("observed", ""), r.get("reasons", [])) for r in json.load(open(path))["results"]}

plain, tls = verdicts(sys.argv[1]), verdicts(sys.argv[2])
ids = sorted(plain.keys() | tls.keys())
absent = ("absent", "", [])
differ = [i for i in ids if plain.get(i, absent)[0] != tls.get(i, absent)[0]]
unexpected = [i for i in differ if i not in TRANSPORT]
print(f"tls-nginx: {len(ids)} results, {len(ids) - len(differ)} with the same verdict plain and over TLS, {len(differ)} differ ({len(differ) - len(unexpected)} of them transport cases)")
if differ:
    print(f"{'case':<44} {'plain':<6} {'TLS':<6} observed plain / over TLS")
    for i in differ:
        p, t = plain.get(i, absent), tls.get(i, absent)
        mark = "" if i in TRANSPORT else "  <- not a transport case"
        print(f"{i:<44} {p[0]:<6} {t[0]:<6} {p[1]} / {t[1]}{mark}")
        why = f"transport case: {TRANSPORT[i]}" if i in TRANSPORT else "; ".join(p[2] + t[2])
        if why:
            print(f"{'':<44} {why}")
cases = {c["id"] for c in json.load(open(sys.argv[5]))}
open(sys.argv[4], "w").write(",".join(i for i in unexpected if i in cases))
sys.exit(1 if any(i not in cases for i in unexpected) else 0)
PY
}
if ! compare "$out/plain.json" "$out/tls.json"; then
  echo "tls-nginx: FAIL: a response check or preflight rule differs over TLS"
  exit 1
fi
echo "tls-nginx: transport cases (may differ): $(python3 -c 'import json,sys; print(", ".join(c["id"] for c in json.load(open(sys.argv[1]))))' "$out/transport.json")"
differ=$(cat "$out/differ.txt")
if [ -n "$differ" ]; then
  # As the runner does for silent cases: a difference is judged again with
  # each case run alone, where load cannot be what made it.
  echo "tls-nginx: running again, alone: $differ"
  run_both "-again" --only "$differ" --jobs 1
  if ! compare "$out/plain-again.json" "$out/tls-again.json" || [ -n "$(cat "$out/differ.txt")" ]; then
    echo "tls-nginx: FAIL: verdicts differ over TLS in cases not tagged transport"
    exit 1
  fi
fi
echo "tls-nginx: ok: the same verdicts plain and over TLS (transport cases aside)"

#!/usr/bin/env bash
# The verdict matrix: h1spec against real servers, each behind the same
# ordinary application in two variants (ci/matrix/README.md), and every
# verdict compared with the committed adjudication files
# ci/matrix/adjudication/SERVER.toml (ci/matrix/compare.py).
#
#   bash ci/verdict-matrix.sh                 all nine servers, both variants
#   bash ci/verdict-matrix.sh --ci            the servers a CI machine has after
#                                             ci/setup.sh: nginx, h1serve, python
#   SERVERS="nginx node" VARIANTS=405 bash ci/verdict-matrix.sh
#   bash ci/verdict-matrix.sh --list --draft  also list every failure and variant
#                                             difference, and draft the missing
#                                             adjudication entries
#
# Environment:
#   SERVERS   servers to run (default: nginx apache lighttpd python node go
#             h1serve php uvicorn); a server whose program is not installed is
#             reported as skipped
#   VARIANTS  default "404 405"
#   H1SPEC    the h1spec binary; unset: `cargo build --release -p h1spec -p
#             h1serve` and target/release/h1spec
#   H1SERVE   the h1serve binary (default: h1serve next to H1SPEC)
#   MATRIX_INSTALL=1  apt-get/pip install the servers that are missing
#             (otherwise nothing is installed)
#
# Each run: h1spec --spawn 'bash ci/matrix/run.sh SERVER VARIANT {port}'
# --should, JSON into target/verdict-matrix/SERVER-VARIANT.json (stderr in
# .log). h1spec's exit 1 (failures) is normal; exit 2 or 3 is a broken target
# and fails the script. Then compare.py (exit 1 on a failure without a reason,
# an entry whose case no longer fails, or variants that differ where
# [variant_differs] does not say they may), target/verdict-matrix/table.md and
# the HTML report target/verdict-matrix/report.html. Each h1spec run takes
# 15-40 s; all nine servers in both variants take about 5 minutes (2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."

ALL="nginx apache lighttpd python node go h1serve php uvicorn"
CI_SERVERS="nginx h1serve python"
# uvicorn's pure-Python parser is h11: both pinned.
UVICORN_VERSION=0.55.0
H11_VERSION=0.16.0

ci=0 compare_flags=()
for a in "$@"; do
  case $a in
    --ci) ci=1 ;;
    --list|--draft) compare_flags+=("$a") ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "verdict-matrix: unknown argument '$a' (--ci, --list, --draft)" >&2; exit 2 ;;
  esac
done
if [ "$ci" = 1 ]; then
  SERVERS=${SERVERS:-$CI_SERVERS}
fi
SERVERS=${SERVERS:-$ALL}
VARIANTS=${VARIANTS:-404 405}
for s in $SERVERS; do
  case " $ALL " in *" $s "*) ;; *) echo "verdict-matrix: unknown server '$s' (one of: $ALL)" >&2; exit 2 ;; esac
done
for v in $VARIANTS; do
  case $v in 404|405) ;; *) echo "verdict-matrix: unknown variant '$v' (404, 405)" >&2; exit 2 ;; esac
done

if [ -z "${H1SPEC:-}" ]; then
  echo "verdict-matrix: building h1spec and h1serve (release)"
  cargo build --release -q -p h1spec -p h1serve
  H1SPEC=target/release/h1spec
fi
case $H1SPEC in
  */*) H1SPEC=$(cd "$(dirname "$H1SPEC")" && pwd)/$(basename "$H1SPEC") ;;
  *) H1SPEC=$(command -v "$H1SPEC") ;;
esac
H1SERVE=${H1SERVE:-$(dirname "$H1SPEC")/h1serve}
export H1SERVE
PYTHON=${PYTHON:-python3}
export PYTHON

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

# have SERVER: whether its program is installed (else a reason on stdout).
have() {
  case $1 in
    nginx) command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || { echo "no nginx"; return 1; } ;;
    apache) [ -x /usr/sbin/apache2 ] && [ -e /usr/lib/apache2/modules/mod_cgid.so ] || { echo "no /usr/sbin/apache2 with mod_cgid"; return 1; } ;;
    lighttpd) [ -x /usr/sbin/lighttpd ] || { echo "no /usr/sbin/lighttpd"; return 1; } ;;
    python) command -v "$PYTHON" >/dev/null 2>&1 || { echo "no $PYTHON"; return 1; } ;;
    node) command -v node >/dev/null 2>&1 || { echo "no node"; return 1; } ;;
    go) command -v go >/dev/null 2>&1 || { echo "no go"; return 1; } ;;
    h1serve) [ -x "$H1SERVE" ] || { echo "no $H1SERVE (build it: cargo build --release -p h1serve)"; return 1; } ;;
    php) command -v php >/dev/null 2>&1 || { echo "no php"; return 1; } ;;
    uvicorn) "$PYTHON" -c 'import uvicorn, h11' >/dev/null 2>&1 || { echo "no uvicorn for $PYTHON (pip install uvicorn==$UVICORN_VERSION h11==$H11_VERSION)"; return 1; } ;;
  esac
}

# version SERVER: one line for the table.
version() {
  case $1 in
    nginx) "$(command -v nginx || echo /usr/sbin/nginx)" -v 2>&1 | sed -n 's|.*nginx/||p' ;;
    apache) /usr/sbin/apache2 -v | sed -n 's|^Server version: Apache/\([^ ]*\).*|\1|p' ;;
    lighttpd) /usr/sbin/lighttpd -v | sed -n 's|^lighttpd/\([^ ]*\).*|\1|p' ;;
    python) "$PYTHON" -c 'import platform; print(platform.python_version())' ;;
    node) node --version | sed 's/^v//' ;;
    go) go version | awk '{print $3}' | sed 's/^go//' ;;
    h1serve) "$H1SERVE" --version | awk '{print $NF}' ;;
    php) php -r 'echo PHP_VERSION, "\n";' ;;
    uvicorn) "$PYTHON" -c 'import platform, uvicorn, h11; print(f"{uvicorn.__version__} (h11 {h11.__version__}, Python {platform.python_version()})")' ;;
  esac
}

# routes SERVER: h1spec's path flags (h1serve runs scripts under /cgi-bin/ only).
routes() {
  case $1 in
    h1serve) echo "--path / --post /cgi-bin/echo --nocontent /cgi-bin/nocontent" ;;
    *) echo "--path / --post /echo --nocontent /nocontent" ;;
  esac
}

if [ "${MATRIX_INSTALL:-0}" = 1 ]; then
  apt_pkgs=() pip_needed=0
  for s in $SERVERS; do
    have "$s" >/dev/null && continue
    case $s in
      nginx) apt_pkgs+=(nginx) ;;
      apache) apt_pkgs+=(apache2) ;;
      lighttpd) apt_pkgs+=(lighttpd) ;;
      python) apt_pkgs+=(python3) ;;
      node) apt_pkgs+=(nodejs) ;;
      go) apt_pkgs+=(golang-go) ;;
      php) apt_pkgs+=(php-cli) ;;
      uvicorn)
        pip_needed=1
        command -v "$PYTHON" >/dev/null 2>&1 || apt_pkgs+=(python3)
        "$PYTHON" -m pip --version >/dev/null 2>&1 || apt_pkgs+=(python3-pip) ;;
      h1serve) ;;  # built above when H1SPEC is unset
    esac
  done
  if [ ${#apt_pkgs[@]} -gt 0 ]; then
    echo "verdict-matrix: installing ${apt_pkgs[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${apt_pkgs[@]}" >/dev/null
  fi
  if [ "$pip_needed" = 1 ]; then
    echo "verdict-matrix: installing uvicorn==$UVICORN_VERSION h11==$H11_VERSION"
    # Debian's own Python refuses pip without --break-system-packages (PEP 668).
    "$PYTHON" -m pip install -q "uvicorn==$UVICORN_VERSION" "h11==$H11_VERSION" ||
      "$PYTHON" -m pip install -q --break-system-packages "uvicorn==$UVICORN_VERSION" "h11==$H11_VERSION"
  fi
fi

out=target/verdict-matrix
mkdir -p "$out"
rm -f "$out"/*.json "$out"/*.log "$out"/*.version "$out"/table.md "$out"/report.html

status=0 ran=() skipped=() broken=()
start_all=$(date +%s)
for s in $SERVERS; do
  if ! why=$(have "$s"); then
    echo "verdict-matrix: SKIPPED $s: $why"
    skipped+=("$s")
    continue
  fi
  version "$s" > "$out/$s.version" || echo "unknown" > "$out/$s.version"
  if [ "$s" = go ]; then
    # Warm the build cache once, so run.sh's build is quick under --spawn-wait.
    gotmp=$(mktemp -d /tmp/h1spec-matrix-gobuild.XXXXXX)
    (cd ci/matrix/go && GOCACHE=${GOCACHE:-/tmp/h1spec-matrix-go/cache} GOPATH=${GOPATH:-/tmp/h1spec-matrix-go/path} \
      GOPROXY=off GO111MODULE=on go build -o "$gotmp/app" main.go)
    rm -rf "$gotmp"
  fi
  ran+=("$s")
  for v in $VARIANTS; do
    t0=$(date +%s)
    set +e
    # shellcheck disable=SC2046 # routes are words
    "$H1SPEC" --spawn "bash ci/matrix/run.sh $s $v {port}" --spawn-wait 60000 --should $(routes "$s") \
      --color never --format json > "$out/$s-$v.json" 2> "$out/$s-$v.log"
    rc=$?
    set -e
    secs=$(($(date +%s) - t0))
    case $rc in
      0|1) echo "verdict-matrix: $s $v: h1spec exit $rc in ${secs}s" ;;
      *)
        echo "verdict-matrix: BROKEN $s $v: h1spec exit $rc in ${secs}s (2: the target does not answer as its profile says, 3: unreachable or not HTTP); $out/$s-$v.log:"
        sed 's/^/    /' "$out/$s-$v.log" | tail -n 20
        rm -f "$out/$s-$v.json"
        broken+=("$s-$v")
        status=1
        ;;
    esac
  done
done
echo "verdict-matrix: h1spec runs took $(($(date +%s) - start_all))s"
echo

if [ ${#ran[@]} -gt 0 ]; then
  set +e
  "$PYTHON" ci/matrix/compare.py ${compare_flags[@]+"${compare_flags[@]}"} "$out" ci/matrix/adjudication "${ran[*]}" "$VARIANTS"
  rc=$?
  set -e
  [ $rc -eq 0 ] || status=1
  echo
  cat "$out/table.md"
  if compgen -G "$out/*.json" >/dev/null; then
    "$H1SPEC" report "$out"/*.json -o "$out/report.html"
    echo "verdict-matrix: HTML report: $out/report.html"
  fi
fi
[ ${#skipped[@]} -eq 0 ] || echo "verdict-matrix: skipped (not installed): ${skipped[*]}"
[ ${#broken[@]} -eq 0 ] || echo "verdict-matrix: broken targets (h1spec exit 2 or 3): ${broken[*]}"
exit $status

#!/usr/bin/env bash
# Installs what the CI scripts need on a fresh machine (Debian): nginx for the
# conformance baseline and the server benchmark, wrk for load, valgrind for
# instruction counts. Safe to run again: installs only what is missing.
set -euo pipefail
need=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v valgrind >/dev/null 2>&1 || need+=(valgrind)
command -v prove >/dev/null 2>&1 || need+=(perl)   # prove reads h1spec's TAP (ci/tap-prove.sh)
command -v chromium >/dev/null 2>&1 || need+=(chromium)   # ci/report-html.sh renders h1spec's HTML report
if [ ${#need[@]} -gt 0 ]; then
  echo "ci/setup.sh: installing ${need[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

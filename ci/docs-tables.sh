#!/usr/bin/env bash
# Write the counts and tables the docs quote from what the code and the runs
# report, so no figure there is typed by hand:
#
#   h1spec --list --should --format json  -> conformance/README.md: the case
#       count by level ("N built-in cases (a MUST, b SHOULD, c MAY)") and the
#       count column of the table of areas (a new area needs its row, with a
#       description, written by hand: the script says so)
#   h1spec mock --bug list                -> conformance/README.md: "N switchable bugs"
#   target/verdict-matrix/table.md        -> docs/conformance.md, between the
#       verdict-matrix markers (run `bash ci/verdict-matrix.sh` first; skipped
#       when the file is missing)
#
# `cargo test -p h1spec --test docs` fails when any of these is stale.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p h1spec
h1spec=${CARGO_TARGET_DIR:-target}/release/h1spec
list=$(mktemp)
trap 'rm -f "$list"' EXIT
"$h1spec" --list --should --format json >"$list"
bugs=$("$h1spec" mock --bug list | grep -c .)

python3 - conformance/README.md "$list" "$bugs" <<'PY'
import collections, json, re, sys
path, listing, bugs = sys.argv[1], sys.argv[2], int(sys.argv[3])
cases = json.load(open(listing))
levels = collections.Counter(c["level"] for c in cases)
areas = collections.Counter(c["area"] for c in cases)
text = open(path).read()
text, n = re.subn(r"\d+ built-in cases \(\d+ MUST, \d+ SHOULD, \d+ MAY\)",
                  f"{len(cases)} built-in cases ({levels['MUST']} MUST, {levels['SHOULD']} SHOULD, {levels['MAY']} MAY)", text)
if n != 1:
    sys.exit(f"docs-tables: {path}: the 'N built-in cases (…)' sentence was found {n} times, not once")
text, n = re.subn(r"\d+ switchable bugs", f"{bugs} switchable bugs", text)
if n != 1:
    sys.exit(f"docs-tables: {path}: 'N switchable bugs' was found {n} times, not once")
seen = set()
def row(m):
    area = m.group(1)
    seen.add(area)
    if area not in areas:
        sys.exit(f"docs-tables: {path}: the table has area `{area}`, which no case has: remove its row")
    return f"| `{area}` | {areas[area]} |"
text = re.sub(r"^\| `([a-z0-9-]+)` \| \d+ \|", row, text, flags=re.M)
missing = sorted(set(areas) - seen)
if missing:
    sys.exit(f"docs-tables: {path}: add a row (with a description) for the area(s) {', '.join(missing)}")
open(path, "w").write(text)
print(f"docs-tables: {path}: {len(cases)} cases in {len(areas)} areas, {bugs} mock bugs")
PY

table=target/verdict-matrix/table.md
doc=docs/conformance.md
if [ ! -s "$table" ]; then
  echo "docs-tables: $table is missing: run bash ci/verdict-matrix.sh for the verdict matrix ($doc left as it is)"
  exit 0
fi
python3 - "$doc" "$table" <<'PY'
import re, sys
doc, table = sys.argv[1:3]
text = open(doc).read()
rows = open(table).read().strip()
pat = re.compile(r"(<!-- BEGIN verdict-matrix[^\n]*-->\n).*?(\n<!-- END verdict-matrix -->)", re.S)
if not pat.search(text):
    sys.exit(f"docs-tables: no verdict-matrix markers in {doc}")
open(doc, "w").write(pat.sub(lambda m: m.group(1) + rows + m.group(2), text))
print(f"docs-tables: {doc}: {len(rows.splitlines()) - 2} rows from {table}")
PY

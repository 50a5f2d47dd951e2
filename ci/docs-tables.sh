#!/usr/bin/env bash
# Copy the tables that runs generate into the docs that quote them, so no
# figure there is typed by hand:
#
#   target/verdict-matrix/table.md  (bash ci/verdict-matrix.sh)
#     -> docs/conformance.md, between the verdict-matrix markers
#
# `cargo test -p h1spec --test docs` checks that what the docs hold still
# adds up with what the code reports.
set -euo pipefail
cd "$(dirname "$0")/.."
table=target/verdict-matrix/table.md
doc=docs/conformance.md
[ -s "$table" ] || { echo "docs-tables: $table is missing: run bash ci/verdict-matrix.sh first" >&2; exit 1; }
python3 - "$doc" "$table" <<'PY'
import re, sys
doc, table = sys.argv[1:3]
text = open(doc).read()
rows = open(table).read().strip()
pat = re.compile(r"(<!-- BEGIN verdict-matrix[^\n]*-->\n).*?(\n<!-- END verdict-matrix -->)", re.S)
if not pat.search(text):
    sys.exit(f"docs-tables: no verdict-matrix markers in {doc}")
new = pat.sub(lambda m: m.group(1) + rows + m.group(2), text)
open(doc, "w").write(new)
print(f"docs-tables: {doc}: {len(rows.splitlines()) - 2} rows from {table}")
PY

#!/usr/bin/env bash
# `h1spec report` checked in a real browser (headless Chromium): the page made
# from the committed baselines loads, its script runs, it shows one row per
# case, the filters hide exactly the rows they should, and a screenshot is
# taken (target/conformance/report.png, for people to look at).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v chromium >/dev/null || bash ci/setup.sh
cargo build --release -q -p h1spec
out=target/conformance
mkdir -p "$out"
reports=(conformance/baselines/*.json)
target/release/h1spec report "${reports[@]}" -o "$out/report.html" --title "h1spec baselines"
page="file://$PWD/$out/report.html"
chrome() { timeout 90 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars "$@" 2>/dev/null; }
chrome --window-size=1400,1000 --screenshot="$out/report.png" "$page" >/dev/null
python3 - "$out" "${reports[@]}" <<'PY'
import json, re, struct, subprocess, sys
out, reports = sys.argv[1], sys.argv[2:]
runs = [json.load(open(f)) for f in reports]
ids = []
for r in runs:
    for c in r["results"]:
        if c["id"] not in ids:
            ids.append(c["id"])
def dom(query=""):
    page = f"file://{__import__('os').path.abspath(out)}/report.html{query}"
    html = subprocess.run(["timeout", "90", "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", page],
                          capture_output=True, text=True).stdout
    ready = 'data-ready="1"' in html
    shown = re.search(r'data-shown="(\d+)"', html)
    return ready, int(shown.group(1)) if shown else None
def expect(level_set, show):
    n = 0
    for i in ids:
        vs = [c["verdict"] for r in runs for c in r["results"] if c["id"] == i]
        level = next(c["level"] for r in runs for c in r["results"] if c["id"] == i)
        vs = [v for v in vs if v in ("pass", "fail")]
        ok = level in level_set
        if show == "fail": ok = ok and "fail" in vs
        if show == "differ": ok = ok and "fail" in vs and "pass" in vs
        n += ok
    return n
ready, shown = dom()
assert ready, "the page's script did not run"
assert shown == len(ids), f"{shown} rows shown, {len(ids)} cases"
for show, levels in [("fail", {"MUST"}), ("differ", {"MUST", "SHOULD", "MAY"})]:
    ready, shown = dom(f"?show={show}&level={','.join(sorted(levels))}")
    want = expect(levels, show)
    assert shown == want, f"filter show={show} level={levels}: {shown} rows, expected {want}"
png = open(f"{out}/report.png", "rb").read()
assert png[:8] == b"\x89PNG\r\n\x1a\n", "no PNG screenshot"
w, h = struct.unpack(">II", png[16:24])
assert (w, h) == (1400, 1000) and len(png) > 20_000, f"screenshot {w}x{h}, {len(png)} bytes"
print(f"report-html: {len(ids)} cases x {len(runs)} servers; filters checked; screenshot {out}/report.png ({len(png)} bytes)")
PY

#!/usr/bin/env python3
"""Compares the verdict matrix's h1spec reports with the adjudication files.

Usage: compare.py [--list] [--draft] OUT ADJUDICATION_DIR SERVER[,SERVER...] VARIANT[,VARIANT...]

OUT holds SERVER-VARIANT.json (h1spec --format json) and, optionally,
SERVER.version (one line). ADJUDICATION_DIR holds SERVER.toml:

    # One entry per case that fails on this server, with why the server deviates.
    [fail]
    "content-length.non-numeric" = "reads `1x` as 1 (parseInt): RFC 9112 §6.3 says invalid"

    # Cases whose verdict may differ between the variants, with why.
    [variant_differs]
    "methods.delete-static" = "405 variant: answers 405 with Allow; 404 variant: 404"

A server with no report for any variant was skipped and is left out. The
comparison fails (exit 1) when
  * a case fails (in any variant) and has no [fail] entry: a new failure
    without a reason;
  * a [fail] entry's case passes or is n/a in every variant: the verdict
    changed, remove or update the entry;
  * an entry names a case the reports do not have;
  * two variants of one server give a case different verdicts and the case is
    not in [variant_differs] (or it is, and they now agree: remove it).
Prints one summary line per server and variant, and writes OUT/table.md.

--list   also print every failing case (observed / accepted) and every variant
         difference, per server: the raw material for adjudication.
--draft  print, per server, the [fail] and [variant_differs] entries that are
         missing, with the observed outcome as a placeholder reason (to edit).
Standard library only (tomllib: Python 3.11 or later).
"""
import json
import os
import sys

try:
    import tomllib
except ImportError:  # Python < 3.11
    sys.exit("compare.py needs Python 3.11 or later (tomllib)")

LEVELS = ("MUST", "SHOULD", "MAY")
PRETTY = {
    "nginx": "nginx",
    "apache": "Apache httpd",
    "lighttpd": "lighttpd",
    "python": "Python http.server",
    "node": "Node http",
    "go": "Go net/http",
    "h1serve": "h1serve",
    "php": "PHP built-in server",
    "uvicorn": "uvicorn (h11)",
}


def toml_key(s):
    return json.dumps(s, ensure_ascii=False)


def load_adjudication(path):
    if not os.path.exists(path):
        return {}, {}, None
    try:
        with open(path, "rb") as f:
            doc = tomllib.load(f)
    except (tomllib.TOMLDecodeError, OSError) as e:
        return {}, {}, f"{path}: {e}"
    fail = doc.get("fail", {})
    differs = doc.get("variant_differs", {})
    bad = [k for k, v in list(fail.items()) + list(differs.items()) if not isinstance(v, str) or not v.strip()]
    if bad:
        return fail, differs, f"{path}: every entry needs a reason (a non-empty string): {', '.join(bad)}"
    unknown = set(doc) - {"fail", "variant_differs"}
    if unknown:
        return fail, differs, f"{path}: unknown table(s) {', '.join(sorted(unknown))} (only [fail] and [variant_differs])"
    return fail, differs, None


def main(argv):
    flags = {a for a in argv if a.startswith("--")}
    args = [a for a in argv if not a.startswith("--")]
    if len(args) != 4 or flags - {"--list", "--draft"}:
        sys.exit(__doc__)
    out, adj_dir, servers, variants = args
    servers = [s for s in servers.replace(",", " ").split() if s]
    variants = [v for v in variants.replace(",", " ").split() if v]

    problems = []
    table = [
        "| server | version | variant | passed | failed (MUST / SHOULD / MAY) | n/a | adjudicated |",
        "|---|---|---|---:|---|---:|---:|",
    ]
    listing = []
    drafts = []
    for server in servers:
        reports = {}
        for v in variants:
            p = os.path.join(out, f"{server}-{v}.json")
            if not os.path.exists(p):
                continue
            try:
                with open(p) as f:
                    doc = json.load(f)
                reports[v] = {r["id"]: r for r in doc["results"]}
            except (OSError, ValueError, KeyError, TypeError) as e:
                problems.append(f"{server} {v}: {p} is not an h1spec JSON report: {e}")
        if not reports:
            continue
        version = ""
        vp = os.path.join(out, f"{server}.version")
        if os.path.exists(vp):
            with open(vp) as f:
                version = f.read().strip()
        fail, differs, err = load_adjudication(os.path.join(adj_dir, f"{server}.toml"))
        if err:
            problems.append(f"{server}: {err}")

        all_ids = set().union(*(set(r) for r in reports.values()))
        failing = {i for r in reports.values() for i, c in r.items() if c["verdict"] == "fail"}
        ran = sorted(reports)

        # Failures without a reason, entries whose case no longer fails.
        new = sorted(failing - set(fail))
        for i in new:
            where = [v for v in ran if reports[v].get(i, {}).get("verdict") == "fail"]
            c = next(reports[v][i] for v in where)
            problems.append(
                f"{server}: new failure without a reason: {i} ({c['level']}; variant {', '.join(where)};"
                f" observed `{c['observed']}`, accepted {' | '.join(c['accepted'])})"
            )
        for i in sorted(set(fail) | set(differs)):
            if i not in all_ids:
                problems.append(f"{server}: adjudication names {i}, which no report has (renamed or removed case?)")
        for i in sorted(set(fail) & all_ids - failing):
            now = ", ".join(f"{v}: {reports[v][i]['verdict']}" for v in ran if i in reports[v])
            problems.append(f"{server}: verdict changed: {i} no longer fails ({now}): remove or update the entry")

        # Variant differences.
        diffs = []
        if len(ran) > 1:
            for i in sorted(all_ids):
                verdicts = {v: reports[v][i]["verdict"] if i in reports[v] else "absent" for v in ran}
                if len(set(verdicts.values())) > 1:
                    diffs.append((i, verdicts))
            diff_ids = {i for i, _ in diffs}
            for i, verdicts in diffs:
                if i not in differs:
                    shown = ", ".join(f"{v}: {x}" for v, x in verdicts.items())
                    problems.append(f"{server}: variants differ on {i} ({shown}) and it is not in [variant_differs]")
            for i in sorted(set(differs) & all_ids - diff_ids):
                problems.append(f"{server}: verdict changed: {i} is in [variant_differs] but the variants now agree: remove it")

        # Summary lines and table rows.
        for v in ran:
            rs = reports[v].values()
            passed = sum(1 for c in rs if c["verdict"] == "pass")
            na = sum(1 for c in rs if c["verdict"] == "n/a")
            fails = [c for c in rs if c["verdict"] == "fail"]
            by = {lv: sum(1 for c in fails if c["level"] == lv) for lv in LEVELS}
            adjudicated = sum(1 for c in fails if c["id"] in fail)
            levels = " / ".join(str(by[lv]) for lv in LEVELS)
            print(
                f"{server:9} {v}: {passed:3} pass, {len(fails):3} fail (MUST / SHOULD / MAY {levels}),"
                f" {na:3} n/a; {adjudicated} adjudicated, {len(fails) - adjudicated} without a reason"
                + (f"; {len(diffs)} variant differences" if v == ran[0] and len(ran) > 1 else "")
            )
            name = PRETTY.get(server, server)
            table.append(f"| {name} | {version} | {v} | {passed} | {len(fails)} ({levels}) | {na} | {adjudicated} |")

        if "--list" in flags:
            listing.append(f"## {server} ({version})")
            for v in ran:
                fails = [c for c in reports[v].values() if c["verdict"] == "fail"]
                listing.append(f"### {server} {v}: {len(fails)} failing")
                for c in sorted(fails, key=lambda c: c["id"]):
                    listing.append(
                        f"  {c['id']} [{c['level']}] observed `{c['observed']}`; accepted {' | '.join(c['accepted'])}"
                    )
                    for why in c["reasons"]:
                        if not why.startswith("observed `"):
                            listing.append(f"      - {why}")
            listing.append(f"### {server}: {len(diffs)} cases where the variants differ")
            for i, verdicts in diffs:
                shown = "; ".join(
                    f"{v}: {x}" + (f" `{reports[v][i]['observed']}`" if i in reports[v] else "") for v, x in verdicts.items()
                )
                listing.append(f"  {i}: {shown}")
            listing.append("")

        if "--draft" in flags:
            lines = [f"# ---- {adj_dir}/{server}.toml: missing entries (edit the reasons) ----", "[fail]"]
            for i in new:
                v = next(v for v in ran if reports[v].get(i, {}).get("verdict") == "fail")
                c = reports[v][i]
                lines.append(f"{toml_key(i)} = {toml_key('TODO: observed `' + c['observed'] + '` (' + v + ')')}")
            lines.append("[variant_differs]")
            for i, verdicts in diffs:
                if i not in differs:
                    shown = ", ".join(f"{v}: {x}" for v, x in verdicts.items())
                    lines.append(f"{toml_key(i)} = {toml_key('TODO: ' + shown)}")
            drafts.append("\n".join(lines))

    with open(os.path.join(out, "table.md"), "w") as f:
        f.write("\n".join(table) + "\n")
    if listing:
        print()
        print("\n".join(listing))
    if drafts:
        print()
        print("\n\n".join(drafts))
    if problems:
        print(f"\nverdict matrix: {len(problems)} problem(s):")
        for p in problems:
            print(f"  {p}")
        return 1
    print("\nverdict matrix: every verdict matches its adjudication")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

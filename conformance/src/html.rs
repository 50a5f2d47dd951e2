//! `h1spec report a.json b.json … -o report.html`: the JSON reports of
//! several runs (one per server) side by side in one self-contained page:
//! servers as columns, cases as rows grouped by area, a colour per verdict,
//! the RFC sentence on hover, filters by level and verdict. No external
//! assets: the page is one file that can be attached to a CI run.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

/// One run: a name for its column and its JSON report.
pub struct Run {
    /// Column title (the file name without `.json`, by default).
    pub name: String,
    /// The report as `h1spec --format json` or `--write-baseline` writes it.
    pub doc: Value,
}

/// A case row: what every run says about it.
struct Row<'a> {
    area: &'a str,
    title: &'a str,
    section: &'a str,
    rfc: &'a str,
    level: &'a str,
}

/// Reads a run, checking it looks like an h1spec JSON report.
pub fn load(name: String, text: &str) -> Result<Run, String> {
    let doc: Value = serde_json::from_str(text).map_err(|e| format!("{name}: not JSON: {e}"))?;
    if !doc["results"].is_array() {
        return Err(format!(
            "{name}: not an h1spec JSON report (no \"results\"; write one with --format json or --write-baseline)"
        ));
    }
    Ok(Run { name, doc })
}

fn esc(s: &str) -> String {
    crate::report::xml(s)
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or("")
}

/// The page.
pub fn page(runs: &[Run], title: &str) -> String {
    let grid = Grid::of(runs);
    let mut out = String::new();
    write_head(&mut out, title, grid.order.len(), runs);
    write_summary(&mut out, runs);
    for area in grid.areas() {
        let _ = writeln!(
            out,
            "<tr class=\"area\"><th colspan=\"{}\">{}</th></tr>",
            runs.len() + 2,
            esc(area)
        );
        for id in grid.order.iter().filter(|id| grid.rows[*id].area == area) {
            write_case_row(&mut out, id, &grid.rows[id], &grid.cells);
        }
    }
    out.push_str(SCRIPT);
    out
}

/// What the runs say, by case.
struct Grid<'a> {
    /// Case ids in the order of the first run that has each case; cases
    /// only some runs have are added where they first appear.
    order: Vec<&'a str>,
    /// Each case's row.
    rows: BTreeMap<&'a str, Row<'a>>,
    /// Per run, its result for each case id it has.
    cells: Vec<BTreeMap<&'a str, &'a Value>>,
}

impl<'a> Grid<'a> {
    /// The grid of `runs`.
    fn of(runs: &'a [Run]) -> Grid<'a> {
        let mut order: Vec<&str> = Vec::new();
        let mut rows: BTreeMap<&str, Row> = BTreeMap::new();
        let mut cells: Vec<BTreeMap<&str, &Value>> = Vec::new();
        for run in runs {
            let mut by_id = BTreeMap::new();
            for r in run.doc["results"].as_array().into_iter().flatten() {
                let id = str_of(r, "id");
                if !rows.contains_key(id) {
                    order.push(id);
                    rows.insert(
                        id,
                        Row {
                            area: str_of(r, "area"),
                            title: str_of(r, "title"),
                            section: str_of(r, "section"),
                            rfc: str_of(r, "rfc"),
                            level: str_of(r, "level"),
                        },
                    );
                }
                by_id.insert(id, r);
            }
            cells.push(by_id);
        }
        Grid { order, rows, cells }
    }

    /// The areas, in first-seen order: the page groups cases by area.
    fn areas(&self) -> Vec<&'a str> {
        let mut areas: Vec<&str> = Vec::new();
        for id in &self.order {
            let a = self.rows[id].area;
            if !areas.contains(&a) {
                areas.push(a);
            }
        }
        areas
    }
}

/// The page up to the table's body: style, title, filters, and a column
/// head per run.
fn write_head(out: &mut String, title: &str, n: usize, runs: &[Run]) {
    let _ = write!(
        out,
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }}
h1 {{ font-size: 1.4em; margin: 0 0 .3em; }}
.filters {{ margin: .8em 0; display: flex; gap: 1.5em; flex-wrap: wrap; }}
.filters label {{ margin-right: .6em; }}
table {{ border-collapse: collapse; }}
th, td {{ border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }}
thead th {{ position: sticky; top: 0; background: #f4f4f4; }}
tr.area th {{ background: #e8eef7; font-size: 1.05em; }}
td.v {{ text-align: center; font-weight: 600; min-width: 5.5em; }}
td.pass {{ background: #c9efc9; color: #145214; }}
td.fail {{ background: #f6c4c4; color: #7a1010; }}
td.na {{ background: #eee; color: #777; }}
td.none {{ background: #fff; color: #bbb; }}
td.level {{ font-size: .85em; color: #555; }}
td.case span.t {{ color: #666; }}
.summary td {{ font-weight: 600; }}
</style></head>
<body>
<h1>{title}</h1>
<p>{n} cases, {m} servers. Hover a case for the RFC sentence it cites, a cell for what the server answered.</p>
<div class="filters">
<div>Level: <label><input type="checkbox" class="lvl" value="MUST" checked> MUST</label><label><input type="checkbox" class="lvl" value="SHOULD" checked> SHOULD</label><label><input type="checkbox" class="lvl" value="MAY" checked> MAY</label></div>
<div>Show: <select id="show"><option value="all">all cases</option><option value="fail">failed on some server</option><option value="differ">servers disagree</option><option value="pass">passed everywhere</option></select></div>
</div>
<table id="grid"><thead><tr><th>case</th><th>level</th>"#,
        title = esc(title),
        m = runs.len()
    );
    for run in runs {
        let _ = write!(out, "<th>{}</th>", esc(&run.name));
    }
    out.push_str("</tr></thead><tbody>\n");
}

/// The summary row: passed / failed / n/a per run.
fn write_summary(out: &mut String, runs: &[Run]) {
    out.push_str("<tr class=\"summary\"><td>passed / failed / n/a</td><td></td>");
    for run in runs {
        let s = &run.doc["summary"];
        let _ = write!(
            out,
            "<td>{} / {} / {}</td>",
            s["passed"], s["failed"], s["not_applicable"]
        );
    }
    out.push_str("</tr>\n");
}

/// One case's row: the case, its level, and a verdict cell per run.
fn write_case_row(out: &mut String, id: &str, row: &Row, cells: &[BTreeMap<&str, &Value>]) {
    let verdicts: Vec<&str> = cells
        .iter()
        .map(|c| c.get(id).map_or("", |r| str_of(r, "verdict")))
        .collect();
    let _ = write!(
        out,
        "<tr class=\"case\" data-level=\"{}\" data-verdicts=\"{}\"><td class=\"case\" title=\"{}: {}\">{} <span class=\"t\">{}</span></td><td class=\"level\">{}</td>",
        esc(row.level),
        esc(&verdicts.join(" ")),
        esc(row.section),
        esc(row.rfc),
        esc(id),
        esc(row.title),
        esc(row.level),
    );
    for c in cells {
        match c.get(id) {
            None => out.push_str("<td class=\"v none\" title=\"not run\">–</td>"),
            Some(r) => {
                let v = str_of(r, "verdict");
                let class = match v {
                    "pass" => "pass",
                    "fail" => "fail",
                    _ => "na",
                };
                let mut hover = format!("observed: {}", str_of(r, "observed"));
                for why in r["reasons"].as_array().into_iter().flatten() {
                    let _ = write!(hover, "\n- {}", why.as_str().unwrap_or(""));
                }
                let _ = write!(
                    out,
                    "<td class=\"v {class}\" title=\"{}\">{}</td>",
                    esc(&hover),
                    esc(v)
                );
            }
        }
    }
    out.push_str("</tr>\n");
}

/// The end of the page: the table closes, and the script behind the
/// filters (which can be preset from the address).
const SCRIPT: &str = r#"</tbody></table>
<script>
function apply() {
  const levels = new Set([...document.querySelectorAll('input.lvl:checked')].map(e => e.value));
  const show = document.getElementById('show').value;
  let shown = 0;
  for (const tr of document.querySelectorAll('tr.case')) {
    const v = tr.dataset.verdicts.split(' ').filter(x => x === 'pass' || x === 'fail');
    let ok = levels.has(tr.dataset.level);
    if (show === 'fail') ok = ok && v.includes('fail');
    if (show === 'pass') ok = ok && v.length > 0 && v.every(x => x === 'pass');
    if (show === 'differ') ok = ok && v.includes('pass') && v.includes('fail');
    tr.style.display = ok ? '' : 'none';
    if (ok) shown++;
  }
  document.body.dataset.shown = shown;
}
// Filters can be preset from the address: report.html?show=fail&level=MUST,SHOULD
const params = new URLSearchParams(location.search);
if (params.has('show')) document.getElementById('show').value = params.get('show');
if (params.has('level')) {
  const want = new Set(params.get('level').split(','));
  document.querySelectorAll('input.lvl').forEach(e => { e.checked = want.has(e.value); });
}
document.querySelectorAll('input.lvl').forEach(e => e.addEventListener('change', apply));
document.getElementById('show').addEventListener('change', apply);
apply();
document.body.dataset.ready = '1';
</script>
</body></html>
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn run(name: &str, verdict: &str) -> Run {
        let doc = serde_json::json!({
            "summary": {"passed": 1, "failed": 0, "not_applicable": 0},
            "results": [{
                "id": "fields.obs-fold", "area": "fields", "title": "obs-fold <rejected>",
                "section": "RFC 9112 §5.2", "rfc": "A server that receives an obs-fold ... MUST either reject",
                "level": "MUST", "verdict": verdict, "observed": "400 close", "reasons": ["why \"quoted\""]
            }]
        });
        Run {
            name: name.into(),
            doc,
        }
    }

    #[test]
    fn one_column_per_server_one_row_per_case_escaped() {
        let html = page(&[run("nginx", "pass"), run("srv<x>", "fail")], "t & t");
        assert!(html.contains("<th>nginx</th><th>srv&lt;x&gt;</th>"));
        assert_eq!(html.matches("<tr class=\"case\"").count(), 1);
        assert!(html.contains("data-verdicts=\"pass fail\""));
        assert!(html.contains("<td class=\"v fail\""));
        assert!(html.contains("obs-fold &lt;rejected&gt;"));
        assert!(html.contains("title=\"RFC 9112 §5.2: A server that receives"));
        assert!(html.contains("why &quot;quoted&quot;"));
        assert!(html.contains("<title>t &amp; t</title>"));
        assert!(
            !html.contains("http://") && !html.contains("https://"),
            "self-contained"
        );
    }

    #[test]
    fn rejects_what_is_not_a_report() {
        assert!(load("x".into(), "{}").is_err());
        assert!(load("x".into(), "not json").is_err());
        assert!(load("x".into(), "{\"results\": []}").is_ok());
    }
}

//! Output: a grouped report for people (summary last), and JSON, JUnit and
//! TAP for machines.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::baseline::Comparison;
use crate::case::Level;
use crate::runner::{CaseResult, Profile, Verdict};

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Grouped report for a terminal.
    Human,
    /// One JSON document (also usable as a baseline).
    Json,
    /// JUnit XML.
    Junit,
    /// Test Anything Protocol.
    Tap,
}

/// What the run was.
#[derive(Debug, Clone, Serialize)]
pub struct Meta {
    /// `host:port`.
    pub target: String,
    /// Profile used.
    pub profile: Profile,
    /// Whether SHOULD cases ran.
    pub should: bool,
    /// Probed capabilities.
    pub capabilities: Vec<String>,
    /// What the preflight learnt: missing capabilities and why, the idle
    /// timeout, the connections served at once.
    pub preflight: Vec<String>,
    /// Wall time in ms.
    pub elapsed_ms: u64,
}

/// The h1spec command that runs this one case again against the same
/// target: a reproducer for machines without `nc`. None for the response
/// checks and preflight rules, which are not cases of their own. A target
/// profile or path options given to the first run must be given again.
fn rerun(r: &CaseResult, meta: &Meta) -> Option<String> {
    if !crate::runner::is_case(r) {
        return None;
    }
    let profile = match meta.profile {
        Profile::Rfc => "",
        Profile::Strict => " --profile strict",
    };
    // An https:// target needs the run's trust flags again.
    let tls = if crate::transport::is_tls(&meta.target) {
        crate::transport::flags()
    } else {
        String::new()
    };
    Some(format!(
        "h1spec {} --only {}{profile}{tls}",
        meta.target, r.id
    ))
}

/// Counts.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Cases run.
    pub total: usize,
    /// Passed.
    pub passed: usize,
    /// Failed.
    pub failed: usize,
    /// Failed, by level.
    pub failed_by_level: BTreeMap<String, usize>,
    /// Not applicable.
    pub not_applicable: usize,
    /// Response and preflight checks (`response.*`, `preflight.*`) that
    /// failed: defects of the server, each counted once however many cases
    /// showed it.
    pub response_defects: usize,
}

/// Counts the results.
pub fn summarize(results: &[CaseResult]) -> Summary {
    let mut s = Summary {
        total: results.len(),
        ..Summary::default()
    };
    for r in results {
        match r.verdict {
            Verdict::Pass => s.passed += 1,
            Verdict::Fail => {
                s.failed += 1;
                if !crate::runner::is_case(r) {
                    s.response_defects += 1;
                }
                *s.failed_by_level.entry(r.level.to_string()).or_default() += 1;
            }
            Verdict::NotApplicable => s.not_applicable += 1,
        }
    }
    s
}

struct Paint(bool);

impl Paint {
    fn code(&self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}

/// The report for people. `color` adds ANSI colours.
pub fn human(results: &[CaseResult], meta: &Meta, cmp: Option<&Comparison>, color: bool) -> String {
    let p = Paint(color);
    let mut out = String::new();
    write_run_line(&mut out, meta);
    let known = |id: &str| cmp.is_some_and(|c| c.known.iter().any(|k| k == id));
    let mut area = "";
    for r in results {
        if r.area != area {
            area = &r.area;
            let _ = writeln!(out, "\n{}", p.code("1", area));
        }
        write_result(&mut out, &p, r, known(&r.id), meta);
    }
    let s = summarize(results);
    let _ = writeln!(out);
    if let Some(c) = cmp {
        write_comparison(&mut out, c);
    }
    // The failures again, last, where a reader of a long run looks first:
    // one line each with what reproduces it.
    let failures: Vec<&CaseResult> = results
        .iter()
        .filter(|r| r.verdict == Verdict::Fail && !known(&r.id))
        .collect();
    if !failures.is_empty() {
        write_failures(&mut out, &p, &failures);
    }
    write_totals(&mut out, &p, &s, meta);
    out
}

/// The first lines: version, target, profile, levels, capabilities, and
/// what the preflight said.
fn write_run_line(out: &mut String, meta: &Meta) {
    let _ = writeln!(
        out,
        "h1spec {} -> {}  (profile {}, {}, capabilities: {})",
        env!("CARGO_PKG_VERSION"),
        meta.target,
        match meta.profile {
            Profile::Rfc => "rfc",
            Profile::Strict => "strict",
        },
        if meta.should {
            "MUST+SHOULD+MAY"
        } else {
            "MUST+MAY"
        },
        if meta.capabilities.is_empty() {
            "none".to_string()
        } else {
            meta.capabilities.join(", ")
        }
    );
    for note in &meta.preflight {
        let _ = writeln!(out, "  preflight: {note}");
    }
}

/// One result: its mark and id, then for a failure the RFC sentence, what
/// was accepted and observed and how to reproduce it, for `n/a` why.
/// `known` marks a failure the baseline already has, shown without detail.
fn write_result(out: &mut String, p: &Paint, r: &CaseResult, known: bool, meta: &Meta) {
    let mark = match r.verdict {
        Verdict::Pass => p.code("32", "pass"),
        Verdict::Fail if known => p.code("35", "known"),
        Verdict::Fail => p.code("31", "FAIL"),
        Verdict::NotApplicable => p.code("2", "n/a "),
    };
    let _ = writeln!(
        out,
        "  {mark}  {:<6} {}  {}",
        r.level.to_string(),
        r.id,
        p.code("2", &r.title)
    );
    match r.verdict {
        Verdict::Fail if !known => {
            let _ = writeln!(out, "        {}: \"{}\"", r.section, r.rfc);
            if !r.accepted.is_empty() {
                let _ = writeln!(out, "        accepted: {}", r.accepted.join("  |  "));
            }
            let _ = writeln!(out, "        observed: {}", r.observed);
            for why in &r.reasons {
                let _ = writeln!(out, "        - {why}");
            }
            if !r.reproducer.is_empty() {
                let _ = writeln!(out, "        reproduce: {}", r.reproducer);
            }
            if let Some(rerun) = rerun(r, meta) {
                let _ = writeln!(out, "        or, without nc: {rerun}");
            }
        }
        Verdict::NotApplicable => {
            for why in &r.reasons {
                let _ = writeln!(out, "        {why}");
            }
        }
        Verdict::Fail | Verdict::Pass => {}
    }
}

/// What changed against the baseline.
fn write_comparison(out: &mut String, c: &Comparison) {
    let _ = writeln!(
        out,
        "baseline: {} regression(s), {} known failure(s), {} newly passing",
        c.regressions.len(),
        c.known.len(),
        c.newly_passing.len()
    );
    for id in &c.regressions {
        let _ = writeln!(out, "  regression: {id}");
    }
    for id in &c.newly_passing {
        let _ = writeln!(out, "  newly passing: {id} (update the baseline)");
    }
}

/// The failures, one line each, with the line that reproduces each.
fn write_failures(out: &mut String, p: &Paint, failures: &[&CaseResult]) {
    let _ = writeln!(
        out,
        "{}",
        p.code("31;1", &format!("failures ({}):", failures.len()))
    );
    for r in failures {
        let _ = writeln!(
            out,
            "  {:<6} {}  ({})",
            r.level.to_string(),
            r.id,
            r.section
        );
        if !r.reproducer.is_empty() {
            let _ = writeln!(out, "         {}", r.reproducer);
        }
    }
}

/// The last line: the counts, and the wall time.
fn write_totals(out: &mut String, p: &Paint, s: &Summary, meta: &Meta) {
    let levels: Vec<String> = s
        .failed_by_level
        .iter()
        .map(|(l, n)| format!("{n} {l}"))
        .collect();
    let failed = if levels.is_empty() {
        format!("{} failed", s.failed)
    } else {
        format!("{} failed ({})", s.failed, levels.join(", "))
    };
    let line = format!(
        "{} cases: {} passed, {}, {} n/a ({} of the failures are response or preflight checks) in {:.1}s",
        s.total,
        s.passed,
        failed,
        s.not_applicable,
        s.response_defects,
        meta.elapsed_ms as f64 / 1000.0
    );
    let _ = writeln!(
        out,
        "{}",
        p.code(if s.failed == 0 { "32;1" } else { "31;1" }, &line)
    );
}

/// `--list --format json`: the selected cases, one object each.
pub fn list_json(cases: &[crate::case::Case]) -> String {
    let list: Vec<serde_json::Value> = cases
        .iter()
        .map(|c| {
            serde_json::json!({
                "id": c.id,
                "area": c.area,
                "level": c.level.to_string(),
                "section": c.section,
                "title": c.title,
                "rfc": c.rfc,
                "tags": c.tags,
                "needs": c.needs,
            })
        })
        .collect();
    let mut s = serde_json::to_string_pretty(&list).expect("list serializes");
    s.push('\n');
    s
}

/// The JSON report.
pub fn json(results: &[CaseResult], meta: &Meta, cmp: Option<&Comparison>) -> String {
    #[derive(Serialize)]
    struct Doc<'a> {
        meta: &'a Meta,
        summary: Summary,
        #[serde(skip_serializing_if = "Option::is_none")]
        baseline: Option<&'a Comparison>,
        results: &'a [CaseResult],
    }
    let doc = Doc {
        meta,
        summary: summarize(results),
        baseline: cmp,
        results,
    };
    let mut s = serde_json::to_string_pretty(&doc).expect("report serializes");
    s.push('\n');
    s
}

/// Text escaped for XML and HTML (also used by `html`): markup characters
/// as entities, control bytes other than newline and tab dropped.
pub(crate) fn xml(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => {}
            c => o.push(c),
        }
    }
    o
}

fn failure_text(r: &CaseResult) -> String {
    let mut t = format!("{}: \"{}\"\n", r.section, r.rfc);
    let _ = writeln!(t, "accepted: {}", r.accepted.join(" | "));
    let _ = writeln!(t, "observed: {}", r.observed);
    for why in &r.reasons {
        let _ = writeln!(t, "- {why}");
    }
    let _ = writeln!(t, "reproduce: {}", r.reproducer);
    t
}

/// JUnit XML: one testsuite per area.
pub fn junit(results: &[CaseResult], meta: &Meta) -> String {
    let mut areas: Vec<&str> = Vec::new();
    for r in results {
        if !areas.contains(&r.area.as_str()) {
            areas.push(&r.area);
        }
    }
    let s = summarize(results);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"h1spec {}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" time=\"{:.3}\">",
        xml(&meta.target),
        s.total,
        s.failed,
        s.not_applicable,
        meta.elapsed_ms as f64 / 1000.0
    );
    for area in areas {
        let rs: Vec<&CaseResult> = results.iter().filter(|r| r.area == area).collect();
        let fails = rs.iter().filter(|r| r.verdict == Verdict::Fail).count();
        let skips = rs
            .iter()
            .filter(|r| r.verdict == Verdict::NotApplicable)
            .count();
        let time: u64 = rs.iter().map(|r| r.ms).sum();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{fails}\" errors=\"0\" skipped=\"{skips}\" time=\"{:.3}\">",
            xml(area),
            rs.len(),
            time as f64 / 1000.0
        );
        for r in rs {
            let _ = write!(
                out,
                "    <testcase classname=\"h1spec.{}\" name=\"{}\" time=\"{:.3}\"",
                xml(area),
                xml(&r.id),
                r.ms as f64 / 1000.0
            );
            match r.verdict {
                Verdict::Pass => out.push_str("/>\n"),
                Verdict::NotApplicable => {
                    let _ = writeln!(
                        out,
                        ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                        xml(&r.reasons.join("; "))
                    );
                }
                Verdict::Fail => {
                    let _ = writeln!(
                        out,
                        ">\n      <failure message=\"{} {}: observed {}\" type=\"{}\">{}</failure>\n    </testcase>",
                        r.level,
                        xml(&r.title),
                        xml(&r.observed),
                        r.level,
                        xml(&failure_text(r))
                    );
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// TAP version 13.
pub fn tap(results: &[CaseResult]) -> String {
    let mut out = format!("TAP version 13\n1..{}\n", results.len());
    for (i, r) in results.iter().enumerate() {
        let n = i + 1;
        match r.verdict {
            Verdict::Pass => {
                let _ = writeln!(out, "ok {n} - {} ({})", r.id, r.level);
            }
            Verdict::NotApplicable => {
                let _ = writeln!(
                    out,
                    "ok {n} - {} # SKIP {}",
                    r.id,
                    tap_line(&r.reasons.join("; "))
                );
            }
            Verdict::Fail => {
                let _ = writeln!(out, "not ok {n} - {} ({})", r.id, r.level);
                // A YAMLish block (TAP 13) with only what TAP::Parser's
                // reader takes: a flat mapping of double-quoted scalars
                // (comment lines inside it broke `prove`).
                out.push_str("  ---\n");
                let _ = writeln!(out, "  message: {}", yaml_str(&r.title));
                let _ = writeln!(out, "  severity: \"fail\"");
                let _ = writeln!(out, "  level: {}", yaml_str(&r.level.to_string()));
                let _ = writeln!(out, "  section: {}", yaml_str(&r.section));
                let _ = writeln!(out, "  observed: {}", yaml_str(&r.observed));
                // Lists as one scalar each: TAP::Parser reads a list item
                // holding ": " as a mapping and fails on it.
                for (key, list, sep) in [
                    ("accepted", &r.accepted, " | "),
                    ("reasons", &r.reasons, "; "),
                ] {
                    if !list.is_empty() {
                        let _ = writeln!(out, "  {key}: {}", yaml_str(&list.join(sep)));
                    }
                }
                if !r.reproducer.is_empty() {
                    let _ = writeln!(out, "  reproduce: {}", yaml_str(&r.reproducer));
                }
                out.push_str("  ...\n");
            }
        }
    }
    out
}

/// A double-quoted YAML scalar: backslash, quote and control bytes escaped.
fn yaml_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Text for the rest of a TAP test line: one line, no `#` (it would start a directive).
fn tap_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ").replace('#', "No.")
}

/// Whether any failure counts against the run: all failures, or with a
/// baseline only regressions.
pub fn gate(results: &[CaseResult], cmp: Option<&Comparison>, levels: &[Level]) -> bool {
    match cmp {
        Some(c) => !c.regressions.is_empty(),
        None => results.iter().any(|r| {
            r.verdict == Verdict::Fail && (levels.is_empty() || levels.contains(&r.level))
        }),
    }
}

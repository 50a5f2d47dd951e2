//! Baselines: a recorded run (the JSON report itself) that later runs are
//! compared with, so CI can gate a server with known deviations on
//! regressions only; and the comparison of two runs for `h1spec diff`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::runner::{CaseResult, Verdict};

#[derive(Deserialize)]
struct File {
    results: Vec<Entry>,
}

/// One recorded result.
#[derive(Debug, Clone, Deserialize)]
pub struct Entry {
    /// Case id.
    pub id: String,
    /// Its verdict then.
    pub verdict: Verdict,
    /// What was observed then.
    #[serde(default)]
    pub observed: String,
}

/// A recorded run, by case id.
#[derive(Debug, Clone, Default)]
pub struct Baseline {
    /// Results by id.
    pub entries: BTreeMap<String, Entry>,
}

impl Baseline {
    /// Reads a baseline (any JSON report of h1spec).
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let f: File =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Baseline {
            entries: f.results.into_iter().map(|e| (e.id.clone(), e)).collect(),
        })
    }
}

/// How a run compares with its baseline.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Comparison {
    /// Failing now, not failing (or absent) in the baseline.
    pub regressions: Vec<String>,
    /// Failing now and in the baseline.
    pub known: Vec<String>,
    /// Passing now, failing in the baseline.
    pub newly_passing: Vec<String>,
}

/// Compares `results` with `baseline`.
pub fn compare(results: &[CaseResult], baseline: &Baseline) -> Comparison {
    let mut c = Comparison::default();
    for r in results {
        let was = baseline.entries.get(&r.id).map(|e| e.verdict);
        match (r.verdict, was) {
            (Verdict::Fail, Some(Verdict::Fail)) => c.known.push(r.id.clone()),
            (Verdict::Fail, _) => c.regressions.push(r.id.clone()),
            (Verdict::Pass, Some(Verdict::Fail)) => c.newly_passing.push(r.id.clone()),
            _ => {}
        }
    }
    c
}

/// One row of `h1spec diff`: a case on which two targets disagree.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Disagreement {
    /// Case id.
    pub id: String,
    /// Verdict and observation on A.
    pub a: (Verdict, String),
    /// Verdict and observation on B.
    pub b: (Verdict, String),
}

impl Disagreement {
    /// One passed where the other failed. A case that is n/a on either side
    /// (the target lacks what it needs) is no disagreement of verdicts.
    pub fn in_verdict(&self) -> bool {
        self.a.0 != self.b.0
            && self.a.0 != Verdict::NotApplicable
            && self.b.0 != Verdict::NotApplicable
    }
}

/// The cases both targets could run (neither n/a) where they differ in
/// verdict or in what was observed.
pub fn disagreements(a: &[CaseResult], b: &[CaseResult]) -> Vec<Disagreement> {
    let by_id: BTreeMap<&str, &CaseResult> = b.iter().map(|r| (r.id.as_str(), r)).collect();
    a.iter()
        .filter_map(|ra| {
            let rb = by_id.get(ra.id.as_str())?;
            if ra.verdict == Verdict::NotApplicable || rb.verdict == Verdict::NotApplicable {
                return None;
            }
            (ra.verdict != rb.verdict || ra.observed != rb.observed).then(|| Disagreement {
                id: ra.id.clone(),
                a: (ra.verdict, ra.observed.clone()),
                b: (rb.verdict, rb.observed.clone()),
            })
        })
        .collect()
}

/// The `diff` table, aligned for a terminal: verdict disagreements first
/// (marked `*`), then cases both judged alike but answered differently.
pub fn diff_table(name_a: &str, name_b: &str, rows: &[Disagreement]) -> String {
    fn cell(v: &(Verdict, String)) -> String {
        let mut obs = v.1.clone();
        if obs.chars().count() > 48 {
            obs = obs.chars().take(47).collect::<String>() + "…";
        }
        format!("{:<4} {}", v.0.to_string(), obs)
    }
    let mut rows: Vec<&Disagreement> = rows.iter().collect();
    rows.sort_by_key(|r| !r.in_verdict());
    let w_id = rows.iter().map(|r| r.id.len()).max().unwrap_or(4).max(4);
    let w_a = rows
        .iter()
        .map(|r| cell(&r.a).chars().count())
        .max()
        .unwrap_or(0)
        .max(name_a.len());
    let mut out = format!("  {:<w_id$}  {:<w_a$}  {}\n", "case", name_a, name_b);
    let verdicts = rows.iter().filter(|r| r.in_verdict()).count();
    for r in &rows {
        let mark = if r.in_verdict() { '*' } else { ' ' };
        let a = cell(&r.a);
        let pad = w_a.saturating_sub(a.chars().count());
        out.push_str(&format!(
            "{mark} {:<w_id$}  {a}{}  {}\n",
            r.id,
            " ".repeat(pad),
            cell(&r.b)
        ));
    }
    out.push_str(&format!(
        "{} disagreement(s): {verdicts} in verdict (*), {} in what was answered\n",
        rows.len(),
        rows.len() - verdicts
    ));
    out
}

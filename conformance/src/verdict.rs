//! What a run is judged by and what it gives: the profile and options a
//! run takes, a case's verdict, and its result. Both the runner and replay
//! mode speak these words, so they live below both (the runner re-exports
//! them).

use std::time::Duration;

use serde::Serialize;

use crate::case::Level;
use crate::observe::Finding;

/// Which outcomes count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// Every outcome the RFC allows.
    Rfc,
    /// Only the safest outcome(s).
    Strict,
}

impl std::str::FromStr for Profile {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "rfc" => Ok(Profile::Rfc),
            "strict" => Ok(Profile::Strict),
            _ => Err(format!("unknown profile {s:?} (rfc or strict)")),
        }
    }
}

/// How to run.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// The profile.
    pub profile: Profile,
    /// Connect timeout and the longest one write may stall.
    pub step: Duration,
    /// Default wait after the last step for more bytes or a close.
    pub idle: Duration,
    /// Cases run at once.
    pub jobs: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            profile: Profile::Rfc,
            step: Duration::from_millis(2000),
            idle: Duration::from_millis(1000),
            jobs: 8,
        }
    }
}

/// A case's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub enum Verdict {
    /// Matched an acceptable outcome, no blocking finding.
    #[serde(rename = "pass")]
    Pass,
    /// Did not.
    #[serde(rename = "fail")]
    Fail,
    /// The target lacks what the case needs.
    #[serde(rename = "n/a")]
    NotApplicable,
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::NotApplicable => "n/a",
        })
    }
}

/// What running one case gave.
#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    /// `area.name`.
    pub id: String,
    /// The area.
    pub area: String,
    /// What it checks.
    pub title: String,
    /// RFC section.
    pub section: String,
    /// The RFC sentence.
    pub rfc: String,
    /// MUST / SHOULD / MAY.
    pub level: Level,
    /// The verdict.
    pub verdict: Verdict,
    /// What happened, in outcome words.
    pub observed: String,
    /// The outcomes the profile accepts.
    pub accepted: Vec<String>,
    /// Why it failed or is n/a (empty on a clean pass).
    pub reasons: Vec<String>,
    /// Validator findings.
    pub findings: Vec<Finding>,
    /// A shell line that sends the same bytes.
    pub reproducer: String,
    /// Wall time.
    pub ms: u64,
}

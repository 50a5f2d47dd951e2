//! The mutation test: every built-in case passes against the mock's correct
//! mode (in both profiles) and fails, by its outcome rather than by a
//! validator finding alone, against at least one bug mode. A case no bug can
//! fail proves nothing; a case the correct mock fails is wrong.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use pretty_assertions::assert_eq;

use h1spec::case::{Case, Vars};
use h1spec::catalog;
use h1spec::mock::{Bug, Mock};
use h1spec::runner::{self, CaseResult, Options, Profile, Verdict};
use h1spec::target::Target;

fn target(mock: &Mock) -> Target {
    Target {
        addr: mock.addr().to_string(),
        vars: Vars {
            host: "localhost".into(),
            path: "/".into(),
            post: "/echo".into(),
            missing: "/h1spec-canary-404".into(),
            nocontent: "/empty".into(),
            etag: "\"h1spec-mock-1\"".into(),
            // The mock's limits: h1parse's defaults and its 1 MiB body cap.
            max_uri: Some(8 * 1024),
            max_head: Some(16 * 1024),
            max_body: Some(1 << 20),
        },
        capabilities: [
            "post",
            "body",
            "etag",
            "nocontent",
            "keepalive",
            "head",
            "answers-pipelined",
            "max-uri",
            "max-head",
            "max-body",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        ..Target::default()
    }
}

fn options(profile: Profile) -> Options {
    Options {
        profile,
        step: Duration::from_millis(2000),
        idle: Duration::from_millis(400),
        jobs: 16,
    }
}

fn all_cases() -> Vec<Case> {
    catalog::builtin().expect("built-in cases parse")
}

async fn run(bugs: &[Bug], cases: &[Case], profile: Profile) -> Vec<CaseResult> {
    let mock = Mock::start(bugs).expect("mock starts");
    let t = target(&mock);
    runner::run_all(&t, cases, options(profile), |_, _, _| {}).await
}

/// A case (not a response check) that failed.
fn failed_by_outcome(r: &CaseResult) -> bool {
    r.verdict == Verdict::Fail && runner::is_case(r)
}

fn explain(results: &[CaseResult]) -> Vec<String> {
    results
        .iter()
        .filter(|r| r.verdict != Verdict::Pass)
        .map(|r| {
            format!(
                "{} [{}]: {} -- {}",
                r.id,
                r.verdict,
                r.observed,
                r.reasons.join("; ")
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn correct_mock_passes_every_case_in_both_profiles() {
    let cases = all_cases();
    assert!(cases.len() >= 150, "only {} cases", cases.len());
    let (rfc, strict) = tokio::join!(
        run(&[], &cases, Profile::Rfc),
        run(&[], &cases, Profile::Strict)
    );
    for (profile, results) in [(Profile::Rfc, rfc), (Profile::Strict, strict)] {
        let checks: Vec<String> = explain(&results)
            .into_iter()
            .filter(|e| e.starts_with("response."))
            .collect();
        assert_eq!(checks, Vec::<String>::new(), "{profile:?}: response checks");
        // A failure on a loaded machine may be a slow answer taken for
        // silence: run the failed cases again, alone. A real one fails twice.
        let failed: Vec<Case> = cases
            .iter()
            .filter(|c| {
                results
                    .iter()
                    .any(|r| r.id == c.id && r.verdict != Verdict::Pass)
            })
            .cloned()
            .collect();
        if failed.is_empty() {
            continue;
        }
        eprintln!(
            "{profile:?}: re-running {} failed case(s) alone",
            failed.len()
        );
        let again = run(&[], &failed, profile).await;
        assert_eq!(explain(&again), Vec::<String>::new(), "{profile:?} profile");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_case_fails_against_some_bug() {
    let cases = all_cases();
    // A few modes at a time: on a loaded 2-core machine, dozens at once make
    // slow answers look like silence, and noise must not count as a catch.
    let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(4));
    let runs = Bug::ALL.iter().map(|bug| {
        let cases = cases.clone();
        let gate = gate.clone();
        async move {
            let _permit = gate.acquire_owned().await.expect("semaphore");
            (*bug, run(&[*bug], &cases, Profile::Rfc).await)
        }
    });
    let mut handles = Vec::new();
    for r in runs {
        handles.push(tokio::spawn(r));
    }
    let mut caught: BTreeMap<String, Vec<&'static str>> =
        cases.iter().map(|c| (c.id.clone(), Vec::new())).collect();
    let mut per_bug: BTreeMap<&'static str, usize> = BTreeMap::new();
    for h in handles {
        let (bug, results) = h.await.expect("bug run");
        let n = results.iter().filter(|r| failed_by_outcome(r)).count();
        if std::env::var_os("H1SPEC_MUTATION_VERBOSE").is_some() {
            for r in results.iter().filter(|r| failed_by_outcome(r)) {
                eprintln!("{}: {} -> {}", bug.name(), r.id, r.observed);
            }
        }
        per_bug.insert(bug.name(), n);
        for r in results.iter().filter(|r| failed_by_outcome(r)) {
            caught.get_mut(&r.id).expect("known id").push(bug.name());
        }
    }
    // Confirm each case's catch on a quiet machine: run it again, alone with
    // the first bug that failed it. Noise must not count as a catch.
    let mut by_bug: BTreeMap<&'static str, Vec<Case>> = BTreeMap::new();
    for c in &cases {
        if let Some(bug) = caught[&c.id].first() {
            by_bug.entry(bug).or_default().push(c.clone());
        }
    }
    let mut confirmed: BTreeSet<String> = BTreeSet::new();
    for (name, group) in by_bug {
        let bug: Bug = name.parse().expect("bug name");
        for r in run(&[bug], &group, Profile::Rfc).await {
            if failed_by_outcome(&r) {
                confirmed.insert(r.id.clone());
            } else if let Some(others) = caught.get_mut(&r.id) {
                // Try the other bugs that failed it before giving up.
                others.remove(0);
                for other in others.clone() {
                    let bug: Bug = other.parse().expect("bug name");
                    let case: Vec<Case> = cases.iter().filter(|c| c.id == r.id).cloned().collect();
                    if run(&[bug], &case, Profile::Rfc)
                        .await
                        .iter()
                        .any(failed_by_outcome)
                    {
                        confirmed.insert(r.id.clone());
                        break;
                    }
                }
            }
        }
    }
    let uncaught: Vec<&String> = caught
        .keys()
        .filter(|id| !confirmed.contains(*id))
        .collect();
    eprintln!("cases each bug fails: {per_bug:#?}");
    assert_eq!(uncaught, Vec::<&String>::new(), "cases no bug mode fails");
    // Every bug is caught by some case, too: a bug nothing notices is a gap.
    let silent: BTreeSet<&str> = per_bug
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(b, _)| *b)
        .filter(|b| *b != Bug::NoDate.name())
        .collect();
    assert_eq!(silent, BTreeSet::new(), "bug modes no case catches");
}

fn result<'a>(results: &'a [CaseResult], id: &str) -> &'a CaseResult {
    results
        .iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("no result {id}"))
}

/// A missing Date is one defect, reported once as `response.date` with the
/// cases that showed it; the cases whose own outcome was right still pass
/// (Node and Go send their parser's 400 without Date: one finding, not one
/// failure per case that drew a 400).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_date_is_one_response_check_not_a_failure_per_case() {
    let cases: Vec<Case> = all_cases()
        .into_iter()
        .filter(|c| c.id == "request-line.valid-get" || c.id == "host.missing")
        .collect();
    let results = run(&[Bug::NoDate], &cases, Profile::Rfc).await;
    assert_eq!(
        result(&results, "request-line.valid-get").verdict,
        Verdict::Pass
    );
    assert_eq!(result(&results, "host.missing").verdict, Verdict::Pass);
    let date = result(&results, "response.date");
    assert_eq!(date.verdict, Verdict::Fail, "{date:?}");
    assert!(
        date.reasons
            .iter()
            .any(|r| r.contains("host.missing") && r.contains("request-line.valid-get")),
        "{:?}",
        date.reasons
    );
    // Both ways: the same cases on the correct mock pass the check.
    let clean = run(&[], &cases, Profile::Rfc).await;
    assert_eq!(result(&clean, "response.date").verdict, Verdict::Pass);
}

/// Each response check fails on a bug mode that breaks its rule.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn response_checks_fail_on_the_bugs_that_break_them() {
    let cases = all_cases();
    for (bug, check) in [
        (Bug::NoDate, "response.date"),
        (Bug::HeadBody, "response.no-body-after-bodiless"),
        (Bug::BodyOn204, "response.no-body-after-bodiless"),
    ] {
        let results = run(&[bug], &cases, Profile::Rfc).await;
        assert_eq!(
            result(&results, check).verdict,
            Verdict::Fail,
            "{} should fail {check}",
            bug.name()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_head_body_leak_fails_the_head_cases_and_the_response_check() {
    let cases: Vec<Case> = all_cases()
        .into_iter()
        .filter(|c| c.id == "bodiless.head-alone" || c.id == "fragmented.replay-head")
        .collect();
    let results = run(&[Bug::HeadBody], &cases, Profile::Rfc).await;
    // The case is about the HEAD rule itself, so its own verdict fails.
    assert_eq!(
        result(&results, "bodiless.head-alone").verdict,
        Verdict::Fail
    );
    // A replay case never passes when the whole request, unsplit, breaks
    // a response rule (it passed such a server before).
    assert_eq!(
        result(&results, "fragmented.replay-head").verdict,
        Verdict::Fail
    );
    let check = result(&results, "response.no-body-after-bodiless");
    assert_eq!(check.verdict, Verdict::Fail);
    assert!(
        check.reasons.iter().any(|r| r.contains("after a HEAD")),
        "{:?}",
        check.reasons
    );
    let clean = run(&[], &cases, Profile::Rfc).await;
    assert_eq!(explain(&clean), Vec::<String>::new());
}

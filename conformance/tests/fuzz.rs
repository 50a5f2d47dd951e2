//! `h1spec fuzz` against the mock: from seed 0, a bounded run finds each
//! framing and desync bug mode with a shrunk reproducer, the case file it
//! writes fails on that bug and passes on the correct mock, and the correct
//! mock yields no finding at all (the oracles must not cry wolf).

use std::time::Duration;

use h1spec::case::Vars;
use h1spec::catalog;
use h1spec::fuzz::{self, Config, FuzzTarget, Summary};
use h1spec::mock::{Bug, Mock};
use h1spec::runner::{self, Options, Profile, Verdict};
use h1spec::target::Target;

fn vars() -> Vars {
    Vars {
        host: "localhost".into(),
        path: "/".into(),
        post: "/echo".into(),
        missing: "/h1spec-canary-404".into(),
        ..Vars::default()
    }
}

fn fuzz_mock(mock: &Mock, runs: u64, max_findings: usize) -> Summary {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let target = FuzzTarget {
        name: "mock".into(),
        addr: mock.addr().to_string(),
        vars: vars(),
    };
    let cfg = Config {
        seed: 0,
        runs: Some(runs),
        duration: Some(Duration::from_secs(60)),
        jobs: 8,
        wait: Duration::from_millis(500),
        shrink_budget: 200,
        max_findings,
        ..Config::default()
    };
    rt.block_on(fuzz::fuzz(vec![target], Vec::new(), cfg, None, None, None))
        .expect("the mock answers")
}

fn replay(mock: &Mock, dir: &std::path::Path) -> Vec<Verdict> {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let cases = catalog::load_dir(dir).expect("case files load");
    assert!(!cases.is_empty());
    let target = Target {
        addr: mock.addr().to_string(),
        vars: vars(),
        capabilities: Default::default(),
    };
    let opts = Options {
        profile: Profile::Rfc,
        step: Duration::from_secs(2),
        idle: Duration::from_millis(500),
        jobs: 4,
    };
    rt.block_on(runner::run_all(&target, &cases, opts, |_, _, _| {}))
        .into_iter()
        .map(|r| r.verdict)
        .collect()
}

#[test]
fn the_correct_mock_has_no_findings() {
    let mock = Mock::start(&[]).unwrap();
    let s = fuzz_mock(&mock, 6000, 5);
    assert_eq!(s.inputs, 6000);
    let sigs: Vec<&str> = s.findings.iter().map(|f| f.signature.as_str()).collect();
    assert!(
        sigs.is_empty(),
        "false findings on the correct mock: {sigs:?}"
    );
}

/// Each bug mode, the finding it must give (a signature prefix).
const FOUND: &[(Bug, &str)] = &[
    (Bug::IgnoreContentLength, "desync:"),
    (
        Bug::ClOverTe,
        "desync:extra:ContentLengthWithTransferEncoding",
    ),
    (
        Bug::TeOverClKeepOpen,
        "desync:extra:ContentLengthWithTransferEncoding",
    ),
    (Bug::BareLfAsCrlf, "desync:extra:BareLf"),
    (Bug::KeepOpenAfterError, "desync:extra:"),
    (Bug::IgnoreConnectionClose, "desync:extra:close"),
    (Bug::Http10Persistent, "desync:extra:close"),
    (Bug::IgnoreChunked, "desync:"),
    (Bug::LaxChunkSize, "desync:extra:"),
    (Bug::ObsFoldAccept, "desync:"),
    (Bug::HeadBody, "malformed:"),
    (Bug::BodyOn204, "malformed:"),
];

#[test]
fn each_framing_bug_mode_is_found_shrunk_and_replayable() {
    let correct = Mock::start(&[]).unwrap();
    let mut missed = Vec::new();
    for (bug, want) in FOUND {
        let mock = Mock::start(&[*bug]).unwrap();
        let s = fuzz_mock(&mock, 5000, 50);
        let Some(f) = s.findings.iter().find(|f| f.signature.starts_with(want)) else {
            let got: Vec<&str> = s.findings.iter().map(|f| f.signature.as_str()).collect();
            missed.push(format!("{}: no {want} in {got:?}", bug.name()));
            continue;
        };
        assert!(f.shrunk_len <= f.original_len, "{}", bug.name());
        // The reproducer is the shrunk bytes and the canary, ready for nc.
        assert!(f.reproducer.contains("| nc "), "{}", f.reproducer);
        let dir = std::env::temp_dir().join(format!(
            "h1spec-fuzz-test-{}-{}",
            std::process::id(),
            bug.name()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        fuzz::out::write_case(&dir, f, &vars(), f.canary_status, "the fuzz test").unwrap();
        let on_bug = replay(&mock, &dir);
        let on_correct = replay(&correct, &dir);
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(
            (on_bug.as_slice(), on_correct.as_slice()),
            (&[Verdict::Fail][..], &[Verdict::Pass][..]),
            "{}: the case file of {} ({:?}) must fail on the bug and pass on the correct mock",
            bug.name(),
            f.signature,
            f.bytes
        );
    }
    assert!(missed.is_empty(), "bug modes not found: {missed:#?}");
}

#[test]
fn a_dropped_pipeline_is_found_as_swallowed() {
    let mock = Mock::start(&[Bug::NoPipelining]).unwrap();
    let s = fuzz_mock(&mock, 3000, 1);
    assert!(
        s.findings
            .iter()
            .any(|f| f.signature.starts_with("desync:")),
        "{:?}",
        s.findings.iter().map(|f| &f.signature).collect::<Vec<_>>()
    );
}

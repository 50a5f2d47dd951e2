//! h1spec's cases against h1serve from `cargo test`, through h1spec's
//! library: the framing cases (request smuggling, Content-Length, chunked
//! bodies, Transfer-Encoding), persistence and pipelining, SHOULD level
//! included. The whole suite runs in CI (`ci/conformance.sh`); these are the
//! cases a change to the connection code is most likely to break.

mod common;

use h1spec::Suite;

#[test]
fn framing_persistence_and_pipelining_cases_pass() {
    let (server, _tree) = common::serve();
    let outcome = Suite::new()
        .should(true)
        .only("smuggling")
        .only("content-length")
        .only("chunked")
        .only("transfer-encoding")
        .only("persistence")
        .only("pipelining")
        .run(&server.local_addr().to_string())
        .expect("h1serve answers HTTP");
    outcome.assert_no_failures();
    // Every case could be judged: h1serve reads (and drops) the body of a
    // request it answers 405, which is all the body cases need.
    let na: Vec<&str> = outcome
        .results
        .iter()
        .filter(|r| r.verdict == h1spec::runner::Verdict::NotApplicable)
        .map(|r| r.id.as_str())
        .collect();
    assert!(na.is_empty(), "n/a: {na:?}; preflight: {:?}", outcome.notes);
    assert!(outcome.passed() >= 100, "{} passed", outcome.passed());
}

//! h1spec as a library ([`h1spec::Suite`]): it passes a correct server,
//! fails a broken one with a readable message, and refuses a selection that
//! matches nothing.

use h1spec::mock::{Bug, Mock};
use h1spec::Suite;

fn fast() -> Suite {
    Suite::new()
        .wait(std::time::Duration::from_millis(300))
        .jobs(16)
}

#[test]
fn a_correct_server_passes() {
    let mock = Mock::start(&[]).expect("mock");
    let outcome = fast()
        .only("smuggling")
        .should(true)
        .run(&mock.addr().to_string())
        .expect("runs");
    outcome.assert_no_failures();
    assert!(outcome.passed() >= 20, "{} passed", outcome.passed());
}

#[test]
fn a_broken_server_fails_with_the_reproducer() {
    let mock = Mock::start(&[Bug::IgnoreContentLength]).expect("mock");
    let outcome = fast()
        .only("smuggling")
        .run(&mock.addr().to_string())
        .expect("runs");
    assert!(!outcome.failures().is_empty());
    let panic = std::panic::catch_unwind(|| outcome.assert_no_failures()).expect_err("panics");
    let text = panic.downcast_ref::<String>().expect("a message");
    assert!(text.contains("FAIL MUST smuggling."), "{text}");
    assert!(text.contains("reproduce: "), "{text}");
}

#[test]
fn a_selection_that_matches_nothing_is_an_error() {
    let mock = Mock::start(&[]).expect("mock");
    let err = Suite::new()
        .only("no-such-area")
        .run(&mock.addr().to_string())
        .expect_err("refused");
    assert!(err.contains("no-such-area"), "{err}");
}

//! # h1spec
//!
//! An HTTP/1.1 conformance runner: it sends scripted raw-byte cases to any
//! server, judges what comes back against every outcome RFC 9110/9112
//! allow, validates each response with h1parse, and reports for people and
//! for CI.
//!
//! # Layout
//!
//! * `case` — the case format: steps, outcomes, escapes and placeholders.
//! * `catalog` — built-in case files (compiled in) and user directories.
//! * `target` — the target profile file and capability probing (`n/a`).
//! * `transport` — plain TCP or TLS (`https://`) under every connection.
//! * `exchange` — one connection: play steps, record bytes and the close.
//! * `observe` — responses out of a transcript, through h1parse, plus the validator.
//! * `verdict` — what a run is judged by and gives: profile, options, verdict, result.
//! * `runner` — judging a case, profiles, selection, concurrency.
//! * `replay` — replay mode: the same request split every way.
//! * `report` — human, JSON, JUnit and TAP output.
//! * `html` — `h1spec report`: several runs side by side in one HTML page.
//! * `baseline` — regressions against a recorded run, and `diff`.
//! * `spawn` — starting and stopping a target for `--spawn`.
//! * `fuzz` — `h1spec fuzz`: generated inputs, oracles, shrinking, case files.
//! * `mock` — the mock server with switchable bugs behind the mutation test.
//! * `mock_tls` — the mock behind TLS: a terminator relaying to a plain mock.
//! * `suite` — [`Suite`]: h1spec as a library, for a server's own `cargo test`.
#![deny(missing_docs)]

pub mod baseline;
pub mod case;
pub mod catalog;
pub mod exchange;
pub mod fuzz;
pub mod html;
pub mod mock;
pub mod mock_tls;
pub mod observe;
pub mod replay;
pub mod report;
pub mod runner;
pub mod spawn;
pub mod suite;
pub mod target;
pub mod transport;
pub mod verdict;

pub use suite::{Outcome, Suite};

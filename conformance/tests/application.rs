//! Verdicts that must not depend on how the application behind a server
//! routes, nor on the server's timing: each class of false verdict seen on
//! servers nobody here had tuned to (Node, Go, a Python ASGI server, PHP, a
//! Perl worker pool), reproduced by a small scripted server, and proven both
//! ways: the server that is right passes, and one that really breaks the
//! case's rule still fails.
//!
//! The scripted server is an ordinary application: `GET /` answers 200,
//! `POST /echo` reads its body and answers 200, `/h1spec-canary-404` is 404,
//! everything else 404 (or 405 with `Allow`); its parser is h1parse (400 and
//! close on what it rejects). Switches make it behave like the servers seen.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use pretty_assertions::assert_eq;

use h1parse::{BodyKind, ChunkedDecoder, Header, Limits, RequestParser, Status};
use h1spec::case::{Case, Vars};
use h1spec::catalog;
use h1spec::mock::{Bug, Mock};
use h1spec::runner::{self, CaseResult, Options, Profile, Verdict};
use h1spec::target::{self, Target, TargetProfile};

const DATE: &str = "Date: Sun, 06 Dec 2026 09:00:00 GMT\r\n";

/// How the scripted application behaves.
#[derive(Clone, Copy, Default)]
struct App {
    /// Other methods and paths get 405 with Allow (otherwise 404).
    answers_405: bool,
    /// The parser's 400 (and 431) go out without Date (Node, Go).
    error_without_date: bool,
    /// Refuses every POST with 405, reads none of its body, and closes
    /// without saying so (an application that answers before the body).
    refuses_bodies: bool,
    /// Closes a connection idle for this long (ms).
    idle_ms: Option<u64>,
    /// Bytes after a request that asked to close get a 400 and the close.
    refuses_bytes_after_close: bool,
    /// A request that arrives behind a body in the same read is lost.
    loses_after_body: bool,
    /// HEAD gets 405.
    no_head: bool,
    /// Serves at most this many connections at once: one worker each, held
    /// for as long as the connection lives.
    pool: Option<usize>,
    /// Bug: a body is never read (Content-Length ignored).
    ignores_body: bool,
    /// Bug: 405 without Allow.
    no_allow: bool,
    /// Bug: `Connection: close` is not honoured; the idle timer closes.
    ignores_close: bool,
    /// Bug: a head larger than this is dropped: the connection closes with
    /// no response.
    drops_heads_over: Option<usize>,
    /// Bug: a chunked body gets 400 and the close.
    rejects_chunked: bool,
    /// A target with dot-segments gets `301 Location` to its normal form
    /// (Go's ServeMux).
    redirects_dot_segments: bool,
}

fn serve(app: App) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().unwrap();
    let busy = Arc::new(AtomicUsize::new(0));
    thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            let busy = busy.clone();
            thread::spawn(move || {
                // A pool: a connection waits for a free worker.
                if let Some(n) = app.pool {
                    loop {
                        let now = busy.load(Ordering::SeqCst);
                        if now < n
                            && busy
                                .compare_exchange(now, now + 1, Ordering::SeqCst, Ordering::SeqCst)
                                .is_ok()
                        {
                            break;
                        }
                        thread::sleep(Duration::from_millis(5));
                    }
                }
                connection(app, conn);
                if app.pool.is_some() {
                    busy.fetch_sub(1, Ordering::SeqCst);
                }
            });
        }
    });
    addr
}

fn response(status: u16, extra: &str, body: &[u8], date: bool, head: bool) -> Vec<u8> {
    let reason = match status {
        200 => "OK",
        204 => "No Content",
        301 => "Moved Permanently",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Other",
    };
    let date = if date { DATE } else { "" };
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\n{date}{extra}Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    if !head {
        out.extend_from_slice(body);
    }
    out
}

/// What the application answers, and whether the connection ends after it.
fn route(app: App, method: &[u8], target: &[u8], body: &[u8], head: bool) -> Vec<u8> {
    let allow = |methods: &str| {
        if app.no_allow {
            String::new()
        } else {
            format!("Allow: {methods}\r\n")
        }
    };
    let other = |methods: &str| {
        if app.answers_405 {
            response(405, &allow(methods), b"", true, head)
        } else {
            response(404, "", b"not found", true, head)
        }
    };
    if app.redirects_dot_segments && target.windows(2).any(|w| w == b"/.") {
        return response(301, "Location: /\r\n", b"", true, head);
    }
    match (method, target) {
        (b"HEAD", b"/") if app.no_head => response(405, &allow("GET"), b"", true, true),
        (b"GET" | b"HEAD", b"/") => response(200, "", b"hello", true, head),
        (b"POST", b"/echo") => response(200, "", body, true, head),
        (_, b"/") => other("GET, HEAD"),
        (_, b"/echo") => other("POST"),
        _ => response(404, "", b"not found", true, head),
    }
}

fn connection(app: App, mut conn: TcpStream) {
    let idle = app
        .idle_ms
        .map_or(Duration::from_secs(5), Duration::from_millis);
    conn.set_read_timeout(Some(idle)).ok();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 65536];
    loop {
        // Answer every complete request in the buffer.
        loop {
            let mut headers = [Header::EMPTY; 64];
            // Large heads are fine below 2 MiB (like Go's 1 MiB + 4 KiB).
            let limits = Limits {
                max_head: 2 << 20,
                max_uri: 2 << 20,
                max_header_line: 2 << 20,
            };
            let req = match RequestParser::with_limits(limits).parse(&buf, &mut headers) {
                Ok(Status::Complete(r)) => r,
                Ok(Status::Partial) => {
                    if app.drops_heads_over.is_some_and(|n| buf.len() > n) {
                        return;
                    }
                    break;
                }
                Err(_) => {
                    let _ = conn.write_all(&response(
                        400,
                        "Connection: close\r\n",
                        b"bad request",
                        !app.error_without_date,
                        false,
                    ));
                    return;
                }
            };
            let method = req.method.get(&buf).to_vec();
            let target = req.target.get(&buf).to_vec();
            let head = method == b"HEAD";
            let rest = &buf[req.head_len..];
            if app.refuses_bodies && method == b"POST" {
                let _ = conn.write_all(&response(405, "Allow: GET\r\n", b"", true, false));
                return;
            }
            if app.rejects_chunked && req.body == BodyKind::Chunked {
                let _ = conn.write_all(&response(400, "Connection: close\r\n", b"", true, false));
                return;
            }
            let (body, used) = match req.body {
                _ if app.ignores_body => (Vec::new(), 0),
                BodyKind::None | BodyKind::UntilClose => (Vec::new(), 0),
                BodyKind::Length(n) => {
                    let n = n as usize;
                    if rest.len() < n {
                        break;
                    }
                    (rest[..n].to_vec(), n)
                }
                BodyKind::Chunked => {
                    let mut dec = ChunkedDecoder::new();
                    let mut data = Vec::new();
                    let mut pos = 0;
                    let mut done = false;
                    while let Ok(c) = dec.decode(&rest[pos..]) {
                        data.extend_from_slice(&rest[pos..][c.data.clone()]);
                        pos += c.consumed;
                        if c.done {
                            done = true;
                            break;
                        }
                        if c.consumed == 0 {
                            break;
                        }
                    }
                    if !done {
                        break;
                    }
                    (data, pos)
                }
            };
            let close = !req.keep_alive && !app.ignores_close;
            let mut out = route(app, &method, &target, &body, head);
            if close {
                // A response that ends the connection says so.
                let at = out.windows(2).position(|w| w == b"\r\n").unwrap() + 2;
                out.splice(at..at, b"Connection: close\r\n".iter().copied());
            }
            buf.drain(..req.head_len + used);
            if app.loses_after_body && used > 0 {
                buf.clear();
            }
            if close && !buf.is_empty() && app.refuses_bytes_after_close {
                out.extend_from_slice(&response(400, "Connection: close\r\n", b"", true, false));
            }
            if conn.write_all(&out).is_err() || close {
                return;
            }
        }
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

fn vars() -> Vars {
    Vars {
        host: "localhost".into(),
        path: "/".into(),
        post: "/echo".into(),
        missing: "/h1spec-canary-404".into(),
        nocontent: String::new(),
        etag: String::new(),
        max_uri: None,
        max_head: None,
        max_body: None,
    }
}

fn cases(ids: &[&str]) -> Vec<Case> {
    let all = catalog::builtin().expect("built-in cases parse");
    let found: Vec<Case> = all
        .into_iter()
        .filter(|c| ids.contains(&c.id.as_str()))
        .collect();
    assert_eq!(found.len(), ids.len(), "every id names a case: {ids:?}");
    found
}

fn options() -> Options {
    Options {
        profile: Profile::Rfc,
        step: Duration::from_millis(2000),
        idle: Duration::from_millis(1000),
        jobs: 8,
    }
}

/// Probes the target as `h1spec` does (capabilities, preflight), fits the
/// options, and runs the cases.
fn run(addr: SocketAddr, ids: &[&str]) -> (Target, Vec<CaseResult>) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let profile = TargetProfile {
            post: Some("/echo".into()),
            ..TargetProfile::default()
        };
        let mut t = target::probe(&addr.to_string(), &profile, Duration::from_secs(2))
            .await
            .expect("probe");
        let opts = runner::fit(&mut t, options()).await;
        let results = runner::run_all(&t, &cases(ids), opts, |_, _, _| {}).await;
        if let Some(note) = runner::idle_note(&t).await {
            t.notes.push(note);
        }
        (t, results)
    })
}

/// Runs the cases against the mock with one bug switched on (a server that
/// really breaks the rule).
fn on_mock(bug: Bug, ids: &[&str]) -> Vec<CaseResult> {
    let mock = Mock::start(&[bug]).unwrap();
    let t = Target {
        addr: mock.addr().to_string(),
        vars: vars(),
        capabilities: ["head", "keepalive", "answers-pipelined"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        ..Target::default()
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(runner::run_all(&t, &cases(ids), options(), |_, _, _| {}))
}

fn verdicts(results: &[CaseResult]) -> BTreeMap<String, Verdict> {
    results
        .iter()
        .filter(|r| runner::is_case(r))
        .map(|r| (r.id.clone(), r.verdict))
        .collect()
}

fn all(ids: &[&str], v: Verdict) -> BTreeMap<String, Verdict> {
    ids.iter().map(|id| (id.to_string(), v)).collect()
}

fn check<'a>(results: &'a [CaseResult], id: &str) -> &'a CaseResult {
    results.iter().find(|r| r.id == id).expect("result")
}

/// Class 1: the application's own 404 is no canary. Bodies go to the body
/// path; a request the application answers 404 is still one request.
#[test]
fn the_applications_404_is_not_the_canarys() {
    let ids = [
        "content-length.body-read",
        "smuggling.options-with-body",
        "methods.delete-static",
        "methods.patch-static",
        "methods.trace",
        "chunked.multiple-chunks",
    ];
    for answers_405 in [false, true] {
        let (_, r) = run(
            serve(App {
                answers_405,
                ..App::default()
            }),
            &ids,
        );
        assert_eq!(
            verdicts(&r),
            all(&ids, Verdict::Pass),
            "405 variant: {answers_405}"
        );
    }
    // A server that does not read the body runs the canary as a request.
    let (_, r) = run(
        serve(App {
            ignores_body: true,
            ..App::default()
        }),
        &["content-length.body-read", "smuggling.options-with-body"],
    );
    assert_eq!(
        verdicts(&r),
        all(
            &["content-length.body-read", "smuggling.options-with-body"],
            Verdict::Fail
        )
    );
    // A 405 without Allow still breaks the sentence DELETE and PATCH cite.
    let (_, r) = run(
        serve(App {
            answers_405: true,
            no_allow: true,
            ..App::default()
        }),
        &["methods.delete-static", "methods.patch-static"],
    );
    assert_eq!(
        verdicts(&r),
        all(
            &["methods.delete-static", "methods.patch-static"],
            Verdict::Fail
        )
    );
}

/// Class 2: one missing Date is one finding, not a failure per case.
#[test]
fn a_missing_date_on_error_responses_is_reported_once() {
    let ids = [
        "host.missing",
        "request-line.lowercase-version",
        "fields.space-before-colon",
    ];
    let (_, r) = run(
        serve(App {
            error_without_date: true,
            ..App::default()
        }),
        &ids,
    );
    assert_eq!(verdicts(&r), all(&ids, Verdict::Pass));
    let date = check(&r, "response.date");
    assert_eq!(date.verdict, Verdict::Fail);
    assert!(
        date.reasons.iter().any(|w| w.contains("host.missing")),
        "{:?}",
        date.reasons
    );
    let (_, r) = run(serve(App::default()), &ids);
    assert_eq!(check(&r, "response.date").verdict, Verdict::Pass);
}

/// Class 3: a server that processes a 1 MiB field (its limit is higher) has
/// not broken "larger than it wishes to process"; one that drops it has.
#[test]
fn a_server_below_its_own_limit_is_not_failed() {
    let ids = ["limits.too-large-is-4xx"];
    let (_, r) = run(serve(App::default()), &ids);
    assert_eq!(verdicts(&r), all(&ids, Verdict::Pass));
    let (_, r) = run(
        serve(App {
            drops_heads_over: Some(64 * 1024),
            ..App::default()
        }),
        &ids,
    );
    assert_eq!(verdicts(&r), all(&ids, Verdict::Fail));
}

/// Class 3: what the application answers where the sentence allows it: a
/// redirect for dot-segments, its own 404 to CONNECT (no tunnel), its 404
/// to an absolute-form target it does not serve, then the canary.
#[test]
fn answers_the_sentence_allows_are_accepted() {
    let ids = [
        "request-line.dot-segments",
        "methods.connect-authority-form",
        "host.absolute-form-unserved-authority",
    ];
    let (_, r) = run(
        serve(App {
            redirects_dot_segments: true,
            ..App::default()
        }),
        &ids,
    );
    assert_eq!(verdicts(&r), all(&ids, Verdict::Pass), "{r:#?}");
    // A CONNECT answered 2xx with a Content-Length still fails.
    let ids = ["methods.connect-authority-form"];
    assert_eq!(
        verdicts(&on_mock(Bug::Connect200, &ids)),
        all(&ids, Verdict::Fail)
    );
}

/// Class 4 and 7: the half-close case judges the response only, and gives
/// the same verdict every time on a server whose idle timeout is the wait.
#[test]
fn half_close_is_stable() {
    let addr = serve(App {
        idle_ms: Some(1000),
        ..App::default()
    });
    for _ in 0..10 {
        let (_, r) = run(addr, &["persistence.half-close"]);
        assert_eq!(
            verdicts(&r),
            all(&["persistence.half-close"], Verdict::Pass)
        );
    }
}

/// Class 5: bytes after a request that ends the connection. Field-parsing
/// cases do not pipeline after it, and close cases send the canary after
/// the answer and accept a refusal of it.
#[test]
fn bytes_after_a_close_request_do_not_decide_the_case() {
    let ids = [
        "fields.mixed-case-names",
        "fields.trailing-ows",
        "persistence.connection-close",
        "persistence.connection-close-pipelined",
        "persistence.http10-default-close",
    ];
    let (_, r) = run(
        serve(App {
            refuses_bytes_after_close: true,
            ..App::default()
        }),
        &ids,
    );
    assert_eq!(verdicts(&r), all(&ids, Verdict::Pass));
    // A server that keeps the connection after `close` still fails.
    let close_ids = [
        "fields.mixed-case-names",
        "persistence.connection-close",
        "persistence.connection-close-pipelined",
    ];
    assert_eq!(
        verdicts(&on_mock(Bug::IgnoreConnectionClose, &close_ids)),
        all(&close_ids, Verdict::Fail)
    );
}

/// Class 6: a refusal sent without reading a valid body, then a close, is
/// no failure to decode; a 400 to the same valid body is.
#[test]
fn a_refusal_that_closes_without_reading_the_body_is_not_a_decoding_failure() {
    let ids = [
        "chunked.multiple-chunks",
        "content-length.leading-zeros",
        "fragmented.body-late",
    ];
    let (_, r) = run(
        serve(App {
            refuses_bodies: true,
            ..App::default()
        }),
        &ids,
    );
    assert_eq!(verdicts(&r), all(&ids, Verdict::Pass), "{r:#?}");
    let (_, r) = run(
        serve(App {
            rejects_chunked: true,
            ..App::default()
        }),
        &["chunked.multiple-chunks"],
    );
    assert_eq!(
        verdicts(&r),
        all(&["chunked.multiple-chunks"], Verdict::Fail)
    );
}

/// Class 7: a close by the idle timer never satisfies `close`, and a small
/// worker pool gives no silence.
#[test]
fn the_servers_timers_and_pool_are_not_its_answers() {
    // Ignores `Connection: close` and keeps the connection until its idle
    // timer: a MUST failure that the timer's close used to turn into a pass.
    let ids = ["fields.mixed-case-names", "fields.trailing-ows"];
    let (t, r) = run(
        serve(App {
            idle_ms: Some(1000),
            ignores_close: true,
            ..App::default()
        }),
        &ids,
    );
    assert!(
        t.notes.iter().any(|n| n.starts_with("idle timeout:")),
        "{:?}",
        t.notes
    );
    assert_eq!(verdicts(&r), all(&ids, Verdict::Fail), "{r:#?}");
    let (_, r) = run(
        serve(App {
            idle_ms: Some(1000),
            ..App::default()
        }),
        &ids,
    );
    assert_eq!(verdicts(&r), all(&ids, Verdict::Pass));
    // Three workers, each held by an idle keep-alive connection.
    let ids = [
        "request-line.valid-get",
        "persistence.http11-default",
        "persistence.idle-then-second",
        "pipelining.two",
        "fields.empty-value",
        "host.ipv6-literal",
        "content-length.zero",
        "chunked.trailer",
        "methods.trace",
        "fields.obs-text-value",
    ];
    let (t, r) = run(
        serve(App {
            pool: Some(3),
            ..App::default()
        }),
        &ids,
    );
    assert!(
        t.notes.iter().any(|n| n.starts_with("connections:")),
        "{:?}",
        t.notes
    );
    assert_eq!(verdicts(&r), all(&ids, Verdict::Pass), "{r:#?}");
}

/// Class 8: capabilities are probed the way the cases use them, and a
/// missing one is said once with why.
#[test]
fn missing_capabilities_are_said_with_why() {
    let (t, r) = run(
        serve(App {
            loses_after_body: true,
            no_head: true,
            ..App::default()
        }),
        &["bodiless.head-alone", "chunked.extension-ctl"],
    );
    assert!(!t.capabilities.contains("body") && !t.capabilities.contains("head"));
    assert!(
        t.notes
            .iter()
            .any(|n| n.starts_with("body: a request pipelined behind a body")),
        "{:?}",
        t.notes
    );
    assert!(
        t.notes.iter().any(|n| n.starts_with("head:")),
        "{:?}",
        t.notes
    );
    assert_eq!(
        verdicts(&r),
        all(
            &["bodiless.head-alone", "chunked.extension-ctl"],
            Verdict::NotApplicable
        )
    );
    // No HEAD where GET works is a MUST of its own (RFC 9110 §9.1), once.
    assert_eq!(check(&r, "preflight.head").verdict, Verdict::Fail);
    let (t, r) = run(serve(App::default()), &["bodiless.head-alone"]);
    assert_eq!(check(&r, "preflight.head").verdict, Verdict::Pass);
    assert!(t.capabilities.contains("body") && t.capabilities.contains("head"));
    assert_eq!(t.notes, Vec::<String>::new());
}

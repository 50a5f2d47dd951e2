//! Verdicts that were wrong on real servers, each proven both ways against a
//! small scripted server (or a mock bug mode): the server that is right
//! passes, the one that is wrong fails.
//!
//! * An HTTP/1.0 response announces its close by its version (RFC 9112 §9.3):
//!   a server that answers `HTTP/1.0 200` without `Connection` and closes
//!   was failed as "closed without Connection: close" (Python's http.server).
//! * A HEAD response's Content-Length is compared with GET's body, and its
//!   absence is no failure (RFC 9110 §9.3.2, §8.6).
//! * A non-token method answered 501 is not accepted (RFC 9112 §3: 400).
//! * A server that autocorrects a target with a space (lighttpd served a file
//!   named `a b`) fails, even where `GET /a b` happens to find no file.
//! * Framing cases do not rest on POST being accepted: a server that refuses
//!   every POST is judged on how it frames (Python's http.server failed them
//!   all for answering POST 501).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use pretty_assertions::assert_eq;

use h1spec::case::{Case, Vars};
use h1spec::catalog;
use h1spec::mock::{Bug, Mock};
use h1spec::runner::{self, Options, Profile, Verdict};
use h1spec::target::Target;

const DATE: &str = "Date: Sat, 05 Dec 2026 09:00:00 GMT\r\n";

/// How the scripted server answers one request head.
#[derive(Clone, Copy)]
enum Style {
    /// `HTTP/1.0 200` with Content-Length and no Connection field, then close.
    Http10Close,
    /// `HTTP/1.1 200` with no Connection field, then close: a silent close.
    Http11SilentClose,
    /// HTTP/1.1 keep-alive; HEAD gets no Content-Length.
    HeadWithoutLength,
    /// HTTP/1.1 keep-alive; HEAD gets the Content-Length GET's body has.
    HeadRightLength,
    /// HTTP/1.1 keep-alive; HEAD gets a Content-Length GET's body does not have.
    HeadWrongLength,
    /// Takes everything between the first and the last space of the
    /// request-line as the target, ignores the query: `/` is 200, the rest 404.
    Autocorrect,
    /// Refuses every POST (405, like Python's http.server answers 501);
    /// otherwise `strict_cl` decides whether a GET with a Content-Length that
    /// is not 1*DIGIT gets 400 and a close (RFC 9112 §6.3 rule 5).
    NoPost { strict_cl: bool },
}

const BODY: &[u8] = b"hello";

/// The response to one request head, and whether to close after it.
fn answer(style: Style, head: &[u8]) -> (Vec<u8>, bool) {
    let head_req = head.starts_with(b"HEAD ");
    if let Style::NoPost { strict_cl } = style {
        let text = String::from_utf8_lossy(head).to_ascii_lowercase();
        let bad_cl = text.lines().any(|l| {
            l.strip_prefix("content-length:").is_some_and(|v| {
                v.trim().is_empty() || !v.trim().bytes().all(|b| b.is_ascii_digit())
            })
        });
        let (status, close) = if head.starts_with(b"POST ") {
            ("405 Method Not Allowed", true)
        } else if bad_cl && strict_cl {
            ("400 Bad Request", true)
        } else {
            ("200 OK", false)
        };
        let conn = if close { "Connection: close\r\n" } else { "" };
        let out = format!("HTTP/1.1 {status}\r\n{DATE}{conn}Content-Length: 0\r\n\r\n");
        return (out.into_bytes(), close);
    }
    if let Style::Autocorrect = style {
        let line = String::from_utf8_lossy(head);
        let line = line.lines().next().unwrap_or("");
        let target = match (line.find(' '), line.rfind(' ')) {
            (Some(a), Some(b)) if a < b => &line[a + 1..b],
            _ => "",
        };
        let path = target.split('?').next().unwrap_or("");
        let status = if path == "/" {
            "200 OK"
        } else {
            "404 Not Found"
        };
        let out = format!("HTTP/1.1 {status}\r\n{DATE}Content-Length: 0\r\n\r\n");
        return (out.into_bytes(), false);
    }
    let body: &[u8] = if head_req { b"" } else { BODY };
    let (version, length, close) = match style {
        Style::Http10Close => ("HTTP/1.0", Some(BODY.len()), true),
        Style::Http11SilentClose => ("HTTP/1.1", Some(BODY.len()), true),
        Style::HeadWithoutLength if head_req => ("HTTP/1.1", None, false),
        Style::HeadWrongLength if head_req => ("HTTP/1.1", Some(BODY.len() + 3), false),
        _ => ("HTTP/1.1", Some(BODY.len()), false),
    };
    let mut out = format!("{version} 200 OK\r\n{DATE}").into_bytes();
    if let Some(n) = length {
        out.extend_from_slice(format!("Content-Length: {n}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    (out, close)
}

/// A scripted server on 127.0.0.1:0: reads request heads (the cases used
/// here send no bodies), answers each in `style`. Runs until the test ends.
fn serve(style: Style) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            thread::spawn(move || connection(style, conn));
        }
    });
    addr
}

fn connection(style: Style, mut conn: TcpStream) {
    conn.set_read_timeout(Some(Duration::from_secs(5))).ok();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head: Vec<u8> = buf.drain(..end + 4).collect();
            let (out, close) = answer(style, &head);
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

fn target(addr: &str) -> Target {
    Target {
        addr: addr.to_string(),
        vars: Vars {
            host: "localhost".into(),
            path: "/".into(),
            post: "/echo".into(),
            missing: "/h1spec-canary-404".into(),
            nocontent: "/empty".into(),
            etag: "\"h1spec-mock-1\"".into(),
            max_uri: None,
            max_head: None,
            max_body: None,
        },
        capabilities: ["keepalive", "head", "answers-pipelined"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        ..Target::default()
    }
}

fn cases(ids: &[&str]) -> Vec<Case> {
    let all = catalog::builtin().expect("built-in cases parse");
    let picked: Vec<Case> = all
        .into_iter()
        .filter(|c| ids.contains(&c.id.as_str()))
        .collect();
    assert_eq!(picked.len(), ids.len(), "every case id exists");
    picked
}

/// Verdict per case id, rfc profile.
fn verdicts(addr: &str, ids: &[&str]) -> BTreeMap<String, Verdict> {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let opts = Options {
        profile: Profile::Rfc,
        step: Duration::from_millis(2000),
        idle: Duration::from_millis(300),
        jobs: 8,
    };
    let results = rt.block_on(runner::run_all(
        &target(addr),
        &cases(ids),
        opts,
        |_, _, _| {},
    ));
    results
        .into_iter()
        .filter(runner::is_case)
        .map(|r| (r.id, r.verdict))
        .collect()
}

fn all(ids: &[&str], v: Verdict) -> BTreeMap<String, Verdict> {
    ids.iter().map(|id| (id.to_string(), v)).collect()
}

/// Cases where a close is acceptable only when the response announces it.
const ANNOUNCED_CLOSE: &[&str] = &[
    "persistence.http11-default",
    "persistence.connection-close-says-close",
    "pipelining.two",
];

#[test]
fn http10_response_announces_the_close_by_its_version() {
    let addr = serve(Style::Http10Close).to_string();
    assert_eq!(
        verdicts(&addr, ANNOUNCED_CLOSE),
        all(ANNOUNCED_CLOSE, Verdict::Pass)
    );
}

#[test]
fn http11_response_closed_without_saying_so_fails() {
    let addr = serve(Style::Http11SilentClose).to_string();
    assert_eq!(
        verdicts(&addr, ANNOUNCED_CLOSE),
        all(ANNOUNCED_CLOSE, Verdict::Fail)
    );
}

#[test]
fn head_content_length_is_compared_with_get() {
    let id = ["bodiless.head-content-length"];
    for (style, want) in [
        (Style::HeadWithoutLength, Verdict::Pass),
        (Style::HeadRightLength, Verdict::Pass),
        (Style::HeadWrongLength, Verdict::Fail),
    ] {
        let addr = serve(style).to_string();
        assert_eq!(verdicts(&addr, &id), all(&id, want));
    }
    let mock = Mock::start(&[Bug::HeadWrongLength]).expect("mock");
    assert_eq!(
        verdicts(&mock.addr().to_string(), &id),
        all(&id, Verdict::Fail)
    );
}

#[test]
fn non_token_method_answered_501_fails() {
    let id = ["request-line.method-non-token"];
    let right = Mock::start(&[]).expect("mock");
    assert_eq!(
        verdicts(&right.addr().to_string(), &id),
        all(&id, Verdict::Pass)
    );
    let wrong = Mock::start(&[Bug::InvalidMethod501]).expect("mock");
    assert_eq!(
        verdicts(&wrong.addr().to_string(), &id),
        all(&id, Verdict::Fail)
    );
}

#[test]
fn autocorrected_target_fails_where_the_corrected_path_exists() {
    let ids = [
        "request-line.target-space",
        "request-line.target-space-autocorrected",
    ];
    let addr = serve(Style::Autocorrect).to_string();
    let got = verdicts(&addr, &ids);
    // `GET /a b` finds no file, so it cannot tell; the case that asks for a
    // path that exists once corrected can.
    assert_eq!(got["request-line.target-space"], Verdict::Pass);
    assert_eq!(
        got["request-line.target-space-autocorrected"],
        Verdict::Fail
    );
    let strict = Mock::start(&[]).expect("mock");
    assert_eq!(
        verdicts(&strict.addr().to_string(), &ids),
        all(&ids, Verdict::Pass)
    );
}

#[test]
fn framing_cases_do_not_rest_on_post_being_accepted() {
    let ids = [
        "content-length.non-numeric",
        "content-length.plus-sign",
        "content-length.empty",
    ];
    let strict = serve(Style::NoPost { strict_cl: true }).to_string();
    assert_eq!(verdicts(&strict, &ids), all(&ids, Verdict::Pass));
    let lax = serve(Style::NoPost { strict_cl: false }).to_string();
    assert_eq!(verdicts(&lax, &ids), all(&ids, Verdict::Fail));
}

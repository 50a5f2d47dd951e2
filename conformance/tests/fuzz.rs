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
        capabilities: ["answers-pipelined".to_string()].into(),
        ..Target::default()
    };
    let opts = Options {
        profile: Profile::Rfc,
        step: Duration::from_secs(2),
        idle: Duration::from_millis(500),
        jobs: 4,
    };
    let results = rt.block_on(runner::run_all(&target, &cases, opts, |_, _, _| {}));
    // A defect of the responses themselves (a body after HEAD) fails a
    // response check, not the case: the run shows it either way.
    let defect = results
        .iter()
        .any(|r| r.area == runner::CHECK_AREA && r.verdict == Verdict::Fail);
    results
        .iter()
        .filter(|r| runner::is_case(r))
        .map(|r| if defect { Verdict::Fail } else { r.verdict })
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
    (Bug::LenientNumbers, "desync:"),
    (Bug::ChunkEndUnchecked, "desync:"),
    (Bug::TeIdentityCl, "desync:"),
    (Bug::DuplicateTeIgnored, "desync:"),
    (Bug::HeadBodyIgnored, "desync:"),
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
        // The finding, or a variant of it (same root cause, seen later).
        let Some(f) = s.findings.iter().find(|f| {
            f.signature.starts_with(want) || f.variants.keys().any(|v| v.starts_with(want))
        }) else {
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

// A server that never answers a request pipelined behind another is not
// hiding the canary: the preflight says so once, and its stall is no
// finding (RFC 9112 §9.3.2 lets a server answer pipelined requests; it
// does not make it).
#[test]
fn a_server_that_does_not_pipeline_is_noted_not_reported() {
    let mock = Mock::start(&[Bug::NoPipelining]).unwrap();
    let s = fuzz_mock(&mock, 3000, 1);
    let sigs: Vec<&str> = s.findings.iter().map(|f| f.signature.as_str()).collect();
    assert!(
        sigs.iter()
            .all(|s| !s.starts_with("desync:swallowed") && !s.starts_with("desync:dropped")),
        "{sigs:?}"
    );
    assert!(
        s.notes
            .iter()
            .any(|n| n.contains("does not answer a request pipelined")),
        "{:?}",
        s.notes
    );
    // The same mock, without the bug, is noted as pipelining.
    let correct = Mock::start(&[]).unwrap();
    let s = fuzz_mock(&correct, 10, 1);
    assert!(
        !s.notes.iter().any(|n| n.contains("pipelined")),
        "{:?}",
        s.notes
    );
}

/// A toy reverse proxy for proxy mode: reads the client's bytes until the
/// client half-closes or goes quiet, frames them with h1parse, and
/// forwards each message re-serialized (head line, Host, Content-Length,
/// decoded body) on one connection to the origin, then relays the
/// origin's answers. With `ignore_chunked` it frames a chunked body as no
/// body (and reads the chunks as the next requests), like a front end that
/// does not implement Transfer-Encoding.
fn toy_proxy(origin: std::net::SocketAddr, ignore_chunked: bool) -> std::net::SocketAddr {
    use h1parse::{BodyKind, ChunkedDecoder, Header, RequestParser, Status};
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut client) = conn else { continue };
            std::thread::spawn(move || {
                client
                    .set_read_timeout(Some(Duration::from_millis(200)))
                    .unwrap();
                let mut bytes = Vec::new();
                let mut chunk = [0u8; 8192];
                while let Ok(n) = client.read(&mut chunk) {
                    if n == 0 {
                        break;
                    }
                    bytes.extend_from_slice(&chunk[..n]);
                }
                let mut out = Vec::new();
                let mut pos = 0;
                while pos < bytes.len() {
                    let buf = &bytes[pos..];
                    let mut headers = [Header::EMPTY; 64];
                    let Ok(Status::Complete(req)) = RequestParser::new().parse(buf, &mut headers)
                    else {
                        break;
                    };
                    let line = format!(
                        "{} {} HTTP/1.1\r\nHost: origin\r\n",
                        String::from_utf8_lossy(req.method.get(buf)),
                        String::from_utf8_lossy(req.target.get(buf))
                    );
                    pos += req.head_len;
                    let mut body = Vec::new();
                    match req.body {
                        BodyKind::Length(n) => {
                            let n = (n as usize).min(bytes.len() - pos);
                            body.extend_from_slice(&bytes[pos..pos + n]);
                            pos += n;
                        }
                        BodyKind::Chunked if !ignore_chunked => {
                            // A body that does not decode whole ends the
                            // connection: nothing after it can be framed.
                            let mut dec = ChunkedDecoder::new();
                            let whole = loop {
                                match dec.decode(&bytes[pos..]) {
                                    Ok(c) => {
                                        body.extend_from_slice(&bytes[pos..][c.data.clone()]);
                                        pos += c.consumed;
                                        if c.done {
                                            break true;
                                        }
                                        if c.consumed == 0 {
                                            break false;
                                        }
                                    }
                                    Err(_) => break false,
                                }
                            };
                            if !whole {
                                break;
                            }
                        }
                        _ => {}
                    }
                    out.extend_from_slice(line.as_bytes());
                    out.extend_from_slice(
                        format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes(),
                    );
                    out.extend_from_slice(&body);
                }
                let Ok(mut up) = std::net::TcpStream::connect(origin) else {
                    return;
                };
                let _ = up.write_all(&out);
                let _ = up.shutdown(std::net::Shutdown::Write);
                let mut answers = Vec::new();
                let _ = up.read_to_end(&mut answers);
                let _ = client.write_all(&answers);
            });
        }
    });
    addr
}

fn fuzz_via(front: std::net::SocketAddr, origin: h1spec::fuzz::origin::Origin) -> Summary {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let target = FuzzTarget {
        name: "proxy".into(),
        addr: front.to_string(),
        vars: vars(),
    };
    let cfg = Config {
        seed: 0,
        runs: Some(600),
        duration: Some(Duration::from_secs(60)),
        jobs: 1,
        wait: Duration::from_millis(300),
        shrink_budget: 50,
        max_findings: 50,
        origin: Some(origin),
        ..Config::default()
    };
    rt.block_on(fuzz::fuzz(vec![target], Vec::new(), cfg, None, None, None))
        .expect("the proxy answers")
}

#[test]
fn proxy_mode_finds_a_front_end_that_smuggles_and_passes_one_that_does_not() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let origin = rt
        .block_on(h1spec::fuzz::origin::Origin::start("127.0.0.1:0"))
        .unwrap();
    let _keep = std::thread::spawn({
        // The origin's tasks live on `rt`: keep it running in a thread.
        let rt = rt;
        move || rt.block_on(std::future::pending::<()>())
    });
    let sound = fuzz_via(toy_proxy(origin.addr, false), origin.clone());
    let proxy_findings = |s: &Summary| -> Vec<String> {
        s.findings
            .iter()
            .filter(|f| f.signature.starts_with("proxy:"))
            .map(|f| f.signature.clone())
            .collect()
    };
    assert_eq!(sound.inputs, 600);
    assert_eq!(proxy_findings(&sound), Vec::<String>::new());
    let broken = fuzz_via(toy_proxy(origin.addr, true), origin);
    let found = proxy_findings(&broken);
    assert!(
        found
            .iter()
            .any(|s| s.starts_with("proxy:smuggled") || s.starts_with("proxy:body")),
        "{found:?}"
    );
}

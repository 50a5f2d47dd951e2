//! Recorded exchanges: the bytes a fuzz input sent (the canary follows),
//! the bytes a server answered and how the connection ended, and what the
//! oracle must make of them. One row at least per leniency of the table,
//! each false finding seen on a released server, and the true findings
//! beside them (so each rule is tested both ways).

use pretty_assertions::assert_eq;

use super::reading::Leniency;
use super::{judge, read, read_lenient, Canary, Desync, Kind, Verdict};
use crate::exchange::{End, Transcript};

const CANARY: &[u8] = b"GET /h1spec-canary-404 HTTP/1.1\r\nHost: localhost\r\n\r\n";

/// A 404 with a body, as an application sends it.
const NOT_FOUND: &[u8] =
    b"HTTP/1.1 404 Not Found\r\nDate: x\r\nContent-Length: 10\r\n\r\nnot found\n";

/// What the oracle must say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    /// Nothing to report, and no leniency counted.
    Clean,
    /// Not a finding: a reading RFC 9112 allows or a coherent leniency.
    Lenient,
    /// A finding of this kind.
    Finding(Kind),
}

struct Row {
    name: &'static str,
    sent: &'static [u8],
    received: Vec<u8>,
    end: End,
    pipelines: bool,
    want: Want,
}

fn resp(status: u16) -> Vec<u8> {
    format!("HTTP/1.1 {status} X\r\nDate: x\r\nContent-Length: 0\r\n\r\n").into_bytes()
}

fn resp_close(status: u16) -> Vec<u8> {
    format!("HTTP/1.1 {status} X\r\nDate: x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
        .into_bytes()
}

fn row(name: &'static str, sent: &'static [u8], got: &[Vec<u8>], end: End, want: Want) -> Row {
    Row {
        name,
        sent,
        received: got.concat(),
        end,
        pipelines: true,
        want,
    }
}

/// The oracle's verdict on `sent` (then the canary) answered with
/// `received`, judged as on the slow path (no half-close).
fn judged(
    sent: &[u8],
    received: &[u8],
    end: End,
    pipelines: bool,
) -> Result<Option<Verdict>, String> {
    let bytes = [sent, CANARY].concat();
    let (strict, lenient) = (read(&bytes), read_lenient(&bytes));
    let tr = Transcript::plain(&bytes, received, end);
    let o = super::observe(&tr, &bytes);
    let mut canary = Canary::after(sent, 404, &strict);
    canary.pipelines = pipelines;
    judge(&strict, &lenient, &o, &bytes, canary, false)
}

fn verdict(r: &Row) -> Want {
    match judged(r.sent, &r.received, r.end, r.pipelines) {
        Ok(None) => Want::Clean,
        Ok(Some(v)) => Want::Finding(v.kind),
        Err(_) => Want::Lenient,
    }
}

fn rows() -> Vec<Row> {
    use End::{Closed, Open};
    use Want::{Clean, Finding, Lenient};
    let (ok, nf) = (resp(200), resp(404));
    vec![
        // Leniency: bare LF.
        row("bare LF read as CRLF", b"GET / HTTP/1.1\nHost: a\n\n", &[ok.clone(), nf.clone()], Open, Clean),
        row("bare LF refused", b"GET / HTTP/1.1\nHost: a\n\n", &[resp_close(400)], Closed, Clean),
        // Leniency: obs-fold, also in Content-Length (a false desync on a
        // released server that unfolds it; the case smuggling.cl-obs-fold
        // accepts it).
        row("obs-fold unfolded", b"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", &[ok.clone(), nf.clone()], Open, Clean),
        row("folded Content-Length framed as 5", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n 5\r\n\r\nhello", &[ok.clone(), nf.clone()], Open, Clean),
        row("folded Content-Length refused", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n 5\r\n\r\nhello", &[resp_close(400)], Closed, Clean),
        // ... but `+5` read as 5 is no reading RFC 9112 allows.
        row("Content-Length +5 read as 5", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello", &[ok.clone(), nf.clone()], Open, Finding(Kind::Desync(Desync::ReadOn))),
        // Leniency: Transfer-Encoding over Content-Length, then close.
        row("TE over CL, then close", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", &[resp_close(200)], Closed, Clean),
        row("TE over CL, kept open and read on", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", &[ok.clone(), nf.clone()], Open, Finding(Kind::Desync(Desync::Extra))),
        // Leniency: a field line skipped.
        row("field line without colon skipped", b"GET / HTTP/1.1\r\nHost: a\r\nX y\r\n\r\n", &[ok.clone(), nf.clone()], Open, Clean),
        // Leniency: a bare CR read as SP (`Content-Length: 5\r` is 5).
        row("bare CR after Content-Length read as SP", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\r\n\r\nhello", &[ok.clone(), nf.clone()], Open, Clean),
        row("bare CR after Content-Length refused", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\r\n\r\nhello", &[resp_close(400)], Closed, Clean),
        // Leniency: the final chunked frames `x, chunked` and chunked twice.
        row("unknown coding before chunked framed by chunked", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: x, chunked\r\n\r\n0\r\n\r\n", &[ok.clone(), nf.clone()], Open, Clean),
        row("chunked on two lines framed by the last", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", &[ok.clone(), nf.clone()], Open, Clean),
        row("unknown coding before chunked, the canary read as a request", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: x, chunked\r\n\r\n", &[ok.clone(), nf.clone()], Open, Finding(Kind::Desync(Desync::ReadOn))),
        // Leniency: a control character (not CR, LF, NUL) kept in a value,
        // here of a trailer field.
        row("VT in a trailer value kept", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nh:\x0b\r\n\r\n", &[ok.clone(), nf.clone()], Open, Clean),
        row("VT in a trailer value refused", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nh:\x0b\r\n\r\n", &[resp_close(400)], Closed, Clean),
        row("NUL in a trailer value kept and read on", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nh:\x00\r\n\r\n", &[ok.clone(), nf.clone()], Open, Finding(Kind::Desync(Desync::ReadOn))),
        // Leniency: a Connection field that is no token list ignored.
        row("Connection with obs-text and close, kept open", b"GET / HTTP/1.1\r\nHost: a\r\nConnection: \x80,close\r\n\r\n", &[ok.clone(), nf.clone()], Open, Clean),
        row("Connection with obs-text and close, closed", b"GET / HTTP/1.1\r\nHost: a\r\nConnection: \x80,close\r\n\r\n", &[resp_close(200)], Closed, Clean),
        row("Connection: a, close kept open", b"GET / HTTP/1.1\r\nHost: a\r\nConnection: a, close\r\n\r\n", &[ok.clone(), nf.clone()], Open, Finding(Kind::Desync(Desync::Extra))),
        // Leniency: identical Content-Length values taken as one.
        row("Content-Length: 5, 5 read as 5", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\nhello", &[ok.clone(), nf.clone()], Open, Clean),
        row("two Content-Length: 5 lines read as 5", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello", &[ok.clone(), nf.clone()], Open, Clean),
        row("Content-Length: 5, 6 read as 5", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\nhello", &[ok.clone(), nf.clone()], Open, Finding(Kind::Desync(Desync::ReadOn))),
        // A refusal of a head-level error, then the canary read as sent
        // alone (released servers answer 501 or 417 before they look at
        // the rest of the head).
        row("501 to a whitespace line after the request line, canary answered", b"FOO / HTTP/1.1\r\n X: y\r\nHost: a\r\n\r\n", &[resp(501), nf.clone()], Open, Lenient),
        row("417 to a whitespace line after the request line, canary answered", b"GET / HTTP/1.1\r\n X: y\r\nHost: a\r\nExpect: foo\r\n\r\n", &[resp(417), nf.clone()], Open, Lenient),
        // ... but after a refused body it cannot frame, reading on is a desync.
        row("400 to a bad chunk size, then read on", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5x\r\nhello\r\n0\r\n\r\n", &[resp(400), nf.clone()], Open, Finding(Kind::Desync(Desync::AfterError))),
        // A close after an answer (HTTP/1.2 read as 1.1, then closed).
        row("HTTP/1.2 answered 200 then closed", b"GET / HTTP/1.2\r\nHost: a\r\n\r\n", std::slice::from_ref(&ok), Closed, Clean),
        row("a complete request, closed without a word", b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", &[], Closed, Finding(Kind::Desync(Desync::Dropped))),
        // A server that does not answer requests pipelined behind a body:
        // its stall is not a swallowed canary.
        Row { pipelines: false, ..row("no pipelining behind a body", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", std::slice::from_ref(&ok), Open, Clean) },
        row("the canary swallowed by a pipelining server", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", std::slice::from_ref(&ok), Open, Finding(Kind::Desync(Desync::Swallowed))),
        // A HEAD after a message the readings refuse (no Host), answered
        // without a body by a server that tolerated it: the canary's 404
        // is no body of it.
        row("bodiless HEAD answer after a tolerated missing Host", b"E / HTTP/1.1\r\n\r\nHEAD / HTTP/1.1\r\n\r\n", &[NOT_FOUND.to_vec(), b"HTTP/1.1 200 OK\r\nDate: x\r\nContent-Length: 57\r\n\r\n".to_vec(), NOT_FOUND.to_vec()], Open, Clean),
        // `content-length :55` read as a length (RFC 9112 §5.1 MUST
        // refuse it): the smuggled GET swallowed as its body, the HEAD
        // rightly answered without one. A desync, not a malformed answer.
        row("space before the colon read as Content-Length, then a HEAD", b"T / HTTP/1.1\r\nHost:\r\ncontent-length :55\r\n\r\nGET /h1spec-fuzz-smuggled HTTP/1.1\r\nHost: localhost\r\n\r\nHEAD / HTTP/1.1\r\nHost:\r\n\r\n", &[NOT_FOUND.to_vec(), b"HTTP/1.1 200 OK\r\nDate: x\r\nContent-Length: 57\r\n\r\n".to_vec(), NOT_FOUND.to_vec()], Open, Finding(Kind::Desync(Desync::Swallowed))),
        // A body framed otherwise than both readings (a bare LF for the CRLF
        // after chunk data, RFC 9112 §7.1), then a HEAD answered without a
        // body: a desync, and the HEAD's bodiless answer no malformed one.
        row("bodiless HEAD answer after a body no reading frames", b"T / HTTP/1.1\nHost:\nTransfer-Encoding:Chunked\n\n3\r\n0\r\n\n1\n\r\n0\n\nHEAD / HTTP/1.1\n\n", &[resp(405), b"HTTP/1.1 200 OK\r\nDate: x\r\nContent-Length: 57\r\n\r\n".to_vec(), NOT_FOUND.to_vec()], Open, Finding(Kind::Desync(Desync::Extra))),
        // `Content-Length: 13\x0b` read as 13 (a language's integer parser
        // strips the VT): the HEAD after the body starts mid-line, and its
        // bodiless answer is no malformed response. (The desync is missed:
        // the lenient reading skips the invalid line, then meets a line it
        // cannot read, after which it claims nothing. `lenient-numbers`
        // inputs without such a line are found.)
        row("Content-Length 13 VT read as 13, then a HEAD mid-line", b"C / HTTP/1.1\nHost:\nContent-Length:13\x0b\n\nabcdefghijklmHEAD t HTTP/1.1\n\n", &[NOT_FOUND.to_vec(), b"HTTP/1.1 404 Not Found\r\nDate: x\r\nContent-Length: 10\r\n\r\n".to_vec(), NOT_FOUND.to_vec()], Open, Clean),
        // `00` is a last chunk too, and a bare LF may end the trailers.
        row("last chunk 00 then a bare LF", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n00\r\n\n", &[ok.clone(), nf.clone()], Open, Clean),
        // A bare LF ending the trailers, refused by a server that takes
        // no bare LF: its 400 and close, after the early answer, refuse
        // the trailer line the canary's bytes became (RFC 9112 §2.2 MAY).
        row("bare LF ending the trailers refused after an early answer", b"POST / HTTP/1.1\r\nHost:\r\nTransfer-Encoding:Chunked\r\n\r\n5\r\nabcde\r\n0\r\n\n", &[nf.clone(), resp_close(400)], Closed, Clean),
        row("bare LF ending the trailers after chunks, refused", b"GET / HTTP/1.1\r\nHost:\r\nTransfer-Encoding:chunked\r\n\r\n4\r\n0\r\n\r\r\n1\r\n\n\r\n0\r\n\n", &[ok.clone(), resp_close(400)], Closed, Clean),
        row("bare LF ending the trailers of an empty body, refused", b"GET / HTTP/1.1\r\nHost:\r\nTransfer-Encoding:chunked\r\nTransfer-Encoding:chunked\r\n\r\n0\r\n\n", &[ok.clone(), resp_close(400)], Closed, Clean),
        // ... but a canary answered otherwise than alone there is read
        // from another byte.
        row("bare LF ending the trailers, canary answered 200", b"POST / HTTP/1.1\r\nHost:\r\nTransfer-Encoding:Chunked\r\n\r\n5\r\nabcde\r\n0\r\n\n", &[nf.clone(), ok.clone()], Open, Finding(Kind::Desync(Desync::Canary))),
        // RFC 9112 §2.2: a server SHOULD ignore at least one empty line
        // before a request-line; one that ignores one may refuse a second.
        row("two empty lines before the canary, refused by a close", b"\r\n\r\n", &[], Closed, Clean),
        row("two empty lines before the canary, skipped", b"\r\n\r\n", std::slice::from_ref(&nf), Open, Clean),
        row("one empty line before the canary, closed without a word", b"\r\n", &[], Closed, Finding(Kind::Desync(Desync::Dropped))),
        // A 400 to a line of junk is not the canary's answer.
        row("junk line answered 400 twice", b"h\n\n", &[resp(400), resp_close(400)], Closed, Clean),
        row("canary answered 200 after junk", b"GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n", &[resp(400), ok.clone()], Open, Finding(Kind::Desync(Desync::Canary))),
        // A length of 2^64 and more: waiting for it is exact; wrapping is not.
        row("Content-Length 2^64 waited for", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551616\r\n\r\n", &[], Open, Clean),
        row("Content-Length 2^64 wrapped to 0", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551616\r\n\r\n", &[ok.clone(), nf.clone()], Open, Finding(Kind::Desync(Desync::ReadOn))),
        // Chunk data followed by two bytes that are not CRLF.
        row("chunk data then XX read as CRLF", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n", &[ok.clone(), nf.clone()], Open, Finding(Kind::Desync(Desync::ReadOn))),
        row("chunk data then XX refused", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n", &[resp_close(400)], Closed, Clean),
    ]
}

#[test]
fn recorded_exchanges_get_the_verdicts_rfc_9112_gives() {
    let got: Vec<(&str, Want)> = rows().iter().map(|r| (r.name, verdict(r))).collect();
    let want: Vec<(&str, Want)> = rows().iter().map(|r| (r.name, r.want)).collect();
    assert_eq!(got, want);
}

#[test]
fn every_leniency_has_a_recorded_exchange() {
    let mut used = Vec::new();
    for r in rows() {
        let bytes = [r.sent, CANARY].concat();
        used.extend(read_lenient(&bytes).used);
    }
    for l in Leniency::ALL {
        assert!(used.contains(&l), "no recorded exchange takes {l:?}");
    }
}

/// `\r`, `\n`, `\t`, `\\` and `\xNN` as in the corpus file.
fn unescape(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            match b[i + 1] {
                b'r' => out.push(b'\r'),
                b'n' => out.push(b'\n'),
                b't' => out.push(b'\t'),
                b'x' if i + 3 < b.len() => {
                    let hex = std::str::from_utf8(&b[i + 2..i + 4]).unwrap_or("00");
                    out.push(u8::from_str_radix(hex, 16).unwrap_or(0));
                    i += 2;
                }
                c => out.push(c),
            }
            i += 2;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// The oracle's verdict on one recorded exchange: whether it reports a
/// finding, and the signature.
fn recorded_verdict(sent: &[u8], received: &[u8], end: End) -> Option<String> {
    judged(sent, received, end, true)
        .ok()
        .flatten()
        .map(|v| v.signature)
}

// Every exchange of the precision campaign on released servers, each
// adjudicated by hand (corpus/oracle/released-servers.tsv): the oracle
// reports a finding exactly where the server broke a rule.
#[test]
fn exchanges_recorded_on_released_servers_are_judged_as_adjudicated() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../corpus/oracle/released-servers.tsv"
    );
    let text = std::fs::read_to_string(path).expect("corpus file");
    let mut wrong = Vec::new();
    let mut rows = 0;
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let f: Vec<&str> = line.split('\t').collect();
        let end = if f[4] == "open" {
            End::Open
        } else {
            End::Closed
        };
        let got = recorded_verdict(&unescape(f[5]), &unescape(f[6]), end);
        rows += 1;
        let want_finding = f[2] == "finding";
        if got.is_some() != want_finding {
            wrong.push(format!(
                "{} {} {} ({}): got {got:?}",
                f[0], f[1], f[2], f[3]
            ));
        }
    }
    assert!(rows >= 190, "{rows} rows");
    assert!(
        wrong.is_empty(),
        "{} of {rows} judged otherwise:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

// The variant a refusal in the canary's place is confirmed with: the same
// head, an empty chunked body, then the canary.
#[test]
fn the_body_before_the_canary_is_emptied_for_the_confirming_exchange() {
    use super::reading::empty_body;
    let sent = b"DELETE / HTTP/1.1\r\nHost:\r\nTransfer-Encoding:y\r\nTransfer-Encoding:chunked\r\n\r\n1 ;a\r\n\n\r\n0\r\n\r\n";
    let head =
        b"DELETE / HTTP/1.1\r\nHost:\r\nTransfer-Encoding:y\r\nTransfer-Encoding:chunked\r\n\r\n";
    assert_eq!(
        empty_body(sent, CANARY),
        Some([&head[..], b"0\r\n\r\n"].concat())
    );
    // Nothing to empty: already empty, not chunked, or no reading puts
    // the canary after it.
    let empty = b"GET / HTTP/1.1\r\nHost:\r\nTransfer-Encoding:chunked\r\n\r\n0\r\n\r\n";
    assert_eq!(empty_body(empty, CANARY), None);
    let length = b"POST / HTTP/1.1\r\nHost:\r\nContent-Length: 5\r\n\r\nhello";
    assert_eq!(empty_body(length, CANARY), None);
    let unframed =
        b"POST / HTTP/1.1\r\nHost:\r\nTransfer-Encoding:chunked\r\n\r\n5x\r\nhello\r\n0\r\n\r\n";
    assert_eq!(empty_body(unframed, CANARY), None);
}

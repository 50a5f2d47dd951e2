//! Generators and drivers shared by the property tests.
#![allow(dead_code)]

use h1parse::{
    ChunkedDecoder, Error, Header, Request, RequestParser, Response, ResponseParser, Status,
};
use proptest::prelude::*;

mod reference;
pub use reference::chunked_reference;

/// A generated, valid request: its parts and its wire bytes.
#[derive(Debug, Clone)]
pub struct GenRequest {
    pub method: String,
    pub target: String,
    pub minor: u8,
    pub headers: Vec<(String, String)>,
    pub bytes: Vec<u8>,
}

pub fn token() -> impl Strategy<Value = String> {
    "[!#$%&'*+.^_`|~0-9A-Za-z-]{1,12}"
}

pub fn method() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => Just("GET".to_string()),
        1 => Just("POST".to_string()),
        1 => Just("HEAD".to_string()),
        1 => "[A-Z]{1,10}".prop_filter("not CONNECT", |m| m != "CONNECT"),
    ]
}

pub fn target() -> impl Strategy<Value = String> {
    prop_oneof![
        // visible ASCII without `#` (a request-target has no fragment)
        "/[!-\"$-~]{0,40}",
        "http://[a-z]{1,10}\\.example(:[0-9]{1,5})?/[!-\"$-~]{0,20}",
    ]
}

/// A field value: visible bytes and inner spaces, no surrounding whitespace.
pub fn value() -> impl Strategy<Value = String> {
    prop_oneof!["", "[!-~]([!-~ \t]{0,30}[!-~])?"]
}

/// Names that carry no framing meaning (framing fields are added on purpose).
pub fn plain_name() -> impl Strategy<Value = String> {
    token().prop_filter("not a framing field", |n| {
        let l = n.to_ascii_lowercase();
        !matches!(
            l.as_str(),
            "host" | "content-length" | "transfer-encoding" | "connection" | "expect" | "upgrade"
        )
    })
}

pub fn request() -> impl Strategy<Value = GenRequest> {
    (
        method(),
        target(),
        0u8..=2,
        "[a-z0-9.-]{0,20}(:[0-9]{1,5})?",
        prop::collection::vec((plain_name(), value()), 0..12),
        prop_oneof![Just(None), (0u64..100_000).prop_map(Some)],
        0usize..3,
    )
        .prop_map(|(method, target, minor, host, extra, cl, ows)| {
            let mut headers = vec![("Host".to_string(), host)];
            headers.extend(extra);
            if let Some(n) = cl {
                headers.push(("Content-Length".to_string(), n.to_string()));
            }
            let mut bytes = format!("{method} {target} HTTP/1.{minor}\r\n").into_bytes();
            let pad = [" ", "", "\t "][ows];
            for (n, v) in &headers {
                bytes.extend_from_slice(format!("{n}:{pad}{v}{pad}\r\n").as_bytes());
            }
            bytes.extend_from_slice(b"\r\n");
            GenRequest {
                method,
                target,
                minor,
                headers,
                bytes,
            }
        })
}

/// Bytes that look like HTTP: mutations of a valid request.
pub fn near_request() -> impl Strategy<Value = Vec<u8>> {
    (
        request(),
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..4),
    )
        .prop_map(|(req, edits)| {
            let mut b = req.bytes;
            for (i, byte, op) in edits {
                if b.is_empty() {
                    break;
                }
                let i = i.index(b.len());
                let special = [b'\r', b'\n', b' ', b'\t', b':', 0, b',', byte][byte as usize % 8];
                match op {
                    0 => b[i] = special,
                    1 => b.insert(i, special),
                    _ => {
                        b.remove(i);
                    }
                }
            }
            b
        })
}

/// Split points: sorted, deduplicated offsets inside `len`.
pub fn splits(len: usize, raw: &[prop::sample::Index]) -> Vec<usize> {
    let mut v: Vec<usize> = raw.iter().map(|i| i.index(len + 1)).collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// What a request parse came to, with the header contents, for comparisons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Complete(Request, Vec<(Vec<u8>, Vec<u8>)>),
    Partial,
    Failed(Error),
}

pub fn request_whole(input: &[u8]) -> Outcome {
    let mut headers = [Header::EMPTY; 32];
    let r = RequestParser::new().parse(input, &mut headers);
    request_outcome(input, &headers, r)
}

/// Feeds `input` growing to each split point, then whole; stops at the first verdict.
pub fn request_split(input: &[u8], points: &[usize]) -> Outcome {
    let mut headers = [Header::EMPTY; 32];
    let mut p = RequestParser::new();
    for &end in points.iter().chain(std::iter::once(&input.len())) {
        let r = p.parse(&input[..end], &mut headers);
        if !matches!(r, Ok(Status::Partial)) || end == input.len() {
            return request_outcome(input, &headers, r);
        }
    }
    unreachable!()
}

fn request_outcome(input: &[u8], headers: &[Header], r: Result<Status<Request>, Error>) -> Outcome {
    match r {
        Ok(Status::Complete(req)) => {
            let hs = req
                .head(input, headers)
                .headers()
                .map(|(n, v)| (n.to_vec(), v.to_vec()))
                .collect();
            Outcome::Complete(req, hs)
        }
        Ok(Status::Partial) => Outcome::Partial,
        Err(e) => Outcome::Failed(e),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RespOutcome {
    Complete(Response, Vec<(Vec<u8>, Vec<u8>)>),
    Partial,
    Failed(Error),
}

pub fn response_split(input: &[u8], points: &[usize], head: bool) -> RespOutcome {
    let mut headers = [Header::EMPTY; 32];
    let mut p = ResponseParser::new().for_head_request(head);
    for &end in points.iter().chain(std::iter::once(&input.len())) {
        let r = p.parse(&input[..end], &mut headers);
        if !matches!(r, Ok(Status::Partial)) || end == input.len() {
            return match r {
                Ok(Status::Complete(resp)) => {
                    let hs = resp
                        .head(input, &headers)
                        .headers()
                        .map(|(n, v)| (n.to_vec(), v.to_vec()))
                        .collect();
                    RespOutcome::Complete(resp, hs)
                }
                Ok(Status::Partial) => RespOutcome::Partial,
                Err(e) => RespOutcome::Failed(e),
            };
        }
    }
    unreachable!()
}

/// The result of decoding a chunked body: data, bytes consumed, done; or the error.
pub type ChunkedResult = Result<(Vec<u8>, usize, bool), Error>;

/// Feeds the decoder pieces cut at `points`, keeping unconsumed bytes for the next call
/// as a real caller does.
pub fn chunked_split(input: &[u8], points: &[usize]) -> ChunkedResult {
    let mut dec = ChunkedDecoder::new();
    let mut data = Vec::new();
    let mut consumed = 0; // absolute offset of the first unconsumed byte
    for &end in points.iter().chain(std::iter::once(&input.len())) {
        loop {
            let avail = &input[consumed..end];
            let c = dec.decode(avail)?;
            data.extend_from_slice(&avail[c.data.clone()]);
            consumed += c.consumed;
            if c.done {
                return Ok((data, consumed, true));
            }
            if c.consumed == 0 || consumed == end {
                break;
            }
        }
    }
    Ok((data, consumed, false))
}

/// A generated chunked body: its wire bytes and the data it carries.
pub fn chunked_body() -> impl Strategy<Value = (Vec<u8>, Vec<u8>)> {
    (
        prop::collection::vec(
            (
                prop::collection::vec(any::<u8>(), 1..40),
                // chunk-ext (RFC 9112 §7.1.1): BWS, token and quoted-string values
                prop::option::of(
                    r#"( ?; ?[a-z]{1,5}( ?= ?([a-z0-9]{1,5}|"([ a-z;=]|\\[a"]){0,4}"))?){1,2}"#,
                ),
                any::<bool>(),
            ),
            0..6,
        ),
        prop::collection::vec(("[A-Za-z-]{1,10}", "[!-~]{0,10}"), 0..3),
    )
        .prop_map(|(chunks, trailers)| {
            let mut wire = Vec::new();
            let mut data = Vec::new();
            for (c, ext, upper) in chunks {
                // upper-case hex, and leading zeros (a valid numeral, RFC 9112 §7.1)
                let size = if upper {
                    format!("{:03X}", c.len())
                } else {
                    format!("{:x}", c.len())
                };
                wire.extend_from_slice(size.as_bytes());
                if let Some(e) = ext {
                    wire.extend_from_slice(e.as_bytes());
                }
                wire.extend_from_slice(b"\r\n");
                wire.extend_from_slice(&c);
                wire.extend_from_slice(b"\r\n");
                data.extend_from_slice(&c);
            }
            wire.extend_from_slice(b"0\r\n");
            for (n, v) in trailers {
                wire.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
            }
            wire.extend_from_slice(b"\r\n");
            (wire, data)
        })
}

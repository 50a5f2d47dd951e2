//! The work being measured, written once for the criterion bench and the
//! callgrind driver: parse every head in a buffer, whole or fed `step` bytes
//! per call, with h1parse or with httparse.
#![allow(dead_code)]

use h1parse::{Header, RequestParser, ResponseParser, Status};

/// h1parse: every head in `buf`, fed `step` bytes per call (0 = whole).
/// Returns the number of heads parsed. `p` is the connection's parser, kept
/// from request to request and reset before each, as a server does.
#[inline(never)]
pub fn h1parse_requests(
    p: &mut RequestParser,
    buf: &[u8],
    step: usize,
    headers: &mut [Header],
) -> usize {
    let mut at = 0;
    let mut n = 0;
    while at < buf.len() {
        p.reset();
        let msg = &buf[at..];
        let mut end = if step == 0 {
            msg.len()
        } else {
            step.min(msg.len())
        };
        let req = loop {
            match p.parse(&msg[..end], headers) {
                Ok(Status::Complete(r)) => break r,
                Ok(Status::Partial) if end < msg.len() => end = (end + step).min(msg.len()),
                other => panic!("h1parse: {other:?}"),
            }
        };
        at += req.head_len;
        n += 1;
    }
    n
}

/// h1parse: the single head in `buf` in two pieces, split at `at` (a
/// partial call, then the whole). Returns its length.
#[inline(never)]
pub fn h1parse_two(p: &mut RequestParser, buf: &[u8], at: usize, headers: &mut [Header]) -> usize {
    p.reset();
    match p.parse(&buf[..at], headers) {
        Ok(Status::Partial) => {}
        other => panic!("h1parse, first piece: {other:?}"),
    }
    match p.parse(buf, headers) {
        Ok(Status::Complete(r)) if r.head_len == buf.len() => r.head_len,
        other => panic!("h1parse, second piece: {other:?}"),
    }
}

/// httparse: the same; fed in pieces it must re-parse from the start each
/// call, as its callers do (it keeps no state between calls).
#[inline(never)]
pub fn httparse_requests<'b>(
    buf: &'b [u8],
    step: usize,
    headers: &mut [httparse::Header<'b>],
) -> usize {
    let mut at = 0;
    let mut n = 0;
    while at < buf.len() {
        let msg = &buf[at..];
        let mut end = if step == 0 {
            msg.len()
        } else {
            step.min(msg.len())
        };
        let len = loop {
            let mut req = httparse::Request::new(&mut *headers);
            match req.parse(&msg[..end]) {
                Ok(httparse::Status::Complete(len)) => break len,
                Ok(httparse::Status::Partial) if end < msg.len() => {
                    end = (end + step).min(msg.len())
                }
                other => panic!("httparse: {other:?}"),
            }
        };
        at += len;
        n += 1;
    }
    n
}

#[inline(never)]
pub fn h1parse_response(p: &mut ResponseParser, buf: &[u8], headers: &mut [Header]) -> usize {
    p.reset();
    match p.parse(buf, headers) {
        Ok(Status::Complete(r)) => r.head_len,
        other => panic!("h1parse: {other:?}"),
    }
}

#[inline(never)]
pub fn httparse_response<'b>(buf: &'b [u8], headers: &mut [httparse::Header<'b>]) -> usize {
    match httparse::Response::new(headers).parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        other => panic!("httparse: {other:?}"),
    }
}

//! The work being measured, written once for the criterion bench and the
//! callgrind driver: parse every head in a buffer, whole or fed `step` bytes
//! per call, with h1parse, httparse or picohttpparser.
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

/// The out-parameters of one picohttpparser call.
struct PicoOut {
    method: *const core::ffi::c_char,
    method_len: usize,
    path: *const core::ffi::c_char,
    path_len: usize,
    minor: core::ffi::c_int,
    status: core::ffi::c_int,
    num_headers: usize,
}

impl PicoOut {
    fn new(capacity: usize) -> Self {
        PicoOut {
            method: core::ptr::null(),
            method_len: 0,
            path: core::ptr::null(),
            path_len: 0,
            minor: 0,
            status: 0,
            num_headers: capacity,
        }
    }
}

/// picohttpparser (C, SSE4.2: H2O's parser) on every head in `buf`, fed
/// `step` bytes per call (0 = whole). Fed in pieces, each call passes
/// `last_len` (the length at the previous call), pico's own way to avoid
/// re-scanning for the end of the head; once it is there, pico parses the
/// head from its start.
#[inline(never)]
pub fn pico_requests(
    buf: &[u8],
    step: usize,
    headers: &mut [picohttpparser_sys::phr_header],
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
        let mut last_len = 0;
        let len = loop {
            let mut o = PicoOut::new(headers.len());
            // SAFETY: `msg[..end]` is valid for reads for the call; every out
            // pointer is a live local; `headers` holds `o.num_headers` entries.
            let r = unsafe {
                picohttpparser_sys::phr_parse_request(
                    msg.as_ptr().cast(),
                    end,
                    &mut o.method,
                    &mut o.method_len,
                    &mut o.path,
                    &mut o.path_len,
                    &mut o.minor,
                    headers.as_mut_ptr(),
                    &mut o.num_headers,
                    last_len,
                )
            };
            match r {
                r if r > 0 => break r as usize,
                -2 if end < msg.len() => {
                    last_len = end;
                    end = (end + step).min(msg.len());
                }
                r => panic!("picohttpparser: {r}"),
            }
        };
        at += len;
        n += 1;
    }
    n
}

/// picohttpparser on one response head, whole.
#[inline(never)]
pub fn pico_response(buf: &[u8], headers: &mut [picohttpparser_sys::phr_header]) -> usize {
    let mut o = PicoOut::new(headers.len());
    // SAFETY: as in `pico_requests`: `buf` is valid for reads, the out
    // pointers are live locals, `headers` holds `o.num_headers` entries.
    let r = unsafe {
        picohttpparser_sys::phr_parse_response(
            buf.as_ptr().cast(),
            buf.len(),
            &mut o.minor,
            &mut o.status,
            &mut o.method,
            &mut o.method_len,
            headers.as_mut_ptr(),
            &mut o.num_headers,
            0,
        )
    };
    assert!(r > 0, "picohttpparser: {r}");
    r as usize
}

//! The response head parser: status-line and field section (RFC 9112 §4, §5),
//! with response framing decided in the same pass (RFC 9112 §6.3).

use crate::fields::{FieldConfig, FieldSection};
use crate::{BodyKind, Error, ErrorKind, Header, HeaderIter, Limits, Span, Status, Version};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Inside `HTTP-version SP status-code SP`.
    StatusLine,
    /// Inside the reason phrase.
    Reason,
    /// Saw the CR ending the status-line.
    ReasonCr,
    /// Inside the field section.
    Fields,
    /// Complete, or failed.
    Over,
}

/// A parsed response head: spans plus the framing decisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Response {
    /// The version the response is processed as.
    pub version: Version,
    /// The minor digit as sent.
    pub minor: u8,
    /// The status code, 100..=599.
    pub status: u16,
    /// The reason phrase (possibly empty).
    pub reason: Span,
    /// Number of entries written to the caller's header slice.
    pub header_count: usize,
    /// Length of the head including the final CRLF: the body starts here.
    pub head_len: usize,
    /// How the body is framed, given the request method (RFC 9112 §6.3).
    pub body: BodyKind,
    /// Whether the connection may carry another exchange afterwards.
    pub keep_alive: bool,
    /// Whether a `Date` field was sent (RFC 9110 §6.6.1: an origin server
    /// with a clock MUST send one).
    pub has_date: bool,
    /// Whether a `Content-Length` field was sent (even where it does not frame the body).
    pub has_content_length: bool,
    /// Whether a `Transfer-Encoding` field was sent.
    pub has_transfer_encoding: bool,
    /// The response carries `Connection: close`.
    pub close: bool,
}

impl Response {
    /// A borrowed view of the head.
    pub fn head<'b>(&self, buf: &'b [u8], headers: &'b [Header]) -> ResponseHead<'b> {
        ResponseHead {
            resp: *self,
            buf,
            headers: &headers[..self.header_count],
        }
    }

    /// Whether this is an interim (1xx) response, after which the final one follows.
    pub fn is_interim(&self) -> bool {
        self.status < 200
    }
}

/// A complete response head with its bytes.
#[derive(Debug, Clone, Copy)]
pub struct ResponseHead<'b> {
    resp: Response,
    buf: &'b [u8],
    headers: &'b [Header],
}

impl<'b> ResponseHead<'b> {
    /// The decisions and spans behind this view.
    pub fn response(&self) -> &Response {
        &self.resp
    }
    /// The status code.
    pub fn status(&self) -> u16 {
        self.resp.status
    }
    /// The reason phrase bytes.
    pub fn reason(&self) -> &'b [u8] {
        self.resp.reason.get(self.buf)
    }
    /// `(name, value)` pairs in order.
    pub fn headers(&self) -> HeaderIter<'b> {
        HeaderIter::new(self.buf, self.headers)
    }
    /// The first value of the named field (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&'b [u8]> {
        self.headers()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v)
    }
}

/// An incremental, strict HTTP/1.1 response head parser (same resume rules
/// as [`RequestParser`](crate::RequestParser)).
#[derive(Debug, Clone)]
pub struct ResponseParser {
    limits: Limits,
    allow_bare_lf: bool,
    head_request: bool,
    phase: Phase,
    pos: u32,
    status: u16,
    minor: u8,
    reason: Span,
    fields: FieldSection,
    outcome: Result<Option<Response>, Error>,
}

impl Default for ResponseParser {
    fn default() -> Self {
        Self::new()
    }
}

impl ResponseParser {
    /// A parser for the response to a request that was not HEAD.
    pub const fn new() -> Self {
        Self::with_limits(Limits::DEFAULT)
    }

    /// A parser with the given limits (`max_uri` is unused).
    pub const fn with_limits(limits: Limits) -> Self {
        ResponseParser {
            limits,
            allow_bare_lf: false,
            head_request: false,
            phase: Phase::StatusLine,
            pos: 0,
            status: 0,
            minor: 0,
            reason: Span::EMPTY,
            fields: FieldSection::new(),
            outcome: Ok(None),
        }
    }

    /// The response answers a HEAD request, so it has no body whatever its
    /// fields say (RFC 9112 §6.3 rule 1).
    pub const fn for_head_request(mut self, head: bool) -> Self {
        self.head_request = head;
        self
    }

    /// Accept a bare LF as a line terminator (off by default).
    pub const fn allow_bare_lf(mut self, allow: bool) -> Self {
        self.allow_bare_lf = allow;
        self
    }

    /// Forgets the current message; limits and options stay.
    pub fn reset(&mut self) {
        // Only what a new message reads before writing.
        self.phase = Phase::StatusLine;
        self.pos = 0;
        self.fields = FieldSection::new();
        self.outcome = Ok(None);
    }

    /// Parses as much of `buf` as has arrived; see [`RequestParser::parse`](crate::RequestParser::parse).
    pub fn parse(&mut self, buf: &[u8], headers: &mut [Header]) -> Result<Status<Response>, Error> {
        if self.phase == Phase::Over {
            return match self.outcome {
                Ok(Some(r)) => Ok(Status::Complete(r)),
                Err(e) => Err(e),
                Ok(None) => Ok(Status::Partial),
            };
        }
        let result = match self.run(buf, headers) {
            Ok(None) if buf.len() >= self.limits.max_head as usize => Err(Error::new(
                ErrorKind::HeaderSectionTooLarge,
                self.limits.max_head as usize,
            )),
            other => other,
        };
        match result {
            Ok(None) => Ok(Status::Partial),
            Ok(Some(r)) => {
                self.phase = Phase::Over;
                self.outcome = Ok(Some(r));
                Ok(Status::Complete(r))
            }
            Err(e) => {
                self.phase = Phase::Over;
                self.outcome = Err(e);
                Err(e)
            }
        }
    }

    #[inline(always)]
    fn run(&mut self, buf: &[u8], headers: &mut [Header]) -> Result<Option<Response>, Error> {
        let end = buf.len().min(self.limits.max_head as usize);
        let mut p = self.pos as usize;
        if self.phase == Phase::StatusLine {
            // status-line = HTTP-version SP status-code SP [ reason-phrase ]
            if p == 0 && end >= 13 && self.status_prefix(buf) {
                // The usual case, all there: a few word compares.
                p = 13;
            } else {
                p = self.status_prefix_slow(buf, p, end)?;
                if p < 13 {
                    self.pos = p as u32;
                    return Ok(None);
                }
            }
            self.phase = Phase::Reason;
        }
        if self.phase == Phase::Reason {
            // reason-phrase = 1*( HTAB / SP / VCHAR / obs-text )
            p = crate::chars::skip_field_content(buf, p, end);
            while p < end && buf[p] == b'\t' {
                p = crate::chars::skip_field_content(buf, p + 1, end);
            }
            if p >= end {
                self.pos = p as u32;
                return Ok(None);
            }
            self.reason = Span::new(13, p);
            match buf[p] {
                b'\r' => {
                    self.phase = Phase::ReasonCr;
                    p += 1;
                }
                b'\n' if self.allow_bare_lf => {
                    p += 1;
                    self.fields.start_at(p);
                    self.phase = Phase::Fields;
                }
                b'\n' => return Err(Error::new(ErrorKind::BareLf, p)),
                _ => return Err(Error::new(ErrorKind::InvalidReasonPhrase, p)),
            }
        }
        if self.phase == Phase::ReasonCr {
            if p >= end {
                self.pos = p as u32;
                return Ok(None);
            }
            if buf[p] != b'\n' {
                return Err(Error::new(ErrorKind::BareCr, p - 1));
            }
            p += 1;
            self.fields.start_at(p);
            self.phase = Phase::Fields;
        }
        let cfg = FieldConfig {
            max_line: self.limits.max_header_line,
            allow_bare_lf: self.allow_bare_lf,
            request: false,
        };
        let done = self.fields.scan(buf, &mut p, end, headers, cfg);
        self.pos = p as u32;
        if done? {
            return self.finish(p).map(Some);
        }
        Ok(None)
    }

    /// Whether `buf` starts with `HTTP/1.0 ` or `HTTP/1.1 `, three digits
    /// and SP; sets status and minor version if so.
    #[inline(always)]
    fn status_prefix(&mut self, buf: &[u8]) -> bool {
        let Some(head) = buf.get(..13) else {
            return false;
        };
        let (version, rest) = head.split_at(8);
        if !crate::chars::http1_version(version) {
            return false;
        }
        let &[b' ', a, b, c, b' '] = rest else {
            return false;
        };
        if !(a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit()) {
            return false;
        }
        let status = status_code(head);
        if !(100..=599).contains(&status) {
            return false;
        }
        self.status = status;
        self.minor = head[7] - b'0';
        true
    }

    /// The first 13 bytes of the status-line byte by byte, from `p`: for a
    /// line that arrives in pieces or is not the usual one. Returns where it
    /// stopped (13 once they are all there).
    #[cold]
    #[inline(never)]
    fn status_prefix_slow(&mut self, buf: &[u8], mut p: usize, end: usize) -> Result<usize, Error> {
        while p < end && p < 13 {
            let b = buf[p];
            let ok = match p {
                0..=4 => b == b"HTTP/"[p],
                5 | 7 => b.is_ascii_digit(),
                6 => b == b'.',
                9..=11 => b.is_ascii_digit(),
                _ => b == b' ', // 8 and 12
            };
            if !ok {
                let kind = if p < 8 {
                    ErrorKind::InvalidVersion
                } else {
                    ErrorKind::InvalidStatusLine
                };
                return Err(Error::new(kind, p));
            }
            if p == 8 {
                match buf[5] {
                    b'1' => {}
                    b'0' => return Err(Error::new(ErrorKind::InvalidVersion, 5)),
                    _ => return Err(Error::new(ErrorKind::UnsupportedVersion, 5)),
                }
            }
            p += 1;
        }
        if p == 13 {
            self.status = status_code(buf);
            if !(100..=599).contains(&self.status) {
                return Err(Error::new(ErrorKind::InvalidStatusLine, 9));
            }
            self.minor = buf[7] - b'0';
        }
        Ok(p)
    }

    /// Response framing, RFC 9112 §6.3 rules 1–7 in order.
    fn finish(&self, p: usize) -> Result<Response, Error> {
        let facts = &self.fields.facts;
        let version = if self.minor == 0 {
            Version::Http10
        } else {
            Version::Http11
        };
        if let (Some(te), Version::Http10) = (facts.transfer_encoding(), version) {
            return Err(Error::new(
                ErrorKind::TransferEncodingInHttp10,
                te.offset as usize,
            ));
        }
        let no_body =
            self.head_request || self.status < 200 || self.status == 204 || self.status == 304;
        let body = if no_body {
            BodyKind::None
        } else if let Some(te) = facts.transfer_encoding() {
            if te.chunked == 0 && !te.other {
                // Transfer-Encoding present with an empty list: no framing at
                // all (RFC 9110 §5.6.1: empty elements are not codings).
                return Err(Error::new(
                    ErrorKind::InvalidTransferEncoding,
                    te.offset as usize,
                ));
            }
            if te.last_is_chunked && te.chunked == 1 {
                BodyKind::Chunked
            } else {
                // Rule 4: final coding not chunked: read until close.
                BodyKind::UntilClose
            }
        } else if let Some(n) = facts.content_length() {
            BodyKind::Length(n)
        } else {
            BodyKind::UntilClose
        };
        let keep_alive = body != BodyKind::UntilClose
            && match version {
                Version::Http11 => !facts.close(),
                Version::Http10 => facts.keep_alive() && !facts.close(),
            };
        Ok(Response {
            version,
            minor: self.minor,
            status: self.status,
            reason: self.reason,
            header_count: self.fields.count as usize,
            head_len: p,
            body,
            keep_alive,
            has_date: facts.date(),
            has_content_length: facts.content_length().is_some(),
            has_transfer_encoding: facts.has_transfer_encoding(),
            close: facts.close(),
        })
    }
}

/// The status code in bytes 9..12 of a status-line, known to be digits.
#[inline(always)]
fn status_code(line: &[u8]) -> u16 {
    let d = |i: usize| u16::from(line[i] - b'0');
    d(9) * 100 + d(10) * 10 + d(11)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn parse_with(p: ResponseParser, input: &[u8]) -> Result<Status<Response>, Error> {
        let mut headers = [Header::EMPTY; 16];
        let mut p = p;
        p.parse(input, &mut headers)
    }

    fn complete(input: &[u8]) -> Response {
        parse_with(ResponseParser::new(), input)
            .unwrap()
            .complete()
            .expect("complete")
    }

    #[track_caller]
    fn rejects(input: &[u8], kind: ErrorKind, offset: usize) {
        assert_eq!(
            parse_with(ResponseParser::new(), input),
            Err(Error { kind, offset })
        );
    }

    #[test]
    fn simple_response() {
        let input = b"HTTP/1.1 200 OK\r\nDate: x\r\nContent-Length: 5\r\n\r\nhello";
        let mut h = [Header::EMPTY; 4];
        let r = ResponseParser::new()
            .parse(input, &mut h)
            .unwrap()
            .complete()
            .unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.head(input, &h).reason(), b"OK");
        assert_eq!(r.body, BodyKind::Length(5));
        assert_eq!(r.head_len, input.len() - 5);
        assert!(r.keep_alive && r.has_date && r.has_content_length);
    }

    #[test]
    fn partial_at_every_prefix() {
        let input = b"HTTP/1.1 204 No Content\r\nDate: x\r\n\r\n";
        for n in 0..input.len() {
            assert_eq!(
                parse_with(ResponseParser::new(), &input[..n]),
                Ok(Status::Partial),
                "{n}"
            );
        }
    }

    // RFC 9112 §6.3 rule 1: HEAD, 1xx, 204 and 304 responses have no body.
    #[test]
    fn bodiless_responses() {
        for s in [
            &b"100 Continue"[..],
            b"101 Switching",
            b"204 No Content",
            b"304 Not Modified",
        ] {
            let mut input = [0u8; 64];
            let n = [&b"HTTP/1.1 "[..], s, b"\r\nContent-Length: 10\r\n\r\n"]
                .iter()
                .fold(0, |n, part| {
                    input[n..n + part.len()].copy_from_slice(part);
                    n + part.len()
                });
            assert_eq!(complete(&input[..n]).body, BodyKind::None);
        }
        let head = ResponseParser::new().for_head_request(true);
        let r = parse_with(head, b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n").unwrap();
        assert_eq!(r.complete().unwrap().body, BodyKind::None);
        assert!(complete(b"HTTP/1.1 100 Continue\r\n\r\n").is_interim());
    }

    // RFC 9112 §6.3 rules 4, 6, 7.
    #[test]
    fn response_framing() {
        assert_eq!(
            complete(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").body,
            BodyKind::Chunked
        );
        let r = complete(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n");
        assert_eq!((r.body, r.keep_alive), (BodyKind::UntilClose, false));
        let r = complete(b"HTTP/1.1 200 OK\r\n\r\n");
        assert_eq!((r.body, r.keep_alive), (BodyKind::UntilClose, false));
        rejects(
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
            ErrorKind::ContentLengthWithTransferEncoding,
            36,
        );
        rejects(
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            ErrorKind::ConflictingContentLength,
            36,
        );
    }

    #[test]
    fn persistence() {
        assert!(
            !complete(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
                .keep_alive
        );
        assert!(!complete(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").keep_alive);
        assert!(
            complete(b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n")
                .keep_alive
        );
    }

    // RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ].
    #[test]
    fn status_line_rules() {
        assert_eq!(
            complete(b"HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n").status,
            200
        );
        rejects(b"HTTP/1.1 200\r\n\r\n", ErrorKind::InvalidStatusLine, 12);
        rejects(b"HTTP/1.1 20 OK\r\n\r\n", ErrorKind::InvalidStatusLine, 11);
        rejects(b"HTTP/1.1 099 X\r\n\r\n", ErrorKind::InvalidStatusLine, 9);
        rejects(b"HTTP/1.1 600 X\r\n\r\n", ErrorKind::InvalidStatusLine, 9);
        rejects(b"http/1.1 200 OK\r\n\r\n", ErrorKind::InvalidVersion, 0);
        rejects(b"HTTP/2.0 200 OK\r\n\r\n", ErrorKind::UnsupportedVersion, 5);
        rejects(
            b"HTTP/1.1 200 O\x01K\r\n\r\n",
            ErrorKind::InvalidReasonPhrase,
            14,
        );
        rejects(b"HTTP/1.1 200 OK\n\r\n", ErrorKind::BareLf, 15);
        rejects(
            b"HTTP/1.1 200 OK\r\nX : y\r\n\r\n",
            ErrorKind::WhitespaceBeforeColon,
            18,
        );
        rejects(
            b"HTTP/1.1 200 OK\r\nX: y\r\n z\r\n\r\n",
            ErrorKind::ObsFold,
            23,
        );
    }

    // Host rules are request-only.
    #[test]
    fn host_not_checked_in_responses() {
        complete(b"HTTP/1.1 200 OK\r\nHost: a b\r\nHost: c\r\nContent-Length: 0\r\n\r\n");
    }

    // reset() forgets everything a message left behind.
    #[test]
    fn reset_parser_answers_as_new() {
        let inputs: [&[u8]; 5] = [
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
            b"HTTP/1.1 2x0 OK\r\n\r\n",
            b"HTTP/1.0 304 Not Modified\r\nDate: x\r\n\r\n",
            b"HTTP/1.1 200 O",
        ];
        let mut reused = ResponseParser::new();
        for round in 0..2 {
            for input in inputs {
                let mut h1 = [Header::EMPTY; 8];
                let mut h2 = [Header::EMPTY; 8];
                let fresh = ResponseParser::new().parse(input, &mut h1);
                reused.reset();
                assert_eq!(
                    reused.parse(input, &mut h2),
                    fresh,
                    "round {round}: {input:?}"
                );
                assert_eq!(h1, h2);
            }
        }
    }
}

//! The request head parser: request-line and field section (RFC 9112 §3, §5),
//! with framing decided in the same pass (RFC 9112 §6.3).

use crate::chars::{tchar, target_char};
use crate::fields::{FieldConfig, FieldSection};
use crate::{BodyKind, Error, ErrorKind, Expect, Header, HeaderIter, Limits, Span, Status, Version};

/// Where the parser stands in the request head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Before the request-line; empty lines are skipped (RFC 9112 §2.2).
    Leading,
    /// Saw CR of a leading empty line.
    LeadingCr,
    /// Inside the method.
    Method,
    /// Inside the request-target.
    Target,
    /// Inside `HTTP-version CRLF`.
    Version,
    /// Saw the CR ending the request-line.
    VersionCr,
    /// Inside the field section.
    Fields,
    /// The head is complete.
    Done,
    /// An error was returned; it is returned again.
    Failed,
}

/// The form of the request-target (RFC 9112 §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TargetForm {
    /// `absolute-path [ "?" query ]`: the usual form.
    Origin,
    /// `absolute-URI`: its authority replaces Host (RFC 9112 §3.2.2).
    Absolute,
    /// `uri-host ":" port`: only with CONNECT (RFC 9112 §3.2.3).
    Authority,
    /// `*`: only with OPTIONS (RFC 9112 §3.2.4).
    Asterisk,
}

/// A parsed request head: spans into the caller's buffer plus the decisions
/// made while parsing. `Copy` and free of borrows, so the buffer can be moved
/// or grown; [`Request::head`] gives a borrowed view with slices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    /// The method, e.g. `GET`.
    pub method: Span,
    /// The request-target, exactly as sent.
    pub target: Span,
    /// Which form the target has (already checked against the method).
    pub target_form: TargetForm,
    /// The protocol version the message is to be processed as.
    pub version: Version,
    /// The minor digit as sent (`HTTP/1.2` is processed as 1.1 but keeps 2 here).
    pub minor: u8,
    /// Number of entries written to the caller's header slice.
    pub header_count: usize,
    /// Length of the head including the final CRLF: the body starts here.
    pub head_len: usize,
    /// How the body is framed (RFC 9112 §6.3).
    pub body: BodyKind,
    /// Whether the connection persists after this exchange (RFC 9112 §9.3):
    /// HTTP/1.1 unless `Connection: close`; HTTP/1.0 only with `keep-alive`.
    pub keep_alive: bool,
    /// `Connection: upgrade` together with an `Upgrade` field.
    pub upgrade: bool,
    /// The `Expect` field (RFC 9110 §10.1.1).
    pub expect: Expect,
    /// The Host field value, if present.
    pub host: Option<Span>,
}

impl Request {
    /// A borrowed view of the head, given the buffer and header slice that
    /// were passed to [`RequestParser::parse`].
    pub fn head<'b>(&self, buf: &'b [u8], headers: &'b [Header]) -> RequestHead<'b> {
        RequestHead {
            req: *self,
            buf,
            headers: &headers[..self.header_count],
        }
    }
}

/// A complete request head with its bytes: slices for every part.
#[derive(Debug, Clone, Copy)]
pub struct RequestHead<'b> {
    req: Request,
    buf: &'b [u8],
    headers: &'b [Header],
}

impl<'b> RequestHead<'b> {
    /// The decisions and spans behind this view.
    pub fn request(&self) -> &Request {
        &self.req
    }
    /// The method bytes.
    pub fn method(&self) -> &'b [u8] {
        self.req.method.get(self.buf)
    }
    /// The request-target bytes.
    pub fn target(&self) -> &'b [u8] {
        self.req.target.get(self.buf)
    }
    /// The version the request is processed as.
    pub fn version(&self) -> Version {
        self.req.version
    }
    /// `(name, value)` pairs in order; values have no surrounding whitespace.
    pub fn headers(&self) -> HeaderIter<'b> {
        HeaderIter::new(self.buf, self.headers)
    }
    /// The first value of the named field (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&'b [u8]> {
        self.headers()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v)
    }
    /// Length of the head: the body starts at this offset.
    pub fn head_len(&self) -> usize {
        self.req.head_len
    }
}

/// An incremental, strict HTTP/1.1 request head parser.
///
/// Feed it the same growing buffer after every read; it resumes where it
/// stopped and never examines a byte twice. The buffer must keep the bytes it
/// had (appending is fine, and so is moving it), and `headers` must keep the
/// entries written by earlier calls.
#[derive(Debug, Clone)]
pub struct RequestParser {
    limits: Limits,
    allow_bare_lf: bool,
    phase: Phase,
    pos: u32,
    start: u32,
    method: Span,
    target: Span,
    target_form: TargetForm,
    fields: FieldSection,
    outcome: Result<Option<Request>, Error>,
    scanned: u64,
}

impl Default for RequestParser {
    fn default() -> Self {
        Self::new()
    }
}

impl RequestParser {
    /// A parser with the default [`Limits`] and no leniency.
    pub const fn new() -> Self {
        Self::with_limits(Limits::DEFAULT)
    }

    /// A parser with the given limits.
    pub const fn with_limits(limits: Limits) -> Self {
        RequestParser {
            limits,
            allow_bare_lf: false,
            phase: Phase::Leading,
            pos: 0,
            start: 0,
            method: Span::EMPTY,
            target: Span::EMPTY,
            target_form: TargetForm::Origin,
            fields: FieldSection::new(),
            outcome: Ok(None),
            scanned: 0,
        }
    }

    /// Accept a bare LF as a line terminator (RFC 9112 §2.2 allows it; off by
    /// default because a front end and a back end that disagree on it can be
    /// made to see different messages).
    pub const fn allow_bare_lf(mut self, allow: bool) -> Self {
        self.allow_bare_lf = allow;
        self
    }

    /// Forgets the current message; limits and options stay.
    pub fn reset(&mut self) {
        *self = Self::with_limits(self.limits).allow_bare_lf(self.allow_bare_lf);
    }

    /// Offset up to which the buffer has been examined.
    pub fn position(&self) -> usize {
        self.pos as usize
    }

    /// Total bytes examined over all calls since the last reset: a statistic
    /// that shows incremental parsing is linear (it equals the head length
    /// however the head was split).
    pub fn bytes_scanned(&self) -> u64 {
        self.scanned
    }

    /// Parses as much of `buf` as has arrived.
    ///
    /// Returns `Ok(Status::Partial)` when more bytes are needed,
    /// `Ok(Status::Complete(request))` once the head is complete (again on
    /// later calls), or the error (again on later calls).
    pub fn parse(&mut self, buf: &[u8], headers: &mut [Header]) -> Result<Status<Request>, Error> {
        match self.outcome {
            Ok(Some(req)) => return Ok(Status::Complete(req)),
            Err(e) => return Err(e),
            Ok(None) => {}
        }
        let before = self.pos;
        let result = self.run(buf, headers);
        self.scanned += u64::from(self.pos.saturating_sub(before));
        match result {
            Ok(Some(req)) => {
                self.phase = Phase::Done;
                self.outcome = Ok(Some(req));
                Ok(Status::Complete(req))
            }
            Ok(None) => {
                if buf.len() >= self.limits.max_head as usize {
                    let e = Error::new(ErrorKind::HeaderSectionTooLarge, self.limits.max_head as usize);
                    self.fail(e)
                } else {
                    Ok(Status::Partial)
                }
            }
            Err(e) => {
                self.pos = self.pos.max(e.offset as u32);
                self.fail(e)
            }
        }
    }

    fn fail(&mut self, e: Error) -> Result<Status<Request>, Error> {
        self.phase = Phase::Failed;
        self.outcome = Err(e);
        Err(e)
    }

    fn run(&mut self, buf: &[u8], headers: &mut [Header]) -> Result<Option<Request>, Error> {
        let end = buf.len().min(self.limits.max_head as usize);
        let mut p = self.pos as usize;
        while p < end {
            match self.phase {
                Phase::Leading => match buf[p] {
                    b'\r' => {
                        self.phase = Phase::LeadingCr;
                        p += 1;
                    }
                    b'\n' if self.allow_bare_lf => p += 1,
                    b'\n' => return Err(Error::new(ErrorKind::BareLf, p)),
                    b if tchar(b) => {
                        self.start = p as u32;
                        self.phase = Phase::Method;
                        p += 1;
                    }
                    _ => return Err(Error::new(ErrorKind::InvalidMethod, p)),
                },
                Phase::LeadingCr => {
                    if buf[p] != b'\n' {
                        return Err(Error::new(ErrorKind::BareCr, p - 1));
                    }
                    self.phase = Phase::Leading;
                    p += 1;
                }
                Phase::Method => {
                    while p < end && tchar(buf[p]) {
                        p += 1;
                    }
                    if p == end {
                        break;
                    }
                    if buf[p] != b' ' {
                        return Err(Error::new(ErrorKind::InvalidMethod, p));
                    }
                    self.method = Span::new(self.start as usize, p);
                    p += 1;
                    self.start = p as u32;
                    self.phase = Phase::Target;
                }
                Phase::Target => {
                    let limit = end.min(self.start as usize + self.limits.max_uri as usize);
                    while p < limit && target_char(buf[p]) {
                        p += 1;
                    }
                    if p == end {
                        break;
                    }
                    let b = buf[p];
                    if p == limit && target_char(b) {
                        return Err(Error::new(ErrorKind::UriTooLong, p));
                    }
                    match b {
                        b' ' if p > self.start as usize => {}
                        b'\r' | b'\n' if p > self.start as usize => {
                            return Err(Error::new(ErrorKind::MissingVersion, p))
                        }
                        _ => return Err(Error::new(ErrorKind::InvalidTarget, p)),
                    }
                    self.target = Span::new(self.start as usize, p);
                    p += 1;
                    self.start = p as u32;
                    self.phase = Phase::Version;
                }
                Phase::Version => {
                    // HTTP-version = "HTTP" "/" DIGIT "." DIGIT   (RFC 9112 §2.3)
                    while p < end {
                        let b = buf[p];
                        let ok = match p - self.start as usize {
                            i @ 0..=4 => b == b"HTTP/"[i],
                            5 | 7 => b.is_ascii_digit(),
                            6 => b == b'.',
                            _ => break,
                        };
                        if !ok {
                            return Err(Error::new(ErrorKind::InvalidVersion, p));
                        }
                        p += 1;
                    }
                    if p == end {
                        break;
                    }
                    match buf[p] {
                        b'\r' => {
                            self.phase = Phase::VersionCr;
                            p += 1;
                        }
                        b'\n' if self.allow_bare_lf => {
                            p += 1;
                            self.request_line_done(buf, p)?;
                        }
                        b'\n' => return Err(Error::new(ErrorKind::BareLf, p)),
                        _ => return Err(Error::new(ErrorKind::InvalidVersion, p)),
                    }
                }
                Phase::VersionCr => {
                    if buf[p] != b'\n' {
                        return Err(Error::new(ErrorKind::BareCr, p - 1));
                    }
                    p += 1;
                    self.request_line_done(buf, p)?;
                }
                Phase::Fields => {
                    let cfg = FieldConfig {
                        max_line: self.limits.max_header_line,
                        allow_bare_lf: self.allow_bare_lf,
                        request: true,
                    };
                    let done = self.fields.scan(buf, &mut p, end, Some(headers), cfg);
                    self.pos = p as u32;
                    if done? {
                        return self.finish(buf, p).map(Some);
                    }
                    break;
                }
                Phase::Done | Phase::Failed => break,
            }
        }
        self.pos = p as u32;
        Ok(None)
    }

    /// The request-line ended just before `p`: check the version and the
    /// target's form (RFC 9112 §3.2), then start on the fields.
    fn request_line_done(&mut self, buf: &[u8], p: usize) -> Result<(), Error> {
        let v = self.start as usize;
        let major = buf[v + 5] - b'0';
        if major == 0 {
            return Err(Error::new(ErrorKind::InvalidVersion, v + 5));
        }
        if major > 1 {
            return Err(Error::new(ErrorKind::UnsupportedVersion, v + 5));
        }
        self.target_form = classify_target(self.method.get(buf), self.target.get(buf))
            .ok_or(Error::new(ErrorKind::InvalidTarget, self.target.start as usize))?;
        self.fields.start_at(p);
        self.phase = Phase::Fields;
        Ok(())
    }

    /// The head is complete at `p`: give the verdict on framing and persistence.
    fn finish(&mut self, buf: &[u8], p: usize) -> Result<Request, Error> {
        let v = self.start as usize;
        let minor = buf[v + 7] - b'0';
        let version = if minor == 0 { Version::Http10 } else { Version::Http11 };
        let facts = &self.fields.facts;
        let end_of_fields = self.fields_end();
        if let Some(te) = facts.transfer_encoding {
            if version == Version::Http10 {
                // RFC 9112 §6.1: a server MUST treat it as faulty framing.
                return Err(Error::new(ErrorKind::TransferEncodingInHttp10, te.offset as usize));
            }
        }
        facts.check_request_transfer_encoding()?;
        if version == Version::Http11 && facts.hosts == 0 {
            return Err(Error::new(ErrorKind::MissingHost, end_of_fields));
        }
        let body = if facts.transfer_encoding.is_some() {
            BodyKind::Chunked
        } else {
            match facts.content_length {
                Some(n) => BodyKind::Length(n),
                None => BodyKind::None,
            }
        };
        let keep_alive = match version {
            Version::Http11 => !facts.close,
            Version::Http10 => facts.keep_alive && !facts.close,
        };
        let expect = if facts.expect_other {
            Expect::Other
        } else if facts.expect_continue {
            Expect::Continue
        } else {
            Expect::None
        };
        Ok(Request {
            method: self.method,
            target: self.target,
            target_form: self.target_form,
            version,
            minor,
            header_count: self.fields.count as usize,
            head_len: p,
            body,
            keep_alive,
            upgrade: facts.upgrade_token && facts.upgrade_field,
            expect,
            host: facts.host,
        })
    }

    /// Offset of the blank line that ended the field section.
    fn fields_end(&self) -> usize {
        self.fields.line_start()
    }
}

/// The target's form, if it fits the method (RFC 9112 §3.2).
fn classify_target(method: &[u8], target: &[u8]) -> Option<TargetForm> {
    let connect = method == b"CONNECT";
    if connect {
        // authority-form = uri-host ":" port
        let colon = target.iter().rposition(|&b| b == b':')?;
        let (host, port) = (&target[..colon], &target[colon + 1..]);
        let host_ok = !host.is_empty() && host.iter().all(|&b| crate::chars::host_char(b));
        let port_ok = !port.is_empty() && port.iter().all(u8::is_ascii_digit);
        return (host_ok && port_ok).then_some(TargetForm::Authority);
    }
    match target {
        [b'/', ..] => Some(TargetForm::Origin),
        b"*" => (method == b"OPTIONS").then_some(TargetForm::Asterisk),
        [first, rest @ ..] if first.is_ascii_alphabetic() => {
            // absolute-URI = scheme ":" hier-part [ "?" query ]
            let colon = rest
                .iter()
                .position(|&b| !(b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')))?;
            (rest[colon] == b':').then_some(TargetForm::Absolute)
        }
        _ => None,
    }
}

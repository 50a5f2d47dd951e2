//! The request head parser: request-line and field section (RFC 9112 §3, §5),
//! with framing decided in the same pass (RFC 9112 §6.3).

use crate::chars::{http1_version, skip_target, target_char, tchar};
use crate::fields::{FieldConfig, FieldSection};
use crate::{
    BodyKind, Error, ErrorKind, Expect, Header, HeaderIter, Limits, Span, Status, Version,
};

/// Where the parser stands in the request head (in order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
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
/// stopped and never goes back over a finished line (the start of a line
/// the input ends inside may be looked at twice: see the crate docs). The
/// buffer must keep the bytes it had (appending is fine, and so is moving
/// it), and `headers` must be the same slice (or one holding the same
/// entries) on every call: entries written by earlier calls are not written
/// again.
#[derive(Debug, Clone)]
pub struct RequestParser {
    limits: Limits,
    allow_bare_lf: bool,
    phase: Phase,
    /// The minor version digit, once the request-line is complete.
    minor: u8,
    target_form: TargetForm,
    pos: u32,
    /// Start of the element being scanned (method, target or version).
    start: u32,
    method: Span,
    target: Span,
    /// The error, once `phase` is `Failed`.
    error: Error,
    fields: FieldSection,
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
            minor: 0,
            target_form: TargetForm::Origin,
            pos: 0,
            start: 0,
            method: Span::EMPTY,
            target: Span::EMPTY,
            error: Error::new(ErrorKind::InvalidMethod, 0),
            fields: FieldSection::new(),
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
        // Only what a new message reads before writing: the rest is written
        // by the time it is read again.
        self.phase = Phase::Leading;
        self.pos = 0;
        self.fields = FieldSection::new();
    }

    /// Offset up to which the buffer has been examined.
    pub fn position(&self) -> usize {
        self.pos as usize
    }

    /// Bytes the parser has moved past since the last reset, over all calls.
    /// The parser never moves back, so this equals [`position`](Self::position)
    /// and the head length however the head was split. (It is not a count of
    /// byte reads: the start of a field line cut off by the end of the input
    /// is looked at twice. `ci/bench-parser.sh` measures the cost.)
    pub fn bytes_scanned(&self) -> u64 {
        u64::from(self.pos)
    }

    /// Parses as much of `buf` as has arrived.
    ///
    /// Returns `Ok(Status::Partial)` when more bytes are needed,
    /// `Ok(Status::Complete(request))` once the head is complete (again on
    /// later calls), or the error (again on later calls).
    pub fn parse(&mut self, buf: &[u8], headers: &mut [Header]) -> Result<Status<Request>, Error> {
        if self.trickle(buf) {
            return Ok(Status::Partial);
        }
        self.parse_full(buf, headers)
    }

    /// A few new bytes that only extend the method, target, field name or
    /// field value being read (a client sending in small pieces): step over
    /// them here, without entering the full scanner. Returns whether that
    /// was all there was to do.
    #[inline(always)]
    fn trickle(&mut self, buf: &[u8]) -> bool {
        let end = buf.len();
        let p0 = self.pos as usize;
        if end >= self.limits.max_head as usize || end <= p0 || end - p0 > 8 {
            return false;
        }
        let mut p = p0;
        // The last byte tells whether the new bytes can all be stepped over
        // here (see `FieldSection::trickle`).
        let last = buf[end - 1];
        match self.phase {
            Phase::Fields => {
                p = self
                    .fields
                    .trickle(buf, p, self.limits.max_header_line as usize)
            }
            Phase::Target if target_char(last) => {
                let limit = end.min(self.start as usize + self.limits.max_uri as usize);
                while p < limit && target_char(buf[p]) {
                    p += 1;
                }
            }
            Phase::Method if tchar(last) => {
                while p < end && tchar(buf[p]) {
                    p += 1;
                }
            }
            _ => {}
        }
        self.pos = p as u32;
        p == end
    }

    #[inline(never)]
    fn parse_full(&mut self, buf: &[u8], headers: &mut [Header]) -> Result<Status<Request>, Error> {
        let end = buf.len().min(self.limits.max_head as usize);
        let mut p = self.pos as usize;
        if self.phase < Phase::Fields {
            match self.request_line(buf, p, end) {
                Ok(at) => p = at,
                Err(e) => return self.fail(e),
            }
        }
        if self.phase == Phase::Fields {
            let cfg = FieldConfig {
                max_line: self.limits.max_header_line,
                allow_bare_lf: self.allow_bare_lf,
                request: true,
            };
            match self.fields.scan(buf, &mut p, end, headers, cfg) {
                Ok(true) => {
                    self.pos = p as u32;
                    if let Err(e) = self.check() {
                        return self.fail(e);
                    }
                    self.phase = Phase::Done;
                    return Ok(Status::Complete(self.request()));
                }
                Ok(false) => {}
                Err(e) => {
                    self.pos = p as u32;
                    return self.fail(e);
                }
            }
        } else if self.phase == Phase::Done {
            return Ok(Status::Complete(self.request()));
        } else if self.phase == Phase::Failed {
            return Err(self.error);
        }
        // Out of input.
        self.pos = p as u32;
        if buf.len() >= self.limits.max_head as usize {
            let at = self.limits.max_head as usize;
            return self.fail(Error::new(ErrorKind::HeaderSectionTooLarge, at));
        }
        Ok(Status::Partial)
    }

    /// Records `e` (returned again on later calls).
    #[cold]
    #[inline(never)]
    fn fail(&mut self, e: Error) -> Result<Status<Request>, Error> {
        self.pos = self.pos.max(e.offset as u32);
        self.phase = Phase::Failed;
        self.error = e;
        Err(e)
    }

    /// The request-line, from wherever the last call stopped. The parts are
    /// tested in the order a line goes through them, on local copies of the
    /// state, so a line that is all there runs straight through; the state is
    /// written back when the input runs out (or the line ends).
    #[inline(always)]
    fn request_line(&mut self, buf: &[u8], mut p: usize, end: usize) -> Result<usize, Error> {
        let mut phase = self.phase;
        let mut start = self.start as usize;
        let result = 'line: {
            if phase <= Phase::LeadingCr {
                // Nearly every request starts right away, most with "GET ".
                if phase == Phase::Leading
                    && buf.get(p..p + 4) == Some(&b"GET "[..])
                    && p + 4 <= end
                {
                    self.method = Span::new(p, p + 3);
                    p += 4;
                    start = p;
                    phase = Phase::Target;
                } else {
                    if let Err(e) = self.leading(buf, &mut p, end, &mut phase) {
                        break 'line Err(e);
                    }
                    if phase != Phase::Method {
                        break 'line Ok(());
                    }
                    start = p;
                }
            }
            if phase == Phase::Method {
                while p < end && tchar(buf[p]) {
                    p += 1;
                }
                if p >= end {
                    break 'line Ok(());
                }
                if buf[p] != b' ' {
                    break 'line Err(Error::new(ErrorKind::InvalidMethod, p));
                }
                self.method = Span::new(start, p);
                p += 1;
                start = p;
                phase = Phase::Target;
            }
            if phase == Phase::Target {
                let limit = end.min(start + self.limits.max_uri as usize);
                p = skip_target(buf, p, limit);
                if p >= end {
                    break 'line Ok(());
                }
                if buf[p] != b' ' || p == start {
                    break 'line Err(target_error(buf, p, start, limit));
                }
                self.target = Span::new(start, p);
                p += 1;
                start = p;
                phase = Phase::Version;
            }
            // HTTP-version = "HTTP" "/" DIGIT "." DIGIT   (RFC 9112 §2.3)
            if phase == Phase::Version && p == start && p + 10 <= end && http1_crlf(buf, p) {
                // The usual case, all there.
                self.minor = buf[p + 7] - b'0';
                p += 10;
            } else if let Err(e) = self.version(buf, &mut p, end, start, &mut phase) {
                break 'line Err(e);
            } else if phase != Phase::Fields {
                break 'line Ok(());
            }
            // Origin-form ("/...") with any method but CONNECT: the usual case.
            let (method, target) = (self.method, self.target);
            let origin = buf.get(target.start as usize) == Some(&b'/')
                && !(method.len() == 7 && method.get(buf) == b"CONNECT");
            self.target_form = if origin {
                TargetForm::Origin
            } else {
                match classify_target(method.get(buf), target.get(buf)) {
                    Ok(form) => form,
                    Err(i) => {
                        break 'line Err(Error::new(
                            ErrorKind::InvalidTarget,
                            target.start as usize + i,
                        ))
                    }
                }
            };
            self.fields.start_at(p);
            phase = Phase::Fields;
            Ok(())
        };
        self.phase = phase;
        self.start = start as u32;
        self.pos = p as u32;
        result.map(|()| p)
    }

    /// Empty lines before the request-line (RFC 9112 §2.2: a server SHOULD
    /// ignore at least one), up to the method's first byte.
    #[cold]
    #[inline(never)]
    fn leading(
        &self,
        buf: &[u8],
        p: &mut usize,
        end: usize,
        phase: &mut Phase,
    ) -> Result<(), Error> {
        while *p < end {
            let b = buf[*p];
            if *phase == Phase::LeadingCr {
                if b != b'\n' {
                    return Err(Error::new(ErrorKind::BareCr, *p - 1));
                }
                *phase = Phase::Leading;
                *p += 1;
                continue;
            }
            match b {
                b'\r' => *phase = Phase::LeadingCr,
                b'\n' if self.allow_bare_lf => {}
                b'\n' => return Err(Error::new(ErrorKind::BareLf, *p)),
                b if tchar(b) => {
                    *phase = Phase::Method;
                    return Ok(());
                }
                _ => return Err(Error::new(ErrorKind::InvalidMethod, *p)),
            }
            *p += 1;
        }
        Ok(())
    }

    /// `HTTP-version CRLF` byte by byte, for a version that arrives in pieces
    /// or is not `HTTP/1.1` / `HTTP/1.0` with CRLF. Sets `phase` to `Fields`
    /// once the line is over.
    #[cold]
    #[inline(never)]
    fn version(
        &mut self,
        buf: &[u8],
        p: &mut usize,
        end: usize,
        start: usize,
        phase: &mut Phase,
    ) -> Result<(), Error> {
        if start + 10 <= end && http1_crlf(buf, start) {
            // The usual version, now all there after an earlier call saw part
            // of it: checked from its start again (ten bytes at most).
            *p = start + 10;
            self.minor = buf[start + 7] - b'0';
            *phase = Phase::Fields;
            return Ok(());
        }
        if *phase == Phase::Version {
            // "HTTP/" DIGIT "." DIGIT (the digits' places hold '1' in the pattern).
            let mut q = *p;
            let stop = end.min(start + 8);
            while q < stop {
                let b = buf[q];
                let i = q - start;
                let ok = if i == 5 || i == 7 {
                    b.is_ascii_digit()
                } else {
                    b == b"HTTP/1.1"[i & 7]
                };
                if !ok {
                    *p = q;
                    return Err(Error::new(ErrorKind::InvalidVersion, q));
                }
                q += 1;
            }
            *p = q;
            if q >= end {
                return Ok(());
            }
            match buf[*p] {
                b'\r' => {
                    *phase = Phase::VersionCr;
                    *p += 1;
                    if *p >= end {
                        return Ok(());
                    }
                }
                b'\n' if self.allow_bare_lf => {}
                b'\n' => return Err(Error::new(ErrorKind::BareLf, *p)),
                _ => return Err(Error::new(ErrorKind::InvalidVersion, *p)),
            }
        }
        if *phase == Phase::VersionCr {
            if *p >= end {
                return Ok(());
            }
            if buf[*p] != b'\n' {
                return Err(Error::new(ErrorKind::BareCr, *p - 1));
            }
        }
        *p += 1;
        let major = buf[start + 5] - b'0';
        if major == 0 {
            return Err(Error::new(ErrorKind::InvalidVersion, start + 5));
        }
        if major > 1 {
            return Err(Error::new(ErrorKind::UnsupportedVersion, start + 5));
        }
        self.minor = buf[start + 7] - b'0';
        *phase = Phase::Fields;
        Ok(())
    }

    /// The head is complete: the rules that need all of it (RFC 9112 §6.1,
    /// §6.3, §3.2).
    #[inline(always)]
    fn check(&self) -> Result<(), Error> {
        let facts = &self.fields.facts;
        if let Some(te) = facts.transfer_encoding() {
            if self.minor == 0 {
                // RFC 9112 §6.1: a server MUST treat it as faulty framing.
                return Err(Error::new(
                    ErrorKind::TransferEncodingInHttp10,
                    te.offset as usize,
                ));
            }
            facts.check_request_transfer_encoding()?;
        }
        if self.minor != 0 && facts.hosts == 0 {
            return Err(Error::new(ErrorKind::MissingHost, self.fields.line_start()));
        }
        Ok(())
    }

    /// The verdict on framing and persistence, from the state of a complete head.
    #[inline(always)]
    fn request(&self) -> Request {
        let facts = &self.fields.facts;
        let version = if self.minor == 0 {
            Version::Http10
        } else {
            Version::Http11
        };
        let body = if facts.has_transfer_encoding() {
            BodyKind::Chunked
        } else {
            match facts.content_length() {
                Some(n) => BodyKind::Length(n),
                None => BodyKind::None,
            }
        };
        let keep_alive = match version {
            Version::Http11 => !facts.close(),
            Version::Http10 => facts.keep_alive() && !facts.close(),
        };
        let expect = if facts.expect_other() {
            Expect::Other
        } else if facts.expect_continue() && version == Version::Http11 {
            // RFC 9110 §10.1.1: a 100-continue expectation in an HTTP/1.0
            // request MUST be ignored.
            Expect::Continue
        } else {
            Expect::None
        };
        Request {
            method: self.method,
            target: self.target,
            target_form: self.target_form,
            version,
            minor: self.minor,
            header_count: self.fields.count as usize,
            head_len: self.pos as usize,
            body,
            keep_alive,
            upgrade: facts.upgrade(),
            expect,
            host: facts.host(),
        }
    }
}

/// Whether `buf[p..]` starts with `HTTP/1.1\r\n` or `HTTP/1.0\r\n`: two
/// word compares.
#[inline(always)]
fn http1_crlf(buf: &[u8], p: usize) -> bool {
    let Some(head) = buf.get(p..p + 10) else {
        return false;
    };
    let (version, crlf) = head.split_at(8);
    let crlf = u16::from_le_bytes(crlf.try_into().unwrap_or([0; 2]));
    http1_version(version) && crlf == u16::from_le_bytes(*b"\r\n")
}

/// The error for a request-target that stopped at `p` (not at a single SP).
#[cold]
#[inline(never)]
fn target_error(buf: &[u8], p: usize, start: usize, limit: usize) -> Error {
    let b = buf[p];
    if p == limit && target_char(b) {
        return Error::new(ErrorKind::UriTooLong, p);
    }
    match b {
        b'\r' | b'\n' if p > start => Error::new(ErrorKind::MissingVersion, p),
        _ => Error::new(ErrorKind::InvalidTarget, p),
    }
}

/// The target's form, if it fits the method (RFC 9112 §3.2); else the offset
/// in the target of the byte that breaks it (0 when the form itself is wrong).
#[inline]
fn classify_target(method: &[u8], target: &[u8]) -> Result<TargetForm, usize> {
    let connect = method.len() == 7 && method == b"CONNECT";
    if !connect && target.first() == Some(&b'/') {
        return Ok(TargetForm::Origin);
    }
    if connect {
        // authority-form = uri-host ":" port
        let colon = target.iter().rposition(|&b| b == b':').ok_or(0usize)?;
        let (host, port) = (&target[..colon], &target[colon + 1..]);
        let host_ok = !host.is_empty() && crate::chars::valid_host(host).is_ok();
        let port_ok = !port.is_empty() && port.iter().all(u8::is_ascii_digit);
        return (host_ok && port_ok)
            .then_some(TargetForm::Authority)
            .ok_or(0);
    }
    match target {
        b"*" if method == b"OPTIONS" => Ok(TargetForm::Asterisk),
        [first, rest @ ..] if first.is_ascii_alphabetic() => absolute_form(target, rest),
        _ => Err(0),
    }
}

/// `absolute-URI = scheme ":" hier-part [ "?" query ]` (RFC 9112 §3.2.2).
/// HTTP URIs always have an authority, so `//` must follow the scheme (RFC
/// 9110 §4.2); this keeps `host:port` out of absolute-form. The authority
/// replaces Host (RFC 9112 §3.2.2), so it is held to the same rule, by the
/// same function: `uri-host [ ":" port ]`. Userinfo (`user@`) is rejected:
/// RFC 9110 §4.2.4 forbids senders to generate it in a target URI and tells
/// recipients to treat it as an error; parsing it (RFC 3986 §3.2.1) would only
/// open room for `a@b@c`-style confusion between this parser and whatever the
/// caller forwards to. An `http` or `https` URI with an empty host MUST be
/// rejected (RFC 9110 §4.2.1, §4.2.2).
fn absolute_form(target: &[u8], after_first: &[u8]) -> Result<TargetForm, usize> {
    // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
    let scheme_len = 1 + after_first
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')))
        .ok_or(0usize)?;
    if !target[scheme_len..].starts_with(b"://") {
        return Err(0);
    }
    let start = scheme_len + 3;
    let rest = &target[start..];
    // authority ends at the path or the query ('#' never reaches here).
    let authority = &rest[..rest
        .iter()
        .position(|&b| matches!(b, b'/' | b'?'))
        .unwrap_or(rest.len())];
    crate::chars::valid_host(authority).map_err(|i| start + i)?;
    let scheme = &target[..scheme_len];
    let http = scheme.eq_ignore_ascii_case(b"http") || scheme.eq_ignore_ascii_case(b"https");
    if http && matches!(authority.first(), None | Some(b':')) {
        return Err(start);
    }
    Ok(TargetForm::Absolute)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn parse(input: &[u8]) -> Result<Status<Request>, Error> {
        let mut headers = [Header::EMPTY; 16];
        RequestParser::new().parse(input, &mut headers)
    }

    fn complete(input: &[u8]) -> Request {
        match parse(input) {
            Ok(Status::Complete(r)) => r,
            other => panic!("expected a complete request, got {other:?}"),
        }
    }

    /// Asserts the input fails with `kind` at `offset`.
    #[track_caller]
    fn rejects(input: &[u8], kind: ErrorKind, offset: usize) {
        assert_eq!(
            parse(input),
            Err(Error { kind, offset }),
            "{:?}",
            core::str::from_utf8(input)
        );
    }

    const MIN: &[u8] = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";

    #[test]
    fn minimal_request() {
        let mut headers = [Header::EMPTY; 4];
        let req = RequestParser::new()
            .parse(MIN, &mut headers)
            .unwrap()
            .complete()
            .unwrap();
        let head = req.head(MIN, &headers);
        assert_eq!(head.method(), b"GET");
        assert_eq!(head.target(), b"/");
        assert_eq!(head.version(), Version::Http11);
        assert_eq!(head.header("HOST"), Some(&b"a"[..]));
        assert_eq!(req.head_len, MIN.len());
        assert_eq!(req.body, BodyKind::None);
        assert_eq!(req.target_form, TargetForm::Origin);
        assert!(req.keep_alive);
        assert_eq!(req.expect, Expect::None);
    }

    #[test]
    fn partial_at_every_prefix() {
        for n in 0..MIN.len() {
            assert_eq!(parse(&MIN[..n]), Ok(Status::Partial), "prefix {n}");
        }
    }

    // RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the request-line.
    #[test]
    fn leading_empty_lines_accepted() {
        let r = complete(b"\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
        assert_eq!(r.method, Span::new(4, 7));
    }

    // RFC 9112 §5.1: field values are trimmed of OWS.
    #[test]
    fn field_value_trimmed() {
        let input = b"GET / HTTP/1.1\r\nHost: a\r\nA: \t a b \t\r\nX:\r\n\r\n";
        let mut headers = [Header::EMPTY; 4];
        let r = RequestParser::new()
            .parse(input, &mut headers)
            .unwrap()
            .complete()
            .unwrap();
        let h = r.head(input, &headers);
        let all: [(&[u8], &[u8]); 3] = [(b"Host", b"a"), (b"A", b"a b"), (b"X", b"")];
        assert!(h.headers().eq(all.iter().copied()));
    }

    // RFC 9110 §5.5: obs-text is allowed in field values.
    #[test]
    fn obs_text_in_value_accepted() {
        complete(b"GET / HTTP/1.1\r\nHost: a\r\nX: caf\xc3\xa9\r\n\r\n");
    }

    // RFC 9112 §3: method is a token; RFC 9110 §9.1 methods are case-sensitive, any token is allowed.
    #[test]
    fn extension_method_accepted() {
        let input = b"M-SEARCH /x HTTP/1.1\r\nHost: a\r\n\r\n";
        let mut h = [Header::EMPTY; 2];
        let r = RequestParser::new()
            .parse(input, &mut h)
            .unwrap()
            .complete()
            .unwrap();
        assert_eq!(r.head(input, &h).method(), b"M-SEARCH");
    }

    // RFC 9110 §9.1: method must be a token.
    #[test]
    fn non_token_method_rejected() {
        rejects(b"G(T / HTTP/1.1\r\n", ErrorKind::InvalidMethod, 1);
        rejects(b" GET / HTTP/1.1\r\n", ErrorKind::InvalidMethod, 0);
        rejects(b"GET\t/ HTTP/1.1\r\n", ErrorKind::InvalidMethod, 3);
        rejects(b"GE\xffT / HTTP/1.1\r\n", ErrorKind::InvalidMethod, 2);
    }

    // RFC 9112 §3: exactly one SP between the parts of the request-line.
    #[test]
    fn double_space_rejected() {
        rejects(b"GET  / HTTP/1.1\r\n", ErrorKind::InvalidTarget, 4);
        rejects(b"GET /  HTTP/1.1\r\n", ErrorKind::InvalidVersion, 6);
    }

    // RFC 9112 §3.2: request-target has no whitespace, CTL or non-ASCII.
    #[test]
    fn bad_target_bytes_rejected() {
        rejects(b"GET /a\x00b HTTP/1.1\r\n", ErrorKind::InvalidTarget, 6);
        rejects(b"GET /a\tb HTTP/1.1\r\n", ErrorKind::InvalidTarget, 6);
        rejects(b"GET /\xc3\xa9 HTTP/1.1\r\n", ErrorKind::InvalidTarget, 5);
        rejects(b"GET /\x7f HTTP/1.1\r\n", ErrorKind::InvalidTarget, 5);
    }

    // RFC 9112 §3.2: target forms must fit the method.
    #[test]
    fn target_forms() {
        assert_eq!(
            complete(b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n").target_form,
            TargetForm::Asterisk
        );
        assert_eq!(
            complete(b"GET http://a/b HTTP/1.1\r\nHost: a\r\n\r\n").target_form,
            TargetForm::Absolute
        );
        assert_eq!(
            complete(b"CONNECT a.example:443 HTTP/1.1\r\nHost: a\r\n\r\n").target_form,
            TargetForm::Authority
        );
        rejects(
            b"GET * HTTP/1.1\r\nHost: a\r\n\r\n",
            ErrorKind::InvalidTarget,
            4,
        );
        rejects(
            b"GET a.example:443 HTTP/1.1\r\nHost: a\r\n\r\n",
            ErrorKind::InvalidTarget,
            4,
        );
        rejects(
            b"CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n",
            ErrorKind::InvalidTarget,
            8,
        );
        rejects(
            b"GET ?x HTTP/1.1\r\nHost: a\r\n\r\n",
            ErrorKind::InvalidTarget,
            4,
        );
    }

    // RFC 9112 §3.2.2: the authority of an absolute-form target replaces Host,
    // so it is validated as Host is; RFC 9110 §4.2.1: an http URI with an empty
    // host MUST be rejected; RFC 9110 §4.2.4: userinfo is treated as an error.
    #[test]
    fn absolute_form_authority() {
        for ok in [
            &b"http://a/b"[..],
            b"http://a",
            b"http://a?q",
            b"HTTP://a.example:8080/x",
            b"https://[::1]:443/",
            b"http://[v7.x]/",
            b"http://ex%41mple/",
            b"http://a:/",
            b"ftp:///x",
        ] {
            let mut req = b"GET ".to_vec();
            req.extend_from_slice(ok);
            req.extend_from_slice(b" HTTP/1.1\r\nHost: a\r\n\r\n");
            assert_eq!(
                complete(&req).target_form,
                TargetForm::Absolute,
                "{:?}",
                core::str::from_utf8(ok)
            );
        }
        let bad = ErrorKind::InvalidTarget;
        // offsets: "GET " is 4 bytes, "http://" 7 more
        rejects(
            b"GET http://a:b@@hostname:443/ HTTP/1.1\r\nHost: a\r\n\r\n",
            bad,
            13,
        );
        rejects(b"GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n", bad, 11);
        rejects(b"GET http://@/x HTTP/1.1\r\nHost: a\r\n\r\n", bad, 11);
        rejects(b"GET http://a@b@c/ HTTP/1.1\r\nHost: a\r\n\r\n", bad, 12);
        rejects(b"GET http://user@a/ HTTP/1.1\r\nHost: a\r\n\r\n", bad, 15);
        rejects(b"GET http://[::1/ HTTP/1.1\r\nHost: a\r\n\r\n", bad, 15);
        rejects(b"GET http://h:1:80/ HTTP/1.1\r\nHost: a\r\n\r\n", bad, 14);
        rejects(
            b"GET http://exa%zzmple/ HTTP/1.1\r\nHost: a\r\n\r\n",
            bad,
            14,
        );
        rejects(b"GET http://:80/ HTTP/1.1\r\nHost: a\r\n\r\n", bad, 11);
        rejects(b"GET https:// HTTP/1.1\r\nHost: a\r\n\r\n", bad, 12);
        rejects(b"GET http://a:8x/ HTTP/1.1\r\nHost: a\r\n\r\n", bad, 14);
    }

    // RFC 9112 §3: 414 when the target is longer than the server will parse.
    #[test]
    fn uri_too_long() {
        let limits = Limits {
            max_uri: 8,
            ..Limits::DEFAULT
        };
        let mut h = [Header::EMPTY; 4];
        let ok = RequestParser::with_limits(limits)
            .parse(b"GET /2345678 HTTP/1.1\r\nHost: a\r\n\r\n", &mut h);
        assert!(ok.unwrap().is_complete());
        let err = RequestParser::with_limits(limits).parse(b"GET /23456789 HTTP/1.1\r\n", &mut h);
        assert_eq!(
            err,
            Err(Error {
                kind: ErrorKind::UriTooLong,
                offset: 12
            })
        );
        assert_eq!(ErrorKind::UriTooLong.status(), 414);
        // detected before the rest arrives
        let err = RequestParser::with_limits(limits).parse(b"GET /23456789", &mut h);
        assert_eq!(
            err,
            Err(Error {
                kind: ErrorKind::UriTooLong,
                offset: 12
            })
        );
    }

    // RFC 9112 §2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive.
    #[test]
    fn malformed_versions_rejected() {
        rejects(b"GET / http/1.1\r\n", ErrorKind::InvalidVersion, 6);
        rejects(b"GET / HTTP/1.10\r\n", ErrorKind::InvalidVersion, 14);
        rejects(b"GET / HTTP/1\r\n", ErrorKind::InvalidVersion, 12);
        rejects(b"GET / HTTP/1.1 \r\n", ErrorKind::InvalidVersion, 14);
        rejects(b"GET / HTTP/11.1\r\n", ErrorKind::InvalidVersion, 12);
        rejects(b"GET / HTTPS/1.1\r\n", ErrorKind::InvalidVersion, 10);
        rejects(
            b"GET / HTTP/0.9\r\nHost: a\r\n\r\n",
            ErrorKind::InvalidVersion,
            11,
        );
    }

    // RFC 9110 §15.6.6: 505 for a major version the server does not support.
    #[test]
    fn major_two_is_505() {
        rejects(
            b"GET / HTTP/2.0\r\nHost: a\r\n\r\n",
            ErrorKind::UnsupportedVersion,
            11,
        );
        rejects(b"GET / HTTP/3.1\r\n", ErrorKind::UnsupportedVersion, 11);
        assert_eq!(ErrorKind::UnsupportedVersion.status(), 505);
    }

    // RFC 9110 §2.5: a higher minor is processed as the highest we support.
    #[test]
    fn http_1_2_processed_as_1_1() {
        let r = complete(b"GET / HTTP/1.2\r\nHost: a\r\n\r\n");
        assert_eq!((r.version, r.minor), (Version::Http11, 2));
    }

    // RFC 9112 §3: no HTTP/0.9 simple requests.
    #[test]
    fn http09_rejected() {
        rejects(b"GET /\r\n", ErrorKind::MissingVersion, 5);
        rejects(b"GET /\n", ErrorKind::MissingVersion, 5);
    }

    // RFC 9112 §5.1: no whitespace between field name and colon (MUST 400).
    #[test]
    fn whitespace_before_colon_rejected() {
        rejects(
            b"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
            ErrorKind::WhitespaceBeforeColon,
            20,
        );
        rejects(
            b"GET / HTTP/1.1\r\nHost\t: a\r\n\r\n",
            ErrorKind::WhitespaceBeforeColon,
            20,
        );
    }

    // RFC 9112 §5.2: obs-fold in a request is rejected (400).
    #[test]
    fn obs_fold_rejected() {
        rejects(
            b"GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n",
            ErrorKind::ObsFold,
            31,
        );
        rejects(
            b"GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n\tc\r\n\r\n",
            ErrorKind::ObsFold,
            31,
        );
    }

    // RFC 9112 §2.2: whitespace between start-line and first field.
    #[test]
    fn whitespace_before_first_field_rejected() {
        rejects(
            b"GET / HTTP/1.1\r\n Host: a\r\n\r\n",
            ErrorKind::ObsFold,
            16,
        );
    }

    // RFC 9112 §2.2: a bare CR anywhere is invalid.
    #[test]
    fn bare_cr_rejected() {
        rejects(b"GET / HTTP/1.1\rHost: a\r\n\r\n", ErrorKind::BareCr, 14);
        rejects(
            b"GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n",
            ErrorKind::BareCr,
            23,
        );
        rejects(
            b"GET / HTTP/1.1\r\nHost: a\r\nX: b\rc\r\n\r\n",
            ErrorKind::BareCr,
            29,
        );
        rejects(b"GET / HTTP/1.1\r\nHost: a\r\n\rX", ErrorKind::BareCr, 25);
        rejects(b"\rGET / HTTP/1.1\r\n", ErrorKind::BareCr, 0);
        rejects(b"GET /\r HTTP/1.1\r\n", ErrorKind::MissingVersion, 5);
    }

    // RFC 9112 §2.2: bare LF rejected by default, accepted only when allowed.
    #[test]
    fn bare_lf_strict_and_lenient() {
        let input = b"GET / HTTP/1.1\nHost: a\nX: b\r\n\n";
        rejects(input, ErrorKind::BareLf, 14);
        rejects(
            b"GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n",
            ErrorKind::BareLf,
            23,
        );
        rejects(b"GET / HTTP/1.1\r\nHost: a\r\n\n", ErrorKind::BareLf, 25);
        let mut h = [Header::EMPTY; 4];
        let r = RequestParser::new()
            .allow_bare_lf(true)
            .parse(input, &mut h)
            .unwrap()
            .complete()
            .unwrap();
        assert_eq!(r.head_len, input.len());
        assert_eq!(r.head(input, &h).header("x"), Some(&b"b"[..]));
    }

    // RFC 9110 §5.5: NUL and other CTLs are not allowed in field values.
    #[test]
    fn ctl_in_value_rejected() {
        rejects(
            b"GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n",
            ErrorKind::InvalidHeaderValue,
            29,
        );
        rejects(
            b"GET / HTTP/1.1\r\nHost: a\r\nX: a\x01\r\n\r\n",
            ErrorKind::InvalidHeaderValue,
            29,
        );
        rejects(
            b"GET / HTTP/1.1\r\nHost: a\r\nX: \x7f\r\n\r\n",
            ErrorKind::InvalidHeaderValue,
            28,
        );
        // HTAB is allowed inside a value
        complete(b"GET / HTTP/1.1\r\nHost: a\r\nX: a\tb\r\n\r\n");
    }

    // RFC 9110 §5.1: field names are tokens.
    #[test]
    fn bad_field_names_rejected() {
        rejects(
            b"GET / HTTP/1.1\r\n: a\r\n\r\n",
            ErrorKind::InvalidHeaderName,
            16,
        );
        rejects(
            b"GET / HTTP/1.1\r\nX(: a\r\n\r\n",
            ErrorKind::InvalidHeaderName,
            17,
        );
        rejects(
            b"GET / HTTP/1.1\r\n\xffX: a\r\n\r\n",
            ErrorKind::InvalidHeaderName,
            16,
        );
    }

    // RFC 9112 §5: field-line = field-name ":" OWS field-value OWS. A line with
    // no colon is its own error, told apart from whitespace before a colon
    // (§5.1) by the first byte after the whitespace, in whatever pieces it comes.
    #[test]
    fn missing_colon_rejected() {
        rejects(
            b"GET / HTTP/1.1\r\nNoColon\r\n\r\n",
            ErrorKind::MissingColon,
            23,
        );
        rejects(
            b"GET / HTTP/1.1\r\nHost: a\r\nX-A b\r\n\r\n",
            ErrorKind::MissingColon,
            28,
        );
        rejects(
            b"GET / HTTP/1.1\r\nHost: a\r\nX-A  \t \r\n\r\n",
            ErrorKind::MissingColon,
            28,
        );
        rejects(
            b"GET / HTTP/1.1\r\nHost: a\r\nX-A \t : b\r\n\r\n",
            ErrorKind::WhitespaceBeforeColon,
            28,
        );
        // fed in pieces that end inside the whitespace: same kind, same offset
        for input in [
            &b"GET / HTTP/1.1\r\nHost: a\r\nX-A   b\r\n\r\n"[..],
            b"GET / HTTP/1.1\r\nHost: a\r\nX-A   : b\r\n\r\n",
        ] {
            let whole = parse(input);
            for cut in 1..input.len() {
                let mut h = [Header::EMPTY; 16];
                let mut p = RequestParser::new();
                let first = p.parse(&input[..cut], &mut h);
                let got = match first {
                    Ok(Status::Partial) => p.parse(input, &mut h),
                    other => other,
                };
                assert_eq!(got, whole, "cut at {cut}");
            }
        }
    }

    // RFC 9112 §6.3 rule 5: Content-Length frames the body; 1*DIGIT only.
    #[test]
    fn content_length() {
        assert_eq!(
            complete(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 42\r\n\r\n").body,
            BodyKind::Length(42)
        );
        assert_eq!(
            complete(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 007\r\n\r\n").body,
            BodyKind::Length(7)
        );
        // identical repeats may be folded (RFC 9110 §8.6)
        assert_eq!(
            complete(
                b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n"
            )
            .body,
            BodyKind::Length(5)
        );
        assert_eq!(
            complete(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n").body,
            BodyKind::Length(5)
        );
        let base = b"POST / HTTP/1.1\r\nHost: a\r\n".len();
        for bad in [
            &b"-1"[..],
            b"+5",
            b"5a",
            b"0x10",
            b"",
            b"1 2",
            b"18446744073709551616",
            b"5,",
        ] {
            let mut input = [0u8; 128];
            let head = b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ";
            let mut n = 0;
            for part in [&head[..], bad, b"\r\n\r\n"] {
                input[n..n + part.len()].copy_from_slice(part);
                n += part.len();
            }
            rejects(&input[..n], ErrorKind::InvalidContentLength, base);
        }
    }

    // RFC 9112 §6.3 rule 5: differing Content-Length values are unrecoverable.
    #[test]
    fn conflicting_content_length_rejected() {
        rejects(
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
            ErrorKind::ConflictingContentLength,
            45,
        );
        rejects(
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n",
            ErrorKind::ConflictingContentLength,
            26,
        );
    }

    // RFC 9112 §6.1: Transfer-Encoding with Content-Length must not be trusted; we reject (400).
    #[test]
    fn cl_with_te_rejected() {
        rejects(
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
            ErrorKind::ContentLengthWithTransferEncoding,
            45,
        );
        rejects(
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
            ErrorKind::ContentLengthWithTransferEncoding,
            54,
        );
    }

    // RFC 9112 §6.1, §6.3 rule 4.
    #[test]
    fn transfer_encoding_rules() {
        let te = |v: &[u8]| {
            let mut input = [0u8; 256];
            let mut n = 0;
            for part in [
                &b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: "[..],
                v,
                b"\r\n\r\n",
            ] {
                input[n..n + part.len()].copy_from_slice(part);
                n += part.len();
            }
            let mut h = [Header::EMPTY; 4];
            RequestParser::new().parse(&input[..n], &mut h)
        };
        let ok = |r: Result<Status<Request>, Error>| r.unwrap().complete().unwrap().body;
        assert_eq!(ok(te(b"chunked")), BodyKind::Chunked);
        assert_eq!(ok(te(b"CHUNKED")), BodyKind::Chunked);
        assert_eq!(ok(te(b" , chunked")), BodyKind::Chunked);
        let kind = |r: Result<Status<Request>, Error>| r.unwrap_err().kind;
        // final coding not chunked: MUST 400
        assert_eq!(kind(te(b"gzip")), ErrorKind::InvalidTransferEncoding);
        assert_eq!(
            kind(te(b"chunked, gzip")),
            ErrorKind::InvalidTransferEncoding
        );
        assert_eq!(
            kind(te(b"chunked, chunked")),
            ErrorKind::InvalidTransferEncoding
        );
        assert_eq!(kind(te(b"xchunked")), ErrorKind::InvalidTransferEncoding);
        assert_eq!(kind(te(b"chunked;x=1")), ErrorKind::InvalidTransferEncoding);
        assert_eq!(kind(te(b"")), ErrorKind::InvalidTransferEncoding);
        assert_eq!(kind(te(b"\"chunked\"")), ErrorKind::InvalidTransferEncoding);
        // unknown coding before chunked: SHOULD 501
        assert_eq!(
            kind(te(b"foo, chunked")),
            ErrorKind::UnsupportedTransferCoding
        );
        assert_eq!(
            kind(te(b"gzip, chunked")),
            ErrorKind::UnsupportedTransferCoding
        );
        assert_eq!(ErrorKind::UnsupportedTransferCoding.status(), 501);
        // offset is the Transfer-Encoding line
        assert_eq!(te(b"gzip").unwrap_err().offset, 26);
        // split over two field lines: the list is their concatenation, and
        // empty elements are ignored wherever they stand (RFC 9110 §5.3, §5.6.1):
        // an empty line then "chunked" is ", chunked"
        let two = |a: &[u8], b: &[u8]| {
            let mut input = [0u8; 256];
            let mut n = 0;
            for part in [
                &b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: "[..],
                a,
                b"\r\nTransfer-Encoding: ",
                b,
                b"\r\n\r\n",
            ] {
                input[n..n + part.len()].copy_from_slice(part);
                n += part.len();
            }
            let mut h = [Header::EMPTY; 4];
            RequestParser::new()
                .parse(&input[..n], &mut h)
                .map(|s| s.complete().unwrap().body)
        };
        assert_eq!(two(b"", b"chunked"), Ok(BodyKind::Chunked));
        assert_eq!(two(b" , ", b"chunked"), Ok(BodyKind::Chunked));
        assert_eq!(two(b"chunked", b""), Ok(BodyKind::Chunked));
        assert_eq!(
            two(b"", b"").unwrap_err().kind,
            ErrorKind::InvalidTransferEncoding
        );
        assert_eq!(te(b"").unwrap_err().offset, 26);
        rejects(
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n",
            ErrorKind::InvalidTransferEncoding,
            54,
        );
    }

    // RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 is faulty framing.
    #[test]
    fn te_in_http10_rejected() {
        rejects(
            b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
            ErrorKind::TransferEncodingInHttp10,
            17,
        );
    }

    // RFC 9112 §3.2: MUST 400 for a missing Host in 1.1, or several, or an invalid one.
    #[test]
    fn host_rules() {
        rejects(
            b"GET / HTTP/1.1\r\nX: a\r\n\r\n",
            ErrorKind::MissingHost,
            22,
        );
        rejects(
            b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            ErrorKind::DuplicateHost,
            25,
        );
        rejects(
            b"GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n",
            ErrorKind::DuplicateHost,
            25,
        );
        rejects(
            b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
            ErrorKind::InvalidHost,
            23,
        );
        rejects(
            b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n",
            ErrorKind::InvalidHost,
            23,
        );
        rejects(
            b"GET / HTTP/1.1\r\nHost: a@b\r\n\r\n",
            ErrorKind::InvalidHost,
            23,
        );
        // HTTP/1.0 may omit Host; an empty Host is valid (RFC 9112 §3.2)
        complete(b"GET / HTTP/1.0\r\n\r\n");
        let r = complete(b"GET / HTTP/1.1\r\nHost:\r\n\r\n");
        assert_eq!(r.host, Some(Span::new(21, 21)));
        let r = complete(b"GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n");
        assert_eq!(r.host, Some(Span::new(22, 32)));
    }

    // RFC 9112 §9.3: persistence defaults and Connection options.
    #[test]
    fn persistence() {
        assert!(complete(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").keep_alive);
        assert!(!complete(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").keep_alive);
        assert!(
            !complete(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, CLOSE\r\n\r\n")
                .keep_alive
        );
        assert!(!complete(b"GET / HTTP/1.0\r\n\r\n").keep_alive);
        assert!(complete(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keep_alive);
        assert!(
            !complete(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n")
                .keep_alive
        );
        let r = complete(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n");
        assert!(r.upgrade && r.keep_alive);
        assert!(!complete(b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n").upgrade);
    }

    // RFC 9110 §10.1.1: Expect.
    #[test]
    fn expect() {
        let e = |v: &[u8]| {
            let mut input = [0u8; 128];
            let mut n = 0;
            for part in [
                &b"PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nExpect: "[..],
                v,
                b"\r\n\r\n",
            ] {
                input[n..n + part.len()].copy_from_slice(part);
                n += part.len();
            }
            complete(&input[..n]).expect
        };
        assert_eq!(e(b"100-continue"), Expect::Continue);
        assert_eq!(e(b"100-Continue"), Expect::Continue);
        assert_eq!(e(b"200-ok"), Expect::Other);
        // RFC 9110 §10.1.1: ignored in HTTP/1.0
        let r = complete(b"PUT / HTTP/1.0\r\nContent-Length: 1\r\nExpect: 100-continue\r\n\r\n");
        assert_eq!(r.expect, Expect::None);
    }

    // Limits: 431 for too many fields, too long a line, too large a head.
    #[test]
    fn header_limits() {
        let mut h = [Header::EMPTY; 1];
        let err = RequestParser::new().parse(b"GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n\r\n", &mut h);
        assert_eq!(
            err,
            Err(Error {
                kind: ErrorKind::TooManyHeaders,
                offset: 25
            })
        );
        let limits = Limits {
            max_header_line: 8,
            ..Limits::DEFAULT
        };
        let mut h = [Header::EMPTY; 4];
        let ok =
            RequestParser::with_limits(limits).parse(b"GET / HTTP/1.1\r\nHost: ab\r\n\r\n", &mut h);
        assert!(ok.unwrap().is_complete());
        let err = RequestParser::with_limits(limits)
            .parse(b"GET / HTTP/1.1\r\nHost: abc\r\n\r\n", &mut h);
        assert_eq!(
            err,
            Err(Error {
                kind: ErrorKind::HeaderLineTooLong,
                offset: 24
            })
        );
        let limits = Limits {
            max_head: 32,
            ..Limits::DEFAULT
        };
        let err = RequestParser::with_limits(limits)
            .parse(b"GET / HTTP/1.1\r\nHost: a\r\nX-Long: 123", &mut h);
        assert_eq!(
            err,
            Err(Error {
                kind: ErrorKind::HeaderSectionTooLarge,
                offset: 32
            })
        );
        // exactly at the limit is fine
        let input = b"GET / HTTP/1.1\r\nHost: abcdefg\r\n\r\n";
        let limits = Limits {
            max_head: input.len() as u32,
            ..Limits::DEFAULT
        };
        assert!(RequestParser::with_limits(limits)
            .parse(input, &mut h)
            .unwrap()
            .is_complete());
        for k in [
            ErrorKind::TooManyHeaders,
            ErrorKind::HeaderLineTooLong,
            ErrorKind::HeaderSectionTooLarge,
        ] {
            assert_eq!(k.status(), 431);
        }
    }

    // A pipelined buffer: the head ends at head_len; the rest is not looked at.
    #[test]
    fn stops_at_end_of_head() {
        let input = b"GET / HTTP/1.1\r\nHost: a\r\n\r\nGARBAGE\x00\r";
        assert_eq!(complete(input).head_len, 27);
    }

    // The parser resumes and caches its outcome.
    #[test]
    fn resume_and_outcome_cached() {
        let mut p = RequestParser::new();
        let mut h = [Header::EMPTY; 4];
        assert_eq!(p.parse(&MIN[..10], &mut h), Ok(Status::Partial));
        assert_eq!(p.position(), 10);
        let r = p.parse(MIN, &mut h).unwrap();
        assert_eq!(p.parse(MIN, &mut h).unwrap(), r);
        assert_eq!(p.bytes_scanned(), MIN.len() as u64);
        p.reset();
        assert_eq!(p.position(), 0);
        let mut p = RequestParser::new();
        let e = p.parse(b"G(T", &mut h);
        assert_eq!(
            e,
            Err(Error {
                kind: ErrorKind::InvalidMethod,
                offset: 1
            })
        );
        assert_eq!(p.parse(b"GET / HTTP/1.1", &mut h), e);
    }

    // 4 KiB fed one byte at a time: complete exactly at the last byte, with
    // the position (= bytes_scanned) at the head's end. That the cost is
    // linear is shown by instruction counts (ci/bench-parser.sh: 1 KiB ->
    // 8 KiB fed byte by byte costs 8x), not by a timed test.
    #[test]
    fn byte_at_a_time_scans_linearly() {
        let mut input = [0u8; 4096];
        let head = b"GET /x HTTP/1.1\r\nHost: a\r\n";
        input[..head.len()].copy_from_slice(head);
        let mut n = head.len();
        while n + 40 < input.len() - 2 {
            let line = b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
            input[n..n + line.len()].copy_from_slice(line);
            n += line.len();
        }
        input[n..n + 2].copy_from_slice(b"\r\n");
        n += 2;
        let input = &input[..n];
        let mut p = RequestParser::new();
        let mut h = [Header::EMPTY; 128];
        for end in 1..=n {
            let s = p.parse(&input[..end], &mut h).unwrap();
            assert_eq!(s.is_complete(), end == n);
        }
        assert!(
            p.bytes_scanned() < 2 * n as u64,
            "scanned {} for {n}",
            p.bytes_scanned()
        );
        assert_eq!(p.bytes_scanned(), n as u64);
    }

    // The one-pass line scanner (whole lines) and the resumable phases (a
    // line fed byte by byte) agree on every byte value at every position of
    // a field line: same request, or same error kind and offset.
    #[test]
    fn line_scanner_agrees_with_phases() {
        // A short line (one 16-byte chunk holds its name, colon and most of
        // the value) and a long one (the value runs on past 32 bytes).
        let short: &[u8] =
            b"GET / HTTP/1.1\r\nHost: a\r\nX-Some-Name: some value\r\nAccept: */*\r\n\r\n";
        let long: &[u8] = b"GET / HTTP/1.1\r\nHost: a\r\nX-Some-Name: some value that runs on past two chunks\r\nAccept: */*\r\n\r\n";
        for base in [short, long] {
            let from = 25; // the X-Some-Name line
            let to = base.len() - 15;
            let mut input = base.to_vec();
            for at in from..to {
                for b in 0..=255u8 {
                    input.copy_from_slice(base);
                    input[at] = b;
                    let mut h1 = [Header::EMPTY; 8];
                    let whole = RequestParser::new().parse(&input, &mut h1);
                    let same =
                        |fed: &Result<Status<Request>, Error>, h2: &[Header], split: usize| {
                            // `split` 0: byte by byte.
                            assert_eq!(&whole, fed, "byte {b:#x} at {at}, split at {split}");
                            if let Ok(Status::Complete(r)) = whole {
                                assert_eq!(
                                    h1[..r.header_count],
                                    h2[..r.header_count],
                                    "byte {b:#x} at {at}, split at {split}"
                                );
                            }
                        };
                    // Byte by byte.
                    let mut p = RequestParser::new();
                    let mut h2 = [Header::EMPTY; 8];
                    let mut fed = Ok(Status::Partial);
                    for end in 1..=input.len() {
                        fed = p.parse(&input[..end], &mut h2);
                        if !matches!(fed, Ok(Status::Partial)) {
                            break;
                        }
                    }
                    same(&fed, &h2, 0);
                    // Two pieces, split around the changed byte and inside the line.
                    for split in [at - 1, at, at + 1, at + 2, from + 3, from + 13, to - 3] {
                        let mut p = RequestParser::new();
                        let mut h2 = [Header::EMPTY; 8];
                        let mut fed = p.parse(&input[..split], &mut h2);
                        if matches!(fed, Ok(Status::Partial)) {
                            fed = p.parse(&input, &mut h2);
                        }
                        same(&fed, &h2, split);
                    }
                }
            }
        }
    }

    #[test]
    fn reset_parser_answers_as_new() {
        let inputs: [&[u8]; 8] = [
            b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n",
            b"POST /x HTTP/1.1\r\nHost: b\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
            b"G(T / HTTP/1.1\r\n\r\n",
            b"\r\nCONNECT a:443 HTTP/1.1\r\nHost: a:443\r\nExpect: 100-continue\r\n\r\n",
            b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            b"OPTIONS * HTTP/1.1\r\nHost: a\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n",
            b"GET /cut HTTP/1.1\r\nHos",
        ];
        let mut reused = RequestParser::new();
        for round in 0..2 {
            for input in inputs {
                let mut h1 = [Header::EMPTY; 8];
                let mut h2 = [Header::EMPTY; 8];
                let fresh = RequestParser::new().parse(input, &mut h1);
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

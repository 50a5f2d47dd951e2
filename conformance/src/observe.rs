//! Turns a transcript into the responses it holds, using h1parse's response
//! parser, and validates each one: each finding carries its [`Check`], and
//! the runner reports each check once per run (`response.*`).
//!
//! Checks (RFC 9112 unless noted): a well-formed status line and field
//! section; `Date` on 2xx–4xx (RFC 9110 §6.6.1); exactly one framing
//! (Content-Length and Transfer-Encoding together are an error, §6.1); a body
//! as long as its framing says; no body after HEAD, 204 or 304 (§6.3 rule 1);
//! no Content-Length or Transfer-Encoding on 1xx/204 (RFC 9110 §8.6, §6.1);
//! `Connection: close` sent when the server then closes (§9.6), and a close
//! after sending it.

use h1parse::{
    BodyKind, ChunkedDecoder, Header, Limits, RequestParser, Response, ResponseParser, Status,
};

/// Limits for judging responses: generous, since a large response head is
/// no conformance failure of the server (h1parse's defaults suit a server
/// reading requests, not a judge reading responses).
const RESPONSE_LIMITS: Limits = Limits {
    max_head: 1 << 20,
    max_uri: 1 << 20,
    max_header_line: 1 << 20,
};

use crate::case::Level;
use crate::exchange::{End, Transcript};

/// One response seen on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// Its status code.
    pub status: u16,
    /// Field names (lower case) and values.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body bytes received.
    pub body: Vec<u8>,
    /// Whether the body arrived whole.
    pub complete: bool,
    /// Whether the response lets the connection persist.
    pub keep_alive: bool,
    /// Whether its status line says HTTP/1.0.
    pub http10: bool,
}

impl Seen {
    /// Whether a field is present: `name`, or `name: token` for a field
    /// whose comma-separated value holds that token (case-insensitive).
    ///
    /// `connection: close` asks whether the response announces the close,
    /// and an HTTP/1.0 response without `keep-alive` does so by its version
    /// alone (RFC 9112 §9.3: "otherwise, the connection will close after the
    /// current response"): a server that speaks HTTP/1.0 need not send the
    /// field, and failing it for that was a false positive.
    pub fn has(&self, spec: &str) -> bool {
        match spec.split_once(':') {
            None => self.headers.iter().any(|(n, _)| n == spec),
            Some((name, token)) => {
                let (name, token) = (name.trim(), token.trim());
                if name == "connection"
                    && token.eq_ignore_ascii_case("close")
                    && self.http10
                    && !self.keep_alive
                {
                    return true;
                }
                let token = token.as_bytes();
                self.headers.iter().any(|(n, v)| {
                    n == name
                        && v.split(|b| *b == b',')
                            .any(|t| t.trim_ascii().eq_ignore_ascii_case(token))
                })
            }
        }
    }

    /// The value of Content-Length, if the response has one that parses.
    pub fn content_length(&self) -> Option<u64> {
        self.headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .and_then(|(_, v)| std::str::from_utf8(v).ok()?.trim().parse().ok())
    }
}

/// The rules the validator checks every response against. Each is reported
/// once per run, as a response check of its own with the cases where it was
/// seen (`response.<name>`), and never changes another case's verdict: a
/// server that leaves `Date` out of its error responses has one defect, not
/// one per case that drew an error.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Check {
    /// A response that h1parse cannot parse, or a head cut off by the end.
    Malformed,
    /// Bytes after a HEAD, 204 or 304 response (RFC 9112 §6.3 rule 1).
    BodyAfterBodiless,
    /// A 2xx–4xx response without `Date` (RFC 9110 §6.6.1).
    Date,
    /// Content-Length in a 1xx or 204 response (RFC 9110 §8.6).
    ContentLengthOnBodiless,
    /// Transfer-Encoding in a 1xx or 204 response (RFC 9112 §6.1).
    TransferEncodingOnBodiless,
    /// Transfer-Encoding in a response to an HTTP/1.0 request (RFC 9112 §6.1).
    TransferEncodingToHttp10,
    /// An interim response to an HTTP/1.0 request (RFC 9110 §15.2).
    InterimToHttp10,
    /// A body shorter than its framing when the connection closed (RFC 9112 §8).
    CutShort,
    /// A close after a response that did not say `Connection: close` (RFC 9112 §9.6).
    UnannouncedClose,
    /// `Connection: close` sent but the connection left open (RFC 9112 §9.6).
    CloseNotDone,
    /// Bytes without a status line in answer to a line that is no HTTP/1.x
    /// request: an HTTP/0.9 response. Not a response check (not in
    /// [`Check::ALL`]): whether HTTP/0.9 is refused is a case of its own.
    Http09Answer,
}

impl Check {
    /// Every check, in report order.
    pub const ALL: [Check; 10] = [
        Check::Malformed,
        Check::BodyAfterBodiless,
        Check::Date,
        Check::ContentLengthOnBodiless,
        Check::TransferEncodingOnBodiless,
        Check::TransferEncodingToHttp10,
        Check::InterimToHttp10,
        Check::CutShort,
        Check::UnannouncedClose,
        Check::CloseNotDone,
    ];

    /// The id part after `response.`.
    pub fn name(self) -> &'static str {
        match self {
            Check::Malformed => "well-formed",
            Check::BodyAfterBodiless => "no-body-after-bodiless",
            Check::Date => "date",
            Check::ContentLengthOnBodiless => "no-content-length-on-1xx-204",
            Check::TransferEncodingOnBodiless => "no-transfer-encoding-on-1xx-204",
            Check::TransferEncodingToHttp10 => "no-chunked-to-http10",
            Check::InterimToHttp10 => "no-interim-to-http10",
            Check::CutShort => "body-complete",
            Check::UnannouncedClose => "close-announced",
            Check::CloseNotDone => "close-done",
            Check::Http09Answer => "http09-answer",
        }
    }

    /// The level of the rule.
    pub fn level(self) -> Level {
        match self {
            Check::UnannouncedClose | Check::CloseNotDone | Check::Http09Answer => Level::Should,
            _ => Level::Must,
        }
    }

    /// What the check asks, for the report.
    pub fn title(self) -> &'static str {
        match self {
            Check::Malformed => "Every response parses (status line, fields, framing)",
            Check::BodyAfterBodiless => "No body after a HEAD, 204 or 304 response",
            Check::Date => "A 2xx, 3xx or 4xx response carries Date",
            Check::ContentLengthOnBodiless => "No Content-Length in a 1xx or 204 response",
            Check::TransferEncodingOnBodiless => "No Transfer-Encoding in a 1xx or 204 response",
            Check::TransferEncodingToHttp10 => "No Transfer-Encoding in a response to HTTP/1.0",
            Check::InterimToHttp10 => "No 1xx response to an HTTP/1.0 request",
            Check::CutShort => "A response body is as long as its framing says",
            Check::UnannouncedClose => {
                "A close after a response is announced with Connection: close"
            }
            Check::CloseNotDone => {
                "A response that says Connection: close is followed by the close"
            }
            Check::Http09Answer => "An HTTP/0.9 answer to a line without a version",
        }
    }

    /// The section and sentence the check rests on.
    pub fn rule(self) -> (&'static str, &'static str) {
        match self {
            Check::Malformed => ("RFC 9112 §2.1", "HTTP-message = start-line CRLF *( field-line CRLF ) CRLF [ message-body ]"),
            Check::BodyAfterBodiless => ("RFC 9112 §6.3", "Any response to a HEAD request and any response with a 1xx (Informational), 204 (No Content), or 304 (Not Modified) status code is always terminated by the first empty line after the header fields, regardless of the header fields present in the message, and thus cannot contain a message body or trailer section."),
            Check::Date => ("RFC 9110 §6.6.1", "An origin server with a clock (as defined in Section 5.6.7) MUST generate a Date header field in all 2xx (Successful), 3xx (Redirection), and 4xx (Client Error) responses"),
            Check::ContentLengthOnBodiless => ("RFC 9110 §8.6", "A server MUST NOT send a Content-Length header field in any response with a status code of 1xx (Informational) or 204 (No Content)."),
            Check::TransferEncodingOnBodiless => ("RFC 9112 §6.1", "A server MUST NOT send a Transfer-Encoding header field in any response with a status code of 1xx (Informational) or 204 (No Content)."),
            Check::TransferEncodingToHttp10 => ("RFC 9112 §6.1", "A server MUST NOT send a response containing Transfer-Encoding unless the corresponding request indicates HTTP/1.1 (or later minor revisions)."),
            Check::InterimToHttp10 => ("RFC 9110 §15.2", "A server MUST NOT send a 1xx response to an HTTP/1.0 client."),
            Check::CutShort => ("RFC 9112 §8", "A message that uses a valid Content-Length is incomplete if the size of the message body received (in octets) is less than the value given by Content-Length."),
            Check::UnannouncedClose => ("RFC 9112 §9.6", "A server that does not support persistent connections MUST send the \"close\" connection option in every response message that does not have a 1xx (Informational) status code. (Checked where the server answered everything sent and then closed; a server may close at any time, RFC 9112 §9.5, so the level is SHOULD.)"),
            Check::CloseNotDone => ("RFC 9112 §9.6", "A server that sends a \"close\" connection option MUST initiate closure of the connection (see below) after it sends the response containing the \"close\" connection option."),
            Check::Http09Answer => ("RFC 9112 §2.3", "HTTP's version number consists of two decimal digits separated by a \".\" (period or decimal point)."),
        }
    }
}

/// A validator finding.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// The rule broken.
    pub check: Check,
    /// The level of the rule broken.
    pub level: Level,
    /// What was wrong, for people.
    pub text: String,
}

impl Finding {
    fn new(check: Check, text: String) -> Finding {
        Finding {
            check,
            level: check.level(),
            text,
        }
    }
}

/// The responses of one transcript and what the validator found.
#[derive(Debug, Clone)]
pub struct Observation {
    /// The responses, interim ones included, in order.
    pub responses: Vec<Seen>,
    /// Bytes that do not parse as a response (why, and how many).
    pub garbage: Option<String>,
    /// How many responses came before the garbage.
    pub garbage_at: usize,
    /// How the connection ended.
    pub end: End,
    /// Validator findings.
    pub findings: Vec<Finding>,
    /// Bytes came that do not start with a status line (not after a
    /// bodiless response, where they are its leaked body).
    pub no_status_line: bool,
}

impl Observation {
    /// The observation in outcome words: `"400 close"`, `"200 200 open"`.
    pub fn words(&self) -> String {
        let mut w: Vec<String> = self
            .responses
            .iter()
            .map(|r| r.status.to_string())
            .collect();
        if self.garbage.is_some() {
            w.insert(self.garbage_at.min(w.len()), "garbage".into());
        }
        if w.is_empty() && self.end == End::Open {
            return "silence".into();
        }
        w.push(
            match self.end {
                End::Open => "open",
                End::Closed => "close",
                End::Reset => "close(reset)",
            }
            .into(),
        );
        w.join(" ")
    }
}

/// One request we sent, as h1parse reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentRequest {
    /// Its method.
    pub method: Vec<u8>,
    /// The minor version digit (0 for HTTP/1.0).
    pub minor: u8,
}

/// The requests in `sent`, as h1parse reads them, up to the first that does
/// not parse: response `i` answers request `i`.
pub fn sent_requests(sent: &[u8]) -> Vec<SentRequest> {
    walk(sent).requests
}

/// A request-line of two words (method and target) and no version: what an
/// HTTP/0.9 request looks like (RFC 9112 §2.3, Appendix C.1).
pub fn versionless_line(line: &[u8]) -> bool {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let mut words = line.split(|c| *c == b' ').filter(|w| !w.is_empty());
    let (Some(method), Some(_target), third) = (words.next(), words.next(), words.next()) else {
        return false;
    };
    method.iter().all(u8::is_ascii_uppercase) && third.is_none_or(|v| !v.starts_with(b"HTTP/"))
}

/// How many lines of `sent` end like a request-line (three words or more,
/// the last an `HTTP/` version): more than one means the bytes held more than
/// one request, whatever h1parse makes of the first (a head it rejects still
/// ends somewhere, and a body may run into the next request's method).
pub fn request_lines(sent: &[u8]) -> usize {
    sent.split(|c| *c == b'\n')
        .filter(|line| {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let words: Vec<&[u8]> = line.split(|c| *c == b' ').collect();
            words.len() >= 3
                && words.iter().all(|w| !w.is_empty())
                && words[words.len() - 1].starts_with(b"HTTP/")
        })
        .count()
}

/// How the requests sent read with h1parse.
struct Walk {
    /// The requests, in order, up to the first that does not parse.
    requests: Vec<SentRequest>,
    /// The walk stopped inside a body whose bytes were not all sent.
    mid_body: bool,
    /// Every byte sent belongs to a complete request.
    whole: bool,
}

/// The requests in `sent` as h1parse reads them (at most 64).
fn walk(sent: &[u8]) -> Walk {
    let mut w = Walk {
        requests: Vec::new(),
        mid_body: false,
        whole: false,
    };
    let mut pos = 0;
    while pos < sent.len() && w.requests.len() < 64 {
        let buf = &sent[pos..];
        let mut headers = [Header::EMPTY; 128];
        let req = match RequestParser::new().parse(buf, &mut headers) {
            Ok(Status::Complete(r)) => r,
            _ => return w,
        };
        w.requests.push(SentRequest {
            method: req.method.get(buf).to_vec(),
            minor: req.minor,
        });
        pos += req.head_len;
        match req.body {
            BodyKind::None | BodyKind::UntilClose => {}
            BodyKind::Length(n) => {
                if ((sent.len() - pos) as u64) < n {
                    w.mid_body = true;
                    return w;
                }
                pos += n as usize;
            }
            BodyKind::Chunked => match decode_chunked(&sent[pos..]) {
                Some((_, used)) => pos += used,
                None => {
                    w.mid_body = true;
                    return w;
                }
            },
        }
    }
    w.whole = pos >= sent.len();
    w
}

/// After a bodiless (HEAD, 204, 304) response: `rest` does not start a
/// response but one starts further on. The kind of response and how many
/// bytes leaked before the next one.
fn resync(after_bodiless: Option<&'static str>, rest: &[u8]) -> Option<(&'static str, usize)> {
    let what = after_bodiless?;
    if rest.starts_with(b"HTTP/") {
        return None;
    }
    let at = rest.windows(7).position(|w| w == b"HTTP/1.")?;
    Some((what, at))
}

/// Whether the last request in `sent` still awaits body bytes we never
/// sent (a Content-Length larger than what followed, an unfinished chunked
/// body): a server that said `close` may then go on reading, to drain what
/// the client is still sending before it closes (RFC 9112 §9.6), and not
/// having closed yet is no defect.
fn awaits_body(sent: &[u8]) -> bool {
    walk(sent).mid_body
}

/// Whether the first request in `sent` announces a body (Content-Length
/// above 0, or chunked).
pub fn first_has_body(sent: &[u8]) -> bool {
    let mut headers = [Header::EMPTY; 128];
    match RequestParser::new().parse(sent, &mut headers) {
        Ok(Status::Complete(r)) => match r.body {
            BodyKind::Length(n) => n > 0,
            BodyKind::Chunked => true,
            BodyKind::None | BodyKind::UntilClose => false,
        },
        _ => false,
    }
}

/// Statuses that refuse a message (rather than answer it): after one, a
/// server that closes has read nothing more.
pub fn refuses(status: u16) -> bool {
    matches!(status, 400 | 408 | 411 | 413 | 414 | 417 | 431 | 501 | 505)
}

/// Whether the first request in `sent` has a head RFC 9112 accepts and a
/// chunked body it rejects: a server may answer that head before it meets
/// the error in the body.
pub fn first_body_rejected(sent: &[u8]) -> bool {
    let mut headers = [Header::EMPTY; 128];
    let Ok(Status::Complete(r)) = RequestParser::new().parse(sent, &mut headers) else {
        return false;
    };
    if r.body != BodyKind::Chunked {
        return false;
    }
    let mut dec = ChunkedDecoder::new();
    let mut pos = r.head_len;
    loop {
        match dec.decode(&sent[pos..]) {
            Err(_) => return true,
            Ok(chunk) if chunk.done || chunk.consumed == 0 => return false,
            Ok(chunk) => pos += chunk.consumed,
        }
    }
}

/// Decodes a whole chunked body at the start of `input`: its data and the
/// bytes it took, or `None` if malformed or incomplete.
fn decode_chunked(input: &[u8]) -> Option<(Vec<u8>, usize)> {
    let mut dec = ChunkedDecoder::new();
    let mut data = Vec::new();
    let mut pos = 0;
    loop {
        let chunk = dec.decode(&input[pos..]).ok()?;
        data.extend_from_slice(&input[pos..][chunk.data.clone()]);
        pos += chunk.consumed;
        if chunk.done {
            return Some((data, pos));
        }
        if chunk.consumed == 0 {
            return None;
        }
    }
}

/// The number of complete final (non-1xx) responses in `received`, given
/// the requests sent: lets a waiter stop as soon as it has what it needs.
pub fn complete_finals(sent: &[u8], received: &[u8]) -> usize {
    let t = Transcript {
        sent: sent.to_vec(),
        received: received.to_vec(),
        end: End::Open,
        write_failed: false,
        silence_broken: None,
        half_closed: false,
        await_missed: None,
        quiet_before_close: None,
    };
    observe(&t)
        .responses
        .iter()
        .filter(|r| r.status >= 200 && r.complete)
        .count()
}

/// Parses and validates everything the server sent.
pub fn observe(t: &Transcript) -> Observation {
    observe_with(t, &sent_requests(&t.sent))
}

/// [`observe`] with the requests given: response `i` answers `requests[i]`
/// (the fuzzer passes the reading with the leniencies RFC 9112 allows, so a
/// HEAD a server read past a bare LF still gets a bodiless answer).
pub fn observe_with(t: &Transcript, requests: &[SentRequest]) -> Observation {
    let mut r = Reader {
        t,
        requests,
        responses: Vec::new(),
        findings: Vec::new(),
        garbage: None,
        garbage_at: 0,
        no_status_line: false,
        pos: 0,
        finals: 0,
        after_bodiless: None,
    };
    while r.pos < t.received.len() && r.read_one() {}
    r.close_findings();
    Observation {
        responses: r.responses,
        garbage: r.garbage,
        garbage_at: r.garbage_at,
        end: t.end,
        findings: r.findings,
        no_status_line: r.no_status_line,
    }
}

/// [`observe_with`]'s state while it walks the received bytes, one
/// response at a time.
struct Reader<'a> {
    /// The exchange being read.
    t: &'a Transcript,
    /// The requests sent, in order: response `i` answers `requests[i]`.
    requests: &'a [SentRequest],
    /// The responses read so far.
    responses: Vec<Seen>,
    /// What the validator found so far.
    findings: Vec<Finding>,
    /// The first bytes that are no response, in words.
    garbage: Option<String>,
    /// How many responses came before `garbage`.
    garbage_at: usize,
    /// Whether the unparseable bytes had no status line at all.
    no_status_line: bool,
    /// Where in the received bytes the next response starts.
    pos: usize,
    /// Final (non-1xx) responses read so far: the index of the request the
    /// next response answers.
    finals: usize,
    /// Whether the previous response forbade a body (HEAD, 204, 304), so
    /// stray bytes after it are a leaked body rather than noise.
    after_bodiless: Option<&'static str>,
}

impl Reader<'_> {
    /// Records a finding.
    fn must(&mut self, check: Check, text: String) {
        self.findings.push(Finding::new(check, text))
    }

    /// Records the first bytes that are no response (later ones are not).
    fn mark_garbage(&mut self, what: String) {
        if self.garbage.is_none() {
            self.garbage = Some(what);
            self.garbage_at = self.responses.len();
        }
    }

    /// Reads the response at `pos`, with its checks. False when reading
    /// must stop: what follows is no response.
    fn read_one(&mut self) -> bool {
        let t = self.t;
        let rest = &t.received[self.pos..];
        let request = self.requests.get(self.finals);
        let is_head = request.is_some_and(|r| r.method == b"HEAD");
        let mut headers = [Header::EMPTY; 128];
        let mut parser = ResponseParser::with_limits(RESPONSE_LIMITS).for_head_request(is_head);
        let resp = match parser.parse(rest, &mut headers) {
            Ok(Status::Complete(r)) => r,
            _ if resync(self.after_bodiless, rest).is_some() => {
                self.skip_leaked_body(rest);
                return true;
            }
            Ok(Status::Partial) => {
                self.incomplete_head(rest);
                return false;
            }
            Err(e) => {
                self.unparseable(rest, request.is_some(), e);
                return false;
            }
        };
        let head = resp.head(rest, &headers);
        let fields: Vec<(String, Vec<u8>)> = head
            .headers()
            .map(|(n, v)| (String::from_utf8_lossy(n).to_ascii_lowercase(), v.to_vec()))
            .collect();
        let status = resp.status;
        self.head_checks(&resp, request);
        self.pos += resp.head_len;
        let (body, complete) = self.body(resp.body);
        if !complete && t.end.is_closed() {
            self.must(
                Check::CutShort,
                format!(
                    "{status} response body cut short by the close ({} bytes, framing {:?})",
                    body.len(),
                    resp.body
                ),
            );
        }
        self.after_bodiless = if is_head {
            Some("HEAD")
        } else if status == 204 {
            Some("204")
        } else if status == 304 {
            Some("304")
        } else {
            None
        };
        if status >= 200 {
            self.finals += 1;
        } else {
            self.after_bodiless = None;
        }
        self.responses.push(Seen {
            status,
            headers: fields,
            body,
            complete,
            keep_alive: resp.keep_alive,
            http10: resp.minor == 0,
        });
        true
    }

    /// A body leaked after a bodiless response, and a response follows it:
    /// names the leak and steps over it, so the responses behind it are not
    /// hidden.
    fn skip_leaked_body(&mut self, rest: &[u8]) {
        let (what, leaked) = resync(self.after_bodiless, rest).unwrap_or_default();
        self.must(
            Check::BodyAfterBodiless,
            format!("{leaked} bytes of body after a {what} response (RFC 9112 §6.3 rule 1)"),
        );
        self.mark_garbage(format!("{leaked} bytes of leaked body"));
        self.pos += leaked;
        self.after_bodiless = None;
    }

    /// The exchange ended inside a response head (or inside a body leaked
    /// after a bodiless response).
    fn incomplete_head(&mut self, rest: &[u8]) {
        if let Some(what) = self.after_bodiless.filter(|_| !rest.starts_with(b"HTTP/")) {
            self.must(
                Check::BodyAfterBodiless,
                format!(
                    "{} bytes of body after a {what} response (RFC 9112 §6.3 rule 1)",
                    rest.len()
                ),
            );
        } else {
            self.must(
                Check::Malformed,
                format!(
                    "incomplete response head ({} bytes) when the exchange ended",
                    rest.len()
                ),
            );
        }
        self.mark_garbage(format!("{} bytes of incomplete head", rest.len()));
    }

    /// Bytes that do not parse as a response: a leaked body, an HTTP/0.9
    /// answer, or a malformed response. `answers_request` says whether a
    /// request we sent is still unanswered.
    fn unparseable(&mut self, rest: &[u8], answers_request: bool, e: h1parse::Error) {
        if let Some(what) = self.after_bodiless.filter(|_| !rest.starts_with(b"HTTP/")) {
            self.must(
                Check::BodyAfterBodiless,
                format!(
                    "{} bytes of body after a {what} response (RFC 9112 §6.3 rule 1)",
                    rest.len()
                ),
            );
        } else {
            // Bytes with no status line that answer something we
            // sent that is no HTTP/1.x request (an HTTP/0.9 line
            // gets an HTTP/0.9 answer): the case judges that, not
            // the response check; the fuzzer names it.
            self.no_status_line = !rest.starts_with(b"HTTP/");
            let versionless = self.t.sent.split(|c| *c == b'\n').any(versionless_line);
            let check = if answers_request || rest.starts_with(b"HTTP/") || !versionless {
                Check::Malformed
            } else {
                Check::Http09Answer
            };
            self.must(check, format!("malformed response: {e}"));
        }
        self.mark_garbage(format!("{} unparseable bytes ({e})", rest.len()));
    }

    /// The checks on a response head: Date, and the framing fields a
    /// response (or one to an HTTP/1.0 request) must not carry.
    fn head_checks(&mut self, resp: &Response, request: Option<&SentRequest>) {
        let status = resp.status;
        if (200..500).contains(&status) && !resp.has_date {
            self.must(
                Check::Date,
                format!("{status} response without Date (RFC 9110 §6.6.1)"),
            );
        }
        if (status < 200 || status == 204) && resp.has_content_length {
            self.must(
                Check::ContentLengthOnBodiless,
                format!("Content-Length in a {status} response (RFC 9110 §8.6)"),
            );
        }
        if status >= 200 && resp.has_transfer_encoding && request.is_some_and(|r| r.minor == 0) {
            self.must(
                Check::TransferEncodingToHttp10,
                format!("Transfer-Encoding in a {status} response to an HTTP/1.0 request (RFC 9112 §6.1)"),
            );
        }
        if status < 200 && request.is_some_and(|r| r.minor == 0) {
            self.must(
                Check::InterimToHttp10,
                format!("a {status} interim response to an HTTP/1.0 request (RFC 9110 §15.2)"),
            );
        }
        if (status < 200 || status == 204) && resp.has_transfer_encoding {
            self.must(
                Check::TransferEncodingOnBodiless,
                format!("Transfer-Encoding in a {status} response (RFC 9112 §6.1)"),
            );
        }
    }

    /// The body at `pos`, framed as `kind`, and whether it arrived whole;
    /// moves `pos` past it.
    fn body(&mut self, kind: BodyKind) -> (Vec<u8>, bool) {
        let buf = &self.t.received;
        let body_rest = &buf[self.pos..];
        match kind {
            BodyKind::None => (Vec::new(), true),
            BodyKind::Length(n) => {
                let n = usize::try_from(n).unwrap_or(usize::MAX);
                if body_rest.len() >= n {
                    self.pos += n;
                    (body_rest[..n].to_vec(), true)
                } else {
                    self.pos = buf.len();
                    (body_rest.to_vec(), false)
                }
            }
            BodyKind::Chunked => match decode_chunked(body_rest) {
                Some((data, used)) => {
                    self.pos += used;
                    (data, true)
                }
                None => {
                    self.pos = buf.len();
                    (body_rest.to_vec(), false)
                }
            },
            BodyKind::UntilClose => {
                self.pos = buf.len();
                (body_rest.to_vec(), self.t.end.is_closed())
            }
        }
    }

    /// The checks on how the connection ended after the last response: a
    /// close it did not announce, and an announced close not done.
    fn close_findings(&mut self) {
        let t = self.t;
        let Some(last) = self.responses.last() else {
            return;
        };
        if self.garbage.is_some() || last.status < 200 {
            return;
        }
        let says_close = !last.keep_alive;
        // A client that half-closed has asked for the close.
        // Only a close after everything sent was answered: a close that
        // follows bytes the server did not answer is its refusal of
        // them (RFC 9112 §9.5: a server may close at any time), and says
        // nothing about whether it announces its closes.
        let sent = walk(&t.sent);
        let all_answered = sent.whole && self.finals >= sent.requests.len();
        if t.end.is_closed() && !says_close && all_answered && !t.write_failed && !t.half_closed {
            self.findings.push(Finding::new(
                Check::UnannouncedClose,
                format!(
                    "closed after a {} response that did not say `Connection: close` (RFC 9112 §9.6)",
                    last.status
                ),
            ));
        }
        let close_field = last.headers.iter().any(|(n, v)| {
            n == "connection"
                && v.split(|b| *b == b',')
                    .any(|o| o.trim_ascii().eq_ignore_ascii_case(b"close"))
        });
        // SHOULD-level: a lingering close may hold the FIN back for
        // longer than we wait, while the server drains the request.
        if close_field && t.end == End::Open && !awaits_body(&t.sent) {
            self.findings.push(Finding::new(
                Check::CloseNotDone,
                "sent `Connection: close` but had not closed when we stopped waiting (RFC 9112 §9.6)".into(),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn transcript(sent: &[u8], received: &[u8], end: End) -> Transcript {
        Transcript::plain(sent, received, end)
    }

    #[test]
    fn pipelined_responses_and_head() {
        let sent = b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
        let methods: Vec<Vec<u8>> = sent_requests(sent).into_iter().map(|r| r.method).collect();
        assert_eq!(methods, vec![b"HEAD".to_vec(), b"GET".to_vec()]);
        let got = b"HTTP/1.1 200 OK\r\nDate: x\r\nContent-Length: 3\r\n\r\nHTTP/1.1 200 OK\r\nDate: x\r\nContent-Length: 3\r\n\r\nabc";
        let o = observe(&transcript(sent, got, End::Open));
        assert_eq!(o.words(), "200 200 open");
        assert_eq!(o.findings, vec![]);
        assert_eq!(o.responses[1].body, b"abc");
    }

    #[test]
    fn leaked_head_body_is_a_finding() {
        let sent = b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n";
        let got = b"HTTP/1.1 200 OK\r\nDate: x\r\nContent-Length: 3\r\n\r\nabc";
        let o = observe(&transcript(sent, got, End::Open));
        assert_eq!(o.words(), "200 garbage open");
        assert!(
            o.findings[0].text.contains("after a HEAD"),
            "{:?}",
            o.findings
        );
    }

    #[test]
    fn a_leaked_body_does_not_hide_the_response_behind_it() {
        let sent = b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
        let got = b"HTTP/1.1 200 OK\r\nDate: x\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 200 OK\r\nDate: x\r\nContent-Length: 3\r\n\r\nabc";
        let o = observe(&transcript(sent, got, End::Open));
        assert_eq!(o.words(), "200 garbage 200 open");
        let checks: Vec<Check> = o.findings.iter().map(|f| f.check).collect();
        assert_eq!(checks, vec![Check::BodyAfterBodiless]);
        assert!(
            o.findings[0].text.starts_with("3 bytes"),
            "{:?}",
            o.findings
        );
    }

    #[test]
    fn request_lines_and_versionless_lines() {
        let sent = b"GET / HTTP/1.1\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nXGET /c HTTP/1.1\r\nHost: a\r\n\r\n";
        assert_eq!(request_lines(sent), 2);
        assert_eq!(request_lines(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 1);
        assert_eq!(
            request_lines(
                b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\n\r\n"
            ),
            2
        );
        assert!(versionless_line(b"GET /\r"));
        assert!(!versionless_line(b"GET / HTTP/1.1\r"));
        assert!(!versionless_line(b"34\r"));
    }

    #[test]
    fn a_close_after_bytes_left_unanswered_is_no_unannounced_close() {
        let ok = b"HTTP/1.1 200 OK\r\nDate: x\r\nContent-Length: 0\r\n\r\n";
        // Everything sent was answered, then a silent close: a finding.
        let one = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
        let o = observe(&transcript(one, ok, End::Closed));
        assert!(o
            .findings
            .iter()
            .any(|f| f.check == Check::UnannouncedClose));
        // A bad request after it went unanswered: the close refuses it.
        let more = b"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nBad Field: x\r\n\r\n";
        let o = observe(&transcript(more, ok, End::Closed));
        assert!(
            !o.findings
                .iter()
                .any(|f| f.check == Check::UnannouncedClose),
            "{:?}",
            o.findings
        );
    }

    #[test]
    fn missing_date_and_silent_close() {
        let sent = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
        let got = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
        let o = observe(&transcript(sent, got, End::Closed));
        assert_eq!(o.words(), "200 close");
        let levels: Vec<Level> = o.findings.iter().map(|f| f.level).collect();
        assert_eq!(levels, vec![Level::Must, Level::Should]);
    }

    #[test]
    fn http10_gets_no_chunked_and_no_interim() {
        let sent = b"GET / HTTP/1.0\r\n\r\n";
        let got = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nDate: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
        let o = observe(&transcript(sent, got, End::Closed));
        let texts: Vec<&str> = o.findings.iter().map(|f| f.text.as_str()).collect();
        assert!(
            texts
                .iter()
                .any(|t| t.contains("interim response to an HTTP/1.0")),
            "{texts:?}"
        );
        assert!(
            texts
                .iter()
                .any(|t| t.contains("Transfer-Encoding in a 200 response to an HTTP/1.0")),
            "{texts:?}"
        );
    }

    #[test]
    fn interim_then_final() {
        let sent =
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nExpect: 100-continue\r\n\r\nx";
        let got = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nDate: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n";
        let o = observe(&transcript(sent, got, End::Open));
        assert_eq!(o.words(), "100 200 open");
        assert_eq!(o.responses[1].body, b"ok");
        assert_eq!(complete_finals(sent, got), 1);
    }
}

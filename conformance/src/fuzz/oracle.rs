//! The oracles: what RFC 9112 says the bytes contain (h1parse's strict
//! reading, the reference), and what the server's answers say it read.
//!
//! A server may refuse anything (an error status, then close) and may close
//! after any response; what it may not do is answer more requests than the
//! bytes hold, answer a request that the RFC reads as body or as an
//! unframeable message, answer the canary as something else than when it
//! is sent alone, or wait for bytes that were never part of a message.

use h1parse::{BodyKind, ChunkedDecoder, ErrorKind, Header, RequestParser, Status};

use crate::exchange::End;
use crate::observe::{Observation, Seen};

/// One complete request in the reference reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Req {
    /// Its method.
    pub method: Vec<u8>,
    /// Byte range of the whole message (head and body).
    pub span: std::ops::Range<usize>,
    /// Whether the connection must close after its response (HTTP/1.0
    /// without keep-alive, `Connection: close`, CONNECT).
    pub last: bool,
    /// Its request-target.
    pub target: Vec<u8>,
    /// Its body length (decoded, for chunked).
    pub body_len: u64,
    /// Its minor version (0 for HTTP/1.0).
    pub minor: u8,
}

/// Where the reference reading stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Every byte was read, as whole messages.
    End,
    /// A request ends the connection; the bytes after it are not read.
    Closed,
    /// A message the RFC rejects; `framing` says whether its error makes
    /// the message's length unknowable (after it, nothing can be read).
    Error {
        /// h1parse's error kind.
        kind: ErrorKind,
        /// Offset in the bytes.
        offset: usize,
        /// Whether the error concerns framing (length, line ends, field syntax).
        framing: bool,
        /// Whether it is in a chunked body (else in a head).
        body: bool,
    },
    /// The bytes end inside a message.
    Partial,
}

impl Stop {
    /// Where reading stopped, for people.
    pub fn describe(self) -> String {
        match self {
            Stop::End => "all read".into(),
            Stop::Closed => "the last one asks to close".into(),
            Stop::Error { kind, offset, .. } => {
                format!(
                    "then a message RFC 9112 rejects: {}, byte {offset}",
                    kind.description()
                )
            }
            Stop::Partial => "then an incomplete message".into(),
        }
    }

    /// A short label for signatures.
    pub fn label(self) -> String {
        match self {
            Stop::End => "end".into(),
            Stop::Closed => "close".into(),
            Stop::Error { kind, .. } => format!("{kind:?}"),
            Stop::Partial => "partial".into(),
        }
    }
}

/// The reference reading of the bytes sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    /// The complete requests, in order.
    pub requests: Vec<Req>,
    /// Why reading stopped.
    pub stop: Stop,
    /// Bytes the lenient reading left out (ignored field lines), all
    /// before the canary: offsets after them are this much smaller.
    pub removed: usize,
}

impl Reading {
    /// The requests as the validator pairs them with responses.
    pub fn sent(&self) -> Vec<crate::observe::SentRequest> {
        self.requests
            .iter()
            .map(|q| crate::observe::SentRequest {
                method: q.method.clone(),
                minor: q.minor,
            })
            .collect()
    }

    /// Whether the last request read is the canary, on its own.
    pub fn ends_with_canary(&self, canary_start: usize) -> bool {
        self.requests
            .last()
            .is_some_and(|q| q.span.start + self.removed == canary_start)
    }
}

impl Reading {
    /// The most final responses a conforming server can send: `None` when
    /// the reference cannot say (a non-framing error the server may
    /// tolerate, after which its reading of the rest is its own).
    pub fn max_answers(&self) -> Option<usize> {
        let n = self.requests.len();
        match self.stop {
            Stop::End | Stop::Closed => Some(n),
            Stop::Error { framing: true, .. } | Stop::Partial => Some(n + 1),
            Stop::Error { framing: false, .. } => None,
        }
    }
}

/// Errors after which the length of the message is not knowable, or that
/// servers are known to read two ways (so reading on is the smuggling
/// precondition). The rest (method, target, version, Host, limits, CTLs in
/// a value) leave the framing intact: a server that tolerates them reads
/// the same messages.
pub fn is_framing(kind: ErrorKind) -> bool {
    use ErrorKind::*;
    !matches!(
        kind,
        InvalidMethod
            | InvalidTarget
            | UriTooLong
            | MissingVersion
            | InvalidVersion
            | UnsupportedVersion
            | MissingHost
            | DuplicateHost
            | InvalidHost
            | HeaderSectionTooLarge
            | HeaderLineTooLong
            | TooManyHeaders
            | InvalidHeaderValue
    )
}

/// Reads `bytes` as RFC 9112 does, message after message, rejecting
/// everything it may reject (h1parse's defaults).
pub fn read(bytes: &[u8]) -> Reading {
    read_with(bytes, false, &[])
}

/// Reads `bytes` with the leniencies RFC 9112 allows a server: a bare LF
/// ends a line of the head (§2.2), obs-fold is replaced by spaces (§5.2),
/// and a message with both Content-Length and Transfer-Encoding is framed
/// by Transfer-Encoding, after which the connection must close (§6.3 rule
/// 3). A server may read either way; it may not read a third.
pub fn read_lenient(bytes: &[u8]) -> Reading {
    let mut buf = bytes.to_vec();
    let mut last_at = Vec::new();
    let mut removed = 0;
    for _ in 0..32 {
        let r = read_with(&buf, true, &last_at);
        let start = r.requests.last().map_or(0, |q| q.span.end);
        match r.stop {
            Stop::Error {
                kind: ErrorKind::ObsFold,
                offset,
                ..
            } if offset >= 2
                && offset <= buf.len()
                && buf[offset - 1] == b'\n'
                && !first_field(&buf[start.min(offset)..offset]) =>
            {
                let from = if buf[offset - 2] == b'\r' {
                    offset - 2
                } else {
                    offset - 1
                };
                buf[from..offset].fill(b' ');
            }
            Stop::Error {
                kind: ErrorKind::ContentLengthWithTransferEncoding,
                offset,
                ..
            } if !last_at.contains(&start) => {
                // Hide Content-Length (same length, so offsets hold) and
                // mark the message as the connection's last.
                let head = &buf[start..offset.min(buf.len())];
                let Some(at) = find_field(head, b"content-length") else {
                    return r;
                };
                buf[start + at] = b'X';
                last_at.push(start);
            }
            // A field line h1parse rejects, which a tolerant server skips:
            // read on without it (not an RFC leniency, but the reading
            // under which such a server's answers are coherent).
            Stop::Error {
                kind:
                    ErrorKind::MissingColon
                    | ErrorKind::InvalidHeaderName
                    | ErrorKind::WhitespaceBeforeColon
                    | ErrorKind::BareCr
                    | ErrorKind::InvalidHeaderValue,
                offset,
                body: false,
                ..
            } if offset < buf.len() && buf[start..offset].contains(&b'\n') => {
                let from = buf[..offset]
                    .iter()
                    .rposition(|b| *b == b'\n')
                    .map_or(0, |p| p + 1);
                let to = buf[offset..]
                    .iter()
                    .position(|b| *b == b'\n')
                    .map_or(buf.len(), |p| offset + p + 1);
                if to - from >= buf.len() {
                    return r;
                }
                buf.drain(from..to);
                removed += to - from;
                for l in &mut last_at {
                    if *l > from {
                        *l -= to - from;
                    }
                }
            }
            _ => return Reading { removed, ..r },
        }
    }
    Reading {
        removed,
        ..read_with(&buf, true, &last_at)
    }
}

/// Just past the first empty line of `b` (CRLF or bare LF line ends): where
/// a head a lenient server took ends.
fn head_end(b: &[u8]) -> Option<usize> {
    (0..b.len()).find_map(|i| {
        let w = &b[i..];
        if w.starts_with(b"\n\r\n") {
            Some(i + 3)
        } else if w.starts_with(b"\n\n") {
            Some(i + 2)
        } else {
            None
        }
    })
}

/// Whether the only line before the end of `head` is the request line (so
/// whitespace there starts no fold).
fn first_field(head: &[u8]) -> bool {
    head.iter().filter(|b| **b == b'\n').count() <= 1
}

/// Offset of a field line named `name` (lower case) in `head`.
fn find_field(head: &[u8], name: &[u8]) -> Option<usize> {
    head.windows(name.len() + 1)
        .position(|w| w[0] == b'\n' && w[1..].eq_ignore_ascii_case(name))
        .map(|p| p + 1)
}

fn read_with(bytes: &[u8], bare_lf: bool, last_at: &[usize]) -> Reading {
    let mut requests = Vec::new();
    let mut pos = 0;
    let stop = loop {
        if pos == bytes.len() {
            break Stop::End;
        }
        let buf = &bytes[pos..];
        let mut headers = [Header::EMPTY; 128];
        let req = match RequestParser::new()
            .allow_bare_lf(bare_lf)
            .parse(buf, &mut headers)
        {
            Ok(Status::Complete(r)) => r,
            Ok(Status::Partial) => break Stop::Partial,
            Err(e) => {
                break Stop::Error {
                    kind: e.kind,
                    offset: pos + e.offset,
                    framing: is_framing(e.kind),
                    body: false,
                }
            }
        };
        let method = req.method.get(buf).to_vec();
        let target = req.target.get(buf).to_vec();
        let start = pos;
        let mut body_len = 0u64;
        pos += req.head_len;
        match req.body {
            BodyKind::None | BodyKind::UntilClose => {}
            BodyKind::Length(n) => {
                let n = usize::try_from(n).unwrap_or(usize::MAX);
                if bytes.len() - pos < n {
                    break Stop::Partial;
                }
                pos += n;
                body_len = n as u64;
            }
            BodyKind::Chunked => {
                let mut dec = ChunkedDecoder::new();
                // The decoder's error offsets count from the body's start.
                let body = pos;
                let outcome = loop {
                    match dec.decode(&bytes[pos..]) {
                        Err(e) => {
                            break Err(Stop::Error {
                                kind: e.kind,
                                offset: (body + e.offset).min(bytes.len()),
                                framing: true,
                                body: true,
                            })
                        }
                        Ok(c) => {
                            pos += c.consumed;
                            body_len += c.data.len() as u64;
                            if c.done {
                                break Ok(());
                            }
                            if c.consumed == 0 {
                                break Err(Stop::Partial);
                            }
                        }
                    }
                };
                if let Err(stop) = outcome {
                    break stop;
                }
            }
        }
        let last = !req.keep_alive || last_at.contains(&start);
        requests.push(Req {
            method,
            span: start..pos,
            last,
            target,
            body_len,
            minor: req.minor,
        });
        if last || requests.len() >= 64 {
            break Stop::Closed;
        }
    };
    Reading {
        requests,
        stop,
        removed: 0,
    }
}

/// A finding class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    /// The server's process exited, or it stopped accepting connections.
    Crash,
    /// The server stopped answering a plain GET on a new connection.
    Hang,
    /// A response the validator rejects (framing, bytes after a bodiless response).
    Malformed,
    /// The server read a different number of requests than the bytes hold.
    Desync,
    /// Servers given the same bytes read different numbers of requests.
    Differential,
}

impl Class {
    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Class::Crash => "crash",
            Class::Hang => "hang",
            Class::Malformed => "malformed",
            Class::Desync => "desync",
            Class::Differential => "differential",
        }
    }
}

/// What an oracle found in one exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The class.
    pub class: Class,
    /// What identifies the bug, for de-duplication: class, kind and the
    /// reference's stop (e.g. `desync:extra:ObsFold`).
    pub signature: String,
    /// One sentence for people.
    pub detail: String,
    /// The server's answers could also mean it is slow: judge again on a
    /// connection we do not half-close, waiting the full time.
    pub confirm: bool,
}

/// Final (non-1xx) responses.
pub fn finals(o: &Observation) -> Vec<&Seen> {
    o.responses.iter().filter(|r| r.status >= 200).collect()
}

/// Validator findings that concern message framing (a missing Date or a
/// close without `Connection: close` are conformance failures, not bugs a
/// fuzzer hunts).
fn framing_findings(o: &Observation) -> Vec<&str> {
    use crate::observe::Check;
    o.findings
        .iter()
        .filter(|f| {
            !matches!(
                f.check,
                Check::Date | Check::UnannouncedClose | Check::CloseNotDone
            )
        })
        .map(|f| f.text.as_str())
        .collect()
}

/// Digits out: `12 bytes of body after a HEAD response` and `3 bytes of
/// body after a HEAD response` are one bug.
fn shape(text: &str) -> String {
    let mut out = String::new();
    let mut digits = false;
    for c in text.chars() {
        if c.is_ascii_digit() {
            if !digits {
                out.push('N');
            }
            digits = true;
        } else {
            digits = false;
            out.push(c);
        }
    }
    out
}

/// The canary: where it starts in the bytes sent, and the status it gets
/// when sent alone.
#[derive(Debug, Clone, Copy)]
pub struct Canary {
    /// Offset of its first byte.
    pub start: usize,
    /// Its status when sent alone.
    pub status: u16,
    /// The input ends with an empty line and names no body framing after
    /// the strict reading stopped: a server that tolerates the error reads
    /// the canary next.
    pub tail_clean: bool,
}

impl Canary {
    /// The canary after `input`, as `reading` (the strict one) read them.
    pub fn after(input: &[u8], status: u16, reading: &Reading) -> Canary {
        let from = match reading.stop {
            Stop::Error { offset, .. } => offset.min(input.len()),
            _ => input.len(),
        };
        let rest = input[from..].to_ascii_lowercase();
        let framed = rest.windows(14).any(|w| w == b"content-length")
            || rest.windows(17).any(|w| w == b"transfer-encoding");
        // The first empty line after the error ends the input: nothing
        // lies between the tolerated head and the canary.
        let first_blank = head_end(&rest).map(|end| from + end);
        Canary {
            start: input.len(),
            status,
            tail_clean: first_blank == Some(input.len()) && !framed,
        }
    }
}

/// Judges one exchange against the strict and the lenient reading of
/// what was sent; `half_closed` says we sent FIN after the bytes (the fast
/// path). `Ok(None)`: nothing wrong; `Err(label)`: the server read on past
/// a message RFC 9112 says to reject, coherently (it answered the message
/// and then the canary as when sent alone): a leniency, not a desync.
pub fn judge(
    strict: &Reading,
    lenient: &Reading,
    o: &Observation,
    sent: &[u8],
    canary: Canary,
    half_closed: bool,
) -> Result<Option<Verdict>, String> {
    let answers = finals(o);
    // A 101, or a 2xx to CONNECT, ends HTTP on the connection: what
    // follows is another protocol's, nothing to judge.
    let switched = o.responses.iter().any(|r| r.status == 101)
        || [strict, lenient].iter().any(|rd| {
            rd.requests
                .iter()
                .zip(&answers)
                .any(|(q, r)| q.method == b"CONNECT" && (200..300).contains(&r.status))
        });
    if switched {
        return Ok(None);
    }
    if let Some(v) = malformed(strict, lenient, o, sent, &answers) {
        return Ok(Some(v));
    }
    let m = answers.len();
    let n = strict.requests.len();
    let label = strict.stop.label();
    let desync = |kind: &str, detail: String, confirm: bool| {
        Ok(Some(Verdict {
            class: Class::Desync,
            signature: format!("desync:{kind}:{label}"),
            detail,
            confirm,
        }))
    };
    // A response that announced the close must be the last.
    if let Some(i) = answers[..m.saturating_sub(1)]
        .iter()
        .position(|r| r.has("connection: close"))
    {
        return desync(
            "after-close",
            format!(
                "response {} announced the close, then {} more came",
                i + 1,
                m - i - 1
            ),
            false,
        );
    }
    let max = match (strict.max_answers(), lenient.max_answers()) {
        (Some(a), Some(b)) => Some(a.max(b)),
        _ => None,
    };
    if let Some(max) = max.filter(|max| m > *max) {
        let refused = answers.get(n).is_some_and(|r| refuses(r.status));
        if let Stop::Error {
            kind, offset, body, ..
        } = strict.stop
        {
            // CL+TE: whatever its reading, the server had to close (§6.3 rule 3).
            let cl_te = kind == ErrorKind::ContentLengthWithTransferEncoding;
            let coherent = !cl_te && resumes_coherently(sent, offset, canary, &answers[n + 1..]);
            if coherent && refused {
                return desync(
                    "after-error",
                    format!(
                        "answered {} to a message it cannot frame ({}), then read on instead of closing",
                        answers[n].status,
                        strict.stop.describe()
                    ),
                    false,
                );
            }
            if coherent && (body || body_framing(kind)) {
                return desync(
                    "read-on",
                    format!(
                        "read on past a message whose body cannot be framed ({}): it chose a length RFC 9112 does not give, and answered {} more",
                        strict.stop.describe(),
                        m - n - 1
                    ),
                    false,
                );
            }
            if coherent {
                return Err(label);
            }
        }
        return desync(
            "extra",
            format!(
                "{m} responses, but the bytes hold {n} request(s) ({}; at most {max} answers)",
                strict.stop.describe()
            ),
            false,
        );
    }
    if let Some(v) = canary_check(strict, lenient, &answers, canary) {
        return desync("canary", v, false);
    }
    let whole: Vec<&Reading> = [strict, lenient]
        .into_iter()
        .filter(|r| r.stop == Stop::End)
        .collect();
    let least = whole.iter().map(|r| r.requests.len()).min();
    if let Some(need) = least.filter(|need| m < *need) {
        let refused = answers
            .iter()
            .any(|r| r.status >= 400 || r.has("connection: close"));
        if !refused {
            if o.end == End::Open {
                return desync(
                    "swallowed",
                    format!(
                        "{m} responses to {need} requests, and the server waits for more: it took part of the bytes as a body or head"
                    ),
                    half_closed,
                );
            }
            return desync(
                "dropped",
                format!("{m} responses to {need} requests, then a close without a word"),
                half_closed,
            );
        }
    }
    Ok(None)
}

/// Errors in the framing of a body (not of a head line).
fn body_framing(kind: ErrorKind) -> bool {
    use ErrorKind::*;
    matches!(
        kind,
        InvalidContentLength
            | ConflictingContentLength
            | InvalidTransferEncoding
            | UnsupportedTransferCoding
            | TransferEncodingInHttp10
    )
}

/// Whether the answers after the one to the rejected message are what a
/// server gives that skipped that message up to some line boundary after
/// the error and read the rest as RFC 9112 does: as many answers as that
/// reading has requests, the canary's (if read on its own) as when sent
/// alone. Such a server read on
/// past an error, but it did not take part of a message for a request
/// beyond what it skipped.
fn resumes_coherently(sent: &[u8], from: usize, canary: Canary, after: &[&Seen]) -> bool {
    if canary.start > sent.len() || from > canary.start {
        return false;
    }
    let Some(last) = after.last() else {
        return false;
    };
    if !last.complete {
        return false;
    }
    let starts = sent[from..canary.start]
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .map(|(i, _)| from + i + 1)
        .chain([canary.start]);
    for s in starts {
        let rest = &sent[s..];
        for r in [read(rest), read_lenient(rest)] {
            // The canary, when read on its own, answered as when sent alone.
            let alone = r.ends_with_canary(canary.start - s);
            if r.stop == Stop::End
                && r.requests.len() == after.len()
                && (!alone || last.status == canary.status)
            {
                return true;
            }
            // Or it read on into bytes RFC 9112 rejects too, and refused them.
            if matches!(r.stop, Stop::Error { .. } | Stop::Partial)
                && r.requests.len() + 1 == after.len()
                && refuses(last.status)
            {
                return true;
            }
        }
    }
    false
}

/// Malformed responses, without the noise a fuzzer cannot act on.
fn malformed(
    strict: &Reading,
    lenient: &Reading,
    o: &Observation,
    sent: &[u8],
    answers: &[&Seen],
) -> Option<Verdict> {
    // Responses are paired with the lenient reading's requests (see
    // `observe_with`); past what neither reading has, a body proves nothing.
    if answers.len() > lenient.requests.len().max(strict.requests.len()) + 1 {
        return None;
    }
    let closing_error = o.end.is_closed() && answers.last().is_some_and(|r| r.status >= 400);
    // Where the first message h1parse could not read starts: if it starts
    // with HEAD, a server that read it as a HEAD rightly sent no body.
    // Where each reading stopped: the message no reading could take.
    let unread = [
        strict.requests.last().map_or(0, |q| q.span.end),
        lenient
            .requests
            .last()
            .map_or(0, |q| q.span.end + lenient.removed),
    ];
    let stuck = |at: usize| sent.get(at..).unwrap_or_default().trim_ascii_start();
    let unread_is_head = unread.iter().any(|&at| stuck(at).starts_with(b"HEAD"));
    // A request line without `HTTP/`: a server that speaks HTTP/0.9
    // answers it without a status line.
    let versionless = unread.iter().any(|&at| {
        let b = stuck(at);
        versionless_line(&b[..b.iter().position(|c| *c == b'\n').unwrap_or(b.len())])
    });
    // "HEAD " anywhere in the input: a server that read the
    // bytes otherwise than both readings (a lenient length) may have
    // answered it, rightly without a body, where the validator expects
    // one. That is a desync the other oracles name; "cut short" is not.
    let any_head = sent.windows(5).any(|w| w == b"HEAD ");
    let text = framing_findings(o).into_iter().find(|t| {
        // A HEAD that no reading could take: a server that took it sent
        // no body, which the validator cannot know.
        let head_noise = (closing_error && t.contains("after a HEAD"))
            || unread_is_head
            || (any_head && t.contains("cut short"));
        !head_noise
    })?;
    let text = text.strip_prefix("malformed response: ").unwrap_or(text);
    // A request line without a version answered in HTTP/0.9 (no status
    // line): what follows it looks like garbage, or a body after the
    // response before it.
    let http09 = versionless
        || matches!(
            strict.stop,
            Stop::Error {
                kind: ErrorKind::MissingVersion,
                ..
            }
        );
    // (So is an answer without a status line at all, when any line of the
    // input could be read as an HTTP/0.9 request.)
    let no_status_line =
        text.contains("invalid HTTP version") && sent.split(|c| *c == b'\n').any(versionless_line);
    let (sig, detail) = if (http09 && (o.garbage.is_some() || text.contains("body after")))
        || no_status_line
    {
        (
            "malformed:http09".to_string(),
            "a request line without a version was answered without a status line (an HTTP/0.9 response)".to_string(),
        )
    } else {
        (
            format!("malformed:{}", shape(text)),
            format!("malformed response: {text}"),
        )
    };
    Some(Verdict {
        class: Class::Malformed,
        signature: sig,
        detail,
        confirm: false,
    })
}

/// A request line an HTTP/0.9 server reads as one: a method and a target,
/// and no third word that is a version (`S /HTTP/ ` has none either).
fn versionless_line(line: &[u8]) -> bool {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let words: Vec<&[u8]> = line
        .split(|c| *c == b' ')
        .filter(|w| !w.is_empty())
        .collect();
    !line.is_empty() && words.get(2).is_none_or(|v| !v.starts_with(b"HTTP/"))
}

/// The canary was read alone and answered otherwise than when sent alone.
fn canary_check(
    strict: &Reading,
    lenient: &Reading,
    answers: &[&Seen],
    canary: Canary,
) -> Option<String> {
    let m = answers.len();
    // Where the canary's answer must be, by a reading that ends with it.
    let at = [strict, lenient].into_iter().find_map(|r| {
        let alone = r
            .requests
            .last()
            .is_some_and(|q| q.span.start == canary.start);
        (r.stop == Stop::End && alone).then(|| r.requests.len() - 1)
    });
    let at = at.or({
        // A server that tolerated a non-framing error and read on: the
        // canary is its last answer, if the bytes put nothing between that
        // message's head and the canary.
        match strict.stop {
            Stop::Error { framing: false, .. }
                if canary.tail_clean && m >= strict.requests.len() + 2 =>
            {
                Some(m - 1)
            }
            _ => None,
        }
    })?;
    let r = answers.get(at)?;
    let earlier_refusal = answers[..at]
        .iter()
        .any(|r| r.status >= 400 && !r.keep_alive);
    if r.complete && r.status != canary.status && !earlier_refusal && r.status != 503 {
        return Some(format!(
            "the canary was answered {} (alone: {}): the server read it from another byte",
            r.status, canary.status
        ));
    }
    None
}

/// Statuses that refuse a message (rather than answer it): after one, a
/// server that closes has read nothing more.
fn refuses(status: u16) -> bool {
    matches!(status, 400 | 408 | 411 | 413 | 414 | 417 | 431 | 501 | 505)
}

/// How one server read the bytes: answers before its first refusal,
/// whether it refused one, and whether it still waited for bytes at the end.
fn interpretation(o: &Observation) -> (usize, bool, bool) {
    let answers = finals(o);
    let open = o.end == End::Open;
    match answers.iter().position(|r| refuses(r.status)) {
        Some(i) => (i, true, open),
        None => (answers.len(), false, open),
    }
}

/// The differential oracle: the same bytes, several servers. Refusing is
/// always safe, and so is closing early; what is not:
///
/// * `count`: a server answered fewer messages than another and still
///   waits for more, without refusing anything: it took bytes the other
///   read as requests for part of a message (as a back end behind the
///   other, it would hold them, or prepend them to the next client's
///   request).
/// * `lenient`: the bytes are invalid by RFC 9112 (the strict reading
///   stops at an error or inside a message), one server refuses them, and
///   the other reads on past that message: put in front of a server with
///   yet another reading, it forwards what should have been refused.
///
/// Returns the verdict and the two names.
pub fn differ(
    reading: &Reading,
    names: &[&str],
    seen: &[Observation],
) -> Option<(Verdict, Vec<String>)> {
    let views: Vec<(usize, bool, bool)> = seen.iter().map(interpretation).collect();
    let label = reading.stop.label();
    let invalid = matches!(reading.stop, Stop::Error { .. } | Stop::Partial);
    for a in 0..views.len() {
        for b in 0..views.len() {
            if a == b {
                continue;
            }
            let ((ma, ra, open_a), (mb, rb, _)) = (views[a], views[b]);
            let kind = if !ra && !rb && ma < mb && open_a {
                "count"
            } else if invalid && ra && !rb && ma >= reading.requests.len() && mb > ma + 1 {
                "lenient"
            } else {
                continue;
            };
            let say = |m: usize, r: bool, open: bool| match (r, open) {
                (true, _) => format!("answered {m} then refused one"),
                (false, true) => format!("answered {m} and waited for more"),
                (false, false) => format!("answered {m}"),
            };
            let detail = format!(
                "{}: {}; {}: {} (RFC 9112 reads {} request(s), {})",
                names[a],
                say(ma, ra, open_a),
                names[b],
                say(mb, rb, views[b].2),
                reading.requests.len(),
                reading.stop.describe()
            );
            return Some((
                Verdict {
                    class: Class::Differential,
                    signature: format!("differential:{kind}:{}<{}:{label}", names[a], names[b]),
                    detail,
                    confirm: false,
                },
                vec![names[a].to_string(), names[b].to_string()],
            ));
        }
    }
    None
}

/// `http://host/path?q` → `/path?q` (a proxy forwards origin-form); any
/// scheme counts (nginx forwards `t://t` as `/`).
fn origin_form(target: &[u8]) -> &[u8] {
    let scheme_end = target.windows(3).position(|w| w == b"://");
    let Some(end) = scheme_end.filter(|&e| {
        e > 0
            && target[0].is_ascii_alphabetic()
            && target[..e]
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(b))
    }) else {
        return target;
    };
    let rest = &target[end + 3..];
    match rest.iter().position(|b| *b == b'/' || *b == b'?') {
        Some(p) => &rest[p..],
        None => b"/",
    }
}

/// The proxy oracle: what the origin behind a front end received, against
/// RFC 9112's (lenient) reading of what the client sent. The front end may
/// refuse any message and forward only some; it may not forward a request
/// that no message of the reading starts with (a request hidden in a body:
/// smuggled), change a body's length, or forward bytes that are not HTTP.
pub fn forwarded(
    lenient: &Reading,
    sent: &[u8],
    got: &[super::origin::Received],
    garbage: &[Vec<u8>],
) -> Option<Verdict> {
    let label = lenient.stop.label();
    let verdict = |kind: &str, detail: String| Verdict {
        class: Class::Desync,
        signature: format!("proxy:{kind}:{label}"),
        detail,
        confirm: false,
    };
    if let Some(g) = garbage.first() {
        return Some(verdict(
            "garbage",
            format!(
                "the origin received {} bytes that are not an HTTP/1.1 request: {:?}",
                g.len(),
                String::from_utf8_lossy(&g[..g.len().min(80)])
            ),
        ));
    }
    // The messages a front end may forward: those of the reading, and the
    // one it stopped at (a lenient front end forwards it), by target.
    let mut cands: Vec<(Vec<u8>, Option<u64>)> = lenient
        .requests
        .iter()
        .map(|q| (origin_form(&q.target).to_vec(), Some(q.body_len)))
        .collect();
    if matches!(lenient.stop, Stop::Error { .. } | Stop::Partial) {
        // The stuck message's own target: the second word of its first
        // line (the lenient reading removed no bytes before it that matter
        // for finding the line; search the original bytes from its end).
        let at = lenient
            .requests
            .last()
            .map_or(0, |q| q.span.end + lenient.removed);
        let line = sent.get(at..).unwrap_or_default();
        let line = line.split(|b| *b == b'\n').next().unwrap_or_default();
        if let Some(t) = line.split(|b| *b == b' ').filter(|w| !w.is_empty()).nth(1) {
            cands.push((origin_form(t).to_vec(), None));
        }
        // A front end that tolerated it (a bad target or version, a field
        // it skipped) reads on after its head: what follows is forwardable.
        let rest = sent.get(at..).unwrap_or_default();
        if let Some(end) = head_end(rest) {
            for q in read_lenient(&rest[end..]).requests {
                cands.push((origin_form(&q.target).to_vec(), None));
            }
        }
    }
    // Past a message RFC 9112 rejects there is no reading: a front end
    // that read on may resume at any line after it. A head it tolerated
    // (a bad target or version, a field it skipped) framed by its own
    // Content-Length or chunked body is a leniency, as on the wire; a body
    // whose framing RFC 9112 rejects, read past, is `read-on`.
    let (after, tolerated_head) = match lenient.stop {
        Stop::Error { kind, body, .. } => {
            let at = lenient
                .requests
                .last()
                .map_or(0, |q| q.span.end + lenient.removed);
            let rest = sent.get(at..).unwrap_or_default();
            let lines: Vec<Vec<u8>> = rest
                .split(|b| *b == b'\n')
                .skip(1)
                .filter_map(|l| l.split(|b| *b == b' ').filter(|w| !w.is_empty()).nth(1))
                .map(|t| origin_form(t).to_vec())
                .collect();
            (lines, !body && !body_framing(kind))
        }
        _ => (Vec::new(), false),
    };
    let mut next = 0;
    for (i, r) in got.iter().enumerate() {
        let target = origin_form(&r.target);
        let found = (next..cands.len()).find(|j| cands[*j].0 == target);
        let request = || {
            format!(
                "request {} `{} {}`",
                i + 1,
                String::from_utf8_lossy(&r.method),
                String::from_utf8_lossy(&r.target)
            )
        };
        if found.is_none() && after.iter().any(|t| t[..] == *target) {
            if tolerated_head {
                continue;
            }
            return Some(verdict(
                "read-on",
                format!(
                    "the origin received {}, from after a message RFC 9112 cannot frame ({}): the front end read on past it",
                    request(),
                    lenient.stop.describe()
                ),
            ));
        }
        let Some(j) = found else {
            return Some(verdict(
                "smuggled",
                format!(
                    "the origin received {}, which no message the client sent starts with: the front end took it out of another message",
                    request()
                ),
            ));
        };
        if let Some(len) = cands[j].1.filter(|len| *len != r.body_len) {
            return Some(verdict(
                "body",
                format!(
                    "the origin received `{}` with a {}-byte body; the client sent {len} bytes of body",
                    String::from_utf8_lossy(&r.target),
                    r.body_len
                ),
            ));
        }
        next = j + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn reference_reads_messages_bodies_and_stops() {
        let r = read(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.1\r\nHost: a\r\n\r\n");
        assert_eq!(r.requests.len(), 2);
        assert_eq!(r.stop, Stop::End);
        assert_eq!(r.max_answers(), Some(2));

        let r = read(b"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.0\r\n\r\nGET / HTTP/1.1\r\n\r\n");
        assert_eq!(r.requests.len(), 2);
        assert_eq!(r.stop, Stop::Closed);

        let r = read(b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
        assert!(matches!(
            r.stop,
            Stop::Error {
                kind: ErrorKind::ContentLengthWithTransferEncoding,
                framing: true,
                ..
            }
        ));
        assert_eq!(r.max_answers(), Some(1));

        let r = read(b"GET /a\x7fb HTTP/1.1\r\nHost: a\r\n\r\n");
        assert!(matches!(r.stop, Stop::Error { framing: false, .. }));
        assert_eq!(r.max_answers(), None);

        // The leniencies RFC 9112 allows: bare LF in the head, obs-fold,
        // Transfer-Encoding over Content-Length (then close).
        let r = read_lenient(
            b"GET / HTTP/1.1\nHost: a\nX: b\r\n c\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
        );
        assert_eq!((r.requests.len(), r.stop), (2, Stop::End));
        let r = read_lenient(b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
        assert_eq!((r.requests.len(), r.stop), (1, Stop::Closed));
        assert_eq!(r.requests[0].span, 0..79);

        let r = read(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\n\r\nabc");
        assert_eq!(r.stop, Stop::Partial);
        assert_eq!(r.requests.len(), 0);
    }

    /// The verdict on `input` (then the canary) answered with `received`
    /// and a close, as the fuzzer judges it.
    fn judged(input: &[u8], received: &[u8]) -> Option<String> {
        let canary = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
        let bytes = [input, &canary[..]].concat();
        let (strict, lenient) = (read(&bytes), read_lenient(&bytes));
        let tr = crate::exchange::Transcript {
            sent: bytes.clone(),
            received: received.to_vec(),
            end: End::Closed,
            write_failed: false,
            silence_broken: None,
            half_closed: true,
            await_missed: None,
            quiet_before_close: None,
        };
        let o = crate::observe::observe_with(&tr, &lenient.sent());
        let c = Canary::after(input, 404, &strict);
        judge(&strict, &lenient, &o, &bytes, c, true)
            .ok()
            .flatten()
            .map(|v| v.signature)
    }

    // Found against nginx: two answers an HTTP/0.9-speaking server gives,
    // which were reported under misleading names.
    #[test]
    fn http09_answers_and_bodiless_heads_are_named_for_what_they_are() {
        let page = b"<html>\r\n<head><title>400 Bad Request</title></head>\r\n</html>\r\n";
        // `/HTTP/` is in the target, and no third word is a version.
        assert_eq!(
            judged(b"S /HTTP/ \r\n", page).as_deref(),
            Some("malformed:http09")
        );
        assert_eq!(judged(b"T /\n", page).as_deref(), Some("malformed:http09"));
        // A 505 first, then the HTTP/0.9 answer to the versionless line.
        let after_505 = [
            &b"HTTP/1.1 505 HTTP Version Not Supported\r\nContent-Length: 0\r\n\r\n"[..],
            page,
        ]
        .concat();
        assert_eq!(
            judged(b"T / HTTP/1.10\nHost:l\n\nT /\n", &after_505).as_deref(),
            Some("malformed:http09")
        );
        // nginx read the 1-byte body, then the HEAD, and rightly sent its
        // 400 without a body: not a response "cut short".
        let head_400 = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiHTTP/1.1 400 Bad Request\r\nContent-Length: 157\r\nConnection: close\r\n\r\n";
        let v = judged(
            b"T / HTTP/1.1\nHost:t\nContent-Length:1\n\naHEAD / HTTP/1.1\nHost:\n",
            head_400,
        );
        assert!(
            v.as_deref().is_none_or(|v| !v.contains("cut short")),
            "{v:?}"
        );
        // A response that is cut short with no HEAD in sight still is one.
        let cut = b"HTTP/1.1 200 OK\r\nContent-Length: 20\r\nConnection: close\r\n\r\nshort";
        let v = judged(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n", cut);
        assert!(
            v.as_deref().is_some_and(|v| v.contains("cut short")),
            "{v:?}"
        );
    }

    /// The proxy verdict on `input` (then the canary) when the origin got
    /// `got` (method, target, body length).
    fn proxied(input: &[u8], got: &[(&str, &str, u64)]) -> Option<String> {
        let canary = b"GET /h1spec-canary-404 HTTP/1.1\r\nHost: localhost\r\n\r\n";
        let bytes = [input, &canary[..]].concat();
        let got: Vec<super::super::origin::Received> = got
            .iter()
            .map(|(m, t, n)| super::super::origin::Received {
                method: m.as_bytes().to_vec(),
                target: t.as_bytes().to_vec(),
                body_len: *n,
            })
            .collect();
        forwarded(&read_lenient(&bytes), &bytes, &got, &[]).map(|v| v.signature)
    }

    // Found with nginx as the front end. After a head it tolerated, its
    // own framing decides where the next request starts: a leniency, not
    // smuggling. Past a chunked body RFC 9112 cannot frame, it read on.
    #[test]
    fn proxy_after_a_rejected_message_is_read_on_or_lenient_not_smuggled() {
        // `HTTP/1.1 ` with a trailing space, then Content-Length: 5 takes
        // `0\r\nGE` of the canary: nginx forwarded `T /h1spec-canary-404`.
        let v = proxied(
            b"S / HTTP/1.1 \nHost:t\nContent-Length:5\n\n0\r\n",
            &[("S", "/", 5), ("T", "/h1spec-canary-404", 0)],
        );
        assert_eq!(v, None);
        let v = proxied(
            b"HEAD / HTTP/1.1\nTransfer-Encoding:chunked\nHost:l\n\na\r\nGET /h1spe\r\n27\r\nc-fuzz-smuggled HTTP/1.1\r\nHost: localho\r\n2;\r\nt\r\n4\n\n\r\n\r\n0\n\n",
            &[("HEAD", "/", 52), ("GET", "/h1spec-canary-404", 0)],
        );
        assert_eq!(v.as_deref(), Some("proxy:read-on:InvalidChunkExtension"));
        // A request hidden in a valid body is still smuggled.
        let v = proxied(
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 33\r\n\r\nGET /hidden HTTP/1.1\r\nHost: a\r\n\r\n",
            &[("POST", "/", 33), ("GET", "/hidden", 0)],
        );
        assert_eq!(v.as_deref(), Some("proxy:smuggled:end"));
        // Any scheme is absolute-form, and words may be apart by two spaces.
        assert_eq!(
            proxied(b"T t://t HTTP/1.1 \nHost:l\n\n", &[("GET", "/", 0)]),
            None
        );
        assert_eq!(
            proxied(b"T  / HTTP/1.1\nHost:l\n\n", &[("GET", "/", 0)]),
            None
        );
    }
}

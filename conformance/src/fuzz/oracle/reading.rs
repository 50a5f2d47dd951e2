//! The reference: what RFC 9112 says the bytes hold, message after
//! message (h1parse's strict reading), and the readings it allows a
//! server (the leniencies).

use h1parse::{BodyKind, ChunkedDecoder, ErrorKind, Header, RequestParser, Status};

use crate::observe::SentRequest;

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
    /// Its body is chunked.
    pub chunked: bool,
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
    /// Field lines the lenient reading left out, in the order it did:
    /// where each was (in the bytes as they were then) and its length.
    pub removed: Vec<(usize, usize)>,
    /// The leniencies this reading took, in the order it took them.
    pub used: Vec<Leniency>,
}

impl Reading {
    /// Where offset `pos` of this reading's bytes was in the bytes sent
    /// (the lenient reading leaves lines out).
    pub fn original(&self, pos: usize) -> usize {
        self.removed
            .iter()
            .rev()
            .fold(pos, |p, &(at, len)| if p >= at { p + len } else { p })
    }

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
            .is_some_and(|q| self.original(q.span.start) == canary_start)
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

/// A way a server may read bytes that RFC 9112 (as h1parse reads it)
/// rejects, and how it frames what follows. The lenient reading applies
/// every one of them; a finding stands only when neither the strict nor
/// the lenient reading explains what the server answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Leniency {
    /// A bare LF ends a line of the head.
    BareLf,
    /// obs-fold in a field value is replaced by spaces before the value is
    /// read, whichever error h1parse met first in that head.
    ObsFold,
    /// Content-Length and Transfer-Encoding: chunked frames the body, and
    /// the connection closes after the response.
    TransferEncodingOverContentLength,
    /// A field line that is no valid field line is skipped; the head ends
    /// at its empty line as usual.
    SkippedFieldLine,
    /// A bare CR in the head is read as SP.
    BareCrAsSpace,
    /// Transfer-Encoding whose final coding is chunked, with codings before
    /// it that are unknown or chunked again, is framed by that final
    /// chunked.
    FinalChunked,
    /// A control character other than CR, LF or NUL in a trailer field's
    /// value is kept. (In the head it is not taken: kept in a framing
    /// field such as `Transfer-Encoding: chunked\x0b`, it makes the value
    /// another one, not `chunked`.)
    CtlInFieldValue,
    /// A Connection field that is no list of tokens is ignored: its
    /// `close` is not taken.
    InvalidConnection,
}

impl Leniency {
    /// Every leniency, in table order.
    pub const ALL: [Leniency; 8] = [
        Leniency::BareLf,
        Leniency::ObsFold,
        Leniency::TransferEncodingOverContentLength,
        Leniency::SkippedFieldLine,
        Leniency::BareCrAsSpace,
        Leniency::FinalChunked,
        Leniency::CtlInFieldValue,
        Leniency::InvalidConnection,
    ];

    /// What the server accepts.
    pub fn accepts(self) -> &'static str {
        match self {
            Leniency::BareLf => "LF without CR as the end of a request line or field line",
            Leniency::ObsFold => "a field value continued on a line that starts with SP or HTAB",
            Leniency::TransferEncodingOverContentLength => {
                "both Transfer-Encoding: chunked and Content-Length"
            }
            Leniency::SkippedFieldLine => {
                "a field line without a colon, with an invalid name, a space before the colon, a bare CR or a control character"
            }
            Leniency::BareCrAsSpace => "a CR not followed by LF in the request line or a field line",
            Leniency::FinalChunked => {
                "Transfer-Encoding `x, chunked`, `chunked, chunked`, or such a list over several lines"
            }
            Leniency::CtlInFieldValue => {
                "a control character other than CR, LF or NUL in a trailer field's value"
            }
            Leniency::InvalidConnection => "a Connection field whose value is no list of tokens (`\\x80, close`)",
        }
    }

    /// How it frames what follows.
    pub fn frames(self) -> &'static str {
        match self {
            Leniency::BareLf => "the head ends at an empty line, CRLF or LF",
            Leniency::ObsFold => "by the unfolded fields (a folded Content-Length counts)",
            Leniency::TransferEncodingOverContentLength => {
                "by chunked, Content-Length ignored; then it closes"
            }
            Leniency::SkippedFieldLine => "by the other fields, as if the line were absent",
            Leniency::BareCrAsSpace => "as if the CR were a space (a `Content-Length: 5\\r` is 5)",
            Leniency::FinalChunked => "by the final chunked, as RFC 9112 frames it",
            Leniency::CtlInFieldValue => {
                "as any other trailer field (trailers never frame a message)"
            }
            Leniency::InvalidConnection => "as if the field were absent: the connection persists",
        }
    }

    /// The sentence that allows it (or says it is no RFC leniency).
    pub fn cite(self) -> &'static str {
        match self {
            Leniency::BareLf => "RFC 9112 §2.2: a recipient MAY recognize a single LF as a line terminator",
            Leniency::ObsFold => "RFC 9112 §5.2: a server MUST either reject the message or replace each received obs-fold with one or more SP octets",
            Leniency::TransferEncodingOverContentLength => "RFC 9112 §6.3 rule 3: Transfer-Encoding overrides Content-Length; the server MUST close after responding",
            Leniency::SkippedFieldLine => "none (RFC 9112 §5 says to reject); the reading under which such a server's answers are coherent",
            Leniency::BareCrAsSpace => "RFC 9112 §2.2: a recipient of such a bare CR MUST consider that element to be invalid or replace each bare CR with SP before processing the element",
            Leniency::FinalChunked => "RFC 9112 §6.3 rule 4: if chunked is the final encoding, the length is determined by reading and decoding the chunked data (an unknown coding makes 501 a SHOULD, RFC 9112 §6.1)",
            Leniency::CtlInFieldValue => "RFC 9110 §5.5: field values containing other CTL characters are also invalid; however, recipients MAY retain such characters for the sake of robustness",
            Leniency::InvalidConnection => "RFC 9110 §7.6.1: Connection = #connection-option, connection-option = token; a value that is no such list is invalid, and what it asks is not settled by the bytes",
        }
    }
}

/// The requests responses are paired with: the lenient reading's, and past
/// a head-level error that leaves the framing intact (a missing Host, a bad
/// target or version), the message stuck there (its method) and the
/// lenient reading of what follows its head, as a server that tolerated
/// the error reads on. A HEAD such a server answers then gets a bodiless
/// answer, as it should.
pub fn pairing(bytes: &[u8]) -> Vec<crate::observe::SentRequest> {
    let mut out = Vec::new();
    let mut from = 0;
    for _ in 0..16 {
        let r = read_lenient(&bytes[from..]);
        out.extend(r.sent());
        let Stop::Error { framing: false, .. } = r.stop else {
            break;
        };
        let at = from + r.original(r.requests.last().map_or(0, |q| q.span.end));
        let rest = &bytes[at..];
        let Some(end) = head_end(rest) else {
            break;
        };
        let line = rest.trim_ascii_start();
        let line = &line[..line.iter().position(|b| *b == b'\n').unwrap_or(line.len())];
        let method = line.split(|b| *b == b' ').next().unwrap_or_default();
        // The version is the line's last word (`HTTP/1.0GET / HTTP/1.1`
        // is an HTTP/1.1 line whatever its method).
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let last_word = line.rsplit(|b| *b == b' ').next().unwrap_or_default();
        let minor = u8::from(last_word != b"HTTP/1.0");
        out.push(crate::observe::SentRequest {
            method: method.to_vec(),
            minor,
        });
        from = at + end;
    }
    out
}

/// The server's answers in `tr` to `bytes`, paired with [`pairing`]'s
/// requests. Where that pairing finds a body the responses do not frame
/// (cut short, bytes after a bodiless answer, no status line where one
/// should follow) and the bytes hold a HEAD, the server may have read
/// them a third way and answered that HEAD where the pairing has another
/// request: the pairings that leave out one request after those the
/// strict reading has are tried, and the first whose responses frame
/// cleanly is taken. How many requests the
/// server answered is then for the desync checks to judge, not the
/// validator.
pub fn observe(tr: &crate::exchange::Transcript, bytes: &[u8]) -> crate::observe::Observation {
    use crate::observe::{observe_with, Check};
    let pairs = pairing(bytes);
    let o = observe_with(tr, &pairs);
    let unframed = |o: &crate::observe::Observation| {
        o.findings.iter().any(|f| {
            matches!(
                f.check,
                Check::Malformed | Check::CutShort | Check::BodyAfterBodiless
            )
        })
    };
    if !unframed(&o) {
        return o;
    }
    let lines = line_pairing(bytes);
    if !lines.iter().any(|q| q.method == b"HEAD") {
        return o;
    }
    // The requests the strict reading has before any error: every server
    // reads those as requests, and answers them in order.
    let sure = read(bytes).requests.len();
    // Or every line that looks like a request-line was read as one (a
    // server that framed a body otherwise than both readings).
    let fewer = |p: &[SentRequest], i: usize| {
        let mut p = p.to_vec();
        p.remove(i);
        p
    };
    let alternatives = (sure..pairs.len())
        .map(|i| fewer(&pairs, i))
        .chain(std::iter::once(lines.clone()))
        .chain((sure..lines.len()).map(|i| fewer(&lines, i)));
    alternatives
        .map(|p| observe_with(tr, &p))
        .find(|alt| !unframed(alt))
        .unwrap_or(o)
}

/// `input` with the chunked body of the message before the canary
/// replaced by an empty one (`0` CRLF CRLF), as a reading that ends with
/// the canary frames it; `None` when no reading does, the message is not
/// chunked, or its body is empty already.
pub fn empty_body(input: &[u8], canary: &[u8]) -> Option<Vec<u8>> {
    let all = [input, canary].concat();
    let r = [read(&all), read_lenient(&all)]
        .into_iter()
        .find(|r| r.stop == Stop::End && r.ends_with_canary(input.len()))?;
    let q = r.requests.iter().rev().nth(1).filter(|q| q.chunked)?;
    let start = r.original(q.span.start);
    let head = start + head_end(&input[start..])?;
    let variant = [&input[..head], b"0\r\n\r\n"].concat();
    (variant != input).then_some(variant)
}

/// Every line of `bytes` that looks like a request-line (a method, a
/// target, an `HTTP/` version), as the request it starts.
fn line_pairing(bytes: &[u8]) -> Vec<SentRequest> {
    bytes
        .split(|c| *c == b'\n')
        .filter_map(|line| {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let words: Vec<&[u8]> = line.split(|c| *c == b' ').collect();
            let version = words.last()?.strip_prefix(b"HTTP/")?;
            // A body the server read shorter than both readings may end
            // mid-line: `abcHEAD / HTTP/1.1` starts a HEAD for it.
            let method = if words[0].ends_with(b"HEAD") {
                &b"HEAD"[..]
            } else {
                words[0]
            };
            (words.len() == 3 && words.iter().all(|w| !w.is_empty())).then(|| SentRequest {
                method: method.to_vec(),
                minor: u8::from(version != b"1.0"),
            })
        })
        .collect()
}

/// Reads `bytes` as RFC 9112 does, message after message, rejecting
/// everything it may reject (h1parse's defaults).
pub fn read(bytes: &[u8]) -> Reading {
    read_with(bytes, false, &[], true)
}

/// Reads `bytes` with every [`Leniency`]: a server may read either way (or
/// the strict one); it may not read a third.
pub fn read_lenient(bytes: &[u8]) -> Reading {
    read_lenient_with(bytes, true)
}

/// Reads `bytes` with every [`Leniency`] of the head but a bare LF: how a
/// server that skips, unfolds or reframes but ends lines only at CRLF
/// reads them.
pub fn read_lenient_crlf(bytes: &[u8]) -> Reading {
    read_lenient_with(bytes, false)
}

fn read_lenient_with(bytes: &[u8], bare_lf: bool) -> Reading {
    let mut buf = bytes.to_vec();
    let mut last_at = Vec::new();
    let mut removed = Vec::new();
    let mut used = Vec::new();
    for _ in 0..32 {
        let r = read_with(&buf, bare_lf, &last_at, false);
        let start = r.requests.last().map_or(0, |q| q.span.end);
        let Stop::Error {
            kind, offset, body, ..
        } = r.stop
        else {
            return with_bare_lf(&buf, joined(removed, used, r));
        };
        let step =
            if body && kind == ErrorKind::InvalidHeaderValue && ctl_to_space(&mut buf, offset) {
                Some(Leniency::CtlInFieldValue)
            } else if body {
                None
            } else if unfold(&mut buf, start, offset) {
                Some(Leniency::ObsFold)
            } else if kind == ErrorKind::BareCr && buf.get(offset) == Some(&b'\r') {
                buf[offset] = b' ';
                Some(Leniency::BareCrAsSpace)
            } else if matches!(
                kind,
                ErrorKind::UnsupportedTransferCoding | ErrorKind::InvalidTransferEncoding
            ) && final_chunked(&mut buf, start)
            {
                Some(Leniency::FinalChunked)
            } else if kind == ErrorKind::ContentLengthWithTransferEncoding
                && !last_at.contains(&start)
            {
                // Hide Content-Length (same length, so offsets hold) and mark
                // the message as the connection's last.
                // The whole head: h1parse may stop at either field's line.
                let end = head_end(&buf[start..]).map_or(buf.len(), |e| start + e);
                let head = &buf[start..end.max(offset.min(buf.len()))];
                find_field(head, b"content-length").map(|at| {
                    buf[start + at] = b'X';
                    last_at.push(start);
                    Leniency::TransferEncodingOverContentLength
                })
            } else if skippable(kind) {
                skip_line(&mut buf, start, offset).map(|gone| {
                    removed.push((gone.start, gone.len()));
                    for l in &mut last_at {
                        if *l > gone.start {
                            *l -= gone.len();
                        }
                    }
                    Leniency::SkippedFieldLine
                })
            } else {
                None
            };
        match step {
            Some(l) => {
                if !used.contains(&l) {
                    used.push(l);
                }
            }
            None => return with_bare_lf(&buf, joined(removed, used, r)),
        }
    }
    let r = read_with(&buf, bare_lf, &last_at, false);
    with_bare_lf(&buf, joined(removed, used, r))
}

/// In the head that starts at `start`: if the Transfer-Encoding lines,
/// taken as one list, end with `chunked`, leave only that final `chunked`
/// (earlier lines renamed, earlier elements of the last line blanked, so
/// offsets hold). Whether it did.
fn final_chunked(buf: &mut [u8], start: usize) -> bool {
    let end = head_end(&buf[start..]).map_or(buf.len(), |e| start + e);
    let name = b"transfer-encoding:";
    let mut lines = Vec::new();
    let mut at = start;
    while at < end {
        let stop = buf[at..end]
            .iter()
            .position(|b| *b == b'\n')
            .map_or(end, |p| at + p);
        let line = &buf[at..stop];
        if line.len() >= name.len() && line[..name.len()].eq_ignore_ascii_case(name) {
            lines.push(at..stop);
        }
        at = stop + 1;
    }
    let Some(last) = lines.last().cloned() else {
        return false;
    };
    let value = &buf[last.start + name.len()..last.end];
    let value = value.strip_suffix(b"\r").unwrap_or(value);
    let comma = value.iter().rposition(|b| *b == b',');
    let final_coding = comma.map_or(value, |c| &value[c + 1..]);
    if !final_coding.trim_ascii().eq_ignore_ascii_case(b"chunked") {
        return false;
    }
    if lines.len() == 1 && comma.is_none() {
        return false;
    }
    for l in &lines[..lines.len() - 1] {
        buf[l.start] = b'X';
    }
    if let Some(c) = comma {
        let from = last.start + name.len();
        buf[from..=from + c].fill(b' ');
    }
    true
}

/// In the trailer field line where reading stopped at `offset`: its
/// value's first control character other than HTAB, CR, LF and NUL, made
/// SP (offsets hold; a trailer's value frames nothing). Whether there was
/// one.
fn ctl_to_space(buf: &mut [u8], offset: usize) -> bool {
    let offset = offset.min(buf.len());
    let start = buf[..offset]
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |p| p + 1);
    let end = buf[start..]
        .iter()
        .position(|b| *b == b'\n')
        .map_or(buf.len(), |p| start + p);
    let end = if end > start && buf[end - 1] == b'\r' {
        end - 1
    } else {
        end
    };
    let Some(colon) = buf[start..end].iter().position(|b| *b == b':') else {
        return false;
    };
    let other_ctl = |b: u8| (b < 0x20 || b == 0x7f) && !matches!(b, b'\t' | b'\r' | b'\n' | 0);
    match buf[start + colon + 1..end]
        .iter()
        .position(|b| other_ctl(*b))
    {
        Some(at) => {
            buf[start + colon + 1 + at] = b' ';
            true
        }
        None => false,
    }
}

/// `r` with the lines the lenient reading removed and the leniencies it
/// took before `r`'s own.
fn joined(removed: Vec<(usize, usize)>, mut used: Vec<Leniency>, r: Reading) -> Reading {
    for l in &r.used {
        if !used.contains(l) {
            used.push(*l);
        }
    }
    Reading { removed, used, ..r }
}

/// `r`, with [`Leniency::BareLf`] among those used if a head it read ends a
/// line with LF alone.
fn with_bare_lf(buf: &[u8], mut r: Reading) -> Reading {
    let bare = r.requests.iter().any(|q| {
        let msg = &buf[q.span.clone()];
        let head = &msg[..head_end(msg).unwrap_or(msg.len())];
        head.iter()
            .enumerate()
            .any(|(i, b)| *b == b'\n' && (i == 0 || head[i - 1] != b'\r'))
    });
    if bare && !r.used.contains(&Leniency::BareLf) {
        r.used.insert(0, Leniency::BareLf);
    }
    r
}

/// Replaces every obs-fold in the head that starts at `start` and in which
/// reading stopped at `offset` (the fold may come after the error: a
/// folded `Content-Length:` is an empty value first). Whether it changed
/// anything.
fn unfold(buf: &mut [u8], start: usize, offset: usize) -> bool {
    let end = head_end(&buf[start..]).map_or(buf.len(), |e| start + e);
    if offset > end {
        return false;
    }
    // A line that starts with SP or HTAB after a field line (after the
    // request line it is no fold: RFC 9112 §2.2 has it rejected or ignored).
    let Some(first_lf) = buf[start..end].iter().position(|b| *b == b'\n') else {
        return false;
    };
    let mut changed = false;
    let mut i = start + first_lf + 1;
    while i + 1 < end {
        if buf[i] == b'\n' && matches!(buf[i + 1], b' ' | b'\t') {
            let from = if i > start && buf[i - 1] == b'\r' {
                i - 1
            } else {
                i
            };
            buf[from..=i].fill(b' ');
            changed = true;
        }
        i += 1;
    }
    changed
}

/// Errors of one field line that a tolerant server skips.
fn skippable(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::MissingColon
            | ErrorKind::InvalidHeaderName
            | ErrorKind::WhitespaceBeforeColon
            | ErrorKind::BareCr
            | ErrorKind::InvalidHeaderValue
    )
}

/// Removes the line of `buf` that holds `offset`, if it is a field line of
/// the message that starts at `start`; the range removed.
fn skip_line(buf: &mut Vec<u8>, start: usize, offset: usize) -> Option<std::ops::Range<usize>> {
    if offset >= buf.len() || !buf[start..offset].contains(&b'\n') {
        return None;
    }
    let from = buf[..offset]
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |p| p + 1);
    let to = buf[offset..]
        .iter()
        .position(|b| *b == b'\n')
        .map_or(buf.len(), |p| offset + p + 1);
    if to - from >= buf.len() {
        return None;
    }
    buf.drain(from..to);
    Some(from..to)
}

/// Where a second empty line (CRLF, or LF alone) starts, when `b` begins
/// with two or more.
fn second_empty_line(b: &[u8]) -> Option<usize> {
    let first = if b.starts_with(b"\r\n") {
        2
    } else if b.starts_with(b"\n") {
        1
    } else {
        return None;
    };
    let rest = &b[first..];
    (rest.starts_with(b"\r\n") || rest.starts_with(b"\n")).then_some(first)
}

/// Just past the first empty line of `b` (CRLF or bare LF line ends): where
/// a head a lenient server took ends.
pub(super) fn head_end(b: &[u8]) -> Option<usize> {
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

/// Offset of a field line named `name` (lower case) in `head`.
fn find_field(head: &[u8], name: &[u8]) -> Option<usize> {
    head.windows(name.len() + 1)
        .position(|w| w[0] == b'\n' && w[1..].eq_ignore_ascii_case(name))
        .map(|p| p + 1)
}

/// Reads `bytes` message after message with h1parse, bare LF line ends
/// allowed when `bare_lf`; a request that starts at an offset in
/// `last_at` is the last the connection carries. With `one_empty_line`,
/// a second empty line before a request-line is an error: RFC 9112 §2.2
/// asks a server to ignore at least one, so one that ignores only one
/// may refuse the next (h1parse, and the lenient readings, skip them all).
fn read_with(bytes: &[u8], bare_lf: bool, last_at: &[usize], one_empty_line: bool) -> Reading {
    let mut requests = Vec::new();
    let mut used = Vec::new();
    let mut pos = 0;
    let stop = loop {
        if pos == bytes.len() {
            break Stop::End;
        }
        let buf = &bytes[pos..];
        if let Some(second) = second_empty_line(buf).filter(|_| one_empty_line) {
            break Stop::Error {
                kind: ErrorKind::InvalidMethod,
                offset: pos + second,
                framing: false,
                body: false,
            };
        }
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
        let (end, body_len) = match body(bytes, pos + req.head_len, req.body, bare_lf) {
            Ok(b) => b,
            Err(stop) => break stop,
        };
        pos = end;
        // A Connection field that is no list of tokens (`close, \x80`) may
        // be ignored by a lenient reading: whether it says close is not
        // for the bytes to settle ([`Leniency::InvalidConnection`]).
        let ignored = !one_empty_line
            && req.minor == 1
            && !req.keep_alive
            && req
                .head(buf, &headers)
                .headers()
                .filter(|(n, _)| n.eq_ignore_ascii_case(b"connection"))
                .any(|(_, v)| !token_list(v));
        if ignored {
            used.push(Leniency::InvalidConnection);
        }
        let last = (!req.keep_alive && !ignored) || last_at.contains(&start);
        requests.push(Req {
            method,
            span: start..pos,
            last,
            target,
            body_len,
            minor: req.minor,
            chunked: req.body == BodyKind::Chunked,
        });
        if last || requests.len() >= 64 {
            break Stop::Closed;
        }
    };
    used.dedup();
    Reading {
        requests,
        stop,
        removed: Vec::new(),
        used,
    }
}

/// The body of `kind` that starts at `pos`: where it ends and its decoded
/// length, or where reading stops.
fn body(bytes: &[u8], pos: usize, kind: BodyKind, bare_lf: bool) -> Result<(usize, u64), Stop> {
    match kind {
        BodyKind::None | BodyKind::UntilClose => Ok((pos, 0)),
        BodyKind::Length(n) => {
            let n = usize::try_from(n).unwrap_or(usize::MAX);
            if bytes.len() - pos < n {
                return Err(Stop::Partial);
            }
            Ok((pos + n, n as u64))
        }
        BodyKind::Chunked => chunked_body(bytes, pos, bare_lf),
    }
}

/// Whether `v` is a comma-separated list of tokens (RFC 9110 §5.6.1,
/// §7.6.1: `Connection = #connection-option`), empty elements allowed.
fn token_list(v: &[u8]) -> bool {
    v.split(|b| *b == b',').all(|e| {
        e.trim_ascii()
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(c))
    })
}

/// Decodes the chunked body that starts at `pos`: where it ends and its
/// decoded length, or where reading stops. `bare_lf`: a bare LF that ends
/// the trailer section right after the last chunk ends it (the lenient
/// reading: RFC 9112 §2.2 MAY, trailer fields are fields).
fn chunked_body(bytes: &[u8], mut pos: usize, bare_lf: bool) -> Result<(usize, u64), Stop> {
    let mut dec = ChunkedDecoder::new();
    // The decoder's error offsets count from the body's start.
    let body = pos;
    let mut body_len = 0u64;
    loop {
        match dec.decode(&bytes[pos..]) {
            Err(e)
                if bare_lf
                    && e.kind == ErrorKind::BareLf
                    && ends_with_crlf(&bytes[body..(body + e.offset).min(bytes.len())])
                    && bytes.get(body + e.offset) == Some(&b'\n') =>
            {
                return Ok((body + e.offset + 1, body_len));
            }
            Err(e)
                if bare_lf
                    && e.kind == ErrorKind::BareLf
                    && in_trailer_line(&bytes[body..(body + e.offset).min(bytes.len())])
                    && bytes.get(body + e.offset) == Some(&b'\n') =>
            {
                return trailer_lines(bytes, body + e.offset + 1).map(|end| (end, body_len));
            }
            Err(e) => {
                return Err(Stop::Error {
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
                    return Ok((pos, body_len));
                }
                if c.consumed == 0 {
                    return Err(Stop::Partial);
                }
            }
        }
    }
}

/// Whether the chunked body `b` stops inside a trailer field line: a CRLF
/// would end that line, and another the body.
fn in_trailer_line(b: &[u8]) -> bool {
    !ends_with_crlf(b) && ends_with_crlf(&[b, b"\r\n"].concat())
}

/// The rest of a trailer section from `pos`, lines ended by CRLF or LF
/// alone (the lenient reading: RFC 9112 §2.2 MAY, trailer fields are
/// fields): where it ends, or where a line that is no field line stops
/// it. A control character other than NUL, CR and LF in a value is kept
/// ([`Leniency::CtlInFieldValue`]).
fn trailer_lines(bytes: &[u8], mut pos: usize) -> Result<usize, Stop> {
    let error = |kind, offset| Stop::Error {
        kind,
        offset,
        framing: true,
        body: true,
    };
    loop {
        let Some(nl) = bytes[pos..].iter().position(|b| *b == b'\n') else {
            return Err(Stop::Partial);
        };
        let line = &bytes[pos..pos + nl];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            return Ok(pos + nl + 1);
        }
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            return Err(error(ErrorKind::MissingColon, pos));
        };
        let name_ok = colon > 0
            && line[..colon]
                .iter()
                .all(|c| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(c));
        if !name_ok {
            return Err(error(ErrorKind::InvalidHeaderName, pos));
        }
        if line[colon + 1..].iter().any(|b| matches!(b, 0 | b'\r')) {
            return Err(error(ErrorKind::InvalidHeaderValue, pos));
        }
        pos += nl + 1;
    }
}

/// Whether the chunked body `b` is complete once a CRLF is added: `b`
/// ends with the last chunk (`1*"0"` and its extensions) and any trailer
/// lines, so an LF that follows can only end the trailer section (RFC 9112
/// §7.1). An LF after chunk data cannot: that is the data's CRLF missing.
fn ends_with_crlf(b: &[u8]) -> bool {
    let whole = [b, b"\r\n"].concat();
    let mut dec = ChunkedDecoder::new();
    let mut pos = 0;
    while let Ok(c) = dec.decode(&whole[pos..]) {
        pos += c.consumed;
        if c.done {
            return pos == whole.len();
        }
        if c.consumed == 0 {
            return false;
        }
    }
    false
}

/// Errors in the framing of a body (not of a head line).
pub fn body_framing(kind: ErrorKind) -> bool {
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
}

//! The response writer: status line, reason phrase, `Server` and `Date`,
//! framing (`Content-Length`), persistence (`Connection`), integers, and
//! the short plain-text answers. Every handler (static files, built-ins,
//! uploads, CGI, errors) writes its head through these, into the
//! connection's output buffer, without allocating.

use std::os::fd::OwnedFd;
use std::rc::Rc;

use h1parse::Version;

/// The reason phrase for a status (RFC 9110 §15).
pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        414 => "URI Too Long",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        507 => "Insufficient Storage",
        _ => "Unknown",
    }
}

/// Appends a number in lower-case hex (a chunk size).
pub(crate) fn push_hex(out: &mut Vec<u8>, mut n: u64) {
    let mut tmp = [0u8; 16];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b"0123456789abcdef"[(n % 16) as usize];
        n /= 16;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&tmp[i..]);
}

/// Reads a decimal number: ASCII digits only (no sign, no space), at
/// least one, and no more than fit a `u64`. The one number parser for
/// header values (`Range`, a script's `Status` and `Content-Length`,
/// the fields of a date).
pub(crate) fn parse_decimal(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 19 {
        return None;
    }
    s.iter().try_fold(0u64, |n, &b| {
        b.is_ascii_digit().then(|| n * 10 + u64::from(b - b'0'))
    })
}

/// Appends a decimal number.
pub(crate) fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&tmp[i..]);
}

/// Writes the status line and the headers every response carries.
pub(crate) fn start(out: &mut Vec<u8>, status: u16, date: &[u8; 29]) {
    start_with_reason(out, status, reason(status).as_bytes(), date);
}

/// [`start`] with a reason phrase of the caller's (a CGI script's
/// `Status: 404 Not Here`); the standard one when it is empty or holds a
/// control character (RFC 9112 §4: reason-phrase has none).
pub(crate) fn start_with_reason(out: &mut Vec<u8>, status: u16, phrase: &[u8], date: &[u8; 29]) {
    out.extend_from_slice(b"HTTP/1.1 ");
    push_u64(out, u64::from(status));
    out.push(b' ');
    if phrase.is_empty() || phrase.iter().any(|&b| b < b' ' && b != b'\t') {
        out.extend_from_slice(reason(status).as_bytes());
    } else {
        out.extend_from_slice(phrase);
    }
    out.extend_from_slice(b"\r\nServer: h1serve\r\nDate: ");
    out.extend_from_slice(date);
    out.extend_from_slice(b"\r\n");
}

/// How the response speaks about persistence (RFC 9112 §9.3, §9.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Persist {
    /// HTTP/1.1 default: nothing to say.
    Default,
    /// An HTTP/1.0 client asked for keep-alive and gets it.
    KeepAlive10,
    /// The connection closes after this response.
    Close,
}

impl Persist {
    pub(crate) fn new(keep_alive: bool, version: Version) -> Persist {
        match (keep_alive, version) {
            (false, _) => Persist::Close,
            (true, Version::Http10) => Persist::KeepAlive10,
            (true, Version::Http11) => Persist::Default,
        }
    }
}

/// Writes `Content-Length` (when given), `Connection` and the blank line.
pub(crate) fn finish(out: &mut Vec<u8>, len: Option<u64>, persist: Persist) {
    if let Some(len) = len {
        out.extend_from_slice(b"Content-Length: ");
        push_u64(out, len);
        out.extend_from_slice(b"\r\n");
    }
    match persist {
        Persist::Default => {}
        Persist::KeepAlive10 => out.extend_from_slice(b"Connection: keep-alive\r\n"),
        Persist::Close => out.extend_from_slice(b"Connection: close\r\n"),
    }
    out.extend_from_slice(b"\r\n");
}

/// A short plain-text response: `404 Not Found\n`.
pub(crate) fn simple(
    out: &mut Vec<u8>,
    status: u16,
    date: &[u8; 29],
    persist: Persist,
    head_only: bool,
    extra: &[u8],
) -> u64 {
    start(out, status, date);
    out.extend_from_slice(extra);
    out.extend_from_slice(b"Content-Type: text/plain; charset=utf-8\r\n");
    let reason = reason(status);
    let len = 3 + 1 + reason.len() + 1;
    finish(out, Some(len as u64), persist);
    if head_only {
        return 0;
    }
    push_u64(out, u64::from(status));
    out.push(b' ');
    out.extend_from_slice(reason.as_bytes());
    out.push(b'\n');
    len as u64
}

/// A file body still to be sent with `sendfile`.
#[derive(Debug)]
pub(crate) struct FileBody {
    pub(crate) fd: Rc<OwnedFd>,
    pub(crate) offset: u64,
    pub(crate) remaining: u64,
}

/// What answering one request produced besides the bytes in the buffer.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    /// Body bytes (for the access log).
    pub(crate) body_len: u64,
    /// A large body to send after the buffered bytes.
    pub(crate) file: Option<FileBody>,
    /// The connection closes after this response.
    pub(crate) close: bool,
}

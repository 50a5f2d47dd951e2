//! A small HTTP/1.1 origin server with switchable bugs. In its correct mode
//! it does what the `strict` profile asks (framing by h1parse, errors with
//! the status h1parse names, close after an error, lingering close); each
//! [`Bug`] breaks one rule the way real servers have. The mutation test runs
//! every case against every mode: each case must pass against the correct
//! mode and fail against at least one bug, or it proves nothing.
//!
//! Routes: `GET|HEAD /` (200, with an ETag; `If-None-Match` gives 304),
//! `GET /empty` (204), `POST|PUT /` and `/echo` (200, counts the body),
//! `OPTIONS *` and `OPTIONS /` (200 with `Allow`), other known methods 405,
//! unknown methods 501, other paths 404.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::mock_tls::TlsFront;
use h1parse::{BodyKind, ChunkedDecoder, ErrorKind, Expect, Header, Limits, RequestParser, Status};

/// Largest request body the mock accepts (413 beyond it).
const MAX_BODY: u64 = 1 << 20;
/// How long an idle connection is kept.
const IDLE: Duration = Duration::from_secs(5);
/// How long to read and discard after an error response before closing
/// (RFC 9112 §9.6: a lingering close lets the client read the response).
const LINGER: Duration = Duration::from_millis(300);

macro_rules! bugs {
    ($($(#[doc = $doc:literal])* $name:ident = $text:literal,)*) => {
        /// A way the mock can be wrong.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Bug {
            $($(#[doc = $doc])* $name,)*
        }
        impl Bug {
            /// Every bug.
            pub const ALL: &'static [Bug] = &[$(Bug::$name,)*];
            /// Its command-line name.
            pub fn name(self) -> &'static str {
                match self { $(Bug::$name => $text,)* }
            }
        }
    };
}

bugs! {
    /// Frames bodies as if Content-Length were absent.
    IgnoreContentLength = "ignore-content-length",
    /// Accepts Content-Length with Transfer-Encoding, frames by Content-Length.
    ClOverTe = "cl-over-te",
    /// Accepts Content-Length with Transfer-Encoding, frames by chunked, keeps the connection.
    TeOverClKeepOpen = "te-over-cl-keep-open",
    /// Takes a bare LF as a line end, in heads and chunk framing.
    BareLfAsCrlf = "bare-lf",
    /// Answers malformed requests 200 (a sloppy parser behind the strict one).
    AcceptMalformed = "accept-malformed",
    /// Closes without a response when a request is malformed.
    SilentError = "silent-error",
    /// Answers malformed requests but keeps reading after them.
    KeepOpenAfterError = "keep-open-after-error",
    /// Ignores `Connection: close`.
    IgnoreConnectionClose = "ignore-connection-close",
    /// Closes after every response, without saying so.
    NoKeepAlive = "no-keep-alive",
    /// Keeps HTTP/1.0 connections open, and never says `Connection: keep-alive`.
    Http10Persistent = "http10-persistent",
    /// Matches methods case-insensitively and serves unknown methods like GET.
    LaxMethod = "lax-method",
    /// Frames a chunked body as no body at all.
    IgnoreChunked = "ignore-chunked",
    /// Limits far below RFC 9112's recommended 8000-octet request line.
    SmallLimits = "small-limits",
    /// Sends the body in answer to HEAD.
    HeadBody = "head-body",
    /// Sends a body (and Content-Length) with 204 and 304.
    BodyOn204 = "body-on-204",
    /// Sends no Date.
    NoDate = "no-date",
    /// Treats each read as a whole message.
    FragmentBlind = "fragment-blind",
    /// Drops pipelined requests that arrived with an earlier one.
    NoPipelining = "no-pipelining",
    /// Answers `Expect: 100-continue` with 417.
    Expect417 = "expect-417",
    /// Sends `100 Continue` to HTTP/1.0 clients.
    Continue10 = "continue-to-http10",
    /// Waits for the body before answering `Expect: 100-continue`, never sends 100.
    NoContinue = "no-continue",
    /// Rejects chunk extensions.
    RejectChunkExt = "reject-chunk-ext",
    /// Rejects trailer fields.
    RejectTrailers = "reject-trailers",
    /// No limits on target, head or body size.
    NoLimits = "no-limits",
    /// Rejects a higher HTTP/1.x minor version with 505.
    RejectHigherMinor = "reject-higher-minor",
    /// Rejects requests that start with empty lines.
    RejectLeadingCrlf = "reject-leading-crlf",
    /// Rejects absolute-form targets.
    RejectAbsoluteForm = "reject-absolute-form",
    /// Answers errors with 500 instead of the right 4xx/5xx.
    Error500 = "error-500",
    /// Drops a request that arrives with our FIN (half-close) unanswered.
    HalfCloseDrop = "half-close-drop",
    /// Parses chunk sizes sloppily (junk after digits ignored, overflow wraps).
    LaxChunkSize = "lax-chunk-size",
    /// Accepts obs-fold (a field line starting with whitespace).
    ObsFoldAccept = "obs-fold",
    /// Answers HEAD with a Content-Length one more than GET's body.
    HeadWrongLength = "head-wrong-length",
    /// Answers a request with a non-token method 501, as if it were a valid
    /// method it does not implement.
    InvalidMethod501 = "invalid-method-501",
    /// Answers CONNECT 200 with a Content-Length (a tunnel that is not one).
    Connect200 = "connect-200",
    /// Switches to whatever `Upgrade` names, in HTTP/1.0 too, with a 101 that
    /// has no Upgrade field, then stops speaking HTTP/1.1.
    UpgradeAnything = "upgrade-anything",
    /// Compares If-None-Match with the ETag as one string: no lists, no `*`,
    /// no weak comparison.
    IfNoneMatchExact = "if-none-match-exact",
    /// Answers HTTP/1.0 requests with a chunked body.
    ChunkedToHttp10 = "chunked-to-http10",
    /// Reads Content-Length, chunk sizes and the version's digits as a
    /// language's integer parser does: a `+` sign, `_` between digits, a
    /// `0x` prefix, surrounding whitespace, digits of other scripts.
    LenientNumbers = "lenient-numbers",
    /// Skips the two bytes after chunk data without checking they are CRLF.
    ChunkEndUnchecked = "chunk-end-unchecked",
    /// Ignores `Transfer-Encoding: identity` and frames by Content-Length.
    TeIdentityCl = "te-identity-cl",
    /// Ignores Transfer-Encoding when it comes on more than one line (no
    /// body).
    DuplicateTeIgnored = "duplicate-te-ignored",
    /// Reads no body after a HEAD request, whatever its Content-Length.
    HeadBodyIgnored = "head-body-ignored",
    /// Stops answering anyone, for good, once a chunk size starts with `-`
    /// (as a server stuck in a loop on it).
    HangOnNegativeChunk = "hang-on-negative-chunk",
}

impl std::str::FromStr for Bug {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Bug::ALL
            .iter()
            .copied()
            .find(|b| b.name() == s)
            .ok_or_else(|| format!("unknown bug {s:?}"))
    }
}

/// A running mock; stops when dropped.
pub struct Mock {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
    /// With [`Mock::start_tls`]: the TLS terminator in front, where clients
    /// connect.
    front: Option<TlsFront>,
}

impl Mock {
    /// Starts the mock on `127.0.0.1:0` with these bugs (none: the correct mode).
    pub fn start(bugs: &[Bug]) -> io::Result<Mock> {
        Self::start_on("127.0.0.1:0", bugs)
    }

    /// Starts the mock on `addr`.
    pub fn start_on(addr: &str, bugs: &[Bug]) -> io::Result<Mock> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        // Set by HangOnNegativeChunk: from then on nobody gets an answer.
        let frozen = Arc::new(AtomicBool::new(false));
        let bugs: Arc<Vec<Bug>> = Arc::new(bugs.to_vec());
        let thread = {
            let stop = stop.clone();
            thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    let bugs = bugs.clone();
                    let stop = stop.clone();
                    let frozen = frozen.clone();
                    thread::spawn(move || {
                        let _ = Connection::new(conn, &bugs, stop, frozen).serve();
                    });
                }
            })
        };
        Ok(Mock {
            addr,
            stop,
            thread: Some(thread),
            front: None,
        })
    }

    /// Starts the mock with these bugs behind TLS on `127.0.0.1:0`, with
    /// the certificate chain `chain` and its key (see [`TlsFront`]).
    pub fn start_tls(
        bugs: &[Bug],
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> io::Result<Mock> {
        Self::start_tls_on("127.0.0.1:0", bugs, chain, key)
    }

    /// Starts the mock behind TLS on `listen` (the plain mock itself on a
    /// loopback port of its own).
    pub fn start_tls_on(
        listen: &str,
        bugs: &[Bug],
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> io::Result<Mock> {
        let mut mock = Self::start(bugs)?;
        mock.front = Some(TlsFront::start(listen, mock.addr, chain, key)?);
        Ok(mock)
    }

    /// Where it listens (in front: the TLS terminator's address).
    pub fn addr(&self) -> SocketAddr {
        self.front.as_ref().map_or(self.addr, |f| f.addr())
    }

    /// Serves until the process ends.
    pub fn wait(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        drop(self.front.take());
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A request as the mock understood it.
#[derive(Debug, Clone)]
struct Req {
    method: String,
    target: String,
    minor: u8,
    head_len: usize,
    body: BodyKind,
    /// The client asked to close (or is HTTP/1.0 without keep-alive).
    close: bool,
    /// HTTP/1.0 with `Connection: keep-alive`.
    keep_alive_10: bool,
    expect: Expect,
    if_none_match: Option<String>,
    /// An Upgrade field was sent.
    upgrade: bool,
    /// Parsed by the sloppy parser (bugs only).
    sloppy: bool,
}

enum Parsed {
    Partial,
    Error(u16),
    Request(Req),
}

struct Connection<'a> {
    stream: TcpStream,
    bugs: &'a [Bug],
    stop: Arc<AtomicBool>,
    frozen: Arc<AtomicBool>,
    buf: Vec<u8>,
    peer_closed: bool,
}

impl<'a> Connection<'a> {
    fn new(
        stream: TcpStream,
        bugs: &'a [Bug],
        stop: Arc<AtomicBool>,
        frozen: Arc<AtomicBool>,
    ) -> Self {
        Connection {
            stream,
            bugs,
            stop,
            frozen,
            buf: Vec::new(),
            peer_closed: false,
        }
    }

    fn bug(&self, b: Bug) -> bool {
        self.bugs.contains(&b)
    }

    /// Reads once (polling the stop flag); false on EOF, error or idle timeout.
    fn read_more(&mut self) -> bool {
        if self.peer_closed {
            return false;
        }
        let _ = self
            .stream
            .set_read_timeout(Some(Duration::from_millis(50)));
        let started = Instant::now();
        let mut chunk = [0u8; 16 * 1024];
        loop {
            if self.stop.load(Ordering::Relaxed) || started.elapsed() > IDLE {
                return false;
            }
            match self.stream.read(&mut chunk) {
                Ok(0) => {
                    self.peer_closed = true;
                    return false;
                }
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return true;
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
    }

    fn serve(&mut self) -> io::Result<()> {
        loop {
            if self.frozen.load(Ordering::Relaxed) {
                // Hung: read whatever comes, answer nothing.
                while self.read_more() {}
                return Ok(());
            }
            let parsed = self.parse();
            match parsed {
                Parsed::Partial => {
                    let had = self.buf.len();
                    if !self.read_more() {
                        return Ok(());
                    }
                    if self.bug(Bug::FragmentBlind) && had == 0 {
                        if let Parsed::Partial = self.parse() {
                            return self.error(400);
                        }
                    }
                }
                Parsed::Error(status) => return self.error(status),
                Parsed::Request(req) => {
                    if !self.exchange(req)? {
                        return Ok(());
                    }
                }
            }
        }
    }

    /// Answers one request; false when the connection is done.
    fn exchange(&mut self, mut req: Req) -> io::Result<bool> {
        self.misread(&mut req);
        if req.expect == Expect::Other {
            return self.error(417).map(|_| false);
        }
        let wants_continue = req.expect == Expect::Continue;
        if wants_continue && self.bug(Bug::Expect417) {
            return self.error(417).map(|_| false);
        }
        let Some((body_len, consumed)) = self.read_body(&req, wants_continue)? else {
            return Ok(false);
        };
        if self.drops_on_half_close() {
            return Ok(false);
        }
        // Persistence (RFC 9112 §9.3).
        let mut close = req.close;
        if self.bug(Bug::IgnoreConnectionClose) && req.minor >= 1 {
            close = false;
        }
        if self.bug(Bug::Http10Persistent) && req.minor == 0 {
            close = false;
        }
        let silent_close = self.bug(Bug::NoKeepAlive);
        if req.upgrade && self.bug(Bug::UpgradeAnything) {
            self.stream
                .write_all(b"HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\n\r\n")?;
            return Err(io::Error::other("switched protocols (bug)"));
        }
        let (mut status, extra, body) = route(&req, body_len, self.bug(Bug::IfNoneMatchExact));
        if req.method == "CONNECT" && self.bug(Bug::Connect200) {
            status = 200;
        }
        let out = self.response(&req, status, &extra, &body, close);
        self.buf.drain(..consumed.min(self.buf.len()));
        if self.bug(Bug::NoPipelining) {
            self.buf.clear();
        }
        self.stream.write_all(&out)?;
        if close || silent_close {
            self.linger();
            return Ok(false);
        }
        Ok(true)
    }

    /// Changes `req` as the bugs that misread a parsed request would: a
    /// framing ignored, a method matched loosely.
    fn misread(&self, req: &mut Req) {
        if self.bug(Bug::IgnoreContentLength) {
            if let BodyKind::Length(_) = req.body {
                req.body = BodyKind::None;
            }
        }
        if self.bug(Bug::IgnoreChunked) && req.body == BodyKind::Chunked {
            req.body = BodyKind::None;
        }
        if self.bug(Bug::HeadBodyIgnored) && req.method == "HEAD" {
            req.body = BodyKind::None;
        }
        if self.bug(Bug::LaxMethod) {
            req.method = req.method.to_ascii_uppercase();
            if !matches!(
                req.method.as_str(),
                "GET"
                    | "HEAD"
                    | "POST"
                    | "PUT"
                    | "DELETE"
                    | "OPTIONS"
                    | "TRACE"
                    | "CONNECT"
                    | "PATCH"
            ) {
                req.method = "GET".into();
            }
        }
    }

    /// Reads the request's body (after a 100 Continue, if asked):
    /// `(body length, bytes the request used)`, or `None` when the
    /// connection is done (closed, or an error answered).
    fn read_body(&mut self, req: &Req, wants_continue: bool) -> io::Result<Option<(usize, usize)>> {
        let limited = !self.bug(Bug::NoLimits);
        let body_len;
        let consumed;
        match req.body {
            BodyKind::None | BodyKind::UntilClose => {
                body_len = 0;
                consumed = req.head_len;
            }
            BodyKind::Length(n) => {
                if limited && n > MAX_BODY {
                    return self.error(413).map(|_| None);
                }
                self.continue_if_asked(req, wants_continue)?;
                let n = n as usize;
                while self.buf.len() < req.head_len + n {
                    if !self.read_more() {
                        return Ok(None);
                    }
                }
                body_len = n;
                consumed = req.head_len + n;
            }
            BodyKind::Chunked => {
                self.continue_if_asked(req, wants_continue)?;
                loop {
                    match self.decode_chunked(req) {
                        Ok(Some((n, used))) => {
                            body_len = n;
                            consumed = req.head_len + used;
                            break;
                        }
                        Ok(None) => {
                            if limited && (self.buf.len() - req.head_len) as u64 > MAX_BODY + 4096 {
                                return self.error(413).map(|_| None);
                            }
                            if !self.read_more() {
                                return Ok(None);
                            }
                        }
                        Err(status) => return self.error(status).map(|_| None),
                    }
                }
                if limited && body_len as u64 > MAX_BODY {
                    return self.error(413).map(|_| None);
                }
            }
        }
        Ok(Some((body_len, consumed)))
    }

    /// With [`Bug::HalfCloseDrop`]: whether the client's FIN came with the
    /// request, and the connection was closed without an answer.
    fn drops_on_half_close(&mut self) -> bool {
        if self.bug(Bug::HalfCloseDrop) && self.peer_closed {
            let _ = self.stream.shutdown(Shutdown::Both);
            return true;
        }
        if self.bug(Bug::HalfCloseDrop) {
            // Peek for a FIN that came with the request.
            let _ = self
                .stream
                .set_read_timeout(Some(Duration::from_millis(20)));
            let mut b = [0u8; 1];
            if let Ok(0) = self.stream.peek(&mut b) {
                let _ = self.stream.shutdown(Shutdown::Both);
                return true;
            }
        }
        false
    }

    /// The response to `req`: status line, fields (`extra` among them)
    /// and body, as the bugs bend them; `close` announces the close.
    fn response(&self, req: &Req, status: u16, extra: &str, body: &[u8], close: bool) -> Vec<u8> {
        let head_req = req.method == "HEAD";
        let mut out = Vec::new();
        let mut fields = String::new();
        if !self.bug(Bug::NoDate) {
            fields.push_str(&format!("Date: {}\r\n", http_date(SystemTime::now())));
        }
        fields.push_str("Server: h1spec-mock\r\n");
        fields.push_str(extra);
        let bodiless_status = status == 204 || status == 304;
        let mut send_body = !head_req && !bodiless_status;
        if bodiless_status && self.bug(Bug::BodyOn204) {
            fields.push_str("Content-Length: 4\r\n");
            send_body = true;
        } else if !bodiless_status && req.minor == 0 && self.bug(Bug::ChunkedToHttp10) {
            fields.push_str("Transfer-Encoding: chunked\r\n");
        } else if !bodiless_status {
            let wrong = usize::from(head_req && self.bug(Bug::HeadWrongLength));
            fields.push_str(&format!("Content-Length: {}\r\n", body.len() + wrong));
        }
        if head_req && self.bug(Bug::HeadBody) {
            send_body = true;
        }
        if close {
            fields.push_str("Connection: close\r\n");
        } else if req.minor == 0 && req.keep_alive_10 && !self.bug(Bug::Http10Persistent) {
            fields.push_str("Connection: keep-alive\r\n");
        }
        out.extend_from_slice(
            format!("HTTP/1.1 {status} {}\r\n{fields}\r\n", reason(status)).as_bytes(),
        );
        if send_body {
            if bodiless_status {
                out.extend_from_slice(b"oops");
            } else if req.minor == 0 && self.bug(Bug::ChunkedToHttp10) {
                if !body.is_empty() {
                    out.extend_from_slice(format!("{:x}\r\n", body.len()).as_bytes());
                    out.extend_from_slice(body);
                    out.extend_from_slice(b"\r\n");
                }
                out.extend_from_slice(b"0\r\n\r\n");
            } else {
                out.extend_from_slice(body);
            }
        }
        out
    }

    fn continue_if_asked(&mut self, req: &Req, wants: bool) -> io::Result<()> {
        // RFC 9110 §10.1.1: a 100-continue expectation in an HTTP/1.0
        // request MUST be ignored; §15.2: no 1xx to an HTTP/1.0 client.
        let to_10 = req.minor == 0 && !self.bug(Bug::Continue10);
        if wants && !to_10 && !self.bug(Bug::NoContinue) && self.buf.len() == req.head_len {
            self.stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        }
        Ok(())
    }

    /// Decodes the chunked body after the head: `(data length, bytes used)`,
    /// `None` for more input, or the error status.
    fn decode_chunked(&self, req: &Req) -> Result<Option<(usize, usize)>, u16> {
        let input = &self.buf[req.head_len..];
        if self.bug(Bug::HangOnNegativeChunk) && input.starts_with(b"-") {
            self.frozen.store(true, Ordering::Relaxed);
            return Ok(None);
        }
        let how = ChunkLax {
            numbers: self.bug(Bug::LenientNumbers),
            skip_two: self.bug(Bug::ChunkEndUnchecked),
        };
        let lax = req.sloppy
            || self.bug(Bug::BareLfAsCrlf)
            || self.bug(Bug::AcceptMalformed)
            || self.bug(Bug::LaxChunkSize)
            || how.numbers
            || how.skip_two;
        if self.bug(Bug::RejectChunkExt) {
            if let Some(line_end) = input.iter().position(|b| *b == b'\n') {
                if input[..line_end].contains(&b';') {
                    return Err(400);
                }
            }
        }
        let limit = if self.bug(Bug::NoLimits) {
            u64::MAX
        } else {
            MAX_BODY
        };
        match strict_chunked(input, self.bug(Bug::RejectTrailers), limit) {
            Ok(r) => Ok(r),
            Err(_) if lax => Ok(sloppy_chunked(input, how)),
            Err(status) => Err(status),
        }
    }

    /// Parses the request at the start of the buffer as h1parse does (with
    /// the limits the bugs set), or, where a bug tolerates the error, as
    /// the sloppy parser does.
    fn parse(&self) -> Parsed {
        if self.buf.is_empty() {
            return Parsed::Partial;
        }
        if self.bug(Bug::RejectLeadingCrlf) && (self.buf[0] == b'\r' || self.buf[0] == b'\n') {
            return Parsed::Error(400);
        }
        let limits = self.limits();
        let slots = if self.bug(Bug::NoLimits) { 10_000 } else { 100 };
        let mut headers = vec![Header::EMPTY; slots];
        let result = RequestParser::with_limits(limits).parse(&self.buf, &mut headers);
        let kind = match result {
            Ok(Status::Partial) => return Parsed::Partial,
            Ok(Status::Complete(r)) => return self.request(r, &headers),
            Err(e) => e.kind,
        };
        self.misparse(kind)
    }

    /// h1parse's limits: its defaults, or what [`Bug::NoLimits`] and
    /// [`Bug::SmallLimits`] make of them.
    fn limits(&self) -> Limits {
        if self.bug(Bug::NoLimits) {
            Limits {
                max_head: 1 << 24,
                max_uri: 1 << 24,
                max_header_line: 1 << 24,
            }
        } else if self.bug(Bug::SmallLimits) {
            Limits {
                max_head: 4096,
                max_uri: 1024,
                max_header_line: 1024,
            }
        } else {
            Limits::DEFAULT
        }
    }

    /// The request h1parse read (`r`, its fields in `headers`), as the
    /// mock understands it, or the error a bug rejects it with.
    fn request(&self, r: h1parse::Request, headers: &[Header]) -> Parsed {
        let head = r.head(&self.buf, headers);
        let target = String::from_utf8_lossy(head.target()).into_owned();
        if self.bug(Bug::RejectAbsoluteForm) && !target.starts_with('/') && target != "*" {
            return Parsed::Error(400);
        }
        if self.bug(Bug::RejectHigherMinor) && r.minor > 1 {
            return Parsed::Error(505);
        }
        let body = if self.bug(Bug::DuplicateTeIgnored)
            && field_lines(&self.buf[..r.head_len], b"transfer-encoding") > 1
        {
            BodyKind::None
        } else {
            r.body
        };
        Parsed::Request(Req {
            method: String::from_utf8_lossy(head.method()).into_owned(),
            target,
            minor: r.minor,
            head_len: r.head_len,
            body,
            close: !r.keep_alive,
            keep_alive_10: r.minor == 0 && r.keep_alive,
            // h1parse drops a 100-continue expectation in HTTP/1.0 (RFC 9110
            // §10.1.1); the Continue10 bug needs to see it anyway.
            expect: if r.minor == 0
                && self.bug(Bug::Continue10)
                && head
                    .header("expect")
                    .is_some_and(|v| v.eq_ignore_ascii_case(b"100-continue"))
            {
                Expect::Continue
            } else {
                r.expect
            },
            if_none_match: head
                .header("if-none-match")
                .map(|v| String::from_utf8_lossy(v).into_owned()),
            upgrade: head.header("upgrade").is_some(),
            sloppy: false,
        })
    }

    /// What the mock makes of a request h1parse rejected with `kind`: the
    /// sloppy parser's reading where a bug tolerates the error, else the
    /// error's status (or the wrong one a bug gives).
    fn misparse(&self, kind: ErrorKind) -> Parsed {
        let numbers = self.bug(Bug::LenientNumbers);
        let sloppy =
            |lf_ok: bool, cl_wins: bool| match sloppy_parse(&self.buf, lf_ok, cl_wins, numbers) {
                Some(r) => Parsed::Request(r),
                None => Parsed::Partial,
            };
        if numbers
            && matches!(
                kind,
                ErrorKind::InvalidContentLength | ErrorKind::InvalidVersion
            )
        {
            return sloppy(false, false);
        }
        let head = &self.buf[..find(&self.buf, b"\r\n\r\n").unwrap_or(self.buf.len())];
        let te_error = matches!(
            kind,
            ErrorKind::ContentLengthWithTransferEncoding
                | ErrorKind::UnsupportedTransferCoding
                | ErrorKind::InvalidTransferEncoding
        );
        if te_error
            && self.bug(Bug::TeIdentityCl)
            && head
                .to_ascii_lowercase()
                .windows(27)
                .any(|w| w == b"transfer-encoding: identity")
        {
            return sloppy(false, false);
        }
        if self.bug(Bug::DuplicateTeIgnored) && field_lines(head, b"transfer-encoding") > 1 {
            if let Parsed::Request(mut r) = sloppy(false, false) {
                r.body = BodyKind::None;
                return Parsed::Request(r);
            }
        }
        let cl_te = kind == ErrorKind::ContentLengthWithTransferEncoding;
        if self.bug(Bug::AcceptMalformed) && !matches!(kind, ErrorKind::UriTooLong) {
            return sloppy(true, false);
        }
        if cl_te && self.bug(Bug::ClOverTe) {
            return sloppy(false, true);
        }
        if cl_te && self.bug(Bug::TeOverClKeepOpen) {
            return sloppy(false, false);
        }
        if kind == ErrorKind::BareLf && self.bug(Bug::BareLfAsCrlf) {
            return sloppy(true, false);
        }
        if kind == ErrorKind::ObsFold && self.bug(Bug::ObsFoldAccept) {
            return sloppy(false, false);
        }
        if kind == ErrorKind::InvalidMethod && self.bug(Bug::InvalidMethod501) {
            return Parsed::Error(501);
        }
        Parsed::Error(h1parse::Error { kind, offset: 0 }.status())
    }

    /// Answers an error, then closes (or misbehaves as told).
    fn error(&mut self, status: u16) -> io::Result<()> {
        if self.bug(Bug::SilentError) {
            self.linger();
            return Ok(());
        }
        let status = if self.bug(Bug::Error500) { 500 } else { status };
        let keep = self.bug(Bug::KeepOpenAfterError);
        let date = if self.bug(Bug::NoDate) {
            String::new()
        } else {
            format!("Date: {}\r\n", http_date(SystemTime::now()))
        };
        let conn = if keep { "" } else { "Connection: close\r\n" };
        let body = format!("{status} {}\n", reason(status));
        let resp = format!(
            "HTTP/1.1 {status} {}\r\n{date}Server: h1spec-mock\r\nContent-Length: {}\r\n{conn}\r\n{body}",
            reason(status),
            body.len()
        );
        self.stream.write_all(resp.as_bytes())?;
        if keep {
            // Skip past the bad head and carry on: the desync real servers had.
            let end = find(&self.buf, b"\r\n\r\n").map_or(self.buf.len(), |p| p + 4);
            self.buf.drain(..end);
            return self.serve();
        }
        self.linger();
        Ok(())
    }

    /// Shut down our side, then read and discard for a while.
    fn linger(&mut self) {
        let _ = self.stream.shutdown(Shutdown::Write);
        let _ = self
            .stream
            .set_read_timeout(Some(Duration::from_millis(50)));
        let started = Instant::now();
        let mut sink = [0u8; 4096];
        while started.elapsed() < LINGER {
            match self.stream.read(&mut sink) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => break,
            }
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The mock's routes: status, extra fields, body.
fn route(req: &Req, body_len: usize, inm_exact: bool) -> (u16, String, Vec<u8>) {
    const ETAG: &str = "\"h1spec-mock-1\"";
    // If-None-Match (RFC 9110 §13.1.2): `*`, or a list of entity-tags any of
    // which matches by weak comparison (W/ ignored).
    let not_modified = req.if_none_match.as_deref().is_some_and(|v| {
        if inm_exact {
            return v == ETAG;
        }
        v.trim() == "*"
            || v.split(',')
                .any(|t| t.trim().trim_start_matches("W/") == ETAG)
    });
    let path = if let Some(rest) = req.target.split_once("://").map(|(_, r)| r) {
        rest.find('/').map_or("/", |i| &rest[i..]).to_string()
    } else {
        req.target.clone()
    };
    let path = path.split('?').next().unwrap_or("").to_string();
    let root = path == "/" || path == "/index.html";
    match req.method.as_str() {
        "GET" | "HEAD" if root => {
            if not_modified {
                (304, format!("ETag: {ETAG}\r\n"), Vec::new())
            } else {
                (
                    200,
                    format!("ETag: {ETAG}\r\nContent-Type: text/plain\r\n"),
                    b"h1spec mock server\n".to_vec(),
                )
            }
        }
        "GET" | "HEAD" if path == "/empty" => (204, String::new(), Vec::new()),
        "POST" | "PUT" if root || path == "/echo" => (
            200,
            "Content-Type: text/plain\r\n".into(),
            format!("received {body_len} bytes\n").into_bytes(),
        ),
        "OPTIONS" if path == "*" || root => (
            200,
            "Allow: GET, HEAD, POST, PUT, OPTIONS\r\n".into(),
            Vec::new(),
        ),
        _ if !root && path != "/echo" && path != "/empty" => {
            (404, String::new(), b"not found\n".to_vec())
        }
        "GET" | "HEAD" | "POST" | "PUT" | "DELETE" | "OPTIONS" | "TRACE" | "CONNECT" | "PATCH" => (
            405,
            "Allow: GET, HEAD, POST, PUT, OPTIONS\r\n".into(),
            b"method not allowed\n".to_vec(),
        ),
        _ => (501, String::new(), b"not implemented\n".to_vec()),
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        204 => "No Content",
        304 => "Not Modified",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Content Too Large",
        414 => "URI Too Long",
        417 => "Expectation Failed",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        505 => "HTTP Version Not Supported",
        _ => "Status",
    }
}

/// Strict chunked decoding with h1parse: `(data length, bytes used)` or `None` for more.
fn strict_chunked(
    input: &[u8],
    reject_trailers: bool,
    limit: u64,
) -> Result<Option<(usize, usize)>, u16> {
    let mut dec = ChunkedDecoder::new();
    let mut pos = 0;
    let mut data = 0;
    loop {
        let chunk = dec.decode(&input[pos..]).map_err(|e| e.status())?;
        data += chunk.data.len();
        let before = pos;
        pos += chunk.consumed;
        if chunk.done {
            if reject_trailers {
                // A last chunk followed by anything but the empty line had trailers.
                let tail = &input[..pos];
                if !tail.ends_with(b"0\r\n\r\n") {
                    return Err(400);
                }
            }
            return Ok(Some((data, pos)));
        }
        if dec.remaining_in_chunk() > limit {
            return Err(413);
        }
        if pos == before {
            return Ok(None);
        }
    }
}

/// What else a careless chunked decoder does (see [`Bug::LenientNumbers`]
/// and [`Bug::ChunkEndUnchecked`]).
#[derive(Debug, Clone, Copy, Default)]
struct ChunkLax {
    numbers: bool,
    skip_two: bool,
}

/// A number as a language's integer parser reads it: surrounding
/// whitespace, a `+` sign, `_` between digits, a `0x` prefix, and decimal
/// digits of other scripts (ARABIC-INDIC and EXTENDED ARABIC-INDIC).
fn lenient_int(s: &str, radix: u32) -> Option<u64> {
    let s = s.trim();
    let s = s.strip_prefix('+').unwrap_or(s);
    let (s, radix) = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(rest) => (rest, 16),
        None => (s, radix),
    };
    let mut n: u64 = 0;
    let mut any = false;
    for c in s.chars() {
        let d = match c as u32 {
            0x5f => continue,
            0x660..=0x669 => c as u32 - 0x660,
            0x6f0..=0x6f9 => c as u32 - 0x6f0,
            _ => c.to_digit(radix)?,
        };
        n = n.checked_mul(u64::from(radix))?.checked_add(u64::from(d))?;
        any = true;
    }
    any.then_some(n)
}

/// How many field lines named `name` (lower case) `head` has.
fn field_lines(head: &[u8], name: &[u8]) -> usize {
    head.split(|b| *b == b'\n')
        .filter(|l| {
            l.len() > name.len()
                && l[..name.len()].eq_ignore_ascii_case(name)
                && l[name.len()] == b':'
        })
        .count()
}

/// What a careless implementation does: hex digits up to the first non-hex
/// byte, wrapping on overflow, lines ended by LF alone, trailers skipped.
fn sloppy_chunked(input: &[u8], how: ChunkLax) -> Option<(usize, usize)> {
    let mut pos = 0;
    let mut data = 0usize;
    let line_end = |from: usize| {
        input[from..]
            .iter()
            .position(|b| *b == b'\n')
            .map(|i| from + i)
    };
    loop {
        let eol = line_end(pos)?;
        let mut size: u64 = 0;
        if how.numbers {
            let line = String::from_utf8_lossy(&input[pos..eol]);
            let digits = line.trim_end_matches('\r').split(';').next().unwrap_or("");
            size = lenient_int(digits, 16).unwrap_or(0);
        } else {
            for b in &input[pos..eol] {
                match (*b as char).to_digit(16) {
                    Some(d) => size = size.wrapping_mul(16).wrapping_add(u64::from(d)),
                    None => break,
                }
            }
        }
        pos = eol + 1;
        if size == 0 {
            // Trailers until an empty line.
            loop {
                let eol = line_end(pos)?;
                let empty = input[pos..eol].iter().all(|b| *b == b'\r');
                pos = eol + 1;
                if empty {
                    return Some((data, pos));
                }
            }
        }
        let size = usize::try_from(size).ok()?;
        if input.len() < pos.checked_add(size)? {
            return None;
        }
        pos += size;
        data += size;
        if how.skip_two {
            if input.len() < pos + 2 {
                return None;
            }
            pos += 2;
        } else {
            let eol = line_end(pos)?;
            pos = eol + 1;
        }
    }
}

/// A permissive head parser: what a server that "just splits on colons" does.
fn sloppy_parse(buf: &[u8], lf_ok: bool, cl_wins: bool, numbers: bool) -> Option<Req> {
    let mut start = 0;
    while start < buf.len() && (buf[start] == b'\r' || buf[start] == b'\n') {
        start += 1;
    }
    let buf_from = &buf[start..];
    let crlf = find(buf_from, b"\r\n\r\n").map(|p| p + 4);
    let lf = if lf_ok {
        find(buf_from, b"\n\n").map(|p| p + 2)
    } else {
        None
    };
    let end = match (crlf, lf) {
        (Some(a), Some(b)) => a.min(b),
        (a, b) => a.or(b)?,
    };
    let head = String::from_utf8_lossy(&buf_from[..end]).into_owned();
    let mut lines = head.split('\n').map(|l| l.trim_end_matches('\r'));
    let line = lines.next()?;
    let mut words = line.split_whitespace();
    let method = words.next().unwrap_or("GET").to_string();
    let target = words.next().unwrap_or("/").to_string();
    let minor = if words.next() == Some("HTTP/1.0") {
        0
    } else {
        1
    };
    let mut cl = None;
    let mut chunked = false;
    let mut close = false;
    let mut keep_alive = false;
    let mut expect = Expect::None;
    let mut if_none_match = None;
    for l in lines {
        let Some((name, value)) = l.split_once(':') else {
            continue;
        };
        let name = name.trim().to_ascii_lowercase();
        let value = value.trim();
        match name.as_str() {
            "content-length" if cl.is_none() && numbers => {
                cl = Some(lenient_int(value, 10).unwrap_or(0));
            }
            "content-length" if cl.is_none() => {
                let digits: String = value.chars().take_while(|c| c.is_ascii_digit()).collect();
                cl = Some(digits.parse::<u64>().unwrap_or(0));
            }
            "transfer-encoding" => chunked |= value.to_ascii_lowercase().contains("chunked"),
            "connection" => {
                let v = value.to_ascii_lowercase();
                close |= v.contains("close");
                keep_alive |= v.contains("keep-alive");
            }
            "expect" if value.eq_ignore_ascii_case("100-continue") => expect = Expect::Continue,
            "if-none-match" => if_none_match = Some(value.to_string()),
            _ => {}
        }
    }
    let body = match (cl, chunked) {
        (Some(n), true) if cl_wins => BodyKind::Length(n),
        (_, true) => BodyKind::Chunked,
        (Some(n), false) => BodyKind::Length(n),
        (None, false) => BodyKind::None,
    };
    Some(Req {
        method,
        target,
        minor,
        head_len: start + end,
        body,
        close: close || (minor == 0 && !keep_alive),
        keep_alive_10: minor == 0 && keep_alive,
        expect,
        if_none_match,
        upgrade: false,
        sloppy: true,
    })
}

/// An IMF-fixdate (RFC 9110 §5.6.7), e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
pub fn http_date(t: SystemTime) -> String {
    httpdate::fmt_http_date(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use std::time::UNIX_EPOCH;

    #[test]
    fn imf_fixdate() {
        assert_eq!(
            http_date(UNIX_EPOCH + Duration::from_secs(784_111_777)),
            "Sun, 06 Nov 1994 08:49:37 GMT"
        );
    }

    #[test]
    fn sloppy_chunks() {
        let plain = ChunkLax::default();
        assert_eq!(sloppy_chunked(b"3\nabc\n0\n\nX", plain), Some((3, 9)));
        assert_eq!(sloppy_chunked(b"3\r\nab", plain), None);
        let numbers = ChunkLax {
            numbers: true,
            ..plain
        };
        assert_eq!(
            sloppy_chunked("+\u{665}\r\nhello\r\n0\r\n\r\n".as_bytes(), numbers),
            Some((5, 17))
        );
        let skip = ChunkLax {
            skip_two: true,
            ..plain
        };
        assert_eq!(
            sloppy_chunked(b"5\r\nhelloXX0\r\n\r\n", skip),
            Some((5, 15))
        );
    }

    #[test]
    fn lenient_numbers_read_what_language_parsers_read() {
        assert_eq!(lenient_int(" +1_0 ", 10), Some(10));
        assert_eq!(lenient_int("0x1f", 10), Some(31));
        assert_eq!(lenient_int("\u{661}\u{665}", 10), Some(15));
        assert_eq!(lenient_int("-5", 10), None);
        assert_eq!(lenient_int("", 10), None);
    }
}

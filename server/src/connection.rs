//! One client connection: an explicit state machine driven by readiness
//! events and timers. Only this module changes a connection; the worker
//! calls [`Connection::drive`], [`Connection::enqueue`] and
//! [`Connection::fire`].
//!
//! ```text
//!           ┌──────────── answered, input empty ◄───────────────┐
//!           ▼                                                    │
//!   Idle ──bytes──► Head ──head──► route ──► Body ──► finish ──►│
//!                     ▲                        (handler)   │     │
//!                     │                                    ▼     │
//!                     └── answered, more input ◄──────  Respond ─┘
//!                                                   (script, commit)
//!   any error, or a response that closes ──► Closing ──flushed──► Linger
//! ```
//!
//! The states are [`State`]; the request in `Body` and `Respond` is a
//! [`Job`] (its handler, see `handler.rs`). Output is orthogonal to the
//! state: every request already in the read buffer is answered before
//! anything is written, so pipelined responses leave in one `send`, and
//! while output waits the write timer holds. Reading pauses while output is
//! blocked or a file body is pending (backpressure). After a response that
//! closes the connection, the write side is shut and input is drained for
//! a while (lingering close) so the client reads the response instead of a
//! reset. The timer and the stats gauge follow from the state
//! ([`Connection::settle`]).

use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, OwnedFd};
use std::time::{Duration, Instant};

use h1parse::{
    BodyKind, ChunkedDecoder, Expect, Header, Limits, Request, RequestParser, Status, Version,
};

use crate::access_log::Entry;
use crate::ctx::Ctx;
use crate::handler::{self, Begin, Finish, Handler, Pump};
use crate::respond;
use crate::route::{self, BodyUse, Route};
use crate::stats::Gauge;
use crate::sys;
use crate::writer::{self, Answer, FileBody, Persist};

/// Stop answering pipelined requests once this much output is waiting, and
/// write it first (bounds memory per connection).
const OUTPUT_HIGH_WATER: usize = 64 * 1024;

/// Read buffer room beyond the largest head, so a body can stream through
/// while a head waits at the front.
const BODY_ROOM: usize = 8 * 1024;

/// A read buffer starts this small and doubles (up to the largest head plus
/// `BODY_ROOM`) only when a head needs more room or a read fills it: a
/// connection that trickles a partial head (slowloris) holds 2 KiB, not the
/// 24 KiB every connection held before (issue 17: 10k of them took 321 MB).
/// Most request heads fit; a larger one costs one or two reallocations.
const RBUF_START: usize = 2 * 1024;

/// Pooled buffers return to the pool only when below this capacity, so one
/// huge response does not pin memory forever.
const KEEP_WBUF_CAPACITY: usize = 256 * 1024;

/// Reads per wake-up while lingering: a client that keeps sending cannot
/// hold the worker (the linger timer ends it anyway).
const LINGER_READS: usize = 64;

/// Largest `sendfile` count per call; the socket buffer limits each call
/// anyway, this only keeps the count within `ssize_t` on any platform.
const SENDFILE_CHUNK: u64 = 1 << 30;

/// Where a connection is in its request cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Waiting for the first byte of a request: the keep-alive timer (the
    /// header timer before the first request).
    Idle,
    /// Reading a request head (its bytes are at the front of the read
    /// buffer): the header timer, which bytes alone never move.
    Head,
    /// Reading the body of the [`Job`]'s request for its handler: the body
    /// timer, moved only by enough bytes ([`BODY_PROGRESS`]).
    Body,
    /// The [`Job`]'s handler (a running script, an upload's commit) is
    /// producing the response; no request is read meanwhile.
    Respond,
    /// The last response is queued; once it is out the write side is shut.
    Closing,
    /// The write side is shut and input is read and dropped until the
    /// client closes (lingering close): the linger timer.
    Linger,
}

/// The request a connection is busy with in [`State::Body`] and
/// [`State::Respond`]; its head stays at the front of the read buffer
/// until it is answered.
#[derive(Debug)]
struct Job {
    req: Request,
    handler: Handler,
    /// Bytes still expected for a Content-Length body (unused when chunked).
    remaining: u64,
    /// Decoded body bytes so far (for `--max-body` on chunked bodies).
    received: u64,
    /// When the body began to be read (for `--body-min-rate`).
    started: Instant,
    /// `received` when the body timer was last set: the timer moves only
    /// after [`BODY_PROGRESS`] more bytes.
    at_timer: u64,
}

/// Body bytes that must arrive for `--body-timeout` to start again. A
/// timer that any byte reset let a client keep a connection (and a CGI
/// slot) forever at one byte per timeout; this way a body must come at
/// 1 KiB per timeout at least (34 B/s with the default 30 s), like
/// Apache's `mod_reqtimeout` MinRate.
const BODY_PROGRESS: u64 = 1024;

/// The memory a connection needs only while it is busy. Idle keep-alive
/// connections hand it back to the worker's [`Pool`].
#[derive(Debug)]
pub(crate) struct Buffers {
    /// Its length is the room in use (grown in steps, see `RBUF_START`).
    rbuf: Vec<u8>,
    /// Unconsumed input is `rbuf[start..end]`.
    start: usize,
    end: usize,
    headers: Box<[Header]>,
    parser: RequestParser,
    chunked: ChunkedDecoder,
    /// The request in [`State::Body`] or [`State::Respond`] (`None` in the
    /// other states); busy-time state, so it lives here and an idle
    /// connection does not pay for it.
    job: Option<Job>,
    /// Output is `wbuf[wpos..]`.
    wbuf: Vec<u8>,
    wpos: usize,
}

/// A per-worker free list of [`Buffers`].
#[derive(Debug)]
pub(crate) struct Pool {
    // Boxed so a set moves into a connection as one pointer, never copied.
    #[allow(clippy::vec_box)]
    free: Vec<Box<Buffers>>,
    keep: usize,
    rbuf_len: usize,
    max_headers: usize,
    limits: Limits,
}

impl Pool {
    pub(crate) fn new(max_head: u32, max_uri: u32, max_headers: usize, keep: usize) -> Pool {
        Pool {
            free: Vec::new(),
            keep,
            rbuf_len: max_head as usize + BODY_ROOM,
            max_headers,
            limits: Limits {
                max_head,
                max_uri,
                max_header_line: Limits::DEFAULT.max_header_line.min(max_head),
            },
        }
    }

    fn take(&mut self) -> Box<Buffers> {
        self.free.pop().unwrap_or_else(|| {
            Box::new(Buffers {
                rbuf: vec![0; RBUF_START.min(self.rbuf_len)],
                start: 0,
                end: 0,
                headers: vec![Header::EMPTY; self.max_headers].into_boxed_slice(),
                parser: RequestParser::with_limits(self.limits),
                chunked: ChunkedDecoder::new(),
                job: None,
                // Allocated with the first response: a connection still
                // reading its head (slowloris) holds no output buffer.
                wbuf: Vec::new(),
                wpos: 0,
            })
        })
    }

    /// Keeps at most `n` free sets (after a wave of connections is over).
    pub(crate) fn shrink(&mut self, n: usize) {
        self.free.truncate(n);
        self.free.shrink_to_fit();
    }

    fn give(&mut self, mut b: Box<Buffers>) {
        if self.free.len() >= self.keep || b.wbuf.capacity() > KEEP_WBUF_CAPACITY {
            return;
        }
        b.start = 0;
        b.end = 0;
        b.parser.reset();
        b.job = None;
        b.wbuf.clear();
        b.wpos = 0;
        self.free.push(b);
    }
}

/// Doubles a read buffer, up to `max` bytes (the largest head plus `BODY_ROOM`).
fn grow(rbuf: &mut Vec<u8>, max: usize) {
    let len = rbuf.len();
    if len < max {
        rbuf.resize((len * 2).min(max), 0);
    }
}

/// Which timeout a connection's deadline stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimerKind {
    /// Waiting for (the rest of) a request head: 408 if some of it came.
    Header,
    /// Idle keep-alive: close silently.
    Idle,
    /// Waiting for body bytes: 408.
    Body,
    /// The client does not take output (or a commit does not end): close.
    Write,
    /// Draining after the last response: close.
    Linger,
    /// A CGI script's `--cgi-timeout`: kill it (504 if nothing was sent).
    Cgi,
}

/// One client connection.
#[derive(Debug)]
pub(crate) struct Connection {
    fd: OwnedFd,
    /// For the access log.
    peer: Option<SocketAddr>,
    /// The connection's epoll token: its scripts' pipes and its commits'
    /// eventfds are registered with it too.
    token: u64,
    state: State,
    /// Busy-time memory; `None` while idle.
    bufs: Option<Box<Buffers>>,
    /// A large file body still being sent after the buffered output.
    file: Option<FileBody>,
    /// Edge-triggered readiness: the socket may have input we have not read.
    readable: bool,
    /// The client shut its write side; answer what is buffered, then close.
    peer_eof: bool,
    /// epoll reported a hang-up: the FIN may sit behind the data, so reads
    /// go on until 0 or `EAGAIN` instead of trusting a short read.
    hup: bool,
    /// The last drive stopped with input still to read (its read budget
    /// was spent): the worker drives it again after the others' events.
    yielded: bool,
    /// Requests answered on this connection.
    served: u64,
    /// The current deadline and what it is for.
    timer: Option<(Instant, TimerKind)>,
    /// Earliest deadline this connection has in the worker's timer heap.
    queued: Option<Instant>,
    /// What the stub_status gauges count this connection as.
    gauge: Gauge,
}

/// Bytes one drive may read before it yields to the worker's other
/// connections. Without it a client that sends fast (a 64 MiB upload on
/// loopback) kept the worker in one drive for the whole body: other
/// clients' GETs waited up to 68 ms (p99, `ci/bench-upload-latency.sh`).
const READ_BUDGET: usize = 256 * 1024;

/// A body step's outcome.
enum BodyStep {
    NeedMore,
    Done,
    Fail(u16),
}

impl Connection {
    /// A connection just accepted; `token` is its epoll token.
    pub(crate) fn new(fd: OwnedFd, peer: Option<SocketAddr>, token: u64) -> Connection {
        Connection {
            fd,
            peer,
            token,
            state: State::Idle,
            bufs: None,
            file: None,
            readable: false,
            peer_eof: false,
            hup: false,
            yielded: false,
            served: 0,
            timer: None,
            queued: None,
            gauge: Gauge::None,
        }
    }

    /// Whether the last drive stopped with input left to read.
    pub(crate) fn yielded(&self) -> bool {
        self.yielded
    }

    /// What the stub_status gauges count this connection as.
    pub(crate) fn gauge(&self) -> Gauge {
        self.gauge
    }

    /// Edge-triggered input readiness arrived; `hup` when it came with
    /// `EPOLLRDHUP`/`EPOLLHUP`/`EPOLLERR`.
    pub(crate) fn set_readable(&mut self, hup: bool) {
        self.readable = true;
        self.hup |= hup;
    }

    /// Gives busy-time memory back (the connection is closing).
    pub(crate) fn release(&mut self, pool: &mut Pool) {
        if let Some(b) = self.bufs.take() {
            pool.give(b);
        }
    }

    /// The deadline to put in the worker's timer heap, unless an earlier
    /// or equal entry is there already (a later one re-queues itself when
    /// it fires early).
    pub(crate) fn enqueue(&mut self) -> Option<Instant> {
        let (at, _) = self.timer?;
        if self.queued.is_some_and(|q| q <= at) {
            return None;
        }
        self.queued = Some(at);
        Some(at)
    }

    /// A timer-heap entry for `at` came due. `None`: the entry is stale
    /// (skip it); else whether the connection stays open (re-`enqueue` it).
    pub(crate) fn fire(&mut self, at: Instant, ctx: &mut Ctx, pool: &mut Pool) -> Option<bool> {
        if self.queued != Some(at) {
            // A later entry for an earlier deadline exists; this one is stale.
            return None;
        }
        self.queued = None;
        match self.timer {
            Some((deadline, kind)) if deadline <= ctx.now => {
                self.timer = None;
                Some(self.expire(ctx, pool, kind))
            }
            _ => Some(true),
        }
    }

    fn has_output(&self) -> bool {
        self.file.is_some() || self.bufs.as_ref().is_some_and(|b| b.wpos < b.wbuf.len())
    }

    /// Between requests with nothing to write.
    fn idle(&self) -> bool {
        self.state == State::Idle && !self.has_output()
    }

    /// Answers 503 at once (over `--max-connections`) and closes after.
    pub(crate) fn refuse(&mut self, ctx: &mut Ctx, pool: &mut Pool) {
        let b = self.bufs.get_or_insert_with(|| pool.take());
        let date = *ctx.date.http();
        writer::simple(
            &mut b.wbuf,
            503,
            &date,
            Persist::Close,
            false,
            b"Retry-After: 1\r\n",
        );
        ctx.stats.response(503, false);
        self.state = State::Closing;
    }

    /// Runs the state machine as far as it goes without blocking. Returns
    /// false when the connection should be closed.
    pub(crate) fn drive(&mut self, ctx: &mut Ctx, pool: &mut Pool) -> bool {
        self.yielded = false;
        let served = self.served;
        let mut progress = false;
        let alive = self.run(ctx, pool, &mut progress);
        if alive {
            self.settle(ctx, pool, progress, served != self.served);
        }
        alive
    }

    fn run(&mut self, ctx: &mut Ctx, pool: &mut Pool, progress: &mut bool) -> bool {
        let mut taken = 0;
        loop {
            if self.has_output() {
                match self.flush(progress) {
                    Ok(true) => {}
                    Ok(false) => return true,
                    Err(_) => return false,
                }
            }
            if self.state == State::Closing {
                self.state = State::Linger;
                if sys::shutdown_write(self.fd.as_fd()).is_err() {
                    return false;
                }
            }
            if self.state == State::Linger {
                return self.drain();
            }
            self.process(ctx);
            if self.has_output() || self.state == State::Closing {
                continue;
            }
            if ctx.shutting_down && self.idle() {
                return false;
            }
            if self.state == State::Respond
                && (self.peer_eof
                    || !self.readable
                    || self
                        .bufs
                        .as_ref()
                        .is_some_and(|b| b.end == b.rbuf.len() && b.start == 0))
            {
                // A handler is answering: its descriptors wake us. Input is
                // read while it fits (so a reset is noticed); a half-close
                // still gets the response.
                return true;
            }
            if self.peer_eof {
                return false;
            }
            if !self.readable {
                return true;
            }
            if taken >= READ_BUDGET {
                // Everything read so far is processed; the rest waits for
                // the other connections' turn.
                self.yielded = true;
                return true;
            }
            match self.read(pool) {
                Ok(0) => self.peer_eof = true,
                Ok(n) => {
                    *progress = true;
                    taken += n;
                    if self.state == State::Idle {
                        self.state = State::Head;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
                Err(_) => return false,
            }
        }
    }

    /// Reads once into the read buffer. A short read means the socket is
    /// drained (edge-triggered epoll will report new data), saving the
    /// `EAGAIN` round trip.
    fn read(&mut self, pool: &mut Pool) -> io::Result<usize> {
        let b = self.bufs.get_or_insert_with(|| pool.take());
        if b.end == b.rbuf.len() && b.start > 0 {
            // Keep the unconsumed bytes, move them to the front: parser spans
            // are relative to `start`, so this is invisible to it.
            b.rbuf.copy_within(b.start..b.end, 0);
            b.end -= b.start;
            b.start = 0;
        }
        if b.end == b.rbuf.len() {
            // Full of one unfinished message: room to grow, up to the limit.
            grow(&mut b.rbuf, pool.rbuf_len);
        }
        let room = b.rbuf.len() - b.end;
        if room == 0 {
            // Cannot happen: the parser fails at `max_head`, below the buffer size.
            return Err(io::Error::other("read buffer full"));
        }
        match sys::read(self.fd.as_fd(), &mut b.rbuf[b.end..]) {
            Ok(n) => {
                b.end += n;
                if n == room {
                    // A stream that fills the buffer gets a larger one next
                    // time, so bodies do not go through in 4 KiB reads.
                    grow(&mut b.rbuf, pool.rbuf_len);
                }
                if n < room && !self.hup {
                    self.readable = false;
                }
                Ok(n)
            }
            Err(e) => {
                if e.kind() == io::ErrorKind::WouldBlock {
                    self.readable = false;
                }
                Err(e)
            }
        }
    }

    /// Writes buffered output, then the file body. `Ok(true)`: all written;
    /// `Ok(false)`: the socket is full (epoll reports when it drains).
    fn flush(&mut self, progress: &mut bool) -> io::Result<bool> {
        loop {
            if let Some(b) = self.bufs.as_deref_mut() {
                if b.wpos < b.wbuf.len() {
                    let more = self.file.is_some();
                    match sys::send(self.fd.as_fd(), &b.wbuf[b.wpos..], more) {
                        Ok(n) => {
                            *progress = true;
                            b.wpos += n;
                            if b.wpos == b.wbuf.len() {
                                b.wbuf.clear();
                                b.wpos = 0;
                            }
                            continue;
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(e),
                    }
                }
            }
            let Some(f) = self.file.as_mut() else {
                return Ok(true);
            };
            let count = f.remaining.min(SENDFILE_CHUNK) as usize;
            match sys::sendfile(self.fd.as_fd(), f.fd.as_fd(), &mut f.offset, count) {
                Ok(0) => return Err(io::Error::other("file shrank while being sent")),
                Ok(n) => {
                    *progress = true;
                    f.remaining -= n as u64;
                    if f.remaining == 0 {
                        self.file = None;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Lingering close: read and drop input until the client closes (or the
    /// linger timer fires). Returns false when done.
    fn drain(&mut self) -> bool {
        let mut sink = [0u8; 4096];
        for _ in 0..LINGER_READS {
            match sys::read(self.fd.as_fd(), &mut sink) {
                Ok(0) => return false,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        true
    }

    /// Answers every complete request in the read buffer, in order, until
    /// input runs out or output is high enough to write first.
    fn process(&mut self, ctx: &mut Ctx) {
        while self.step(ctx) {}
    }

    /// One unit of [`Connection::process`], chosen by the state: a head,
    /// a body step, or a handler's output. Returns whether to go on.
    // Inlined into the loop of `process`: it runs a few times per request.
    #[inline(always)]
    fn step(&mut self, ctx: &mut Ctx) -> bool {
        let Some(b) = self.bufs.as_deref() else {
            return false;
        };
        if self.file.is_some() || b.wbuf.len() >= OUTPUT_HIGH_WATER {
            return false;
        }
        match self.state {
            State::Idle | State::Head => self.head(ctx),
            State::Body => self.body(ctx),
            State::Respond => self.pump(ctx),
            State::Closing | State::Linger => false,
        }
    }

    /// Parses (resuming) the head at the front of the read buffer.
    fn head(&mut self, ctx: &mut Ctx) -> bool {
        let Some(b) = self.bufs.as_deref_mut() else {
            return false;
        };
        if b.start == b.end {
            b.start = 0;
            b.end = 0;
            return false;
        }
        match b.parser.parse(&b.rbuf[b.start..b.end], &mut b.headers) {
            Ok(Status::Partial) => false,
            Ok(Status::Complete(req)) => self.start_request(ctx, req),
            // Answer with the status h1parse gives, then close: after a
            // framing error the rest of the input cannot be trusted.
            Err(e) => self.fail(ctx, e.status()),
        }
    }

    /// A complete head: route it, then answer it, or read its body first.
    // Once per request: kept out of `step`'s loop.
    #[inline(never)]
    fn start_request(&mut self, ctx: &mut Ctx, req: Request) -> bool {
        let Some(b) = self.bufs.as_deref_mut() else {
            return false;
        };
        let head = &b.rbuf[b.start..b.start + req.head_len];
        let route = route::route(&req, head, ctx);
        if let Route::Refuse(status) = route {
            let head_only = req.method.get(head) == b"HEAD";
            let answer =
                handler::status_answer(&mut b.wbuf, ctx, status, Persist::Close, head_only);
            self.complete(ctx, req, answer);
            return false;
        }
        let has_body = route::has_body(&req);
        // Only a body announced with `Expect: 100-continue` asks (read
        // before `begin` takes the route; short-circuits on the hot path).
        let wanted =
            has_body && req.expect == Expect::Continue && route.body_use() == BodyUse::Read;
        let conn = handler::Conn {
            req: &req,
            head,
            headers: &b.headers,
            keep_alive: req.keep_alive && !ctx.shutting_down,
            peer: self.peer,
            sock: self.fd.as_fd(),
            token: self.token,
        };
        let handler = match handler::begin(route, &conn, ctx, &mut b.wbuf) {
            Begin::Now(answer) => {
                self.complete(ctx, req, answer);
                if has_body {
                    // The body is not wanted and not read: close after the
                    // answer, so its bytes are never taken for a request.
                    self.state = State::Closing;
                    return false;
                }
                return true;
            }
            Begin::Handler(h) if !has_body => {
                let done = h.finish(&conn, ctx, &mut b.wbuf);
                return self.finished(ctx, req, done);
            }
            Begin::Handler(h) => h,
        };
        if req.expect == Expect::Continue && req.version == Version::Http11 {
            if wanted {
                // RFC 9110 §10.1.1: the body is wanted, so say so.
                b.wbuf.extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
            } else if b.end == b.start + req.head_len {
                // The body would only be dropped, so the final status is
                // known now: send it and close instead of reading a body
                // the client has not sent yet. (When body bytes came with
                // the head, the client did not wait: 100 may be omitted,
                // and the body is read and dropped as usual.)
                let mut req = req;
                req.keep_alive = false;
                self.finish(ctx, req, handler);
                return false;
            }
        }
        b.chunked = ChunkedDecoder::new();
        let remaining = match req.body {
            BodyKind::Length(n) => n,
            _ => 0,
        };
        b.job = Some(Job {
            req,
            handler,
            remaining,
            received: 0,
            started: ctx.now,
            at_timer: 0,
        });
        self.state = State::Body;
        true
    }

    /// Reads the job's body; at its end, finishes the request.
    fn body(&mut self, ctx: &mut Ctx) -> bool {
        let Some(b) = self.bufs.as_deref_mut() else {
            return false;
        };
        match body_step(b, ctx) {
            BodyStep::NeedMore => false,
            // An unfinished upload's temporary file goes with the job.
            BodyStep::Fail(status) => self.fail(ctx, status),
            BodyStep::Done => match b.job.take() {
                Some(job) => self.finish(ctx, job.req, job.handler),
                None => false,
            },
        }
    }

    /// The body is in: the handler answers, or goes on producing the
    /// response ([`State::Respond`]).
    fn finish(&mut self, ctx: &mut Ctx, req: Request, handler: Handler) -> bool {
        let Some(b) = self.bufs.as_deref_mut() else {
            return false;
        };
        let conn = handler::Conn {
            req: &req,
            head: &b.rbuf[b.start..b.start + req.head_len],
            headers: &b.headers,
            keep_alive: req.keep_alive && !ctx.shutting_down,
            peer: self.peer,
            sock: self.fd.as_fd(),
            token: self.token,
        };
        let done = handler.finish(&conn, ctx, &mut b.wbuf);
        self.finished(ctx, req, done)
    }

    /// What [`Handler::finish`] came to: the answer, or [`State::Respond`].
    fn finished(&mut self, ctx: &mut Ctx, req: Request, done: Finish) -> bool {
        match done {
            Finish::Answer(answer) => self.complete(ctx, req, answer),
            Finish::Running(handler) => return self.respond_later(ctx, req, handler),
        }
        true
    }

    /// A handler still producing the answer becomes the job of
    /// [`State::Respond`]. Out of line: the common answer (a file) stays
    /// on the short path.
    #[inline(never)]
    fn respond_later(&mut self, ctx: &Ctx, req: Request, handler: Handler) -> bool {
        let Some(b) = self.bufs.as_deref_mut() else {
            return false;
        };
        b.job = Some(Job {
            req,
            handler,
            remaining: 0,
            received: 0,
            started: ctx.now,
            at_timer: 0,
        });
        self.state = State::Respond;
        true
    }

    /// Moves the job's handler along (a script's output, a commit's end).
    fn pump(&mut self, ctx: &mut Ctx) -> bool {
        let Some(b) = self.bufs.as_deref_mut() else {
            return false;
        };
        let Some(job) = b.job.as_mut() else {
            return false;
        };
        match job.handler.pump(ctx, &mut b.wbuf, OUTPUT_HIGH_WATER) {
            Pump::Wait => false,
            Pump::Progress => true,
            Pump::Done {
                status,
                body_len,
                close,
            } => self.respond_done(ctx, status, body_len, close),
        }
    }

    /// The job's handler completed its response: count, log and consume
    /// its request. Returns false when there was no job.
    fn respond_done(&mut self, ctx: &mut Ctx, status: u16, body_len: u64, close: bool) -> bool {
        let Some(job) = self.bufs.as_deref_mut().and_then(|b| b.job.take()) else {
            return false;
        };
        let answer = Answer {
            status,
            body_len,
            file: None,
            close,
        };
        self.complete(ctx, job.req, answer);
        true
    }

    /// Counts, logs and consumes an answered request, and moves to the
    /// state that follows it.
    fn complete(&mut self, ctx: &mut Ctx, req: Request, answer: Answer) {
        let Some(b) = self.bufs.as_deref_mut() else {
            return;
        };
        let head = &b.rbuf[b.start..b.start + req.head_len];
        ctx.stats.response(answer.status, true);
        if ctx.log.enabled() {
            let fields = respond::Fields::scan(head, &b.headers[..req.header_count]);
            ctx.log.record(&Entry {
                peer: self.peer,
                time: ctx.date.log(),
                request: Some((req.method.get(head), req.target.get(head), req.minor)),
                status: answer.status,
                bytes: answer.body_len,
                referer: fields.referer,
                user_agent: fields.user_agent,
            });
        }
        b.start += req.head_len;
        b.parser.reset();
        if b.start == b.end {
            b.start = 0;
            b.end = 0;
        }
        self.file = answer.file;
        self.served += 1;
        self.state = if answer.close {
            State::Closing
        } else if b.start == b.end {
            State::Idle
        } else {
            State::Head
        };
    }

    /// Queues an error response that closes the connection (dropping the
    /// job, if any), and logs it. Returns false: nothing more is read.
    fn fail(&mut self, ctx: &mut Ctx, status: u16) -> bool {
        let Some(b) = self.bufs.as_deref_mut() else {
            return false;
        };
        b.job = None;
        let date = *ctx.date.http();
        let bytes = writer::simple(&mut b.wbuf, status, &date, Persist::Close, false, b"");
        ctx.stats.response(status, true);
        ctx.log.record(&Entry {
            peer: self.peer,
            time: ctx.date.log(),
            request: None,
            status,
            bytes,
            referer: None,
            user_agent: None,
        });
        self.state = State::Closing;
        false
    }

    /// A timer of `kind` fired. Returns false when the connection should
    /// be closed.
    fn expire(&mut self, ctx: &mut Ctx, pool: &mut Pool, kind: TimerKind) -> bool {
        match kind {
            TimerKind::Header | TimerKind::Body
                if matches!(self.state, State::Head | State::Body) && !self.has_output() =>
            {
                self.fail(ctx, 408);
                self.drive(ctx, pool)
            }
            TimerKind::Cgi => {
                let Some(b) = self.bufs.as_deref_mut() else {
                    return false;
                };
                let Some(job) = b.job.as_mut() else {
                    return false;
                };
                let Some(Pump::Done {
                    status,
                    body_len,
                    close,
                }) = job.handler.timeout(ctx, &mut b.wbuf)
                else {
                    return false;
                };
                self.respond_done(ctx, status, body_len, close) && self.drive(ctx, pool)
            }
            _ => false,
        }
    }

    /// The timer, and gauge, the state calls for; while output waits, the
    /// write timer holds in every state but `Linger`.
    fn wanted_timer(&self, ctx: &Ctx) -> (TimerKind, Gauge, Duration) {
        let cfg = &ctx.shared.config;
        if self.has_output() && self.state != State::Linger {
            return (TimerKind::Write, Gauge::Writing, cfg.write_timeout);
        }
        match self.state {
            // A fresh connection gets the header timeout from accept.
            State::Idle if self.served == 0 => {
                (TimerKind::Header, Gauge::Reading, cfg.header_timeout)
            }
            State::Idle => (TimerKind::Idle, Gauge::Waiting, cfg.keepalive_timeout),
            State::Head => (TimerKind::Header, Gauge::Reading, cfg.header_timeout),
            State::Body => (TimerKind::Body, Gauge::Reading, cfg.body_timeout),
            State::Respond => match self.running_script() {
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(ctx.now);
                    (TimerKind::Cgi, Gauge::Writing, left)
                }
                // A commit rings its eventfd when done; one that takes
                // longer than the write timeout closes the connection.
                None => (TimerKind::Write, Gauge::Writing, cfg.write_timeout),
            },
            State::Closing | State::Linger => {
                (TimerKind::Linger, Gauge::Writing, cfg.linger_timeout)
            }
        }
    }

    /// The deadline of the script producing the response, if one runs.
    fn running_script(&self) -> Option<Instant> {
        let job = self.bufs.as_ref()?.job.as_ref()?;
        Some(job.handler.running()?.deadline)
    }

    /// Whether enough body came since the body timer was set to move it.
    fn body_progress(&mut self) -> bool {
        let job = self.bufs.as_mut().and_then(|b| b.job.as_mut());
        job.is_some_and(|p| {
            let enough = p.received - p.at_timer >= BODY_PROGRESS;
            if enough {
                p.at_timer = p.received;
            }
            enough
        })
    }

    /// When a body that keeps `--body-min-rate` from now on must have
    /// ended its current stretch: its start, one `--body-timeout` of
    /// grace, and one second per `--body-min-rate` bytes received (as
    /// Apache's mod_reqtimeout `MinRate`). The 1 KiB per timeout rule
    /// alone let 64 bodies trickle at 51 B/s each for ever.
    fn min_rate_deadline(&self, ctx: &Ctx) -> Option<Instant> {
        let cfg = &ctx.shared.config;
        let job = self.bufs.as_ref()?.job.as_ref()?;
        if cfg.body_min_rate == 0 {
            return None;
        }
        let earned = job.received as f64 / cfg.body_min_rate as f64;
        let earned = Duration::try_from_secs_f64(earned).ok()?;
        job.started
            .checked_add(cfg.body_timeout)?
            .checked_add(earned)
    }

    /// Sets the deadline and gauge for the state the connection is in, and
    /// returns idle memory to the pool.
    fn settle(&mut self, ctx: &mut Ctx, pool: &mut Pool, io_progress: bool, completed: bool) {
        if self.idle() {
            self.release(pool);
        }
        let (kind, gauge, dur) = self.wanted_timer(ctx);
        let reset = match self.timer {
            Some((_, k)) if k == kind => match kind {
                TimerKind::Write => io_progress,
                TimerKind::Body => io_progress && self.body_progress(),
                // Header deadlines move only when a request completed, never
                // on mere bytes, so a slowloris client cannot extend them.
                TimerKind::Header => completed,
                // Idle time starts again after every response.
                TimerKind::Idle => completed,
                TimerKind::Linger | TimerKind::Cgi => false,
            },
            _ => true,
        };
        if reset {
            let mut at = ctx.now + dur;
            if kind == TimerKind::Body {
                if let Some(limit) = self.min_rate_deadline(ctx) {
                    at = at.min(limit);
                }
            }
            self.timer = Some((at, kind));
        }
        // A running script's --cgi-timeout holds whatever else the
        // connection waits for: output the client does not read must not
        // keep the script alive past it (the write timeout can be longer).
        if kind != TimerKind::Cgi {
            if let Some(deadline) = self.running_script() {
                if self.timer.is_none_or(|(at, _)| deadline < at) {
                    self.timer = Some((deadline, TimerKind::Cgi));
                }
            }
        }
        ctx.stats.gauge(self.gauge, gauge);
        self.gauge = gauge;
    }
}

/// Reads body bytes that follow the job's head: fed to its handler (an
/// upload's file, a CGI spool; dropped for the other routes).
fn body_step(b: &mut Buffers, ctx: &Ctx) -> BodyStep {
    let Some(p) = b.job.as_mut() else {
        return BodyStep::Done;
    };
    let body_at = b.start + p.req.head_len;
    loop {
        let avail = b.end - body_at;
        if p.req.body == BodyKind::Chunked {
            if b.chunked.is_done() {
                return BodyStep::Done;
            }
            if avail == 0 {
                return BodyStep::NeedMore;
            }
            match b.chunked.decode(&b.rbuf[body_at..b.end]) {
                Ok(chunk) => {
                    p.received += chunk.data.len() as u64;
                    let data = body_at + chunk.data.start..body_at + chunk.data.end;
                    if let Err(status) = p.handler.feed(&b.rbuf[data]) {
                        return BodyStep::Fail(status);
                    }
                    b.rbuf.copy_within(body_at + chunk.consumed..b.end, body_at);
                    b.end -= chunk.consumed;
                    // A chunk that can never fit is refused once its size
                    // line is read, as a Content-Length over the limit is
                    // (not after waiting for its data).
                    let announced = p.received.saturating_add(b.chunked.remaining_in_chunk());
                    if announced > ctx.shared.config.max_body {
                        return BodyStep::Fail(413);
                    }
                    if chunk.done {
                        return BodyStep::Done;
                    }
                    if chunk.consumed == 0 {
                        return BodyStep::NeedMore;
                    }
                }
                Err(e) => return BodyStep::Fail(e.status()),
            }
        } else {
            let take = p.remaining.min(avail as u64) as usize;
            if let Err(status) = p.handler.feed(&b.rbuf[body_at..body_at + take]) {
                return BodyStep::Fail(status);
            }
            b.rbuf.copy_within(body_at + take..b.end, body_at);
            b.end -= take;
            p.remaining -= take as u64;
            p.received += take as u64;
            return if p.remaining == 0 {
                BodyStep::Done
            } else {
                BodyStep::NeedMore
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What an idle keep-alive connection costs in the worker's table: the
    /// buffers are back in the pool, so this is all of it.
    // Issue 17, fault 6: every busy connection, a slowloris one too, held a
    // 24 KiB read buffer and a 16 KiB output buffer. A fresh set holds 2 KiB
    // and no output buffer; reads grow it, doubling, up to the head limit.
    #[test]
    fn fresh_buffers_are_small_and_grow_to_the_limit() {
        let mut pool = Pool::new(16 * 1024, 8 * 1024, 100, 4);
        let b = pool.take();
        assert_eq!(b.rbuf.len(), 2048);
        assert_eq!(b.wbuf.capacity(), 0);
        let mut rbuf = b.rbuf.clone();
        let mut sizes = Vec::new();
        for _ in 0..6 {
            grow(&mut rbuf, pool.rbuf_len);
            sizes.push(rbuf.len());
        }
        assert_eq!(sizes, [4096, 8192, 16384, 24576, 24576, 24576]);
        // After a wave, the pool keeps only a few free sets.
        let taken: Vec<_> = (0..4).map(|_| pool.take()).collect();
        for b in taken {
            pool.give(b);
        }
        assert_eq!(pool.free.len(), 4);
        pool.shrink(1);
        assert_eq!(pool.free.len(), 1);
    }

    // Issue 13: the timer (and gauge) follow from the state alone, with
    // one override: output waiting holds the write timer.
    #[test]
    fn timers_follow_from_the_state() {
        let ctx = Ctx::for_tests(crate::config::Config::default());
        let cfg = ctx.shared.config.clone();
        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        let mut c = Connection::new(a.into(), None, 7);
        let mut pool = Pool::new(16 * 1024, 8 * 1024, 100, 4);
        let mut got = Vec::new();
        for (state, served, output) in [
            (State::Idle, 0, false),
            (State::Idle, 1, false),
            (State::Head, 1, false),
            (State::Body, 1, false),
            (State::Respond, 1, false),
            (State::Closing, 1, false),
            (State::Linger, 1, false),
            (State::Head, 1, true),
            (State::Body, 1, true),
            (State::Closing, 1, true),
        ] {
            c.state = state;
            c.served = served;
            let b = c.bufs.get_or_insert_with(|| pool.take());
            b.wbuf.clear();
            if output {
                b.wbuf.extend_from_slice(b"HTTP/1.1 200 OK\r\n");
            }
            let (kind, gauge, dur) = c.wanted_timer(&ctx);
            got.push((state, served, output, kind, gauge, dur));
        }
        let (h, k, bo, w, l) = (
            cfg.header_timeout,
            cfg.keepalive_timeout,
            cfg.body_timeout,
            cfg.write_timeout,
            cfg.linger_timeout,
        );
        use {Gauge as G, State::*, TimerKind as T};
        assert_eq!(
            got,
            [
                (Idle, 0, false, T::Header, G::Reading, h),
                (Idle, 1, false, T::Idle, G::Waiting, k),
                (Head, 1, false, T::Header, G::Reading, h),
                (Body, 1, false, T::Body, G::Reading, bo),
                (Respond, 1, false, T::Write, G::Writing, w),
                (Closing, 1, false, T::Linger, G::Writing, l),
                (Linger, 1, false, T::Linger, G::Writing, l),
                (Head, 1, true, T::Write, G::Writing, w),
                (Body, 1, true, T::Write, G::Writing, w),
                (Closing, 1, true, T::Write, G::Writing, w),
            ]
        );
    }

    #[test]
    fn idle_connection_is_small() {
        let size = std::mem::size_of::<Connection>();
        assert!(size <= 160, "Connection is {size} bytes");
    }
}

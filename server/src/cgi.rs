//! CGI/1.1 (RFC 3875) under `--cgi-dir`, mounted at `/cgi-bin/`.
//!
//! ```text
//!   resolve (openat2 beneath the folder) ─► body collected (≤ --max-body)
//!     ─► spawn: argv, envp, pipes prepared, then fork/execve
//!     ─► pipes non-blocking in the worker's epoll (same token as the client)
//!     ─► stdin fed, stdout parsed (FieldsParser, bare LF allowed) and
//!        streamed: Content-Length if the script gave one, else chunked
//!        (HTTP/1.1) or close-delimited (HTTP/1.0); stderr to our stderr
//!     ─► done when stdout is at EOF and the child is reaped (its pidfd
//!        in the epoll says when it exits: no SIGCHLD handler, no zombie)
//! ```
//!
//! A script never blocks the worker: every pipe is non-blocking, and the
//! connection waits in the event loop like any other. The connection's
//! timer enforces `--cgi-timeout`; stdout beyond `--cgi-max-output` kills
//! the script. A script that is given up on (timeout, cap, client gone,
//! shutdown) gets `SIGKILL`, and is reaped when its pidfd (moved to the
//! worker's reaper) says it is gone: the worker never waits for it to die.

use std::ffi::CString;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use h1parse::{FieldsParser, Header, Request, Status, Version};

use crate::files;
use crate::sys::{self, Epoll, EPOLLET, EPOLLIN, EPOLLOUT};
use crate::writer::{self, Persist};

/// The URL folder scripts are mounted at (normalized form, no slashes).
pub(crate) const MOUNT: &[u8] = b"cgi-bin";

/// Header fields a script may send; more is a 502.
const MAX_SCRIPT_HEADERS: usize = 64;

/// Bytes read from a pipe per `read`.
const PIPE_CHUNK: usize = 16 * 1024;

/// Request fields not passed as `HTTP_*` (RFC 3875 §4.1.18): credentials
/// the server handles, fields with their own variables, hop-by-hop fields,
/// and `Proxy`, whose `HTTP_PROXY` a script's HTTP client would take as
/// its proxy setting ("httpoxy").
const NOT_PASSED: &[&[u8]] = &[
    b"authorization",
    b"proxy-authorization",
    b"content-length",
    b"content-type",
    b"connection",
    b"proxy",
    b"transfer-encoding",
    b"te",
    b"upgrade",
    b"keep-alive",
];

/// Script response fields not passed to the client: the server frames the
/// response and writes its own `Date` and `Server`.
const NOT_RELAYED: &[&[u8]] = &[
    b"status",
    b"content-length",
    b"transfer-encoding",
    b"connection",
    b"keep-alive",
    b"date",
    b"server",
];

/// The scripts folder: open (for checks beneath it) and its absolute path
/// (for `execve`, which needs a path an interpreter line can use).
#[derive(Debug)]
pub(crate) struct CgiDir {
    fd: OwnedFd,
    abs: Vec<u8>,
}

impl CgiDir {
    pub(crate) fn open(dir: &Path) -> io::Result<CgiDir> {
        let abs = std::fs::canonicalize(dir)?;
        Ok(CgiDir {
            fd: sys::open_dir(&sys::cstring(&abs)?)?,
            abs: abs.as_os_str().as_bytes().to_vec(),
        })
    }
}

/// A script found for a request path.
#[derive(Debug)]
pub(crate) struct Script {
    /// Absolute path for `execve`.
    path: CString,
    /// The script's folder: its working folder (RFC 3875 §7.2).
    cwd: CString,
    /// `/cgi-bin/name` (`SCRIPT_NAME`).
    script_name: Vec<u8>,
    /// The decoded rest of the path (`PATH_INFO`), empty when none.
    path_info: Vec<u8>,
}

/// Finds the script for `rel`, the normalized request path (no leading
/// `/`, no NUL) that starts with `cgi-bin/`: the first component that is a
/// file is the script, the rest is `PATH_INFO` (RFC 3875 §4.1.5).
pub(crate) fn resolve(dir: &CgiDir, rel: &[u8], fallback: bool) -> Result<Script, u16> {
    let inside = rel
        .strip_prefix(MOUNT)
        .and_then(|r| r.strip_prefix(b"/"))
        .unwrap_or(b"");
    if inside.is_empty() {
        // The folder itself: never listed.
        return Err(403);
    }
    let comps: Vec<&[u8]> = inside.split(|&b| b == b'/').collect();
    for i in 0..comps.len() {
        let prefix = comps[..=i].join(&b'/');
        let c = CString::new(prefix.clone()).map_err(|_| 400u16)?;
        let fd = files::open_beneath(dir.fd.as_fd(), &c, fallback)
            .map_err(|e| files::io_status(&e, files::Access::Read, 404))?;
        let st = sys::fstat(fd.as_fd()).map_err(|_| 500u16)?;
        if st.is_dir {
            continue;
        }
        if !st.is_file || !sys::executable(dir.fd.as_fd(), &c) {
            return Err(403);
        }
        let mut path = dir.abs.clone();
        path.push(b'/');
        path.extend_from_slice(&prefix);
        let cwd_len = path.iter().rposition(|&b| b == b'/').unwrap_or(0).max(1);
        let cwd = path[..cwd_len].to_vec();
        let mut script_name = b"/cgi-bin/".to_vec();
        script_name.extend_from_slice(&prefix);
        let mut path_info = Vec::new();
        for rest in &comps[i + 1..] {
            path_info.push(b'/');
            path_info.extend_from_slice(rest);
        }
        return Ok(Script {
            path: CString::new(path).map_err(|_| 400u16)?,
            cwd: CString::new(cwd).map_err(|_| 400u16)?,
            script_name,
            path_info,
        });
    }
    Err(403)
}

/// What the script's environment is made from.
pub(crate) struct Meta<'a> {
    pub(crate) req: &'a Request,
    pub(crate) head: &'a [u8],
    pub(crate) headers: &'a [Header],
    pub(crate) peer: Option<SocketAddr>,
    pub(crate) local: Option<SocketAddr>,
    pub(crate) body_len: usize,
}

fn var(env: &mut Vec<CString>, name: &str, value: &[u8]) {
    let mut v = Vec::with_capacity(name.len() + 1 + value.len());
    v.extend_from_slice(name.as_bytes());
    v.push(b'=');
    // h1parse refuses NUL in field values and targets; drop it anyway.
    v.extend(value.iter().copied().filter(|&b| b != 0));
    if let Ok(c) = CString::new(v) {
        env.push(c);
    }
}

/// The meta-variables of RFC 3875 §4.1.
/// An environment variable's name and value.
type EnvPair = (Vec<u8>, Vec<u8>);

/// `CONTENT_TYPE`, and the request's fields as `HTTP_*` variables
/// (RFC 3875 §4.1.18), repeated ones joined with ", ".
fn http_fields<'a>(m: &Meta<'a>) -> (Option<&'a [u8]>, Vec<EnvPair>) {
    let mut content_type = None;
    let mut fields: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    for h in &m.headers[..m.req.header_count] {
        let (name, value) = (h.name.get(m.head), h.value.get(m.head));
        if name.eq_ignore_ascii_case(b"content-type") {
            content_type.get_or_insert(value);
        }
        // A `_` in a field name would let `Content_Length` pose as
        // CONTENT_LENGTH's neighbour; such fields are dropped (as nginx does).
        if name.contains(&b'_') || NOT_PASSED.iter().any(|n| name.eq_ignore_ascii_case(n)) {
            continue;
        }
        let mut key = b"HTTP_".to_vec();
        key.extend(name.iter().map(|&b| {
            if b == b'-' {
                b'_'
            } else {
                b.to_ascii_uppercase()
            }
        }));
        // RFC 3875 §4.1.18: repeated fields are joined with ", ".
        match fields.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => {
                v.extend_from_slice(b", ");
                v.extend_from_slice(value);
            }
            None => fields.push((key, value.to_vec())),
        }
    }
    (content_type, fields)
}

fn environment(script: &Script, m: &Meta<'_>) -> Vec<CString> {
    let mut env = Vec::with_capacity(24 + m.req.header_count);
    let target = m.req.target.get(m.head);
    let query = match target.iter().position(|&b| b == b'?') {
        Some(q) => {
            let rest = &target[q + 1..];
            &rest[..rest.iter().position(|&b| b == b'#').unwrap_or(rest.len())]
        }
        None => &b""[..],
    };
    var(&mut env, "GATEWAY_INTERFACE", b"CGI/1.1");
    var(&mut env, "SERVER_SOFTWARE", b"h1serve");
    let proto = format!("HTTP/1.{}", m.req.minor);
    var(&mut env, "SERVER_PROTOCOL", proto.as_bytes());
    var(&mut env, "REQUEST_METHOD", m.req.method.get(m.head));
    var(&mut env, "REQUEST_URI", target);
    var(&mut env, "QUERY_STRING", query);
    var(&mut env, "SCRIPT_NAME", &script.script_name);
    if !script.path_info.is_empty() {
        var(&mut env, "PATH_INFO", &script.path_info);
    }
    var(&mut env, "SCRIPT_FILENAME", script.path.as_bytes());
    // SERVER_NAME from Host (RFC 3875 §4.1.14), else the local address.
    let host = m.req.host.map(|h| h.get(m.head)).unwrap_or(b"");
    let host_name = match host.iter().rposition(|&b| b == b':') {
        Some(i) if !host.ends_with(b"]") => &host[..i],
        _ => host,
    };
    let local_ip = m.local.map(|a| a.ip().to_string()).unwrap_or_default();
    let server_name = if host_name.is_empty() {
        local_ip.as_bytes()
    } else {
        host_name
    };
    var(&mut env, "SERVER_NAME", server_name);
    let port = m.local.map(|a| a.port().to_string()).unwrap_or_default();
    var(&mut env, "SERVER_PORT", port.as_bytes());
    if let Some(p) = m.peer {
        var(&mut env, "REMOTE_ADDR", p.ip().to_string().as_bytes());
        var(&mut env, "REMOTE_PORT", p.port().to_string().as_bytes());
    }
    let (content_type, fields) = http_fields(m);
    if m.body_len > 0 || m.req.body != h1parse::BodyKind::None {
        var(
            &mut env,
            "CONTENT_LENGTH",
            m.body_len.to_string().as_bytes(),
        );
    }
    if let Some(ct) = content_type {
        var(&mut env, "CONTENT_TYPE", ct);
    }
    for (k, v) in fields {
        if let Ok(k) = std::str::from_utf8(&k) {
            var(&mut env, k, &v);
        }
    }
    var(&mut env, "PATH", b"/usr/local/bin:/usr/bin:/bin");
    env
}

/// How the script's output reaches the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    /// `Transfer-Encoding: chunked` (HTTP/1.1, no length from the script).
    Chunked,
    /// The script's `Content-Length`: this many bytes still to relay.
    Length(u64),
    /// Close-delimited (HTTP/1.0, no length).
    Close,
    /// No body (HEAD, 204, 304): output is read and dropped.
    Discard,
}

/// What a [`Cgi::pump`] call came to.
#[derive(Debug)]
pub(crate) enum Pump {
    /// Nothing more until a pipe or the pidfd is ready.
    Wait,
    /// Output was queued: write it, then pump again.
    Progress,
    /// The response is complete (or abandoned, with `close`).
    Done {
        status: u16,
        body_len: u64,
        close: bool,
    },
}

/// One of the `--cgi-max-procs` places, taken when a script is about to
/// start (its body all read) and given back when the script is dropped.
#[derive(Debug)]
pub(crate) struct CgiSlot(pub(crate) Arc<AtomicUsize>);

impl Drop for CgiSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Counts a CGI request whose body is being read (`/stats`
/// `cgi_spooling`), from its head until its script starts or it ends.
#[derive(Debug)]
pub(crate) struct Spooling(pub(crate) Arc<AtomicUsize>);

impl Drop for Spooling {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A running script.
#[derive(Debug)]
pub(crate) struct Cgi {
    /// `SCRIPT_NAME`, for the error log.
    name: Vec<u8>,
    pid: libc::pid_t,
    reaped: bool,
    pidfd: Option<OwnedFd>,
    stdin: Option<OwnedFd>,
    body: Vec<u8>,
    body_pos: usize,
    stdout: Option<OwnedFd>,
    stderr: Option<OwnedFd>,
    /// Stderr bytes passed to the error log (at most `error_log::PER_SCRIPT`).
    stderr_copied: u64,
    /// Stdout until the end of the script's header section.
    head: Vec<u8>,
    parser: FieldsParser,
    /// The parser's field slots: kept across calls, since a resumed parse
    /// only adds the fields after the ones it already wrote.
    fields: Box<[Header]>,
    /// `None` until the response head is queued.
    framing: Option<Framing>,
    status: u16,
    /// Stdout bytes read (for `--cgi-max-output`).
    total: u64,
    cap: u64,
    /// Body bytes relayed (for the access log).
    relayed: u64,
    /// When the script is killed.
    pub(crate) deadline: Instant,
    head_only: bool,
    keep_alive: bool,
    version: Version,
    /// The connection closes after this response.
    close: bool,
    date: [u8; 29],
    /// Given back after `Drop` has killed and reaped the child.
    _slot: CgiSlot,
}

/// Everything [`Cgi::spawn`] needs besides the script.
pub(crate) struct Launch<'a> {
    pub(crate) meta: Meta<'a>,
    pub(crate) body: crate::spool::Body,
    pub(crate) epoll: &'a Epoll,
    pub(crate) token: u64,
    pub(crate) deadline: Instant,
    pub(crate) cap: u64,
    pub(crate) keep_alive: bool,
    pub(crate) date: [u8; 29],
    /// The `--cgi-max-procs` place this script holds until it is dropped.
    pub(crate) slot: CgiSlot,
}

impl Cgi {
    /// Prepares argv and envp, creates the pipes, forks and execs, and
    /// registers the server's ends in the worker's epoll.
    pub(crate) fn spawn(script: &Script, l: Launch<'_>) -> io::Result<Cgi> {
        let env = environment(script, &l.meta);
        let mut envp: Vec<*const libc::c_char> = env.iter().map(|c| c.as_ptr()).collect();
        envp.push(std::ptr::null());
        let argv = [script.path.as_ptr(), std::ptr::null()];
        // A spilled body is the script's stdin as it is; a small one goes
        // through a pipe.
        let (in_r, in_w, body) = match l.body {
            crate::spool::Body::File(f) => (OwnedFd::from(f), None, Vec::new()),
            crate::spool::Body::Memory(b) => {
                let (r, w) = sys::pipe()?;
                (r, (!b.is_empty()).then_some(w), b)
            }
        };
        let (out_r, out_w) = sys::pipe()?;
        let (err_r, err_w) = sys::pipe()?;
        for fd in in_w.iter().chain([&out_r, &err_r]) {
            sys::set_nonblocking(fd.as_fd())?;
        }
        let pid = sys::spawn(&sys::Spawn {
            path: &script.path,
            argv: &argv,
            envp: &envp,
            cwd: &script.cwd,
            stdin: in_r.as_fd(),
            stdout: out_w.as_fd(),
            stderr: err_w.as_fd(),
        })?;
        // The child's ends: closing ours lets EOF through when it exits.
        drop((in_r, out_w, err_w));
        let method = l.meta.req.method.get(l.meta.head);
        let cgi = Cgi {
            name: script.script_name.clone(),
            pid,
            reaped: false,
            pidfd: sys::pidfd_open(pid).ok(),
            stdin: in_w,
            body,
            body_pos: 0,
            stdout: Some(out_r),
            stderr: Some(err_r),
            stderr_copied: 0,
            head: Vec::new(),
            parser: FieldsParser::new().allow_bare_lf(true),
            fields: vec![Header::EMPTY; MAX_SCRIPT_HEADERS].into_boxed_slice(),
            framing: None,
            status: 0,
            total: 0,
            cap: l.cap,
            relayed: 0,
            deadline: l.deadline,
            head_only: method == b"HEAD",
            keep_alive: l.keep_alive,
            version: l.meta.req.version,
            close: !l.keep_alive,
            date: l.date,
            _slot: l.slot,
        };
        // From here on, dropping `cgi` kills and reaps the child.
        let reg = |fd: Option<&OwnedFd>, ev: u32| match fd {
            Some(fd) => l.epoll.add(fd.as_fd(), ev | EPOLLET, l.token),
            None => Ok(()),
        };
        reg(cgi.stdin.as_ref(), EPOLLOUT)?;
        reg(cgi.stdout.as_ref(), EPOLLIN)?;
        reg(cgi.stderr.as_ref(), EPOLLIN)?;
        reg(cgi.pidfd.as_ref(), EPOLLIN)?;
        Ok(cgi)
    }

    /// Moves bytes between the pipes and `out` as far as they go without
    /// blocking. Stops reading stdout while `out` holds `high_water` bytes.
    pub(crate) fn pump(&mut self, out: &mut Vec<u8>, high_water: usize) -> Pump {
        self.feed_stdin();
        self.drain_stderr();
        let before = out.len();
        let mut buf = [0u8; PIPE_CHUNK];
        while let Some(fd) = self.stdout.as_ref() {
            if out.len() >= high_water {
                break;
            }
            match sys::read(fd.as_fd(), &mut buf) {
                Ok(0) => self.stdout = None,
                Ok(n) => {
                    self.total += n as u64;
                    if self.total > self.cap {
                        crate::error_log::line(format_args!(
                            "cgi: output over --cgi-max-output, killed"
                        ));
                        return self.abandon(out, 502);
                    }
                    if let Err(status) = self.take(&buf[..n], out) {
                        return self.abandon(out, status);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => self.stdout = None,
            }
        }
        if self.stdout.is_some() {
            return if out.len() > before {
                Pump::Progress
            } else {
                Pump::Wait
            };
        }
        // Stdout is at EOF: finish the framing once.
        match self.framing {
            None => {
                self.bad_head(format_args!("output ended before its header block did"));
                return self.abandon(out, 502);
            }
            Some(Framing::Chunked) => {
                out.extend_from_slice(b"0\r\n\r\n");
                self.framing = Some(Framing::Discard);
            }
            Some(Framing::Length(n)) if n > 0 => {
                // The script sent less than it announced: only a close
                // tells the client (RFC 9112 §8).
                self.close = true;
                self.framing = Some(Framing::Discard);
            }
            Some(Framing::Close) => {
                self.close = true;
                self.framing = Some(Framing::Discard);
            }
            Some(_) => {}
        }
        if !self.reap() {
            // The response ends at EOF on stdout (RFC 3875 §6.1). A script
            // that closed stdout but runs on would hold the connection, and
            // the pipelined requests behind it, until --cgi-timeout: it is
            // stopped now, its process group with it.
            self.drain_stderr();
            self.kill();
        }
        self.drain_stderr();
        Pump::Done {
            status: self.status,
            body_len: self.relayed,
            close: self.close,
        }
    }

    /// The timeout fired: kill the script; 504 if nothing was queued yet,
    /// else the connection closes mid-response.
    pub(crate) fn timeout(&mut self, out: &mut Vec<u8>) -> Pump {
        crate::error_log::line(format_args!("cgi: script over --cgi-timeout, killed"));
        self.abandon(out, 504)
    }

    /// Kills the script and ends the response: a final `status` when no
    /// response byte was queued, else a close.
    fn abandon(&mut self, out: &mut Vec<u8>, status: u16) -> Pump {
        self.kill();
        self.stdin = None;
        self.stdout = None;
        self.drain_stderr();
        self.stderr = None;
        if self.framing.is_some() {
            return Pump::Done {
                status: self.status,
                body_len: self.relayed,
                close: true,
            };
        }
        let persist = Persist::new(self.keep_alive, self.version);
        let body_len = writer::simple(out, status, &self.date, persist, self.head_only, b"");
        Pump::Done {
            status,
            body_len,
            close: !self.keep_alive,
        }
    }

    /// Kills the script and what it started; the worker's reaper takes
    /// the child when its pidfd says it is gone, so the worker never waits
    /// for it to die.
    fn kill(&mut self) {
        if self.reaped {
            return;
        }
        self.reaped = true;
        sys::kill_group(self.pid);
        if let Ok(Some(_)) = sys::try_reap(self.pid) {
            return;
        }
        let handed = match self.pidfd.take() {
            Some(fd) => hand_to_reaper(self.pid, fd),
            None => false,
        };
        if !handed {
            // No pidfd (kernels before 5.3) or no reaper on this thread.
            sys::wait_blocking(self.pid);
        }
    }

    /// Reaps the child if it has exited; without a pidfd (kernels before
    /// 5.3) a child that closed stdout but lives on is killed.
    fn reap(&mut self) -> bool {
        if self.reaped {
            return true;
        }
        match sys::try_reap(self.pid) {
            Ok(Some(status)) => {
                self.reaped = true;
                if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
                    crate::error_log::line(format_args!(
                        "cgi: script ended with status {status:#x}"
                    ));
                }
                true
            }
            Ok(None) if self.pidfd.is_some() => false,
            Ok(None) | Err(_) => {
                self.kill();
                true
            }
        }
    }

    fn feed_stdin(&mut self) {
        while let Some(fd) = self.stdin.as_ref() {
            if self.body_pos == self.body.len() {
                // EOF on the script's stdin.
                self.stdin = None;
                break;
            }
            match sys::write(fd.as_fd(), &self.body[self.body_pos..]) {
                Ok(n) => self.body_pos += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // EPIPE: the script does not read its input; that is its right.
                Err(_) => self.stdin = None,
            }
        }
        if self.stdin.is_none() {
            self.body = Vec::new();
        }
    }

    /// Copies the script's stderr to ours (the error log).
    fn drain_stderr(&mut self) {
        let mut buf = [0u8; 4096];
        for _ in 0..64 {
            let Some(fd) = self.stderr.as_ref() else {
                return;
            };
            match sys::read(fd.as_fd(), &mut buf) {
                Ok(0) => self.stderr = None,
                Ok(n) => {
                    // Never blocks: a bounded queue, this script's share only.
                    let share = crate::error_log::PER_SCRIPT.saturating_sub(self.stderr_copied);
                    let take = n.min(usize::try_from(share).unwrap_or(usize::MAX));
                    crate::error_log::submit(&buf[..take]);
                    crate::error_log::drop_bytes((n - take) as u64);
                    self.stderr_copied += take as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => self.stderr = None,
            }
        }
    }

    /// Says in the error log why the script's answer is a 502.
    fn bad_head(&self, why: std::fmt::Arguments<'_>) {
        let name = String::from_utf8_lossy(&self.name);
        crate::error_log::line(format_args!("cgi: {name}: 502, {why}"));
    }

    /// Takes stdout bytes: the header section first, then the body.
    fn take(&mut self, data: &[u8], out: &mut Vec<u8>) -> Result<(), u16> {
        if self.framing.is_some() {
            self.relay(data, out);
            return Ok(());
        }
        self.head.extend_from_slice(data);
        let fields = match self.parser.parse(&self.head, &mut self.fields) {
            Ok(Status::Partial) => return Ok(()),
            Ok(Status::Complete(f)) => f,
            // RFC 3875 §6: a response the server cannot parse is a bad gateway.
            Err(e) => {
                self.bad_head(format_args!("its header block does not parse: {e}"));
                return Err(502);
            }
        };
        let head = std::mem::take(&mut self.head);
        let headers = std::mem::take(&mut self.fields);
        self.respond_head(&head, &headers[..fields.header_count], out)?;
        self.relay(&head[fields.len..], out);
        Ok(())
    }

    /// Turns the script's header section into the response head
    /// (RFC 3875 §6.3): `Status`, `Location` (302 without `Status`),
    /// `Content-Length`, and the other fields passed through.
    fn respond_head(
        &mut self,
        buf: &[u8],
        headers: &[Header],
        out: &mut Vec<u8>,
    ) -> Result<(), u16> {
        let mut status: Option<(u16, &[u8])> = None;
        let mut location = false;
        let mut length: Option<u64> = None;
        for h in headers {
            let (name, value) = (h.name.get(buf), h.value.get(buf));
            if name.eq_ignore_ascii_case(b"status") {
                match value.get(..3).and_then(writer::parse_decimal) {
                    Some(c @ 200..=599) if value.len() == 3 || value[3] == b' ' => {
                        status = Some((c as u16, value.get(4..).unwrap_or(b"").trim_ascii()));
                    }
                    _ => {
                        let v = String::from_utf8_lossy(value);
                        self.bad_head(format_args!("invalid Status value {v:?}"));
                        return Err(502);
                    }
                }
            } else if name.eq_ignore_ascii_case(b"location") {
                location = true;
            } else if name.eq_ignore_ascii_case(b"content-length") {
                let Some(n) = writer::parse_decimal(value) else {
                    let v = String::from_utf8_lossy(value);
                    self.bad_head(format_args!("invalid Content-Length {v:?}"));
                    return Err(502);
                };
                length = Some(n);
            }
        }
        let (code, phrase) = status.unwrap_or(if location { (302, b"") } else { (200, b"") });
        self.status = code;
        writer::start_with_reason(out, code, phrase, &self.date);
        for h in headers {
            let name = h.name.get(buf);
            if NOT_RELAYED.iter().any(|n| name.eq_ignore_ascii_case(n)) {
                continue;
            }
            out.extend_from_slice(name);
            out.extend_from_slice(b": ");
            out.extend_from_slice(h.value.get(buf));
            out.extend_from_slice(b"\r\n");
        }
        let persist = Persist::new(self.keep_alive, self.version);
        let framing = if self.head_only || code == 204 || code == 304 {
            // RFC 9110 §9.3.2: HEAD may carry the length GET would have.
            let len = if self.head_only { length } else { None };
            writer::finish(out, len, persist);
            Framing::Discard
        } else if let Some(n) = length {
            writer::finish(out, Some(n), persist);
            Framing::Length(n)
        } else if self.version == Version::Http11 {
            out.extend_from_slice(b"Transfer-Encoding: chunked\r\n");
            writer::finish(out, None, persist);
            Framing::Chunked
        } else {
            // HTTP/1.0 has no chunked coding: the close ends the body.
            writer::finish(out, None, Persist::Close);
            self.close = true;
            Framing::Close
        };
        self.framing = Some(framing);
        Ok(())
    }

    /// Relays body bytes in the chosen framing.
    fn relay(&mut self, data: &[u8], out: &mut Vec<u8>) {
        if data.is_empty() {
            return;
        }
        match self.framing {
            Some(Framing::Chunked) => {
                writer::push_hex(out, data.len() as u64);
                out.extend_from_slice(b"\r\n");
                out.extend_from_slice(data);
                out.extend_from_slice(b"\r\n");
                self.relayed += data.len() as u64;
            }
            Some(Framing::Length(rem)) => {
                // Bytes beyond the announced length are dropped.
                let take = rem.min(data.len() as u64);
                out.extend_from_slice(&data[..take as usize]);
                self.framing = Some(Framing::Length(rem - take));
                self.relayed += take;
            }
            Some(Framing::Close) => {
                out.extend_from_slice(data);
                self.relayed += data.len() as u64;
            }
            Some(Framing::Discard) | None => {}
        }
    }

    /// Removes the pipes from the epoll (they also leave it when closed).
    pub(crate) fn deregister(&self, epoll: &Epoll) {
        for fd in [&self.stdin, &self.stdout, &self.stderr, &self.pidfd]
            .into_iter()
            .flatten()
        {
            let _ = epoll.delete(fd.as_fd());
        }
    }
}

impl Drop for Cgi {
    fn drop(&mut self) {
        // Client gone, worker shutting down, or a response already over:
        // the child must not outlive its request as a zombie.
        self.kill();
    }
}

/// Epoll token of the pidfds of killed scripts not yet reaped.
pub(crate) const REAPER: u64 = u64::MAX - 2;

/// A worker's killed scripts, waiting to be reaped: their pidfds are in
/// the worker's epoll with the [`REAPER`] token.
#[derive(Debug)]
struct Reaper {
    epoll: Epoll,
    waiting: Vec<(libc::pid_t, OwnedFd)>,
}

thread_local! {
    /// The reaper of the worker running on this thread.
    static REAPER_OF_THIS_WORKER: std::cell::RefCell<Option<Reaper>> =
        const { std::cell::RefCell::new(None) };
}

/// Makes this thread (a worker) reap its killed scripts through `epoll`.
pub(crate) fn install_reaper(epoll: Epoll) {
    REAPER_OF_THIS_WORKER.with(|r| {
        *r.borrow_mut() = Some(Reaper {
            epoll,
            waiting: Vec::new(),
        })
    });
}

/// Hands a killed child to this worker's reaper; false when there is none.
fn hand_to_reaper(pid: libc::pid_t, pidfd: OwnedFd) -> bool {
    REAPER_OF_THIS_WORKER.with(|r| {
        let mut r = r.borrow_mut();
        let Some(reaper) = r.as_mut() else {
            return false;
        };
        // Registered under the connection's token until now.
        let _ = reaper.epoll.delete(pidfd.as_fd());
        if reaper.epoll.add(pidfd.as_fd(), EPOLLIN, REAPER).is_err() {
            return false;
        }
        reaper.waiting.push((pid, pidfd));
        true
    })
}

/// A [`REAPER`] event: reaps the killed scripts that have exited
/// (`waitpid(WNOHANG)`); closing a pidfd takes it out of the epoll.
#[cold]
#[inline(never)]
pub(crate) fn reap_exited() {
    REAPER_OF_THIS_WORKER.with(|r| {
        if let Some(reaper) = r.borrow_mut().as_mut() {
            reaper
                .waiting
                .retain(|(pid, _)| matches!(sys::try_reap(*pid), Ok(None)));
        }
    });
}

/// At a worker's exit: waits for its killed scripts (killed, so soon gone).
pub(crate) fn reap_all() {
    REAPER_OF_THIS_WORKER.with(|r| {
        if let Some(reaper) = r.borrow_mut().take() {
            for (pid, _) in reaper.waiting {
                sys::wait_blocking(pid);
            }
        }
    });
}

/// The local address of the client's socket (`SERVER_PORT`).
pub(crate) fn local_addr(sock: BorrowedFd<'_>) -> Option<SocketAddr> {
    sys::local_addr(sock).ok()
}

//! The one handler interface. Every route's request goes through the same
//! four steps, whatever answers it (static files, built-ins, stats,
//! uploads, CGI):
//!
//! 1. [`begin`], on the head: either the answer at once (the body, if any,
//!    is not wanted), or a [`Handler`];
//! 2. [`Handler::feed`], on each piece of decoded body;
//! 3. [`Handler::finish`], at the end of the body: the answer, or a handler
//!    still producing it (a running script, an upload being committed);
//! 4. [`Handler::pump`], when such a handler's descriptors are ready: more
//!    output, and at last [`Pump::Done`].
//!
//! The connection (`connection.rs`) drives these steps; [`Route`] decided
//! from the head what happens to the body.

use std::net::SocketAddr;
use std::os::fd::{AsFd, BorrowedFd};

use h1parse::{Header, Request};

use crate::blocking::Pending;
use crate::cgi::{self, Cgi, CgiSlot, Launch, Meta, Script, Spooling};
use crate::ctx::Ctx;
use crate::respond::{self, Fields, StaticRequest};
use crate::route::{has_body, target_path, Route, ALLOW_UPLOAD};
use crate::spool::Spool;
use crate::sys::{EPOLLET, EPOLLIN};
use crate::upload::{self, Upload};
use crate::writer::{self, Answer, Persist};

pub(crate) use crate::cgi::Pump;

/// A request between its head and its answer.
#[derive(Debug)]
pub(crate) enum Handler {
    /// A route answered by [`respond::answer`] once any body is read and
    /// dropped (static files, built-ins, stats, `OPTIONS`, 405, 501).
    Answer(Route),
    /// `PUT`: body bytes go to the temporary file.
    Upload(Box<Upload>),
    /// A CGI request whose body is being collected (at most `--max-body`;
    /// past 8 KiB in an unlinked file, see [`Spool`]). It holds no
    /// `--cgi-max-procs` place yet: a slow body must not keep scripts from
    /// others.
    CgiBody(Box<(Script, Spool, Spooling)>),
    /// A running script.
    Cgi(Box<Cgi>),
    /// An upload being committed (fsync, rename) on a pool thread.
    Commit(Box<Commit>),
}

/// An upload commit in flight.
#[derive(Debug)]
pub(crate) struct Commit {
    job: Pending<Result<u16, u16>>,
    persist: Persist,
}

/// What [`begin`] decided.
#[derive(Debug)]
pub(crate) enum Begin {
    /// Answered (into the output buffer) from the head alone.
    Now(Answer),
    /// The handler takes the body (if any), then [`Handler::finish`].
    Handler(Handler),
}

/// After the body: an answer, or a handler still producing it.
#[derive(Debug)]
pub(crate) enum Finish {
    Answer(Answer),
    Running(Handler),
}

/// What the connection knows that handlers need.
pub(crate) struct Conn<'a> {
    pub(crate) req: &'a Request,
    pub(crate) head: &'a [u8],
    pub(crate) headers: &'a [Header],
    /// False when the connection closes after this request.
    pub(crate) keep_alive: bool,
    pub(crate) peer: Option<SocketAddr>,
    pub(crate) sock: BorrowedFd<'a>,
    /// The connection's epoll token (a script's pipes and a commit's
    /// eventfd wake the connection with it).
    pub(crate) token: u64,
}

impl Conn<'_> {
    fn head_only(&self) -> bool {
        self.req.method.get(self.head) == b"HEAD"
    }

    /// How a response speaks of persistence; `body_follows` when the
    /// request has a body nobody reads (the connection then closes, RFC
    /// 9112 §9.6).
    fn persist(&self, body_follows: bool) -> Persist {
        Persist::new(self.keep_alive && !body_follows, self.req.version)
    }
}

/// Starts a routed request (not [`Route::Refuse`], which the connection
/// answers itself).
pub(crate) fn begin(route: Route, c: &Conn<'_>, ctx: &mut Ctx, out: &mut Vec<u8>) -> Begin {
    let status = match route {
        Route::Put | Route::Delete | Route::Uploaded(_) => return upload(route, c, ctx, out),
        // The body is read first; the --cgi-max-procs place is taken only
        // when the script is about to start (`finish_running`).
        Route::Cgi(script) => {
            let spooling = ctx.shared.dynamic.spooling();
            let body = Box::new((*script, Spool::default(), spooling));
            return Begin::Handler(Handler::CgiBody(body));
        }
        Route::Status(status) | Route::Refuse(status) => status,
        route => return Begin::Handler(Handler::Answer(route)),
    };
    let refuse = c.persist(has_body(c.req));
    Begin::Now(status_answer(out, ctx, status, refuse, c.head_only()))
}

/// [`begin`] for the upload routes.
fn upload(route: Route, c: &Conn<'_>, ctx: &mut Ctx, out: &mut Vec<u8>) -> Begin {
    let refuse = c.persist(has_body(c.req));
    let fallback = ctx.shared.config.resolve_fallback;
    let path = target_path(c.req.target.get(c.head), c.req.target_form);
    let fields = Fields::scan(c.head, &c.headers[..c.req.header_count]);
    let Some(root) = ctx.shared.dynamic.upload.as_ref().map(|d| d.as_fd()) else {
        return Begin::Now(status_answer(out, ctx, 500, refuse, false));
    };
    let static_root = ctx.shared.root.as_ref().map(|r| r.as_fd());
    let pre = fields.preconditions();
    let status = match route {
        Route::Put => match upload::begin_put(root, path, fallback, &pre, static_root) {
            Ok(u) => return Begin::Handler(Handler::Upload(Box::new(u))),
            Err(status) => status,
        },
        Route::Uploaded(file) => {
            // Through the static-file path: validators, 304, Range.
            let sreq = StaticRequest {
                path,
                norm: crate::files::Normalized {
                    trailing_slash: false,
                },
                head_only: c.head_only(),
                fields,
                persist: refuse,
                keep_alive: refuse != Persist::Close,
            };
            return Begin::Now(respond::serve_file(&sreq, &file, path, ctx, out));
        }
        _ => upload::delete(root, path, fallback, &pre, static_root),
    };
    Begin::Now(status_answer(out, ctx, status, refuse, false))
}

impl Handler {
    /// Takes decoded body bytes; an error status ends the request.
    pub(crate) fn feed(&mut self, data: &[u8]) -> Result<(), u16> {
        match self {
            Handler::Upload(u) => u.write(data),
            Handler::CgiBody(b) => b.1.push(data).map_err(|e| {
                crate::error_log::line(format_args!("cgi: cannot spool a request body: {e}"));
                if e.raw_os_error() == Some(libc::ENOSPC) {
                    507
                } else {
                    500
                }
            }),
            // Read and dropped.
            Handler::Answer(_) | Handler::Cgi(_) | Handler::Commit(_) => Ok(()),
        }
    }

    /// The body is in: answer, commit the upload, or start the script.
    // Inlined so the hot path (a GET) goes straight to `respond::answer`.
    #[inline]
    pub(crate) fn finish(self, c: &Conn<'_>, ctx: &mut Ctx, out: &mut Vec<u8>) -> Finish {
        match self {
            Handler::Answer(route) => Finish::Answer(respond::answer(
                &route,
                c.req,
                c.head,
                c.headers,
                ctx,
                out,
                c.keep_alive,
            )),
            h => h.finish_running(c, ctx, out),
        }
    }

    /// [`Handler::finish`] for the handlers that take a body (out of line:
    /// the hot path is a file).
    #[inline(never)]
    fn finish_running(self, c: &Conn<'_>, ctx: &mut Ctx, out: &mut Vec<u8>) -> Finish {
        let persist = c.persist(false);
        match self {
            Handler::Answer(_) => Finish::Answer(status_answer(out, ctx, 500, persist, false)),
            Handler::Upload(u) => match commit(*u, c.token, ctx) {
                Ok(job) => Finish::Running(Handler::Commit(Box::new(Commit { job, persist }))),
                Err(e) => {
                    crate::error_log::line(format_args!("upload: cannot commit: {e}"));
                    Finish::Answer(status_answer(out, ctx, 500, persist, false))
                }
            },
            Handler::CgiBody(body) => {
                let (script, spool, spooling) = *body;
                drop(spooling);
                // Over --cgi-max-procs: 503 and nothing forked (RFC 9110
                // §15.6.4: Retry-After). The body was read, so the
                // connection stays usable.
                let Some(slot) = ctx.shared.dynamic.cgi_slot() else {
                    return Finish::Answer(status_answer(out, ctx, 503, persist, c.head_only()));
                };
                match spawn(&script, spool, slot, c, ctx) {
                    Ok(cgi) => Finish::Running(Handler::Cgi(Box::new(cgi))),
                    Err(e) => {
                        crate::error_log::line(format_args!("cgi: cannot start {script:?}: {e}"));
                        Finish::Answer(status_answer(out, ctx, 500, persist, c.head_only()))
                    }
                }
            }
            h @ (Handler::Cgi(_) | Handler::Commit(_)) => Finish::Running(h),
        }
    }

    /// A script is producing the response, with this deadline.
    pub(crate) fn running(&self) -> Option<&Cgi> {
        match self {
            Handler::Cgi(c) => Some(c.as_ref()),
            _ => None,
        }
    }

    /// Moves a running script's output along, or answers once an upload's
    /// commit has ended. On `Done`, the script's pipes (or the commit's
    /// eventfd) have left the epoll.
    pub(crate) fn pump(&mut self, ctx: &Ctx, out: &mut Vec<u8>, high_water: usize) -> Pump {
        let cgi = match self {
            Handler::Cgi(cgi) => cgi,
            Handler::Commit(c) => {
                let Some(result) = c.job.take() else {
                    return Pump::Wait;
                };
                let status = result.unwrap_or_else(|s| s);
                let _ = ctx.epoll.delete(c.job.fd());
                let a = status_answer(out, ctx, status, c.persist, false);
                return Pump::Done {
                    status,
                    body_len: a.body_len,
                    close: a.close,
                };
            }
            // Nothing runs: the connection finishes these itself.
            _ => return Pump::Wait,
        };
        // The connection's timer stands for the write timeout while output
        // waits, so the script's own deadline is also checked here.
        let p = if ctx.now >= cgi.deadline {
            cgi.timeout(out)
        } else {
            cgi.pump(out, high_water)
        };
        if let Pump::Done { .. } = p {
            cgi.deregister(&ctx.epoll);
        }
        p
    }

    /// The script's timeout fired: `None` when no script runs.
    pub(crate) fn timeout(&mut self, ctx: &Ctx, out: &mut Vec<u8>) -> Option<Pump> {
        let Handler::Cgi(cgi) = self else {
            return None;
        };
        let p = cgi.timeout(out);
        cgi.deregister(&ctx.epoll);
        Some(p)
    }
}

/// Hands an upload's commit (fsync and rename can take long on a busy
/// disk) to a pool thread; the answer is written when its eventfd rings.
fn commit(u: Upload, token: u64, ctx: &Ctx) -> std::io::Result<Pending<Result<u16, u16>>> {
    let io = ctx
        .shared
        .dynamic
        .io
        .as_ref()
        .ok_or_else(|| std::io::Error::other("no commit threads"))?;
    let delay = ctx.shared.config.commit_delay;
    let job = io.submit(move || {
        std::thread::sleep(delay);
        u.commit()
    })?;
    ctx.epoll.add(job.fd(), EPOLLIN | EPOLLET, token)?;
    Ok(job)
}

/// Starts a script with its collected body as stdin.
fn spawn(
    script: &Script,
    spool: Spool,
    slot: CgiSlot,
    c: &Conn<'_>,
    ctx: &Ctx,
) -> std::io::Result<Cgi> {
    let cfg = &ctx.shared.config;
    let body_len = spool.len() as usize;
    let body = spool.finish()?;
    let launch = Launch {
        meta: Meta {
            req: c.req,
            head: c.head,
            headers: c.headers,
            peer: c.peer,
            local: cgi::local_addr(c.sock),
            body_len,
        },
        body,
        epoll: &ctx.epoll,
        token: c.token,
        deadline: ctx.now + cfg.cgi_timeout,
        cap: cfg.cgi_max_output,
        keep_alive: c.keep_alive,
        date: *ctx.date.http(),
        slot,
    };
    Cgi::spawn(script, launch)
}

/// A status-only answer (201, 204, 405 with `Allow`, 503 with
/// `Retry-After`, …) through the response writer.
pub(crate) fn status_answer(
    out: &mut Vec<u8>,
    ctx: &Ctx,
    status: u16,
    persist: Persist,
    head_only: bool,
) -> Answer {
    let date = *ctx.date.http();
    let body_len = if status == 204 {
        // RFC 9110 §15.3.5: no content, and no Content-Length either.
        writer::start(out, 204, &date);
        writer::finish(out, None, persist);
        0
    } else {
        let extra: &[u8] = match status {
            405 => ALLOW_UPLOAD,
            503 => b"Retry-After: 1\r\n",
            _ => b"",
        };
        writer::simple(out, status, &date, persist, head_only, extra)
    };
    Answer {
        status,
        body_len,
        file: None,
        close: persist == Persist::Close,
    }
}

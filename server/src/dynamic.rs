//! The dynamic routes (uploads, CGI) as the connection sees them: which
//! requests they take, whether the body is wanted, where body bytes go, and
//! the answer once the body is in.
//!
//! Deciding before any body byte is read is what makes `Expect:
//! 100-continue` right (RFC 9110 §10.1.1): [`route`] either answers at once
//! (the body is not wanted: the connection closes after the answer, so
//! framing stays right whatever the client sends), or returns the sink the
//! body goes to, and only then does the connection send `100 Continue`.

use std::net::SocketAddr;
use std::os::fd::{AsFd, BorrowedFd};

use h1parse::{BodyKind, Header, Request};

use crate::blocking::Pending;
use crate::cgi::{self, Cgi, CgiSlot, Launch, Meta, Pump, Script};
use crate::config::Config;
use crate::ctx::Ctx;
use crate::files;
use crate::respond::{self, target_path};
use crate::spool::Spool;
use crate::sys::{EPOLLET, EPOLLIN};
use crate::upload::{self, Upload};
use crate::writer::{self, Answer, Persist};

/// `Allow` when uploads are on (RFC 9110 §10.2.1).
const ALLOW_UPLOAD: &[u8] = b"Allow: GET, HEAD, PUT, DELETE, OPTIONS\r\n";

/// A request a dynamic route took, between its head and its answer.
#[derive(Debug)]
pub(crate) enum Dynamic {
    /// `PUT`: body bytes go to the temporary file.
    Upload(Upload),
    /// A CGI request whose body is being collected (at most `--max-body`;
    /// past 16 KiB in an unlinked file, see [`Spool`]).
    CgiBody(Script, Spool, CgiSlot),
    /// A running script.
    Cgi(Box<Cgi>),
    /// An upload being committed (fsync, rename) on a pool thread.
    Commit(Box<Commit>),
}

/// An upload commit in flight.
#[derive(Debug)]
pub(crate) struct Commit {
    pub(crate) req: Request,
    job: Pending<Result<u16, u16>>,
    persist: Persist,
}

/// What [`route`] decided.
#[derive(Debug)]
pub(crate) enum Plan {
    /// Answered (into the output buffer) without the body.
    Now(Answer),
    /// The body is wanted: feed it with [`Dynamic::feed`], then [`finish`].
    Body(Box<Dynamic>),
}

/// After the body: an answer, or a script that is now running.
#[derive(Debug)]
pub(crate) enum Finish {
    Answer(Answer),
    Running(Box<Dynamic>),
}

impl Dynamic {
    /// Takes decoded body bytes; an error status ends the request.
    pub(crate) fn feed(&mut self, data: &[u8]) -> Result<(), u16> {
        match self {
            Dynamic::Upload(u) => u.write(data),
            Dynamic::CgiBody(_, body, _) => body.push(data).map_err(|e| {
                crate::error_log::line(format_args!("cgi: cannot spool a request body: {e}"));
                if e.raw_os_error() == Some(libc::ENOSPC) {
                    507
                } else {
                    500
                }
            }),
            Dynamic::Cgi(_) | Dynamic::Commit(_) => Ok(()),
        }
    }

    /// A script is producing the response: the connection reads no more
    /// requests until it is done.
    pub(crate) fn running(&self) -> Option<&Cgi> {
        match self {
            Dynamic::Cgi(c) => Some(c.as_ref()),
            _ => None,
        }
    }

    /// A script or a commit is producing the response: the connection
    /// reads no more requests until it is done.
    pub(crate) fn busy(&self) -> bool {
        matches!(self, Dynamic::Cgi(_) | Dynamic::Commit(_))
    }
}

/// A status-only answer of a dynamic route (201, 204, 405 with `Allow`,
/// 413, 503 with `Retry-After`, …) through the response writer.
fn status_answer(
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

/// Decides, from the head alone, whether a dynamic route takes the request.
/// `None`: the static routes answer it. `keep_alive` is false when the
/// connection closes after this request (it also closes when a body is
/// present and not wanted).
pub(crate) fn route(
    req: &Request,
    head: &[u8],
    headers: &[h1parse::Header],
    ctx: &mut Ctx,
    out: &mut Vec<u8>,
    keep_alive: bool,
) -> Option<Plan> {
    let shared = ctx.shared.clone();
    let dirs = &shared.dynamic;
    let fallback = shared.config.resolve_fallback;
    let method = req.method.get(head);
    let path = target_path(req.target.get(head), req.target_form);
    let has_body = !matches!(req.body, BodyKind::None | BodyKind::Length(0));
    let head_only = method == b"HEAD";
    // A body the route will not read: answer, then close (RFC 9112 §9.6).
    let refuse = Persist::new(keep_alive && !has_body, req.version);
    if let Some(cgi_dir) = &dirs.cgi {
        let mut rel = Vec::with_capacity(path.len() + 1);
        if files::normalize(path, &mut rel).is_ok() {
            rel.pop();
            if rel == cgi::MOUNT || rel.starts_with(b"cgi-bin/") {
                return Some(match cgi::resolve(cgi_dir, &rel, fallback) {
                    Err(status) => Plan::Now(status_answer(out, ctx, status, refuse, head_only)),
                    Ok(_) if too_large(req, &shared.config) => {
                        Plan::Now(status_answer(out, ctx, 413, Persist::Close, head_only))
                    }
                    // Over --cgi-max-procs: 503 before any body byte is read
                    // or any process forked (RFC 9110 §15.6.4: Retry-After).
                    Ok(script) => match dirs.cgi_slot() {
                        Some(slot) => {
                            Plan::Body(Box::new(Dynamic::CgiBody(script, Spool::default(), slot)))
                        }
                        None => Plan::Now(status_answer(out, ctx, 503, refuse, head_only)),
                    },
                });
            }
        }
    }
    let root = dirs.upload.as_ref()?.as_fd();
    // Built-in routes win over the upload folder, for every method: a PUT
    // must not replace what GET /stats answers (respond.rs answers 405).
    let mut rel = Vec::with_capacity(path.len() + 1);
    if files::normalize(path, &mut rel).is_ok() && matches!(&rel[..], b"stats\0" | b"metrics\0") {
        return None;
    }
    let pre = crate::respond::Fields::scan(head, headers).preconditions();
    match method {
        b"PUT" => Some(if too_large(req, &shared.config) {
            Plan::Now(status_answer(out, ctx, 413, Persist::Close, false))
        } else {
            match upload::begin_put(root, path, fallback, &pre) {
                Ok(u) => Plan::Body(Box::new(Dynamic::Upload(u))),
                Err(status) => Plan::Now(status_answer(out, ctx, status, refuse, false)),
            }
        }),
        b"DELETE" => {
            let status = upload::delete(root, path, fallback, &pre);
            Some(Plan::Now(status_answer(out, ctx, status, refuse, false)))
        }
        b"GET" | b"HEAD" => {
            // Through the static-file path: validators, 304, Range.
            let (fd, st) = upload::open_for_get(root, path, fallback)?;
            let file = files::OpenFile::uncached(fd, st);
            let sreq = respond::StaticRequest {
                path,
                norm: files::Normalized {
                    trailing_slash: false,
                },
                head_only,
                fields: respond::Fields::scan(head, headers),
                persist: refuse,
                keep_alive: refuse != Persist::Close,
            };
            Some(Plan::Now(respond::serve_file(&sreq, &file, path, ctx, out)))
        }
        b"POST" | b"PATCH" => Some(Plan::Now(status_answer(out, ctx, 405, refuse, head_only))),
        _ => None,
    }
}

/// A `Content-Length` over `--max-body`: 413 before reading it.
fn too_large(req: &Request, config: &Config) -> bool {
    matches!(req.body, BodyKind::Length(n) if n > config.max_body)
}

/// What the connection knows that [`finish`] needs.
pub(crate) struct Conn<'a> {
    pub(crate) req: &'a Request,
    pub(crate) head: &'a [u8],
    pub(crate) headers: &'a [Header],
    pub(crate) keep_alive: bool,
    pub(crate) peer: Option<SocketAddr>,
    pub(crate) sock: BorrowedFd<'a>,
    pub(crate) token: u64,
}

/// The body is in: commit the upload, or start the script.
pub(crate) fn finish(d: Dynamic, c: Conn<'_>, ctx: &mut Ctx, out: &mut Vec<u8>) -> Finish {
    let persist = Persist::new(c.keep_alive, c.req.version);
    let head_only = c.req.method.get(c.head) == b"HEAD";
    match d {
        Dynamic::Upload(u) => {
            // fsync and rename can take long on a busy disk: on a pool
            // thread, with the answer written when its eventfd rings.
            let job = ctx
                .shared
                .dynamic
                .io
                .as_ref()
                .ok_or_else(|| std::io::Error::other("no commit threads"))
                .and_then(|io| {
                    let delay = ctx.shared.config.commit_delay;
                    io.submit(move || {
                        std::thread::sleep(delay);
                        u.commit()
                    })
                });
            let job = match job.and_then(|j| {
                ctx.epoll.add(j.fd(), EPOLLIN | EPOLLET, c.token)?;
                Ok(j)
            }) {
                Ok(job) => job,
                Err(e) => {
                    crate::error_log::line(format_args!("upload: cannot commit: {e}"));
                    return Finish::Answer(status_answer(out, ctx, 500, persist, false));
                }
            };
            Finish::Running(Box::new(Dynamic::Commit(Box::new(Commit {
                req: *c.req,
                job,
                persist,
            }))))
        }
        Dynamic::CgiBody(script, spool, slot) => {
            let cfg = &ctx.shared.config;
            let body_len = spool.len() as usize;
            let body = match spool.finish() {
                Ok(b) => b,
                Err(e) => {
                    crate::error_log::line(format_args!("cgi: cannot rewind a spooled body: {e}"));
                    return Finish::Answer(status_answer(out, ctx, 500, persist, head_only));
                }
            };
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
            match Cgi::spawn(&script, launch) {
                Ok(cgi) => Finish::Running(Box::new(Dynamic::Cgi(Box::new(cgi)))),
                Err(e) => {
                    crate::error_log::line(format_args!("cgi: cannot start {script:?}: {e}"));
                    Finish::Answer(status_answer(out, ctx, 500, persist, head_only))
                }
            }
        }
        d @ (Dynamic::Cgi(_) | Dynamic::Commit(_)) => Finish::Running(Box::new(d)),
    }
}

/// Moves a running script's output along, or answers once an upload's
/// commit has ended; `None` when `d` is neither. On `Done`, the script's
/// pipes (or the commit's eventfd) have left the epoll.
pub(crate) fn pump(
    d: &mut Dynamic,
    ctx: &Ctx,
    out: &mut Vec<u8>,
    high_water: usize,
) -> Option<Pump> {
    let cgi = match d {
        Dynamic::Cgi(cgi) => cgi,
        Dynamic::Commit(c) => {
            let Some(result) = c.job.take() else {
                return Some(Pump::Wait);
            };
            let status = result.unwrap_or_else(|s| s);
            let _ = ctx.epoll.delete(c.job.fd());
            let a = status_answer(out, ctx, status, c.persist, false);
            return Some(Pump::Done {
                status,
                body_len: a.body_len,
                close: a.close,
            });
        }
        _ => return None,
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
    Some(p)
}

/// The script's timeout fired.
pub(crate) fn timeout(d: &mut Dynamic, ctx: &Ctx, out: &mut Vec<u8>) -> Option<Pump> {
    let Dynamic::Cgi(cgi) = d else {
        return None;
    };
    let p = cgi.timeout(out);
    cgi.deregister(&ctx.epoll);
    Some(p)
}

//! Answers of the routes that need no handler state: static files (for
//! uploaded files too), built-ins, stats, `OPTIONS`, 405 and 501.
//!
//! Everything is appended to the connection's output buffer, so several
//! pipelined responses leave in one write. Nothing here allocates once the
//! buffers have grown to their working size.

use std::ffi::CStr;
use std::os::fd::AsFd;

use h1parse::{Header, Request};

use crate::ctx::Ctx;
use crate::files::{self, Normalized, RangeAnswer, Refusal};
use crate::preconditions::{self, add_line, Current, Outcome, IF_MATCH, IF_NONE_MATCH};
use crate::route::{Route, ALLOW};
use crate::site;
use crate::stats::Snapshot;
use crate::writer::{finish, push_u64, simple, start, Answer, FileBody, Persist};

/// The request fields the routes look at, found in one pass over the headers.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Fields<'b> {
    pub(crate) if_match: Option<&'b [u8]>,
    pub(crate) if_none_match: Option<&'b [u8]>,
    pub(crate) if_modified_since: Option<&'b [u8]>,
    pub(crate) if_unmodified_since: Option<&'b [u8]>,
    pub(crate) range: Option<&'b [u8]>,
    pub(crate) if_range: Option<&'b [u8]>,
    pub(crate) referer: Option<&'b [u8]>,
    pub(crate) user_agent: Option<&'b [u8]>,
}

impl<'b> Fields<'b> {
    pub(crate) fn scan(buf: &'b [u8], headers: &[Header]) -> Fields<'b> {
        let mut f = Fields::default();
        for h in headers {
            let name = h.name.get(buf);
            let value = Some(h.value.get(buf));
            let slot = match name.len() {
                5 if name.eq_ignore_ascii_case(b"range") => &mut f.range,
                7 if name.eq_ignore_ascii_case(b"referer") => &mut f.referer,
                8 if name.eq_ignore_ascii_case(b"if-range") => &mut f.if_range,
                8 if name.eq_ignore_ascii_case(IF_MATCH) => {
                    f.if_match = Some(add_line(f.if_match, buf, h.value));
                    continue;
                }
                19 if name.eq_ignore_ascii_case(b"if-unmodified-since") => {
                    &mut f.if_unmodified_since
                }
                10 if name.eq_ignore_ascii_case(b"user-agent") => &mut f.user_agent,
                13 if name.eq_ignore_ascii_case(IF_NONE_MATCH) => {
                    f.if_none_match = Some(add_line(f.if_none_match, buf, h.value));
                    continue;
                }
                17 if name.eq_ignore_ascii_case(b"if-modified-since") => &mut f.if_modified_since,
                _ => continue,
            };
            if slot.is_none() {
                *slot = value;
            }
        }
        f
    }

    /// The precondition fields (RFC 9110 §13.1).
    pub(crate) fn preconditions(&self) -> crate::preconditions::Preconditions<'b> {
        crate::preconditions::Preconditions {
            if_match: self.if_match,
            if_none_match: self.if_none_match,
            if_modified_since: self.if_modified_since,
            if_unmodified_since: self.if_unmodified_since,
        }
    }
}

/// Answers a request on one of the routes whose body is only dropped
/// ([`crate::route::BodyUse::Discard`]; the body, if any, is already read).
pub(crate) fn answer(
    route: &Route,
    req: &Request,
    buf: &[u8],
    headers: &[Header],
    ctx: &mut Ctx,
    out: &mut Vec<u8>,
    keep_alive: bool,
) -> Answer {
    let persist = Persist::new(keep_alive, req.version);
    let date = *ctx.date.http();
    let head_only = req.method.get(buf) == b"HEAD";
    let simple_answer = |out: &mut Vec<u8>, status: u16, extra: &[u8]| {
        let body_len = simple(out, status, &date, persist, head_only, extra);
        Answer {
            status,
            body_len,
            file: None,
            close: !keep_alive,
        }
    };
    let path = match route {
        Route::Options => {
            start(out, 200, &date);
            out.extend_from_slice(ALLOW);
            finish(out, Some(0), persist);
            return Answer {
                status: 200,
                body_len: 0,
                file: None,
                close: !keep_alive,
            };
        }
        Route::MethodNotAllowed(allow) => return simple_answer(out, 405, allow),
        Route::NotImplemented => return simple_answer(out, 501, b""),
        Route::Stats(at) => return stats(at.get(buf), ctx, out, persist, head_only, keep_alive),
        Route::Builtin(at) | Route::Static(at) => at.get(buf),
        // Not a route this function answers (the handler answers those).
        _ => return simple_answer(out, 500, b""),
    };
    // (A fragment in the target and an invalid Host are rejected by
    // h1parse, RFC 9112 §3.2, before a request gets here.)
    let mut rel = std::mem::take(&mut ctx.path);
    let result = match files::normalize(path, &mut rel) {
        Err(Refusal::BadRequest | Refusal::Escapes) => simple_answer(out, 400, b""),
        Ok(norm) => match ctx.shared.root.clone() {
            None => builtin(&rel, out, &date, persist, head_only, keep_alive),
            Some(root) => {
                let fields = Fields::scan(buf, &headers[..req.header_count]);
                let sreq = StaticRequest {
                    path,
                    norm,
                    head_only,
                    fields,
                    persist,
                    keep_alive,
                };
                static_file(sreq, root.as_fd(), &mut rel, ctx, out)
            }
        },
    };
    ctx.path = rel;
    result
}

/// `/stats` (JSON) and `/metrics` (Prometheus text): the counters of every
/// worker, summed.
fn stats(
    path: &[u8],
    ctx: &mut Ctx,
    out: &mut Vec<u8>,
    persist: Persist,
    head_only: bool,
    keep_alive: bool,
) -> Answer {
    let mut snap = Snapshot::sum(&ctx.shared.stats, ctx.shared.started);
    let (running, spooling) = ctx.shared.dynamic.cgi_counts();
    (snap.cgi_running, snap.cgi_spooling) = (running as u64, spooling as u64);
    let mut body = std::mem::take(&mut ctx.scratch);
    body.clear();
    let ctype: &[u8] = if path == b"/stats" {
        snap.json(&mut body);
        b"Content-Type: application/json\r\nCache-Control: no-store\r\n"
    } else {
        snap.prometheus(&mut body);
        b"Content-Type: text/plain; version=0.0.4\r\nCache-Control: no-store\r\n"
    };
    start(out, 200, ctx.date.http());
    out.extend_from_slice(ctype);
    finish(out, Some(body.len() as u64), persist);
    if !head_only {
        out.extend_from_slice(&body);
    }
    let body_len = body.len() as u64;
    ctx.scratch = body;
    Answer {
        status: 200,
        body_len,
        file: None,
        close: !keep_alive,
    }
}

/// The built-in default site (no `--root`).
fn builtin(
    rel: &[u8],
    out: &mut Vec<u8>,
    date: &[u8; 29],
    persist: Persist,
    head_only: bool,
    keep_alive: bool,
) -> Answer {
    let page = match rel {
        b"\0" | b"index.html\0" => site::INDEX,
        _ => {
            let body_len = simple(out, 404, date, persist, head_only, b"");
            return Answer {
                status: 404,
                body_len,
                file: None,
                close: !keep_alive,
            };
        }
    };
    start(out, 200, date);
    out.extend_from_slice(b"Content-Type: text/html; charset=utf-8\r\n");
    finish(out, Some(page.len() as u64), persist);
    if !head_only {
        out.extend_from_slice(page);
    }
    Answer {
        status: 200,
        body_len: page.len() as u64,
        file: None,
        close: !keep_alive,
    }
}

/// A GET or HEAD for a file, as the static-file path needs it.
pub(crate) struct StaticRequest<'a> {
    pub(crate) path: &'a [u8],
    pub(crate) norm: Normalized,
    pub(crate) head_only: bool,
    pub(crate) fields: Fields<'a>,
    pub(crate) persist: Persist,
    pub(crate) keep_alive: bool,
}

fn static_file(
    sreq: StaticRequest<'_>,
    root: std::os::fd::BorrowedFd<'_>,
    rel: &mut Vec<u8>,
    ctx: &mut Ctx,
    out: &mut Vec<u8>,
) -> Answer {
    let date = *ctx.date.http();
    let fallback = ctx.shared.config.resolve_fallback;
    let err = |out: &mut Vec<u8>, status: u16, extra: &[u8]| Answer {
        status,
        body_len: simple(out, status, &date, sreq.persist, sreq.head_only, extra),
        file: None,
        close: !sreq.keep_alive,
    };
    let open = |rel: &[u8], ctx: &mut Ctx| {
        let c = CStr::from_bytes_with_nul(rel).map_err(|_| std::io::ErrorKind::InvalidInput)?;
        ctx.files.open(root, c, fallback, ctx.now)
    };
    let mut file = match open(rel, ctx) {
        Ok(f) => f,
        Err(e) => return err(out, files::io_status(&e, files::Access::Read, 404), b""),
    };
    if file.stat.is_dir {
        if !sreq.norm.trailing_slash {
            // A folder without its slash: relative links inside it would
            // resolve wrongly, so redirect (as nginx does).
            let mut loc = std::mem::take(&mut ctx.scratch);
            loc.clear();
            loc.extend_from_slice(b"Location: /");
            // One leading slash only: `//host/dir` must not become a
            // protocol-relative redirect to another host.
            let start = sreq
                .path
                .iter()
                .position(|&b| b != b'/')
                .unwrap_or(sreq.path.len());
            loc.extend_from_slice(&sreq.path[start..]);
            loc.extend_from_slice(b"/\r\n");
            let a = err(out, 301, &loc);
            ctx.scratch = loc;
            return a;
        }
        rel.pop();
        if !rel.is_empty() {
            rel.push(b'/');
        }
        rel.extend_from_slice(b"index.html\0");
        file = match open(rel, ctx) {
            Ok(f) if f.stat.is_file => f,
            Ok(_) => return err(out, 403, b""),
            Err(e) => return err(out, files::io_status(&e, files::Access::Read, 404), b""),
        };
    } else if !file.stat.is_file {
        return err(out, 403, b"");
    } else if sreq.norm.trailing_slash {
        // `/file.txt/` names a folder that is not one.
        return err(out, 404, b"");
    }
    // `rel` ends in the NUL the syscall needed.
    let name = rel.strip_suffix(b"\0").unwrap_or(rel);
    serve_file(&sreq, &file, name, ctx, out)
}

/// Answers a GET or HEAD for an open regular file: preconditions (RFC 9110
/// §13.2.2), 304, Range and If-Range (206, 416), validators, and the body
/// (from memory for small cached files, else by sendfile). Static files
/// and uploaded ones both go through it. `name` gives the media type.
pub(crate) fn serve_file(
    sreq: &StaticRequest<'_>,
    file: &files::OpenFile,
    name: &[u8],
    ctx: &mut Ctx,
    out: &mut Vec<u8>,
) -> Answer {
    let date = *ctx.date.http();
    let close = !sreq.keep_alive;
    match precondition_outcome(sreq, file) {
        Outcome::Proceed => {}
        Outcome::Failed => {
            let body_len = simple(out, 412, &date, sreq.persist, sreq.head_only, b"");
            return Answer {
                status: 412,
                body_len,
                file: None,
                close,
            };
        }
        Outcome::NotModified => {
            start(out, 304, &date);
            validators(out, file);
            finish(out, None, sreq.persist);
            return Answer {
                status: 304,
                body_len: 0,
                file: None,
                close,
            };
        }
    }
    let size = file.stat.size;
    let (status, from, to) = match chosen_range(sreq, file) {
        RangeAnswer::Full => (200, 0, size),
        RangeAnswer::Partial(a, b) => (206, a, b),
        RangeAnswer::Unsatisfiable => {
            let mut extra = std::mem::take(&mut ctx.scratch);
            extra.clear();
            extra.extend_from_slice(b"Content-Range: bytes */");
            push_u64(&mut extra, size);
            extra.extend_from_slice(b"\r\n");
            let body_len = simple(out, 416, &date, sreq.persist, sreq.head_only, &extra);
            ctx.scratch = extra;
            return Answer {
                status: 416,
                body_len,
                file: None,
                close,
            };
        }
    };
    let len = to - from;
    file_head(out, status, &date, file, name, (from, to));
    finish(out, Some(len), sreq.persist);
    let mut answer = Answer {
        status,
        body_len: len,
        file: None,
        close,
    };
    if sreq.head_only || len == 0 {
        return answer;
    }
    if let Some(content) = &file.content {
        if to as usize <= content.len() {
            out.extend_from_slice(&content[from as usize..to as usize]);
            return answer;
        }
    }
    answer.file = Some(FileBody {
        fd: file.fd.clone(),
        offset: from,
        remaining: len,
    });
    answer
}

/// The head of a 200 or 206 for a file, up to its framing.
fn file_head(
    out: &mut Vec<u8>,
    status: u16,
    date: &[u8; 29],
    file: &files::OpenFile,
    name: &[u8],
    (from, to): (u64, u64),
) {
    start(out, status, date);
    out.extend_from_slice(b"Content-Type: ");
    out.extend_from_slice(files::mime_type(name).as_bytes());
    out.extend_from_slice(b"\r\n");
    validators(out, file);
    out.extend_from_slice(b"Accept-Ranges: bytes\r\n");
    if status == 206 {
        out.extend_from_slice(b"Content-Range: bytes ");
        push_u64(out, from);
        out.push(b'-');
        push_u64(out, to - 1);
        out.push(b'/');
        push_u64(out, file.stat.size);
        out.extend_from_slice(b"\r\n");
    }
}

/// `ETag` and `Last-Modified` lines.
fn validators(out: &mut Vec<u8>, file: &files::OpenFile) {
    out.extend_from_slice(b"ETag: ");
    out.extend_from_slice(file.etag());
    out.extend_from_slice(b"\r\nLast-Modified: ");
    out.extend_from_slice(&file.last_modified);
    out.extend_from_slice(b"\r\n");
}

/// Preconditions in the order of RFC 9110 §13.2.2: If-Match, else
/// If-Unmodified-Since (412); If-None-Match, else If-Modified-Since (304).
fn precondition_outcome(sreq: &StaticRequest<'_>, file: &files::OpenFile) -> Outcome {
    let pre = sreq.fields.preconditions();
    if pre.if_match.is_none()
        && pre.if_none_match.is_none()
        && pre.if_modified_since.is_none()
        && pre.if_unmodified_since.is_none()
    {
        return Outcome::Proceed;
    }
    let current = Current {
        etag: file.etag(),
        mtime: file.stat.mtime,
    };
    preconditions::evaluate(&pre, Some(current), true, crate::date::unix_now())
}

/// Range (RFC 9110 §14.2), honoured only when If-Range still matches.
fn chosen_range(sreq: &StaticRequest<'_>, file: &files::OpenFile) -> RangeAnswer {
    let Some(r) = sreq.fields.range else {
        return RangeAnswer::Full;
    };
    let if_range_ok = match sreq.fields.if_range {
        None => true,
        Some(v) => {
            let v = v.trim_ascii();
            v == file.etag() || v == &file.last_modified[..]
        }
    };
    if if_range_ok {
        files::range(r, file.stat.size)
    } else {
        RangeAnswer::Full
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn numbers() {
        let mut v = Vec::new();
        push_u64(&mut v, 0);
        v.push(b' ');
        push_u64(&mut v, u64::MAX);
        assert_eq!(v, b"0 18446744073709551615");
    }

    #[test]
    fn simple_is_framed() {
        let mut v = Vec::new();
        let n = simple(
            &mut v,
            404,
            b"Sun, 06 Nov 1994 08:49:37 GMT",
            Persist::Close,
            false,
            b"",
        );
        let text = String::from_utf8(v).unwrap();
        assert!(text.ends_with("\r\n\r\n404 Not Found\n"), "{text}");
        assert!(text.contains("Content-Length: 14\r\n"), "{text}");
        assert_eq!(n, 14);
    }
}
